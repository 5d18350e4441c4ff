/**
 * `psarn rollout start|status|pause|resume|promote|abort` (docs/cli.md#psarn-rollout,
 * docs/design.md#rollouts): the arguments (checked before any database is opened) and the
 * commands. Every write goes through src/ops/rollout-ops.ts in one transaction and prints what
 * changed as `route set` does; psarnd takes the later steps.
 */
import { zoneParams } from '../../config/config.js';
import { quote } from '../../errors.js';
import { parseGate } from '../../ops/control-args.js';
import {
  formatDuration,
  type Gate,
  type RolloutState,
  type Schedule,
  scheduleOf,
  scheduleText,
  stepText,
} from '../../ops/rollout.js';
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
  type Written,
} from '../../ops/rollout-ops.js';
import { type RolloutView, rolloutView } from '../../ops/rollout-view.js';
import type { Psarn } from '../../psarn/psarn.js';
import { validateTarget } from '../../psarn/target.js';
import type { Store } from '../../store/store.js';
import { type Context, localActor } from '../context.js';
import { oneLine, usageError } from '../errors.js';
import { aliasPsarn, table } from '../format.js';
import { locate, notFound, targetChecker } from './route.js';
import { printChange } from './route-write.js';

export type RolloutCommand =
  | {
      kind: 'rollout start';
      psarn: Psarn;
      to: string;
      schedule: Schedule;
      gate?: Gate;
    }
  | { kind: 'rollout status'; psarn?: Psarn; json: boolean }
  | { kind: 'rollout pause' | 'rollout resume' | 'rollout promote' | 'rollout abort'; psarn: Psarn };

export const ROLLOUT_KINDS = [
  'rollout start',
  'rollout status',
  'rollout pause',
  'rollout resume',
  'rollout promote',
  'rollout abort',
] as const;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What args.ts lends: its psARN parser and its argument count check. */
export interface ArgHelpers {
  psarn(input: string): Psarn;
  expect(min: number, max: number, what: string): void;
}

const str = (v: Values, key: string) => (typeof v[key] === 'string' ? (v[key] as string) : undefined);

/**
 * The arguments of a rollout command, pure. @throws CliError ERR_USAGE naming the flag
 */
export function rolloutCommand(name: string, rest: string[], v: Values, h: ArgHelpers): RolloutCommand {
  switch (name) {
    case 'rollout start': {
      h.expect(1, 1, '<psARN>');
      const to = str(v, 'to');
      if (to === undefined) throw usageError(`missing --to <ARN|URL> for 'psarn rollout start': the new target`);
      try {
        validateTarget(to);
      } catch (err) {
        throw usageError(`--to: ${oneLine((err as Error).message)}`, err);
      }
      const schedule = scheduleOf({ preset: str(v, 'preset'), steps: str(v, 'steps'), every: str(v, 'every') });
      if ('problem' in schedule) throw usageError(schedule.problem);
      const gate = gateOf(str(v, 'abort-if'), str(v, 'prometheus'), schedule.value);
      return {
        kind: name,
        psarn: h.psarn(rest[0]!),
        to,
        schedule: schedule.value,
        ...(gate === undefined ? {} : { gate }),
      };
    }
    case 'rollout status':
      h.expect(0, 1, '<psARN>');
      return {
        kind: name,
        ...(rest[0] === undefined ? {} : { psarn: h.psarn(rest[0]) }),
        json: v.json === true,
      };
    case 'rollout pause':
    case 'rollout resume':
    case 'rollout promote':
    case 'rollout abort':
      h.expect(1, 1, '<psARN>');
      return { kind: name, psarn: h.psarn(rest[0]!) };
    default:
      throw usageError(`unknown command ${quote(name)}; run 'psarn help rollout' for the commands`);
  }
}

/** `--abort-if PROMQL --prometheus URL` (src/ops/control-args.ts, the parser psarnd uses too). */
function gateOf(query: string | undefined, prometheus: string | undefined, schedule: Schedule): Gate | undefined {
  const gate = parseGate(query, prometheus, schedule);
  if ('problem' in gate) throw usageError(gate.problem);
  return gate.value;
}

