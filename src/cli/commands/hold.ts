/**
 * `psarn hold <psARN> --queue <sqs-arn>` and `psarn release <psARN> [--replay] [--rate N]`
 * (docs/design.md#hold-and-release, docs/cli.md#psarn-hold). Both write the local database in
 * one transaction that bumps the zone's epoch, so every caller follows within epochTtl; the
 * replay reads the queue with the SQS API and invokes each message through the restored route
 * with the client library (PsarnClient asking psarnd), as any caller would.
 */

import type { ServerAddress } from '../../client/transport.js';
import { zoneParams } from '../../config/config.js';
import { quote } from '../../errors.js';
import { readHoldArgs } from '../../ops/control-args.js';
import { HoldError, type HoldState, holdRoute, releaseRoute } from '../../ops/hold.js';
import { type ProgressStream, progressReporter } from '../../ops/progress.js';
import type { ReplayResult } from '../../ops/replay.js';
import type { Psarn } from '../../psarn/psarn.js';
import { formatPsarn } from '../../psarn/psarn.js';
import type { Operation, StoredRoute } from '../../store/types.js';
import type { ServerArg } from '../args.js';
import { type Context, localActor } from '../context.js';
import { parseServerArg } from '../dig-args.js';
import { CliError, usageError } from '../errors.js';
import { routeDiff, routePsarn } from '../format.js';
import { locate } from './route.js';

export type HoldCommand =
  | { kind: 'hold'; psarn: Psarn; queue: string; json: boolean }
  | {
      kind: 'release';
      psarn: Psarn;
      replay: boolean;
      rate?: number;
      dns?: ServerArg;
      force: boolean;
      json: boolean;
    };

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Highest --rate: far above what one process can invoke, low enough to catch a typo of units. */
export const MAX_RATE = 100_000;

/**
 * The hold commands' arguments (pure): `rest` are the positionals after the command's words.
 * @throws CliError ERR_USAGE
 */
export function holdCommand(
  name: 'hold' | 'release',
  rest: string[],
  v: Values,
  helpers: { psarn: (input: string) => Psarn; expect: (min: number, max: number, what: string) => void },
): HoldCommand {
  helpers.expect(1, 1, '<psARN>');
  const psarn = helpers.psarn(rest[0]!);
  const json = v.json === true;
  if (name === 'hold') {
    if (typeof v.queue !== 'string') {
      throw usageError("missing --queue for 'psarn hold'; give the SQS queue ARN that takes the events while held");
    }
    const queue = readHoldArgs({ queue: v.queue });
    if ('problem' in queue) throw usageError(queue.problem);
    return { kind: 'hold', psarn, queue: v.queue, json };
  }
  const replay = v.replay === true;
  if (!replay && (v.rate !== undefined || v.dns !== undefined)) {
    throw usageError(
      `--${v.rate !== undefined ? 'rate' : 'dns'} goes with --replay ('psarn release <psARN> --replay')`,
    );
  }
  let rate: number | undefined;
  if (typeof v.rate === 'string') {
    rate = Number(v.rate);
    if (!/^\d+(\.\d+)?$/.test(v.rate) || !(rate > 0) || rate > MAX_RATE) {
      throw usageError(`invalid --rate ${quote(v.rate)}: use invocations a second, a number above 0 up to ${MAX_RATE}`);
    }
  }
  return {
    kind: 'release',
    psarn,
    replay,
    ...(rate !== undefined ? { rate } : {}),
    ...(typeof v.dns === 'string' ? { dns: parseServerArg(`@${v.dns}`) } : {}),
    force: v.force === true,
    json,
  };
}

/** A HoldError as the CLI's error: bad input exit 2, the rest exit 1. */
function cliError(err: unknown): unknown {
  if (!(err instanceof HoldError)) return err;
  switch (err.code) {
    case 'ERR_HOLD_INPUT':
      return usageError(err.message, err);
    case 'ERR_ROUTE_NOT_FOUND':
      return new CliError('ERR_NOT_FOUND', `${err.message} ('psarn route list' shows the routes)`, { cause: err });
    default:
      return new CliError('ERR_RUNTIME', err.message, { cause: err });
  }
}

function diffLines(before: StoredRoute | undefined, after: StoredRoute | undefined, ns: string): string[] {
  return routeDiff(before, after, ns).map((l) => `  ${l}`);
}

