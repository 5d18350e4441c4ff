/**
 * The records a zone serves, derived from stored rows (docs/design.md#records-at-a-routes-name and #the-epoch-override). The answer path and
 * `zone export` both build records here, so what dig shows and what a file holds agree.
 */
import { EPOCH_LABEL, epochString, routeTxtStrings } from '../psarn/txt.js';
import type { RouteData, ZoneRow } from '../store/types.js';

import type { CnameRecord, NsRecord, SoaRecord, TxtRecord, UriRecord } from '../wire/types.js';

export function soaRecord(zone: ZoneRow): SoaRecord {
  return {
    name: zone.name,
    ttl: zone.soaTtl,
    type: 'SOA',
    mname: zone.mname,
    rname: zone.rname,
    serial: zone.serial,
    refresh: zone.refresh,
    retry: zone.retry,
    expire: zone.expire,
    minimum: zone.minimum,
  };
}

/** The SOA as it goes in the authority section of a negative answer: TTL min(SOA TTL, MINIMUM), RFC 2308 §3. */
export function negativeSoaRecord(zone: ZoneRow): SoaRecord {
  const soa = soaRecord(zone);
  soa.ttl = Math.min(zone.soaTtl, zone.minimum);
  return soa;
}

export function nsRecords(zone: ZoneRow): NsRecord[] {
  return zone.nameservers.map((target) => ({ name: zone.name, ttl: zone.nsTtl, type: 'NS', target }));
}

/** `_epoch.<zone> TXT "epoch=<n>"`, with the short TTL that bounds the override (docs/design.md#the-epoch-override). */
export function epochRecord(zone: ZoneRow, epochTtl: number): TxtRecord {
  return { name: `${EPOCH_LABEL}.${zone.name}`, ttl: epochTtl, type: 'TXT', strings: [epochString(zone.epoch)] };
}

/** The URI RRset of a target route, in stored order. */
export function uriRecords(name: string, route: RouteData): UriRecord[] {
  return route.targets.map((t) => ({
    name,
    ttl: route.ttl,
    type: 'URI',
    priority: t.priority,
    weight: t.weight,
    target: t.target,
  }));
}

export function routeTxtRecord(name: string, route: RouteData, epoch: number): TxtRecord {
  return {
    name,
    ttl: route.ttl,
    type: 'TXT',
    strings: routeTxtStrings(route.policy ?? 'weighted', epoch),
  };
}

export function cnameRecord(name: string, route: RouteData): CnameRecord {
  return { name, ttl: route.ttl, type: 'CNAME', target: route.alias ?? '.' };
}
