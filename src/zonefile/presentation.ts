/**
 * Presentation format (RFC 1035 §5.1, RFC 7553 §4.5 for URI): records as text for dig-style
 * output, `zone export` and tests. Character-strings are quoted, with `"` and `\` escaped and
 * bytes outside printable ASCII as \DDD.
 */
import type { DnsRecord } from '../wire/types.js';

/**
 * One record as a master-file line, tab separated:
 * `created.orders.123456789012.us-east-1.aws.psarn.internal.\t300\tIN\tURI\t10 90 "arn:aws:lambda:..."`
 */
export function formatRecord(_record: DnsRecord): string {
  throw new Error('not implemented');
}

/** The rdata part only, e.g. `10 90 "arn:..."` or `"v=psarn1" "policy=weighted" "epoch=1"`. */
export function formatRdata(_record: DnsRecord): string {
  throw new Error('not implemented');
}

/** A character-string in quotes with escapes. */
export function quoteString(_s: string): string {
  throw new Error('not implemented');
}

/**
 * Parses one record line in presentation form (absolute owner, TTL, optional class, type,
 * rdata), e.g. for tests: `parseRecord('a.b. 300 IN URI 10 90 "arn:x"')`.
 * @throws ZoneFileError
 */
export function parseRecord(_line: string): DnsRecord {
  throw new Error('not implemented');
}
