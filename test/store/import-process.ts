/**
 * Child process for import-kill.test.ts: a zone import that stops inside its transaction. It
 * imports `count` routes into ZONE with a 1 MiB page cache (so pages go to the WAL before the
 * commit), and when the store asks for route `count / 2` it prints "inside" and blocks for good,
 * waiting to be killed.
 * Usage: node --import tsx import-process.ts <db file> <count>
 */
import { writeSync } from 'node:fs';
import { Store } from '../../src/store/index.js';
import type { ImportRoute, RouteList } from '../../src/store/types.js';
import { lambda, PARAMS, ZONE } from './helpers.js';

const [file, countArg] = process.argv.slice(2);
if (file === undefined || countArg === undefined) throw new Error('usage: import-process.ts <db file> <count>');
const count = Number(countArg);

const route = (i: number): ImportRoute => ({
  path: `svc/r${String(i).padStart(7, '0')}`,
  spec: {
    policy: 'weighted',
    ttl: 60,
    targets: [
      { target: lambda(`new-${i}-blue`), weight: 90, priority: 10 },
      { target: lambda(`new-${i}-green`), weight: 10, priority: 10 },
    ],
  },
});

const routes: RouteList = {
  length: count,
  pathAt: (i) => route(i).path,
  at(i) {
    if (i === count / 2) {
      writeSync(1, 'inside\n');
      // Blocks this thread for good: the parent kills the process here, mid-transaction.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
    return route(i);
  },
  [Symbol.iterator]: () => {
    throw new Error('the store reads routes by index');
  },
};

const store = Store.open(file, { create: false, cacheKiB: 1024 });
store.importZones([{ name: ZONE, routes }], PARAMS);
