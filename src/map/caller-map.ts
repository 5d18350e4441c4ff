/**
 * psarnd's in-memory caller map (docs/design.md#the-caller-map): for each caller id (EDNS option
 * 65001) and each DNS name it fetched, the zone serial of the answer it got last, when it was
 * first and last seen, and the lookups since the last save. Bounded, because caller ids are
 * untrusted input: at most `maxCallers` ids and `maxEntries` (caller, name) pairs; past either,
 * the least recently seen ~10% go at once (amortized: one sort per tenth of the bound, not one
 * per query). Evicted pairs that were saved are remembered, so the next save deletes their rows.
 *
 * The hot path (record) builds no key: caller -> name -> entry are nested maps of the strings
 * the handler already has. The writer (caller-persist.ts) drains the entries that changed:
 * new, a new serial, or a last-seen older than `touchEveryMs` in the database.
 */
import type { CallerRow } from '../store/callers.js';

export interface CallerMapOptions {
  /** At most this many caller ids (config callers.maxCallers). */
  maxCallers: number;
  /** At most this many (caller, name) pairs; 0 turns the map off (config callers.maxEntries). */
  maxEntries: number;
  /**
   * A pair seen again, same serial, is written again only once its stored last-seen is this old
   * (config callers.persistEvery): the serial is what confirmation needs at once.
   */
  touchEveryMs: number;
  /** Unix ms (default Date.now). */
  now?: () => number;
  /** Told how many pairs each eviction dropped (psarn_callers_evicted_total). */
  onEvicted?: (pairs: number) => void;
}

/** One (caller, name) pair. */
class Entry {
  readonly caller: string;
  readonly name: string;
  serial: number;
  firstSeen: number;
  lastSeen: number;
  /** Lookups since the last save. */
  lookups: number;
  /** Its row exists in the database (so an eviction must delete it). */
  saved: boolean;
  /** The last-seen the database has. */
  savedLastSeen: number;
  /** Queued in the dirty list. */
  dirty = false;
  /** Evicted: skipped when the dirty list is drained. */
  gone = false;

  constructor(caller: string, name: string, serial: number, firstSeen: number, lastSeen: number, saved: boolean) {
    this.caller = caller;
    this.name = name;
    this.serial = serial;
    this.firstSeen = firstSeen;
    this.lastSeen = lastSeen;
    this.lookups = saved ? 0 : 1;
    this.saved = saved;
    this.savedLastSeen = saved ? lastSeen : -1;
  }
}

/** One caller's names. */
interface Caller {
  id: string;
  names: Map<string, Entry>;
  lastSeen: number;
}

/** A key of the database to delete. */
export type CallerKey = Pick<CallerRow, 'caller' | 'name' | 'reporter'>;

/** The share of a bound dropped when it is passed. */
const EVICT_SHARE = 0.1;

export class CallerMap {
  readonly #callers = new Map<string, Caller>();
  readonly #now: () => number;
  readonly #onEvicted: ((pairs: number) => void) | undefined;
  #maxCallers: number;
  #maxEntries: number;
  #touchEveryMs: number;
  #size = 0;
  /** Entries to write, oldest first, from #dirtyHead on. */
  #dirty: Entry[] = [];
  #dirtyHead = 0;
  /** Keys evicted after they were saved: rows to delete. */
  #removed: CallerKey[] = [];
  #evicted = 0;
  #scratch = new Float64Array(0);

  constructor(options: CallerMapOptions) {
    this.#maxCallers = options.maxCallers;
    this.#maxEntries = options.maxEntries;
    this.#touchEveryMs = options.touchEveryMs;
    this.#now = options.now ?? Date.now;
    this.#onEvicted = options.onEvicted;
  }

  /** False when maxEntries is 0: record() keeps nothing. */
  get enabled(): boolean {
    return this.#maxEntries > 0;
  }

  /** (caller, name) pairs held. */
  get size(): number {
    return this.#size;
  }

