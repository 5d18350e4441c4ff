/**
 * The master-file tokenizer (RFC 1035 §5.1): splits text into entries (one per record or
 * directive), joining lines inside parentheses, dropping `;` comments, and keeping quoted
 * strings whole. One pass over char codes, no regular expressions: it is the hot loop of a
 * 100k-route import.
 */
import { quote } from '../errors.js';
import { ZoneFileError } from './errors.js';

export interface Token {
  /** Source text, without the quotes of a quoted token; escapes are still in it. */
  text: string;
  quoted: boolean;
  /** True when the text holds a backslash escape (decodeString must run). */
  escaped: boolean;
}

export interface Entry {
  tokens: Token[];
  /** 1-based line of the entry's first token. */
  line: number;
  /** The entry's line starts with a space or tab: the owner is the previous one (RFC 1035 §5.1). */
  blankOwner: boolean;
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

/** Calls `onEntry` for each entry in order. @throws ZoneFileError (quotes, parentheses) naming the line. */
export function forEachEntry(text: string, file: string | undefined, onEntry: (entry: Entry) => void): void {
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let parenLine = 0;
  let tokens: Token[] = [];
  let entryLine = 0;
  let blankOwner = false;
  const fail = (message: string, at: number): never => {
    throw new ZoneFileError(message, at, file);
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === LF) {
      line++;
      i++;
      lineStart = i;
      if (depth === 0 && tokens.length > 0) {
        onEntry({ tokens, line: entryLine, blankOwner });
        tokens = [];
      }
      continue;
    }
    if (c === SPACE || c === TAB || c === CR) {
      i++;
      continue;
    }
    if (c === SEMI) {
      while (i < n && text.charCodeAt(i) !== LF) i++;
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
    if (tokens.length === 0) {
      entryLine = line;
      const first = text.charCodeAt(lineStart);
      blankOwner = first === SPACE || first === TAB;
    }
    let escaped = false;
    if (c === QUOTE) {
      let j = i + 1;
      for (;;) {
        if (j >= n || text.charCodeAt(j) === LF) {
          fail('unterminated quoted string; close it with " on the same line', line);
        }
        const d = text.charCodeAt(j);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          escaped = true;
          if (j + 1 >= n || text.charCodeAt(j + 1) === LF) fail('backslash at the end of a line', line);
          j += 2;
        } else j++;
      }
      tokens.push({ text: text.slice(i + 1, j), quoted: true, escaped });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === SPACE || d === TAB || d === LF || d === CR || d === SEMI || d === LPAREN || d === RPAREN) break;
      if (d === QUOTE) break;
      if (d === BACKSLASH) {
        escaped = true;
        if (j + 1 >= n || text.charCodeAt(j + 1) === LF) fail('backslash at the end of a line', line);
        j += 2;
      } else j++;
    }
    tokens.push({ text: text.slice(i, j), quoted: false, escaped });
    i = j;
  }
  if (depth > 0) fail("'(' is never closed; add ')' at the end of the record", parenLine);
  if (tokens.length > 0) onEntry({ tokens, line: entryLine, blankOwner });
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The bytes a character-string token stands for (RFC 1035 §5.1: `\X` is X, `\DDD` is the byte
 * DDD), read as UTF-8 because psarn's strings (ARNs, URLs, TXT) are text.
 * @throws ZoneFileError on a bad `\DDD` or bytes that are not UTF-8
 */
export function decodeString(token: Token, line: number, file?: string): string {
  if (!token.escaped) return token.text;
  const s = token.text;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      const d = s.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) {
        const v = Number(d);
        if (v > 255) throw new ZoneFileError(`escape \\${d} in ${quote(s)} is over 255; use \\000..\\255`, line, file);
        bytes.push(v);
        i += 4;
        continue;
      }
      if (/^\d/.test(d)) {
        throw new ZoneFileError(
          `escape ${quote(`\\${d}`)} in ${quote(s)} needs three decimal digits (\\DDD)`,
          line,
          file,
        );
      }
      i += 1 + pushChar(s, i + 1, bytes); // `\X`: X taken literally
      continue;
    }
    i += pushChar(s, i, bytes);
  }
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    throw new ZoneFileError(
      `${quote(Uint8Array.from(bytes))} has bytes that are not UTF-8; psarn strings are UTF-8 text`,
      line,
      file,
    );
  }
}

/** Appends the UTF-8 bytes of the character at `i`; returns its length in UTF-16 units. */
function pushChar(s: string, i: number, bytes: number[]): number {
  const ch = String.fromCodePoint(s.codePointAt(i)!);
  for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
  return ch.length;
}
