/**
 * DNS UPDATE messages (RFC 2136 §2) on the wire: `parseUpdate` reads one strictly (every byte
 * hostile, as parseQuery: bounds-checked reads, backward compression pointers only, counts that
 * match the bytes, the OPT and TSIG rules), `encodeUpdate` builds one (tests, the bench, the
 * remote CLI). The meaning of the sections is src/update/; parsing only classifies.
 *
 * An UPDATE reuses the header: QDCOUNT is ZOCOUNT (the zone section, one "question" whose type
 * is SOA), ANCOUNT PRCOUNT (prerequisites), NSCOUNT UPCOUNT (updates), ARCOUNT ADCOUNT (§2.2).
 */
import { Cursor, Hdr, OPCODE_SHIFT, OptTtl } from './cursor.js';
import { WireError } from './errors.js';
import { presentName, readName } from './name.js';
import { type EdnsInfo, type HeaderInfo, type ParsedQuery, parseMessage } from './query.js';
import { type RrInfo, Section } from './scan.js';
import { nameWire } from './tsig.js';
import { Class, type DnsRecord, Opcode, Type } from './types.js';
import { encodeUriRdata } from './uri.js';

/** One RR of the prerequisite or update section (RFC 2136 §2.4, §2.5). */
export interface UpdateRecord {
  /** Owner in presentation form, ASCII-lowercased, trailing dot. */
  name: string;
  /** The owner's labels, leftmost first, lowercased, each the latin1 text of its bytes. */
  labels: string[];
  type: number;
  /** CLASS: the zone's class, ANY or NONE say which of the §2.4/§2.5 forms this RR is. */
  klass: number;
  ttl: number;
  /** RDLENGTH as sent (0 for the ANY/NONE forms that carry no rdata). */
  rdlength: number;
  /**
   * The rdata in canonical form, for comparisons (RFC 2136 §1.1.1, RFC 4034 §6.2): names inside
   * CNAME, NS, PTR and SOA rdata (where RFC 3597 §4 allows compression) uncompressed and
   * lowercased; every other type byte for byte as sent.
   */
  rdata: Buffer;
  /** Offset of the RR's owner in the message, for error messages. */
  offset: number;
}

/** A parsed UPDATE; as a ParsedQuery its "question" is the zone section, so the handler's reply builders take it. */
export interface ParsedUpdate extends ParsedQuery {
  /** The zone section's name (ZNAME), lowercase presentation form. */
  zone: string;
  prerequisites: UpdateRecord[];
  updates: UpdateRecord[];
}

export type UpdateParse =
  | { kind: 'update'; update: ParsedUpdate }
  /**
   * Malformed (ZOCOUNT != 1, a bad name, counts the bytes do not hold, rdata of a known type that
   * does not parse, a misplaced OPT or TSIG, trailing bytes): FORMERR. `questionEnd` is set when
   * the zone section parsed, `edns` when an OPT did, so the reply can echo them.
   */
  | { kind: 'formerr'; header: HeaderInfo; reason: string; offset: number; questionEnd?: number; edns?: EdnsInfo };

/**
 * Classifies one received UPDATE message (opcode 5, QR clear, at least a header long: parseQuery
 * drops anything shorter), read by parseMessage's rules with the zone section as its question.
 * Never throws.
 */
export function parseUpdate(buf: Buffer): UpdateParse {
  const rrs: RrInfo[] = [];
  const parsed = parseMessage(buf, (rr) => {
    if (rr.section !== Section.ADDITIONAL) rrs.push(rr);
  });
  if (parsed.kind === 'formerr') return parsed;
  const query = parsed.query;
  const prerequisites: UpdateRecord[] = [];
  const updates: UpdateRecord[] = [];
  try {
    for (const rr of rrs) (rr.section === Section.ANSWER ? prerequisites : updates).push(updateRecord(buf, rr));
  } catch (err) {
    const offset = err instanceof WireError ? err.offset : -1;
    const reason = err instanceof WireError ? err.message : `internal: ${String(err)}`;
    const { questionEnd, edns } = query;
    return { kind: 'formerr', header: query, reason, offset, questionEnd, ...(edns ? { edns } : {}) };
  }
  return { kind: 'update', update: Object.assign(query, { zone: query.qname, prerequisites, updates }) };
}

function updateRecord(buf: Buffer, rr: RrInfo): UpdateRecord {
  const labelAt: number[] = [];
  readName(new Cursor(buf, rr.nameStart), labelAt);
  const labels: string[] = [];
  for (let i = 0; i < labelAt.length; i += 2) labels.push(asciiLowerLatin1(buf, labelAt[i]!, labelAt[i + 1]!));
  return {
    name: presentName(buf, labelAt, true),
    labels,
    type: rr.type,
    klass: rr.klass,
    ttl: rr.ttl,
    rdlength: rr.rdlen,
    rdata: canonicalRdata(buf, rr),
    offset: rr.nameStart,
  };
}

