import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/index.js';
const params = { soaTtl: 3600, mname: 'ns.psarn.internal.', rname: 'hostmaster.psarn.internal.', refresh: 3600, retry: 600, expire: 86400, minimum: 30, nsTtl: 3600, nameservers: ['ns.psarn.internal.'] };
const zone = '123456789012.us-east-1.aws.psarn.internal.';
const dir = mkdtempSync(join(tmpdir(), 'psarn-perf-'));
const store = Store.open(join(dir, 'p.db'));
const routes = Array.from({ length: 100000 }, (_, i) => ({ path: `svc${i % 1000}/r${i}`, spec: { policy: 'weighted' as const, ttl: 300, targets: [
  { target: `arn:aws:lambda:us-east-1:123456789012:function:f${i}`, weight: 90, priority: 10 },
  { target: `arn:aws:lambda:us-east-1:123456789012:function:g${i}`, weight: 10, priority: 10 }] } }));
store.importZones([{ name: zone, routes }], params);
store.close();
const db = new Database(join(dir, 'p.db'));
const sel = `SELECT z.name AS zone, r.path, r.policy, r.ttl, r.alias, r.metadata, r.serial, r.updated_at AS updatedAt, t.target, t.weight, t.priority FROM zones z JOIN routes r ON r.zone_id = z.id LEFT JOIN targets t ON t.zone_id = r.zone_id AND t.path = r.path WHERE z.name = ?`;
for (let k = 0; k < 3; k++) for (const [l, q] of [['seq', `${sel} ORDER BY r.path, t.seq`], ['noseq', `${sel} ORDER BY r.path`]] as const) {
  const st = db.prepare(q); let t = performance.now(); let c = 0; for (const _ of st.iterate(zone)) c++; console.log(l, c, (performance.now() - t).toFixed(0));
  st.raw(true); t = performance.now(); c = 0; for (const _ of st.iterate(zone)) c++; console.log(l, 'raw', c, (performance.now() - t).toFixed(0));
}
const s2 = Store.open(join(dir, 'p.db'));
for (let k = 0; k < 3; k++) { const t = performance.now(); let c = 0; for (const _ of s2.listRoutes(zone)) c++; console.log('listRoutes', c, (performance.now() - t).toFixed(0)); }
