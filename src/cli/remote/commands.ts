/**
 * The commands with `--server` (docs/cli.md#remote): the same arguments, checks, route building
 * and output as the local commands, over DNS. Reads are signed queries (route get) and signed
 * AXFR (route list, zone export): reads.ts; writes read the route, build the new one with the
 * local command's own function (route-write.ts plans), and send one signed UPDATE (RFC 2136)
 * whose prerequisites pin what was read: writes.ts.
 */
import type { Command } from '../args.js';
import { listScope, locate } from '../commands/route.js';
import { routeAliasPlan, routeSetPlan, routeWeightPlan, type WritePlan } from '../commands/route-write.js';
import { zoneArg } from '../commands/zone.js';
import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { isCatalog, routeGet, routeList, zoneExport } from './reads.js';
import { RemoteSession, type SessionOptions } from './session.js';
import type { RemoteTarget } from './target.js';
import { flush, write } from './writes.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

/** The commands that run against a server. */
export type RemoteCommand = Of<
  | 'route get'
  | 'route list'
  | 'route set'
  | 'route weight'
  | 'route alias'
  | 'route delete'
  | 'flush'
  | 'zone export'
  | 'zone import'
  | 'db init'
>;

/** Runs `command` against the server. @throws CliError */
export async function runRemote(
  command: RemoteCommand,
  ctx: Context,
  target: RemoteTarget,
  options: SessionOptions = {},
): Promise<void> {
  // Refused before connecting: what cannot travel as DNS.
  switch (command.kind) {
    case 'zone import':
      throw usageError(
        "psarn zone import does not work with --server: run it on the server's host (it writes the database), or send the records with nsupdate",
      );
    case 'db init':
      throw usageError('psarn db init creates a local database; it takes no --server (PSARN_SERVER)');
    case 'route alias':
    case 'route delete':
      if (command.force) {
        throw usageError(
          `--force cannot travel in a DNS UPDATE: the server applies its own alias checks; run 'psarn ${command.kind}' without --force, or on the server's host`,
        );
      }
      break;
  }
  // Arguments are checked (and target warnings printed) before connecting, as the local
  // command checks them before its store opens: a bad argument is exit 2 whatever the server.
  const plan = writePlan(command, ctx, target);
  checkArguments(command, ctx.config.namespace);
  const session = await RemoteSession.open(target, options);
  try {
    switch (command.kind) {
      case 'route get':
        return await routeGet(command, ctx, session);
      case 'route list':
        return await routeList(command, ctx, session);
      case 'zone export':
        return await zoneExport(command, ctx, session);
      case 'flush':
        return await flush(command, ctx, session);
      case 'route delete':
        return await write(ctx, session, options, {
          at: locate(command.psarn, ctx.config.namespace),
          make: () => null,
          force: false,
        });
      default:
        return await write(ctx, session, options, plan!);
    }
  } finally {
    session.close();
  }
}

/** The checks of the reads' arguments (each command repeats them when it runs: they are pure). */
function checkArguments(command: RemoteCommand, namespace: string): void {
  switch (command.kind) {
    case 'route get':
    case 'route delete':
      locate(command.psarn, namespace);
      break;
    case 'route list':
      listScope(command.scope, namespace);
      break;
    case 'flush':
      zoneArg(command.scope, namespace);
      break;
    case 'zone export':
      if (!isCatalog(command.zone, namespace)) zoneArg(command.zone, namespace);
      break;
  }
}

function writePlan(command: RemoteCommand, ctx: Context, target: RemoteTarget): WritePlan | undefined {
  switch (command.kind) {
    case 'route set':
      return routeSetPlan(command, ctx);
    case 'route weight':
      return routeWeightPlan(command, ctx, `server ${target.label}`);
    case 'route alias':
      return routeAliasPlan(command, ctx);
    default:
      return undefined;
  }
}
