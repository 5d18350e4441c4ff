/**
 * Ready wire answers by question (the lowercased wire question as latin1 text), bounded in
 * bytes. An entry stays valid while the keys it depends on (src/zone/deps.ts) keep their
 * generation; a change bumps the generations of the keys it touches, so invalidation is O(1)
 * per key and lazy.
 *
 * Eviction is by two generations rather than a strict LRU (lru-cache's recency bookkeeping was
 * a tenth of the per-query time): new and recently used entries live in `young`; when `young`
 * fills half the budget it becomes `old` and the previous `old` is dropped; a hit in `old`
 * moves the entry back to `young`. What is used survives; what is not goes within two turns.
 */
import type { ReadyAnswer } from '../wire/response.js';

const ENTRY_OVERHEAD = 600;

interface Entry {
  ready: ReadyAnswer;
  deps: string[];
  gens: number[];
  bytes: number;
}

export class AnswerCache {
  readonly #half: number;
  #young = new Map<string, Entry>();
  #old = new Map<string, Entry>();
  #youngBytes = 0;
  readonly #gens = new Map<string, number>();

  constructor(options: { maxBytes?: number } = {}) {
    this.#half = (options.maxBytes ?? 64 * 1024 * 1024) / 2;
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: string): ReadyAnswer | undefined {
    let entry = this.#young.get(key);
    if (entry === undefined) {
      entry = this.#old.get(key);
      if (entry === undefined) return undefined;
      this.#old.delete(key);
      this.#add(key, entry);
    }
    for (let i = 0; i < entry.deps.length; i++) {
      if ((this.#gens.get(entry.deps[i]!) ?? 0) !== entry.gens[i]) {
        this.#young.delete(key);
        this.#youngBytes -= entry.bytes;
        return undefined;
      }
    }
    return entry.ready;
  }

  /** Stores a ready answer that depends on `deps` (src/zone/deps.ts). */
  set(key: string, ready: ReadyAnswer, deps: readonly string[]): void {
    // The body plus the objects around it (the key string, the entry, its deps strings and
    // arrays, the Buffer and its backing store): 300-400 bytes seen with --expose-gc; 600 errs
    // high so that maxBytes bounds the memory the cache really holds.
    const bytes = ready.body.length + ENTRY_OVERHEAD;
    const previous = this.#young.get(key);
    if (previous !== undefined) this.#youngBytes -= previous.bytes;
    this.#old.delete(key);
    this.#add(key, { ready, deps: [...deps], gens: deps.map((d) => this.#gens.get(d) ?? 0), bytes });
  }

  /** Drops every answer that depends on one of these keys. */
  invalidate(keys: readonly string[]): void {
    for (const key of keys) this.#gens.set(key, (this.#gens.get(key) ?? 0) + 1);
  }

  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
    this.#youngBytes = 0;
  }

  #add(key: string, entry: Entry): void {
    if (this.#youngBytes + entry.bytes > this.#half && this.#young.size > 0) {
      this.#old = this.#young;
      this.#young = new Map();
      this.#youngBytes = 0;
    }
    this.#young.set(key, entry);
    this.#youngBytes += entry.bytes;
  }
}