export function hold(cmd: Extract<HoldCommand, { kind: 'hold' }>, ctx: Context): void {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const ns = ctx.config.namespace;
  const store = ctx.openStore('write');
  let result: ReturnType<typeof holdRoute>;
  let epoch: number | undefined;
  try {
    result = holdRoute(store, {
      zone: at.zone,
      path: at.path,
      queue: cmd.queue,
      params: zoneParams(ctx.config),
      actor: localActor(ctx.io.env),
      show: (zone, path) => routePsarn({ zone, path }, ns),
    });
    epoch = store.zone(at.zone)?.epoch;
  } catch (err) {
    throw cliError(err);
  } finally {
    store.close();
  }
  const { hold, change, pausedRollout, serial } = result;
  if (cmd.json) {
    ctx.io.stdout.write(`${JSON.stringify({ psarn: at.text, hold, serial, epoch, pausedRollout }, null, 2)}\n`);
    return;
  }
  const lines = [
    `held ${at.text} in ${cmd.queue} (hold #${hold.id}, zone ${at.zone} serial ${serial}, epoch ${epoch === undefined ? '?' : `${epoch - 1} → ${epoch}`})`,
    ...diffLines(change?.before, change?.after, ns),
    `callers follow within epochTtl (${ctx.config.epochTtl} s); 'psarn release ${at.text} --replay' restores the route and replays the queue`,
  ];
  if (pausedRollout !== undefined) {
    lines.push(
      `paused rollout #${pausedRollout.id} of ${at.text}: resume it after the release ('psarn rollout resume')`,
    );
  }
  ctx.io.stdout.write(`${lines.join('\n')}\n`);
}

/** Writes the release, or (with --replay on a released hold) finds the hold whose queue to replay. */
function releaseStep(
  cmd: Extract<HoldCommand, { kind: 'release' }>,
  ctx: Context,
  at: ReturnType<typeof locate>,
): Operation<HoldState> {
  const ns = ctx.config.namespace;
  const store = ctx.openStore('write');
  try {
    const result = releaseRoute(store, {
      zone: at.zone,
      path: at.path,
      params: zoneParams(ctx.config),
      actor: localActor(ctx.io.env),
      force: cmd.force,
      now: () => Date.now(),
      show: (zone, path) => routePsarn({ zone, path }, ns),
    });
    const epoch = store.zone(at.zone)?.epoch;
    const { hold, change, serial, pausedRollout } = result;
    if (cmd.json && !cmd.replay) {
      ctx.io.stdout.write(`${JSON.stringify({ psarn: at.text, hold, serial, epoch, pausedRollout }, null, 2)}\n`);
      return hold;
    }
    const lines = [
      `released ${at.text} from ${hold.state.queue} (hold #${hold.id}, zone ${at.zone} serial ${serial}, epoch ${epoch === undefined ? '?' : `${epoch - 1} → ${epoch}`})`,
      ...(result.overwrote ? ['  (--force: the change made while held is overwritten)'] : []),
      ...diffLines(change?.before, change?.after, ns),
    ];
    if (pausedRollout !== undefined) {
      lines.push(
        `rollout #${pausedRollout.id} of ${at.text} stays paused: 'psarn rollout resume ${at.text}' resumes it`,
      );
    }
    // --json --replay: the replay's JSON on stdout says it all (hold id, counts).
    if (!cmd.json) ctx.io.stdout.write(`${lines.join('\n')}\n`);
    return hold;
  } catch (err) {
    if (err instanceof HoldError && err.code === 'ERR_HOLD_STATE' && cmd.replay && err.hold?.status === 'released') {
      // A second `release --replay` (after a kill, or to retry failures): the route is restored
      // already; replay what is left in the queue of its last hold.
      ctx.io.stderr.write(
        `psarn: ${at.text} was released already (hold #${err.hold.id}); replaying what is left in ${err.hold.state.queue}\n`,
      );
      return err.hold;
    }
    if (err instanceof HoldError && err.code === 'ERR_HOLD_CHANGED') {
      ctx.io.stdout.write(
        `${[`${at.text} now differs from what the hold wrote:`, ...diffLines(err.held, err.current, ns)].join('\n')}\n`,
      );
      throw new CliError(
        'ERR_RUNTIME',
        `${err.message}; check the change (shown above), then pass --force to restore the saved route anyway`,
        { cause: err },
      );
    }
    throw cliError(err);
  } finally {
    store.close();
  }
}

export async function release(cmd: Extract<HoldCommand, { kind: 'release' }>, ctx: Context): Promise<void> {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const hold = releaseStep(cmd, ctx, at);
  if (!cmd.replay) return;
  await replayQueue(cmd, ctx, hold);
}

