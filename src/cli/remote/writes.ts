/**
 * The remote writes (docs/cli.md#remote, docs/design.md#remote-cli): read the route with queries,
 * build the new one with the local command's plan, send one signed UPDATE whose prerequisites pin
 * what was read, print what the local command prints. `flush` deletes `_epoch.<zone>` TXT.
 */
import type { StoredRoute } from '../../store/types.js';
import { Rcode, Type } from '../../wire/types.js';
import { deleteRRset, encodeUpdate, type UpdateMessage } from '../../wire/update.js';
import type { Command } from '../args.js';
import { flushMessage } from '../commands/admin.js';
import { notFound } from '../commands/route.js';
import { printChange, type WritePlan } from '../commands/route-write.js';
import { zoneArg } from '../commands/zone.js';
import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { routeDiff } from '../format.js';
import { type RemoteRouteRead, readEpoch, readRoute, readZoneSerial } from './route-read.js';
import { afterRoute, pin, routeUpdate } from './route-update.js';
import { edeOf, type RemoteReply, type RemoteSession, type SessionOptions } from './session.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

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
export async function sendUpdate(session: RemoteSession, update: UpdateMessage, what: string): Promise<void> {
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
export async function write(
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
export async function flush(cmd: Of<'flush'>, ctx: Context, session: RemoteSession): Promise<void> {
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
