/**
 * Hold and release (docs/design.md#hold-and-release): `hold` saves a route and points it at an SQS
 * queue alone; `release` writes the saved route back. Each is one store transaction: the route
 * change, the zone's epoch bump (so every caller drops its cached route within epochTtl whatever
 * the route's TTL, docs/design.md#the-epoch-override) and the operation row commit together.
 */
import { parseArn } from '../client/invokers/invoker.js';
import { PsarnBaseError } from '../errors.js';
import { savedRoute } from '../store/statements.js';
import type { Store } from '../store/store.js';
import type { Operation, RouteChange, SavedRoute, StoredRoute, TargetRouteSpec, ZoneParams } from '../store/types.js';

/** What a hold keeps in its operation's state. */
export interface HoldState {
  /** The queue's ARN. */
  queue: string;
  /** The rollout this hold paused, if one was running. */
  pausedRollout?: number;
  /** Unix ms and actor of the release. */
  releasedAt?: number;
  releasedBy?: string;
  /** The route as found at release when it was not the held one (a forced release). */
  overwritten?: SavedRoute | null;
  /** Counts of the last replay run (psarn release --replay). */
  lastReplay?: Record<string, number | string>;
}

export type HoldErrorCode =
  /** Bad input: not an SQS queue ARN, an alias, a queue the route already sends to. */
  | 'ERR_HOLD_INPUT'
  | 'ERR_ROUTE_NOT_FOUND'
  /** The route is held already (hold), or is not held (release). */
  | 'ERR_HOLD_STATE'
  /** The route was changed by hand while held (release without force). */
  | 'ERR_HOLD_CHANGED';

export class HoldError extends PsarnBaseError {
  readonly code: HoldErrorCode;
  constructor(
    code: HoldErrorCode,
    message: string,
    options?: { cause?: unknown; hold?: Operation<HoldState>; current?: StoredRoute | undefined; held?: StoredRoute },
  ) {
    super(message, options);
    this.name = 'HoldError';
    this.code = code;
    this.hold = options?.hold;
    this.current = options?.current;
    this.held = options?.held;
  }
  readonly hold: Operation<HoldState> | undefined;
  /** ERR_HOLD_CHANGED: the route now, and as the hold wrote it. */
  readonly current: StoredRoute | undefined;
  readonly held: StoredRoute | undefined;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$/;

/**
 * Why `arn` is not an SQS queue ARN (`arn:<partition>:sqs:<region>:<12-digit account>:<queue>`),
 * or undefined when it is one.
 */
export function queueArnProblem(arn: string): string | undefined {
  const p = parseArn(arn);
  if (p === undefined) return 'not an ARN';
  if (p.service !== 'sqs') return `service '${p.service}' is not sqs`;
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(p.region)) return `region '${p.region}' is not a region`;
  if (!/^\d{12}$/.test(p.account)) return `account '${p.account}' is not 12 digits`;
  if (!QUEUE_NAME.test(p.resource)) {
    return `queue name '${p.resource}' must be 1-80 letters, digits, - or _ (a FIFO queue ends in .fifo)`;
  }
  return undefined;
}

/** The route a hold writes: the saved one's TTL and metadata, fanout to the queue alone. Pure. */
export function heldSpec(saved: SavedRoute, queue: string): TargetRouteSpec {
  return {
    policy: 'fanout',
    ttl: saved.ttl,
    targets: [{ target: queue, weight: 1, priority: 10 }],
    metadata: saved.metadata,
  };
}

/** The spec that writes `saved` back: targets in their order, weights, priorities, policy, TTL, metadata. Pure. */
export function savedSpec(saved: SavedRoute): TargetRouteSpec {
  return {
    policy: saved.policy ?? 'weighted',
    ttl: saved.ttl,
    targets: saved.targets.map((t) => ({ target: t.target, weight: t.weight, priority: t.priority })),
    metadata: { ...saved.metadata },
  };
}

/** True when `route` is what a hold to `queue` wrote over `saved`. */
function isHeldRoute(route: StoredRoute | undefined, saved: SavedRoute, queue: string): boolean {
  if (route === undefined || route.alias !== undefined) return false;
  const spec = heldSpec(saved, queue);
  const meta = Object.keys(spec.metadata ?? {});
  return (
    route.policy === 'fanout' &&
    route.ttl === spec.ttl &&
    route.targets.length === 1 &&
    route.targets[0]!.target === queue &&
    route.targets[0]!.weight === 1 &&
    route.targets[0]!.priority === 10 &&
    meta.length === Object.keys(route.metadata).length &&
    meta.every((k) => route.metadata[k] === spec.metadata?.[k])
  );
}

export interface HoldInput {
  zone: string;
  path: string;
  queue: string;
  params: ZoneParams;
  actor?: string;
  /** How a route is named in messages (the CLI shows psARNs). */
  show?: (zone: string, path: string) => string;
}

export interface HoldResult {
  hold: Operation<HoldState>;
  change: RouteChange | undefined;
  /** The rollout the hold paused. */
  pausedRollout?: Operation;
  serial: number;
}

/**
 * Holds a route: saves it, writes it as fanout to `queue` alone, bumps the zone's epoch, and
 * pauses a running rollout of the route, all in one transaction.
 * @throws HoldError ERR_HOLD_INPUT (bad queue, alias, queue already a target), ERR_ROUTE_NOT_FOUND,
 *   ERR_HOLD_STATE (already held: the message names the queue)
 */
