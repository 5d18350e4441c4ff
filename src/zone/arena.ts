/**
 * Where the route index keeps its entries: chunks of up to 16 MiB, an entry addressed as
 * `chunk << 24 | offset` and never moved until a compaction. Entries are only appended; a
 * removed entry's bytes count as dead until a compaction rewrites the live ones.
 */

const MAX_CHUNK = 16 * 1024 * 1024;
const FIRST_CHUNK = 1024 * 1024;
const OFFSET_BITS = 24;
const OFFSET_MASK = (1 << OFFSET_BITS) - 1;
/** Refs are positive int32 after + 1 (name-table.ts): chunk < 127. 127 × 16 MiB is far beyond any budget. */
const MAX_CHUNKS = 127;
/** Dead bytes a compaction waits for (and for them to outweigh the live ones). */
const COMPACT_AFTER = 8 * 1024 * 1024;

export interface ArenaSnapshot {
  chunks: ArrayBuffer[];
  chunkUsed: number[];
  liveBytes: number;
  deadBytes: number;
}

/** The live entries, for a compaction to move: `move(ref)` is called once per live ref and returns its new ref. */
export type LiveRefs = (move: (ref: number) => number) => void;

/** Where an entry of an adopted arena is (Arena.adopt): its chunk moved up by `base`. */
export function rebase(ref: number, base: number): number {
  return (((ref >>> OFFSET_BITS) + base) << OFFSET_BITS) | (ref & OFFSET_MASK);
}

export class Arena {
  #chunks: Buffer[];
  #chunkUsed: number[];
  #liveBytes: number;
  #deadBytes: number;
  readonly #sizeOf: (chunk: Buffer, at: number) => number;

  /** `sizeOf` tells an entry's size from its bytes (route-entry.ts's entrySizeAt). */
  constructor(sizeOf: (chunk: Buffer, at: number) => number, snapshot?: ArenaSnapshot) {
    this.#sizeOf = sizeOf;
    this.#chunks = snapshot?.chunks.map((b) => Buffer.from(b)) ?? [];
    this.#chunkUsed = snapshot !== undefined ? [...snapshot.chunkUsed] : [];
    this.#liveBytes = snapshot?.liveBytes ?? 0;
    this.#deadBytes = snapshot?.deadBytes ?? 0;
  }

  /** Memory held: chunks allocated, not only used. */
  get bytes(): number {
    let total = 0;
    for (const chunk of this.#chunks) total += chunk.length;
    return total;
  }

  /** The chunk holding `ref`. */
  chunk(ref: number): Buffer {
    return this.#chunks[ref >>> OFFSET_BITS]!;
  }

  /** The offset of `ref` in its chunk. */
  offset(ref: number): number {
    return ref & OFFSET_MASK;
  }

  /**
   * Room for an entry of `size` bytes, counted live: the current chunk, or a new one twice as big
   * (up to 16 MiB). When the chunks are all used it compacts first, through `live`.
   */
  reserve(size: number, live: LiveRefs): number {
    if (!this.#fits(size) && this.#chunks.length >= MAX_CHUNKS) this.compact(live);
    if (!this.#fits(size)) {
      if (this.#chunks.length >= MAX_CHUNKS) throw new RangeError('route index is full');
      const last = this.#chunks[this.#chunks.length - 1];
      const length = last === undefined ? FIRST_CHUNK : Math.min(MAX_CHUNK, last.length * 2);
      // Own memory (not Node's pool): the chunk is transferable and lives as long as the index.
      this.#chunks.push(Buffer.allocUnsafeSlow(Math.max(length, size)));
      this.#chunkUsed.push(0);
    }
    const c = this.#chunks.length - 1;
    const ref = (c << OFFSET_BITS) | this.#chunkUsed[c]!;
    this.#chunkUsed[c]! += size;
    this.#liveBytes += size;
    return ref;
  }

  /** Counts the entry at `ref` dead. */
  free(ref: number): void {
    const size = this.#sizeOf(this.chunk(ref), this.offset(ref));
    this.#liveBytes -= size;
    this.#deadBytes += size;
  }

  /** Compacts once dead entries outweigh the live ones (and COMPACT_AFTER). */
  maybeCompact(live: LiveRefs): void {
    if (this.#deadBytes > COMPACT_AFTER && this.#deadBytes > this.#liveBytes) this.compact(live);
  }

  /** Rewrites the live entries into new chunks, without the dead ones. */
  compact(live: LiveRefs): void {
    const old = this.#chunks;
    this.#chunks = [];
    this.#chunkUsed = [];
    this.#liveBytes = 0;
    this.#deadBytes = 0;
    live((ref) => {
      const from = old[ref >>> OFFSET_BITS]!;
      const at = ref & OFFSET_MASK;
      const size = this.#sizeOf(from, at);
      const moved = this.reserve(size, () => {
        throw new RangeError('route index is full');
      });
      from.copy(this.chunk(moved), this.offset(moved), at, at + size);
      return moved;
    });
  }

  /**
   * Takes over the chunks of another arena (a part of a parallel build), after this one's: an
   * entry at `ref` there is at rebase(ref, base) here. @returns base. The other arena must not be
   * used afterwards. New entries go on after the adopted ones.
   */
  adopt(other: Arena): number {
    const base = this.#chunks.length;
    if (base + other.#chunks.length > MAX_CHUNKS) throw new RangeError('route index is full');
    this.#chunks.push(...other.#chunks);
    this.#chunkUsed.push(...other.#chunkUsed);
    this.#liveBytes += other.#liveBytes;
    this.#deadBytes += other.#deadBytes;
    return base;
  }

  /** The arena as transferable buffers (it must not be used afterwards). */
  snapshot(): ArenaSnapshot {
    return {
      chunks: this.#chunks.map((c) => c.buffer as ArrayBuffer),
      chunkUsed: [...this.#chunkUsed],
      liveBytes: this.#liveBytes,
      deadBytes: this.#deadBytes,
    };
  }

  #fits(size: number): boolean {
    const c = this.#chunks.length - 1;
    return c >= 0 && this.#chunkUsed[c]! + size <= this.#chunks[c]!.length;
  }
}
