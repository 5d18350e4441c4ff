/**
 * The master-file tokenizer (RFC 1035 §5.1): splits the file's bytes into entries (one per
 * record or directive), joining lines inside parentheses, dropping `;` comments, and keeping
 * quoted strings whole.
 *
 * It is the hot loop of `zone import` (3M lines for 1M routes), so it works on the bytes as
 * read from disk and allocates nothing per token: an entry is token offsets in typed arrays,
 * reused from one entry to the next, and the parser makes strings only of the tokens it keeps.
 * Working on bytes also lifts the ~512 MB limit of a JavaScript string off the file size.
 * The file must be UTF-8 (checked once, natively, before the first token): a token's text is
 * then its bytes read as latin1 when the file is ASCII (no decoding at all), else as UTF-8.
 */

import { isAscii, isUtf8 } from 'node:buffer';
import { quote } from '../errors.js';
import { ZoneFileError } from './errors.js';

/** Token flags. */
export const QUOTED = 1;
/** The token holds a backslash escape (decodeString must run). */
export const ESCAPED = 2;

/**
 * One entry's tokens, as offsets into the file's bytes. The lexer reuses the same Entry for
 * every entry: read what you need inside the callback.
 */
export class Entry {
  /** Number of tokens. */
  count = 0;
  /** First byte of token i (after the opening quote of a quoted token). */
  start = new Int32Array(16);
  /** Byte after token i (the closing quote of a quoted token). */
  end = new Int32Array(16);
  /** QUOTED | ESCAPED of token i. */
  flags = new Uint8Array(16);
  /** 1-based line of the entry's first token. */
  line = 0;
  /** The entry's line starts with a space or tab: the owner is the previous one (RFC 1035 §5.1). */
  blankOwner = false;
  readonly src: Buffer;
  /** How the file's bytes read as text: 'latin1' when they are all ASCII (the same, faster), else 'utf8'. */
  readonly encoding: 'latin1' | 'utf8';

  constructor(src: Buffer, encoding: 'latin1' | 'utf8') {
    this.src = src;
    this.encoding = encoding;
  }

  /** Token i's source text (without the quotes of a quoted token; escapes still in it). */
  text(i: number): string {
    return this.src.toString(this.encoding, this.start[i]!, this.end[i]!);
  }

  isQuoted(i: number): boolean {
    return (this.flags[i]! & QUOTED) !== 0;
  }

  /** Token i has exactly the bytes of `upper` (ASCII upper case), in any case. */
  is(i: number, upper: string): boolean {
    const start = this.start[i]!;
    const n = upper.length;
    if (this.end[i]! - start !== n) return false;
    const src = this.src;
    for (let k = 0; k < n; k++) {
      // ASCII letters only: clearing bit 5 upper-cases a-z and leaves A-Z as they are.
      const c = src[start + k]!;
      const u = c >= 97 && c <= 122 ? c - 32 : c;
      if (u !== upper.charCodeAt(k)) return false;
    }
    return true;
  }

  /** Token i is exactly `ascii` (case matters), escapes and all. */
  equals(i: number, ascii: string): boolean {
    const start = this.start[i]!;
    const n = ascii.length;
    if (this.end[i]! - start !== n) return false;
    const src = this.src;
    for (let k = 0; k < n; k++) if (src[start + k] !== ascii.charCodeAt(k)) return false;
    return true;
  }

  /** Token i holds the same bytes as [start, end) of the file. */
  same(i: number, start: number, end: number): boolean {
    const from = this.start[i]!;
    const n = this.end[i]! - from;
    if (end - start !== n) return false;
    const src = this.src;
    for (let k = 0; k < n; k++) if (src[from + k] !== src[start + k]) return false;
    return true;
  }

  push(start: number, end: number, flags: number): void {
    if (this.count === this.start.length) {
      const size = this.count * 2;
      const grow = <T extends Int32Array | Uint8Array>(a: T, b: T): T => {
        b.set(a);
        return b;
      };
      this.start = grow(this.start, new Int32Array(size));
      this.end = grow(this.end, new Int32Array(size));
      this.flags = grow(this.flags, new Uint8Array(size));
    }
    this.start[this.count] = start;
    this.end[this.count] = end;
    this.flags[this.count] = flags;
    this.count++;
  }
}

const LF = 10;
const CR = 13;
const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const LPAREN = 40;
const RPAREN = 41;
const SEMI = 59;
const BACKSLASH = 92;

/** Bytes that end an unquoted token. */
const DELIMITER = new Uint8Array(256);
for (const c of [SPACE, TAB, LF, CR, SEMI, LPAREN, RPAREN, QUOTE]) DELIMITER[c] = 1;

