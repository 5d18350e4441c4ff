/**
 * The caller map's life in the database (docs/design.md#the-caller-map): read back at start
 * (this psarnd's rows, reporter '', newest first up to the bounds), its changes written every
 * callers.persistEvery in chunks with a turn of the event loop between them (a chunk of 100 rows
 * is 1-3 milliseconds of SQLite: queries are never held up long), and once more on a clean
 * stop. A failed write is reported (the daemon logs it, rate-limited) and retried at the next
 * tick: the map keeps what was not written. Never fatal.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CallerRow } from '../store/callers.js';
import type { CallerKey, CallerMap } from './caller-map.js';

/** The store calls the writer needs (Store's). */
export interface CallerStore {
  saveCallers(rows: readonly CallerRow[], removed?: readonly CallerKey[]): void;
  callerRows(filter?: { reporter?: string }): CallerRow[];
}

/** Timers, injectable: tests drive the ticks. */
export interface PersistTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface CallerPersisterOptions {
  map: CallerMap;
  store: CallerStore;
  /** config callers.persistEveryMs. */
  everyMs: number;
  /** Rows (and deleted keys) per transaction; default CHUNK. */
  chunk?: number;
  /** Monotonic seconds, for the duration (default performance.now / 1000). */
  now?: () => number;
  /** Each persist's duration, all chunks (psarn_callers_persist_seconds). */
  onPersisted?: (seconds: number, rows: number) => void;
  /** A failed write (psarn_callers_persist_failures_total, a rate-limited log line). */
  onError?: (error: unknown) => void;
  timers?: PersistTimers;
}

/**
 * Rows per transaction: an upsert into `callers` costs 10-30 µs (measured on the 2-core bench
 * machine), so a chunk holds the event loop for ~1-3 ms, 9 ms at worst under load.
 */
export const CHUNK = 100;

const realTimers: PersistTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Fills `map` with the rows this psarnd saved before (reporter ''), the most recently seen
 * first, so the bounds keep the newest. @returns the rows read.
 */
export function loadCallers(map: CallerMap, store: Pick<CallerStore, 'callerRows'>): number {
  if (!map.enabled) return 0;
  const rows = store.callerRows({ reporter: '' }).sort((a, b) => b.lastSeen - a.lastSeen);
  for (const row of rows) map.load(row);
  return rows.length;
}

export class CallerPersister {
  readonly #options: CallerPersisterOptions;
  readonly #timers: PersistTimers;
  readonly #now: () => number;
  #everyMs: number;
  #timer: unknown;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: CallerPersisterOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.#now = options.now ?? (() => performance.now() / 1000);
    this.#everyMs = options.everyMs;
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = this.#timers.setInterval(() => {
      void this.persist();
    }, this.#everyMs);
  }

  /** A new interval (a config reload): the timer starts again with it. */
  setInterval(everyMs: number): void {
    if (everyMs === this.#everyMs) return;
    this.#everyMs = everyMs;
    if (this.#timer === undefined) return;
    this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
    this.start();
  }

  /**
   * Writes what changed, a chunk per transaction with a turn of the event loop between chunks.
   * One at a time: a tick while one runs does nothing. Never rejects.
   */
  persist(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    const run = this.#persist().finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  async #persist(): Promise<void> {
    const { map } = this.#options;
    if (map.pending === 0) return;
    const started = this.#now();
    let written = 0;
    try {
      while (map.pending > 0) {
        written += this.#chunk();
        if (map.pending > 0) await nextTurn();
      }
    } catch (error) {
      this.#options.onError?.(error);
      return;
    }
    this.#options.onPersisted?.(this.#now() - started, written);
  }

  #chunk(): number {
    const { map, store } = this.#options;
    return map.drain(this.#options.chunk ?? CHUNK, (rows, removed) => store.saveCallers(rows, removed));
  }

  /**
   * Stops the timer, lets a persist in flight end, and writes what is left in one go (a clean
   * stop: SIGTERM). A failure is reported, not thrown: the stop goes on.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#persist();
  }
}
