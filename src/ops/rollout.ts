/**
 * Staged rollouts, pure (docs/design.md#rollouts): presets, `--steps`/`--every` parsing, the
 * route a step writes, and the state a rollout keeps in its operations row. The CLI
 * (src/cli/commands/rollout.ts) and psarnd's driver (rollout-driver.ts) both build every route
 * they write from here, so a step taken by either is the same bytes.
 *
 * Parsers return `{ problem }` instead of throwing: the CLI turns a problem into a usage error
 * (exit 2) with the flag it came from.
 */
import type { RouteSpec, SavedRoute, StoredRoute, TargetRouteSpec, TargetSpec } from '../store/types.js';

/**
 * The weights of the route's primary group add up to this at every step but the last: the new
 * target gets `k × 100` at k %, so a percentage is exact and 1 % is still 100 units to share.
 */
export const WEIGHT_SCALE = 10_000;

/** The new target's weight once it is alone in its group (the last step, promote): as `route set --target T` writes. */
export const FINAL_WEIGHT = 1;

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** `--every` bounds: at least a second (the driver's resolution), at most a week. */
export const MIN_EVERY_MS = SECOND;
export const MAX_EVERY_MS = 7 * 24 * HOUR;

export interface Schedule {
  /** Percent of the primary group's weight the new target has after each step; strictly increasing, the last 100. */
  steps: number[];
  /** Between two steps, ms. */
  everyMs: number;
  /** The preset it came from, if any. */
  preset?: string;
}

/** CodeDeploy's names (CodeDeployDefault.LambdaCanary10Percent5Minutes, …Linear10PercentEvery1Minute, …AllAtOnce). */
export const PRESETS: Readonly<Record<string, Readonly<Schedule>>> = {
  'canary10-5m': { steps: [10, 100], everyMs: 5 * MINUTE },
  'canary10-15m': { steps: [10, 100], everyMs: 15 * MINUTE },
  'linear10-1m': { steps: linear(10), everyMs: MINUTE },
  'linear10-10m': { steps: linear(10), everyMs: 10 * MINUTE },
  'all-at-once': { steps: [100], everyMs: 5 * MINUTE },
};

/**
 * With neither `--preset` nor `--steps`: the steps of the contract's synopsis, `--steps
 * 10,25,50,100` (docs/design.md#rollouts), every `--every` (default 5m).
 */
export const DEFAULT_STEPS: readonly number[] = [10, 25, 50, 100];

/** `--every` when `--steps` is given without it: the interval of CodeDeploy's canary10-5m. */
export const DEFAULT_EVERY_MS = 5 * MINUTE;

function linear(by: number): number[] {
  const steps: number[] = [];
  for (let p = by; p <= 100; p += by) steps.push(p);
  return steps;
}

export type Parsed<T> = { value: T } | { problem: string };

/**
 * `5m`, `90s`, `1h30m`: whole numbers with s, m or h (Go's and Argo's form, without ms).
 * @example parseDuration('1m30s') // { value: 90000 }
 */
export function parseDuration(text: string): Parsed<number> {
  const units: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR };
  if (!/^(\d{1,6}[smh])+$/.test(text)) {
    return { problem: `invalid duration '${text}': write whole numbers with s, m or h, e.g. 30s, 5m, 1h30m` };
  }
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smh])/g)) ms += Number(n) * units[unit!]!;
  if (ms < MIN_EVERY_MS || ms > MAX_EVERY_MS) {
    return { problem: `invalid duration '${text}': give from 1s to 168h` };
  }
  return { value: ms };
}

/** `1m30s` for 90000: the shortest form parseDuration reads back. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / SECOND);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? '0s' : parts.join('');
}

/**
 * `10,25,50,100`: whole percents from 1 to 100, strictly increasing. A list that does not end at
 * 100 gets 100 appended (Argo promotes to full weight after the last step): every rollout ends
 * with the new target alone.
 */
export function parseSteps(text: string): Parsed<number[]> {
  const parts = text.split(',');
  const steps: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) < 1 || Number(part) > 100) {
      return { problem: `invalid --steps '${text}': '${part}' is not a whole percent from 1 to 100` };
    }
    const p = Number(part);
    if (steps.length > 0 && p <= steps[steps.length - 1]!) {
      return { problem: `invalid --steps '${text}': percents must increase (${steps[steps.length - 1]} then ${p})` };
    }
    steps.push(p);
  }
  if (steps[steps.length - 1] !== 100) steps.push(100);
  return { value: steps };
}

