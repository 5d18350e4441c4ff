/**
 * Zone transfers out (docs/design.md#transfers): the records of AXFR (RFC 5936) and of a
 * condensed IXFR (RFC 1995) from the change journal, and their packing into DNS messages.
 * The records come from the one source `zone export` writes (src/zonefile/export.ts:
 * zoneRecords, routeRecords), so a transfer and an export hold the same records.
 * Nothing here touches a socket: src/server/transfer.ts serves these.
 */

import { serialGreater } from '../store/serial.js';
import type { Store } from '../store/store.js';
import type { JournalEntry, ZoneRow } from '../store/types.js';
import { Flag, Hdr, OPCODE_MASK, OPCODE_SHIFT, OptTtl, RR_MIN } from '../wire/cursor.js';
import { WireError } from '../wire/errors.js';
import { writeRecord } from '../wire/rdata.js';
import { type DnsRecord, Type } from '../wire/types.js';
import { Writer } from '../wire/writer.js';
import { soaRecord } from '../zone/records.js';
import { type RouteRecordSource, routeRecords, zoneRecords } from './export.js';
import { formatRecord } from './presentation.js';

/** Every record of an AXFR: the zone's SOA, every record as export writes them, the SOA again (RFC 5936 §2.2). */
export function* axfrRecords(store: Store, zone: ZoneRow, epochTtl: number): Generator<DnsRecord> {
  yield* zoneRecords(zone, store.routeContents(zone.id), { epochTtl });
  yield soaRecord(zone);
}

/** What an IXFR for a serial gets (RFC 1995 §2, §4). */
export type IxfrPlan =
  /** The client has the current serial or a newer one: the current SOA alone. */
  | { kind: 'current' }
  /** The journal cannot give the difference: send the whole zone (RFC 1995 §4 allows AXFR's form). */
  | { kind: 'axfr'; reason: string }
  /** One condensed difference sequence, SOA first and last. */
  | { kind: 'ixfr'; records: DnsRecord[]; deleted: number; added: number };

/**
 * The condensed IXFR from `clientSerial` to the zone's current serial (RFC 1995 §4: one
 * difference sequence): for each route changed since, its records at `clientSerial` that are
 * gone are deleted and its records now that are new are added; an RR unchanged (owner, type,
 * TTL and data) is in neither. Read in one snapshot with the zone row `zone` (call inside
 * store.read()). Falls back to AXFR when the journal no longer reaches `clientSerial` (pruned,
 * journal.keep, or a serial this zone never had), and when a change in between is not one
 * route's (an import replaces the zone; a flush changes every route's TXT, so the difference
 * would be the whole zone twice over).
 */
export function ixfrPlan(store: Store, zone: ZoneRow, clientSerial: number): IxfrPlan {
  // RFC 1995 §2: a client at the current version or newer gets the current SOA alone.
  if (clientSerial === zone.serial || serialGreater(clientSerial, zone.serial)) return { kind: 'current' };
  const entries = store.journalFrom(zone.name, clientSerial);
  if (entries === undefined) return { kind: 'axfr', reason: `the journal no longer reaches serial ${clientSerial}` };
  const routes = new Map<string, { before: RouteRecordSource | undefined; after: RouteRecordSource | undefined }>();
  for (const entry of entries) {
    if ((entry.op !== 'set' && entry.op !== 'delete') || entry.path === undefined) {
      return { kind: 'axfr', reason: `a ${entry.op} at serial ${entry.serial} changed the zone as a whole` };
    }
    const seen = routes.get(entry.path);
    const after = entry.op === 'set' ? journalRoute(entry, entry.after) : undefined;
    if (seen === undefined) routes.set(entry.path, { before: journalRoute(entry, entry.before), after });
    else seen.after = after;
  }
  const deleted: DnsRecord[] = [];
  const added: DnsRecord[] = [];
  for (const { before, after } of routes.values()) {
    const old = before === undefined ? [] : routeRecords(zone, before);
    const now = after === undefined ? [] : routeRecords(zone, after);
    const oldKeys = new Set(old.map(formatRecord));
    const nowKeys = new Set(now.map(formatRecord));
    for (const rr of old) if (!nowKeys.has(formatRecord(rr))) deleted.push(rr);
    for (const rr of now) if (!oldKeys.has(formatRecord(rr))) added.push(rr);
  }
  const soa = soaRecord(zone);
  const records = [soa, { ...soa, serial: clientSerial }, ...deleted, soa, ...added, soa];
  return { kind: 'ixfr', records, deleted: deleted.length, added: added.length };
}

/** A journal's route (StoredRoute without zone and serial, docs/design.md#writes) with its path. */
function journalRoute(entry: JournalEntry, value: unknown): RouteRecordSource | undefined {
  if (value === undefined || value === null) return undefined;
  const route = value as Omit<RouteRecordSource, 'path'>;
  return { ...route, path: entry.path!, metadata: route.metadata ?? {} };
}

/** The parts of the query a transfer's replies echo. */
export interface TransferQuery {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
  /** The question is `request[12, questionEnd)`. */
  questionEnd: number;
  edns?: { do: boolean };
}