/** SOA rdata after its two names: serial, refresh, retry, expire, minimum (RFC 1035 §3.3.13). */
const SOA_NUMBERS = 20;

/**
 * The rdata of `rr` in canonical form (see UpdateRecord.rdata). An empty rdata is left empty
 * (the ANY/NONE forms); rdata of a type we read that does not parse is a WireError (FORMERR).
 */
function canonicalRdata(buf: Buffer, rr: RrInfo): Buffer {
  const end = rr.rdataStart + rr.rdlen;
  if (rr.rdlen === 0) return Buffer.alloc(0);
  const cur = new Cursor(buf, rr.rdataStart, end);
  let out: Buffer;
  switch (rr.type) {
    case Type.CNAME:
    case Type.NS:
    case Type.PTR:
      out = canonicalName(buf, cur);
      break;
    case Type.SOA: {
      const mname = canonicalName(buf, cur);
      const rname = canonicalName(buf, cur);
      out = Buffer.concat([mname, rname, cur.bytes(SOA_NUMBERS, 'SOA numbers')]);
      break;
    }
    case Type.TXT:
      // RFC 1035 §3.3.14: one or more character-strings filling the rdata.
      while (cur.remaining > 0) cur.skip(cur.u8('TXT string length'), 'TXT string');
      return Buffer.from(buf.subarray(rr.rdataStart, end));
    case Type.URI:
      // RFC 7553 §4.5: priority, weight, and a target of at least one octet.
      if (rr.rdlen <= 4) throw new WireError(`URI rdata of ${rr.rdlen} bytes; at least 5 needed`, rr.rdataStart);
      return Buffer.from(buf.subarray(rr.rdataStart, end));
    default:
      return Buffer.from(buf.subarray(rr.rdataStart, end));
  }
  if (cur.remaining !== 0) throw new WireError(`${cur.remaining} stray bytes at the end of the rdata`, cur.pos);
  return out;
}

/** A name read from rdata (pointers allowed, backward only), in canonical wire form. */
function canonicalName(buf: Buffer, cur: Cursor): Buffer {
  const labelAt: number[] = [];
  readName(cur, labelAt);
  let size = 1;
  for (let i = 1; i < labelAt.length; i += 2) size += labelAt[i]! + 1;
  const out = Buffer.alloc(size);
  let p = 0;
  for (let i = 0; i < labelAt.length; i += 2) {
    const start = labelAt[i]!;
    const len = labelAt[i + 1]!;
    out[p++] = len;
    for (let j = 0; j < len; j++) {
      const b = buf[start + j]!;
      out[p++] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
    }
  }
  return out;
}

function asciiLowerLatin1(buf: Buffer, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const b = buf[i]!;
    s += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b | 0x20 : b);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Building UPDATE messages.

/** One RR to put in a prerequisite or update section: owner, type, class, TTL, rdata. */
export interface UpdateRecordSpec {
  /** Absolute name in presentation form (trailing dot optional). */
  name: string;
  type: number;
  /** Default Class.IN (the zone's class). */
  klass?: number;
  /** Default 0. */
  ttl?: number;
  /** Default none (RDLENGTH 0). */
  rdata?: Uint8Array;
}

/**
 * The rdata of a record psarn serves, in canonical form (names uncompressed and lowercased): what
 * `update add` sends, and what UpdateRecord.rdata is compared with.
 * @throws WireError on a value that cannot be encoded
 */
export function recordRdata(rec: DnsRecord): Buffer {
  switch (rec.type) {
    case 'URI':
      return encodeUriRdata(rec);
    case 'TXT':
      return txtRdata(rec.strings);
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return nameWire(rec.target);
    case 'SOA': {
      const numbers = Buffer.alloc(SOA_NUMBERS);
      [rec.serial, rec.refresh, rec.retry, rec.expire, rec.minimum].forEach((v, i) => {
        numbers.writeUInt32BE(v >>> 0, i * 4);
      });
      return Buffer.concat([nameWire(rec.mname), nameWire(rec.rname), numbers]);
    }
  }
}

