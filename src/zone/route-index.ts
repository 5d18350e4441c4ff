/**
 * Every target route of the served zones, packed into a few large buffers and found by the wire
 * form of the question: the answer to a URI, TXT or ANY question for a route comes from here
 * without a store read, an object per route or an encode, so 1M routes cost ~90 bytes each and a
 * question for any of them is answered at cache-hit cost. Anything else (alias routes, other
 * types, names not here) is the answer function's, behind it; a name missing here means only
 * "not indexed", never "does not exist".
 *
 * Layout. An entry is written once into the arena (chunks of up to 16 MiB, addressed as
 * chunk << 24 | offset) and never moved until a compaction:
 *   u8 relLen, rel (the labels below the zone apex, wire form, lowercase), u16 zone slot,
 *   u32 ttl, u8 policy, u16 target count, then per target
 *   u16 priority, u16 weight, u16 prefix id, u16 suffix length, suffix bytes.
 * A target is split after its last ':' or '/' and the prefix interned (`arn:aws:lambda:
 * us-east-1:123456789012:function:` is shared by every function of an account), so an entry
 * holds only what differs. The lookup table is open addressing with linear probing over two
 * typed arrays: a 32-bit hash of the wire name, case folded, and entry ref + 1 (0 empty,
 * -1 deleted). The epoch in the route TXT comes from the zone slot when the answer is written,
 * so a flush does not touch the entries.
 *
 * The replies written here are byte for byte those of the answer function encoded by
 * encodeReady (test/zone/route-index.test.ts compares them), owners compressed to the question.
 */
import { TXT_VERSION } from '../psarn/txt.js';
import type { RouteData } from '../store/types.js';
import { parseName } from '../wire/name.js';
import { Class, Type } from '../wire/types.js';

const MAX_CHUNK = 16 * 1024 * 1024;
const FIRST_CHUNK = 1024 * 1024;
const OFFSET_BITS = 24;
const OFFSET_MASK = (1 << OFFSET_BITS) - 1;
/** Refs are positive int32 after + 1: chunk < 127. 127 × 16 MiB is far beyond any budget. */
const MAX_CHUNKS = 127;
/** An entry bigger than this would not fit a DNS message anyway: left to the answer function. */
const MAX_ENTRY = 65535;
const MAX_PREFIXES = 0xffff;
/** Shorter prefixes are not worth an id. */
const MIN_PREFIX = 8;
const EMPTY = 0;
const DELETED = -1;

const POLICY_WEIGHTED = 0;
const POLICY_FANOUT = 1;
const POLICY_TEXT = [Buffer.from('policy=weighted'), Buffer.from('policy=fanout')];
const VERSION_TEXT = Buffer.from(TXT_VERSION);

const HASH_SEED = 0x9747b28c;

/** Owner of every record written here: a pointer to the question name at offset 12. */
const OWNER_POINTER = 0xc00c;

/** What writeBody wrote, reused between calls (no allocation per answer). */
export interface IndexedBody {
  length: number;
  ancount: number;
  arcount: number;
  /** Where the additional section starts (`length` when there is none): see ReadyAnswer. */
  additionalAt: number;
}

/** Transferable contents of an index: what a build worker posts back (see route-index-build.ts). */
export interface RouteIndexSnapshot {
  zones: string[];
  prefixes: string[];
  chunks: ArrayBuffer[];
  chunkUsed: number[];
  hashes: ArrayBuffer;
  refs: ArrayBuffer;
  count: number;
  deleted: number;
  liveBytes: number;
  deadBytes: number;
}

interface ZoneSlot {
  name: string;
  apex: Buffer;
  valid: boolean;
  /** `epoch=<n>` as the route TXT's last string. */
  epochText: Buffer;
}

export class RouteIndex {
  readonly #zones: ZoneSlot[] = [];
  readonly #zoneSlots = new Map<string, number>();
  readonly #prefixes: Buffer[] = [Buffer.alloc(0)];
  readonly #prefixIds = new Map<string, number>();
  #chunks: Buffer[] = [];
  #chunkUsed: number[] = [];
  #hashes = new Uint32Array(1024);
  #refs = new Int32Array(1024);
  #count = 0;
  #deleted = 0;
  #liveBytes = 0;
  #deadBytes = 0;
  /** Scratch for names built from zone + path. */
  readonly #nameBuf = Buffer.allocUnsafe(256);

