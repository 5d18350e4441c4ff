/**
 * Replies as bytes. A Reply is encoded once into a ReadyAnswer (the sections after the question,
 * names compressed against the question at offset 12, RFC 1035 §4.1.4); each query then only
 * writes a 12-byte header, copies its own question (so the reply echoes the question's case,
 * and answer owners that point at it do too), appends the ready sections and, when the query
 * had EDNS, an OPT RR (RFC 6891). No full encode per query.
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
} from './cursor.js';
import { WireError } from './errors.js';
import { readName } from './name.js';
import type { EdnsInfo, HeaderInfo } from './query.js';
import { writeRecord } from './rdata.js';
import type { RcodeValue, Reply } from './types.js';
import { Type } from './types.js';
import { Writer } from './writer.js';

export interface ReadyAnswer {
  rcode: RcodeValue;
  aa: boolean;
  ancount: number;
  nscount: number;
  /** Additional records in `body`, not counting the OPT added per query. */
  arcount: number;
  /** Answer, authority and additional sections, compressed against the question at offset 12. */
  body: Buffer;
  /**
   * Offset in `body` where the additional section starts (`body.length` when there is none):
   * a reply too big for the requester drops that section before it sets TC (RFC 2181 §9).
   */
  additionalAt: number;
  /**
   * The Extended DNS Error this answer explains itself with (RFC 8914), as option bytes from
   * `edeOption`: sent when the query had EDNS, e.g. 22 No Reachable Authority on a secondary past
   * its expire. docs/design.md#edns-options
   */
  ede?: Uint8Array;
}

/** Extended DNS Error info-codes psarnd sends (RFC 8914 §4). */
export const Ede = {
  OTHER: 0,
  PROHIBITED: 18,
  NOT_AUTHORITATIVE: 20,
  NOT_SUPPORTED: 21,
  NO_REACHABLE_AUTHORITY: 22,
} as const;

/** Option codes (IANA "DNS EDNS0 Option Codes"); COOKIE is src/wire/cookie.ts's. */
const OPTION_NSID = 3;
const OPTION_EXPIRE = 9;
const OPTION_EDE = 15;
/** An EDE's EXTRA-TEXT is for a human; longer text is cut (docs/design.md#edns-options). */
export const EDE_TEXT_MAX = 64;

/** One EDNS option: code u16, length u16, data (RFC 6891 §6.1.2). */
export function ednsOption(code: number, data: Uint8Array): Buffer {
  if (data.length > 0xffff) throw new RangeError(`an EDNS option holds at most 65535 bytes, not ${data.length}`);
  const out = Buffer.allocUnsafeSlow(4 + data.length);
  out.writeUInt16BE(code, 0);
  out.writeUInt16BE(data.length, 2);
  out.set(data, 4);
  return out;
}

/**
 * An Extended DNS Error option (RFC 8914 §2): INFO-CODE and an optional EXTRA-TEXT, UTF-8, cut at
 * EDE_TEXT_MAX bytes (on a character boundary). The text is for an operator reading dig: never
 * a secret, a path or a stack.
 */
export function edeOption(infoCode: number, text = ''): Buffer {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > EDE_TEXT_MAX) {
    let cut = EDE_TEXT_MAX;
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const data = Buffer.alloc(2 + bytes.length);
  data.writeUInt16BE(infoCode, 0);
  data.set(bytes, 2);
  return ednsOption(OPTION_EDE, data);
}

/** An NSID option (RFC 5001 §2.3) carrying `id`. */
export function nsidOption(id: Uint8Array): Buffer {
  return ednsOption(OPTION_NSID, id);
}

/** An EXPIRE option (RFC 7314 §2) carrying `seconds`: for SOA answers and zone transfers. */
export function expireOption(seconds: number): Buffer {
  const data = Buffer.alloc(4);
  data.writeUInt32BE(seconds >>> 0, 0);
  return ednsOption(OPTION_EXPIRE, data);
}

/**
 * The options a reply's OPT carries, each part already option bytes. `kept` (COOKIE, EXPIRE:
 * a few dozen bytes, what the requester needs to go on) stays even in a truncated reply;
 * `optional` (NSID, EDE) is dropped first when the reply is over the size limit, before the
 * additional section (RFC 8914 §3). docs/design.md#edns-options
 */
