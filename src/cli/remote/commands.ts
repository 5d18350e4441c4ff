/**
 * The commands with `--server` (docs/cli.md#remote): the same arguments, checks, route building
 * and output as the local commands, over DNS. Reads are signed queries (route get) and signed
 * AXFR (route list, zone export); writes read the route, build the new one with the local
 * command's own function (route-write.ts plans), and send one signed UPDATE (RFC 2136) whose
 * prerequisites pin what was read.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ECHO_LONG, echo, quote } from '../../errors.js';
import type { StoredRoute } from '../../store/types.js';
import type { DnsRecord } from '../../wire/types.js';
import { Rcode, Type } from '../../wire/types.js';
import { deleteRRset, encodeUpdate, type UpdateMessage } from '../../wire/update.js';
import { catalogName } from '../../zone/catalog.js';
import { formatRecord } from '../../zonefile/presentation.js';
import type { Command } from '../args.js';
import { flushMessage } from '../commands/admin.js';
import { listScope, locate, notFound } from '../commands/route.js';
import { printChange, routeAliasPlan, routeSetPlan, routeWeightPlan, type WritePlan } from '../commands/route-write.js';
import { zoneArg } from '../commands/zone.js';
import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { formatRouteBlock, formatRouteLine, routeDiff, routeView } from '../format.js';
import { knownRecords, RemoteZoneReader, routesOf } from './records.js';
import { type RemoteRouteRead, readEpoch, readRoute, readZoneSerial } from './route-read.js';
import { afterRoute, pin, routeUpdate } from './route-update.js';
import { edeOf, type RemoteReply, RemoteSession, type SessionOptions } from './session.js';
import type { RemoteTarget } from './target.js';

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

async function routeGet(cmd: Of<'route get'>, ctx: Context, session: RemoteSession): Promise<void> {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const read = await readRoute(session, at, ctx.config.namespace);
  if (read.route === undefined) {
    throw notFound(
      `route '${at.text}' not found on server ${session.target.label}; 'psarn route list' shows the routes`,
    );
  }
  const view = routeView(read.route, ctx.config.namespace, read.epoch, true);
  ctx.io.stdout.write(cmd.json ? `${JSON.stringify(view, null, 2)}\n` : formatRouteBlock(view));
}

/** The zones the server lists in its catalog zone (RFC 9432), by name. */
async function catalogZones(session: RemoteSession, namespace: string): Promise<string[]> {
  const zones: string[] = [];
  for await (const records of session.transfer(catalogName(namespace))) {
    for (const r of knownRecords(records)) if (r.type === 'PTR') zones.push(r.target);
  }
  return zones.sort();
}

/** Every route of `zone`, read by AXFR, in path order. */
async function zoneRoutes(session: RemoteSession, zone: string, namespace: string): Promise<Iterable<StoredRoute>> {
  const reader = new RemoteZoneReader(namespace, session.target.label);
  for await (const records of session.transfer(zone)) {
    for (const r of knownRecords(records)) reader.add(r);
  }
  return routesOf(reader.finish().filter((z) => z.name === zone));
}

async function routeList(cmd: Of<'route list'>, ctx: Context, session: RemoteSession): Promise<void> {
  const ns = ctx.config.namespace;
  const { zone, prefix } = listScope(cmd.scope, ns);
  if (zone !== undefined && (await readZoneSerial(session, zone)) === undefined) {
    throw notFound(`zone '${zone}' not found on server ${session.target.label}; 'psarn route list' shows all routes`);
  }
  const zones = zone === undefined ? await catalogZones(session, ns) : [zone];
  const out = ctx.io.stdout;
  let n = 0;
  if (cmd.json) out.write('[');
  for (const name of zones) {
    for (const route of await zoneRoutes(session, name, ns)) {
      // As the store's range: the prefix route itself and those below it.
      if (prefix !== undefined && prefix !== '' && route.path !== prefix && !route.path.startsWith(`${prefix}/`)) {
        continue;
      }
      if (cmd.json) out.write(`${n === 0 ? '\n' : ',\n'}  ${JSON.stringify(routeView(route, ns, undefined, true))}`);
      else out.write(formatRouteLine(route, ns));
      n++;
    }
  }
  if (cmd.json) out.write(n === 0 ? ']\n' : '\n]\n');
}

