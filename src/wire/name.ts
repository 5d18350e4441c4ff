/**
 * Domain names on the wire (RFC 1035 §3.1, §4.1.4) and in presentation form (RFC 1035 §5.1,
 * RFC 4343 §2.1). Reading is strict: labels <= 63 octets, names <= 255 octets, only label types
 * 00 and 11 (01 was the EDNS extended label, deprecated by RFC 6891 §5; 10 is reserved), and
 * compression pointers only to a strictly earlier offset than the name piece being read, never
 * into the header, with a jump limit.
 */
import type { Cursor } from './cursor.js';
import { Hdr } from './cursor.js';
import { WireError } from './errors.js';

export const MAX_LABEL = 63;
/** Uncompressed wire length, including the root octet (RFC 1035 §3.1). */
export const MAX_NAME_WIRE = 255;
/**
 * Pointer hops allowed in one name. Targets strictly decrease, so loops are impossible anyway;
 * the limit bounds the work a hostile chain of pointers can cause per name.
 */
export const MAX_POINTER_JUMPS = 32;

const LABEL_KIND_MASK = 0xc0;
const LABEL_NORMAL = 0x00;
const LABEL_POINTER = 0xc0;
const POINTER_OFFSET_MASK = 0x3fff;

/**
 * Validates the name at `cur.pos` and moves the cursor past its in-place bytes. When `labels`
 * is given, pushes (offset, length) pairs of each label in order (following pointers).
 * Reads after a jump to T stay inside [T, start of the piece that jumped): a prior occurrence.
 * @throws WireError with the offset of the bad byte
 */
export function readName(cur: Cursor, labels?: number[], allowPointers = true): void {
  const buf = cur.buf;
  let pos = cur.pos;
  let limit = cur.end;
  let pieceStart = pos;
  let wireLen = 0;
  let jumps = 0;
  let resume = -1;
  for (;;) {
    if (pos >= limit) throw new WireError('truncated name', pos);
    const len = buf[pos]!;
    const kind = len & LABEL_KIND_MASK;
    if (kind === LABEL_NORMAL) {
      wireLen += len + 1;
      if (wireLen > MAX_NAME_WIRE) throw new WireError('name longer than 255 octets', pos);
      if (len === 0) {
        pos += 1;
        break;
      }
      if (pos + 1 + len > limit) throw new WireError('truncated label', pos);
      labels?.push(pos + 1, len);
      pos += 1 + len;
    } else if (kind === LABEL_POINTER) {
      if (!allowPointers) throw new WireError('compression pointer in the question', pos);
      if (pos + 2 > limit) throw new WireError('truncated compression pointer', pos);
      const target = ((len << 8) | buf[pos + 1]!) & POINTER_OFFSET_MASK;
      if (target < Hdr.SIZE) throw new WireError('compression pointer into the header', pos);
      if (target >= pieceStart) throw new WireError('compression pointer not backward', pos);
      if (++jumps > MAX_POINTER_JUMPS) throw new WireError('too many compression pointers', pos);
      if (resume < 0) resume = pos + 2;
      limit = pieceStart;
      pieceStart = target;
      pos = target;
    } else {
      throw new WireError(`unsupported label type 0x${kind.toString(16)}`, pos);
    }
  }
  cur.pos = resume < 0 ? pos : resume;
}

/** Bytes that need no escape in presentation form: printable ASCII except "." and "\". */
const NEEDS_ESCAPE = /[^\x21-\x2d\x2f-\x5b\x5d-\x7e]/;

/** One label's latin1 text in presentation form: "." and "\" escaped, other non-printables as \DDD. */
export function escapeLabel(label: string): string {
  if (!NEEDS_ESCAPE.test(label)) return label;
  let out = '';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x2e || c === 0x5c) out += `\\${label[i]}`;
    else if (c < 0x21 || c > 0x7e) out += `\\${c.toString().padStart(3, '0')}`;
    else out += label[i];
  }
  return out;
}

/** Presentation form of labels collected by readName; `lower` ASCII-lowercases A-Z only. */
export function presentName(buf: Uint8Array, labels: readonly number[], lower: boolean): string {
  if (labels.length === 0) return '.';
  let out = '';
  for (let i = 0; i < labels.length; i += 2) {
    const start = labels[i]!;
    let text = Buffer.from(buf.buffer, buf.byteOffset + start, labels[i + 1]!).toString('latin1');
    if (lower) text = asciiLower(text);
    out += `${escapeLabel(text)}.`;
  }
  return out;
}

/** Lowercases A-Z only: RFC 4343 §3 case-insensitivity is ASCII-only. */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/**
 * Parses an absolute name in presentation form (trailing dot optional; "." is the root) into
 * label bytes. Escapes: `\.`, `\\`, `\X`, `\DDD` (RFC 1035 §5.1). Characters outside printable
 * ASCII must be escaped: internationalised names go in their A-label form.
 * @throws WireError on an empty label, a label over 63 octets or a name over 255
 */
export function parseName(name: string): Uint8Array[] {
  if (name === '.' || name === '') {
    if (name === '') throw new WireError('empty name; use "." for the root');
    return [];
  }
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  let total = 1;
  const endLabel = (at: number): void => {
    if (cur.length === 0) throw new WireError(`empty label in name '${name}'`, at);
    if (cur.length > MAX_LABEL) throw new WireError(`label over 63 octets in name '${name}'`, at);
    total += cur.length + 1;
    labels.push(Uint8Array.from(cur));
    cur = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      endLabel(i);
    } else if (c === 0x5c) {
      const d = name.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        const v = Number(d);
        if (v > 255) throw new WireError(`escape \\${d} over 255 in name '${name}'`, i);
        cur.push(v);
        i += 3;
      } else if (i + 1 < name.length && isPrintable(name.charCodeAt(i + 1))) {
        cur.push(name.charCodeAt(++i));
      } else {
        throw new WireError(`bad escape in name '${name}'`, i);
      }
    } else if (isPrintable(c)) {
      cur.push(c);
    } else {
      throw new WireError(`character ${JSON.stringify(name[i])} in name '${name}' must be escaped as \\DDD`, i);
    }
  }
  if (cur.length > 0) endLabel(name.length);
  if (total > MAX_NAME_WIRE) throw new WireError(`name '${name}' is longer than 255 octets`);
  return labels;
}

function isPrintable(c: number): boolean {
  return c >= 0x21 && c <= 0x7e;
}
