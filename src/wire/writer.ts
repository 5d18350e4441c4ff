/**
 * A growable message writer with name compression (RFC 1035 §4.1.4). The compression table maps
 * each name suffix, ASCII-lowercased (RFC 4343: names compare case-insensitively), to the
 * offset where it was first written; only offsets below 0x4000 can be pointer targets.
 */
import { Cursor } from './cursor.js';
import { WireError } from './errors.js';
import { escapeLabel, parseName, readName } from './name.js';

const POINTER = 0xc000;
/** A pointer holds 14 bits of offset. */
const MAX_POINTER_TARGET = 0x3fff;
const MAX_MESSAGE = 0xffff;

export class Writer {
  buf: Buffer;
  len = 0;
  readonly #table = new Map<string, number>();
  /** Presentation text (lowercase) of the seeded name's suffixes -> offset: the common case, no parsing. */
  readonly #text = new Map<string, number>();
  /** Offsets of seeded names whose wire keys are not in #table yet. */
  readonly #seeded: number[] = [];

  constructor(initial = 512) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Makes room for `n` more bytes (for a caller that writes into `buf` at `len` itself). */
  room(n: number): void {
    this.#ensure(n);
  }

  #ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len + n > MAX_MESSAGE) throw new WireError('message would exceed 65535 bytes', this.len);
    const next = Buffer.allocUnsafe(Math.min(MAX_MESSAGE, Math.max(this.buf.length * 2, this.len + n)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.#ensure(1);
    this.buf[this.len++] = v;
  }

  u16(v: number): void {
    this.#ensure(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.#ensure(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Overwrites a u16 already written (an rdlength once the rdata is known). */
  patch16(offset: number, v: number): void {
    this.buf.writeUInt16BE(v, offset);
  }

  /**
   * Registers the uncompressed name already written at `offset` (e.g. the question) as a
   * compression target for its suffixes. Its presentation suffixes go in the text table at once
   * (cheap); its wire keys only when a name that is not one of them is written (#seedKeys).
   */
  seedName(offset: number): void {
    const labelAt: number[] = [];
    readName(new Cursor(this.buf, offset, this.len), labelAt, false);
    let suffix = '';
    for (let i = labelAt.length - 2; i >= 0; i -= 2) {
      const start = labelAt[i]!;
      const text = this.buf.toString('latin1', start, start + labelAt[i + 1]!);
      suffix = `${escapeLabel(/[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : text)}.${suffix}`;
      // A label's length octet sits just before it.
      if (start - 1 <= MAX_POINTER_TARGET) this.#text.set(suffix, start - 1);
    }
    this.#seeded.push(offset);
  }

  /** Puts the seeded names' wire suffixes in the compression table (once, on first need). */
  #seedKeys(): void {
    for (const offset of this.#seeded) {
      const labelAt: number[] = [];
      readName(new Cursor(this.buf, offset, this.len), labelAt, false);
      const labels: Uint8Array[] = [];
      for (let i = 0; i < labelAt.length; i += 2)
        labels.push(this.buf.subarray(labelAt[i]!, labelAt[i]! + labelAt[i + 1]!));
      const keys = suffixKeys(labels);
      for (let i = 0; i < labels.length; i++) this.#remember(keys[i]!, labelAt[2 * i]! - 1);
    }
    this.#seeded.length = 0;
  }

  /**
   * Writes a name given in presentation form. A name equal to the seeded name or one of its
   * suffixes (an owner that is the question, a zone apex above it) is a pointer found without
   * parsing; any other name is parsed (memoised) and compressed as `name()` does.
   */
  nameText(name: string, compress = true): void {
    if (compress) {
      const at = this.#text.get(name);
      if (at !== undefined) {
        this.u16(POINTER | at);
        return;
      }
    }
    this.name(parsedName(name), compress);
  }

  /**
   * The offset of a name (presentation form) written or seeded earlier in full, for a
   * compression pointer to it; undefined when the message holds it nowhere.
   */
  offsetOf(name: string): number | undefined {
    const at = this.#text.get(name);
    if (at !== undefined) return at;
    if (this.#seeded.length > 0) this.#seedKeys();
    const keys = suffixKeys(parsedName(name));
    return keys.length > 0 ? this.#table.get(keys[0]!) : undefined;
  }

  /** Writes a name (labels from parseName), compressed against every name written so far. */
  name(labels: readonly Uint8Array[], compress = true): void {
    if (this.#seeded.length > 0) this.#seedKeys();
    const keys = suffixKeys(labels);
    for (let i = 0; i < labels.length; i++) {
      const target = compress ? this.#table.get(keys[i]!) : undefined;
      if (target !== undefined) {
        this.u16(POINTER | target);
        return;
      }
      const label = labels[i]!;
      if (compress) this.#remember(keys[i]!, this.len);
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  #remember(key: string, offset: number): void {
    if (offset <= MAX_POINTER_TARGET && !this.#table.has(key)) this.#table.set(key, offset);
  }
}

/** parseName, memoised: the same few names (nameservers, zone apexes) recur in every answer. */
const parsed = new Map<string, Uint8Array[]>();
const PARSED_MAX = 4096;

function parsedName(name: string): Uint8Array[] {
  let labels = parsed.get(name);
  if (labels === undefined) {
    labels = parseName(name);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(name, labels);
  }
  return labels;
}

/** Lowercased latin1 keys of each suffix: keys[i] stands for labels[i..] with length octets. */
function suffixKeys(labels: readonly Uint8Array[]): string[] {
  const parts: string[] = [];
  for (const label of labels) {
    let s = String.fromCharCode(label.length);
    for (const b of label) s += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b | 0x20 : b);
    parts.push(s);
  }
  const keys: string[] = new Array(labels.length);
  let acc = '';
  for (let i = labels.length - 1; i >= 0; i--) {
    acc = parts[i]! + acc;
    keys[i] = acc;
  }
  return keys;
}