/** True when the argument names the catalog zone, `catalog.<namespace>`. */
function isCatalog(input: string, namespace: string): boolean {
  const name = input.toLowerCase();
  return (name.endsWith('.') ? name : `${name}.`) === catalogName(namespace);
}

/**
 * `zone export` from an AXFR: the head `zone export` writes, then the records in the order the
 * server sent them (psarnd sends export's order: src/zonefile/export.ts zoneRecords).
 */
async function zoneExport(cmd: Of<'zone export'>, ctx: Context, session: RemoteSession): Promise<void> {
  const ns = ctx.config.namespace;
  const catalog = isCatalog(cmd.zone, ns);
  const zone = catalog ? catalogName(ns) : zoneArg(cmd.zone, ns);
  if (!catalog && (await readZoneSerial(session, zone)) === undefined) {
    throw new CliError(
      'ERR_NOT_FOUND',
      `zone '${zone}' not found on server ${session.target.label}; 'psarn route list' shows the routes`,
    );
  }
  const server = session.target.label;
  const sink = outputSink(ctx, cmd.output);
  try {
    if (catalog) {
      // The head counts the members: the catalog is a few bytes a zone, read whole first.
      const records: DnsRecord[] = [];
      for await (const batch of session.transfer(zone)) records.push(...knownRecords(batch));
      const soa = soaOf(records[0], zone, server);
      const members = records.filter((r) => r.type === 'PTR').length;
      sink.write(
        [
          `; psarn catalog zone ${zone} serial ${soa.serial}: ${members} member zone${members === 1 ? '' : 's'} (RFC 9432 version 2)`,
          `$ORIGIN ${zone}`,
          `$TTL ${soa.ttl}`,
          '',
        ].join('\n'),
      );
      for (const r of records) sink.write(`${formatRecord(r)}\n`);
    } else {
      // Streamed: records are held only until the head is known (the SOA, then `_epoch`, which
      // psarnd sends third), so a 1M-route zone is never in memory whole.
      let pending: DnsRecord[] | undefined = [];
      const flushPending = (epoch: string) => {
        const soa = soaOf(pending![0], zone, server);
        sink.write(
          `${[
            `; psarn zone ${zone} serial ${soa.serial} epoch ${epoch}`,
            '; read it back with: psarn zone import <file>',
            `$ORIGIN ${zone}`,
            `$TTL ${soa.ttl}`,
          ].join('\n')}\n`,
        );
        for (const r of pending!) sink.write(`${formatRecord(r)}\n`);
        pending = undefined;
      };
      for await (const batch of session.transfer(zone)) {
        for (const r of knownRecords(batch)) {
          if (pending === undefined) {
            sink.write(`${formatRecord(r)}\n`);
            continue;
          }
          pending.push(r);
          if (r.type === 'TXT' && r.name === `_epoch.${zone}`) {
            flushPending(/^epoch=(\d+)$/.exec(r.strings.join(''))?.[1] ?? '0');
          }
        }
      }
      if (pending !== undefined) flushPending('0');
    }
    sink.commit();
  } catch (err) {
    sink.abort();
    throw err;
  }
}

/** The SOA a transfer starts with (RFC 5936 §2.2). */
function soaOf(record: DnsRecord | undefined, zone: string, server: string): DnsRecord & { type: 'SOA' } {
  if (record?.type !== 'SOA') throw new CliError('ERR_RUNTIME', `server ${server} sent no SOA for ${zone}`);
  return record;
}

/** Where `zone export` writes: stdout, or `output` through a temporary file renamed into place at `commit` (as the local `zone export -o`). */
interface Sink {
  write(chunk: string): void;
  commit(): void;
  /** Removes the temporary file. */
  abort(): void;
}

function outputSink(ctx: Context, output: string | undefined): Sink {
  if (output === undefined) return { write: (c) => ctx.io.stdout.write(c), commit() {}, abort() {} };
  const target = resolve(ctx.io.cwd, output);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const fail = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR' ? 'EISDIR (a folder; give a file path)' : (code ?? echo((err as Error).message, ECHO_LONG));
    return new CliError('ERR_RUNTIME', `cannot write ${quote(output, ECHO_LONG)}: ${why}`, { cause: err });
  };
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw fail(err);
  }
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    write(chunk) {
      try {
        writeSync(fd!, chunk);
      } catch (err) {
        throw fail(err);
      }
    },
    commit() {
      try {
        close();
        renameSync(tmp, target);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw fail(err);
      }
    },
    abort() {
      close();
      rmSync(tmp, { force: true });
    },
  };
}

