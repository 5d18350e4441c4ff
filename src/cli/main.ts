#!/usr/bin/env node
/**
 * `psarn`: parse -> exec -> print (docs/design.md#cli-names). `main` runs one command in-process and returns
 * the exit status: 0 ok, 1 runtime error (missing database, route not found, no reply), 2 usage
 * error (unknown command or flag, bad argument). Every error is one line on stderr.
 */
import { realpathSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config/config.js';
import { PsarnBaseError } from '../errors.js';
import { Store } from '../store/store.js';
import { packageVersion } from '../version.js';
import { type Command, type Invocation, parseArgv } from './args.js';
import { dbInit, flush } from './commands/admin.js';
import { apply } from './commands/apply.js';
import { graph, remoteMapRefusal, routeCallersCommand } from './commands/graph.js';
import { remoteHistoryRefusal, routeHistory, routeRevert } from './commands/history.js';
import { keyText } from './commands/key.js';
import { ROLLOUT_KINDS, rollout } from './commands/rollout.js';
import { routeGet, routeList } from './commands/route.js';
import { routeAlias, routeDelete, routeSet, routeWeight } from './commands/route-write.js';
import { zoneExport, zoneImport } from './commands/zone.js';
import { helpText } from './commands.js';
import type { Context, Io } from './context.js';
import { databaseFault } from './db-faults.js';
import { type DigDeps, runDig } from './dig.js';
import type { DigArgs } from './dig-args.js';
import { CliError, OutputClosedError, oneLine, stderrLine, usageError } from './errors.js';
import { remoteApply } from './remote/apply.js';
import { type RemoteCommand, runRemote } from './remote/commands.js';
import type { RemoteOpCommand } from './remote/ops.js';
import type { SessionOptions } from './remote/session.js';
import { type RemoteTarget, remoteTarget } from './remote/target.js';

export type { Io } from './context.js';

export interface MainOptions {
  dig?: DigDeps;
  /** The remote commands' connection (timeouts, host lookup, clock), for tests. */
  remote?: SessionOptions;
  /** Unix ms for the rollout commands' due times and the map's views (default Date.now), for tests. */
  wallClock?: () => number;
}

/** The commands `--server` sends to a server (docs/cli.md#remote). */
const REMOTE_KINDS: ReadonlySet<Command['kind']> = new Set([
  'route get',
  'route list',
  'route set',
  'route weight',
  'route alias',
  'route delete',
  'flush',
  'zone export',
  'zone import',
  'db init',
]);

/** The operation commands `--server` sends as control records (docs/design.md#remote-operations). */
const REMOTE_OP_KINDS: ReadonlySet<Command['kind']> = new Set([...ROLLOUT_KINDS, 'hold', 'release']);

async function execute(inv: Invocation, io: Io, options: MainOptions): Promise<void> {
  const { command } = inv;
  if (command.kind === 'help') {
    io.stdout.write(helpText(command.topic, packageVersion()));
    return;
  }
  if (command.kind === 'version') {
    io.stdout.write(`psarn ${packageVersion()}\n`);
    return;
  }
  // A new key needs no config and no database.
  if (command.kind === 'key generate') {
    io.stdout.write(keyText(command.name, command.algorithm));
    return;
  }
  let config: ReturnType<typeof loadConfig>['config'];
  try {
    ({ config } = loadConfig({ file: inv.global.config, env: io.env, overrides: { db: inv.global.db }, cwd: io.cwd }));
  } catch (err) {
    throw new CliError('ERR_RUNTIME', oneLine((err as Error).message), { cause: err });
  }
  // Read before any database: a remote command opens none.
  // An explicit --db means the local database, whatever PSARN_SERVER says; --db with --server is refused below.
  const remoteEnv =
    inv.global.db !== undefined && inv.global.server === undefined ? { ...io.env, PSARN_SERVER: undefined } : io.env;
  const remote = remoteTarget(inv.global, remoteEnv, io.cwd);
  const ctx: Context = {
    config,
    io,
    now: () => performance.now(),
    openStore: (purpose) => {
      let store: Store;
      try {
        // quick_check before the first write: a command must not write into a damaged file.
        store = Store.open(config.db, {
          create: false,
          checkBeforeWrite: true,
          journalKeep: config.journal.keep,
          journalMaxAgeMs: config.journal.maxAgeMs,
        });
      } catch (err) {
        throw (
          databaseFault(config.db, err) ?? new CliError('ERR_RUNTIME', oneLine((err as Error).message), { cause: err })
        );
      }
      if (purpose === 'write') refuseSecondaryCopy(store, config.db);
      return store;
    },
  };
  // The journal is not served over DNS (docs/design.md#history-and-revert): no local fallback either.
  if (remote !== undefined && (command.kind === 'route history' || command.kind === 'route revert')) {
    throw remoteHistoryRefusal(command.kind, remote.label);
  }
  // Nor is the caller map (docs/design.md#the-graph): the console's JSON API serves it.
  if (remote !== undefined && (command.kind === 'graph' || command.kind === 'route callers')) {
    throw remoteMapRefusal(command.kind, remote.label);
  }
  const remoteKind = REMOTE_KINDS.has(command.kind) || REMOTE_OP_KINDS.has(command.kind) || command.kind === 'apply';
  if (remote !== undefined && remoteKind) {
    // Both on the line: the user cannot mean both (PSARN_DB and a config's db are just unused).
    if (inv.global.db !== undefined) {
      throw usageError(`give --db FILE (the local database) or --server (${remote.label}), not both`);
    }
    if (command.kind === 'apply') {
      // The server's zones read by AXFR, written by UPDATE (src/cli/remote/apply.ts).
      await remoteApply(command, ctx, remote, options.remote);
    } else if (REMOTE_OP_KINDS.has(command.kind)) {
      // rollout, hold, release: a control record in a signed UPDATE, run by the primary psarnd
      // (docs/design.md#remote-operations).
      const { runRemoteOp } = await import('./remote/ops.js');
      await runRemoteOp(command as RemoteOpCommand, ctx, remote, options.remote, options.wallClock);
    } else {
      await runRemote(command as RemoteCommand, ctx, remote, options.remote);
    }
    return;
  }
  try {
    await run(command, ctx, options, remote);
  } catch (err) {
    // A write into a read-only file fails at the write, as a bare SqliteError.
    throw databaseFault(config.db, err) ?? err;
  }
}

/**
 * A secondary's database is its primary's copy (docs/design.md#secondary-mode): a local write
 * would be overwritten by the next transfer, and a Knot or BIND operator expects a secondary's
 * zone to change on its primary only. Closes the store and throws.
 */
/** The setting a secondary psarnd writes (src/secondary/state-store.ts PRIMARY_SETTING; cli does not import secondary). */
const PRIMARY_SETTING = 'secondary.primary';

function refuseSecondaryCopy(store: Store, db: string): void {
  let primary: string | undefined;
  try {
    primary = store.setting(PRIMARY_SETTING);
  } catch (err) {
    store.close();
    throw err;
  }
  if (primary === undefined) return;
  store.close();
  throw new CliError(
    'ERR_RUNTIME',
    `database ${db} is a secondary copy of ${primary}; change routes on the primary (psarn --server ${primary} --key NAME:SECRET route set …)`,
  );
}

async function run(
  command: Exclude<Command, { kind: 'help' | 'version' | 'key generate' }>,
  ctx: Context,
  options: MainOptions,
  remote: RemoteTarget | undefined,
) {
  const { io, config } = ctx;
  switch (command.kind) {
    case 'route set':
      return routeSet(command, ctx);
    case 'route weight':
      return routeWeight(command, ctx);
    case 'route get':
      return routeGet(command, ctx);
    case 'route list':
      return routeList(command, ctx);
    case 'route delete':
      return routeDelete(command, ctx);
    case 'route alias':
      return routeAlias(command, ctx);
    case 'route history':
      return routeHistory(command, ctx);
    case 'route revert':
      return routeRevert(command, ctx);
    case 'route callers':
      return routeCallersCommand(command, ctx, options.wallClock);
    case 'graph':
      return graph(command, ctx, options.wallClock);
    case 'flush':
      return flush(command, ctx);
    case 'zone export':
      return zoneExport(command, ctx);
    case 'zone import':
      return zoneImport(command, ctx);
    case 'db init':
      return dbInit(command, ctx);
    case 'apply':
      return apply(command, ctx);
    case 'rollout start':
    case 'rollout status':
    case 'rollout pause':
    case 'rollout resume':
    case 'rollout promote':
    case 'rollout abort':
      return rollout(command, ctx, options.wallClock);
    case 'hold':
    case 'release': {
      const { hold, release } = await import('./commands/hold.js');
      return command.kind === 'hold' ? hold(command, ctx) : release(command, ctx);
    }
    case 'dig':
      io.stdout.write(
        await runDig(remoteDig(command.dig, remote), command.args, config, {
          ...options.dig,
          ...(remote?.key === undefined ? {} : { key: remote.key }),
        }),
      );
      return;
    case 'resolve':
    case 'invoke': {
      // Loaded on demand: the client library pulls in the AWS SDK, which other commands never need.
      // The SDK's multi-line Node-version notice would break the one-line stderr of the CLI;
      // the user can still turn it back on by setting the variable to false.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { invokeCommand, resolveCommand } = await import('./commands/client.js');
      // --server (PSARN_SERVER) is the server when no @HOST is given; the client library's
      // queries are not signed (a psarnd answers queries unsigned: docs/cli.md#remote).
      const cmd =
        remote !== undefined && command.server === undefined ? { ...command, server: remote.server } : command;
      return cmd.kind === 'resolve' ? resolveCommand(cmd, ctx) : invokeCommand(cmd, ctx);
    }
  }
}

/** `psarn --server H:P dig NAME`: the server when no @HOST is given. */
function remoteDig(dig: DigArgs, remote: RemoteTarget | undefined): DigArgs {
  if (remote === undefined || dig.server !== undefined) return dig;
  return { ...dig, server: { host: remote.server.host, port: remote.server.port } };
}

/**
 * Runs one `psarn` command. Never throws: errors become one line on stderr and the exit status.
 * @example const status = await main(['route', 'list'], { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 */
export async function main(argv: readonly string[], io: Io, options: MainOptions = {}): Promise<number> {
  try {
    await execute(parseArgv(argv), io, options);
    return 0;
  } catch (err) {
    if (err instanceof OutputClosedError) return 0;
    if (err instanceof CliError) {
      const line = stderrLine(err.message);
      io.stderr.write(line.startsWith(';;') ? `${line}\n` : `psarn: ${line}\n`);
      return err.exitCode;
    }
    // Any other psarn error (a locked or damaged database, ...) says what happened and what to
    // do; a bug or an unexpected failure (a full disk) also names its class. Still one line.
    const e = err as Error;
    const name = err instanceof PsarnBaseError || !e?.name || e.name === 'Error' ? '' : ` (${e.name})`;
    io.stderr.write(`psarn: ${stderrLine(e?.message ?? String(err))}${name}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/**
 * The process's stdout for a command: once its reader has gone (EPIPE; the stream is then
 * destroyed), the next write throws OutputClosedError, so a long listing stops at once and ends
 * quietly instead of writing on into a closed pipe and dying of the unhandled 'error'.
 */
export function processStdout(stream: NodeJS.WritableStream & Writable = process.stdout): {
  write(s: string): unknown;
} {
  // Reported through the next write instead (below); without a listener it would crash.
  stream.on('error', () => {});
  return {
    write(s: string) {
      // `errored` is set at the failed write itself; `destroyed` only on the next tick, which a
      // listing that writes in one synchronous loop would not reach. Another failure (a full
      // disk under `> file`) is the command's error, not a quiet end.
      const failed = stream.errored as NodeJS.ErrnoException | null;
      if (failed?.code === 'EPIPE') throw new OutputClosedError();
      if (failed) throw failed;
      return stream.write(s);
    },
  };
}

if (isEntryPoint()) {
  const status = await main(process.argv.slice(2), {
    stdout: processStdout(),
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exitCode = status;
}
