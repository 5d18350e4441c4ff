/**
 * What psarnd does with a control record (docs/design.md#remote-operations): the operation it
 * asks for, run with the functions the local CLI runs (rollout-ops.ts, hold.ts), its arguments
 * checked with the CLI's parsers (control-args.ts), and its refusals worded as the local CLI
 * words them, so `psarn --server … rollout abort` says what `psarn rollout abort` says. Also the
 * state a signed control query reads: the views `rollout status --json` and `hold --json` print.
 */

import { aliasPsarn, routePsarn } from '../psarn/name.js';
import type { Store } from '../store/store.js';
import type { ZoneParams } from '../store/types.js';
import type { ControlKind } from './control.js';
import { readHoldArgs, readReleaseArgs, readStartArgs } from './control-args.js';
import { HoldError, type HoldState, holdRoute, latestHold, releaseRoute } from './hold.js';
import type { RolloutState } from './rollout.js';
import {
  abortRollout,
  findRollout,
  pauseRollout,
  promoteRollout,
  type Refusal,
  refusalText,
  resumeRollout,
  startRollout,
  type WriteContext,
} from './rollout-ops.js';
import { type HoldView, holdView, type RolloutView, rolloutView } from './rollout-view.js';

export interface ControlEnv {
  store: Store;
  namespace: string;
  params: ZoneParams;
  /** The journal actor: `key:<tsig key name>` (docs/design.md#change-actors). */
  actor: string;
  /** Unix ms. */
  now: () => number;
  /** A target's grammar and the targets policy, as an UPDATE checks them: the problem, or undefined. */
  targetProblem: (target: string) => string | undefined;
}

export interface ControlRequest {
  kind: ControlKind;
  verb: string;
  args: Record<string, unknown>;
  zone: string;
  path: string;
}

/** `done`: run (`routeChanged` when a route was written); `bad`: arguments (FORMERR); `refused`: the operation said no. */
export type ControlOutcome =
  | { result: 'done'; routeChanged: boolean }
  | { result: 'bad'; text: string }
  | { result: 'refused'; text: string };

/** A rollout refusal as the local CLI words it (src/cli/commands/rollout.ts). */
function rolloutRefusal(r: Refusal, psarn: string): ControlOutcome {
  return { result: 'refused', text: refusalText(r, psarn) };
}

/** A HoldError as the local CLI words it (src/cli/commands/hold.ts). */
function holdRefusal(err: HoldError): ControlOutcome {
  switch (err.code) {
    case 'ERR_ROUTE_NOT_FOUND':
      return { result: 'refused', text: `${err.message} ('psarn route list' shows the routes)` };
    case 'ERR_HOLD_CHANGED':
      return {
        result: 'refused',
        text: `${err.message}; check the change ('psarn route get'), then pass --force to restore the saved route anyway`,
      };
    default:
      return { result: 'refused', text: err.message };
  }
}

/**
 * Runs one control request, inside the caller's transaction when it has one (the UPDATE's
 * prerequisites are checked in it first). Never throws for a refusal: only for a fault.
 */
export function runControl(env: ControlEnv, req: ControlRequest): ControlOutcome {
  const { store } = env;
  const psarn = routePsarn(req, env.namespace);
  const wc: WriteContext = { store, params: env.params, actor: env.actor, now: env.now() };
  const bad = (text: string): ControlOutcome => ({ result: 'bad', text });
  if (req.kind === 'hold') {
    const show = (zone: string, path: string) => routePsarn({ zone, path }, env.namespace);
    try {
      if (req.verb === 'hold') {
        const args = readHoldArgs(req.args);
        if ('problem' in args) return bad(args.problem);
        holdRoute(store, {
          zone: req.zone,
          path: req.path,
          queue: args.value.queue,
          params: env.params,
          actor: env.actor,
          show,
        });
      } else if (req.verb === 'release') {
        const args = readReleaseArgs(req.args);
        if ('problem' in args) return bad(args.problem);
        releaseRoute(store, {
          zone: req.zone,
          path: req.path,
          params: env.params,
          actor: env.actor,
          force: args.value.force,
          now: env.now,
          show,
        });
      } else return bad(`_hold takes op=hold or op=release, not op=${req.verb}`);
    } catch (err) {
      if (err instanceof HoldError) return holdRefusal(err);
      throw err;
    }
    return { result: 'done', routeChanged: true };
  }
  if (req.verb === 'start') {
    const args = readStartArgs(req.args);
    if ('problem' in args) return bad(args.problem);
    const targetProblem = env.targetProblem(args.value.to);
    if (targetProblem !== undefined) return bad(`--to: ${targetProblem}`);
    const r = startRollout(wc, {
      zone: req.zone,
      path: req.path,
      to: args.value.to,
      schedule: args.value.schedule,
      ...(args.value.gate === undefined ? {} : { gate: args.value.gate }),
      show: (name) => aliasPsarn(name, env.namespace),
    });
    if ('refused' in r) return rolloutRefusal(r, psarn);
    return { result: 'done', routeChanged: r.change !== undefined };
  }
  if (!['pause', 'resume', 'promote', 'abort'].includes(req.verb)) {
    return bad(`_rollout takes op=start, pause, resume, promote or abort, not op=${req.verb}`);
  }
  if (Object.keys(req.args).length > 0) return bad(`${req.verb} takes no arguments: send {}`);
  const op = findRollout(store, { zone: req.zone, path: req.path });
  if (op === undefined) {
    return { result: 'refused', text: `no rollout in progress on '${psarn}' ('psarn rollout status' lists them)` };
  }
  const r =
    req.verb === 'pause'
      ? pauseRollout(wc, op.id, `paused by ${env.actor}`)
      : req.verb === 'resume'
        ? resumeRollout(wc, op.id)
        : req.verb === 'promote'
          ? promoteRollout(wc, op.id)
          : abortRollout(wc, op.id);
  if ('refused' in r) return rolloutRefusal(r, psarn);
  return { result: 'done', routeChanged: 'change' in r && r.change !== undefined };
}

/**
 * The state a control read answers: the route's latest rollout (as `rollout status <psARN>
 * --json`) or hold; with no path (`_rollout.<zone apex>`), `{rollouts}`: the zone's active
 * rollouts, newest first, as `rollout status --json` lists them. Undefined when there is none (NODATA).
 */
export function controlState(
  store: Store,
  namespace: string,
  where: { kind: ControlKind; zone: string; path?: string },
): RolloutView | { rollouts: RolloutView[] } | HoldView | undefined {
  const { zone, path } = where;
  if (where.kind === 'rollout') {
    if (path === undefined) {
      const ops = store.operations<RolloutState>({ zone, kind: 'rollout', active: true });
      // An object, as every control record's JSON (decodeControl reads objects only).
      return ops.length === 0 ? undefined : { rollouts: ops.map((op) => rolloutView(op, namespace)) };
    }
    const op = store.operations<RolloutState>({ zone, path, kind: 'rollout', limit: 1 })[0];
    return op === undefined ? undefined : rolloutView(op, namespace);
  }
  if (path === undefined) return undefined;
  const hold: ReturnType<typeof latestHold> = latestHold(store, zone, path);
  if (hold === undefined) return undefined;
  const rollout = store.activeOperation(zone, path, 'rollout');
  return holdView(hold, namespace, store.zone(zone)?.epoch, rollout);
}

export type { HoldState };