type Of<K extends RolloutCommand['kind']> = Extract<RolloutCommand, { kind: K }>;

/** Runs a rollout command; `wallClock` is unix ms (due times are wall-clock times psarnd reads). */
export function rollout(cmd: RolloutCommand, ctx: Context, wallClock: () => number = Date.now): void {
  if (cmd.kind === 'rollout start') start(cmd, ctx, wallClock);
  else if (cmd.kind === 'rollout status') status(cmd, ctx, wallClock);
  else control(cmd, ctx, wallClock);
}

function writeContext(ctx: Context, store: Store, wallClock: () => number): WriteContext {
  return { store, params: zoneParams(ctx.config), actor: localActor(ctx.io.env), now: wallClock() };
}

/** A refusal as the CLI says it: a missing route or rollout exit 1, a refused one exit 2. */
function refusal(r: Refusal, at: string): Error {
  const message = refusalText(r, at);
  return r.kind === 'missing' ? notFound(message) : usageError(message);
}

const iso = (ms: number) => new Date(ms).toISOString();

function start(cmd: Of<'rollout start'>, ctx: Context, wallClock: () => number): void {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const checker = targetChecker(ctx, (err) => usageError(`--to: ${err.message} (config key targets)`, err));
  checker.check(cmd.to);
  checker.done();
  const store = ctx.openStore('write');
  let written: Written;
  try {
    const r = startRollout(writeContext(ctx, store, wallClock), {
      zone: at.zone,
      path: at.path,
      to: cmd.to,
      schedule: cmd.schedule,
      ...(cmd.gate === undefined ? {} : { gate: cmd.gate }),
      show: (name) => aliasPsarn(name, ctx.config.namespace),
    });
    if ('refused' in r) throw refusal(r, at.text);
    written = r;
  } finally {
    store.close();
  }
  const { op } = written;
  const out = ctx.io.stdout;
  out.write(`started rollout #${op.id} of ${at.text} to ${cmd.to}: ${scheduleText(op.state)}\n`);
  if (written.change) printChange(ctx, written.change);
  if (op.status === 'done') {
    out.write(`rollout #${op.id} done: ${cmd.to} has all of the primary traffic\n`);
    return;
  }
  const next = op.state.steps[op.state.step + 1];
  const gate = op.state.gate === undefined ? '' : ' after its gate';
  out.write(
    `next: ${next}% at ${iso(op.dueAt!)}${gate}; the primary psarnd takes the steps ('psarn rollout status ${at.text}')\n`,
  );
}

function control(
  cmd: Of<'rollout pause' | 'rollout resume' | 'rollout promote' | 'rollout abort'>,
  ctx: Context,
  wallClock: () => number,
): void {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const store = ctx.openStore('write');
  const out = ctx.io.stdout;
  try {
    const wc = writeContext(ctx, store, wallClock);
    const op = findRollout(store, { zone: at.zone, path: at.path });
    if (op === undefined) {
      throw notFound(`no rollout in progress on '${at.text}' ('psarn rollout status' lists them)`);
    }
    switch (cmd.kind) {
      case 'rollout pause': {
        const r = pauseRollout(wc, op.id, `paused by ${wc.actor}`);
        if ('refused' in r) throw refusal(r, at.text);
        out.write(`paused rollout #${op.id} of ${at.text} at ${stepText(r.op.state)}; the route stays as it is\n`);
        return;
      }
      case 'rollout resume': {
        const r = resumeRollout(wc, op.id);
        if ('refused' in r) throw refusal(r, at.text);
        if (r.changedBy !== undefined) {
          ctx.io.stderr.write(
            `psarn: warning: the route was changed by ${r.changedBy} since ${stepText(r.op.state)}; the next step replaces that change with the rollout's weights\n`,
          );
        }
        const next = r.op.state.steps[r.op.state.step + 1];
        out.write(
          `resumed rollout #${op.id} of ${at.text} at ${stepText(r.op.state)}; next: ${next}% at ${iso(r.next)}\n`,
        );
        return;
      }
      case 'rollout promote':
      case 'rollout abort': {
        const r = cmd.kind === 'rollout promote' ? promoteRollout(wc, op.id) : abortRollout(wc, op.id);
        if ('refused' in r) throw refusal(r, at.text);
        const what =
          cmd.kind === 'rollout promote'
            ? `promoted rollout #${op.id} of ${at.text}: ${op.state.to} has all of the primary traffic`
            : `aborted rollout #${op.id} of ${at.text}: the route is as before the rollout`;
        out.write(`${what}\n`);
        if (r.change) printChange(ctx, r.change);
        return;
      }
    }
  } finally {
    store.close();
  }
}

