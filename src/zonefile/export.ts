/**
 * `psarn zone export`: a zone as an RFC 1035 master file that named-checkzone and kzonecheck
 * accept, and that `zone import` reads back to the same zone (export -> import is the identity).
 * Layout: $ORIGIN and $TTL, SOA, NS, `_epoch` TXT, then each route (URI RRset + TXT, or CNAME,
 * then its metadata as TXT at `_meta.<name>`, meta.ts) in the order given, owners absolute
 * (unambiguous, and a line can be grepped on its own).
 */
import { routeName } from '../psarn/name.js';
import type { RouteContent, StoredRoute, ZoneRow } from '../store/types.js';
import type { DnsRecord } from '../wire/types.js';
import type { CatalogZone } from '../zone/catalog.js';
import { cnameRecord, epochRecord, nsRecords, routeTxtRecord, soaRecord, uriRecords } from '../zone/records.js';
import { ZoneFileError } from './errors.js';
import { metaRecords } from './meta.js';
import { formatRecord } from './presentation.js';

export interface ExportOptions {
  /** TTL of the `_epoch` TXT (config epochTtl). */
  epochTtl: number;
}

/** Records per yielded chunk: big enough to keep writes few, small enough to stream. */
const CHUNK_RECORDS = 512;

/**
 * Writes the file text chunk by chunk (so 1M routes need not sit in one string): the records of
 * zoneRecords, one per line.
 * @example for (const chunk of exportZone(zone, store.routes(zone.name), { epochTtl: 5 })) out.write(chunk);
 * @throws ZoneFileError for a stored route with neither targets nor alias (nothing to write), or
 *   with a metadata entry too long for one TXT record
 */
export function* exportZone(zone: ZoneRow, routes: Iterable<StoredRoute>, options: ExportOptions): Generator<string> {
  const head = [
    `; psarn zone ${zone.name} serial ${zone.serial} epoch ${zone.epoch}`,
    '; read it back with: psarn zone import <file>',
    `$ORIGIN ${zone.name}`,
    // Every record carries its TTL; $TTL only keeps checkers from warning about its absence.
    `$TTL ${zone.soaTtl}`,
  ];
  let chunk = `${head.join('\n')}\n`;
  let count = 0;
  for (const record of zoneRecords(zone, routes, options)) {
    chunk += `${formatRecord(record)}\n`;
    if (++count % CHUNK_RECORDS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/**
 * Every record of a zone, in the export's order: SOA, NS, the `_epoch` TXT, then each route's
 * records (routeRecords). `zone export` writes them, and a zone transfer sends them
 * (src/zone/transfer.ts, docs/design.md#transfers), so a file and an AXFR hold the same records.
 * @throws ZoneFileError as exportZone
 */
export function* zoneRecords(
  zone: ZoneRow,
  routes: Iterable<RouteContent>,
  options: ExportOptions,
): Generator<DnsRecord> {
  yield soaRecord(zone);
  yield* nsRecords(zone);
  yield epochRecord(zone, options.epochTtl);
  for (const route of routes) yield* routeRecords(zone, route);
}

/** The part of a route its records are made of: a StoredRoute, or one as the journal keeps it. */
export type RouteRecordSource = RouteContent;

/**
 * One route's records: its URI RRset and TXT (under the zone's epoch), or its CNAME, then its
 * metadata as TXT at `_meta.<name>` (meta.ts).
 * @throws ZoneFileError for a route with neither targets nor alias, or with a metadata entry too long for one TXT record
 */
export function routeRecords(zone: Pick<ZoneRow, 'name' | 'epoch'>, route: RouteRecordSource): DnsRecord[] {
  const name = routeName(zone.name, route.path);
  let records: DnsRecord[];
  if (route.alias !== undefined) {
    records = [cnameRecord(name, route)];
  } else if (route.targets.length > 0) {
    records = uriRecords(name, route);
    records.push(routeTxtRecord(name, route, zone.epoch));
  } else {
    throw new ZoneFileError(`route ${route.path} of ${zone.name} has neither targets nor an alias; fix or delete it`);
  }
  // Most routes have no metadata: one property check, no records.
  if (hasEntries(route.metadata)) {
    try {
      records.push(...metaRecords(name, route.ttl, route.metadata));
    } catch (err) {
      throw new ZoneFileError(`route ${route.path} of ${zone.name}: ${(err as Error).message}`, 0, undefined, {
        cause: err,
      });
    }
  }
  return records;
}

/**
 * The catalog zone (docs/design.md#catalog-zone) as a master file: its records as AXFR sends
 * them (`CatalogZone.records`), SOA first. For secondaries and checkers; `zone import` does not
 * take it back (the catalog is derived from the zones, never written).
 * @example for (const chunk of exportCatalog(catalog)) out.write(chunk);
 */
export function* exportCatalog(catalog: CatalogZone): Generator<string> {
  const soa = catalog.soa();
  yield [
    `; psarn catalog zone ${catalog.name} serial ${catalog.serial}: ${catalog.size} member zone${catalog.size === 1 ? '' : 's'} (RFC 9432 version 2)`,
    `$ORIGIN ${catalog.name}`,
    `$TTL ${soa.ttl}`,
    '',
  ].join('\n');
  let chunk = '';
  let count = 0;
  for (const record of catalog.records()) {
    chunk += `${formatRecord(record)}\n`;
    if (++count % CHUNK_RECORDS === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

function hasEntries(metadata: Record<string, string> | undefined): boolean {
  for (const _ in metadata) return true;
  return false;
}
