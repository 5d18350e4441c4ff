/**
 * `rollout …`, `hold` and `release` with `--server` (docs/cli.md#remote,
 * docs/design.md#remote-operations): the arguments parsed and checked here first, as the local
 * commands check them (a usage error exits 2 before anything is sent); then one signed UPDATE
 * whose update section is the control record, which the primary psarnd runs with the functions
 * the local commands use; then the route and the operation's state read back with signed
 * queries, and printed with the local commands' formatters. A refusal by the server exits 1 with
 * its text (the local command's own words).
 */
import { controlName, controlRecord, decodeControl, STATUS_VERB } from '../../ops/control.js';
import { startArgs } from '../../ops/control-args.js';
import type { HoldState } from '../../ops/hold.js';
import { scheduleText, stepText } from '../../ops/rollout.js';
import type { HoldView, RolloutView } from '../../ops/rollout-view.js';
import { routeName } from '../../psarn/name.js';
import type { Operation, StoredRoute } from '../../store/types.js';
import { Rcode, Type } from '../../wire/types.js';
import { encodeUpdate } from '../../wire/update.js';
import type { HoldCommand } from '../commands/hold.js';
import { formatRolloutBlock, printRollouts, type RolloutCommand } from '../commands/rollout.js';
import { locate, notFound, targetChecker } from '../commands/route.js';
import { printChange } from '../commands/route-write.js';
import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { routeDiff } from '../format.js';
import { catalogZones } from './reads.js';
import { knownRecords } from './records.js';
import { readRoute } from './route-read.js';
import { edeOf, RemoteSession, type SessionOptions } from './session.js';
import type { RemoteTarget } from './target.js';

export type RemoteOpCommand = RolloutCommand | HoldCommand;

type Located = ReturnType<typeof locate>;

/**
 * The refusals of an UPDATE as such (docs/design.md#dns-update): no signature, a key not in
 * update.allow, a secondary. Every other REFUSED + EDE 18 to a control record is the operation's.
 */
const ACCESS_REFUSAL = /^(UPDATE needs a TSIG|key \S+ may not UPDATE|this server is a secondary)/;

/** Runs a rollout or hold command against the server. @throws CliError */
export async function runRemoteOp(
  cmd: RemoteOpCommand,
  ctx: Context,
  target: RemoteTarget,
  options: SessionOptions = {},
  wallClock: () => number = Date.now,
): Promise<void> {
  const ns = ctx.config.namespace;
  const at = cmd.kind === 'rollout status' && cmd.psarn === undefined ? undefined : locate(cmd.psarn!, ns);
  if (cmd.kind === 'rollout start') {
    // The local config's targets policy, as the local command and a remote `route set` check it;
    // the server checks its own again.
    const checker = targetChecker(ctx, (err) => usageError(`--to: ${err.message} (config key targets)`, err));
    checker.check(cmd.to);
    checker.done();
  }
  const session = await RemoteSession.open(target, options);
  try {
    const op = new RemoteOps(ctx, session);
    switch (cmd.kind) {
      case 'rollout status':
        return await op.status(cmd, at, wallClock);
      case 'hold':
        return await op.hold(cmd, at!);
      case 'release':
        return await op.release(cmd, at!);
      default:
        return await op.rollout(cmd, at!);
    }
  } finally {
    session.close();
  }
}

class RemoteOps {
  readonly #ctx: Context;
  readonly #session: RemoteSession;

  constructor(ctx: Context, session: RemoteSession) {
    this.#ctx = ctx;
    this.#session = session;
  }

