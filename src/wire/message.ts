/**
 * Whole-message codec for clients (the CLI's dig, the client library, tests): queries built with
 * dns-packet; replies validated strictly by our own scanner first (dns-packet 5.6 decodes some
 * truncated packets without error and does not check label lengths), then decoded, with URI
 * records decoded by our codec.
 */
import type { DnsRecord, RcodeValue } from './types.js';

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
export function encodeQuery(_options: QueryOptions): Buffer {
  throw new Error('not implemented');
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
export function decodeMessage(_buf: Buffer): DecodedMessage {
  throw new Error('not implemented');
}

/** Type mnemonic for a code (URI for 256, TYPE1234 for unknown, RFC 3597). */
export function typeName(_code: number): string {
  throw new Error('not implemented');
}

/** Code for a mnemonic (case-insensitive; accepts TYPEnnn). undefined when unknown. */
export function typeCode(_name: string): number | undefined {
  throw new Error('not implemented');
}

/** Rcode mnemonic (NOERROR, NXDOMAIN, BADVERS, ...), RCODEnn for unknown. */
export function rcodeName(_rcode: number): string {
  throw new Error('not implemented');
}
