/**
 * Encoding of the records psarn serves (RFC 1035 §3.3 for CNAME/NS/PTR/SOA/TXT, RFC 7553 for URI).
 * Names inside CNAME, NS, PTR and SOA rdata are compressed: RFC 3597 §4 allows it for these
 * well-known types only, which is why URI targets are plain bytes.
 */
import { WireError } from './errors.js';
import type { DnsRecord } from './types.js';
import { Class, Type } from './types.js';
import { encodeUriRdata } from './uri.js';
import type { Writer } from './writer.js';

/** RFC 2181 §8: TTLs are 0..2^31-1. */
const MAX_TTL = 0x7fffffff;
const MAX_CHARACTER_STRING = 255;
const MAX_RDATA = 0xffff;

export function typeCodeOf(rr: DnsRecord): number {
  return Type[rr.type];
}

/** Appends one RR; the owner and rdata names are compressed against what `w` holds. */
export function writeRecord(w: Writer, rr: DnsRecord): void {
  if (!Number.isInteger(rr.ttl) || rr.ttl < 0 || rr.ttl > MAX_TTL) {
    throw new WireError(`TTL ${rr.ttl} of ${rr.name} ${rr.type} is outside 0..2147483647`);
  }
  w.nameText(rr.name);
  w.u16(typeCodeOf(rr));
  w.u16(Class.IN);
  w.u32(rr.ttl);
  const lenAt = w.len;
  w.u16(0);
  switch (rr.type) {
    case 'URI':
      w.bytes(encodeUriRdata(rr));
      break;
    case 'TXT':
      writeTxt(w, rr.name, rr.strings);
      break;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      w.nameText(rr.target);
      break;
    case 'SOA':
      w.nameText(rr.mname);
      w.nameText(rr.rname);
      for (const v of [rr.serial, rr.refresh, rr.retry, rr.expire, rr.minimum]) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
          throw new WireError(`SOA field ${v} of ${rr.name} is not a u32`);
        w.u32(v);
      }
      break;
    default:
      throw new WireError(`cannot encode record type ${(rr as { type: string }).type}`);
  }
  const rdlen = w.len - lenAt - 2;
  if (rdlen > MAX_RDATA) throw new WireError(`rdata of ${rr.name} ${rr.type} exceeds 65535 bytes`);
  w.patch16(lenAt, rdlen);
}

/** RFC 1035 §3.3.14: one or more character-strings, each a length octet and up to 255 bytes. */
function writeTxt(w: Writer, owner: string, strings: readonly string[]): void {
  if (strings.length === 0) throw new WireError(`TXT at ${owner} has no character-strings; at least one is required`);
  for (const s of strings) {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > MAX_CHARACTER_STRING) {
      throw new WireError(`TXT string of ${bytes.length} bytes at ${owner} exceeds 255; split it into several strings`);
    }
    w.u8(bytes.length);
    w.bytes(bytes);
  }
}