  /** Caller ids held. */
  get callers(): number {
    return this.#callers.size;
  }

  /** Pairs evicted since the start. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Pairs waiting to be written, and rows waiting to be deleted. */
  get pending(): number {
    return this.#dirty.length - this.#dirtyHead + this.#removed.length;
  }

  /** New bounds (a config reload); a map over them sheds the excess at once. 0 entries: off. */
  configure(options: Pick<CallerMapOptions, 'maxCallers' | 'maxEntries' | 'touchEveryMs'>): void {
    this.#maxCallers = options.maxCallers;
    this.#maxEntries = options.maxEntries;
    this.#touchEveryMs = options.touchEveryMs;
    if (this.enabled) this.#enforce();
  }

  /**
   * `caller` fetched `name` (lowercase, trailing dot) and got the data of zone serial `serial`.
   * The query path: no allocation for a pair already held.
   */
  record(caller: string, name: string, serial: number): void {
    if (this.#maxEntries <= 0) return;
    const now = this.#now();
    let held = this.#callers.get(caller);
    if (held === undefined) {
      held = { id: caller, names: new Map(), lastSeen: now };
      this.#callers.set(caller, held);
    }
    held.lastSeen = now;
    const entry = held.names.get(name);
    if (entry === undefined) {
      const added = new Entry(caller, name, serial, now, now, false);
      held.names.set(name, added);
      this.#size++;
      this.#queue(added);
      if (this.#size > this.#maxEntries || this.#callers.size > this.#maxCallers) this.#enforce();
      return;
    }
    entry.lookups++;
    entry.lastSeen = now;
    if (entry.dirty) {
      entry.serial = serial;
      return;
    }
    if (entry.serial !== serial) {
      entry.serial = serial;
      this.#queue(entry);
    } else if (now - entry.savedLastSeen >= this.#touchEveryMs) {
      this.#queue(entry);
    }
  }

  /**
   * A row read back from the database at start (reporter ''): held as saved, so it is written
   * again only when it changes. Rows are expected newest first; past the bounds they are not
   * held, and their rows are deleted at the next save (the database keeps what the map keeps).
   */
  load(row: CallerRow): void {
    if (this.#maxEntries <= 0) return;
    let held = this.#callers.get(row.caller);
    if (held?.names.has(row.name)) return;
    if (this.#size >= this.#maxEntries || (held === undefined && this.#callers.size >= this.#maxCallers)) {
      this.#removed.push({ caller: row.caller, name: row.name, reporter: '' });
      return;
    }
    if (held === undefined) {
      held = { id: row.caller, names: new Map(), lastSeen: row.lastSeen };
      this.#callers.set(row.caller, held);
    }
    held.lastSeen = Math.max(held.lastSeen, row.lastSeen);
    held.names.set(row.name, new Entry(row.caller, row.name, row.serial, row.firstSeen, row.lastSeen, true));
    this.#size++;
  }

  /**
   * Hands up to `limit` changed pairs (as rows, reporter '') and up to `limit` keys to delete to
   * `write`, and marks them saved once it returns; when it throws they stay pending for the next
   * call, and it rethrows. Synchronous, so nothing records in between. @returns rows + keys written.
   */
  drain(limit: number, write: (rows: CallerRow[], removed: CallerKey[]) => void): number {
    const taken: Entry[] = [];
    const rows: CallerRow[] = [];
    let i = this.#dirtyHead;
    for (; i < this.#dirty.length && rows.length < limit; i++) {
      const entry = this.#dirty[i]!;
      if (entry.gone) continue;
      taken.push(entry);
      rows.push({
        caller: entry.caller,
        name: entry.name,
        reporter: '',
        serial: entry.serial,
        firstSeen: entry.firstSeen,
        lastSeen: entry.lastSeen,
        lookups: entry.lookups,
      });
    }
    // A key evicted and then seen again is held anew (and queued): its row stays.
    const next = this.#removed.slice(0, limit);
    const removed = next.filter((k) => this.#callers.get(k.caller)?.names.has(k.name) !== true);
    if (rows.length + removed.length > 0) write(rows, removed);
    for (const entry of taken) {
      entry.dirty = false;
      entry.saved = true;
      entry.savedLastSeen = entry.lastSeen;
      entry.lookups = 0;
    }
    this.#dirtyHead = i;
    if (this.#dirtyHead === this.#dirty.length) {
      this.#dirty = [];
      this.#dirtyHead = 0;
    }
    this.#removed.splice(0, next.length);
    return rows.length + next.length;
  }

  /** The pairs held (tests, and a report of this map). */
  *entries(): IterableIterator<Omit<CallerRow, 'reporter' | 'lookups'>> {
    for (const held of this.#callers.values()) {
      for (const e of held.names.values()) {
        yield { caller: e.caller, name: e.name, serial: e.serial, firstSeen: e.firstSeen, lastSeen: e.lastSeen };
      }
    }
  }

  /** A scratch array of at least `n` slots (kept: evictions come again at the same size). */
  #times(n: number): Float64Array {
    if (this.#scratch.length < n) this.#scratch = new Float64Array(Math.ceil(n * 1.2));
    return this.#scratch;
  }

  #queue(entry: Entry): void {
    entry.dirty = true;
    this.#dirty.push(entry);
  }

  /** Sheds callers, then pairs, down to ~90% of each bound passed: least recently seen first. */
  #enforce(): void {
    let dropped = 0;
    if (this.#callers.size > this.#maxCallers) {
      const keep = Math.floor(this.#maxCallers * (1 - EVICT_SHARE));
      const times = this.#times(this.#callers.size);
      let n = 0;
      for (const held of this.#callers.values()) times[n++] = held.lastSeen;
      const cut = kthSmallest(times, n, this.#callers.size - keep);
      let over = this.#callers.size - keep;
      // Iterating values(), not entries(): no [key, value] pair allocated per step.
      for (const held of this.#callers.values()) {
        if (over <= 0) break;
        if (held.lastSeen > cut) continue;
        for (const entry of held.names.values()) dropped += this.#evict(entry);
        this.#callers.delete(held.id);
        over--;
      }
    }
    if (this.#size > this.#maxEntries) {
      const keep = Math.floor(this.#maxEntries * (1 - EVICT_SHARE));
      const times = this.#times(this.#size);
      let n = 0;
      for (const held of this.#callers.values()) for (const entry of held.names.values()) times[n++] = entry.lastSeen;
      const cut = kthSmallest(times, n, this.#size - keep);
      let over = this.#size - keep;
      for (const held of this.#callers.values()) {
        if (over <= 0) break;
        for (const entry of held.names.values()) {
          if (over <= 0) break;
          if (entry.lastSeen > cut) continue;
          dropped += this.#evict(entry);
          held.names.delete(entry.name);
          over--;
        }
        // A caller whose last name went is dropped.
        if (held.names.size === 0) this.#callers.delete(held.id);
      }
    }
    if (dropped > 0) {
      this.#evicted += dropped;
      this.#onEvicted?.(dropped);
    }
  }

  /** Forgets one pair (its caller's map is the caller's to update). @returns 1. */
  #evict(entry: Entry): number {
    entry.gone = true;
    this.#size--;
    if (entry.saved) this.#removed.push({ caller: entry.caller, name: entry.name, reporter: '' });
    return 1;
  }
}

/**
 * The `k`-th smallest (1-based) of values[0, n), by quickselect (Hoare's FIND: O(n) on average,
 * no sort); the values are reordered. Everything at or under it may go.
 */
export function kthSmallest(values: Float64Array, n: number, k: number): number {
  if (n === 0) return Number.POSITIVE_INFINITY;
  const target = Math.min(n, Math.max(1, k)) - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target]!;
  }
  return values[target]!;
}