  /** Routes indexed. */
  get size(): number {
    return this.#count;
  }

  /** Memory held: arena chunks (allocated, not only used) and the table. */
  get bytes(): number {
    let total = this.#hashes.byteLength + this.#refs.byteLength;
    for (const chunk of this.#chunks) total += chunk.length;
    return total;
  }

  /** Declares a zone (or updates its epoch). Its routes are found only while it is declared. */
  setZone(name: string, epoch: number): void {
    const text = Buffer.from(`epoch=${epoch}`);
    const slot = this.#zoneSlots.get(name);
    if (slot !== undefined) {
      const zone = this.#zones[slot]!;
      zone.epochText = text;
      return;
    }
    if (this.#zones.length > 0xffff) throw new RangeError('more than 65536 zones in one route index');
    const apex = nameWire(name);
    // Names of an enclosing zone that fall in this one are now this one's (the deepest zone answers).
    for (const outer of this.#zoneSlots.values()) {
      const outerApex = this.#zones[outer]!.apex;
      if (outerApex.length < apex.length && endsWithLabels(apex, apex.length, outerApex)) {
        this.#dropCovered(outer, apex.subarray(0, apex.length - outerApex.length));
      }
    }
    this.#zoneSlots.set(name, this.#zones.length);
    this.#zones.push({ name, apex, valid: true, epochText: text });
  }

  /** Removes the entries of zone `slot` whose relative name ends with the labels `below` (a new inner zone). */
  #dropCovered(slot: number, below: Buffer): void {
    for (let i = 0; i < this.#refs.length; i++) {
      const r = this.#refs[i]! - 1;
      if (r < 0 || this.#zoneOf(r) !== slot) continue;
      const chunk = this.#chunks[r >>> OFFSET_BITS]!;
      const start = (r & OFFSET_MASK) + 1;
      const rel = chunk.subarray(start, start + chunk[start - 1]!);
      if (endsWithLabels(rel, rel.length, below)) this.#remove(i, r);
    }
  }

  /** Forgets a zone: its entries are no longer found (and count as dead bytes). */
  dropZone(name: string): void {
    const slot = this.#zoneSlots.get(name);
    if (slot === undefined) return;
    this.#zoneSlots.delete(name);
    const zone = this.#zones[slot]!;
    zone.valid = false;
    for (let i = 0; i < this.#refs.length; i++) {
      const r = this.#refs[i]! - 1;
      if (r >= 0 && this.#zoneOf(r) === slot) this.#remove(i, r);
    }
    this.#maybeCompact();
  }

  hasZone(name: string): boolean {
    return this.#zoneSlots.has(name);
  }

  /**
   * Indexes a route of a declared zone, replacing what was there; a route that cannot be
   * answered from here (an alias, no targets, the zone's `_epoch` name, too big) is removed
   * instead. @returns whether the route is now indexed.
   */
  set(zone: string, path: string, route: RouteData): boolean {
    const slot = this.#zoneSlots.get(zone);
    if (slot === undefined) return false;
    const len = this.#routeName(slot, path);
    if (len < 0) return false;
    const hash = hashName(this.#nameBuf, 0, len);
    this.#removeName(hash, len);
    if (!this.#indexable(slot, path, len, route)) {
      this.#maybeCompact();
      return false;
    }
    const relLen = len - this.#zones[slot]!.apex.length;
    // Targets as prefix id + suffix bytes.
    const parts: { prefix: number; suffix: Buffer }[] = [];
    let size = 1 + relLen + 2 + 4 + 1 + 2;
    for (const t of route.targets) {
      const part = this.#split(t.target);
      parts.push(part);
      size += 8 + part.suffix.length;
    }
    if (size > MAX_ENTRY || route.targets.length > 0xffff) {
      this.#maybeCompact();
      return false;
    }
    const ref = this.#reserve(size);
    const chunk = this.#chunks[ref >>> OFFSET_BITS]!;
    let p = ref & OFFSET_MASK;
    chunk[p++] = relLen;
    this.#nameBuf.copy(chunk, p, 0, relLen);
    p += relLen;
    chunk.writeUInt16BE(slot, p);
    chunk.writeUInt32BE(route.ttl, p + 2);
    chunk[p + 6] = route.policy === 'fanout' ? POLICY_FANOUT : POLICY_WEIGHTED;
    chunk.writeUInt16BE(route.targets.length, p + 7);
    p += 9;
    for (let i = 0; i < parts.length; i++) {
      const t = route.targets[i]!;
      const part = parts[i]!;
      chunk.writeUInt16BE(t.priority, p);
      chunk.writeUInt16BE(t.weight, p + 2);
      chunk.writeUInt16BE(part.prefix, p + 4);
      chunk.writeUInt16BE(part.suffix.length, p + 6);
      part.suffix.copy(chunk, p + 8);
      p += 8 + part.suffix.length;
    }
    this.#insert(hash, ref);
    this.#liveBytes += size;
    this.#maybeCompact();
    return true;
  }

  /** A target route of this zone's own (not an alias, not `_epoch`, not inside a deeper zone). */
  #indexable(slot: number, path: string, len: number, route: RouteData): boolean {
    if (route.alias !== undefined || route.policy === undefined || route.targets.length === 0) return false;
    return path !== '_epoch' && !this.#inDeeperZone(slot, len);
  }

  /** Removes a route (nothing when it is not indexed). */
  delete(zone: string, path: string): void {
    const slot = this.#zoneSlots.get(zone);
    if (slot === undefined) return;
    const len = this.#routeName(slot, path);
    if (len < 0) return;
    this.#removeName(hashName(this.#nameBuf, 0, len), len);
    this.#maybeCompact();
  }

  /**
   * The entry for the name at `buf[start, end)` (wire form, any case), or -1.
   * `end` is the offset just past the name's root label.
   */
  lookup(buf: Uint8Array, start: number, end: number): number {
    const hash = hashName(buf, start, end);
    const refs = this.#refs;
    const hashes = this.#hashes;
    const mask = refs.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const r = refs[i]!;
      if (r === EMPTY) return -1;
      if (r > 0 && hashes[i] === hash && this.#matches(r - 1, buf, start, end)) return r - 1;
    }
  }

  /**
   * Writes the answer, authority and additional sections for `qtype` (URI, TXT or ANY) of the
   * entry `ref` into `out` at 0, as encodeReady would for the answer function's reply.
   * @returns false when qtype is not one of those or `out` is too small (the caller falls back).
   */
  writeBody(ref: number, qtype: number, out: Uint8Array, result: IndexedBody): boolean {
    if (qtype !== Type.URI && qtype !== Type.TXT && qtype !== Type.ANY) return false;
    const chunk = this.#chunks[ref >>> OFFSET_BITS]!;
    let p = ref & OFFSET_MASK;
    p += 1 + chunk[p]!;
    const zone = this.#zones[(chunk[p]! << 8) | chunk[p + 1]!]!;
    const ttl = ((chunk[p + 2]! << 24) | (chunk[p + 3]! << 16) | (chunk[p + 4]! << 8) | chunk[p + 5]!) >>> 0;
    const policy = chunk[p + 6]!;
    const n = (chunk[p + 7]! << 8) | chunk[p + 8]!;
    p += 9;
    let w = 0;
    if (qtype !== Type.TXT) {
      for (let i = 0; i < n; i++) {
        const prefix = this.#prefixes[(chunk[p + 4]! << 8) | chunk[p + 5]!]!;
        const suffixLen = (chunk[p + 6]! << 8) | chunk[p + 7]!;
        const rdlen = 4 + prefix.length + suffixLen;
        if (w + 12 + rdlen > out.length) return false;
        rrHead(out, w, Type.URI, ttl, rdlen);
        out[w + 12] = chunk[p]!;
        out[w + 13] = chunk[p + 1]!;
        out[w + 14] = chunk[p + 2]!;
        out[w + 15] = chunk[p + 3]!;
        w += 16;
        out.set(prefix, w);
        w += prefix.length;
        const from = p + 8;
        for (let j = 0; j < suffixLen; j++) out[w + j] = chunk[from + j]!;
        w += suffixLen;
        p = from + suffixLen;
      }
    }
    // The route TXT: "v=psarn1" "policy=<policy>" "epoch=<n>" (src/zone/records.ts).
    const policyText = POLICY_TEXT[policy]!;
    const epochText = zone.epochText;
    const rdlen = 3 + VERSION_TEXT.length + policyText.length + epochText.length;
    if (w + 12 + rdlen > out.length) return false;
    // For URI the TXT is the additional section; for TXT and ANY it ends the answer.
    const txtAt = w;
    rrHead(out, w, Type.TXT, ttl, rdlen);
    w = writeString(out, w + 12, VERSION_TEXT);
    w = writeString(out, w, policyText);
    w = writeString(out, w, epochText);
    result.length = w;
    result.ancount = qtype === Type.URI ? n : qtype === Type.TXT ? 1 : n + 1;
    result.arcount = qtype === Type.URI ? 1 : 0;
    result.additionalAt = qtype === Type.URI ? txtAt : w;
    return true;
  }

  /** The index's contents as transferable buffers (the index must not be used afterwards). */
  snapshot(): { snapshot: RouteIndexSnapshot; transfer: ArrayBuffer[] } {
    const chunks = this.#chunks.map((c) => c.buffer as ArrayBuffer);
    const snapshot: RouteIndexSnapshot = {
      zones: this.#zones.map((z) => (z.valid ? z.name : '')),
      prefixes: this.#prefixes.map((p) => p.toString('utf8')),
      chunks,
      chunkUsed: [...this.#chunkUsed],
      hashes: this.#hashes.buffer as ArrayBuffer,
      refs: this.#refs.buffer as ArrayBuffer,
      count: this.#count,
      deleted: this.#deleted,
      liveBytes: this.#liveBytes,
      deadBytes: this.#deadBytes,
    };
    return { snapshot, transfer: [...chunks, snapshot.hashes, snapshot.refs] };
  }

  /** An index from a snapshot; zone epochs start at 0 until setZone gives the current ones. */
  static fromSnapshot(s: RouteIndexSnapshot): RouteIndex {
    const index = new RouteIndex();
    for (const name of s.zones) {
      index.#zoneSlots.set(name, index.#zones.length);
      index.#zones.push({ name, apex: nameWire(name || '.'), valid: name !== '', epochText: Buffer.from('epoch=0') });
    }
    index.#zoneSlots.delete('');
    index.#prefixes.length = 0;
    for (const prefix of s.prefixes) {
      index.#prefixIds.set(prefix, index.#prefixes.length);
      index.#prefixes.push(Buffer.from(prefix, 'utf8'));
    }
    index.#prefixIds.delete('');
    index.#chunks = s.chunks.map((b) => Buffer.from(b));
    index.#chunkUsed = [...s.chunkUsed];
    index.#hashes = new Uint32Array(s.hashes);
    index.#refs = new Int32Array(s.refs);
    index.#count = s.count;
    index.#deleted = s.deleted;
    index.#liveBytes = s.liveBytes;
    index.#deadBytes = s.deadBytes;
    return index;
  }

  #zoneOf(ref: number): number {
    const chunk = this.#chunks[ref >>> OFFSET_BITS]!;
    const p = (ref & OFFSET_MASK) + 1 + chunk[ref & OFFSET_MASK]!;
    return (chunk[p]! << 8) | chunk[p + 1]!;
  }

  #matches(ref: number, buf: Uint8Array, start: number, end: number): boolean {
    const chunk = this.#chunks[ref >>> OFFSET_BITS]!;
    const p = (ref & OFFSET_MASK) + 1;
    const relLen = chunk[p - 1]!;
    const zone = this.#zones[(chunk[p + relLen]! << 8) | chunk[p + relLen + 1]!]!;
    const apex = zone.apex;
    if (!zone.valid || end - start !== relLen + apex.length) return false;
    for (let i = 0; i < relLen; i++) if (!sameByte(buf[start + i]!, chunk[p + i]!)) return false;
    const at = start + relLen;
    for (let i = 0; i < apex.length; i++) if (!sameByte(buf[at + i]!, apex[i]!)) return false;
    return true;
  }

  /**
   * Whether the name in #nameBuf[0, len) lies in another declared zone below `slot`'s: that zone
   * answers it (the deepest zone does), so it is not indexed under this one.
   */
  #inDeeperZone(slot: number, len: number): boolean {
    const own = this.#zones[slot]!.apex.length;
    for (const other of this.#zoneSlots.values()) {
      const apex = this.#zones[other]!.apex;
      if (other !== slot && apex.length > own && endsWithLabels(this.#nameBuf, len, apex)) return true;
    }
    return false;
  }

  /** The entry's size in bytes. */
  #entrySize(ref: number): number {
    const chunk = this.#chunks[ref >>> OFFSET_BITS]!;
    const start = ref & OFFSET_MASK;
    let p = start + 1 + chunk[start]! + 7;
    const n = (chunk[p]! << 8) | chunk[p + 1]!;
    p += 2;
    for (let i = 0; i < n; i++) p += 8 + ((chunk[p + 6]! << 8) | chunk[p + 7]!);
    return p - start;
  }

  /** Writes zone slot + path as a wire name into #nameBuf; its length, or -1 when it is not a name. */
  #routeName(slot: number, path: string): number {
    const labels = path.split('/').reverse();
    const apex = this.#zones[slot]!.apex;
    let p = 0;
    for (const label of labels) {
      const bytes = Buffer.byteLength(label, 'latin1');
      if (bytes === 0 || bytes > 63 || p + 1 + bytes + apex.length > 255) return -1;
      this.#nameBuf[p] = bytes;
      this.#nameBuf.write(label, p + 1, 'latin1');
      p += 1 + bytes;
    }
    apex.copy(this.#nameBuf, p);
    return p + apex.length;
  }

  #removeName(hash: number, len: number): void {
    const mask = this.#refs.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const r = this.#refs[i]!;
      if (r === EMPTY) return;
      if (r > 0 && this.#hashes[i] === hash && this.#matches(r - 1, this.#nameBuf, 0, len)) {
        this.#remove(i, r - 1);
        return;
      }
    }
  }

