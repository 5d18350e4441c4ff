/**
 * RFC 1035 §5 master file reader for the records psarn holds: $ORIGIN, $TTL, $INCLUDE refused,
 * relative names, `@`, blank owner (previous owner), comments, quoted strings with escapes,
 * parentheses over several lines, optional class IN, TTL before or after class, and the types
 * SOA NS URI TXT CNAME (any other type is returned by name only, so the importer can reject it
 * with its line). It reads the file's bytes (see lexer.ts) and makes
 * strings only of what it keeps; `readMasterFile` hands each record over as it is read, so a
 * 1M-route file never sits in memory as 3M record objects.
 *
 * Why not an npm package (STYLE.md habit 13): `dns-zonefile` (0.3.x) has no URI type and
 * silently drops unknown types; `zone-file` (1.0.0, its fork) reads URI but strips quotes with a
 * regex, does not decode `\"`/`\\`/`\DDD`, flattens parentheses with a regex that breaks on a
 * `(` inside a quoted string, and neither reports line numbers. Both keep TXT as raw text.
 */

import { echo, quote } from '../errors.js';
import { typeName as mnemonic, typeCode } from '../wire/mnemonics.js';
import type { DnsRecord } from '../wire/types.js';
import { ZoneFileError } from './errors.js';
import { decodeString, type Entry, ESCAPED, forEachEntry, QUOTED } from './lexer.js';

export type { Entry } from './lexer.js';

export interface ParsedLine {
  /** A record psarn understands. */
  record?: DnsRecord;
  /** For any other type: its mnemonic, so the importer can name the line. */
  otherType?: string;
  owner: string;
  line: number;
}

export interface ParseOptions {
  /** Initial $ORIGIN (absolute). */
  origin?: string;
  /** Default TTL when no $TTL and no previous TTL. */
  defaultTtl?: number;
  /** For error messages. */
  file?: string;
}

/** RFC 2181 §8: a TTL is 0..2^31-1. */
const MAX_TTL = 2 ** 31 - 1;
const CLASSES = new Set(['CH', 'CHAOS', 'HS', 'HESIOD', 'CS', 'CSNET', 'NONE', 'ANY']);
const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const DOLLAR = 36;

function raise(message: string, line: number, file: string | undefined): never {
  throw new ZoneFileError(message, line, file);
}

/** The file's bytes: a string (tests, `parseRecord`) is encoded as UTF-8 first. */
function bytesOf(text: string | Uint8Array): Buffer {
  if (typeof text === 'string') return Buffer.from(text, 'utf8');
  return Buffer.isBuffer(text) ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
}

/**
 * Where readMasterFile hands the records: URI and TXT, the records of every route, with their
 * rdata still as tokens of the entry (valid only during the call), so that a reader keeping 1M
 * routes can keep offsets into the file instead of strings; every other record as a ParsedLine.
 */
export interface RecordSink {
  /** A URI record: its target is token k of `entry` (not empty; see decodeString). */
  uri(owner: string, ttl: number, priority: number, weight: number, entry: Entry, k: number): void;
  /** A TXT record: its character-strings are tokens k.. of `entry` (at least one); see txtStrings. */
  txt(owner: string, ttl: number, entry: Entry, k: number): void;
  /** SOA, NS or CNAME, or a type psarn does not hold (`record` undefined, `otherType` its name). */
  other(line: ParsedLine): void;
}

/** Every record of a master file, in order. @throws ZoneFileError naming file and line. */
export function parseMasterFile(text: string | Uint8Array, options: ParseOptions = {}): ParsedLine[] {
  const out: ParsedLine[] = [];
  const { file } = options;
  readMasterFile(text, options, {
    uri(owner, ttl, priority, weight, entry, k) {
      const target = decodeString(entry, k, file);
      out.push({ record: { name: owner, ttl, type: 'URI', priority, weight, target }, owner, line: entry.line });
    },
    txt(owner, ttl, entry, k) {
      const strings = txtStrings(entry, k, file);
      out.push({ record: { name: owner, ttl, type: 'TXT', strings }, owner, line: entry.line });
    },
    other(line) {
      out.push(line);
    },
  });
  return out;
}

/** The character-strings of a TXT record, tokens k.. of `entry`. @throws ZoneFileError (escapes, length) */
export function txtStrings(entry: Entry, k: number, file?: string): string[] {
  const n = entry.count - k;
  const strings = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const s = decodeString(entry, k + i, file);
    // RFC 1035 §3.3: a <character-string> is at most 255 octets (a string of at most 85 UTF-16
    // units cannot be longer than 255 bytes of UTF-8).
    if (s.length > 85 && Buffer.byteLength(s) > 255) {
      throw new ZoneFileError(`TXT string '${s.slice(0, 40)}...' is over 255 bytes; split it`, entry.line, file);
    }
    strings[i] = s;
  }
  return strings;
}

/**
 * Reads a master file record by record into `sink`, in file order.
 * @throws ZoneFileError naming file and line (and whatever the sink throws).
 */