/** The psarnd the replay asks for the route: --dns, else the config's listen address (a wildcard as loopback). */
export function replayServer(dns: ServerArg | undefined, ctx: Context): ServerAddress {
  const { host, port } = ctx.config.listen;
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return { host: dns?.host ?? local, port: dns?.port ?? port };
}

/** The summary of a replay run. Pure. */
export function formatReplay(r: ReplayResult, queue: string): string {
  const lines = [
    `replayed ${r.replayed}, failed ${r.failed} (left in ${queue}), received ${r.received} in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `redelivered ${r.redelivered} (received before this run: a duplicate if an earlier run invoked it and stopped before deleting it)`,
    `repeats ${r.repeats} (received again after success in this run: deleted, not invoked twice), not deleted ${r.notDeleted}`,
  ];
  if (r.leftVisible >= 0) lines.push(`queue now: ${r.leftVisible} visible, ${r.leftInFlight} in flight`);
  if (r.stopped !== undefined) lines.push(`stopped: ${r.stopped}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Replays the hold's queue through the restored route. `remote`: run with --server
 * (docs/design.md#remote-operations): the route is resolved at that server unless --dns says
 * otherwise, and the counts are not recorded in the hold (the operations table is the server's).
 */
export async function replayQueue(
  cmd: Extract<HoldCommand, { kind: 'release' }>,
  ctx: Context,
  hold: Operation<HoldState>,
  remote?: ServerAddress,
): Promise<void> {
  // The AWS SDK's multi-line Node-version notice would break the one-line stderr (as psarn invoke).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const psarn = formatPsarn(cmd.psarn);
  const queue = hold.state.queue;
  const reporter = progressReporter(ctx.io.stderr as ProgressStream);
  // Loaded here: the client library and the SQS client are not needed by the other commands.
  const { runReplay } = await import('../../ops/replay-run.js');
  // A first Ctrl-C stops receiving and lets the batches in flight finish and be deleted, then
  // prints the counts; a second one kills at once (nothing is lost either way: at least once).
  const interrupt = new AbortController();
  const onSigint = () => {
    ctx.io.stderr.write('\npsarn: stopping after the messages in flight (Ctrl-C again to quit at once)\n');
    interrupt.abort();
  };
  process.once('SIGINT', onSigint);
  const result = await runReplay({
    signal: interrupt.signal,
    psarn,
    queue,
    servers: [
      remote === undefined
        ? replayServer(cmd.dns, ctx)
        : { host: cmd.dns?.host ?? remote.host, port: cmd.dns?.port ?? remote.port },
    ],
    namespace: ctx.config.namespace,
    epochTtl: ctx.config.epochTtl,
    clock: { now: () => ctx.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    ...(cmd.rate !== undefined ? { rate: cmd.rate } : {}),
    onProgress: (p) => reporter.update(p),
  }).finally(() => process.off('SIGINT', onSigint));
  reporter.end();
  if (remote === undefined) recordReplay(ctx, hold, result);
  ctx.io.stdout.write(
    cmd.json ? `${JSON.stringify({ psarn, queue, hold: hold.id, ...result }, null, 2)}\n` : formatReplay(result, queue),
  );
  if (result.stopped !== undefined) {
    throw new CliError('ERR_RUNTIME', `replay of ${queue} stopped: ${result.stopped}`);
  }
  if (result.failed > 0) {
    throw new CliError(
      'ERR_RUNTIME',
      `${result.failed} ${result.failed === 1 ? 'message' : 'messages'} failed and stay in ${queue}; run 'psarn release ${psarn} --replay' again once the target is fixed`,
    );
  }
}

/** The run's counts in the hold's state (what `psarn release --replay` last did); a failure only warns. */
function recordReplay(ctx: Context, hold: Operation<HoldState>, r: ReplayResult): void {
  try {
    const store = ctx.openStore('write');
    try {
      const now = store.operation<HoldState>(hold.id);
      if (now === undefined) return;
      const { replayed, failed, redelivered, repeats, notDeleted } = r;
      store.updateOperation<HoldState>(hold.id, {
        state: {
          ...now.state,
          lastReplay: {
            replayed,
            failed,
            redelivered,
            repeats,
            notDeleted,
            ...(r.stopped ? { stopped: r.stopped } : {}),
          },
        },
      });
    } finally {
      store.close();
    }
  } catch (err) {
    ctx.io.stderr.write(`psarn: warning: replay counts not recorded in hold #${hold.id}: ${(err as Error).message}\n`);
  }
}
