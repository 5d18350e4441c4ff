/**
 * A route's metadata in a master file (docs/design.md#zone-files): a TXT RRset at
 * `_meta.<route name>`, one RR per entry, its character-strings joined making `KEY=VALUE`.
 *
 * - Not at the route's own name: an alias's CNAME may have no other data beside it (RFC 1034
 *   §3.6.2), and the route's TXT is what psarnd serves. `_meta` cannot be a route's label (a
 *   leading `_` is reserved, docs/design.md#psarn-grammar), so it names nothing else.
 * - One RR per entry: an entry longer than one character-string (255 octets, RFC 1035 §3.3) is
 *   split into several strings of one RR, which readers join, as SPF does (RFC 7208 §3.3). The
 *   split falls between characters, so every string is UTF-8 on its own (psarn reads each so).
 * - KEY is the text before the first `=`; a `=` or `%` inside a key is written `%3D` or `%25`
 *   (the CLI's keys have neither; the store takes any). VALUE is the rest, as it is.
 * - The strings are quoted with RFC 1035 §5.1 escapes by formatRecord: `"` and `\` escaped,
 *   bytes outside printable ASCII as \DDD, so `;`, spaces and UTF-8 survive.
 * The records are made in src/zone/meta.ts (psarnd serves them too, docs/design.md#remote-cli).
 */
import { quote } from '../errors.js';

export { META_LABEL, META_RDATA_MAX, metaRecords } from '../zone/meta.js';

function decodeKey(key: string): string {
  return key.includes('%') ? key.replace(/%3D/gi, '=').replace(/%25/g, '%') : key;
}

/**
 * One metadata entry from the strings of one TXT RR at `_meta.<route name>`.
 * @throws Error (the caller names the line) when the joined text has no `=`.
 */
export function metaEntry(strings: readonly string[]): [key: string, value: string] {
  const text = strings.length === 1 ? strings[0]! : strings.join('');
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`metadata TXT ${quote(text)} is not KEY=VALUE`);
  return [decodeKey(text.slice(0, eq)), text.slice(eq + 1)];
}