export function readMasterFile(text: string | Uint8Array, options: ParseOptions, sink: RecordSink): void {
  const file = options.file;
  const src = bytesOf(text);
  let origin = options.origin === undefined ? undefined : qualify(options.origin, undefined, 0, file, '.');
  let dollarTtl: number | undefined;
  let lastTtl: number | undefined;
  let prevOwner: string | undefined;
  // Consecutive records usually repeat the owner's bytes: qualify them once. The last owner
  // token is kept as its place in the file, so the check is a byte compare, not a new string.
  let lastOwnerStart = 0;
  let lastOwnerEnd = -1;
  let lastOwnerOrigin: string | undefined;

  forEachEntry(src, file, (entry) => {
    const { line, count } = entry;
    const firstFlags = entry.flags[0]!;
    if (!entry.blankOwner && (firstFlags & QUOTED) === 0 && src[entry.start[0]!] === DOLLAR) {
      const first = entry.text(0);
      const directive = first.toUpperCase();
      if (directive === '$INCLUDE') {
        raise(
          '$INCLUDE is not supported: import one self-contained file (paste the included records in place)',
          line,
          file,
        );
      }
      if (directive !== '$ORIGIN' && directive !== '$TTL') {
        raise(`unknown directive ${echo(first)}; psarn reads $ORIGIN and $TTL`, line, file);
      }
      if (count !== 2) raise(`${directive} takes exactly one value`, line, file);
      if (directive === '$ORIGIN') origin = qualify(entry.text(1), origin, line, file);
      else dollarTtl = parseTtl(entry, 1, file);
      return;
    }

    let k = 0;
    let owner: string;
    if (entry.blankOwner) {
      if (prevOwner === undefined) raise('a record starts with a blank owner but no record came before it', line, file);
      owner = prevOwner!;
    } else {
      if ((firstFlags & QUOTED) !== 0) raise(`owner name ${quote(entry.text(0))} must not be quoted`, line, file);
      if (prevOwner !== undefined && origin === lastOwnerOrigin && entry.same(0, lastOwnerStart, lastOwnerEnd)) {
        owner = prevOwner;
      } else owner = qualify(entry.text(0), origin, line, file);
      lastOwnerStart = entry.start[0]!;
      lastOwnerEnd = entry.end[0]!;
      lastOwnerOrigin = origin;
      k = 1;
    }
    prevOwner = owner;

    // RFC 1035 §5.1: [<TTL>] [<class>] or [<class>] [<TTL>] before the type.
    let ttl: number | undefined;
    let inClass = false;
    let type: string | undefined;
    for (; k < count; k++) {
      if (entry.isQuoted(k)) break;
      const c0 = src[entry.start[k]!]!;
      if (c0 >= 48 && c0 <= 57) {
        if (ttl !== undefined) raise(`two TTLs (${quote(entry.text(k))}); give one`, line, file);
        ttl = parseTtl(entry, k, file);
        continue;
      }
      // The common types and IN by their bytes, before any string is made.
      type = knownType(entry, k);
      if (type !== undefined) break;
      if (entry.is(k, 'IN')) {
        if (inClass) raise('class IN given twice', line, file);
        inClass = true;
        continue;
      }
      const upper = entry.text(k).toUpperCase();
      if (CLASSES.has(upper) || /^CLASS\d+$/.test(upper)) {
        raise(`class ${echo(entry.text(k))} is not supported; use IN`, line, file);
      }
      break;
    }
    if (k >= count || entry.isQuoted(k)) raise(`record for ${owner} has no type`, line, file);
    type ??= typeName(entry.text(k));
    if (ttl === undefined) {
      ttl = dollarTtl ?? lastTtl ?? options.defaultTtl;
      if (ttl === undefined) raise('no TTL: give one on the record or add a $TTL line before it', line, file);
    } else lastTtl = ttl;

    if (type !== 'SOA' && type !== 'NS' && type !== 'URI' && type !== 'TXT' && type !== 'CNAME') {
      sink.other({ otherType: type, owner, line });
      return;
    }
    const rd = k + 1;
    const values = count - rd;
    if (values > 0 && entry.flags[rd] === ESCAPED && entry.is(rd, '\\#')) {
      raise(
        `generic rdata (RFC 3597 \\#) is not supported for ${type}; write the record in its usual form`,
        line,
        file,
      );
    }
    if (type === 'URI') {
      if (values !== 3) raise(`URI needs priority weight "target" (RFC 7553 §4.5), got ${values} value(s)`, line, file);
      const priority = parseUint(entry, rd, 65535, 'URI priority', file);
      const weight = parseUint(entry, rd + 1, 65535, 'URI weight', file);
      // Escapes stand for at least one byte each: only "" is empty.
      if (entry.start[rd + 2] === entry.end[rd + 2])
        raise('URI target is empty; give an ARN or https:// URL', line, file);
      sink.uri(owner, ttl!, priority, weight, entry, rd + 2);
    } else if (type === 'TXT') {
      if (values === 0) raise('TXT needs at least one "string"', line, file);
      sink.txt(owner, ttl!, entry, rd);
    } else sink.other({ record: parseRdata(type, owner, ttl!, entry, rd, origin, file), owner, line });
  });
}

