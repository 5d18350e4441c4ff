/**
 * The writes of a rollout (docs/design.md#rollouts): start, a step, pause, resume, promote and
 * abort, each one `Store.transaction` in which the route change (`editRoutes`: serial bump,
 * journal row with its actor) and the operation's new state commit together. The CLI and
 * psarnd's driver both write through here. A refusal is a value (`{ refused }`), never a write.
 */
import { savedRoute } from '../store/statements.js';
import type { Store } from '../store/store.js';
import type { EditResult, Operation, RouteChange, ZoneParams } from '../store/types.js';
import {
  type Gate,
  isAsWritten,
  type RolloutState,
  routeAt,
  type Schedule,
  savedSpec,
  startProblem,
  stepText,
  targetsAt,
} from './rollout.js';
import type { GateResult } from './types.js';

export type RolloutOperation = Operation<RolloutState>;

/** Where and as whom a rollout write happens. */
export interface WriteContext {
  store: Store;
  /** The zone's SOA/NS parameters (editRoutes needs them; the zone exists). */
  params: ZoneParams;
  /** The journal actor (docs/design.md#change-actors). */
  actor: string;
  /** Unix ms. */
  now: number;
}

/** Why nothing was written: `missing` (no such route or rollout), `refused` (the route or the rollout's status). */
export interface Refusal {
  refused: string;
  kind: 'missing' | 'refused';
}

/** A refusal in the words both the local CLI and a remote (control record) refusal use. */
export function refusalText(r: Refusal, psarn: string): string {
  return r.refused === 'no such route' ? `route '${psarn}' not found` : `rollout on '${psarn}' refused: ${r.refused}`;
}

export interface Written {
  op: RolloutOperation;
  /** The route change, undefined when the route did not change (pause, resume). */
  change?: RouteChange;
}

function firstChange(result: EditResult): RouteChange | undefined {
  return result.changes[0];
}

/** The active hold of a route, if any (psarnd never steps a held route). */
export function activeHold(store: Store, zone: string, path: string): Operation | undefined {
  return store.activeOperation(zone, path, 'hold');
}

/** The rollout an id names, or the active one of a route. */
export function findRollout(store: Store, where: { id: number } | { zone: string; path: string }) {
  if ('id' in where) {
    const op = store.operation<RolloutState>(where.id);
    return op?.kind === 'rollout' ? op : undefined;
  }
  return store.activeOperation<RolloutState>(where.zone, where.path, 'rollout');
}

/**
 * Starts a rollout and writes its first step at once (CodeDeploy shifts the first increment when
 * the deployment starts), in one transaction: the operation (running, due `every` later) and the
 * route. A one-step schedule (`--steps 100`, blue/green) is done at once.
 */
export function startRollout(
  ctx: WriteContext,
  request: { zone: string; path: string; to: string; schedule: Schedule; gate?: Gate; show?: (name: string) => string },
): Written | Refusal {
  const { store } = ctx;
  const { zone, path, to, schedule } = request;
  return store.transaction((): Written | Refusal => {
    const route = store.getRoute(zone, path);
    if (route === undefined) return { kind: 'missing', refused: 'no such route' };
    const problem = startProblem(route, to, request.show);
    if (problem !== undefined) return { kind: 'refused', refused: problem };
    const hold = activeHold(store, zone, path);
    if (hold !== undefined) {
      return { kind: 'refused', refused: `it is held (hold #${hold.id}); release it first (psarn release)` };
    }
    const running = findRollout(store, { zone, path });
    if (running !== undefined) {
      return {
        kind: 'refused',
        refused: `it already has rollout #${running.id} (${running.status}); promote or abort it first`,
      };
    }
    const saved = savedRoute(route);
    const spec = routeAt(saved, to, schedule.steps[0]!);
    const result = store.editRoutes(zone, [{ path, make: () => spec }], ctx.params, { actor: ctx.actor });
    const done = schedule.steps.length === 1;
    const state: RolloutState = {
      to,
      steps: schedule.steps,
      everyMs: schedule.everyMs,
      ...(schedule.preset === undefined ? {} : { preset: schedule.preset }),
      ...(request.gate === undefined ? {} : { gate: request.gate }),
      step: 0,
      written: spec.targets,
      serial: result.serial,
      ...(done ? { endReason: 'done: one step' } : {}),
    };
    const op = store.insertOperation<RolloutState>({
      zone,
      path,
      kind: 'rollout',
      status: done ? 'done' : 'running',
      saved,
      state,
      ...(done ? {} : { dueAt: ctx.now + schedule.everyMs }),
      actor: ctx.actor,
    });
    const change = firstChange(result);
    return change === undefined ? { op } : { op, change };
  });
}

/** Pauses a running rollout (no route change); `reason` is shown by status. */
export function pauseRollout(ctx: WriteContext, id: number, reason: string): Written | Refusal {
  return ctx.store.transaction((): Written | Refusal => {
    const op = findRollout(ctx.store, { id });
    if (op === undefined) return { kind: 'missing', refused: `no rollout #${id}` };
    if (op.status !== 'running') return { kind: 'refused', refused: `rollout #${id} is ${op.status}, not running` };
    return { op: pausedOp(ctx.store, op, reason) };
  });
}

