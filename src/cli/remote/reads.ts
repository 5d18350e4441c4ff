/**
 * The remote reads (docs/cli.md#remote): `route get` by signed queries (route-read.ts), `route
 * list` and `zone export` by signed AXFR, `route list` without a zone through the catalog zone
 * (RFC 9432). Output as the local commands' (src/cli/commands/route.ts, zone.ts).
 */
import type { StoredRoute } from '../../store/types.js';
import type { DnsRecord } from '../../wire/types.js';
import { catalogName } from '../../zone/catalog.js';
import { formatRecord } from '../../zonefile/presentation.js';
import type { Command } from '../args.js';
import { listScope, locate, notFound } from '../commands/route.js';
import { zoneArg } from '../commands/zone.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { formatRouteBlock, formatRouteLine, routeView } from '../format.js';
import { outputSink } from './output.js';
import { epochOfTxt, knownRecords, RemoteZoneReader, routesOf } from './records.js';
import { readRoute, readZoneSerial } from './route-read.js';
import type { RemoteSession } from './session.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

export async function routeGet(cmd: Of<'route get'>, ctx: Context, session: RemoteSession): Promise<void> {
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
export async function catalogZones(session: RemoteSession, namespace: string): Promise<string[]> {
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

export async function routeList(cmd: Of<'route list'>, ctx: Context, session: RemoteSession): Promise<void> {
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
export function isCatalog(input: string, namespace: string): boolean {
  const name = input.toLowerCase();
  return (name.endsWith('.') ? name : `${name}.`) === catalogName(namespace);
}

/**
 * `zone export` from an AXFR: the head `zone export` writes, then the records in the order the
 * server sent them (psarnd sends export's order: src/zonefile/export.ts zoneRecords).
 */
export async function zoneExport(cmd: Of<'zone export'>, ctx: Context, session: RemoteSession): Promise<void> {
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
            flushPending(String(epochOfTxt(r.strings) ?? 0));
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
