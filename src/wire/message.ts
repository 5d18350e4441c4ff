/**
 * Whole-message codec for clients (the CLI's dig, the client library, tests). Queries are built
 * with dns-packet. Replies are validated strictly by the same scanner as parseQuery (dns-packet
 * 5.6 decodes some truncated packets without error and does not check label lengths), then the
 * records psarn serves are read from the validated offsets with our cursor: dns-packet decodes
 * labels as UTF-8 without escaping "." or case-folding, so its names would have to be re-read
 * anyway, and a dns-packet failure on a record type we keep raw must not reject a good reply.
 * dns-packet stays the independent decoder the tests check our encoder against.
 */
import dnsPacket from 'dns-packet';
import { Cursor, Flag, Hdr, OPCODE_MASK, OPCODE_SHIFT, RCODE_MASK, u16At } from './cursor.js';
import { WireError } from './errors.js';
import { parseName, presentName, readName } from './name.js';
import type { RrInfo, ScanState } from './scan.js';
import { readOptions, scanRecords } from './scan.js';
import type { DnsRecord, RcodeValue } from './types.js';
import { Type } from './types.js';
import { decodeUriRdata } from './uri.js';

export { rcodeName, typeCode, typeName } from './mnemonics.js';

import { typeName } from './mnemonics.js';
export interface QueryOptions {
  id: number;
  /** Absolute or relative name; a trailing dot is added. */
  name: string;
  /** Numeric type, e.g. Type.URI. */
  qtype: number;
  qclass?: number;
  rd?: boolean;
  /** Add an OPT with this UDP payload size (default: 1232); false sends no OPT. */
  edns?: { udpSize?: number; do?: boolean; version?: number } | false;
}

/** Builds a query message. @throws WireError on a name that cannot be encoded. */
export function encodeQuery(options: QueryOptions): Buffer {
  const name = options.name.endsWith('.') ? options.name : `${options.name}.`;
  // dns-packet splits names on every "." and writes UTF-8: escapes cannot be expressed.
  if (name.includes('\\'))
    throw new WireError(`name '${options.name}' has an escape; the query encoder takes plain names`);
  const labels = parseName(name);
  const qclass = options.qclass ?? 1;
  checkUint('qtype', options.qtype, 0xffff);
  checkUint('qclass', qclass, 0xffff);
  const additionals: dnsPacket.OptAnswer[] = [];
  if (options.edns !== false) {
    const e = options.edns ?? {};
    const udpSize = e.udpSize ?? DEFAULT_UDP_SIZE;
    const version = e.version ?? 0;
    checkUint('EDNS udpSize', udpSize, 0xffff);
    checkUint('EDNS version', version, 0xff);
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: udpSize,
      extendedRcode: 0,
      ednsVersion: version,
      flags: e.do ? dnsPacket.DNSSEC_OK : 0,
      flag_do: e.do === true,
      options: [],
    });
  }
  checkUint('id', options.id, 0xffff);
  const buf = dnsPacket.encode({
    id: options.id,
    type: 'query',
    flags: options.rd ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ name: labels.length === 0 ? '.' : name.slice(0, -1), type: 'A', class: 'IN' }],
    additionals,
  });
  // dns-packet knows types by mnemonic only (URI is not among them): write the codes ourselves.
  let at = Hdr.SIZE + 1;
  for (const l of labels) at += l.length + 1;
  buf.writeUInt16BE(options.qtype, at);
  buf.writeUInt16BE(qclass, at + 2);
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
    rcode: (flags & RCODE_MASK) | ((state.opt?.extendedRcode ?? 0) << 4),
    question,
    answer: [],
    authority: [],
    additional: [],
    size: buf.length,
  };
  const sections = [out.answer, out.authority, out.additional];
  for (const rr of records) {
    if (rr.type === OPT_TYPE) continue;
    sections[rr.section]!.push(decodeRecord(buf, rr));
  }
  if (state.opt) {
    const { udpSize, version, do: dnssecOk } = state.opt;
    out.edns = { udpSize, version, do: dnssecOk, options: readOptions(buf, state.opt) };
  }
  return out;
}

const OPT_TYPE = 41;
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
