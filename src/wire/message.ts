/**
 * Whole-message codec for clients (the CLI's dig, the client library, tests). A query is laid
 * out directly in a buffer of its exact size: it has one uncompressed name, so the Writer (whose
 * compression table is the server's) would only add weight to the client package
 * (docs/design.md#two-packages). Replies are validated strictly by the same scanner as parseQuery,
 * then the records psarn serves are read from the validated offsets with our cursor.
 * dns-packet is not used at run time: it decodes some truncated packets without error, does
 * not check label lengths, decodes labels as UTF-8 without escaping "." or case-folding, and
 * knows types by mnemonic only (URI is not among them). It stays in the tests, as the
 * independent decoder our encoders are checked against.
 */
import {
  Cursor,
  Flag,
  Hdr,
  OPCODE_MASK,
  OPCODE_SHIFT,
  OptTtl,
  QUESTION_FIXED,
  RCODE_HEADER_BITS,
  RCODE_MASK,
  RR_MIN,
  u16At,
} from './cursor.js';
import { WireError } from './errors.js';
import { typeName } from './mnemonics.js';
import { parseName, presentName, readName } from './name.js';
import type { RrInfo, ScanState } from './scan.js';
import { readOptions, scanRecords } from './scan.js';
import type { DnsRecord, RcodeValue } from './types.js';
import { Class, Type } from './types.js';
import { decodeUriRdata } from './uri.js';

export { className, opcodeName, rcodeName, typeCode, typeName } from './mnemonics.js';

export interface QueryOptions {
  id: number;
  /**
   * Absolute name in presentation form, trailing dot optional ("" and "." are the root);
   * escapes as in RFC 1035 §5.1 (`\.`, `\DDD`).
   */
  name: string;
  /** Numeric type, e.g. Type.URI. */
  qtype: number;
  /** Default Class.IN. */
  qclass?: number;
  rd?: boolean;
  /**
   * Add an OPT with this UDP payload size (default: 1232); false sends no OPT. `options`: option
   * bytes already encoded (code, length, data each; e.g. wire/caller.ts's callerOption), written
   * in order as the OPT's rdata.
   */
  edns?: { udpSize?: number; do?: boolean; version?: number; options?: readonly Uint8Array[] } | false;
}

/**
 * Builds a query message: header, one question, and an OPT unless `edns` is false
 * (RFC 1035 §4.1, RFC 6891 §6.1.2).
 * @throws WireError on a name that cannot be encoded or a field out of range
 * @example encodeQuery({ id: 7, name: 'created.orders.123456789012.us-east-1.aws.psarn.internal.', qtype: Type.URI })
 */
export function encodeQuery(options: QueryOptions): Buffer {
  const labels = parseName(options.name === '' ? '.' : options.name);
  const qclass = options.qclass ?? Class.IN;
  checkUint('id', options.id, 0xffff);
  checkUint('qtype', options.qtype, 0xffff);
  checkUint('qclass', qclass, 0xffff);
  const edns = options.edns === false ? undefined : (options.edns ?? {});
  const udpSize = edns?.udpSize ?? DEFAULT_UDP_SIZE;
  const version = edns?.version ?? 0;
  checkUint('EDNS udpSize', udpSize, 0xffff);
  checkUint('EDNS version', version, 0xff);

  let nameLength = 1;
  for (const label of labels) nameLength += 1 + label.length;
  let rdlen = 0;
  for (const option of edns?.options ?? []) rdlen += option.length;
  checkUint('EDNS options length', rdlen, 0xffff);
  const buf = Buffer.alloc(Hdr.SIZE + nameLength + QUESTION_FIXED + (edns ? RR_MIN + rdlen : 0));
  buf.writeUInt16BE(options.id, Hdr.ID);
  // QR=0, opcode QUERY, RD as asked; every other bit zero (RFC 1035 §4.1.1).
  buf.writeUInt16BE(options.rd ? Flag.RD : 0, Hdr.FLAGS);
  buf.writeUInt16BE(1, Hdr.QDCOUNT);
  buf.writeUInt16BE(edns ? 1 : 0, Hdr.ARCOUNT);
  // RFC 1035 §4.1.4 allows no pointer here: nothing precedes the question name. parseName has
  // checked the label and name lengths (RFC 1035 §2.3.4).
  let at: number = Hdr.SIZE;
  for (const label of labels) {
    buf[at++] = label.length;
    buf.set(label, at);
    at += label.length;
  }
  at++; // the root label
  at = buf.writeUInt16BE(options.qtype, at);
  at = buf.writeUInt16BE(qclass, at);
  if (edns) {
    // OPT (RFC 6891 §6.1.2): root owner, CLASS = our payload size, TTL = extended rcode 0,
    // version, DO (RFC 3225 §3); then the options, if any (RFC 6891 §6.1.2).
    at = buf.writeUInt16BE(Type.OPT, at + 1);
    at = buf.writeUInt16BE(udpSize, at);
    at = buf.writeUInt32BE(((version << OptTtl.VERSION_SHIFT) | (edns.do ? OptTtl.DO : 0)) >>> 0, at);
    at = buf.writeUInt16BE(rdlen, at);
    for (const option of edns.options ?? []) {
      buf.set(option, at);
      at += option.length;
    }
  }
  return buf;
}

const DEFAULT_UDP_SIZE = 1232;

function checkUint(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new WireError(`${what} ${v} is outside 0..${max}`);
}

/** A record as decoded: the types psarn serves are decoded, others kept raw. */
export type DecodedRecord =
  | (DnsRecord & { class: number })
  | { name: string; ttl: number; class: number; type: number | string; typeCode: number; rdata: Buffer };

