/**
 * The catalog zone (RFC 9432, schema version 2): `catalog.<namespace>`, listing every zone of the
 * store, so that a secondary (Knot `catalog-role: interpret`, BIND `catalog-zones`, a psarnd
 * secondary) follows the zones created after it starts (docs/design.md#catalog-zone).
 *
 * Its content is a pure function of the zone list and the catalog serial (`buildCatalog`):
 *
 *   catalog.psarn.internal.                 3600 SOA  <mname> <rname> <serial> <refresh> …
 *   catalog.psarn.internal.                 3600 NS   invalid.
 *   version.catalog.psarn.internal.            0 TXT  "2"
 *   <id>.zones.catalog.psarn.internal.         0 PTR  123456789012.us-east-1.aws.psarn.internal.
 *
 * `catalogRecords` is the one list of its records, SOA first: the answer function reads the same
 * RRsets through `CatalogZone.lookup`, `zone export` writes them, and AXFR sends them.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { ZoneParams, ZoneRow } from '../store/types.js';
import type { DnsRecord, NsRecord, PtrRecord, SoaRecord, TxtRecord } from '../wire/types.js';
import { Type } from '../wire/types.js';

/** The catalog's first label, under the namespace: `catalog.psarn.internal.`. */
export const CATALOG_LABEL = 'catalog';
/** RFC 9432 §4.3.1: the schema version this catalog follows. */
export const CATALOG_VERSION = '2';
/**
 * TTL of the version property and the member PTRs: 0, as in RFC 9432's examples (§4.2 leaves it
 * undefined). A consumer reads them by transfer, never from a cache; the SOA and NS keep the zone
 * parameters' TTLs.
 */
export const CATALOG_TTL = 0;
/** RFC 9432 §4.1 RECOMMENDS one NS to the absent name `invalid.` (RFC 6761 §6.4): no server resolves the catalog. */
export const CATALOG_NS = 'invalid.';

/** What the catalog needs of one zone: its name and when it was created. */
export interface CatalogMember {
  /** Absolute, lowercase, trailing dot. */
  name: string;
  /**
   * The catalog serial that the zone's creation produced (the store's `zones.created`): unique
   * among every zone the store ever created, so a zone deleted and created again is a new member.
   */
  created: number;
}

/** `catalog.<namespace>` (the namespace absolute, lowercase). */
export function catalogName(namespace: string): string {
  return `${CATALOG_LABEL}.${namespace}`;
}

/**
 * A member's unique label (RFC 9432 §4.2 `<unique-N>`): the first 64 bits of SHA-256 over the zone
 * name and its creation, in lowercase hex. Stable for the zone's life; a zone deleted and created
 * again gets a new one, which tells consumers to drop the old zone's data and state (RFC 9432 §5.4
 * member node name change, §5.6 state reset). 64 bits: a collision among even a million zones has odds of about 3·10⁻⁸.
 */
export function memberLabel(member: CatalogMember): string {
  return createHash('sha256').update(`${member.name} ${member.created}`).digest('hex').slice(0, 16);
}

/** What one name of the catalog holds for one type. */
export type CatalogLookup = { kind: 'success'; answer: DnsRecord[] } | { kind: 'nodata' } | { kind: 'nxdomain' };

/** A catalog's content, built once per change of the zone list; every method is a map lookup. */
export class CatalogZone {
  /** Absolute, lowercase. */
  readonly name: string;
  readonly serial: number;
  readonly #soa: SoaRecord;
  readonly #ns: NsRecord;
  readonly #version: TxtRecord;
  /** The member PTRs, by owner, in owner order. */
  readonly #members = new Map<string, PtrRecord>();
  readonly #labels: number;

