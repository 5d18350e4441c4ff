/**
 * What a DNS UPDATE means for the routes (RFC 2136 §3, docs/design.md#dns-update). Three steps,
 * in the RFC's order:
 * 1. `planUpdate`, before the store is touched: the zone section (§3.1), the form of every
 *    prerequisite (§3.2) and the prescan of the update section (§3.4.1), then each update RR's
 *    place in the route model (a route's name, its `_meta` name, `_epoch`, or a refusal);
 * 2. `checkPrerequisites`, inside the store's write transaction: §3.2 on the zone as it is;
 * 3. `routeEdit`, per route the message touches, inside the same transaction: the route's records
 *    (route → records), the §3.4.2 operations on them, and the route they make (records → route),
 *    or a refusal when they make none.
 * Every failure is an UpdateError thrown inside the transaction: nothing of the message is applied.
 */
import { parseZoneName } from '../psarn/name.js';
import { parseRouteTxt, TXT_VERSION } from '../psarn/txt.js';
import type { RouteSpec, StoredRoute } from '../store/types.js';
import { MAX_TTL } from '../store/validate.js';
import { typeName } from '../wire/mnemonics.js';
import { Ede } from '../wire/response.js';
import { Class, Rcode, Type } from '../wire/types.js';
import type { ParsedUpdate, UpdateRecord } from '../wire/update.js';
import { txtStrings } from '../wire/update.js';
import { metaEntry } from '../zonefile/meta.js';
import { UpdateError } from './errors.js';
import {
  inZone,
  type NameRecords,
  nameRecords,
  type Place,
  placeOf,
  rdataKey,
  recordsAt,
  routeNameRecords,
  wireName,
  type ZoneReader,
} from './records.js';

/** An update or prerequisite RR with its place in the zone. */
export interface PlacedRecord {
  rr: UpdateRecord;
  place: Place;
}

export interface UpdatePlan {
  /** The zone (ZNAME), lowercase, trailing dot. */
  zone: string;
  prerequisites: PlacedRecord[];
  /** The update RRs at each route's name or its `_meta` name, by route path, in message order. */
  routes: Map<string, PlacedRecord[]>;
  /** The message deletes the TXT RRset at `_epoch.<zone>`: bump the epoch, as `psarn flush`. */
  flush: boolean;
  /** The first update RR outside the route model: refused once the prerequisites held (§3.2 comes first). */
  refusal: UpdateError | undefined;
}

/** Types no RR of a zone has (RFC 2136 §3.4.1.3): meta-queries. */
const META_TYPES = new Set<number>([Type.AXFR, Type.IXFR, Type.MAILA, Type.MAILB]);
/** The types at a route's name (docs/design.md#records-at-a-routes-name). */
const ROUTE_TYPES = new Set<number>([Type.URI, Type.TXT, Type.CNAME]);

const formerr = (rr: UpdateRecord, why: string): UpdateError =>
  new UpdateError(Rcode.FORMERR, `${rr.name} ${typeName(rr.type)}: ${why}`);

/**
 * Step 1: the checks that need no store read.
 * @throws UpdateError FORMERR, NOTAUTH (with EDE 20) or NOTZONE
 */