/** The rcodes that say a prerequisite failed (RFC 2136 §3.2): the server's data is not what was read. */
const PREREQUISITE_FAILED: ReadonlySet<number> = new Set([
  Rcode.NXDOMAIN,
  Rcode.YXDOMAIN,
  Rcode.YXRRSET,
  Rcode.NXRRSET,
]);

/**
 * Sends one UPDATE and checks its answer.
 * @throws CliError "… changed on the server meanwhile" when a prerequisite failed; the refusal otherwise
 */
async function sendUpdate(session: RemoteSession, update: UpdateMessage, what: string): Promise<void> {
  const reply: RemoteReply = await session.exchange(encodeUpdate(update));
  const rcode = reply.message.rcode;
  if (rcode === Rcode.NOERROR) return;
  if (PREREQUISITE_FAILED.has(rcode)) {
    throw new CliError('ERR_RUNTIME', `${what} changed on the server meanwhile; run the command again`);
  }
  const ede = edeOf(reply.message);
  // REFUSED with EDE 0 (Other): psarnd refused the route the UPDATE makes (an alias loop, a
  // chain over 8, an alias to no route, a route too big: docs/design.md#dns-update), which the
  // local command refuses as a usage error (exit 2, nothing written) before it commits.
  if (rcode === Rcode.REFUSED && ede?.code === 0 && ede.text !== '') {
    throw usageError(`server ${session.target.label} refused ${what}: ${ede.text}`);
  }
  throw session.refused(reply, `the UPDATE of ${what}`);
}

/** A route write: read, build with the plan's `make` (the local command's), send, print old → new. */
async function write(
  ctx: Context,
  session: RemoteSession,
  options: SessionOptions,
  plan: Omit<WritePlan, 'make'> & { make: (before: StoredRoute | undefined) => ReturnType<WritePlan['make']> | null },
): Promise<void> {
  const { at } = plan;
  const ns = ctx.config.namespace;
  const read: RemoteRouteRead = await readRoute(session, at, ns);
  const before = read.route;
  const spec = plan.make(before);
  if (spec === null && before === undefined) {
    throw notFound(
      `route '${at.text}' not found on server ${session.target.label}; nothing deleted ('psarn route list' shows the routes)`,
    );
  }
  const after = spec === null ? undefined : afterRoute(before, at, spec);
  const change = { zone: at.zone, path: at.path, ...(before === undefined ? {} : { before }) };
  if (before !== undefined && after !== undefined && routeDiff(before, after, ns).length === 0) {
    printChange(ctx, { ...change, after: before, changed: false, serial: read.serial, zoneCreated: false });
    return;
  }
  await options.afterRead?.();
  await sendUpdate(session, routeUpdate(read, after, session.id()), `route '${at.text}'`);
  const serial = (await readZoneSerial(session, at.zone)) ?? read.serial;
  printChange(ctx, {
    ...change,
    ...(after === undefined ? {} : { after }),
    changed: true,
    serial,
    zoneCreated: !read.zoneExists,
  });
}

/** `flush` as an UPDATE deleting `_epoch.<zone>` TXT (docs/design.md#remote-cli), the epoch pinned as read. */
async function flush(cmd: Of<'flush'>, ctx: Context, session: RemoteSession): Promise<void> {
  const zone = zoneArg(cmd.scope, ctx.config.namespace);
  if ((await readZoneSerial(session, zone)) === undefined) {
    throw new CliError('ERR_NOT_FOUND', `zone '${zone}' not found on server ${session.target.label}; nothing flushed`);
  }
  const before = await readEpoch(session, zone);
  const name = `_epoch.${zone}`;
  await sendUpdate(
    session,
    {
      id: session.id(),
      zone,
      prerequisites: pin(before.records, name, Type.TXT),
      updates: [deleteRRset(name, Type.TXT)],
    },
    `the epoch of ${zone}`,
  );
  const [serial, after] = await Promise.all([readZoneSerial(session, zone), readEpoch(session, zone)]);
  ctx.io.stdout.write(flushMessage(zone, before.epoch, after.epoch, serial ?? 0));
}