  constructor(name: string, serial: number, params: ZoneParams, members: readonly CatalogMember[]) {
    this.name = name;
    this.serial = serial;
    this.#labels = labelCount(name);
    this.#soa = {
      name,
      ttl: params.soaTtl,
      type: 'SOA',
      mname: params.mname,
      rname: params.rname,
      serial,
      refresh: params.refresh,
      retry: params.retry,
      expire: params.expire,
      minimum: params.minimum,
    };
    this.#ns = { name, ttl: params.nsTtl, type: 'NS', target: CATALOG_NS };
    this.#version = { name: `version.${name}`, ttl: CATALOG_TTL, type: 'TXT', strings: [CATALOG_VERSION] };
    const ptrs = members.map(
      (m): PtrRecord => ({ name: `${memberLabel(m)}.zones.${name}`, ttl: CATALOG_TTL, type: 'PTR', target: m.name }),
    );
    // Sorted by owner, so the list (and a transfer, an export) is the same whatever order the
    // zones came in; labels are hex of equal length, so this is also DNSSEC canonical order.
    ptrs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ptr of ptrs) this.#members.set(ptr.name, ptr);
  }

  /** Number of member zones. */
  get size(): number {
    return this.#members.size;
  }

  /** The SOA at the apex. */
  soa(): SoaRecord {
    return { ...this.#soa };
  }

  /** The SOA for the authority section of a negative answer: TTL min(SOA TTL, MINIMUM), RFC 2308 §3. */
  negativeSoa(): SoaRecord {
    return { ...this.#soa, ttl: Math.min(this.#soa.ttl, this.#soa.minimum) };
  }

  /** True when the name with these labels (leftmost first, lowercase) is the catalog or below it. */
  contains(labels: readonly string[]): boolean {
    const depth = labels.length - this.#labels;
    return depth >= 0 && `${labels.slice(depth).join('.')}.` === this.name;
  }

  /** Labels of the catalog's name (the apex's depth): the deepest zone wins when zones nest. */
  get labelCount(): number {
    return this.#labels;
  }

  /**
   * What a name inside the catalog holds for a type (the caller checked `contains`). The apex
   * holds SOA and NS, `version` the TXT, each member owner its PTR; `zones` is an empty
   * non-terminal while there is a member (NODATA, RFC 8020 §2), every other name NXDOMAIN.
   * ANY answers the RRsets of the name (RFC 8482 allows a subset; these are small).
   */
  lookup(labels: readonly string[], qtype: number): CatalogLookup {
    const depth = labels.length - this.#labels;
    if (depth === 0) {
      if (qtype === Type.SOA) return { kind: 'success', answer: [this.soa()] };
      if (qtype === Type.NS) return { kind: 'success', answer: [{ ...this.#ns }] };
      if (qtype === Type.ANY) return { kind: 'success', answer: [this.soa(), { ...this.#ns }] };
      return { kind: 'nodata' };
    }
    if (depth === 1 && labels[0] === 'version') {
      return qtype === Type.TXT || qtype === Type.ANY
        ? { kind: 'success', answer: [{ ...this.#version, strings: [...this.#version.strings] }] }
        : { kind: 'nodata' };
    }
    if (depth === 1 && labels[0] === 'zones') return this.#members.size > 0 ? { kind: 'nodata' } : { kind: 'nxdomain' };
    if (depth === 2 && labels[1] === 'zones') {
      const ptr = this.#members.get(`${labels.join('.')}.`);
      if (ptr === undefined) return { kind: 'nxdomain' };
      return qtype === Type.PTR || qtype === Type.ANY ? { kind: 'success', answer: [{ ...ptr }] } : { kind: 'nodata' };
    }
    return { kind: 'nxdomain' };
  }

  /**
   * Every record of the catalog, SOA first, then NS, the version TXT and the member PTRs in owner
   * order: what `zone export` writes and what an AXFR sends (with the SOA again at its end,
   * RFC 5936 §2.2).
   */
  *records(): Generator<DnsRecord> {
    yield this.soa();
    yield { ...this.#ns };
    yield { ...this.#version, strings: [...this.#version.strings] };
    for (const ptr of this.#members.values()) yield { ...ptr };
  }
}

/**
 * The catalog of these zones: a pure function of the zone list, the catalog serial and the SOA
 * parameters (docs/design.md#catalog-zone).
 * @example buildCatalog('psarn.internal.', 7, zoneParams(config), store.zones())
 */
export function buildCatalog(
  namespace: string,
  serial: number,
  params: ZoneParams,
  zones: readonly CatalogMember[],
): CatalogZone {
  return new CatalogZone(catalogName(namespace), serial, params, zones);
}

/** What a catalog is built with besides the zones: where it lives and its SOA parameters. */
export interface CatalogOptions {
  /** Absolute, lowercase: the catalog is `catalog.<namespace>`. */
  namespace: string;
  /** Its SOA's TTL, names and timers: the config's, as for a new zone (`zoneParams(config)`). */
  params: ZoneParams;
}

/**
 * The catalog as the store holds it now: the zone rows and the catalog serial in one snapshot.
 * What `zone export` writes and what a transfer of the catalog sends; psarnd's view builds the
 * same from the rows of its last pickup.
 * @example for (const record of readCatalog(store, { namespace, params }).records()) send(record);
 */
export function readCatalog(store: Store, options: CatalogOptions): CatalogZone {
  const [rows, serial] = store.read(() => [store.zones(), store.catalogSerial()] as const);
  return buildCatalog(options.namespace, serial, options.params, catalogMembers(rows));
}

/** The catalog's view of zone rows: a row read from a store always has `created`; one built elsewhere (tests) falls back to its id. */
export function catalogMembers(rows: readonly ZoneRow[]): CatalogMember[] {
  return rows.map((z) => ({ name: z.name, created: z.created ?? z.id }));
}

/** Every record of a catalog as a list (SOA first): the one source of its records for the answer function, export and AXFR. */
export function catalogRecords(catalog: CatalogZone): DnsRecord[] {
  return [...catalog.records()];
}

function labelCount(name: string): number {
  let n = 0;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 46) n++;
  return n;
}
