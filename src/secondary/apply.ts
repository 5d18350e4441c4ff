/**
 * A transferred zone into the store (docs/design.md#transfers-in): the records of an AXFR become
 * routes through the zone-file importer's ZoneBuilder (the same record -> route rules as
 * `zone import`) and replace the zone in one transaction (Store.importZones, `exact`: the
 * primary's serial and epoch); the difference sequences of an IXFR are folded into per-route
 * changes and written in one transaction (Store.editRoutes under the primary's serial).
 *
 * Records outside the route model (an A record, a TXT that is no psarn TXT, an SOA below the
 * apex, a name outside the zone, ...) are skipped and counted, never fatal: a Knot or BIND
 * primary's file may hold them, and they mean nothing to a route.
 */
import { nameToPsarn } from '../psarn/name.js';
import { EPOCH_LABEL, epochString, parseRouteTxt, TXT_VERSION } from '../psarn/txt.js';
import { paramsOf } from '../store/statements.js';
import type { Store } from '../store/store.js';
import type { RouteEdit, RouteSpec, StoredRoute, ZoneImport, ZoneParams, ZoneRow } from '../store/types.js';
import type { DecodedRecord } from '../wire/message.js';
import { Class, type DnsRecord, type NsRecord, type SoaRecord, type UriRecord } from '../wire/types.js';
import { ZoneFileError } from '../zonefile/errors.js';
import { routeRecords } from '../zonefile/export.js';
import { buildZones, routePath, ZoneBuilder } from '../zonefile/import.js';
import { Entry } from '../zonefile/lexer.js';
import { META_LABEL } from '../zonefile/meta.js';
import type { ParsedLine } from '../zonefile/parse.js';
import { formatRecord } from '../zonefile/presentation.js';
import { TransferError } from './errors.js';

/** Where a record's owner sits in a psarn zone. */
export type Place =
  | { kind: 'apex' }
  | { kind: 'epoch' }
  | { kind: 'route'; path: string }
  | { kind: 'meta'; path: string }
  | { kind: 'outside' };

const META_PREFIX = `${META_LABEL}.`;

/** The place of `name` (lowercase, absolute) in the zone `zone`. */
export function placeOf(name: string, zone: string): Place {
  if (name === zone) return { kind: 'apex' };
  if (!(name.length > zone.length + 1 && name.endsWith(zone) && name[name.length - zone.length - 1] === '.')) {
    return { kind: 'outside' };
  }
  const rel = name.slice(0, name.length - zone.length - 1);
  if (rel === EPOCH_LABEL) return { kind: 'epoch' };
  const path = routePath(rel);
  if (path !== undefined) return { kind: 'route', path };
  if (rel.startsWith(META_PREFIX)) {
    const of = routePath(rel.slice(META_PREFIX.length));
    if (of !== undefined) return { kind: 'meta', path: of };
  }
  return { kind: 'outside' };
}

/**
 * The record as the route model takes it, or undefined when it is outside the model (to skip):
 * SOA and NS at the apex; TXT at `_epoch`; URI, a psarn TXT (`"v=psarn1" ...`) and a CNAME to a
 * psARN name at a route name; TXT at `_meta.<route>`; class IN only.
 */
export function modelRecord(rr: DecodedRecord, zone: string, namespace: string): DnsRecord | undefined {
  if (rr.class !== Class.IN || !('type' in rr) || 'typeCode' in rr) return undefined;
  const place = placeOf(rr.name, zone);
  switch (place.kind) {
    case 'apex':
      return rr.type === 'SOA' || rr.type === 'NS' ? rr : undefined;
    case 'epoch':
    case 'meta':
      return rr.type === 'TXT' ? rr : undefined;
    case 'route':
      if (rr.type === 'URI') return rr;
      if (rr.type === 'TXT') return rr.strings[0] === TXT_VERSION ? rr : undefined;
      if (rr.type === 'CNAME') {
        try {
          nameToPsarn(rr.target, namespace);
          return rr;
        } catch {
          return undefined;
        }
      }
      return undefined;
    default:
      return undefined;
  }
}

/** A ZoneFileError of the importer as a transfer's: "record N of the transfer: ...". */
function dataError(what: string, err: unknown): unknown {
  if (!(err instanceof ZoneFileError)) return err;
  const message = err.message.replace(/^line \d+: /, '');
  const where = err.line > 0 ? `record ${err.line} of the transfer: ` : '';
  return new TransferError('ERR_XFR_DATA', `${what}: ${where}${message}`, { cause: err });
}

/** Bytes of the first target arena; it doubles as it fills. */
const ARENA_START = 1 << 20;

/**
 * The records of an AXFR, as they arrive, into zone contents. Holds routes in the importer's
 * columns (no message bytes, no record objects): the memory of a zone file import. URI targets,
 * most of a zone's bytes, go into one growing Buffer (outside the JS heap) that the importer
 * reads as it reads a file's bytes, with its offsets: a string per target kept until the
 * commit doubled the peak RSS of a 1M-route AXFR (1076 MiB; docs/design.md#transfers-in).
 */
