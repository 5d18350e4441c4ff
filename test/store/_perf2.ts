import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../../src/store/schema.js';
const N = Number(process.argv[2] ?? 100000);
const paths = Array.from({ length: N }, (_, i) => `svc${i % 1000}/r${i}`).sort();
function run(mod: (s: string) => string, fk: boolean) {
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'pp-')), 'x.db'));
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL'); db.pragma(`foreign_keys = ${fk ? 'ON' : 'OFF'}`);
  db.pragma(`cache_size = -65536`);
  db.exec(mod(MIGRATIONS[0]!));
  db.prepare(`INSERT INTO zones VALUES (1,'a.',1,1,1,'a.','a.',1,1,1,1,1,'["a."]')`).run();
  const r = db.prepare('INSERT INTO routes (zone_id, path, policy, ttl, alias, metadata, serial, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const t = db.prepare('INSERT INTO targets (zone_id, path, seq, target, weight, priority) VALUES (?, ?, ?, ?, ?, ?)');
  const s = performance.now();
  db.transaction(() => { for (const p of paths) { r.run(1, p, 'weighted', 300, null, '{}', 2, 0);
    t.run(1, p, 0, `arn:aws:lambda:us-east-1:123456789012:function:f${p}`, 90, 10); t.run(1, p, 1, `arn:aws:lambda:us-east-1:123456789012:function:g${p}`, 10, 10); } })();
  return performance.now() - s;
}
const noTrig = (s: string) => s.replace(/CREATE TRIGGER[\s\S]*?END;/, '');
const res: Record<string, number[]> = { trig: [], notrig: [], nofk: [] };
for (let k = 0; k < 5; k++) { res.trig!.push(run((s) => s, true)); res.notrig!.push(run(noTrig, true)); res.nofk!.push(run(noTrig, false)); }
for (const [k, v] of Object.entries(res)) console.log(k, v.map((x) => x.toFixed(0)).join(' '), 'min', Math.min(...v).toFixed(0));
