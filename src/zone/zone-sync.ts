/**
 * The change pipeline: the one owner of picking up what other processes (the CLI, an import)
 * committed to the store. Every pickup, in this order:
 *   1. the view re-reads the zone rows when the store's `data_version` moved, and the journal of
 *      each zone whose serial or epoch changed (store-view.ts);
 *   2. the answer cache drops what those journal entries touched (deps.ts);
 *   3. the route index re-reads the routes they name, or rebuilds (route-indexer.ts);
 *   4. listeners hear about it (metrics, logs; NOTIFY and secondaries next).
 * Queries never pick up changes: the handler only reads (docs/design.md, "life of a change").
 *
 * Freshness, one rule for every path: queries are answered from the store as of the last pickup.
 * A pickup runs every `pollMs` (default 100 ms), on poll(), and before a query reads the store
 * (an answer-cache miss, through `view.read`) when the store has moved since, at most once a
 * millisecond. So a change committed at time t is served by the route index, the answer cache
 * and the store from the same pickup, within pollMs of t (sooner when a miss comes first).
 * One race is left, and bounded: a commit that lands between a miss's pickup and its read (or
 * within the millisecond) is read by that miss before it is picked up, so that one answer can
 * carry a route newer than the serial and epoch of the zone rows beside it. The answer is
 * cached with what it read as dependencies, so the next pickup (within pollMs) drops it.
 */
import type { ZoneRow } from '../store/types.js';
import type { ZoneChanges } from './store-view.js';
import type { ZoneView } from './view.js';

/** What a pickup reads (StoreZoneView). */
export interface SyncedView extends ZoneView {
  /** The changes since the last call, or undefined when none; `force` re-reads regardless. */
  refresh(force?: boolean): ZoneChanges | undefined;
  zones(): ZoneRow[];
  /** Runs fn in one read transaction of the store. */
  read<T>(fn: () => T): T;
}

/** The view queries read: the zone view whose read() first catches up with the store. */
export type ServedView = ZoneView & { read<T>(fn: () => T): T };

/** Timers, injectable: tests drive the poll with a fake clock. */
export interface SyncTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface ZoneSyncOptions {
  view: SyncedView;
  /** The answer cache (cache.ts): drops what a change touched. */
  cache: { invalidate(keys: readonly string[]): void };
  /** The route index's keeper (route-indexer.ts); none when the index is off. */
  index?: { apply(changes: ZoneChanges): void };
  /** Default 100 ms: changes are served within 1 s (the contract), with room to spare. */
  pollMs?: number;
  timers?: SyncTimers;
  /** Milliseconds, monotonic (default performance.now): spaces the pickups before reads. */
  now?: () => number;
}

/** Pickups before store reads are at least this far apart: under a storm of misses the check itself showed in profiles. */
const READ_PICKUP_MS = 1;

/** What listeners hear after a pickup applied changes. */
export interface SyncEvent {
  changes: ZoneChanges;
  /** The zones after the change. */
  zones: ZoneRow[];
}

const realTimers: SyncTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class ZoneSync {
  readonly #options: ZoneSyncOptions;
  readonly #timers: SyncTimers;
  readonly #changeListeners: ((event: SyncEvent) => void)[] = [];
  readonly #errorListeners: ((error: unknown) => void)[] = [];
  readonly #now: () => number;
  #timer: unknown;
  #lastReadPickup = Number.NEGATIVE_INFINITY;
  /** What queries read (QueryHandler's `view`). */
  readonly view: ServedView;

  constructor(options: ZoneSyncOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.#now = options.now ?? (() => performance.now());
    const view = options.view;
    this.view = {
      get epochTtl() {
        return view.epochTtl;
      },
      findZone: (labels) => view.findZone(labels),
      getRoute: (zone, path) => view.getRoute(zone, path),
      hasDescendants: (zone, path) => view.hasDescendants(zone, path),
      catalog: () => view.catalog?.(),
      read: (fn) => {
        const now = this.#now();
        if (now - this.#lastReadPickup >= READ_PICKUP_MS) {
          this.#lastReadPickup = now;
          this.#pickup(false);
        }
        return view.read(fn);
      },
    };
  }

  /** Listens to applied changes. @returns a function that stops listening. */
  onChange(listener: (event: SyncEvent) => void): () => void {
    this.#changeListeners.push(listener);
    return () => remove(this.#changeListeners, listener);
  }

  /** Listens to failed pickups (each is retried at the next poll). */
  onError(listener: (error: unknown) => void): () => void {
    this.#errorListeners.push(listener);
    return () => remove(this.#errorListeners, listener);
  }

  /** Reads every zone (the first pickup, or this connection's own writes), then polls every pollMs. */
  start(): void {
    this.#pickup(true);
    if (this.#timer === undefined)
      this.#timer = this.#timers.setInterval(() => this.poll(), this.#options.pollMs ?? 100);
  }

  /**
   * Picks up changes now; `force` re-reads though data_version has not moved: this connection's
   * own writes (a DNS UPDATE), which do not move it. @returns what was applied, or undefined when
   * nothing had changed (or the read failed).
   */
  poll(force = false): ZoneChanges | undefined {
    return this.#pickup(force);
  }

  stop(): void {
    if (this.#timer !== undefined) this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #pickup(force: boolean): ZoneChanges | undefined {
    let changes: ZoneChanges | undefined;
    try {
      changes = this.#options.view.refresh(force);
    } catch (error) {
      // The store remembers the failed read too (Store.readFailure(), what /ready reports).
      for (const listener of this.#errorListeners) listener(error);
      return undefined;
    }
    if (changes === undefined) return undefined;
    this.#options.cache.invalidate(changes.keys);
    // The indexer never throws: a change it cannot apply drops the index and rebuilds.
    this.#options.index?.apply(changes);
    const event: SyncEvent = { changes, zones: this.#options.view.zones() };
    for (const listener of this.#changeListeners) listener(event);
    return changes;
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
