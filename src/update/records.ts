/**
 * The zone as DNS UPDATE sees it (docs/design.md#dns-update): the RRsets at each name of the
 * route model, built from the store's zone row and routes with the same record makers `zone
 * export` and transfers use, so a prerequisite compares against what dig and AXFR show.
 *
 * Names of a zone, by place:
 * - the apex: SOA and NS;
 * - `_epoch.<zone>`: TXT "epoch=<n>";
 * - a route's name: its URI RRset and TXT, or its CNAME;
 * - `_meta.<route name>`: the route's metadata, one TXT per entry;
 * - any other name holds nothing (an empty non-terminal above routes holds no RR either).
 */
import { labelsToPath, routeName } from '../psarn/name.js';
import { EPOCH_LABEL } from '../psarn/txt.js';
import type { RouteContent, ZoneRow } from '../store/types.js';
import { escapeLabel } from '../wire/name.js';
import type { DnsRecord } from '../wire/types.js';
import { Type } from '../wire/types.js';
import { recordRdata, txtRdata, txtStrings } from '../wire/update.js';
import { epochRecord, nsRecords, soaRecord } from '../zone/records.js';
import { routeRecords } from '../zonefile/export.js';
import { META_LABEL } from '../zonefile/meta.js';

/** Where a name sits in a zone's route model. */
export type Place =
  | { kind: 'apex' }
  | { kind: 'epoch' }
  | { kind: 'route'; path: string }
  | { kind: 'meta'; path: string }
  /** Outside the psARN grammar: no route can live there. */
  | { kind: 'other' };

/** True when `labels` (lowercase, leftmost first) are `zone`'s or below them. */
export function inZone(labels: readonly string[], zone: readonly string[]): boolean {
  const offset = labels.length - zone.length;
  if (offset < 0) return false;
  for (let i = 0; i < zone.length; i++) if (labels[offset + i] !== zone[i]) return false;
  return true;
}

/** The place of a name inside a zone of `zoneLabelCount` labels (inZone already checked). */
export function placeOf(labels: readonly string[], zoneLabelCount: number): Place {
  const relative = labels.slice(0, labels.length - zoneLabelCount);
  if (relative.length === 0) return { kind: 'apex' };
  if (relative.length === 1 && relative[0] === EPOCH_LABEL) return { kind: 'epoch' };
  const meta = relative[0] === META_LABEL;
  const path = labelsToPath(meta ? relative.slice(1) : relative);
  if (path === undefined) return { kind: 'other' };
  return { kind: meta ? 'meta' : 'route', path: path.join('/') };
}

/** One RRset: its TTL and its RRs by comparison key (rdataKey), each with its canonical rdata. */
export interface RRset {
  ttl: number;
  rrs: Map<string, Buffer>;
}

/** The RRsets at one name, by type. */
export type NameRecords = Map<number, RRset>;

/**
 * The key two RRs of one RRset are compared by (RFC 2136 §1.1.1: equal rdata, TTL ignored): the
 * canonical rdata, except two TXTs of the route model that psarn reads by meaning —
 * - at a route's name the `epoch=` string is left out: it is not route data (docs/design.md#the-epoch-override),
 *   it moves with every flush, and a route TXT that carries another epoch is the same policy;
 * - at `_meta.<route>` the strings are joined: the KEY=VALUE text is the entry, however split.
 */
export function rdataKey(place: Place, type: number, rdata: Buffer): string {
  if (type === Type.TXT && rdata.length > 0) {
    if (place.kind === 'route') {
      const kept = txtStrings(rdata).filter((s) => !s.toString('latin1').startsWith('epoch='));
      return kept.length === 0 ? '' : txtRdata(kept).toString('latin1');
    }
    if (place.kind === 'meta') return Buffer.concat(txtStrings(rdata)).toString('latin1');
  }
  return rdata.toString('latin1');
}

/** What a prerequisite or an edit reads: the zone (undefined until its first route) and its routes. */
export interface ZoneReader {
  zone: ZoneRow | undefined;
  route(path: string): RouteContent | undefined;
  /** TTL of the `_epoch` TXT (config epochTtl). */
  epochTtl: number;
}

/** The records at `name` (at `place`) as the zone holds them now. */
export function recordsAt(name: string, place: Place, reader: ZoneReader): DnsRecord[] {
  const zone = reader.zone;
  if (zone === undefined) return [];
  switch (place.kind) {
    case 'apex':
      return [soaRecord(zone), ...nsRecords(zone)];
    case 'epoch':
      return [epochRecord(zone, reader.epochTtl)];
    case 'route':
    case 'meta': {
      const route = reader.route(place.path);
      return route === undefined ? [] : routeRecordsAt(zone, route, name);
    }
    default:
      return [];
  }
}

/** The records of `route` owned by `name` (its own name, or its `_meta` name). */
export function routeRecordsAt(zone: Pick<ZoneRow, 'name' | 'epoch'>, route: RouteContent, name: string): DnsRecord[] {
  return routeRecords(zone, route).filter((r) => r.name === name);
}

/** Records grouped into RRsets, each RR under its comparison key. */
export function nameRecords(place: Place, records: readonly DnsRecord[]): NameRecords {
  const out: NameRecords = new Map();
  for (const record of records) {
    const type = Type[record.type];
    const rdata = recordRdata(record);
    let set = out.get(type);
    if (set === undefined) {
      set = { ttl: record.ttl, rrs: new Map() };
      out.set(type, set);
    }
    set.rrs.set(rdataKey(place, type, rdata), rdata);
  }
  return out;
}

/** A route's records and those of its `_meta` name, from the route as stored (none when absent). */
export function routeNameRecords(
  zone: string,
  path: string,
  route: RouteContent | undefined,
): { name: string; records: NameRecords; metaName: string; meta: NameRecords } {
  const name = routeName(zone, path);
  const metaName = `${META_LABEL}.${name}`;
  const all = route === undefined ? [] : routeRecords({ name: zone, epoch: 0 }, route);
  return {
    name,
    records: nameRecords(
      { kind: 'route', path },
      all.filter((r) => r.name === name),
    ),
    metaName,
    meta: nameRecords(
      { kind: 'meta', path },
      all.filter((r) => r.name === metaName),
    ),
  };
}

/** A name in canonical wire form (uncompressed, as parseUpdate leaves rdata names) in presentation form. */
export function wireName(wire: Uint8Array): string {
  let out = '';
  let p = 0;
  while (p < wire.length && wire[p] !== 0) {
    const len = wire[p]!;
    out += `${escapeLabel(Buffer.from(wire.subarray(p + 1, p + 1 + len)).toString('latin1'))}.`;
    p += 1 + len;
  }
  return out || '.';
}