export { type RolloutView, rolloutView, shownUrl } from '../../ops/rollout-view.js';

/** `rollout status <psARN>`: one rollout as a block. */
export function formatRolloutBlock(v: RolloutView, now: number): string {
  const rows: [string, string][] = [
    ['rollout', `#${v.id}`],
    ['psARN', v.psarn],
    ['to', v.to],
    ['status', v.status],
    ['step', `${v.step} of ${v.steps.length} (${v.percent}%)`],
    ['steps', `${v.steps.map((p) => `${p}%`).join(' ')} every ${v.every}${v.preset ? ` (preset ${v.preset})` : ''}`],
  ];
  if (v.nextStepAt !== undefined) {
    const left = Math.max(0, Date.parse(v.nextStepAt) - now);
    rows.push(['next', `${v.nextPercent}% at ${v.nextStepAt} (in ${formatDuration(Math.ceil(left / 1000) * 1000)})`]);
  }
  if (v.gate !== undefined) rows.push(['gate', `${v.gate.query} at ${v.gate.prometheus}`]);
  if (v.lastGate !== undefined) rows.push(['last gate', v.lastGate]);
  if (v.pauseReason !== undefined) rows.push(['paused', v.pauseReason]);
  if (v.endReason !== undefined) rows.push(['ended', v.endReason]);
  rows.push(['started', `${v.startedAt}${v.startedBy ? ` by ${v.startedBy}` : ''}`]);
  rows.push(['updated', v.updatedAt]);
  return `${table(rows.map(([k, val]) => [`${k}:`, val])).join('\n')}\n`;
}

function status(cmd: Of<'rollout status'>, ctx: Context, wallClock: () => number): void {
  const ns = ctx.config.namespace;
  const store = ctx.openStore();
  const out = ctx.io.stdout;
  try {
    if (cmd.psarn !== undefined) {
      const at = locate(cmd.psarn, ns);
      // The route's latest rollout, running or finished.
      const op = store.operations<RolloutState>({ zone: at.zone, path: at.path, kind: 'rollout', limit: 1 })[0];
      if (op === undefined) throw notFound(`no rollout of '${at.text}' in ${ctx.config.db}`);
      const view = rolloutView(op, ns);
      out.write(cmd.json ? `${JSON.stringify(view, null, 2)}\n` : formatRolloutBlock(view, wallClock()));
      return;
    }
    printRollouts(
      ctx,
      store.operations<RolloutState>({ kind: 'rollout', active: true }).map((op) => rolloutView(op, ns)),
      cmd.json,
    );
  } finally {
    store.close();
  }
}

/** `rollout status` without a psARN: the active rollouts, newest first (the remote command prints them too). */
export function printRollouts(ctx: Context, views: readonly RolloutView[], json: boolean): void {
  const out = ctx.io.stdout;
  {
    if (json) {
      out.write(`${JSON.stringify(views, null, 2)}\n`);
      return;
    }
    if (views.length === 0) {
      out.write('no rollout in progress\n');
      return;
    }
    const rows = [
      ['ID', 'STATUS', 'STEP', 'NEXT', 'PSARN', 'TO'],
      ...views.map((v) => [
        `#${v.id}`,
        v.status,
        `${v.step}/${v.steps.length} ${v.percent}%`,
        v.nextStepAt ?? '-',
        v.psarn,
        v.to,
      ]),
    ];
    out.write(`${table(rows).join('\n')}\n`);
    for (const v of views) if (v.pauseReason) out.write(`#${v.id} paused: ${v.pauseReason}\n`);
  }
}