/** The schedule of `--preset`, `--steps`, `--every` (each optional; a preset excludes the other two). */
export function scheduleOf(flags: { preset?: string; steps?: string; every?: string }): Parsed<Schedule> {
  if (flags.preset !== undefined) {
    if (flags.steps !== undefined || flags.every !== undefined) {
      return {
        problem: `--preset ${flags.preset} fixes the steps and their interval; give --preset or --steps/--every`,
      };
    }
    const preset = PRESETS[flags.preset];
    if (preset === undefined) {
      return { problem: `unknown --preset '${flags.preset}': use ${Object.keys(PRESETS).join(', ')}` };
    }
    return { value: { steps: [...preset.steps], everyMs: preset.everyMs, preset: flags.preset } };
  }
  let everyMs = DEFAULT_EVERY_MS;
  if (flags.every !== undefined) {
    const every = parseDuration(flags.every);
    if ('problem' in every) return { problem: `--every: ${every.problem}` };
    everyMs = every.value;
  }
  if (flags.steps === undefined) return { value: { steps: [...DEFAULT_STEPS], everyMs } };
  const steps = parseSteps(flags.steps);
  if ('problem' in steps) return steps;
  return { value: { steps: steps.value, everyMs } };
}

/** A rollout's gate (docs/design.md#rollout-gates): evaluated by psarnd before each step after the first. */
export interface Gate {
  query: string;
  prometheus: string;
}

/** What a rollout keeps in its operation's `state` (JSON in the operations table). */
export interface RolloutState {
  /** The new target. */
  to: string;
  steps: number[];
  everyMs: number;
  preset?: string;
  gate?: Gate;
  /** Index in `steps` of the last step written (0 after start). */
  step: number;
  /** The targets the last step wrote: a route that differs was changed by someone else. */
  written: TargetSpec[];
  /** The zone serial of the last step's write: the journal after it names who changed the route. */
  serial: number;
  /** Why a paused rollout is paused (a hold, a manual change, a gate that could not be evaluated, a person). */
  pauseReason?: string;
  /** Why it ended: promoted, aborted by whom, the gate's result. */
  endReason?: string;
  /** The last gate evaluation, one line. */
  lastGate?: string;
}

/**
 * Why the rollout cannot start on this route, or undefined when it can. `show` names an alias
 * target in the message (the CLI shows psARNs).
 */
export function startProblem(
  route: StoredRoute | SavedRoute,
  to: string,
  show: (name: string) => string = (name) => name,
): string | undefined {
  if (route.alias !== undefined) {
    return `it is an alias of ${show(route.alias)}; start the rollout on the route the alias points at`;
  }
  if (route.policy === 'fanout') {
    return 'its policy is fanout (every target gets each event): there is no weight to shift; add the target with psarn route set';
  }
  const primary = primaryPriority(route.targets);
  const at = route.targets.filter((t) => t.target === to);
  if (at.length > 1) return `${to} is on it ${at.length} times; leave it once with psarn route set first`;
  if (at.length === 1 && at[0]!.priority !== primary) {
    return `${to} is on it as a failover target (priority ${at[0]!.priority}, the primary group is ${primary}); remove it or make it primary with psarn route weight first`;
  }
  const others = route.targets.filter((t) => t.priority === primary && t.target !== to);
  if (others.length === 0 || (at.length === 1 && others.every((t) => t.weight === 0) && at[0]!.weight > 0)) {
    return `${to} already gets all of its primary traffic; nothing to roll out`;
  }
  return undefined;
}

/** The primary group's priority: the lowest value (docs/design.md#selection-semantics). */
export function primaryPriority(targets: readonly TargetSpec[]): number {
  return Math.min(...targets.map((t) => t.priority));
}

/**
 * The targets at `percent` (docs/design.md#rollouts), from the route before the rollout: in the
 * primary group the new target has `percent × 100` of WEIGHT_SCALE and the group's other targets
 * share the rest in their old proportions (evenly when their weights are all 0, as selection
 * splits such a group); the largest remainders get the units rounding left over, ties to the
 * earlier target, so the group adds up to WEIGHT_SCALE exactly. Failover groups and the target
 * order stay; the new target keeps its place when it was on the route, else comes last. At 100
 * the primary group is the new target alone, at FINAL_WEIGHT.
 */