/** Calls `onEntry` for each entry in order. @throws ZoneFileError (quotes, parentheses) naming the line. */
export function forEachEntry(src: Buffer, file: string | undefined, onEntry: (entry: Entry) => void): void {
  const n = src.length;
  const entry = new Entry(src, textEncoding(src, file));
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let parenLine = 0;
  const fail = (message: string, at: number): never => {
    throw new ZoneFileError(message, at, file);
  };
  // Most files have no backslash at all (one native scan says so): a quoted string then ends
  // at the next '"' (a native search too), and a token needs no escape handling.
  const plain = src.indexOf(BACKSLASH) < 0;
  /** Offset of the LF that ends the current line (n if none), found when a quote needs it. */
  let lineEnd = -1;

  while (i < n) {
    const c = src[i]!;
    if (c === LF) {
      line++;
      i++;
      lineStart = i;
      if (depth === 0 && entry.count > 0) {
        onEntry(entry);
        entry.count = 0;
      }
      continue;
    }
    if (c === SPACE || c === TAB || c === CR) {
      i++;
      continue;
    }
    if (c === SEMI) {
      while (i < n && src[i] !== LF) i++;
      continue;
    }
    if (c === LPAREN) {
      if (depth > 0) fail("nested '(': parentheses only group the lines of one record", line);
      depth = 1;
      parenLine = line;
      i++;
      continue;
    }
    if (c === RPAREN) {
      if (depth === 0) fail("')' without a matching '('", line);
      depth = 0;
      i++;
      continue;
    }
    if (entry.count === 0) {
      entry.line = line;
      const first = src[lineStart];
      entry.blankOwner = first === SPACE || first === TAB;
    }
    let flags = 0;
    if (c === QUOTE && plain) {
      if (lineEnd < i) {
        lineEnd = src.indexOf(LF, i);
        if (lineEnd < 0) lineEnd = n;
      }
      const j = src.indexOf(QUOTE, i + 1);
      if (j < 0 || j > lineEnd) fail('unterminated quoted string; close it with " on the same line', line);
      entry.push(i + 1, j, QUOTED);
      i = j + 1;
      continue;
    }
    if (c === QUOTE) {
      let j = i + 1;
      for (;;) {
        if (j >= n || src[j] === LF) fail('unterminated quoted string; close it with " on the same line', line);
        const d = src[j]!;
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          flags |= ESCAPED;
          if (j + 1 >= n || src[j + 1] === LF) fail('backslash at the end of a line', line);
          j += 2;
        } else j++;
      }
      entry.push(i + 1, j, flags | QUOTED);
      i = j + 1;
      continue;
    }
    let j = i + 1;
    if (plain) {
      while (j < n && DELIMITER[src[j]!] === 0) j++;
      entry.push(i, j, 0);
      i = j;
      continue;
    }
    j = i;
    while (j < n) {
      const d = src[j]!;
      if (DELIMITER[d] === 1) break;
      if (d === BACKSLASH) {
        flags |= ESCAPED;
        if (j + 1 >= n || src[j + 1] === LF) fail('backslash at the end of a line', line);
        j += 2;
      } else j++;
    }
    entry.push(i, j, flags);
    i = j;
  }
  if (depth > 0) fail("'(' is never closed; add ')' at the end of the record", parenLine);
  if (entry.count > 0) onEntry(entry);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * 'latin1' for an ASCII file, 'utf8' for other UTF-8.
 * @throws ZoneFileError naming the line of the first byte that is not UTF-8
 */
function textEncoding(src: Buffer, file: string | undefined): 'latin1' | 'utf8' {
  if (isAscii(src)) return 'latin1';
  if (isUtf8(src)) return 'utf8';
  const line = 1 + countLf(src, firstNotUtf8(src));
  throw new ZoneFileError('the file is not UTF-8 text: save it as UTF-8 (write other bytes as \\DDD)', line, file);
}

/** Offset of the first byte that does not belong to a UTF-8 character (RFC 3629 §4). Error path only. */
export function firstNotUtf8(src: Uint8Array): number {
  const n = src.length;
  for (let i = 0; i < n; ) {
    const c = src[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // Lead byte: how many continuation bytes follow, and the range of the first one (which
    // excludes overlong forms, surrogates and code points past U+10FFFF).
    let more: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) more = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= more; k++) {
      const d = src[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += more + 1;
  }
  return n;
}

function countLf(src: Buffer, end: number): number {
  let lines = 0;
  for (let i = src.indexOf(LF); i >= 0 && i < end; i = src.indexOf(LF, i + 1)) lines++;
  return lines;
}

/**
 * The text a character-string token stands for (RFC 1035 §5.1: `\X` is X, `\DDD` is the byte
 * DDD), read as UTF-8 because psarn's strings (ARNs, URLs, TXT) are text.
 * @throws ZoneFileError on a bad `\DDD` or bytes that are not UTF-8
 */
export function decodeString(entry: Entry, i: number, file?: string): string {
  const { src, line } = entry;
  const start = entry.start[i]!;
  const end = entry.end[i]!;
  if ((entry.flags[i]! & ESCAPED) === 0) return src.toString(entry.encoding, start, end);
  const bytes = Buffer.allocUnsafe(end - start);
  let n = 0;
  for (let k = start; k < end; ) {
    const c = src[k]!;
    if (c !== BACKSLASH) {
      bytes[n++] = c;
      k++;
      continue;
    }
    const d1 = src[k + 1]!;
    if (d1 >= 48 && d1 <= 57) {
      const d2 = k + 2 < end ? src[k + 2]! : -1;
      const d3 = k + 3 < end ? src[k + 3]! : -1;
      if (!(d2 >= 48 && d2 <= 57 && d3 >= 48 && d3 <= 57)) {
        const d = src.toString('latin1', k + 1, Math.min(end, k + 4));
        throw new ZoneFileError(`escape '\\${d}' in '${entry.text(i)}' needs three decimal digits (\\DDD)`, line, file);
      }
      const v = (d1 - 48) * 100 + (d2 - 48) * 10 + (d3 - 48);
      if (v > 255) {
        const d = src.toString('latin1', k + 1, k + 4);
        throw new ZoneFileError(`escape \\${d} in '${entry.text(i)}' is over 255; use \\000..\\255`, line, file);
      }
      bytes[n++] = v;
      k += 4;
      continue;
    }
    // `\X`: X taken literally (the rest of a multi-byte X follows as plain bytes).
    bytes[n++] = d1;
    k += 2;
  }
  try {
    return decoder.decode(bytes.subarray(0, n));
  } catch {
    throw new ZoneFileError(
      `${quote(Uint8Array.from(bytes.subarray(0, n)))} has bytes that are not UTF-8; psarn strings are UTF-8 text`,
      line,
      file,
    );
  }
}