export class AxfrCollector {
  readonly #zone: string;
  readonly #namespace: string;
  readonly #what: string;
  readonly #builder: ZoneBuilder;
  #count = 0;
  #arena = Buffer.allocUnsafe(ARENA_START);
  #used = 0;
  /** Once a target is not ASCII, every target is read as UTF-8 (the importer keeps one encoding). */
  #utf8 = false;
  #entry: Entry | undefined;
  /** Records skipped as outside the route model. */
  skipped = 0;
  /** Records taken. */
  records = 0;

  constructor(zone: string, namespace: string, what: string) {
    this.#zone = zone;
    this.#namespace = namespace;
    this.#what = what;
    this.#builder = new ZoneBuilder(namespace);
  }

  /** One record of the zone (the closing SOA excluded). @throws TransferError ERR_XFR_DATA */
  add(rr: DecodedRecord): void {
    this.#count++;
    const record = modelRecord(rr, this.#zone, this.#namespace);
    if (record === undefined) {
      this.skipped++;
      return;
    }
    this.records++;
    try {
      if (record.type === 'URI') this.#uri(record);
      else this.#builder.other({ record, owner: record.name, line: this.#count });
    } catch (err) {
      throw dataError(this.#what, err);
    }
  }

  /** A URI record through the importer's file path: its target's bytes in the arena. */
  #uri(record: UriRecord): void {
    const bytes = Buffer.byteLength(record.target, 'utf8');
    const ascii = bytes === record.target.length;
    if (this.#used + bytes > this.#arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#used + bytes));
      this.#arena.copy(grown, 0, 0, this.#used);
      this.#arena = grown;
      this.#entry = undefined;
    }
    if (!ascii && !this.#utf8) {
      this.#utf8 = true;
      this.#entry = undefined;
    }
    this.#arena.write(record.target, this.#used, 'utf8');
    this.#entry ??= new Entry(this.#arena, this.#utf8 ? 'utf8' : 'latin1');
    const entry = this.#entry;
    entry.count = 1;
    entry.start[0] = this.#used;
    entry.end[0] = this.#used + bytes;
    entry.flags[0] = 0;
    entry.line = this.#count;
    this.#used += bytes;
    this.#builder.uri(record.name, record.ttl, record.priority, record.weight, entry, 0);
  }

  /** The zone, its serial the SOA's and its epoch `_epoch`'s. @throws TransferError ERR_XFR_DATA */
  finish(): ZoneImport {
    let zones: ZoneImport[];
    try {
      zones = this.#builder.finish();
    } catch (err) {
      throw dataError(this.#what, err);
    }
    const zone = zones.find((z) => z.name === this.#zone);
    if (zone === undefined || zone.serial === undefined) {
      throw new TransferError('ERR_XFR_DATA', `${this.#what}: the transfer has no SOA at the apex`);
    }
    return zone;
  }
}

/**
 * Replaces the zone with an AXFR's contents in one transaction, with the primary's serial and
 * epoch exactly (RFC 1995 §1: a secondary keeps its primary's serial, even one not ahead of its
 * own). @returns the route count
 */
export function applyAxfr(store: Store, zone: ZoneImport, params: ZoneParams, actor: string): number {
  const [result] = store.importZones([zone], params, { actor, exact: true });
  return result!.routes;
}

/** An IXFR that does not fit our copy: the caller falls back to AXFR (the reason is the message). */
export function ixfrMismatch(reason: string): TransferError {
  return new TransferError('ERR_XFR_DATA', reason, { axfrFallback: true });
}

/** A record's identity for IXFR matching: owner, type and data; not the TTL (RFC 1995 §3 deletes by RR data). */
function keyOf(rr: DnsRecord): string {
  return formatRecord({ ...rr, ttl: 0 });
}

/** A slot of a route's records: a record, or the place of a deleted URI that a new one with its target may take. */
type Slot = { key: string; record: DnsRecord } | { key: undefined; hole: string };

/**
 * Folds the difference sequences of an IXFR (RFC 1995 §4), in order, into per-route changes
 * against the store's copy. A route's records are read from the store the first time one of
 * them is touched; each deletion must find its record (else a TransferError with axfrFallback); an added URI takes
 * the place of a deleted URI with the same target (a weight change keeps the target order),
 * else goes last.
 */
export class IxfrFolder {
  readonly #store: Store;
  readonly #zone: ZoneRow;
  readonly #namespace: string;
  readonly #routes = new Map<string, Slot[]>();
  readonly #ns = new Map<string, NsRecord>();
  #epoch: number;
  skipped = 0;

  constructor(store: Store, zone: ZoneRow, namespace: string) {
    this.#store = store;
    this.#zone = zone;
    this.#namespace = namespace;
    this.#epoch = zone.epoch;
    for (const target of zone.nameservers) {
      const ns: NsRecord = { name: zone.name, ttl: zone.nsTtl, type: 'NS', target };
      this.#ns.set(keyOf(ns), ns);
    }
  }

  /** The records of a route as they stand in the fold (loaded from the store on first touch). */
  #slots(path: string): Slot[] {
    let slots = this.#routes.get(path);
    if (slots === undefined) {
      const stored: StoredRoute | undefined = this.#store.getRoute(this.#zone.name, path);
      // Rendered under the epoch the zone had before this transfer: the primary deletes what we hold.
      const records = stored === undefined ? [] : routeRecords(this.#zone, stored);
      slots = records.map((record) => ({ key: keyOf(record), record }));
      this.#routes.set(path, slots);
    }
    return slots;
  }

  #model(rr: DecodedRecord): DnsRecord | undefined {
    const record = modelRecord(rr, this.#zone.name, this.#namespace);
    if (record === undefined) this.skipped++;
    return record;
  }

  /** A record of a deletion part. @throws TransferError (axfrFallback) when our copy lacks it */
  delete(rr: DecodedRecord): void {
    const record = this.#model(rr);
    if (record === undefined) return;
    const key = keyOf(record);
    const place = placeOf(record.name, this.#zone.name);
    if (place.kind === 'apex') {
      if (record.type !== 'NS' || !this.#ns.delete(key))
        throw ixfrMismatch(`it deletes ${formatRecord(record)}, which we do not have`);
      return;
    }
    if (place.kind === 'epoch') {
      if (record.type !== 'TXT' || key !== keyOf({ ...record, strings: [epochString(this.#epoch)] })) {
        throw ixfrMismatch(`it deletes ${formatRecord(record)}; our epoch is ${this.#epoch}`);
      }
      return;
    }
    if (place.kind !== 'route' && place.kind !== 'meta') return;
    const slots = this.#slots(place.path);
    const i = slots.findIndex((s) => s.key === key);
    if (i < 0) throw ixfrMismatch(`it deletes ${formatRecord(record)}, which we do not have`);
    slots[i] = record.type === 'URI' ? { key: undefined, hole: record.target } : { key: undefined, hole: '' };
  }

  /** A record of an addition part. */
  add(rr: DecodedRecord): void {
    const record = this.#model(rr);
    if (record === undefined) return;
    const key = keyOf(record);
    const place = placeOf(record.name, this.#zone.name);
    if (place.kind === 'apex') {
      if (record.type === 'NS') this.#ns.set(key, record);
      return;
    }
    if (place.kind === 'epoch') {
      if (record.type !== 'TXT') return;
      let epoch: number | undefined;
      try {
        epoch = parseRouteTxt(record.strings).epoch;
      } catch {
        epoch = undefined;
      }
      if (epoch === undefined) throw ixfrMismatch(`${formatRecord(record)} is not "epoch=<n>"`);
      this.#epoch = epoch;
      return;
    }
    if (place.kind !== 'route' && place.kind !== 'meta') return;
    const slots = this.#slots(place.path);
    const existing = slots.findIndex((s) => s.key === key);
    // RFC 2181 §5: an RRset is a set; adding what is there changes only the TTL.
    if (existing >= 0) {
      slots[existing] = { key, record };
      return;
    }
    const hole = record.type === 'URI' ? slots.findIndex((s) => s.key === undefined && s.hole === record.target) : -1;
    if (hole >= 0) slots[hole] = { key, record };
    else slots.push({ key, record });
  }

  /** The routes touched. */
  get touched(): number {
    return this.#routes.size;
  }

  /**
   * The route edits, the epoch and the zone parameters the fold ends with (`soa`: the
   * transfer's final SOA). @throws TransferError ERR_XFR_DATA when a route's records make no route
   */
  finish(soa: SoaRecord, what: string): { edits: RouteEdit[]; epoch: number; params: ZoneParams } {
    const edits: RouteEdit[] = [];
    for (const [path, slots] of this.#routes) {
      const lines: ParsedLine[] = [];
      for (const slot of slots) {
        if (slot.key !== undefined)
          lines.push({ record: slot.record, owner: slot.record.name, line: lines.length + 1 });
      }
      if (lines.length === 0) {
        edits.push({ path, make: () => null });
        continue;
      }
      let spec: RouteSpec;
      try {
        const [zone] = buildZones(lines, this.#namespace);
        spec = zone!.routes[0]!.spec;
      } catch (err) {
        const message = err instanceof Error ? err.message.replace(/^line \d+: /, '') : String(err);
        throw new TransferError('ERR_XFR_DATA', `${what}: route ${path} after the IXFR: ${message}`, {
          cause: err,
          axfrFallback: true,
        });
      }
      edits.push({ path, make: () => spec });
    }
    const nameservers = [...this.#ns.values()];
    const base = paramsOf(this.#zone);
    const params: ZoneParams = {
      soaTtl: soa.ttl,
      mname: soa.mname,
      rname: soa.rname,
      refresh: soa.refresh,
      retry: soa.retry,
      expire: soa.expire,
      minimum: soa.minimum,
      // RFC 2181 §5.2: one TTL for the RRset, the smallest, as the importer takes it.
      nsTtl: nameservers.length === 0 ? base.nsTtl : Math.min(...nameservers.map((ns) => ns.ttl)),
      nameservers: nameservers.length === 0 ? base.nameservers : nameservers.map((ns) => ns.target),
    };
    return { edits, epoch: this.#epoch, params };
  }
}
