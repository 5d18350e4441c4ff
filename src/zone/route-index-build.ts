/**
 * Building a route index from the store: in-process (tests, ':memory:' databases) or in worker
 * threads, which read the database through their own read-only connections and post the index
 * back as transferred buffers (no copy), so a 1M-route build (seconds of SQLite reads) never
 * stalls the event loop that answers queries.
 *
 * A big store is built by several workers at once (`parallel`), each over its own run of each
 * zone's paths: the first worker reads the zones and where to split them (Store.routeSplits) in
 * its snapshot and posts that plan, the others start from it, and the parts are merged
 * (RouteIndex.merge). The runs partition the path space whatever each worker's snapshot holds,
 * so a route is in at most one part; the merged serial of a zone is the oldest part's, so the
 * indexer's catch-up replays whatever any part missed.
 */
import { Worker } from 'node:worker_threads';
import type { PathRange, Store } from '../store/store.js';
import { RouteIndex, type RouteIndexSnapshot } from './route-index.js';

export interface BuiltRouteIndex {
  index: RouteIndex;
  /** Each zone's serial in the snapshot the index was read from (the oldest, for a merged build). */
  serials: Map<string, number>;
  /** Parts it was built in (workers of a parallel build; 1 otherwise). */
  parts: number;
}

/** Which run of each zone's paths a part reads: zone name -> the split paths (parts - 1 of them). */
export type BuildPlan = Record<string, string[]>;

/** One part of a build: `index` of `plan`'s parts; zones the plan does not split are all part 0's. */
export interface BuildShard {
  index: number;
  plan: BuildPlan;
}

/** What a worker posts: the plan (first worker only, before it builds), then its part. */
export type BuildMessage =
  | { kind: 'plan'; plan: BuildPlan | null }
  | { kind: 'built'; snapshot: RouteIndexSnapshot; serials: [string, number][] };

/** Below this many routes in all, one worker builds everything: a split would cost more than it saves. */
export const PARALLEL_MIN_ROUTES = 100_000;

/** The part's range of a zone's paths, or null when the part holds none of the zone. */
function rangeOf(zone: string, shard: BuildShard | undefined): PathRange | null | undefined {
  if (shard === undefined) return undefined;
  const splits = shard.plan[zone];
  if (splits === undefined) return shard.index === 0 ? undefined : null;
  const k = shard.index;
  return { after: k === 0 ? '' : splits[k - 1]!, ...(k < splits.length ? { until: splits[k]! } : {}) };
}

/**
 * Reads every zone's routes (or, for a shard, its run of each zone) inside one read transaction
 * (one snapshot).
 */
export function buildRouteIndex(store: Store, shard?: BuildShard): BuiltRouteIndex {
  return store.read(() => {
    const index = new RouteIndex();
    const serials = new Map<string, number>();
    for (const zone of store.zones()) {
      index.setZone(zone.name, zone.epoch, zone.serial);
      serials.set(zone.name, zone.serial);
      const range = rangeOf(zone.name, shard);
      if (range === null) continue;
      for (const page of store.routePagesOfZone(zone.id, undefined, range)) index.load(zone.name, page);
    }
    return { index, serials, parts: 1 };
  });
}

/**
 * Where to split each zone for `parts` workers, in one snapshot; null when the store is too small
 * to be worth it (fewer than `minRoutes` routes in all).
 */
export function planBuild(store: Store, parts: number, minRoutes = PARALLEL_MIN_ROUTES): BuildPlan | null {
  if (parts < 2) return null;
  return store.read(() => {
    const plan: BuildPlan = {};
    let total = 0;
    for (const zone of store.zones()) {
      const count = store.routeCount(zone.id);
      total += count;
      if (count >= minRoutes / parts) plan[zone.name] = store.routeSplits(zone.id, parts);
    }
    return total >= minRoutes && Object.keys(plan).length > 0 ? plan : null;
  });
}

/** A build running in worker threads; `terminate` abandons it (the promise then rejects). */
export interface WorkerBuild {
  result: Promise<BuiltRouteIndex>;
  terminate(): Promise<void>;
}

export interface WorkerBuildOptions {
  /** Workers for a big store (default 1). */
  parallel?: number;
  /** The smallest store split between workers (default PARALLEL_MIN_ROUTES). */
  parallelMinRoutes?: number;
}

/** Builds in worker threads from the database file `db`. */
export function buildInWorker(db: string, options: WorkerBuildOptions = {}): WorkerBuild {
  const parallel = Math.max(1, options.parallel ?? 1);
  const workers: Worker[] = [];
  const parts: BuiltRouteIndex[] = [];
  let wanted = 1;
  let done = false;
  let fail: (error: unknown) => void = () => {};
  const result = new Promise<BuiltRouteIndex>((resolve, reject) => {
    fail = (error: unknown): void => {
      if (done) return;
      done = true;
      for (const w of workers) void w.terminate();
      reject(error);
    };
    const finish = (): void => {
      if (done || parts.length < wanted) return;
      done = true;
      resolve(parts.length === 1 ? parts[0]! : merge(parts));
    };
    const start = (workerData: { db: string; parts?: number; minRoutes?: number; shard?: BuildShard }): void => {
      const worker = new Worker(new URL('./route-index-worker.js', import.meta.url), {
        workerData,
        // The index lives in buffers outside the heap; the heap holds one page of rows at a time.
        // A small heap makes the worker collect as it goes instead of piling up garbage (a
        // 1M-route build peaked at 268 MB of daemon RSS without these limits, 226–234 MB with
        // them), and a build that outgrows it fails alone: the daemon logs it and answers from
        // the store.
        resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 },
      });
      workers.push(worker);
      let built = false;
      worker.on('message', (message: BuildMessage) => {
        if (message.kind === 'plan') {
          if (message.plan === null) return;
          const count = Object.values(message.plan)[0]!.length + 1;
          wanted = count;
          for (let index = 1; index < count; index++) start({ db, shard: { index, plan: message.plan } });
          return;
        }
        built = true;
        parts.push({ index: RouteIndex.fromSnapshot(message.snapshot), serials: new Map(message.serials), parts: 1 });
        finish();
      });
      worker.once('error', fail);
      worker.once('exit', (code) => {
        if (!built) fail(new Error(`route index worker exited with code ${code} before posting the index`));
      });
    };
    start({
      db,
      ...(parallel > 1 ? { parts: parallel } : {}),
      ...(options.parallelMinRoutes !== undefined ? { minRoutes: options.parallelMinRoutes } : {}),
    });
  });
  return {
    result,
    terminate: async () => {
      fail(new Error('route index build terminated'));
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** One index of the parts, each zone at the oldest serial any part read it at. */
function merge(parts: BuiltRouteIndex[]): BuiltRouteIndex {
  const index = RouteIndex.merge(parts.map((p) => p.index));
  const serials = new Map<string, number>();
  for (const part of parts) {
    for (const [zone, serial] of part.serials) {
      const seen = serials.get(zone);
      // Serials compare in RFC 1982 arithmetic, but parts read moments apart: the smaller is older.
      if (seen === undefined || serial < seen) serials.set(zone, serial);
    }
  }
  // A zone some part did not see (created between the snapshots) is left to the next build.
  for (const zone of serials.keys()) if (!index.hasZone(zone)) serials.delete(zone);
  return { index, serials, parts: parts.length };
}