function pausedOp(store: Store, op: RolloutOperation, reason: string): RolloutOperation {
  return store.updateOperation<RolloutState>(op.id, {
    status: 'paused',
    dueAt: null,
    state: { ...op.state, pauseReason: reason },
  });
}

/**
 * Resumes a paused rollout: the next step `every` from now (a full interval to watch the
 * current step again). A route changed by hand meanwhile is taken as it is now, so the driver
 * does not pause again for it: the next step writes the rollout's weights over it.
 * `changedBy` says who changed it, when someone did.
 */
export function resumeRollout(
  ctx: WriteContext,
  id: number,
): (Written & { changedBy?: string; next: number }) | Refusal {
  const { store } = ctx;
  return store.transaction(() => {
    const op = findRollout(store, { id });
    if (op === undefined) return { kind: 'missing', refused: `no rollout #${id}` } as Refusal;
    if (op.status !== 'paused')
      return { kind: 'refused', refused: `rollout #${id} is ${op.status}, not paused` } as Refusal;
    const hold = activeHold(store, op.zone, op.path);
    if (hold !== undefined) {
      return {
        kind: 'refused',
        refused: `its route is held (hold #${hold.id}); release it first (psarn release), then resume`,
      } as Refusal;
    }
    const route = store.getRoute(op.zone, op.path);
    if (route === undefined || route.alias !== undefined || route.policy === 'fanout') {
      return {
        kind: 'refused',
        refused: `its route is ${route === undefined ? 'gone' : route.alias !== undefined ? 'an alias now' : 'fanout now'}; abort it (psarn rollout abort) to restore the route before the rollout`,
      } as Refusal;
    }
    const { pauseReason: _reason, ...state } = op.state;
    let changedBy: string | undefined;
    if (!isAsWritten(route, op.state)) {
      changedBy = changedSince(store, op) ?? 'someone';
      state.written = route.targets;
      state.serial = route.serial;
    }
    const next = ctx.now + op.state.everyMs;
    const resumed = store.updateOperation<RolloutState>(op.id, { status: 'running', dueAt: next, state });
    return { op: resumed, next, ...(changedBy === undefined ? {} : { changedBy }) };
  });
}

/** Promote: the route at 100 % at once (the new target alone in its group), the rollout done. */
export function promoteRollout(ctx: WriteContext, id: number): Written | Refusal {
  return finish(ctx, id, 'promote');
}

/** Abort: the route exactly as before the rollout (its saved copy), the rollout aborted. */
export function abortRollout(ctx: WriteContext, id: number, reason?: string): Written | Refusal {
  return finish(ctx, id, 'abort', reason);
}

function finish(ctx: WriteContext, id: number, how: 'promote' | 'abort', reason?: string): Written | Refusal {
  const { store } = ctx;
  return store.transaction((): Written | Refusal => {
    const op = findRollout(store, { id });
    if (op === undefined) return { kind: 'missing', refused: `no rollout #${id}` };
    if (op.status !== 'running' && op.status !== 'paused') {
      return { kind: 'refused', refused: `rollout #${id} is ${op.status} already` };
    }
    const hold = activeHold(store, op.zone, op.path);
    if (hold !== undefined) {
      return {
        kind: 'refused',
        refused: `its route is held (hold #${hold.id}); release it first (psarn release), then ${how}`,
      };
    }
    return ended(ctx, op, how, reason ?? `${how === 'abort' ? 'aborted' : 'promoted'} by ${ctx.actor}`);
  });
}

/** Writes the end of a rollout (inside the caller's transaction): the route and the status. */
function ended(ctx: WriteContext, op: RolloutOperation, how: 'promote' | 'abort', reason: string): Written {
  const { store } = ctx;
  // Promote keeps the TTL and metadata the route has now (a rollout owns the targets only).
  const current = store.getRoute(op.zone, op.path);
  const spec =
    how === 'abort'
      ? savedSpec(op.saved)
      : routeAt(op.saved, op.state.to, 100, current?.alias === undefined ? current : undefined);
  const result = store.editRoutes(op.zone, [{ path: op.path, make: () => spec }], ctx.params, { actor: ctx.actor });
  const { pauseReason: _reason, ...rest } = op.state;
  const state: RolloutState = {
    ...rest,
    endReason: reason,
    serial: result.serial,
    ...(how === 'promote'
      ? { step: op.state.steps.length - 1, written: targetsAt(op.saved.targets, op.state.to, 100) }
      : {}),
  };
  const updated = store.updateOperation<RolloutState>(op.id, {
    status: how === 'abort' ? 'aborted' : 'done',
    dueAt: null,
    state,
  });
  const change = firstChange(result);
  return change === undefined ? { op: updated } : { op: updated, change };
}

