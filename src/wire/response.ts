/**
 * Replies as bytes. A Reply is encoded once into a ReadyAnswer (the sections after the question,
 * names compressed against the question at offset 12, RFC 1035 §4.1.4); each query then only
 * writes a 12-byte header, copies its own question (so the reply echoes the question's case,
 * and answer owners that point at it do too), appends the ready sections and, when the query
 * had EDNS, an OPT RR (RFC 6891). No full encode per query.
 */
import type { EdnsInfo, HeaderInfo } from './query.js';
import type { RcodeValue, Reply } from './types.js';

export interface ReadyAnswer {
  rcode: RcodeValue;
  aa: boolean;
  ancount: number;
  nscount: number;
  /** Additional records in `body`, not counting the OPT added per query. */
  arcount: number;
  /** Answer, authority and additional sections, compressed against the question at offset 12. */
  body: Buffer;
}

/**
 * Encodes a Reply for the question `questionWire` (name+type+class, name lowercase; the
 * `key` of ParsedQuery as latin1). Owner names equal to the question name or its suffixes
 * become pointers into the question. Throws only on a bug (record not encodable).
 */
export function encodeReady(_questionWire: Buffer, _reply: Reply): ReadyAnswer {
  throw new Error('not implemented');
}

export interface AssembleOptions {
  /**
   * Largest reply allowed (UDP: min(requester's size or 512 without EDNS, our udpPayloadSize);
   * TCP: 65535). A larger reply is cut to header + question (+ OPT) with TC set (RFC 2181 §9).
   */
  maxSize: number;
  /** Our advertised UDP payload size, put in the reply's OPT (default 1232). */
  udpPayloadSize: number;
}

/**
 * The reply to a parsed query: header (id, opcode, RD and CD copied, QR, AA, rcode low bits),
 * the request's own question bytes `request[12, questionEnd)`, the ready sections, and an OPT
 * when `edns` is given (extended rcode high bits, version 0, DO copied, no options).
 */
export function assembleResponse(
  _request: Buffer,
  _query: HeaderInfo & { questionEnd: number; edns?: EdnsInfo },
  _ready: ReadyAnswer,
  _options: AssembleOptions,
): { buf: Buffer; truncated: boolean } {
  throw new Error('not implemented');
}

/**
 * An error reply without answer data (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS): header,
 * the question when `questionEnd` is given, and an OPT when `edns` is given (required for
 * BADVERS, RFC 6891 §6.1.3).
 */
export function errorResponse(
  _request: Buffer,
  _header: HeaderInfo,
  _rcode: RcodeValue,
  _options: { questionEnd?: number; edns?: EdnsInfo; udpPayloadSize: number },
): Buffer {
  throw new Error('not implemented');
}