export interface ReplyOptions {
  kept?: Uint8Array | undefined;
  optional?: Uint8Array | undefined;
}

/** The first record of an answer section in `body` when it is an SOA: its EXPIRE field, else undefined. */
export function soaExpireOf(ready: ReadyAnswer): number | undefined {
  if (ready.ancount === 0 || ready.rcode !== 0) return undefined;
  const body = ready.body;
  let pos = 0;
  // The owner: labels, then a root or a pointer (names here point at the question).
  while (pos < body.length) {
    const len = body[pos]!;
    if (len === 0) {
      pos += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      pos += 2;
      break;
    }
    pos += 1 + len;
  }
  if (pos + 10 > body.length || body.readUInt16BE(pos) !== Type.SOA) return undefined;
  const rdEnd = pos + 10 + body.readUInt16BE(pos + 8);
  // EXPIRE then MINIMUM end the SOA rdata (RFC 1035 §3.3.13).
  return rdEnd <= body.length && rdEnd - 8 >= pos + 10 ? body.readUInt32BE(rdEnd - 8) : undefined;
}

/**
 * Records a caller appends after a Reply's own (the route records of src/zone/route-wire.ts),
 * writing into `w.buf` at `w.len` with the names already in the message to point at. Only for
 * replies whose authority and additional sections are empty.
 * @returns the records written: answer-section ones, then additional ones from `additionalAt`
 *   (an offset in `w.buf`).
 */
export type ReadyTail = (w: Writer) => { ancount: number; arcount: number; additionalAt: number };

/**
 * Encodes a Reply for the question `questionWire` (name+type+class, name lowercase; the
 * `key` of ParsedQuery as latin1). Owner names equal to the question name or its suffixes
 * become pointers into the question. Throws only on a bug (record not encodable).
 *
 * Record names may use presentation escapes (`\.`, `\\`, `\DDD`), the same form as
 * ParsedQuery.qname, so a qname can be used as an owner as is.
 * @throws WireError on a record that cannot be encoded (bad name, TXT string over 255 bytes, ...)
 */
export function encodeReady(questionWire: Buffer, reply: Reply, tail?: ReadyTail): ReadyAnswer {
  const w = new Writer(512);
  w.bytes(new Uint8Array(Hdr.SIZE));
  w.bytes(questionWire);
  const cur = new Cursor(w.buf, Hdr.SIZE, w.len);
  readName(cur, undefined, false);
  if (cur.remaining !== QUESTION_FIXED) throw new WireError('questionWire is not one name, type and class', cur.pos);
  w.seedName(Hdr.SIZE);
  const bodyStart = w.len;
  for (const rr of reply.answer) writeRecord(w, rr);
  for (const rr of reply.authority) writeRecord(w, rr);
  let additionalAt = w.len;
  for (const rr of reply.additional) writeRecord(w, rr);
  let ancount = reply.answer.length;
  let arcount = reply.additional.length;
  if (tail !== undefined) {
    if (reply.authority.length + reply.additional.length > 0)
      throw new WireError('a tail after authority or additional records');
    const added = tail(w);
    ancount += added.ancount;
    arcount += added.arcount;
    additionalAt = added.additionalAt;
  }
  // A ready answer lives in a cache: give it memory of its own. A copy from Node's shared 8 KiB
  // pool would keep the whole slab (and every short-lived buffer in it) alive with it.
  const body = Buffer.allocUnsafeSlow(w.len - bodyStart);
  w.buf.copy(body, 0, bodyStart, w.len);
  return {
    rcode: reply.rcode,
    aa: reply.aa,
    ancount,
    nscount: reply.authority.length,
    arcount,
    body,
    additionalAt: additionalAt - bodyStart,
  };
}

/** Root owner, type, class, TTL, rdlength: an OPT without options (RFC 6891 §6.1.2). */
const OPT_SIZE = RR_MIN;