  #remove(slot: number, ref: number): void {
    const size = this.#entrySize(ref);
    this.#refs[slot] = DELETED;
    this.#count--;
    this.#deleted++;
    this.#liveBytes -= size;
    this.#deadBytes += size;
  }

  #insert(hash: number, ref: number): void {
    if ((this.#count + this.#deleted + 1) * 2 > this.#refs.length) this.#rehash();
    const mask = this.#refs.length - 1;
    let i = hash & mask;
    while (this.#refs[i]! > 0) i = (i + 1) & mask;
    if (this.#refs[i] === DELETED) this.#deleted--;
    this.#refs[i] = ref + 1;
    this.#hashes[i] = hash;
    this.#count++;
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

  /** Room for `size` bytes in the arena: the current chunk, or a new one twice as big (up to 16 MiB). */
  #reserve(size: number): number {
    if (!this.#fits(size) && this.#chunks.length >= MAX_CHUNKS) this.#compact();
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
    return ref;
  }

  /** Whether the current chunk has `size` bytes left. */
  #fits(size: number): boolean {
    const c = this.#chunks.length - 1;
    return c >= 0 && this.#chunkUsed[c]! + size <= this.#chunks[c]!.length;
  }

  /** Rewrites the arena without dead entries once they outweigh the live ones (and 8 MiB). */
  #maybeCompact(): void {
    if (this.#deadBytes > 8 * 1024 * 1024 && this.#deadBytes > this.#liveBytes) this.#compact();
  }

  #compact(): void {
    const oldChunks = this.#chunks;
    this.#chunks = [];
    this.#chunkUsed = [];
    for (let i = 0; i < this.#refs.length; i++) {
      const r = this.#refs[i]! - 1;
      if (r < 0) continue;
      const size = this.#entrySize2(oldChunks, r);
      const ref = this.#reserve(size);
      const from = r & OFFSET_MASK;
      oldChunks[r >>> OFFSET_BITS]!.copy(this.#chunks[ref >>> OFFSET_BITS]!, ref & OFFSET_MASK, from, from + size);
      this.#refs[i] = ref + 1;
    }
    this.#deadBytes = 0;
  }

  #entrySize2(chunks: Buffer[], ref: number): number {
    const saved = this.#chunks;
    this.#chunks = chunks;
    try {
      return this.#entrySize(ref);
    } finally {
      this.#chunks = saved;
    }
  }

  #split(target: string): { prefix: number; suffix: Buffer } {
    const cut = Math.max(target.lastIndexOf(':'), target.lastIndexOf('/')) + 1;
    if (cut >= MIN_PREFIX) {
      const text = target.slice(0, cut);
      let id = this.#prefixIds.get(text);
      if (id === undefined && this.#prefixes.length < MAX_PREFIXES) {
        id = this.#prefixes.length;
        this.#prefixIds.set(text, id);
        this.#prefixes.push(Buffer.from(text, 'utf8'));
      }
      if (id !== undefined) return { prefix: id, suffix: Buffer.from(target.slice(cut), 'utf8') };
    }
    return { prefix: 0, suffix: Buffer.from(target, 'utf8') };
  }
}