export interface PackOptions {
  /** Largest message (TCP: 65535; UDP: what the requester takes). */
  maxSize: number;
  /** Bytes kept free in every message, for a TSIG record the signer adds (RFC 8945 §5.3.1). */
  reserve?: number;
  /** Our EDNS payload size, in each message's OPT when the query had one. */
  udpPayloadSize: number;
  /** Option bytes for each message's OPT (EXPIRE, RFC 7314 §3), when the query had one. */
  ednsOptions?: Uint8Array | undefined;
}

const OPT_SIZE = RR_MIN;
const MAX_MESSAGE = 0xffff;
const EMPTY = new Uint8Array(0);

/**
 * Packs records into as few messages as fit in `maxSize - reserve` bytes each (RFC 5936 §2.2:
 * as many records per message as fit). Each message: the query's ID and opcode, QR and AA, RD
 * and CD copied; the question in the first message only (RFC 5936 §2.2.1 lets the later ones
 * go without); names compressed within each message; an OPT when the query had one (RFC 6891 §7).
 * A record that does not fit in an empty message is a WireError (writes refuse such routes).
 * Lazy: records are read as messages are taken, so a whole zone is never held at once.
 */
export function* packMessages(
  request: Buffer,
  query: TransferQuery,
  records: Iterable<DnsRecord>,
  options: PackOptions,
): Generator<Buffer> {
  const optSize = query.edns ? OPT_SIZE + (options.ednsOptions?.length ?? 0) : 0;
  const limit = Math.min(options.maxSize, MAX_MESSAGE) - (options.reserve ?? 0) - optSize;
  let first = true;
  let w = start(request, query, first);
  let count = 0;
  for (const rr of records) {
    const mark = w.len;
    let over = false;
    try {
      writeRecord(w, rr);
      over = w.len > limit;
    } catch (err) {
      // The writer refuses to grow past 65535 bytes: this record starts the next message.
      if (!(err instanceof WireError) || count === 0) throw err;
      over = true;
    }
    if (over) {
      if (count === 0) throw new WireError(`${rr.name} ${rr.type} does not fit in one ${limit}-byte message`);
      w.len = mark;
      yield finish(w, query, first, count, options);
      first = false;
      w = start(request, query, false);
      count = 0;
      writeRecord(w, rr);
      if (w.len > limit) throw new WireError(`${rr.name} ${rr.type} does not fit in one ${limit}-byte message`);
    }
    count++;
  }
  yield finish(w, query, first, count, options);
}

function start(request: Buffer, query: TransferQuery, withQuestion: boolean): Writer {
  const w = new Writer(16384);
  w.room(Hdr.SIZE);
  w.len = Hdr.SIZE;
  if (withQuestion) {
    w.bytes(request.subarray(Hdr.SIZE, query.questionEnd));
    w.seedName(Hdr.SIZE);
  }
  return w;
}

function finish(w: Writer, query: TransferQuery, withQuestion: boolean, count: number, options: PackOptions): Buffer {
  const optAt = w.len;
  const extra = options.ednsOptions ?? EMPTY;
  const out = Buffer.allocUnsafe(optAt + (query.edns ? OPT_SIZE + extra.length : 0));
  w.buf.copy(out, 0, 0, optAt);
  let flags = Flag.QR | Flag.AA | ((query.opcode & OPCODE_MASK) << OPCODE_SHIFT);
  if (query.rd) flags |= Flag.RD;
  if (query.cd) flags |= Flag.CD;
  out.writeUInt16BE(query.id, Hdr.ID);
  out.writeUInt16BE(flags, Hdr.FLAGS);
  out.writeUInt16BE(withQuestion ? 1 : 0, Hdr.QDCOUNT);
  out.writeUInt16BE(count, Hdr.ANCOUNT);
  out.writeUInt16BE(0, Hdr.NSCOUNT);
  out.writeUInt16BE(query.edns ? 1 : 0, Hdr.ARCOUNT);
  if (query.edns) {
    out[optAt] = 0;
    out.writeUInt16BE(Type.OPT, optAt + 1);
    out.writeUInt16BE(options.udpPayloadSize, optAt + 3);
    out.writeUInt32BE(query.edns.do ? OptTtl.DO : 0, optAt + 5);
    out.writeUInt16BE(extra.length, optAt + 9);
    out.set(extra, optAt + OPT_SIZE);
  }
  return out;
}

/**
 * An IXFR query (RFC 1995 §3): the zone in the question, and in the authority section an SOA
 * carrying the serial the client has (the other SOA fields are not read; dig sends them empty).
 */
export function encodeIxfrQuery(zone: string, serial: number, id: number): Buffer {
  const w = new Writer(512);
  w.room(Hdr.SIZE);
  w.buf.fill(0, 0, Hdr.SIZE);
  w.len = Hdr.SIZE;
  w.buf.writeUInt16BE(id, Hdr.ID);
  w.buf.writeUInt16BE(1, Hdr.QDCOUNT);
  w.buf.writeUInt16BE(1, Hdr.NSCOUNT);
  w.nameText(zone);
  w.u16(Type.IXFR);
  w.u16(1);
  writeRecord(w, {
    name: zone,
    ttl: 0,
    type: 'SOA',
    mname: '.',
    rname: '.',
    serial,
    refresh: 0,
    retry: 0,
    expire: 0,
    minimum: 0,
  });
  return Buffer.from(w.buf.subarray(0, w.len));
}
