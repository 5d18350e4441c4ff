/**
 * Turns master-file records into zone contents for Store.importZones (DESIGN.md §6): URI, TXT
 * and CNAME make routes (no TXT: weighted; URI TTL: the smallest of the set), SOA and NS at an
 * apex set the zone's parameters, `_epoch` TXT sets the epoch, anything else is an error naming
 * its line. Records of several zones may share a file.
 */

import { echo } from '../errors.js';
import { labelsToPath, nameToPsarn, normalizeNamespace, parseZoneName, validateTarget } from '../psarn/index.js';
import { EPOCH_LABEL, parseRouteTxt, type RouteTxt, TXT_VERSION } from '../psarn/txt.js';
import type { Policy, TargetSpec, ZoneContent, ZoneParams } from '../store/types.js';
import type { DnsRecord, TxtRecord } from '../wire/types.js';
import { ZoneFileError } from './errors.js';
import type { ParsedLine } from './parse.js';

/** DESIGN.md §3: a route's TTL is 0..172800 seconds. */
export const MAX_ROUTE_TTL = 172800;

interface RouteAcc {
  path: string;
  name: string;
  targets: TargetSpec[];
  uriTtl: number;
  uriLine: number;
  txt?: { policy: Policy; line: number };
  cname?: { alias: string; ttl: number; line: number };
}

interface ZoneAcc {
  name: string;
  params?: Partial<ZoneParams>;
  serial?: number;
  epoch?: number;
  soaLine: number;
  routes: Map<string, RouteAcc>;
}

/** Where an owner name sits: the apex, `_epoch`, or a route (records of one name come in runs). */
interface Place {
  owner: string;
  name: string;
  zone: ZoneAcc;
  route?: RouteAcc;
  epoch?: true;
}

/** Where a record came from, for errors. */
interface At {
  line: number;
  file: string | undefined;
}

function fail(at: At, message: string): never {
  throw new ZoneFileError(message, at.line, at.file);
}

/** @throws ZoneFileError naming the line (a name outside the namespace, a bad TXT, a CNAME beside other data, ...). */
export function buildZones(lines: ParsedLine[], namespace: string, file?: string): ZoneContent[] {
  const ns = normalizeNamespace(namespace);
  const zones = new Map<string, ZoneAcc>();
  let place: Place | undefined;
  const at: At = { line: 0, file };

  for (const { record, otherType, owner, line } of lines) {
    at.line = line;
    if (place?.owner !== owner) place = locate(owner, ns, zones, at);
    if (record === undefined) {
      fail(
        at,
        `type ${echo(otherType!)} is not supported at ${place.name}; psarn zones hold only SOA, NS, URI, TXT and CNAME`,
      );
    }
    if (place.route) addRouteRecord(place.zone, place.route, record, ns, at);
    else if (place.epoch) {
      if (record.type !== 'TXT') fail(at, `${place.name} holds only the epoch TXT; remove the ${record.type} record`);
      if (place.zone.epoch !== undefined) fail(at, `second TXT at ${place.name}; the epoch is one "epoch=<n>" record`);
      place.zone.epoch = epochOf(record, at);
    } else addApexRecord(place.zone, record, at);
  }

  return [...zones.values()].map((zone) => finishZone(zone, file));
}

function locate(owner: string, ns: string, zones: Map<string, ZoneAcc>, at: At): Place {
  const name = owner.toLowerCase();
  const suffix = `.${ns}`;
  if (!name.endsWith(suffix)) fail(at, `${name} is outside the namespace ${ns}; psarn serves only names under it`);
  const labels = name.slice(0, -suffix.length).split('.');
  if (labels.length < 3) fail(at, `${name} is above every zone; a zone is ACCOUNT.REGION.PARTITION.${ns}`);
  const apex = `${labels.slice(-3).join('.')}${suffix}`;
  let zone = zones.get(apex);
  if (zone === undefined) {
    try {
      parseZoneName(apex, ns);
    } catch (err) {
      fail(at, `${name} is in no valid zone: ${(err as Error).message}`);
    }
    zone = { name: apex, soaLine: 0, routes: new Map() };
    zones.set(apex, zone);
  }
  const rel = labels.slice(0, -3);
  if (rel.length === 0) return { owner, name, zone };
  if (rel.length === 1 && rel[0] === EPOCH_LABEL) return { owner, name, zone, epoch: true };
  const segments = labelsToPath(rel);
  if (segments === undefined) {
    fail(at, `${name} is not a route name: labels must be 1..8 psARN segments (letters, digits, - or _)`);
  }
  const path = segments.join('/');
  let route = zone.routes.get(path);
  if (route === undefined) {
    route = { path, name, targets: [], uriTtl: 0, uriLine: 0 };
    zone.routes.set(path, route);
  }
  return { owner, name, zone, route };
}

