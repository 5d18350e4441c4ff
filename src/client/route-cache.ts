/**
 * The resolver's memory: an LRU map (lru.ts) of answers keyed by DNS name, plus per zone what the epoch
 * is known to be (docs/design.md#the-epoch-override), when it was last read, and which names of the zone are cached,
 * so that an epoch bump drops exactly that zone's entries without scanning the whole cache.
 * Expiry is the resolver's business (entries outlive their TTL to be served stale, RFC 8767),
 * so the map has no ttl of its own; `max` bounds the memory.
 */
import { Lru } from './lru.js';
import type { Route } from './types.js';

interface EntryBase {
  /** The zone whose epoch governs this entry: for an alias, the zone of the final name. */
  zone: string;
  /** Epoch the answer carried; undefined while the zone's epoch was not yet known. */
  epoch: number | undefined;
  /** ms; fresh while now < expiresAt. */
  expiresAt: number;
  /** ms; after a failed refresh, serve stale without asking until then (RFC 8767 §5). */
  retryAfter: number;
}

export type CacheEntry =
  | (EntryBase & { kind: 'route'; route: Route /** The same route marked stale, made once. */; staleRoute?: Route })
  | (EntryBase & { kind: 'negative'; rcode: 'NXDOMAIN' | 'NODATA' });

export interface ZoneState {
  /** Highest epoch seen for the zone; undefined until an answer or _epoch said it. */
  epoch: number | undefined;
  /** ms: when the epoch was last read (an _epoch answer or a route answer). */
  checkedAt: number;
  /** ms: after a failed _epoch read, do not ask again before this (RFC 8767 §5). */
  retryAfter: number;
  /** Cached names whose entry belongs to this zone. */
  names: Set<string>;
}

export class RouteCache {
  readonly #lru: Lru<string, CacheEntry>;
  readonly #zones = new Map<string, ZoneState>();
  readonly #maxZones: number;

  constructor(maxEntries: number) {
    this.#maxZones = Math.max(64, maxEntries);
    // Evicted, deleted or replaced: the zone no longer holds this name (set() adds it back).
    this.#lru = new Lru<string, CacheEntry>(maxEntries, (entry, name) => {
      this.#zones.get(entry.zone)?.names.delete(name);
    });
  }

  /** The entry, marking it recently used. */
  get(name: string): CacheEntry | undefined {
    return this.#lru.get(name);
  }

  /** The entry, leaving the LRU order alone. */
  peek(name: string): CacheEntry | undefined {
    return this.#lru.peek(name);
  }

  set(name: string, entry: CacheEntry, now: number): void {
    this.#lru.set(name, entry);
    this.zone(entry.zone, now).names.add(name);
  }

  delete(name: string): void {
    this.#lru.delete(name);
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The state of a zone, created (epoch unknown, checked now) when absent. */
  zone(zone: string, now: number): ZoneState {
    let state = this.#zones.get(zone);
    if (state === undefined) {
      if (this.#zones.size >= this.#maxZones) this.#forgetEmptyZones();
      state = { epoch: undefined, checkedAt: now, retryAfter: 0, names: new Set() };
      this.#zones.set(zone, state);
    }
    return state;
  }

  peekZone(zone: string): ZoneState | undefined {
    return this.#zones.get(zone);
  }

  /**
   * Records that `zone` is at `epoch` as of `now`. Drops the zone's entries answered under an
   * older epoch when the epoch grew, or always when `force` (an _epoch read). Returns how many
   * entries were dropped.
   */
  learnEpoch(zone: string, epoch: number, now: number, force: boolean): number {
    const state = this.zone(zone, now);
    state.checkedAt = now;
    if (state.epoch === undefined) {
      // First reading: entries cached before it (negative answers) take it as theirs.
      state.epoch = epoch;
      for (const name of state.names) {
        const entry = this.#lru.peek(name);
        if (entry !== undefined && entry.epoch === undefined) entry.epoch = epoch;
      }
      return 0;
    }
    let dropped = 0;
    if (force || epoch > state.epoch) {
      for (const name of [...state.names]) {
        const entry = this.#lru.peek(name);
        if (entry !== undefined && (entry.epoch ?? -1) < epoch) {
          this.#lru.delete(name);
          dropped++;
        }
      }
    }
    state.epoch = Math.max(state.epoch, epoch);
    return dropped;
  }

  #forgetEmptyZones(): void {
    for (const [zone, state] of this.#zones) if (state.names.size === 0) this.#zones.delete(zone);
  }
}
