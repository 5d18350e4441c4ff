/**
 * Presentation format (RFC 1035 §5.1, RFC 7553 §4.5 for URI): records as text for dig-style
 * output, `zone export` and tests. Character-strings are quoted, with `"` and `\` escaped and
 * bytes outside printable ASCII as \DDD.
 */

import { echo, quote } from '../errors.js';
import type { DnsRecord } from '../wire/types.js';
import { ZoneFileError } from './errors.js';
import { parseMasterFile } from './parse.js';

/**
 * One record as a master-file line, tab separated:
 * `created.orders.123456789012.us-east-1.aws.psarn.internal.\t300\tIN\tURI\t10 90 "arn:aws:lambda:..."`
 */
export function formatRecord(record: DnsRecord): string {
  return `${record.name}\t${record.ttl}\tIN\t${record.type}\t${formatRdata(record)}`;
}

/** The rdata part only, e.g. `10 90 "arn:..."` or `"v=psarn1" "policy=weighted" "epoch=1"`. */
export function formatRdata(record: DnsRecord): string {
  switch (record.type) {
    case 'URI':
      // RFC 7553 §4.5: the target is a quoted character-string-like field (no 255-byte limit).
      return `${record.priority} ${record.weight} ${quoteString(record.target)}`;
    case 'TXT':
      return record.strings.map(quoteString).join(' ');
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return record.target;
    case 'SOA':
      return `${record.mname} ${record.rname} ${record.serial} ${record.refresh} ${record.retry} ${record.expire} ${record.minimum}`;
  }
}

/** Printable ASCII except `"` and `\`: the fast path that needs no escaping. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const encoder = new TextEncoder();

/**
 * A character-string in quotes with escapes (RFC 1035 §5.1): `"` and `\` as `\"` and `\\`,
 * every byte of the UTF-8 form outside 0x20..0x7E as `\DDD` (three decimal digits), so the
 * file is ASCII and reads back byte-exact.
 */
export function quoteString(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (const b of encoder.encode(s)) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\${b.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * Parses one record line in presentation form (absolute owner, TTL, optional class, type,
 * rdata), e.g. for tests: `parseRecord('a.b. 300 IN URI 10 90 "arn:x"')`.
 * @throws ZoneFileError
 */
export function parseRecord(line: string): DnsRecord {
  const parsed = parseMasterFile(line);
  if (parsed.length !== 1) {
    throw new ZoneFileError(`expected exactly one record, found ${parsed.length} in ${quote(line)}`);
  }
  const [only] = parsed;
  if (only!.record === undefined) {
    throw new ZoneFileError(
      `type ${echo(only!.otherType!)} is not one psarn reads (SOA NS URI TXT CNAME) in ${quote(line)}`,
    );
  }
  return only!.record;
}
