/**
 * The record and message values the rest of psarn speaks. Names are absolute, lowercase,
 * with the trailing dot ("created.orders.123456789012.us-east-1.aws.psarn.internal.").
 */

/**
 * The one DNS vocabulary of psarn: every type, class, rcode and opcode code used anywhere in the
 * package comes from these tables, and their mnemonics (src/wire/mnemonics.ts) are derived from
 * them. Codes from the IANA "Domain Name System (DNS) Parameters" registry.
 */

/** RR types by mnemonic (RFC 1035 §3.2.2, RFC 6891 for OPT, RFC 7553 for URI, ...). */
export const Type = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  SIG: 24,
  KEY: 25,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const;

/** Classes (RFC 1035 §3.2.4, RFC 2136 §1.3 for NONE); psarn serves IN only. */
export const Class = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

/**
 * RCODEs (RFC 1035 §4.1.1, RFC 2136 §2.2, RFC 8490 §5.1.1), and the extended ones that need an
 * OPT to carry their upper bits (RFC 6891 §6.1.3: BADVERS; RFC 7873 §8: BADCOOKIE).
 */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  DSOTYPENI: 11,
  BADVERS: 16,
  BADCOOKIE: 23,
} as const;
export type RcodeValue = (typeof Rcode)[keyof typeof Rcode];

/** Opcodes (RFC 1035 §4.1.1, RFC 1996 NOTIFY, RFC 2136 UPDATE, RFC 8490 DSO). */
export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5, DSO: 6 } as const;

/**
 * Longest CNAME chain followed inside one answer, by the server (src/zone/answer.ts) and by the
 * client reading a reply (src/client/route-reader.ts). A longer chain, or a loop, is answered
 * with the chain followed so far (RFC 1034 §4.3.2 step 3a) and left to the resolver.
 */
export const MAX_CNAME_CHAIN = 8;

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
/** A PTR: the catalog zone's member entries (RFC 9432 §4.2). */
export interface PtrRecord extends RecordBase {
  type: 'PTR';
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
export type DnsRecord = UriRecord | TxtRecord | CnameRecord | NsRecord | PtrRecord | SoaRecord;
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