function addApexRecord(zone: ZoneAcc, rec: DnsRecord, at: At): void {
  if (rec.type === 'SOA') {
    // RFC 1035 §5.2: exactly one SOA per zone.
    if (zone.serial !== undefined) fail(at, `second SOA for ${zone.name} (first on line ${zone.soaLine}); keep one`);
    zone.soaLine = at.line;
    zone.serial = rec.serial;
    zone.params = {
      ...zone.params,
      soaTtl: rec.ttl,
      mname: rec.mname,
      rname: rec.rname,
      refresh: rec.refresh,
      retry: rec.retry,
      expire: rec.expire,
      minimum: rec.minimum,
    };
    return;
  }
  if (rec.type === 'NS') {
    zone.params ??= {};
    const params = zone.params;
    params.nameservers ??= [];
    if (!params.nameservers.includes(rec.target)) params.nameservers.push(rec.target);
    // RFC 2181 §5.2: one TTL per RRset; take the smallest, as for URI.
    params.nsTtl = params.nsTtl === undefined ? rec.ttl : Math.min(params.nsTtl, rec.ttl);
    return;
  }
  fail(at, `the apex ${zone.name} holds only SOA and NS; put the ${rec.type} record at a route name below it`);
}

function epochOf(rec: TxtRecord, at: At): number {
  let epoch: number | undefined;
  try {
    epoch = parseRouteTxt(rec.strings).epoch;
  } catch (err) {
    fail(at, (err as Error).message);
  }
  if (epoch === undefined) fail(at, `${rec.name} TXT must be "epoch=<n>"`);
  return epoch;
}

function addRouteRecord(zone: ZoneAcc, route: RouteAcc, rec: DnsRecord, ns: string, at: At): void {
  const name = route.name;
  if (rec.type === 'SOA' || rec.type === 'NS') {
    fail(at, `${rec.type} at ${name}: psarn zones have no delegations or sub-zones; SOA and NS belong at ${zone.name}`);
  }
  if (rec.ttl > MAX_ROUTE_TTL) fail(at, `TTL ${rec.ttl} at ${name} is over ${MAX_ROUTE_TTL} (48 h), the route maximum`);
  if (rec.type === 'URI') {
    if (rec.priority > 65535 || rec.weight > 65535 || rec.priority < 0 || rec.weight < 0) {
      fail(at, `URI at ${name}: priority and weight must be 0..65535`);
    }
    // An RRset is a set (RFC 2181 §5): an exact duplicate is dropped. Sets are small (one DNS message).
    for (const t of route.targets) {
      if (t.target === rec.target && t.weight === rec.weight && t.priority === rec.priority) return;
    }
    try {
      validateTarget(rec.target);
    } catch (err) {
      fail(at, `URI at ${name}: ${(err as Error).message}`);
    }
    route.targets.push({ target: rec.target, weight: rec.weight, priority: rec.priority });
    if (route.targets.length === 1) {
      route.uriTtl = rec.ttl;
      route.uriLine = at.line;
    } else route.uriTtl = Math.min(route.uriTtl, rec.ttl);
    return;
  }
  if (rec.type === 'TXT') {
    if (route.txt) fail(at, `second TXT at ${name} (first on line ${route.txt.line}); a route has one TXT`);
    let txt: RouteTxt | undefined;
    try {
      txt = parseRouteTxt(rec.strings);
    } catch (err) {
      fail(at, `TXT at ${name}: ${(err as Error).message}`);
    }
    if (`v=${txt.version}` !== TXT_VERSION) fail(at, `TXT at ${name} must start with "${TXT_VERSION}"`);
    // The TXT's epoch is the one it was answered under; the zone's epoch comes from `_epoch`.
    route.txt = { policy: txt.policy ?? 'weighted', line: at.line };
    return;
  }
  if (route.cname) fail(at, `second CNAME at ${name} (first on line ${route.cname.line}); an alias has one target`);
  try {
    nameToPsarn(rec.target, ns);
  } catch (err) {
    fail(at, `CNAME at ${name}: the target must be a psARN name: ${(err as Error).message}`);
  }
  route.cname = { alias: rec.target, ttl: rec.ttl, line: at.line };
}

/** Checks what needs the whole file (RFC 1034 §3.6.2: a CNAME stands alone) and builds the specs. */
function finishZone(zone: ZoneAcc, file: string | undefined): ZoneContent {
  const routes: ZoneContent['routes'] = [];
  for (const r of zone.routes.values()) {
    if (r.cname) {
      const other = r.targets.length > 0 ? r.uriLine : r.txt?.line;
      if (other !== undefined) {
        throw new ZoneFileError(
          `CNAME at ${r.name} beside other data (line ${other}); an alias holds nothing else (RFC 1034 §3.6.2)`,
          r.cname.line,
          file,
        );
      }
      routes.push({ path: r.path, spec: { ttl: r.cname.ttl, alias: r.cname.alias } });
      continue;
    }
    if (r.targets.length === 0) {
      throw new ZoneFileError(`TXT at ${r.name} has no URI records; add the route's targets as URI`, r.txt!.line, file);
    }
    routes.push({ path: r.path, spec: { policy: r.txt?.policy ?? 'weighted', ttl: r.uriTtl, targets: r.targets } });
  }
  const out: ZoneContent = { name: zone.name, routes };
  if (zone.params !== undefined) out.params = zone.params;
  if (zone.serial !== undefined) out.serial = zone.serial;
  if (zone.epoch !== undefined) out.epoch = zone.epoch;
  return out;
}