/**
 * Where a reply is written: by default a new Buffer; given `out`, into `out` at `outOffset`
 * (default 0), and the Buffer returned is then the view of `out` the reply fills (the native UDP
 * carrier's send slot: no allocation and no copy per reply). Same bytes either way.
 */
export interface ReplyTarget {
  out?: Buffer | undefined;
  outOffset?: number;
}

/** A reply of `size` bytes: a new Buffer, or the view of target.out it goes in (RangeError when it does not fit). */
function replyBuffer(size: number, target: ReplyTarget): Buffer {
  const { out } = target;
  if (out === undefined) return Buffer.allocUnsafe(size);
  const offset = target.outOffset ?? 0;
  if (!(offset >= 0 && offset + size <= out.length)) {
    throw new RangeError(`a ${size}-byte reply does not fit at offset ${offset} of a ${out.length}-byte buffer`);
  }
  return out.subarray(offset, offset + size);
}

export interface AssembleOptions extends ReplyTarget {
  /**
   * Largest reply allowed (UDP: min(requester's size or 512 without EDNS, our udpPayloadSize);
   * TCP: 65535). A larger reply loses its additional section first; when the answer and
   * authority do not fit either, it is cut to header + question (+ OPT) with TC set (RFC 2181 §9).
   */
  maxSize: number;
  /** Our advertised UDP payload size, put in the reply's OPT (default 1232). */
  udpPayloadSize: number;
  /** Options for the OPT (only when the query had EDNS); none by default. */
  ednsOptions?: ReplyOptions | undefined;
}

/**
 * The reply to a parsed query: header (id, opcode, RD and CD copied, QR, AA, rcode low bits),
 * the request's own question bytes `request[12, questionEnd)`, the ready sections, and an OPT
 * when `edns` is given (extended rcode high bits, version 0, DO copied, no options).
 */
export function assembleResponse(
  request: Buffer,
  query: HeaderInfo & { questionEnd: number; edns?: EdnsInfo },
  ready: ReadyAnswer,
  options: AssembleOptions,
): { buf: Buffer; truncated: boolean } {
  const qEnd = query.questionEnd;
  let optSize = query.edns ? OPT_SIZE : 0;
  // The common reply has no options: one test, and the OPT's fixed part only.
  let kept: Uint8Array | undefined;
  let optional: Uint8Array | undefined;
  const ednsOptions = options.ednsOptions;
  if (ednsOptions !== undefined && query.edns) {
    kept = ednsOptions.kept;
    optional = ednsOptions.optional;
    optSize += (kept?.length ?? 0) + (optional?.length ?? 0);
  }
  // RFC 2181 §9: TC only when the required data does not fit. Informational options go first
  // (RFC 8914 §3), then the additional section (the client asks for it itself), whole.
  let bodyLength = ready.body.length;
  let arcount = ready.arcount;
  if (optional !== undefined && qEnd + bodyLength + optSize > options.maxSize) {
    optSize -= optional.length;
    optional = undefined;
  }
  if (qEnd + bodyLength + optSize > options.maxSize) {
    bodyLength = ready.additionalAt;
    arcount = 0;
  }
  const truncated = qEnd + bodyLength + optSize > options.maxSize;
  if (truncated) bodyLength = 0;
  const buf = replyBuffer(qEnd + bodyLength + optSize, options);
  writeHeader(buf, query, ready.rcode, ready.aa, truncated);
  buf.writeUInt16BE(1, Hdr.QDCOUNT);
  buf.writeUInt16BE(truncated ? 0 : ready.ancount, Hdr.ANCOUNT);
  buf.writeUInt16BE(truncated ? 0 : ready.nscount, Hdr.NSCOUNT);
  buf.writeUInt16BE(arcount + (query.edns ? 1 : 0), Hdr.ARCOUNT);
  // TypedArray#set: Buffer#copy's argument checks cost more than the copy at these sizes.
  buf.set(request.subarray(Hdr.SIZE, qEnd), Hdr.SIZE);
  let pos = qEnd;
  if (bodyLength > 0) {
    buf.set(bodyLength === ready.body.length ? ready.body : ready.body.subarray(0, bodyLength), pos);
    pos += bodyLength;
  }
  if (query.edns) writeOpt(buf, pos, ready.rcode, query.edns.do, options.udpPayloadSize, kept, optional);
  return { buf, truncated };
}