/**
 * MurmurHash3 (x86, 32-bit) over the name four bytes at a time, each byte ORed with 0x20 so a
 * name hashes the same in any case (0x20 also folds some non-letters together: a collision the
 * comparison sorts out, not an error). A byte-wise FNV with a lowercase branch cost 4× more.
 */
function hashName(buf: Uint8Array, start: number, end: number): number {
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

/** Whether byte b of a question equals byte c of a stored (lowercase) name, ignoring ASCII case. */
function sameByte(b: number, c: number): boolean {
  return b === c || (b >= 0x41 && b <= 0x5a && (b | 0x20) === c);
}

/**
 * Whether the wire labels in name[0, len) end with the bytes `suffix` at a label boundary
 * (suffix: whole labels, with or without the root label, like the name).
 */
function endsWithLabels(name: Uint8Array, len: number, suffix: Uint8Array): boolean {
  const at = len - suffix.length;
  if (at < 0) return false;
  let p = 0;
  while (p < at) p += 1 + name[p]!;
  if (p !== at) return false;
  for (let i = 0; i < suffix.length; i++) if (name[at + i] !== suffix[i]) return false;
  return true;
}

/** An absolute lowercase zone name ("a.b." or "."; presentation escapes allowed) in wire form, root label included. */
function nameWire(name: string): Buffer {
  const parts: Uint8Array[] = [];
  for (const label of parseName(name)) parts.push(Uint8Array.of(label.length), label);
  parts.push(Uint8Array.of(0));
  return Buffer.concat(parts);
}

/** An RR's owner (a pointer to the question), type, class IN, TTL and rdlength: 12 bytes at w. */
function rrHead(out: Uint8Array, w: number, type: number, ttl: number, rdlen: number): void {
  out[w] = OWNER_POINTER >>> 8;
  out[w + 1] = OWNER_POINTER & 0xff;
  out[w + 2] = type >>> 8;
  out[w + 3] = type & 0xff;
  out[w + 4] = 0;
  out[w + 5] = Class.IN;
  out[w + 6] = ttl >>> 24;
  out[w + 7] = (ttl >>> 16) & 0xff;
  out[w + 8] = (ttl >>> 8) & 0xff;
  out[w + 9] = ttl & 0xff;
  out[w + 10] = rdlen >>> 8;
  out[w + 11] = rdlen & 0xff;
}

function writeString(out: Uint8Array, w: number, text: Uint8Array): number {
  out[w] = text.length;
  out.set(text, w + 1);
  return w + 1 + text.length;
}
