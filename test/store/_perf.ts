import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';

const params = {
  soaTtl: 3600,
  mname: 'ns.psarn.internal.',
  rname: 'hostmaster.psarn.internal.',
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum: 30,
  nsTtl: 3600,
  nameservers: ['ns.psarn.internal.'],
};
const zone = '123456789012.us-east-1.aws.psarn.internal.';
for (const n of process.argv.slice(2).map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-perf-'));
  const store = Store.open(join(dir, 'p.db'));
  const routes = Array.from({ length: n }, (_, i) => ({
    path: `svc${i % 1000}/r${i}`,
    spec: {
      policy: 'weighted' as const,
      ttl: 300,
      targets: [
        { target: `arn:aws:lambda:us-east-1:123456789012:function:f${i}`, weight: 90, priority: 10 },
        { target: `arn:aws:lambda:us-east-1:123456789012:function:g${i}`, weight: 10, priority: 10 },
      ],
    },
  }));
  let t = performance.now();
  store.importZones([{ name: zone, routes }], params);
  const imp = performance.now() - t;
  t = performance.now();
  store.importZones([{ name: zone, routes }], params);
  const reimp = performance.now() - t;
  t = performance.now();
  let c = 0;
  for (const _ of store.listRoutes(zone)) c++;
  const list = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 10000; i++) store.getRoute(zone, `svc${i % 1000}/r${i}`);
  const get = (performance.now() - t) / 10000;
  console.log(
    `${n} routes: import ${imp.toFixed(0)} ms, re-import ${reimp.toFixed(0)} ms, list ${list.toFixed(0)} ms (${c}), getRoute ${(get * 1000).toFixed(1)} us`,
  );
  store.close();
  rmSync(dir, { recursive: true });
}