export function planUpdate(update: ParsedUpdate, namespace: string): UpdatePlan {
  // RFC 2136 §3.1.1: the zone section names the zone by its SOA.
  if (update.qtype !== Type.SOA) {
    throw new UpdateError(Rcode.FORMERR, `the zone section's type is ${typeName(update.qtype)}, not SOA`);
  }
  const zone = update.zone;
  // §3.1.2: a zone we are not authoritative for. psarnd serves class IN only, and the zones of
  // its namespace: one that has no route yet is created by the first route written into it
  // (docs/design.md#dns-names-and-zones), as `psarn route set` creates it.
  if (update.qclass !== Class.IN) {
    throw new UpdateError(Rcode.NOTAUTH, `psarnd serves class IN only, not ${update.qclass}`, Ede.NOT_AUTHORITATIVE);
  }
  try {
    parseZoneName(zone, namespace);
  } catch {
    throw new UpdateError(
      Rcode.NOTAUTH,
      `${zone} is no zone of psarn namespace ${namespace} (ACCOUNT.REGION.PARTITION.${namespace})`,
      Ede.NOT_AUTHORITATIVE,
    );
  }
  const zoneLabels = update.labels;
  const place = (rr: UpdateRecord): Place => {
    // §3.2.2, §3.4.1.3: a name outside the zone.
    if (!inZone(rr.labels, zoneLabels)) throw new UpdateError(Rcode.NOTZONE, `${rr.name} is not in zone ${zone}`);
    return placeOf(rr.labels, zoneLabels.length);
  };

  const prerequisites: PlacedRecord[] = [];
  for (const rr of update.prerequisites) {
    // §3.2.1, §3.2.2, §3.2.3: the forms of a prerequisite.
    if (rr.ttl !== 0) throw formerr(rr, 'a prerequisite has TTL 0');
    if (rr.klass === Class.ANY || rr.klass === Class.NONE) {
      if (rr.rdlength !== 0) throw formerr(rr, 'a prerequisite of class ANY or NONE has no rdata');
    } else if (rr.klass === Class.IN) {
      if (rr.type === Type.ANY || META_TYPES.has(rr.type)) throw formerr(rr, 'no RRset of this type can exist');
    } else throw formerr(rr, `class ${rr.klass} is neither the zone's, ANY nor NONE`);
    prerequisites.push({ rr, place: place(rr) });
  }

  const routes = new Map<string, PlacedRecord[]>();
  let flush = false;
  let refusal: UpdateError | undefined;
  const refuse = (rr: UpdateRecord, why: string): void => {
    refusal ??= new UpdateError(Rcode.REFUSED, `${rr.name} ${typeName(rr.type)}: ${why}`, Ede.PROHIBITED);
  };
  for (const rr of update.updates) {
    // §3.4.1.2 prescan: the forms of an update.
    if (rr.klass === Class.IN) {
      if (rr.type === Type.ANY || META_TYPES.has(rr.type)) throw formerr(rr, 'cannot add an RR of this type');
    } else if (rr.klass === Class.ANY) {
      if (rr.ttl !== 0 || rr.rdlength !== 0) throw formerr(rr, 'a delete of class ANY has TTL 0 and no rdata');
      if (META_TYPES.has(rr.type)) throw formerr(rr, 'no RRset of this type can exist');
    } else if (rr.klass === Class.NONE) {
      if (rr.ttl !== 0) throw formerr(rr, 'a delete of class NONE has TTL 0');
      if (rr.type === Type.ANY || META_TYPES.has(rr.type)) throw formerr(rr, 'cannot delete an RR of this type');
    } else throw formerr(rr, `class ${rr.klass} is neither the zone's, ANY nor NONE`);
    const at = place(rr);
    const deleteAll = rr.klass === Class.ANY && rr.type === Type.ANY;
    switch (at.kind) {
      case 'apex':
        refuse(rr, 'the zone apex holds the SOA and NS, which psarnd sets from its config');
        break;
      case 'epoch':
        // docs/design.md#dns-update: deleting the epoch TXT is the flush; it comes back bumped.
        if (rr.klass === Class.ANY && rr.type === Type.TXT) flush = true;
        else refuse(rr, "only 'update delete <_epoch name> TXT' (a flush) may change _epoch");
        break;
      case 'route':
        if (!deleteAll && !ROUTE_TYPES.has(rr.type)) refuse(rr, 'a route name holds URI, TXT or CNAME only');
        else push(routes, at.path, { rr, place: at });
        break;
      case 'meta':
        if (!deleteAll && rr.type !== Type.TXT) refuse(rr, "a route's _meta name holds TXT only");
        else push(routes, at.path, { rr, place: at });
        break;
      default:
        refuse(rr, 'not a route name (psARN segments: letters, digits, - and _, at most 8)');
    }
  }
  return { zone, prerequisites, routes, flush, refusal };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * Step 2 (RFC 2136 §3.2), on the zone as the write transaction reads it; then the plan's
 * refusal, if any (§3.2 is checked before the updates are).
 * @throws UpdateError NXDOMAIN, YXDOMAIN, NXRRSET, YXRRSET, or the plan's REFUSED
 */
export function checkPrerequisites(plan: UpdatePlan, reader: ZoneReader): void {
  const at = new Map<string, NameRecords>();
  const recordsOf = ({ rr, place }: PlacedRecord): NameRecords => {
    let records = at.get(rr.name);
    if (records === undefined) {
      records = nameRecords(place, recordsAt(rr.name, place, reader));
      at.set(rr.name, records);
    }
    return records;
  };
  // §3.2.3: the value-dependent prerequisites, gathered into RRsets, compared after the others.
  const expected = new Map<string, { placed: PlacedRecord; keys: Set<string> }>();
  for (const placed of plan.prerequisites) {
    const { rr, place } = placed;
    const records = recordsOf(placed);
    if (rr.klass === Class.ANY) {
      if (rr.type === Type.ANY) {
        if (records.size === 0) throw new UpdateError(Rcode.NXDOMAIN, `prerequisite failed: no RR at ${rr.name}`);
      } else if (!records.has(rr.type)) {
        throw new UpdateError(Rcode.NXRRSET, `prerequisite failed: no ${typeName(rr.type)} RRset at ${rr.name}`);
      }
    } else if (rr.klass === Class.NONE) {
      if (rr.type === Type.ANY) {
        if (records.size > 0) throw new UpdateError(Rcode.YXDOMAIN, `prerequisite failed: ${rr.name} is in use`);
      } else if (records.has(rr.type)) {
        throw new UpdateError(Rcode.YXRRSET, `prerequisite failed: a ${typeName(rr.type)} RRset exists at ${rr.name}`);
      }
    } else {
      const id = `${rr.name} ${rr.type}`;
      let entry = expected.get(id);
      if (entry === undefined) {
        entry = { placed, keys: new Set() };
        expected.set(id, entry);
      }
      entry.keys.add(rdataKey(place, rr.type, rr.rdata));
    }
  }
  for (const { placed, keys } of expected.values()) {
    const set = recordsOf(placed).get(placed.rr.type);
    const same = set !== undefined && set.rrs.size === keys.size && [...keys].every((k) => set.rrs.has(k));
    if (!same) {
      throw new UpdateError(
        Rcode.NXRRSET,
        `prerequisite failed: the ${typeName(placed.rr.type)} RRset at ${placed.rr.name} is not the one given`,
      );
    }
  }
  if (plan.refusal !== undefined) throw plan.refusal;
}

/** What an edit needs besides the plan: the target policy of config `targets`. */
export interface EditContext {
  /**
   * Checks a target an UPDATE adds, as `psarn route set` does (validateTarget, then the config's
   * TargetRules): throws TargetError or TargetPolicyError; returns warnings to log.
   */
  checkTarget(target: string): readonly string[];
  /** Warnings of added targets (a credential in a query string), for the log. */
  warn?(line: string): void;
}

/**
 * Step 3 (RFC 2136 §3.4.2) for one route: its records, the message's operations on them in
 * order, and the route they make; null deletes it. For Store.editRoutes' `make`.
 * @throws UpdateError REFUSED (EDE 0) naming the name and why, when the records make no route
 */
export function routeEdit(
  plan: UpdatePlan,
  path: string,
  context: EditContext,
): (before: StoredRoute | undefined) => RouteSpec | null {
  const ops = plan.routes.get(path) ?? [];
  return (before) => {
    const { name, records, metaName, meta } = routeNameRecords(plan.zone, path, before);
    const added = new Set<string>();
    let metaAdded = false;
    // The route's TXT lives with its URI RRset (it is the policy of those targets): one the
    // message did not add goes when the URIs go, or when a CNAME replaces them.
    let txtAdded = false;
    for (const { rr, place } of ops) {
      const target = place.kind === 'meta' ? meta : records;
      if (rr.klass === Class.IN) {
        if (rr.ttl > MAX_TTL) throw refused(rr.name, `TTL ${rr.ttl} is over ${MAX_TTL}`);
        if (place.kind === 'meta') metaAdded = true;
        else if (rr.type === Type.TXT) txtAdded = true;
        // RFC 2136 §3.4.2.2 ignores a CNAME added beside other data, and other data beside a
        // CNAME; psarn refuses it, naming the conflict (docs/design.md#dns-update).
        const conflict =
          place.kind === 'route' &&
          (rr.type === Type.CNAME
            ? target.has(Type.URI) || (txtAdded && target.has(Type.TXT))
            : target.has(Type.CNAME));
        if (conflict) {
          throw refused(
            rr.name,
            'a CNAME (an alias) and URI or TXT records cannot share a name; delete the one before adding the other',
          );
        }
        if (rr.type === Type.CNAME) target.delete(Type.TXT);
        const key = rdataKey(place, rr.type, rr.rdata);
        let set = target.get(rr.type);
        // A CNAME replaces the one there (§3.4.2.2); an RR with the same rdata replaces its twin.
        if (set === undefined || rr.type === Type.CNAME) {
          set = { ttl: rr.ttl, rrs: new Map() };
          target.set(rr.type, set);
        }
        // One TTL per RRset (RFC 2181 §5.2): the one added last sets it, the route's TTL for URI.
        set.ttl = rr.ttl;
        set.rrs.set(key, rr.rdata);
        if (rr.type === Type.URI) added.add(key);
      } else if (rr.klass === Class.ANY) {
        if (rr.type === Type.ANY) target.clear();
        else target.delete(rr.type);
      } else {
        const set = target.get(rr.type);
        set?.rrs.delete(rdataKey(place, rr.type, rr.rdata));
        if (set?.rrs.size === 0) target.delete(rr.type);
      }
    }
    if (!txtAdded && !records.has(Type.URI)) records.delete(Type.TXT);
    return routeOf(name, metaName, records, meta, { added, metaAdded }, context);
  };
}

/** The route a name's records make (records → route), or null for none. */
function routeOf(
  name: string,
  metaName: string,
  records: NameRecords,
  meta: NameRecords,
  changed: { added: ReadonlySet<string>; metaAdded: boolean },
  context: EditContext,
): RouteSpec | null {
  const metadata = metadataOf(metaName, meta);
  const cname = records.get(Type.CNAME);
  const uri = records.get(Type.URI);
  const txt = records.get(Type.TXT);
  if (cname !== undefined) {
    const [rdata] = cname.rrs.values();
    return { alias: wireName(rdata!), ttl: cname.ttl, metadata };
  }
  if (uri !== undefined) {
    let policy: 'weighted' | 'fanout' = 'weighted';
    if (txt !== undefined) {
      if (txt.rrs.size > 1) {
        throw refused(
          name,
          `has ${txt.rrs.size} TXT records; a route has one ("v=psarn1" "policy=…"): delete the TXT RRset first`,
        );
      }
      const [rdata] = txt.rrs.values();
      const strings = utf8Strings(name, 'TXT', rdata!);
      let parsed: ReturnType<typeof parseRouteTxt>;
      try {
        parsed = parseRouteTxt(strings);
      } catch (err) {
        throw refused(name, (err as Error).message);
      }
      if (parsed.version !== TXT_VERSION.slice(2)) {
        throw refused(name, `its TXT is no route TXT: give "${TXT_VERSION}" "policy=weighted|fanout"`);
      }
      policy = parsed.policy ?? 'weighted';
    }
    const targets: { target: string; weight: number; priority: number }[] = [];
    for (const [key, rdata] of uri.rrs) {
      const target = utf8(name, 'URI target', rdata.subarray(4));
      if (changed.added.has(key)) {
        let warnings: readonly string[];
        try {
          warnings = context.checkTarget(target);
        } catch (err) {
          throw refused(name, (err as Error).message);
        }
        for (const line of warnings) context.warn?.(line);
      }
      targets.push({ target, priority: rdata.readUInt16BE(0), weight: rdata.readUInt16BE(2) });
    }
    return { policy, ttl: uri.ttl, targets, metadata };
  }
  if (txt !== undefined) {
    throw refused(name, 'a TXT without URI records or a CNAME is no route; add the targets (URI) in the same message');
  }
  if (changed.metaAdded && meta.size > 0) {
    throw refused(metaName, `metadata of no route: ${name} has no URI records or CNAME`);
  }
  return null;
}

/** The metadata of `_meta.<route>`'s TXT RRs: one KEY=VALUE entry each (src/zonefile/meta.ts). */
function metadataOf(metaName: string, meta: NameRecords): Record<string, string> {
  const metadata: Record<string, string> = {};
  const txt = meta.get(Type.TXT);
  if (txt === undefined) return metadata;
  for (const rdata of txt.rrs.values()) {
    let entry: [string, string];
    try {
      entry = metaEntry(utf8Strings(metaName, 'TXT', rdata));
    } catch (err) {
      throw err instanceof UpdateError ? err : refused(metaName, (err as Error).message);
    }
    const [key, value] = entry;
    if (Object.hasOwn(metadata, key)) {
      throw refused(metaName, `two values for metadata key '${key}'; delete the old TXT record in the same message`);
    }
    metadata[key] = value;
  }
  return metadata;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(name: string, what: string, bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw refused(name, `${what} is not UTF-8`);
  }
}

function utf8Strings(name: string, what: string, rdata: Uint8Array): string[] {
  return txtStrings(rdata).map((s) => utf8(name, what, s));
}

/** REFUSED with EDE 0 Other: the records are DNS but make no valid route. */
export function refused(name: string, why: string): UpdateError {
  return new UpdateError(Rcode.REFUSED, `${name}: ${why}`, Ede.OTHER);
}
