/**
 * A route's metadata as records (docs/design.md#zone-files): a TXT RRset at `_meta.<route name>`,
 * one RR per entry, its character-strings joined making `KEY=VALUE`. The one maker of these
 * records: `zone export` and transfers write them (src/zonefile/meta.ts re-exports it), and the
 * answer function serves them, so psarnd, a Knot secondary and an export answer alike.
 *
 * - Not at the route's own name: an alias's CNAME may have no other data beside it (RFC 1034
 *   §3.6.2), and the route's TXT is what psarnd serves. `_meta` cannot be a route's label (a
 *   leading `_` is reserved, docs/design.md#psarn-grammar), so it names nothing else.
 * - One RR per entry: an entry longer than one character-string (255 octets, RFC 1035 §3.3) is
 *   split into several strings of one RR, which readers join, as SPF does (RFC 7208 §3.3). The
 *   split falls between characters, so every string is UTF-8 on its own (psarn reads each so).
 * - KEY is the text before the first `=`; a `=` or `%` inside a key is written `%3D` or `%25`
 *   (the CLI's keys have neither; the store takes any). VALUE is the rest, as it is.
 */
import { quote } from '../errors.js';
import type { DnsRecord } from '../wire/types.js';

/** The label in front of a route's name that holds its metadata. */
export const META_LABEL = '_meta';

/** RFC 1035 §3.3: one character-string is a length octet and at most 255 octets. */
const STRING_MAX = 255;
/**
 * RDLENGTH is 16 bits (RFC 1035 §3.2.1), but the record must also fit in one DNS message with a
 * header, the zone's question, its owner name and a TSIG (a zone transfer sends whole records):
 * 64000 octets leaves room for all of them.
 */
export const META_RDATA_MAX = 64000;

function encodeKey(key: string): string {
  return key.includes('%') || key.includes('=') ? key.replaceAll('%', '%25').replaceAll('=', '%3D') : key;
}

/**
 * `text` cut into character-strings of at most 255 UTF-8 octets, between characters.
 * @returns undefined when they would not fit in one RR's RDATA.
 */
function splitStrings(text: string): string[] | undefined {
  // Up to 85 UTF-16 units are at most 255 octets: the usual entry is one string, at once.
  if (text.length <= 85) return [text];
  const strings: string[] = [];
  let rdata = 0;
  let piece = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > STRING_MAX) {
      strings.push(piece);
      rdata += bytes + 1;
      piece = '';
      bytes = 0;
    }
    piece += ch;
    bytes += n;
  }
  strings.push(piece);
  rdata += bytes + 1;
  return rdata > META_RDATA_MAX ? undefined : strings;
}

/**
 * The TXT records of a route's metadata, in the order of its entries; none when it has none.
 * @throws Error (the caller names the route) for an entry too long for one RR (about 65 KB).
 */
export function metaRecords(routeName: string, ttl: number, metadata: Record<string, string>): DnsRecord[] {
  const records: DnsRecord[] = [];
  const name = `${META_LABEL}.${routeName}`;
  for (const key in metadata) {
    const strings = splitStrings(`${encodeKey(key)}=${metadata[key]}`);
    if (strings === undefined) {
      const bytes = Buffer.byteLength(metadata[key]!);
      throw new Error(
        `metadata ${quote(key)} (${bytes} bytes) does not fit in one TXT record (${META_RDATA_MAX} bytes); shorten it with psarn route set --meta`,
      );
    }
    records.push({ name, ttl, type: 'TXT', strings });
  }
  return records;
}
