/**
 * Worker-thread entry of buildInWorker: one read-only connection, one build (or one part of a
 * parallel build, and for the first worker the plan the others start from), post, exit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import { type BuildMessage, type BuildShard, buildRouteIndex, planBuild } from './route-index-build.js';

const { db, parts, minRoutes, shard } = workerData as {
  db: string;
  parts?: number;
  minRoutes?: number;
  shard?: BuildShard;
};
// A small page cache: the build streams each table once in key order.
const store = Store.open(db, { readonly: true, create: false, cacheKiB: 8192 });
try {
  let mine = shard;
  if (parts !== undefined) {
    const plan = planBuild(store, parts, minRoutes);
    parentPort!.postMessage({ kind: 'plan', plan } satisfies BuildMessage);
    if (plan !== null) mine = { index: 0, plan };
  }
  const { index, serials } = buildRouteIndex(store, mine);
  const { snapshot, transfer } = index.snapshot();
  parentPort!.postMessage({ kind: 'built', snapshot, serials: [...serials] } satisfies BuildMessage, transfer);
} finally {
  store.close();
}
