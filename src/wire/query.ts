/**
 * Strict parsing of an incoming query (DESIGN.md §5, RFC 1035 §4.1, RFC 6891, RFC 8906).
 * Every byte is hostile: bounds-checked reads, labels <= 63, names <= 255 octets, only backward
 * compression pointers with a jump limit, section counts that match the bytes, OPT rules.
 * Parsing only classifies; the server decides the answer.
 */

/** EDNS(0) as the requester sent it (RFC 6891 §6.1.2). */
export interface EdnsInfo {
  /** The requester's UDP payload size, raised to 512 when it advertised less. */
  udpSize: number;
  version: number;
  /** DNSSEC OK bit (RFC 3225), copied into the reply's OPT. */
  do: boolean;
}

export interface ParsedQuery {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
  /** Labels of the question name, leftmost first, ASCII-lowercased, each the latin1 text of its bytes. */
  labels: string[];
  /** The question name in presentation form, lowercase, trailing dot; "." for the root. */
  qname: string;
  qtype: number;
  qclass: number;
  /** Byte offset just past the question (it starts at 12): `buf.subarray(12, questionEnd)`. */
  questionEnd: number;
  /**
   * The question section (name, type, class) with the name ASCII-lowercased, as latin1 text:
   * a cache key for ready answers, and the wire question they were built for.
   */
  key: string;
  /** Present when the query carried an OPT RR. */
  edns?: EdnsInfo;
}

/** Header fields that can be echoed in an error reply. */
export interface HeaderInfo {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
}

export type QueryParse =
  | { kind: 'query'; query: ParsedQuery }
  /** Too short for a header, or QR set: no reply at all. */
  | { kind: 'drop'; reason: string }
  /** Opcode other than QUERY (RFC 8906 §3.1.2): reply NOTIMP, header only. */
  | { kind: 'notimp'; header: HeaderInfo; reason: string }
  /**
   * Malformed (QDCOUNT != 1, bad label, pointer loop, name > 255, bad counts, trailing bytes,
   * OPT misplaced/duplicated/non-root, question type OPT ...): reply FORMERR. `questionEnd` is
   * set when the question itself parsed, so it can be echoed; `edns` when an OPT parsed.
   */
  | { kind: 'formerr'; header: HeaderInfo; reason: string; offset: number; questionEnd?: number; edns?: EdnsInfo };

/** Classifies one received message. Never throws. */
export function parseQuery(_buf: Buffer): QueryParse {
  throw new Error('not implemented');
}
