/**
 * A least-recently-used map bounded by entry count, with a dispose callback: the part of
 * lru-cache the route cache used. It replaces that dependency in psarn-client, where lru-cache
 * was 18.8 KB of a 63 KB minified bundle and about a third of the import time of a Lambda cold
 * start (docs/design.md#two-packages). Recency is a Map's insertion order: a hit re-inserts the
 * key, so the first key is always the least recently used. Every operation is O(1).
 */
export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  readonly #dispose: ((value: V, key: K) => void) | undefined;

  /** @param dispose called for an entry that leaves: evicted, deleted or replaced by set(). */
  constructor(max: number, dispose?: (value: V, key: K) => void) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be an integer >= 1, got ${max}`);
    this.#max = max;
    this.#dispose = dispose;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, marked most recently used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** The value, recency left alone. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Stores `value` as the most recently used; evicts the least recently used past `max`. */
  set(key: K, value: V): void {
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#map.delete(key);
      if (old !== value) this.#dispose?.(old, key);
    }
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const [oldestKey, oldest] = this.#map.entries().next().value as [K, V];
      this.#map.delete(oldestKey);
      this.#dispose?.(oldest, oldestKey);
    }
  }

  delete(key: K): boolean {
    const value = this.#map.get(key);
    if (value === undefined) return false;
    this.#map.delete(key);
    this.#dispose?.(value, key);
    return true;
  }
}
