/**
 * Every target route of the served zones, packed into a few large buffers and found by the wire
 * form of the question: the answer to a URI, TXT or ANY question for a route comes from here
 * without a store read, an object per route or an encode, so 1M routes cost ~90 bytes each and a
 * question for any of them is answered at cache-hit cost. Anything else (alias routes, other
 * types, names not here) is the answer function's, behind it; a name missing here means only
 * "not indexed", never "does not exist".
 *
 * The parts, each in its own module:
 * - route-entry.ts: an entry's layout (its name below the zone apex, zone slot, route body);
 * - arena.ts: the chunks entries live in, and their compaction;
 * - name-table.ts: the hash table from a wire name to its entry;
 * - zone-slots.ts: the zones, their epochs, and which zone a nested name belongs to;
 * - route-wire.ts: the records an entry answers with, the same encoder the store path uses.
 * Target prefixes are interned here (`arn:aws:lambda:us-east-1:123456789012:function:` is shared
 * by every function of an account), so an entry holds only what differs.
 */
import { routePathWire } from '../psarn/name.js';
import type { RouteData, RoutePage } from '../store/types.js';
import { Hdr } from '../wire/cursor.js';
import { Arena, type ArenaSnapshot, type LiveRefs, rebase } from './arena.js';
import { hashName, NameTable, type NameTableSnapshot } from './name-table.js';
import {
  Body,
  Entry,
  entryBodyAt,
  entryHeadSize,
  entrySizeAt,
  entryZone,
  MAX_TARGETS,
  policyCode,
  prefixEnd,
  remapPrefixes,
  setEntryZone,
  Target,
  writeBodyHead,
  writeTarget,
} from './route-entry.js';
import { isRouteQuestion, type RouteRecords, type RouteSource, writeRouteRecords } from './route-wire.js';
import { endsWithLabels, ZoneSlots } from './zone-slots.js';

/** An entry bigger than this would not fit a DNS message anyway: left to the answer function. */
const MAX_ENTRY = 65535;
const MAX_PREFIXES = 0xffff;

/** Transferable contents of an index: what a build worker posts back (see route-index-build.ts). */
export interface RouteIndexSnapshot {
  zones: string[];
  prefixes: string[];
  arena: ArenaSnapshot;
  table: NameTableSnapshot;
}

