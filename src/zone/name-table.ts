/**
 * The route index's lookup table: open addressing with linear probing over two typed arrays, a
 * 32-bit hash of the wire name (case folded) and an entry ref + 1 (0 empty, -1 deleted). It
 * knows hashes and refs only; whether a ref's entry is the name asked for is the caller's
 * NameMatcher (route-index.ts compares the entry's name bytes).
 */

const EMPTY = 0;
const DELETED = -1;
const HASH_SEED = 0x9747b28c;

/** Whether the entry `ref` is the name at `buf[start, end)` (the index compares its name bytes). */
export interface NameMatcher {
  matches(ref: number, buf: Uint8Array, start: number, end: number): boolean;
}

export interface NameTableSnapshot {
  hashes: ArrayBuffer;
  refs: ArrayBuffer;
  count: number;
  deleted: number;
}

export class NameTable {
  #hashes: Uint32Array;
  #refs: Int32Array;
  #count: number;
  #deleted: number;

  constructor(snapshot?: NameTableSnapshot) {
    this.#hashes = snapshot !== undefined ? new Uint32Array(snapshot.hashes) : new Uint32Array(1024);
    this.#refs = snapshot !== undefined ? new Int32Array(snapshot.refs) : new Int32Array(1024);
    this.#count = snapshot?.count ?? 0;
    this.#deleted = snapshot?.deleted ?? 0;
  }

  /** Live entries. */
  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#hashes.byteLength + this.#refs.byteLength;
  }

  /**
   * The slot of the entry for the name at `buf[start, end)` (hashed with hashName); -1 when
   * none. The matcher is an object, not a closure: no allocation per query.
   */
  findSlot(hash: number, m: NameMatcher, buf: Uint8Array, start: number, end: number): number {
    const refs = this.#refs;
    const hashes = this.#hashes;
    const mask = refs.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const r = refs[i]!;
      if (r === EMPTY) return -1;
      if (r > 0 && hashes[i] === hash && m.matches(r - 1, buf, start, end)) return i;
    }
  }

  /** The hash in a slot found by findSlot or forEach. */
  hashAt(slot: number): number {
    return this.#hashes[slot]!;
  }

  /** The ref in a slot found by findSlot or forEach. */
  refAt(slot: number): number {
    return this.#refs[slot]! - 1;
  }

  insert(hash: number, ref: number): void {
    if ((this.#count + this.#deleted + 1) * 2 > this.#refs.length) this.#rehash();
    const mask = this.#refs.length - 1;
    let i = hash & mask;
    while (this.#refs[i]! > 0) i = (i + 1) & mask;
    if (this.#refs[i] === DELETED) this.#deleted--;
    this.#refs[i] = ref + 1;
    this.#hashes[i] = hash;
    this.#count++;
  }

  /** Marks a slot deleted (probes go on past it). */
  removeAt(slot: number): void {
    this.#refs[slot] = DELETED;
    this.#count--;
    this.#deleted++;
  }

  /** Calls fn for every live (slot, ref); fn may removeAt or moveRef the slot it is given. */
  forEach(fn: (slot: number, ref: number) => void): void {
    for (let i = 0; i < this.#refs.length; i++) {
      const r = this.#refs[i]!;
      if (r > 0) fn(i, r - 1);
    }
  }

  /** Points a live slot at another ref (an entry moved by a compaction). */
  moveRef(slot: number, ref: number): void {
    this.#refs[slot] = ref + 1;
  }

  /** The table as transferable buffers (the table must not be used afterwards). */
  snapshot(): NameTableSnapshot {
    return {
      hashes: this.#hashes.buffer as ArrayBuffer,
      refs: this.#refs.buffer as ArrayBuffer,
      count: this.#count,
      deleted: this.#deleted,
    };
  }

  /** Grows the table when live entries fill a quarter of it, else just sweeps the deleted marks. */
  #rehash(): void {
    const oldRefs = this.#refs;
    const oldHashes = this.#hashes;
    let capacity = oldRefs.length;
    while ((this.#count + 1) * 4 > capacity) capacity *= 2;
    this.#refs = new Int32Array(capacity);
    this.#hashes = new Uint32Array(capacity);
    this.#deleted = 0;
    const mask = capacity - 1;
    for (let j = 0; j < oldRefs.length; j++) {
      const r = oldRefs[j]!;
      if (r <= 0) continue;
      let i = oldHashes[j]! & mask;
      while (this.#refs[i] !== EMPTY) i = (i + 1) & mask;
      this.#refs[i] = r;
      this.#hashes[i] = oldHashes[j]!;
    }
  }
}

/**
 * MurmurHash3 (x86, 32-bit) over the name four bytes at a time, each byte ORed with 0x20 so a
 * name hashes the same in any case (0x20 also folds some non-letters together: a collision the
 * comparison sorts out, not an error). A byte-wise FNV with a lowercase branch cost 4× more.
 */
export function hashName(buf: Uint8Array, start: number, end: number): number {
  let h = HASH_SEED;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24) | 0x20202020;
    h ^= mixK(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let shift = 0; i < end; i++, shift += 8) k |= (buf[i]! | 0x20) << shift;
  h ^= mixK(k);
  h ^= end - start;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(k: number): number {
  let m = Math.imul(k, 0xcc9e2d51);
  m = (m << 15) | (m >>> 17);
  return Math.imul(m, 0x1b873593);
}
