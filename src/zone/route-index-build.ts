/**
 * Building a route index from the store: in-process (tests, ':memory:' databases) or in a
 * worker thread, which reads the database through its own read-only connection and posts the
 * index back as transferred buffers (no copy), so a 1M-route build (seconds of SQLite reads)
 * never stalls the event loop that answers queries.
 */
import { Worker } from 'node:worker_threads';
import type { Store } from '../store/store.js';
import { RouteIndex, type RouteIndexSnapshot } from './route-index.js';

export interface BuiltRouteIndex {
  index: RouteIndex;
  /** Each zone's serial in the snapshot the index was read from. */
  serials: Map<string, number>;
}

/** What the worker posts back. */
export interface BuildMessage {
  snapshot: RouteIndexSnapshot;
  serials: [string, number][];
}

/** Reads every zone's routes inside one read transaction (one snapshot). */
export function buildRouteIndex(store: Store): BuiltRouteIndex {
  return store.read(() => {
    const index = new RouteIndex();
    const serials = new Map<string, number>();
    for (const zone of store.zones()) {
      index.setZone(zone.name, zone.epoch);
      serials.set(zone.name, zone.serial);
      for (const page of store.routePagesOfZone(zone.id)) index.load(zone.name, page);
    }
    return { index, serials };
  });
}

/** A build running in a worker thread; `terminate` abandons it (the promise then rejects). */
export interface WorkerBuild {
  result: Promise<BuiltRouteIndex>;
  terminate(): Promise<void>;
}

/** Builds in a worker thread from the database file `db`. */
export function buildInWorker(db: string): WorkerBuild {
  const worker = new Worker(new URL('./route-index-worker.js', import.meta.url), {
    workerData: { db },
    // The index lives in buffers outside the heap; the heap holds one page of rows at a time.
    // A small heap makes the worker collect as it goes instead of piling up garbage (a 1M-route
    // build peaked at 268 MB of daemon RSS without these limits, 226–234 MB with them), and a
    // build that outgrows it fails alone: the daemon logs it and answers from the store.
    resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 },
  });
  const result = new Promise<BuiltRouteIndex>((resolve, reject) => {
    let settled = false;
    worker.once('message', (message: BuildMessage) => {
      settled = true;
      resolve({ index: RouteIndex.fromSnapshot(message.snapshot), serials: new Map(message.serials) });
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`route index worker exited with code ${code} before posting the index`));
    });
  });
  return {
    result,
    terminate: async () => {
      await worker.terminate();
    },
  };
}