export function holdRoute(store: Store, input: HoldInput): HoldResult {
  const { zone, path, queue } = input;
  const name = input.show?.(zone, path) ?? `${path} in ${zone}`;
  const problem = queueArnProblem(queue);
  if (problem !== undefined)
    throw new HoldError('ERR_HOLD_INPUT', `--queue '${queue}' is not an SQS queue ARN: ${problem}`);
  return store.transaction(() => {
    const route = store.getRoute(zone, path);
    if (route === undefined) throw new HoldError('ERR_ROUTE_NOT_FOUND', `route '${name}' not found; nothing held`);
    const active = store.activeOperation<HoldState>(zone, path, 'hold');
    if (active !== undefined) {
      throw new HoldError(
        'ERR_HOLD_STATE',
        `route '${name}' is already held in ${active.state.queue} (hold #${active.id} by ${active.actor ?? 'unknown'}); release it first`,
        { hold: active },
      );
    }
    if (route.alias !== undefined) {
      throw new HoldError(
        'ERR_HOLD_INPUT',
        `route '${name}' is an alias of ${route.alias}; hold the route with the targets instead (callers of the alias follow it)`,
      );
    }
    if (route.targets.some((t) => t.target === queue)) {
      throw new HoldError(
        'ERR_HOLD_INPUT',
        `route '${name}' already sends to ${queue}; hold in another queue (a replay would send the messages back into it)`,
      );
    }
    const saved = savedRoute(route);
    const rollout = store.activeOperation(zone, path, 'rollout');
    const edit = store.editRoutes(zone, [{ path, make: () => heldSpec(saved, queue) }], input.params, {
      ...(input.actor !== undefined ? { actor: input.actor } : {}),
      epoch: (e) => e + 1,
    });
    const state: HoldState = { queue };
    let paused: Operation | undefined;
    if (rollout?.status === 'running') state.pausedRollout = rollout.id;
    const hold = store.insertOperation<HoldState>({
      zone,
      path,
      kind: 'hold',
      status: 'held',
      saved,
      state,
      ...(input.actor !== undefined ? { actor: input.actor } : {}),
    });
    if (rollout?.status === 'running') {
      paused = store.updateOperation(rollout.id, {
        status: 'paused',
        dueAt: null,
        state: { ...rollout.state, pauseReason: `held (hold #${hold.id})` },
      });
    }
    return { hold, change: edit.changes[0], serial: edit.serial, ...(paused ? { pausedRollout: paused } : {}) };
  });
}

export interface ReleaseInput {
  zone: string;
  path: string;
  params: ZoneParams;
  actor?: string;
  /** Restore the saved route even when it was changed by hand while held. */
  force?: boolean;
  now?: () => number;
  show?: (zone: string, path: string) => string;
}

export interface ReleaseResult {
  hold: Operation<HoldState>;
  change: RouteChange | undefined;
  serial: number;
  /** The rollout of the route still paused (the operator resumes it). */
  pausedRollout?: Operation;
  /** True when --force overwrote a change made by hand while held. */
  overwrote: boolean;
}

/** The newest hold of a route, active or not. */
export function latestHold(store: Store, zone: string, path: string): Operation<HoldState> | undefined {
  return store.operations<HoldState>({ zone, path, kind: 'hold', limit: 1 })[0];
}

/**
 * Releases a held route: writes `saved` back byte for byte, bumps the epoch, marks the hold
 * released, in one transaction. A rollout the hold paused stays paused.
 * @throws HoldError ERR_HOLD_STATE (not held), ERR_HOLD_CHANGED (changed by hand while held,
 *   without force: `current` and `held` say how)
 */
export function releaseRoute(store: Store, input: ReleaseInput): ReleaseResult {
  const { zone, path } = input;
  const name = input.show?.(zone, path) ?? `${path} in ${zone}`;
  return store.transaction(() => {
    const hold = store.activeOperation<HoldState>(zone, path, 'hold');
    if (hold === undefined) {
      const last = latestHold(store, zone, path);
      throw new HoldError(
        'ERR_HOLD_STATE',
        last === undefined
          ? `route '${name}' is not held; nothing released`
          : `route '${name}' is not held (hold #${last.id} was released); nothing released`,
        last === undefined ? undefined : { hold: last },
      );
    }
    const current = store.getRoute(zone, path);
    const changed = !isHeldRoute(current, hold.saved, hold.state.queue);
    if (changed && input.force !== true) {
      const held = { ...heldSpec(hold.saved, hold.state.queue), zone, path, serial: 0, updatedAt: 0 } as StoredRoute;
      throw new HoldError(
        'ERR_HOLD_CHANGED',
        `route '${name}' was changed while held in ${hold.state.queue}${current === undefined ? ' (deleted)' : ''}; nothing released`,
        { hold, current, held },
      );
    }
    const edit = store.editRoutes(zone, [{ path, make: () => savedSpec(hold.saved) }], input.params, {
      ...(input.actor !== undefined ? { actor: input.actor } : {}),
      epoch: (e) => e + 1,
    });
    const state: HoldState = {
      ...hold.state,
      releasedAt: (input.now ?? Date.now)(),
      ...(input.actor !== undefined ? { releasedBy: input.actor } : {}),
      ...(changed ? { overwritten: current === undefined ? null : savedRoute(current) } : {}),
    };
    const released = store.updateOperation<HoldState>(hold.id, { status: 'released', state });
    const rollout = store.activeOperation(zone, path, 'rollout');
    return {
      hold: released,
      change: edit.changes[0],
      serial: edit.serial,
      overwrote: changed,
      ...(rollout?.status === 'paused' ? { pausedRollout: rollout } : {}),
    };
  });
}
