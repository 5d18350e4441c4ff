/**
 * Ready wire answers by question (the lowercased wire question as latin1 text), bounded in
 * bytes (lru-cache). An entry stays valid while the zones it was read from keep their
 * generation; a change to a zone bumps its generation, so invalidation is O(1) and lazy.
 */
import { LRUCache } from 'lru-cache';
import type { ReadyAnswer } from '../wire/response.js';

interface Entry {
  ready: ReadyAnswer;
  deps: string[];
  gens: number[];
}

/** Key of the generation that answers outside every zone (REFUSED) depend on: the zone set. */
const ZONE_SET = '';

export class AnswerCache {
  readonly #lru: LRUCache<string, Entry>;
  readonly #gens = new Map<string, number>();

  constructor(options: { maxBytes?: number } = {}) {
    this.#lru = new LRUCache<string, Entry>({
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (entry, key) => entry.ready.body.length + key.length + 96,
    });
  }

  get size(): number {
    return this.#lru.size;
  }

  get(key: string): ReadyAnswer | undefined {
    const entry = this.#lru.get(key);
    if (entry !== undefined) {
      let valid = true;
      for (let i = 0; i < entry.deps.length; i++) {
        if ((this.#gens.get(entry.deps[i]!) ?? 0) !== entry.gens[i]) valid = false;
      }
      if (valid) return entry.ready;
      this.#lru.delete(key);
    }
    return undefined;
  }

  /** Stores a ready answer read from `zones` (empty: an answer outside every zone). */
  set(key: string, ready: ReadyAnswer, zones: readonly string[]): void {
    const deps = zones.length > 0 ? [...zones] : [ZONE_SET];
    this.#lru.set(key, { ready, deps, gens: deps.map((z) => this.#gens.get(z) ?? 0) });
  }

  /** Drops every answer read from these zones; `zoneSet` also drops answers outside all zones. */
  invalidate(zones: readonly string[], zoneSet = false): void {
    for (const zone of zones) this.#gens.set(zone, (this.#gens.get(zone) ?? 0) + 1);
    if (zoneSet) this.#gens.set(ZONE_SET, (this.#gens.get(ZONE_SET) ?? 0) + 1);
  }

  clear(): void {
    this.#lru.clear();
  }
}