export interface DecodedMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  /** Full rcode: header low 4 bits plus the OPT's extended bits (16 = BADVERS). */
  rcode: RcodeValue | number;
  question: { name: string; qtype: number; qclass: number }[];
  answer: DecodedRecord[];
  authority: DecodedRecord[];
  /** Without the OPT pseudo-record, which is in `edns`. */
  additional: DecodedRecord[];
  edns?: { udpSize: number; version: number; do: boolean; options: { code: number; data: Buffer }[] };
  size: number;
}

/**
 * Validates and decodes a whole message (query or reply). Names in the result are lowercase
 * presentation form with a trailing dot, except `question[0].name`, which keeps its case.
 * @throws WireError (with offset) on any malformed input.
 */
export function decodeMessage(buf: Buffer): DecodedMessage {
  if (buf.length < Hdr.SIZE) throw new WireError(`message of ${buf.length} bytes is shorter than a header`, 0);
  const flags = u16At(buf, Hdr.FLAGS);
  const cur = new Cursor(buf, Hdr.SIZE);
  const question: DecodedMessage['question'] = [];
  for (let i = u16At(buf, Hdr.QDCOUNT); i > 0; i--) {
    const labels: number[] = [];
    readName(cur, labels);
    const qtype = cur.u16('question type');
    const qclass = cur.u16('question class');
    question.push({ name: presentName(buf, labels, false), qtype, qclass });
  }
  const state: ScanState = { end: cur.pos };
  const records: RrInfo[] = [];
  const counts = [u16At(buf, Hdr.ANCOUNT), u16At(buf, Hdr.NSCOUNT), u16At(buf, Hdr.ARCOUNT)] as const;
  scanRecords(buf, cur.pos, counts, state, (rr) => records.push(rr));

  const out: DecodedMessage = {
    id: u16At(buf, Hdr.ID),
    qr: (flags & Flag.QR) !== 0,
    opcode: (flags >>> OPCODE_SHIFT) & OPCODE_MASK,
    aa: (flags & Flag.AA) !== 0,
    tc: (flags & Flag.TC) !== 0,
    rd: (flags & Flag.RD) !== 0,
    ra: (flags & Flag.RA) !== 0,
    ad: (flags & Flag.AD) !== 0,
    cd: (flags & Flag.CD) !== 0,
    rcode: (flags & RCODE_MASK) | ((state.opt?.extendedRcode ?? 0) << RCODE_HEADER_BITS),
    question,
    answer: [],
    authority: [],
    additional: [],
    size: buf.length,
  };
  const sections = [out.answer, out.authority, out.additional];
  for (const rr of records) {
    if (rr.type === Type.OPT) continue;
    sections[rr.section]!.push(decodeRecord(buf, rr));
  }
  if (state.opt) {
    const { udpSize, version, do: dnssecOk } = state.opt;
    out.edns = { udpSize, version, do: dnssecOk, options: readOptions(buf, state.opt) };
  }
  return out;
}

const SOA_NUMBERS = 5;

/** Reads rdata of the types psarn serves; every read stays inside the rdata (cursor end). */
function decodeRecord(buf: Buffer, rr: RrInfo): DecodedRecord {
  const labels: number[] = [];
  readName(new Cursor(buf, rr.nameStart), labels);
  const base = { name: presentName(buf, labels, true), ttl: rr.ttl, class: rr.klass };
  const end = rr.rdataStart + rr.rdlen;
  const cur = new Cursor(buf, rr.rdataStart, end);
  let rec: DecodedRecord;
  switch (rr.type) {
    case Type.URI: {
      let uri: ReturnType<typeof decodeUriRdata>;
      try {
        uri = decodeUriRdata(buf.subarray(rr.rdataStart, end));
      } catch (err) {
        const rel = err instanceof WireError ? Math.max(0, err.offset) : 0;
        throw new WireError(err instanceof Error ? err.message : String(err), rr.rdataStart + rel, { cause: err });
      }
      return { ...base, type: 'URI', ...uri };
    }
    case Type.TXT: {
      // RFC 1035 §3.3.14: one or more character-strings filling the rdata.
      if (rr.rdlen === 0) throw new WireError('TXT rdata is empty', rr.rdataStart);
      const strings: string[] = [];
      while (cur.remaining > 0) strings.push(Buffer.from(cur.bytes(cur.u8(), 'TXT string')).toString('utf8'));
      return { ...base, type: 'TXT', strings };
    }
    case Type.CNAME:
      rec = { ...base, type: 'CNAME', target: rdataName(buf, cur) };
      break;
    case Type.NS:
      rec = { ...base, type: 'NS', target: rdataName(buf, cur) };
      break;
    case Type.PTR:
      rec = { ...base, type: 'PTR', target: rdataName(buf, cur) };
      break;
    case Type.SOA: {
      const mname = rdataName(buf, cur);
      const rname = rdataName(buf, cur);
      cur.need(SOA_NUMBERS * 4, 'SOA numbers');
      const [serial, refresh, retry, expire, minimum] = [cur.u32(), cur.u32(), cur.u32(), cur.u32(), cur.u32()];
      rec = {
        ...base,
        type: 'SOA',
        mname,
        rname,
        serial: serial!,
        refresh: refresh!,
        retry: retry!,
        expire: expire!,
        minimum: minimum!,
      };
      break;
    }
    default:
      return {
        ...base,
        type: typeName(rr.type),
        typeCode: rr.type,
        rdata: Buffer.from(buf.subarray(rr.rdataStart, end)),
      };
  }
  if (cur.remaining !== 0)
    throw new WireError(`${cur.remaining} stray bytes at the end of ${typeName(rr.type)} rdata`, cur.pos);
  return rec;
}

function rdataName(buf: Buffer, cur: Cursor): string {
  const labels: number[] = [];
  readName(cur, labels);
  return presentName(buf, labels, true);
}