/**
 * Who changed the route after the rollout's last write: the actor of the journal's latest row
 * for the route past `state.serial`; undefined when the journal no longer holds it.
 */
export function changedSince(store: Store, op: RolloutOperation): string | undefined {
  const rows = store.journal(op.zone, op.state.serial).filter((e) => e.path === op.path);
  const last = rows[rows.length - 1];
  if (last === undefined) return undefined;
  return `${last.actor ?? 'an unknown writer'} (serial ${last.serial})`;
}

/** What psarnd's driver did with a due rollout. */
export type StepOutcome =
  | { result: 'applied'; op: RolloutOperation; change?: RouteChange }
  | { result: 'aborted'; op: RolloutOperation; change?: RouteChange; reason: string }
  | { result: 'paused'; op: RolloutOperation; reason: string }
  | { result: 'gate_error'; op: RolloutOperation; reason: string }
  /** The route is held: the step waits another `every`. */
  | { result: 'held'; op: RolloutOperation }
  /** Not running or not at that step any more (a CLI paused, promoted or aborted it meanwhile). */
  | { result: 'skipped' };

/**
 * Checks a due rollout before its gate is asked, in one transaction: a held route waits another
 * `every`; a route someone changed since the last step pauses the rollout with who did it (an
 * operator's change is never overwritten). @returns the operation when the step may go on.
 */
export function checkStep(ctx: WriteContext, id: number, step: number): RolloutOperation | StepOutcome {
  const { store } = ctx;
  return store.transaction(() => {
    const op = findRollout(store, { id });
    if (op === undefined || op.status !== 'running' || op.state.step !== step) return { result: 'skipped' } as const;
    return blocked(ctx, op) ?? op;
  });
}

/** Held or changed by hand: what the driver does instead of the step (inside the caller's transaction). */
function blocked(ctx: WriteContext, op: RolloutOperation): StepOutcome | undefined {
  const { store } = ctx;
  if (activeHold(store, op.zone, op.path) !== undefined) {
    return {
      result: 'held',
      op: store.updateOperation<RolloutState>(op.id, { dueAt: ctx.now + op.state.everyMs }),
    };
  }
  const route = store.getRoute(op.zone, op.path);
  if (!isAsWritten(route, op.state)) {
    const who = changedSince(store, op) ?? (route === undefined ? 'a delete' : 'someone');
    const reason = `the route was changed by ${who} after ${stepText(op.state)}; psarnd does not overwrite it: resume to continue with the rollout's weights, or abort to restore the route before the rollout`;
    return { result: 'paused', op: pausedOp(store, op, reason), reason };
  }
  return undefined;
}

/**
 * Takes the next step of a due rollout in one transaction, after its gate said `gate` (or
 * without one): checks again what checkStep checked (the gate took time), then a fired gate
 * aborts (the saved route back), a gate that could not be evaluated pauses, else the next
 * step's route and state are written, due again `every` from now; the last step ends it.
 */
export function takeStep(ctx: WriteContext, id: number, step: number, gate?: GateResult): StepOutcome {
  const { store } = ctx;
  return store.transaction((): StepOutcome => {
    const op = findRollout(store, { id });
    if (op === undefined || op.status !== 'running' || op.state.step !== step) return { result: 'skipped' };
    const stop = blocked(ctx, op);
    if (stop !== undefined) return stop;
    if (gate !== undefined && !gate.ok) {
      const reason = `the gate could not be evaluated before step ${step + 2} of ${op.state.steps.length}: ${gate.reason}; resume once it can (it is asked again), or abort`;
      return { result: 'gate_error', op: pausedOp(store, op, reason), reason };
    }
    const lastGate = gate?.ok === true ? gate.detail : undefined;
    if (gate?.ok === true && gate.fired) {
      const reason = `aborted by the gate before step ${step + 2} of ${op.state.steps.length}: ${gate.detail}`;
      const withGate = { ...op, state: { ...op.state, lastGate: gate.detail } };
      const written = ended(ctx, withGate, 'abort', reason);
      return { result: 'aborted', op: written.op, reason, ...(written.change ? { change: written.change } : {}) };
    }
    const next = step + 1;
    const percent = op.state.steps[next]!;
    const spec = routeAt(op.saved, op.state.to, percent, store.getRoute(op.zone, op.path));
    const result = store.editRoutes(op.zone, [{ path: op.path, make: () => spec }], ctx.params, { actor: ctx.actor });
    const last = next === op.state.steps.length - 1;
    const state: RolloutState = {
      ...op.state,
      step: next,
      written: spec.targets,
      serial: result.serial,
      ...(lastGate === undefined ? {} : { lastGate }),
      ...(last ? { endReason: 'done: every step taken' } : {}),
    };
    const updated = store.updateOperation<RolloutState>(op.id, {
      state,
      ...(last ? { status: 'done', dueAt: null } : { dueAt: ctx.now + op.state.everyMs }),
    });
    const change = firstChange(result);
    return { result: 'applied', op: updated, ...(change ? { change } : {}) };
  });
}