/**
 * An error reply without answer data (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS): header,
 * the question when `questionEnd` is given, and an OPT when `edns` is given (required for
 * BADVERS, RFC 6891 §6.1.3). BADVERS always carries an OPT, since its rcode does not fit the
 * header alone.
 */
export function errorResponse(
  request: Buffer,
  header: HeaderInfo,
  rcode: RcodeValue,
  options: {
    questionEnd?: number;
    edns?: EdnsInfo;
    udpPayloadSize: number;
    /** Options for the OPT, when the request had EDNS. */
    ednsOptions?: ReplyOptions | undefined;
    /** The size limit of the transport: over it, the optional options are left out. */
    maxSize?: number;
  } & ReplyTarget,
): Buffer {
  const qEnd = options.questionEnd ?? Hdr.SIZE;
  const withOpt = options.edns !== undefined || rcode > RCODE_MASK;
  const kept = options.edns ? options.ednsOptions?.kept : undefined;
  let optional = options.edns ? options.ednsOptions?.optional : undefined;
  let optSize = withOpt ? OPT_SIZE + (kept?.length ?? 0) + (optional?.length ?? 0) : 0;
  if (optional !== undefined && qEnd + optSize > (options.maxSize ?? 0xffff)) {
    optSize -= optional.length;
    optional = undefined;
  }
  const buf = replyBuffer(qEnd + optSize, options);
  writeHeader(buf, header, rcode, false, false);
  buf.writeUInt16BE(options.questionEnd === undefined ? 0 : 1, Hdr.QDCOUNT);
  buf.writeUInt16BE(0, Hdr.ANCOUNT);
  buf.writeUInt16BE(0, Hdr.NSCOUNT);
  buf.writeUInt16BE(withOpt ? 1 : 0, Hdr.ARCOUNT);
  request.copy(buf, Hdr.SIZE, Hdr.SIZE, qEnd);
  if (withOpt) writeOpt(buf, qEnd, rcode, options.edns?.do ?? false, options.udpPayloadSize, kept, optional);
  return buf;
}

/** Header without counts: QR=1, opcode/RD/CD copied, RA=Z=AD=0 (RFC 1035 §4.1.1, RFC 6840 §5.7). */
function writeHeader(buf: Buffer, h: HeaderInfo, rcode: number, aa: boolean, tc: boolean): void {
  let flags = Flag.QR | ((h.opcode & OPCODE_MASK) << OPCODE_SHIFT) | (rcode & RCODE_MASK);
  if (aa) flags |= Flag.AA;
  if (tc) flags |= Flag.TC;
  if (h.rd) flags |= Flag.RD;
  if (h.cd) flags |= Flag.CD;
  buf.writeUInt16BE(h.id, Hdr.ID);
  buf.writeUInt16BE(flags, Hdr.FLAGS);
}

/**
 * Our OPT: root owner, our payload size, extended rcode, version 0, DO echoed (RFC 3225 §3), and
 * the options given (already option bytes).
 */
function writeOpt(
  buf: Buffer,
  pos: number,
  rcode: number,
  dnssecOk: boolean,
  udpPayloadSize: number,
  kept?: Uint8Array,
  optional?: Uint8Array,
): void {
  buf[pos] = 0;
  buf.writeUInt16BE(Type.OPT, pos + 1);
  buf.writeUInt16BE(udpPayloadSize, pos + 3);
  const ttl = ((rcode >>> RCODE_HEADER_BITS) << OptTtl.EXT_RCODE_SHIFT) | (dnssecOk ? OptTtl.DO : 0);
  buf.writeUInt32BE(ttl >>> 0, pos + 5);
  let at = pos + OPT_SIZE;
  if (kept !== undefined) {
    buf.set(kept, at);
    at += kept.length;
  }
  if (optional !== undefined) {
    buf.set(optional, at);
    at += optional.length;
  }
  buf.writeUInt16BE(at - pos - OPT_SIZE, pos + 9);
}