export function targetsAt(saved: readonly TargetSpec[], to: string, percent: number): TargetSpec[] {
  const primary = primaryPriority(saved);
  const isOld = (t: TargetSpec) => t.priority === primary && t.target !== to;
  if (percent >= 100) {
    const kept = saved.filter((t) => !isOld(t)).map((t) => ({ ...t }));
    const own = kept.find((t) => t.target === to);
    if (own !== undefined) own.weight = FINAL_WEIGHT;
    else kept.push({ target: to, weight: FINAL_WEIGHT, priority: primary });
    return kept;
  }
  const newWeight = percent * (WEIGHT_SCALE / 100);
  const old = saved.filter(isOld);
  const shares = apportion(
    WEIGHT_SCALE - newWeight,
    old.every((t) => t.weight === 0) ? old.map(() => 1) : old.map((t) => t.weight),
  );
  let i = 0;
  const out = saved.map((t) => {
    if (t.target === to && t.priority === primary) return { ...t, weight: newWeight };
    return isOld(t) ? { ...t, weight: shares[i++]! } : { ...t };
  });
  if (!saved.some((t) => t.target === to)) out.push({ target: to, weight: newWeight, priority: primary });
  return out;
}

/**
 * `total` split in proportion to `weights` (not all 0), in whole units adding up to `total`
 * exactly: each gets the floor of its quota, then the largest remainders one unit each
 * (Hamilton's method), ties to the earlier. Exact in integers: quota i = total × w_i / sum.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  const out = weights.map((w) => Math.floor((total * w) / sum));
  const remainders = weights.map((w, i) => ({ i, r: (total * w) % sum }));
  let left = total - out.reduce((a, w) => a + w, 0);
  remainders.sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of remainders) {
    if (left === 0) break;
    out[i]! += 1;
    left--;
  }
  return out;
}

/**
 * The route a step writes: the targets at `percent` from the saved route, and the TTL, policy
 * and metadata of `current` (the route as it is now; default the saved one). A rollout owns
 * the targets only: a TTL or metadata change made during it stays.
 */
export function routeAt(
  saved: SavedRoute,
  to: string,
  percent: number,
  current: Pick<SavedRoute, 'ttl' | 'metadata'> = saved,
): TargetRouteSpec {
  return {
    policy: 'weighted',
    ttl: current.ttl,
    targets: targetsAt(saved.targets, to, percent),
    metadata: { ...current.metadata },
  };
}

/** The route `abort` writes back: the saved one, byte for byte (targets in their order, TTL, metadata). */
export function savedSpec(saved: SavedRoute): RouteSpec {
  if (saved.alias !== undefined) return { ttl: saved.ttl, alias: saved.alias, metadata: { ...saved.metadata } };
  return {
    policy: saved.policy ?? 'weighted',
    ttl: saved.ttl,
    targets: saved.targets.map((t) => ({ ...t })),
    metadata: { ...saved.metadata },
  };
}

/**
 * True when the route's targets are what the last step wrote (each target, weight, priority, in
 * order) and it is still a weighted route: the rollout owns the targets, so anything else there
 * is someone else's change. TTL and metadata are not the rollout's (steps keep them as they are).
 */
export function isAsWritten(route: StoredRoute | undefined, state: Pick<RolloutState, 'written'>): boolean {
  if (route === undefined || route.alias !== undefined || route.policy !== 'weighted') return false;
  const w = state.written;
  return (
    route.targets.length === w.length &&
    route.targets.every(
      (t, i) => t.target === w[i]!.target && t.weight === w[i]!.weight && t.priority === w[i]!.priority,
    )
  );
}

/** `step 2 of 4 (25%)`. */
export function stepText(state: Pick<RolloutState, 'step' | 'steps'>): string {
  return `step ${state.step + 1} of ${state.steps.length} (${state.steps[state.step]}%)`;
}

/** `10% 25% 50% 100% every 5m` (and the preset); `100% at once` for one step. */
export function scheduleText(s: Pick<RolloutState, 'steps' | 'everyMs' | 'preset'>): string {
  const every = s.steps.length === 1 ? 'at once' : `every ${formatDuration(s.everyMs)}`;
  const text = `${s.steps.map((p) => `${p}%`).join(' ')} ${every}`;
  return s.preset === undefined ? text : `${text} (preset ${s.preset})`;
}

/** The journal actor of psarnd's steps of rollout `id` (docs/design.md#change-actors). */
export function driverActor(id: number): string {
  return `psarnd:rollout#${id}`;
}
