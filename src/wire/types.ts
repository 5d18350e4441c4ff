/**
 * The record and message values the rest of psarn speaks. Names are absolute, lowercase,
 * with the trailing dot ("created.orders.123456789012.us-east-1.aws.psarn.internal.").
 */

/** RR type codes we use by name (RFC 1035 §3.2.2, RFC 6891, RFC 7553). */
export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
} as const;

export const Class = { IN: 1, CH: 3, NONE: 254, ANY: 255 } as const;

/** RCODEs, including the extended BADVERS (RFC 6891 §6.1.3), which needs an OPT to carry. */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;
export type RcodeValue = (typeof Rcode)[keyof typeof Rcode];

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

interface RecordBase {
  /** Absolute owner name, lowercase, trailing dot. */
  name: string;
  /** Seconds, 0..2^31-1. */
  ttl: number;
}
export interface UriRecord extends RecordBase {
  type: 'URI';
  priority: number;
  weight: number;
  /** Byte-exact target, case preserved (RFC 7553 §4.4). */
  target: string;
}
export interface TxtRecord extends RecordBase {
  type: 'TXT';
  /** Character-strings, each at most 255 bytes in UTF-8. */
  strings: string[];
}
export interface CnameRecord extends RecordBase {
  type: 'CNAME';
  /** Absolute name. */
  target: string;
}
export interface NsRecord extends RecordBase {
  type: 'NS';
  /** Absolute name. */
  target: string;
}
export interface SoaRecord extends RecordBase {
  type: 'SOA';
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}
/** The records psarn serves. */
export type DnsRecord = UriRecord | TxtRecord | CnameRecord | NsRecord | SoaRecord;
export type RecordType = DnsRecord['type'];

/** What the answer function decides; listeners turn it into bytes. */
export interface Reply {
  rcode: RcodeValue;
  /** Authoritative answer flag: set for every answer from one of our zones. */
  aa: boolean;
  answer: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}
