/**
 * The arguments of the operations, checked by one set of parsers wherever they come from: the
 * local CLI's flags (src/cli/commands/rollout.ts, hold.ts) and a control record's JSON
 * (docs/design.md#remote-operations), which psarnd checks again since any key of update.allow
 * can send one. A problem is a value naming the flag, never a throw.
 */
import { ECHO_LONG, quote } from '../errors.js';
import { queueArnProblem } from './hold.js';
import { type Gate, type Parsed, type Schedule, scheduleOf } from './rollout.js';

/** `--abort-if PROMQL --prometheus URL`: both or neither; only where a step follows the first. */
export function parseGate(
  query: string | undefined,
  prometheus: string | undefined,
  schedule: Schedule,
): Parsed<Gate | undefined> {
  if (query === undefined && prometheus === undefined) return { value: undefined };
  if (query === undefined) return { problem: '--prometheus is given without --abort-if PROMQL; give both, or neither' };
  if (prometheus === undefined) {
    return {
      problem: '--abort-if needs --prometheus URL (the Prometheus server to ask, e.g. http://prometheus:9090)',
    };
  }
  if (query.trim() === '') return { problem: '--abort-if is empty: give the PromQL whose non-empty result aborts' };
  let url: URL;
  try {
    url = new URL(prometheus);
  } catch {
    return { problem: `invalid --prometheus ${quote(prometheus)}: give an http:// or https:// URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: `invalid --prometheus ${quote(prometheus)}: give an http:// or https:// URL` };
  }
  if (schedule.steps.length === 1) {
    return {
      problem:
        '--abort-if is evaluated before each step after the first, and this rollout has one step (taken at start); give --steps with more than one',
    };
  }
  return { value: { query, prometheus } };
}

/** What `rollout start` sends in its control record: the schedule as parsed, the gate's two flags. */
export interface StartArgs {
  to: string;
  steps: number[];
  everyMs: number;
  preset?: string;
  gate?: Gate;
}

/** The control record's arguments of a parsed `rollout start`. */
export function startArgs(to: string, schedule: Schedule, gate: Gate | undefined): StartArgs {
  return {
    to,
    steps: schedule.steps,
    everyMs: schedule.everyMs,
    ...(schedule.preset === undefined ? {} : { preset: schedule.preset }),
    ...(gate === undefined ? {} : { gate }),
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * A `start` record's arguments, read back with the CLI's own parsers: the schedule as `--steps`
 * and `--every` (or `--preset`) would give it, the gate as `--abort-if` and `--prometheus`.
 * The target's grammar and the targets policy are the caller's (they need the config).
 */
export function readStartArgs(args: Record<string, unknown>): Parsed<{ to: string; schedule: Schedule; gate?: Gate }> {
  const { to, steps, everyMs, preset, gate } = args;
  if (!isString(to) || to === '') return { problem: 'start: "to" is the new target, a string' };
  let schedule: Parsed<Schedule>;
  if (preset !== undefined) {
    if (!isString(preset)) return { problem: 'start: "preset" is a string' };
    schedule = scheduleOf({ preset });
    if ('value' in schedule && (steps !== undefined || everyMs !== undefined)) {
      const same =
        Array.isArray(steps) &&
        steps.join(',') === schedule.value.steps.join(',') &&
        everyMs === schedule.value.everyMs;
      if (!same) return { problem: `start: preset ${preset} fixes the steps and their interval; send them as it does` };
    }
  } else {
    if (!Array.isArray(steps) || steps.length === 0 || !steps.every((s) => Number.isInteger(s))) {
      return { problem: 'start: "steps" is a list of whole percents' };
    }
    if (typeof everyMs !== 'number' || !Number.isInteger(everyMs) || everyMs % 1000 !== 0 || everyMs < 0) {
      return { problem: 'start: "everyMs" is a whole number of seconds, in ms' };
    }
    schedule = scheduleOf({ steps: steps.join(','), every: `${everyMs / 1000}s` });
  }
  if ('problem' in schedule) return schedule;
  let parsedGate: Parsed<Gate | undefined> = { value: undefined };
  if (gate !== undefined) {
    if (gate === null || typeof gate !== 'object') return { problem: 'start: "gate" is {query, prometheus}' };
    const g = gate as Record<string, unknown>;
    if (!isString(g.query) || !isString(g.prometheus)) return { problem: 'start: "gate" is {query, prometheus}' };
    parsedGate = parseGate(g.query, g.prometheus, schedule.value);
  }
  if ('problem' in parsedGate) return parsedGate;
  return {
    value: { to, schedule: schedule.value, ...(parsedGate.value === undefined ? {} : { gate: parsedGate.value }) },
  };
}

/** A `hold` record's arguments: the queue, checked as `--queue`. */
export function readHoldArgs(args: Record<string, unknown>): Parsed<{ queue: string }> {
  const { queue } = args;
  if (!isString(queue)) return { problem: 'hold: "queue" is the SQS queue ARN, a string' };
  const problem = queueArnProblem(queue);
  if (problem !== undefined) {
    return {
      problem: `invalid --queue ${quote(queue, ECHO_LONG)}: ${problem}; write arn:aws:sqs:REGION:ACCOUNT:QUEUE`,
    };
  }
  return { value: { queue } };
}

/** A `release` record's arguments: `force` (a boolean) or nothing. */
export function readReleaseArgs(args: Record<string, unknown>): Parsed<{ force: boolean }> {
  if (args.force !== undefined && typeof args.force !== 'boolean') return { problem: 'release: "force" is a boolean' };
  return { value: { force: args.force === true } };
}
