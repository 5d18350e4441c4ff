/**
 * The records a zone serves, derived from stored rows (DESIGN.md §3, §4). The answer path and
 * `zone export` both build records here, so what dig shows and what a file holds agree.
 */
import type { Policy, StoredRoute, ZoneRow } from '../store/types.js';
import type { CnameRecord, NsRecord, SoaRecord, TxtRecord, UriRecord } from '../wire/types.js';

/** First character-string of every route TXT. */
export const TXT_VERSION = 'v=psarn1';
/** Label of the epoch record under each zone apex. */
export const EPOCH_LABEL = '_epoch';

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

/** `_epoch.<zone> TXT "epoch=<n>"`, with the short TTL that bounds the override (DESIGN.md §4). */
export function epochRecord(zone: ZoneRow, epochTtl: number): TxtRecord {
  return { name: `${EPOCH_LABEL}.${zone.name}`, ttl: epochTtl, type: 'TXT', strings: [`epoch=${zone.epoch}`] };
}

export function routeName(zone: ZoneRow | string, path: string): string {
  const apex = typeof zone === 'string' ? zone : zone.name;
  return `${path.split('/').reverse().join('.')}.${apex}`;
}

/** The URI RRset of a target route, in stored order. */
export function uriRecords(name: string, route: StoredRoute): UriRecord[] {
  return route.targets.map((t) => ({
    name,
    ttl: route.ttl,
    type: 'URI',
    priority: t.priority,
    weight: t.weight,
    target: t.target,
  }));
}

export function routeTxtRecord(name: string, route: StoredRoute, epoch: number): TxtRecord {
  return {
    name,
    ttl: route.ttl,
    type: 'TXT',
    strings: [TXT_VERSION, `policy=${route.policy ?? 'weighted'}`, `epoch=${epoch}`],
  };
}

export function cnameRecord(name: string, route: StoredRoute): CnameRecord {
  return { name, ttl: route.ttl, type: 'CNAME', target: route.alias ?? '.' };
}

/** What a route TXT says; undefined fields were absent. Unknown `key=value` strings are ignored. */
export interface RouteTxt {
  version?: string;
  policy?: Policy;
  epoch?: number;
}

/**
 * Reads a route TXT (`"v=psarn1" "policy=weighted" "epoch=3"`) or an `_epoch` TXT.
 * @throws Error naming the string when a known key has a bad value.
 */
export function parseRouteTxt(strings: readonly string[]): RouteTxt {
  const out: RouteTxt = {};
  for (const s of strings) {
    const eq = s.indexOf('=');
    if (eq < 0) continue;
    const key = s.slice(0, eq);
    const value = s.slice(eq + 1);
    if (key === 'v') out.version = value;
    else if (key === 'policy') {
      if (value !== 'weighted' && value !== 'fanout') {
        throw new Error(`TXT string '${s}': policy must be weighted or fanout`);
      }
      out.policy = value;
    } else if (key === 'epoch') {
      if (!/^\d{1,15}$/.test(value)) throw new Error(`TXT string '${s}': epoch must be a non-negative integer`);
      out.epoch = Number(value);
    }
  }
  return out;
}