/** TXT rdata: each string a length octet and at most 255 bytes of UTF-8 (RFC 1035 §3.3.14). */
export function txtRdata(strings: readonly (string | Uint8Array)[]): Buffer {
  if (strings.length === 0) throw new WireError('a TXT record needs at least one character-string');
  const parts: Buffer[] = [];
  for (const s of strings) {
    const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
    if (bytes.length > 255) throw new WireError(`TXT string of ${bytes.length} bytes exceeds 255`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  return Buffer.concat(parts);
}

/** The character-strings of TXT rdata already checked by parseUpdate (each a length octet and its bytes). */
export function txtStrings(rdata: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < rdata.length) {
    const len = rdata[p]!;
    out.push(Buffer.from(rdata.subarray(p + 1, p + 1 + len)));
    p += 1 + len;
  }
  return out;
}

/** `update add` (RFC 2136 §2.5.1): the record, with its TTL, in the zone's class. */
export function addRecord(rec: DnsRecord): UpdateRecordSpec {
  return { name: rec.name, type: Type[rec.type], klass: Class.IN, ttl: rec.ttl, rdata: recordRdata(rec) };
}

/** `update delete NAME TYPE` (RFC 2136 §2.5.2): the whole RRset. */
export function deleteRRset(name: string, type: number): UpdateRecordSpec {
  return { name, type, klass: Class.ANY };
}

/** `update delete NAME` (RFC 2136 §2.5.3): every RRset at the name. */
export function deleteName(name: string): UpdateRecordSpec {
  return { name, type: Type.ANY, klass: Class.ANY };
}

/** `update delete NAME TYPE RDATA` (RFC 2136 §2.5.4): one RR, matched by its rdata. */
export function deleteRecord(rec: DnsRecord): UpdateRecordSpec {
  return { name: rec.name, type: Type[rec.type], klass: Class.NONE, rdata: recordRdata(rec) };
}

/** `prereq yxrrset NAME TYPE` (RFC 2136 §2.4.1): an RRset exists, whatever its value. */
export function rrsetExists(name: string, type: number): UpdateRecordSpec {
  return { name, type, klass: Class.ANY };
}

/** `prereq yxrrset NAME TYPE RDATA` (RFC 2136 §2.4.2): the RRset is exactly these records (one spec each). */
export function rrsetIs(rec: DnsRecord): UpdateRecordSpec {
  return { name: rec.name, type: Type[rec.type], klass: Class.IN, rdata: recordRdata(rec) };
}

/** `prereq nxrrset NAME TYPE` (RFC 2136 §2.4.3). */
export function rrsetAbsent(name: string, type: number): UpdateRecordSpec {
  return { name, type, klass: Class.NONE };
}

/** `prereq yxdomain NAME` (RFC 2136 §2.4.4): at least one RR at the name. */
export function nameInUse(name: string): UpdateRecordSpec {
  return { name, type: Type.ANY, klass: Class.ANY };
}

/** `prereq nxdomain NAME` (RFC 2136 §2.4.5): no RR at the name. */
export function nameNotInUse(name: string): UpdateRecordSpec {
  return { name, type: Type.ANY, klass: Class.NONE };
}

export interface UpdateMessage {
  id: number;
  /** The zone (ZNAME); its SOA type and class IN are written for it. */
  zone: string;
  prerequisites?: readonly UpdateRecordSpec[];
  updates?: readonly UpdateRecordSpec[];
  /** Add an OPT with this UDP payload size (default 1232); false sends none. */
  edns?: { udpSize?: number } | false;
}

/**
 * Builds an UPDATE message (RFC 2136 §2), names uncompressed; sign it with signMessage.
 * @throws WireError on a name or value that cannot be encoded, or a message over 65535 bytes
 * @example encodeUpdate({ id: 1, zone: Z, updates: [addRecord({ name, ttl: 300, type: 'URI', priority: 10, weight: 1, target })] })
 */
export function encodeUpdate(message: UpdateMessage): Buffer {
  const prerequisites = message.prerequisites ?? [];
  const updates = message.updates ?? [];
  const edns = message.edns === false ? undefined : (message.edns ?? {});
  const parts: Buffer[] = [];
  const header = Buffer.alloc(Hdr.SIZE);
  header.writeUInt16BE(message.id & 0xffff, Hdr.ID);
  header.writeUInt16BE(Opcode.UPDATE << OPCODE_SHIFT, Hdr.FLAGS);
  header.writeUInt16BE(1, Hdr.QDCOUNT);
  header.writeUInt16BE(prerequisites.length, Hdr.ANCOUNT);
  header.writeUInt16BE(updates.length, Hdr.NSCOUNT);
  header.writeUInt16BE(edns ? 1 : 0, Hdr.ARCOUNT);
  parts.push(header, nameWire(message.zone), u16s(Type.SOA, Class.IN));
  for (const rr of [...prerequisites, ...updates]) {
    const rdata = rr.rdata ?? new Uint8Array(0);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(rr.type, 0);
    fixed.writeUInt16BE(rr.klass ?? Class.IN, 2);
    fixed.writeUInt32BE((rr.ttl ?? 0) >>> 0, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    parts.push(nameWire(rr.name), fixed, Buffer.from(rdata));
  }
  if (edns) {
    // OPT (RFC 6891 §6.1.2): root owner, our payload size, version 0, no options.
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(Type.OPT, 1);
    opt.writeUInt16BE(edns.udpSize ?? 1232, 3);
    opt.writeUInt32BE(0 << OptTtl.VERSION_SHIFT, 5);
    parts.push(opt);
  }
  const out = Buffer.concat(parts);
  if (out.length > 0xffff) throw new WireError(`an UPDATE of ${out.length} bytes exceeds 65535`);
  return out;
}

function u16s(a: number, b: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt16BE(a, 0);
  out.writeUInt16BE(b, 2);
  return out;
}