  get #server(): string {
    return this.#session.target.label;
  }

  /** Sends the control record; a refusal of the operation is a CliError with the server's words. */
  async #send(kind: 'rollout' | 'hold', at: Located, verb: string, args: unknown): Promise<void> {
    const session = this.#session;
    const name = routeName(at.zone, at.path);
    const reply = await session.exchange(
      encodeUpdate({ id: session.id(), zone: at.zone, updates: [controlRecord(kind, name, verb, args)] }),
    );
    const rcode = reply.message.rcode;
    if (rcode === Rcode.NOERROR) return;
    const ede = edeOf(reply.message);
    if (rcode === Rcode.REFUSED && ede?.code === 18 && ede.text !== '' && !ACCESS_REFUSAL.test(ede.text)) {
      throw new CliError('ERR_RUNTIME', ede.text);
    }
    // FORMERR with a text: the server read the arguments otherwise than this CLI (another
    // version, another targets policy): a usage error, as the local command's.
    if (rcode === Rcode.FORMERR && ede !== undefined && ede.text !== '') {
      throw usageError(`server ${this.#server} refused the arguments: ${ede.text}`);
    }
    throw session.refused(reply, `the ${kind} ${verb} of '${at.text}'`);
  }

  /** The state at a control name (a signed TXT query), or undefined when there is none (NODATA). */
  async #state<T>(kind: 'rollout' | 'hold', name: string): Promise<T | undefined> {
    return (await readControlState<T>(this.#session, kind, name)).state;
  }

  async #route(at: Located): Promise<{ route?: StoredRoute; serial: number }> {
    const read = await readRoute(this.#session, at, this.#ctx.config.namespace);
    return { ...(read.route === undefined ? {} : { route: read.route }), serial: read.serial };
  }

  /** What the local command prints for the route's change, from the reads before and after. */
  #printChange(at: Located, before: StoredRoute | undefined, after: { route?: StoredRoute; serial: number }): void {
    printChange(this.#ctx, {
      zone: at.zone,
      path: at.path,
      ...(before === undefined ? {} : { before }),
      ...(after.route === undefined ? {} : { after: after.route }),
      changed: routeDiff(before, after.route, this.#ctx.config.namespace).length > 0,
      serial: after.serial,
      zoneCreated: false,
    });
  }

  async #rolloutOf(at: Located): Promise<RolloutView> {
    const view = await this.#state<RolloutView>('rollout', routeName(at.zone, at.path));
    if (view === undefined) {
      throw new CliError('ERR_RUNTIME', `server ${this.#server} shows no rollout of '${at.text}' after the change`);
    }
    return view;
  }

  async rollout(cmd: Exclude<RolloutCommand, { kind: 'rollout status' }>, at: Located): Promise<void> {
    const out = this.#ctx.io.stdout;
    const before = (await this.#route(at)).route;
    if (cmd.kind === 'rollout start') {
      await this.#send('rollout', at, 'start', startArgs(cmd.to, cmd.schedule, cmd.gate));
      const after = await this.#route(at);
      const v = await this.#rolloutOf(at);
      out.write(`started rollout #${v.id} of ${at.text} to ${cmd.to}: ${scheduleText(v)}\n`);
      this.#printChange(at, before, after);
      if (v.status === 'done') {
        out.write(`rollout #${v.id} done: ${cmd.to} has all of the primary traffic\n`);
        return;
      }
      const gate = v.gate === undefined ? '' : ' after its gate';
      out.write(
        `next: ${v.nextPercent}% at ${v.nextStepAt}${gate}; the primary psarnd takes the steps ('psarn rollout status ${at.text}')\n`,
      );
      return;
    }
    const verb = cmd.kind.slice('rollout '.length);
    await this.#send('rollout', at, verb, {});
    const after = cmd.kind === 'rollout promote' || cmd.kind === 'rollout abort' ? await this.#route(at) : undefined;
    const v = await this.#rolloutOf(at);
    const step = stepText({ step: v.step - 1, steps: v.steps });
    switch (cmd.kind) {
      case 'rollout pause':
        out.write(`paused rollout #${v.id} of ${at.text} at ${step}; the route stays as it is\n`);
        return;
      case 'rollout resume':
        out.write(`resumed rollout #${v.id} of ${at.text} at ${step}; next: ${v.nextPercent}% at ${v.nextStepAt}\n`);
        return;
      default:
        out.write(
          cmd.kind === 'rollout promote'
            ? `promoted rollout #${v.id} of ${at.text}: ${v.to} has all of the primary traffic\n`
            : `aborted rollout #${v.id} of ${at.text}: the route is as before the rollout\n`,
        );
        this.#printChange(at, before, after!);
    }
  }

  /** `rollout status [<psARN>]`: one route's latest rollout, or the active ones of every zone in the catalog. */
  async status(
    cmd: Extract<RolloutCommand, { kind: 'rollout status' }>,
    at: Located | undefined,
    wallClock: () => number,
  ) {
    const ctx = this.#ctx;
    if (at !== undefined) {
      const view = await this.#state<RolloutView>('rollout', routeName(at.zone, at.path));
      if (view === undefined) throw notFound(`no rollout of '${at.text}' on server ${this.#server}`);
      ctx.io.stdout.write(cmd.json ? `${JSON.stringify(view, null, 2)}\n` : formatRolloutBlock(view, wallClock()));
      return;
    }
    const views: RolloutView[] = [];
    for (const zone of await catalogZones(this.#session, ctx.config.namespace)) {
      const list = await this.#state<{ rollouts: RolloutView[] }>('rollout', zone);
      views.push(...(list?.rollouts ?? []));
    }
    // Newest first, as the local listing (operation ids grow).
    views.sort((a, b) => b.id - a.id);
    printRollouts(ctx, views, cmd.json);
  }

  async hold(cmd: Extract<HoldCommand, { kind: 'hold' }>, at: Located): Promise<void> {
    const ctx = this.#ctx;
    const ns = ctx.config.namespace;
    const before = (await this.#route(at)).route;
    await this.#send('hold', at, 'hold', { queue: cmd.queue });
    const after = await this.#route(at);
    const view = await this.#holdOf(at);
    const { hold, epoch } = view;
    const serial = after.serial;
    const pausedRollout = hold.state.pausedRollout === undefined ? undefined : view.rollout;
    if (cmd.json) {
      ctx.io.stdout.write(`${JSON.stringify({ psarn: at.text, hold, serial, epoch, pausedRollout }, null, 2)}\n`);
      return;
    }
    const lines = [
      `held ${at.text} in ${cmd.queue} (hold #${hold.id}, zone ${at.zone} serial ${serial}, epoch ${epochText(epoch)})`,
      ...routeDiff(before, after.route, ns).map((l) => `  ${l}`),
      `callers follow within epochTtl (${ctx.config.epochTtl} s); 'psarn release ${at.text} --replay' restores the route and replays the queue`,
    ];
    if (pausedRollout !== undefined) {
      lines.push(
        `paused rollout #${pausedRollout.id} of ${at.text}: resume it after the release ('psarn rollout resume')`,
      );
    }
    ctx.io.stdout.write(`${lines.join('\n')}\n`);
  }

  async #holdOf(at: Located): Promise<HoldView> {
    const view = await this.#state<HoldView>('hold', routeName(at.zone, at.path));
    if (view === undefined) {
      throw new CliError('ERR_RUNTIME', `server ${this.#server} shows no hold of '${at.text}' after the change`);
    }
    return view;
  }

  async release(cmd: Extract<HoldCommand, { kind: 'release' }>, at: Located): Promise<void> {
    const ctx = this.#ctx;
    const ns = ctx.config.namespace;
    const before = (await this.#route(at)).route;
    let hold: Operation<HoldState>;
    try {
      await this.#send('hold', at, 'release', cmd.force ? { force: true } : {});
    } catch (err) {
      // A second `release --replay` (after a kill, or to retry failures): released already, so
      // replay what is left in the queue of the route's last hold, as the local command does.
      const last =
        cmd.replay && err instanceof CliError
          ? await this.#state<HoldView>('hold', routeName(at.zone, at.path))
          : undefined;
      if (last?.hold.status !== 'released') throw err;
      ctx.io.stderr.write(
        `psarn: ${at.text} was released already (hold #${last.hold.id}); replaying what is left in ${last.hold.state.queue}\n`,
      );
      return this.#replay(cmd, last.hold);
    }
    const after = await this.#route(at);
    const view = await this.#holdOf(at);
    hold = view.hold;
    const { epoch } = view;
    const serial = after.serial;
    const pausedRollout = view.rollout?.status === 'paused' ? view.rollout : undefined;
    if (cmd.json && !cmd.replay) {
      ctx.io.stdout.write(`${JSON.stringify({ psarn: at.text, hold, serial, epoch, pausedRollout }, null, 2)}\n`);
      return;
    }
    const lines = [
      `released ${at.text} from ${hold.state.queue} (hold #${hold.id}, zone ${at.zone} serial ${serial}, epoch ${epochText(epoch)})`,
      ...(hold.state.overwritten !== undefined ? ['  (--force: the change made while held is overwritten)'] : []),
      ...routeDiff(before, after.route, ns).map((l) => `  ${l}`),
    ];
    if (pausedRollout !== undefined) {
      lines.push(
        `rollout #${pausedRollout.id} of ${at.text} stays paused: 'psarn rollout resume ${at.text}' resumes it`,
      );
    }
    if (!cmd.json) ctx.io.stdout.write(`${lines.join('\n')}\n`);
    if (cmd.replay) await this.#replay(cmd, hold);
  }

  /** The replay of the local command, resolving the route at the server (or --dns). */
  async #replay(cmd: Extract<HoldCommand, { kind: 'release' }>, hold: Operation<HoldState>): Promise<void> {
    const { replayQueue } = await import('../commands/hold.js');
    await replayQueue(cmd, this.#ctx, hold, this.#session.target.server);
  }
}

/**
 * The state psarnd shows at a control name (docs/design.md#remote-operations), read by a signed
 * TXT query: `answered` false when the server did not read state there (NXDOMAIN or REFUSED: a
 * key outside update.allow and transfer.allow, a secondary, a zone it does not have), `state`
 * undefined when it did and there is none (NODATA).
 * @throws CliError naming the server on another rcode, or a TXT there that is not psarnd's state
 */
export async function readControlState<T>(
  session: RemoteSession,
  kind: 'rollout' | 'hold',
  name: string,
): Promise<{ answered: boolean; state?: T }> {
  const qname = controlName(kind, name);
  const reply = await session.query(qname, Type.TXT);
  if (reply.message.rcode === Rcode.NXDOMAIN || reply.message.rcode === Rcode.REFUSED) return { answered: false };
  if (reply.message.rcode !== Rcode.NOERROR) throw session.refused(reply, `a query of ${qname} TXT`);
  const rr = knownRecords(reply.message.answer).find((r) => r.type === 'TXT' && r.name === qname);
  if (rr?.type !== 'TXT') return { answered: true };
  try {
    const { verb, args } = decodeControl(rr.strings.map((s) => Buffer.from(s, 'utf8')));
    if (verb === STATUS_VERB) return { answered: true, state: args as T };
  } catch {
    // Below: not a state psarnd wrote.
  }
  // Another server (or a record someone wrote there): not psarnd's state.
  throw new CliError(
    'ERR_RUNTIME',
    `server ${session.target.label} answered ${qname} TXT without operation state; is it a psarnd primary, and does the key appear in its update.allow or transfer.allow?`,
  );
}

function epochText(epoch: number | undefined): string {
  return epoch === undefined ? '?' : `${epoch - 1} → ${epoch}`;
}