export class RouteIndex {
  readonly #zones: ZoneSlots;
  readonly #prefixes: Buffer[] = [Buffer.alloc(0)];
  readonly #prefixIds = new Map<string, number>();
  readonly #arena: Arena;
  readonly #table: NameTable;
  /** Scratch for names built from zone + path. */
  readonly #nameBuf = Buffer.allocUnsafe(256);
  /** The source handed to the encoder (reused: no allocation per answer). */
  readonly #source: RouteSource = { buf: new Uint8Array(0), at: 0, prefixes: this.#prefixes, epoch: new Uint8Array(0) };
  /** Every live ref, for a compaction (a bound method: made once). */
  readonly #live: LiveRefs = (move) => {
    this.#table.forEach((slot, ref) => {
      this.#table.moveRef(slot, move(ref));
    });
  };
  /** The last prefix interned and its id: consecutive targets mostly share one (an account's functions). */
  #lastPrefix = '';
  #lastPrefixId = 0;
  /** Per target of the route being packed: prefix id, where its suffix starts, the suffix's bytes. */
  #ids: number[] = [];
  #cuts: number[] = [];
  #lens: number[] = [];

  constructor(snapshot?: RouteIndexSnapshot) {
    this.#zones = new ZoneSlots(snapshot?.zones);
    this.#arena = new Arena(entrySizeAt, snapshot?.arena);
    this.#table = new NameTable(snapshot?.table);
    if (snapshot !== undefined) {
      this.#prefixes.length = 0;
      for (const prefix of snapshot.prefixes) {
        if (prefix !== '') this.#prefixIds.set(prefix, this.#prefixes.length);
        this.#prefixes.push(Buffer.from(prefix, 'utf8'));
      }
    }
  }

  /** Routes indexed. */
  get size(): number {
    return this.#table.count;
  }

  /** Memory held: arena chunks (allocated, not only used) and the table. */
  get bytes(): number {
    return this.#arena.bytes + this.#table.bytes;
  }

  /**
   * Declares a zone (or updates its epoch and serial: the serial its routes here are as of, which
   * a caller is recorded with, docs/design.md#the-caller-map). Its routes are found only while it
   * is declared.
   */
  setZone(name: string, epoch: number, serial = 0): void {
    if (this.#zones.setEpoch(name, epoch, serial)) return;
    // Names of an enclosing zone that fall in this one are now this one's (the deepest zone answers).
    for (const { slot, below } of this.#zones.declare(name, epoch, serial).covers) {
      this.#removeWhere((ref) => {
        if (this.#zoneOf(ref) !== slot) return false;
        const chunk = this.#arena.chunk(ref);
        const start = this.#arena.offset(ref) + Entry.REL;
        return endsWithLabels(chunk.subarray(start, start + chunk[start - 1]!), chunk[start - 1]!, below);
      });
    }
  }

  /** Forgets a zone: its entries are no longer found (and count as dead bytes). */
  dropZone(name: string): void {
    const slot = this.#zones.drop(name);
    if (slot === undefined) return;
    this.#removeWhere((ref) => this.#zoneOf(ref) === slot);
    this.#arena.maybeCompact(this.#live);
  }

  hasZone(name: string): boolean {
    return this.#zones.slotOf(name) !== undefined;
  }

  /**
   * Indexes a route of a declared zone, replacing what was there; a route that cannot be
   * answered from here (an alias, no targets, the zone's `_epoch` name, too big) is removed
   * instead. @returns whether the route is now indexed.
   */
  set(zone: string, path: string, route: RouteData): boolean {
    const slot = this.#zones.slotOf(zone);
    if (slot === undefined) return false;
    const page: RoutePage = {
      routes: [[path, route.policy ?? null, route.ttl, route.alias ?? null]],
      targets: route.targets.map((t) => [path, t.target, t.weight, t.priority]),
      first: Int32Array.of(0, route.targets.length),
    };
    const indexed = this.#put(slot, page, 0, true);
    this.#arena.maybeCompact(this.#live);
    return indexed;
  }

  /**
   * Indexes a page of a zone's routes into an index that holds none of them yet (a build: the
   * store's pages of one zone, each path once), without looking for entries to replace.
   */
  load(zone: string, page: RoutePage): void {
    const slot = this.#zones.slotOf(zone);
    if (slot === undefined) return;
    for (let i = 0; i < page.routes.length; i++) this.#put(slot, page, i, false);
  }

  /** Packs route i of `page` into the arena and the table. @returns whether it is indexed. */
  #put(slot: number, page: RoutePage, i: number, replace: boolean): boolean {
    const [path, policy, ttl, alias] = page.routes[i]!;
    const len = this.#routeName(slot, path);
    if (len < 0) return false;
    const hash = hashName(this.#nameBuf, 0, len);
    if (replace) this.#removeName(hash, len);
    const from = page.first[i]!;
    const n = page.first[i + 1]! - from;
    if (alias !== null || policy === null || n === 0 || n > MAX_TARGETS || path === '_epoch') return false;
    if (this.#zones.inDeeperZone(slot, this.#nameBuf, len)) return false;
    const relLen = len - this.#zones.apex(slot).length;
    let size = entryHeadSize(relLen) + Body.TARGETS;
    for (let j = 0; j < n; j++) {
      const target = page.targets[from + j]![1];
      let cut = prefixEnd(target);
      let id = 0;
      if (cut > 0) {
        const found = this.#intern(target, cut);
        if (found === undefined) cut = 0;
        else id = found;
      }
      const suffixLen = Buffer.byteLength(target, 'utf8') - this.#prefixes[id]!.length;
      this.#ids[j] = id;
      this.#cuts[j] = cut;
      this.#lens[j] = suffixLen;
      size += Target.SUFFIX + suffixLen;
    }
    if (size > MAX_ENTRY) return false;
    const ref = this.#arena.reserve(size, this.#live);
    const chunk = this.#arena.chunk(ref);
    const at = this.#arena.offset(ref);
    chunk[at + Entry.REL_LEN] = relLen;
    this.#nameBuf.copy(chunk, at + Entry.REL, 0, relLen);
    chunk.writeUInt16BE(slot, at + Entry.REL + relLen + Entry.ZONE_AFTER_REL);
    let p = writeBodyHead(chunk, entryBodyAt(chunk, at), ttl, policyCode(policy), n);
    for (let j = 0; j < n; j++) {
      const [, target, weight, priority] = page.targets[from + j]!;
      const cut = this.#cuts[j]!;
      p = writeTarget(chunk, p, priority, weight, this.#ids[j]!, cut > 0 ? target.slice(cut) : target, this.#lens[j]!);
    }
    this.#table.insert(hash, ref);
    return true;
  }

  /** The id of `target`'s first `cut` characters as a prefix, interned now if new; undefined when the table is full. */
  #intern(target: string, cut: number): number | undefined {
    if (cut === this.#lastPrefix.length && target.startsWith(this.#lastPrefix)) return this.#lastPrefixId;
    const prefix = target.slice(0, cut);
    let id = this.#prefixIds.get(prefix);
    if (id === undefined) {
      if (this.#prefixes.length >= MAX_PREFIXES) return undefined;
      id = this.#prefixes.length;
      this.#prefixIds.set(prefix, id);
      this.#prefixes.push(Buffer.from(prefix, 'utf8'));
    }
    this.#lastPrefix = prefix;
    this.#lastPrefixId = id;
    return id;
  }

  /** Removes a route (nothing when it is not indexed). */
  delete(zone: string, path: string): void {
    const slot = this.#zones.slotOf(zone);
    if (slot === undefined) return;
    const len = this.#routeName(slot, path);
    if (len < 0) return;
    this.#removeName(hashName(this.#nameBuf, 0, len), len);
    this.#arena.maybeCompact(this.#live);
  }

  /**
   * The entry for the name at `buf[start, end)` (wire form, any case), or -1.
   * `end` is the offset just past the name's root label.
   */
  lookup(buf: Uint8Array, start: number, end: number): number {
    const slot = this.#table.findSlot(hashName(buf, start, end), this, buf, start, end);
    return slot < 0 ? -1 : this.#table.refAt(slot);
  }

  /**
   * Writes the records for `qtype` (URI, TXT or ANY) of the entry `ref` into `out` at 0, owners
   * pointing at the question (offset 12), with route-wire.ts's encoder.
   * @returns false when qtype is not one of those or `out` is too small (the caller falls back).
   */
  writeRecords(ref: number, qtype: number, out: Uint8Array, result: RouteRecords): boolean {
    if (!isRouteQuestion(qtype)) return false;
    const chunk = this.#arena.chunk(ref);
    const at = this.#arena.offset(ref);
    const src = this.#source;
    src.buf = chunk;
    src.at = entryBodyAt(chunk, at);
    src.epoch = this.#zones.epoch(entryZone(chunk, at));
    return writeRouteRecords(out, 0, Hdr.SIZE, qtype, src, result);
  }

  /** The zone serial of entry `ref`'s routes (what setZone last gave its zone). */
  serialOf(ref: number): number {
    return this.#zones.serial(entryZone(this.#arena.chunk(ref), this.#arena.offset(ref)));
  }

  /** NameMatcher (name-table.ts): whether entry `ref` is the name at `buf[start, end)`, ignoring ASCII case. */
  matches(ref: number, buf: Uint8Array, start: number, end: number): boolean {
    const chunk = this.#arena.chunk(ref);
    const p = this.#arena.offset(ref) + Entry.REL;
    const relLen = chunk[p - 1]!;
    const zone = (chunk[p + relLen]! << 8) | chunk[p + relLen + 1]!;
    const apex = this.#zones.apex(zone);
    if (!this.#zones.valid(zone) || end - start !== relLen + apex.length) return false;
    for (let i = 0; i < relLen; i++) if (!sameByte(buf[start + i]!, chunk[p + i]!)) return false;
    const at = start + relLen;
    for (let i = 0; i < apex.length; i++) if (!sameByte(buf[at + i]!, apex[i]!)) return false;
    return true;
  }

  /** The index's contents as transferable buffers (the index must not be used afterwards). */
  snapshot(): { snapshot: RouteIndexSnapshot; transfer: ArrayBuffer[] } {
    const arena = this.#arena.snapshot();
    const table = this.#table.snapshot();
    const snapshot: RouteIndexSnapshot = {
      zones: this.#zones.names(),
      prefixes: this.#prefixes.map((p) => p.toString('utf8')),
      arena,
      table,
    };
    return { snapshot, transfer: [...arena.chunks, table.hashes, table.refs] };
  }

  /** An index from a snapshot; zone epochs start at 0 until setZone gives the current ones. */
  static fromSnapshot(snapshot: RouteIndexSnapshot): RouteIndex {
    return new RouteIndex(snapshot);
  }

  /**
   * One index of the parts of a parallel build (route-index-build.ts), which hold disjoint runs
   * of the same zones' routes: the first takes over the others' arena chunks and renumbers their
   * entries' zone slots and prefix ids in place (no entry is copied). An entry of a zone the first
   * part does not have is dropped (not indexed). The parts must not be used afterwards.
   */
  static merge(parts: readonly RouteIndex[]): RouteIndex {
    const [first, ...rest] = parts;
    if (first === undefined) return new RouteIndex();
    for (const part of rest) first.#absorb(part);
    return first;
  }

  #absorb(part: RouteIndex): void {
    const zones = part.#zones.names().map((name) => (name === '' ? undefined : this.#zones.slotOf(name)));
    const prefixes = part.#prefixes.map((p, id) => {
      if (id === 0) return 0;
      const text = p.toString('utf8');
      return this.#intern(text, text.length);
    });
    const base = this.#arena.adopt(part.#arena);
    const table = part.#table;
    table.forEach((slot, ref) => {
      const moved = rebase(ref, base);
      const chunk = this.#arena.chunk(moved);
      const at = this.#arena.offset(moved);
      const zone = zones[entryZone(chunk, at)];
      if (zone === undefined || !remapPrefixes(chunk, entryBodyAt(chunk, at), prefixes)) {
        this.#arena.free(moved);
        return;
      }
      setEntryZone(chunk, at, zone);
      this.#table.insert(table.hashAt(slot), moved);
    });
  }

  #zoneOf(ref: number): number {
    return entryZone(this.#arena.chunk(ref), this.#arena.offset(ref));
  }

  /** Writes zone slot + path as a wire name into #nameBuf; its length, or -1 when it is not a name. */
  #routeName(slot: number, path: string): number {
    const apex = this.#zones.apex(slot);
    const p = routePathWire(path, this.#nameBuf, apex.length);
    if (p < 0) return -1;
    apex.copy(this.#nameBuf, p);
    return p + apex.length;
  }

  #removeName(hash: number, len: number): void {
    const slot = this.#table.findSlot(hash, this, this.#nameBuf, 0, len);
    if (slot >= 0) this.#removeSlot(slot, this.#table.refAt(slot));
  }

  #removeWhere(test: (ref: number) => boolean): void {
    this.#table.forEach((slot, ref) => {
      if (test(ref)) this.#removeSlot(slot, ref);
    });
  }

  #removeSlot(slot: number, ref: number): void {
    this.#arena.free(ref);
    this.#table.removeAt(slot);
  }
}

/** Whether byte b of a question equals byte c of a stored (lowercase) name, ignoring ASCII case. */
function sameByte(b: number, c: number): boolean {
  return b === c || (b >= 0x41 && b <= 0x5a && (b | 0x20) === c);
}
