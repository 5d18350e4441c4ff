/** Worker-thread entry of buildInWorker: one read-only connection, one build, post, exit. */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import type { BuildMessage } from './route-index-build.js';
import { buildRouteIndex } from './route-index-build.js';

const { db } = workerData as { db: string };
// A small page cache: the build streams each table once in key order.
const store = Store.open(db, { readonly: true, create: false, cacheKiB: 8192 });
try {
  const { index, serials } = buildRouteIndex(store);
  const { snapshot, transfer } = index.snapshot();
  const message: BuildMessage = { snapshot, serials: [...serials] };
  parentPort!.postMessage(message, transfer);
} finally {
  store.close();
}