/** URI, TXT, CNAME, SOA or NS from the token's bytes (any case), else undefined. */
function knownType(entry: Entry, k: number): string | undefined {
  switch (entry.end[k]! - entry.start[k]!) {
    case 3:
      return entry.is(k, 'URI') ? 'URI' : entry.is(k, 'TXT') ? 'TXT' : entry.is(k, 'SOA') ? 'SOA' : undefined;
    case 5:
      return entry.is(k, 'CNAME') ? 'CNAME' : undefined;
    case 2:
      return entry.is(k, 'NS') ? 'NS' : undefined;
    default:
      return undefined;
  }
}

function parseRdata(
  type: 'SOA' | 'NS' | 'CNAME',
  name: string,
  ttl: number,
  entry: Entry,
  rd: number,
  origin: string | undefined,
  file: string | undefined,
): DnsRecord {
  const { line } = entry;
  const n = entry.count - rd;
  const want = (count: number, form: string): void => {
    if (n !== count) raise(`${type} needs ${form}, got ${n} value(s)`, line, file);
  };
  if (type === 'SOA') {
    want(7, 'mname rname serial refresh retry expire minimum');
    return {
      name,
      ttl,
      type,
      mname: qualify(entry.text(rd), origin, line, file),
      rname: qualify(entry.text(rd + 1), origin, line, file),
      serial: parseUint(entry, rd + 2, 0xffffffff, 'SOA serial', file),
      refresh: parseTtl(entry, rd + 3, file),
      retry: parseTtl(entry, rd + 4, file),
      expire: parseTtl(entry, rd + 5, file),
      minimum: parseTtl(entry, rd + 6, file),
    };
  }
  want(1, 'one domain name');
  return { name, ttl, type, target: qualify(entry.text(rd), origin, line, file) };
}

/**
 * An absolute, lowercase name with a trailing dot: `@` is the origin, a name without a final dot
 * is relative to it (RFC 1035 §5.1).
 */
function qualify(text: string, origin: string | undefined, line: number, file?: string, fallback?: string): string {
  let name: string;
  if (text === '@') {
    if (origin === undefined) raise("'@' used before any $ORIGIN; add a $ORIGIN line", line, file);
    name = origin!;
  } else {
    const lower = text.toLowerCase();
    if (lower.endsWith('.') && !lower.endsWith('\\.')) name = lower;
    else {
      const base = origin ?? fallback;
      if (base === undefined) {
        raise(`relative name ${quote(text)} before any $ORIGIN; end it with '.' or add a $ORIGIN line`, line, file);
      }
      name = base === '.' ? `${lower}.` : `${lower}.${base}`;
    }
  }
  if (name !== '.' && (name.startsWith('.') || name.includes('..')))
    raise(`name ${quote(text)} has an empty label`, line, file);
  // RFC 1035 §2.3.4: 255 octets on the wire = 253 characters plus the final dot.
  if (name.length > 254) raise(`name ${quote(text)} is longer than 253 characters`, line, file);
  return name;
}

/** Token k as a TTL in seconds, plain or with BIND's units (`1h30m`, `2d`). */
function parseTtl(entry: Entry, k: number, file?: string): number {
  let value = digits(entry, k); // plain seconds, the common case
  if (value >= 0 && value <= MAX_TTL) return value;
  const { line } = entry;
  const s = entry.text(k);
  if (value < 0 && /^(\d+[smhdw])+$/i.test(s)) {
    value = 0;
    for (const m of s.matchAll(/(\d+)([smhdw])/gi)) value += Number(m[1]) * UNIT[m[2]!.toLowerCase()]!;
  } else if (value < 0)
    throw new ZoneFileError(`${quote(s)} is not a TTL; use seconds or units like 1h, 30m, 2d`, line, file);
  if (value > MAX_TTL) throw new ZoneFileError(`TTL ${quote(s)} is over 2147483647 (RFC 2181 §8)`, line, file);
  return value;
}

function parseUint(entry: Entry, k: number, max: number, what: string, file?: string): number {
  const value = entry.isQuoted(k) ? -1 : digits(entry, k);
  if (value < 0 || value > max) raise(`${what} ${quote(entry.text(k))} must be an integer 0..${max}`, entry.line, file);
  return value;
}

/** The value of token k when it is 1..10 decimal digits, or -1: read from the bytes. */
function digits(entry: Entry, k: number): number {
  const start = entry.start[k]!;
  const end = entry.end[k]!;
  if (end === start || end - start > 10) return -1;
  const src = entry.src;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = src[i]! - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** The type mnemonic, upper case; RFC 3597 `TYPE256` reads as URI. */
function typeName(text: string): string {
  const upper = text.toUpperCase();
  if (!upper.startsWith('TYPE')) return upper;
  const code = typeCode(upper);
  return code === undefined ? upper : mnemonic(code);
}
