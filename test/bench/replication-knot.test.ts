/**
 * bench/replication-knot.ts: the Knot configs the replication bench writes are ones knotd
 * accepts (`knotc conf-check`), and Knot's transfer log lines are read right (the bench's AXFR
 * and IXFR figures come from them).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { knotPrimaryConfig, knotTransfers, knotZoneSecondaryConfig } from '../../bench/replication-knot.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const SECRET = Buffer.alloc(32, 7).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-replication-knot-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('knotTransfers', () => {
  // Lines as knotd 3.2 wrote them in a bench run, with others around them.
  const log = [
    `2026-12-03T12:11:10+0000 info: [${Z}] AXFR, incoming, remote 127.0.0.1@41217, started`,
    `2026-12-03T12:11:10+0000 info: [${Z}] AXFR, incoming, remote 127.0.0.1@41217, finished, 0.44 seconds, 38 messages, 2449900 bytes`,
    '2026-12-03T12:11:10+0000 info: [catalog.psarn.internal.] AXFR, incoming, remote 127.0.0.1@41217, finished, 0.01 seconds, 1 messages, 329 bytes',
    `2026-12-03T12:11:34+0000 info: [${Z}] notify, incoming, remote 127.0.0.1@35042, serial 16`,
    `2026-12-03T12:11:34+0000 info: [${Z}] IXFR, incoming, remote 127.0.0.1@44753, finished, 0.00 seconds, 1 messages, 583 bytes`,
    `2026-12-03T12:11:35+0000 info: [${Z}] IXFR, incoming, remote 127.0.0.1@44753, AXFR-style, finished, 0.52 seconds, 38 messages, 2449900 bytes`,
    `2026-12-03T12:11:35+0000 info: [${Z}] zone file updated, serial 15 -> 16`,
  ].join('\n');

  it("reads the finished transfers of the zone, in order, with Knot's seconds, messages and bytes", () => {
    const got = knotTransfers(log, Z).map(({ kind, seconds, messages, bytes }) => ({ kind, seconds, messages, bytes }));
    assert.deepEqual(got, [
      { kind: 'AXFR', seconds: 0.44, messages: 38, bytes: 2449900 },
      { kind: 'IXFR', seconds: 0, messages: 1, bytes: 583 },
      // An IXFR the primary answered with the whole zone is not an incremental transfer.
      { kind: 'AXFR', seconds: 0.52, messages: 38, bytes: 2449900 },
    ]);
  });

  it('takes the zone with or without its trailing dot, and no other zone', () => {
    assert.equal(knotTransfers(log, Z.slice(0, -1)).length, 3);
    assert.equal(knotTransfers(log, 'catalog.psarn.internal').length, 1);
    assert.equal(knotTransfers(log, 'psarn.internal').length, 0);
  });
});

describe('the Knot configs of the replication bench', () => {
  const check = async (name: string, text: string) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, text);
    await promisify(execFile)(toolPath('knotc')!, ['-c', file, 'conf-check']);
  };
  const zoneFile = join(dir, 'z.zone');
  writeFileSync(zoneFile, `${Z} 3600 IN SOA ns.psarn.internal. h.psarn.internal. 1 3600 600 86400 30\n`);

  it('a primary loaded from a file, static or taking UPDATEs and notifying, passes knotc conf-check', async (t) => {
    if (!skipUnlessTool(t, 'knotc')) return;
    const base = { port: 5399, storage: join(dir, 'p'), zone: Z, zoneFile, secret: SECRET };
    await check('primary', knotPrimaryConfig(base));
    const dynamic = knotPrimaryConfig({ ...base, notifyPort: 5398 });
    assert.match(dynamic, /action: \[transfer, update\]/);
    assert.match(dynamic, /notify: secondary/);
    await check('dynamic', dynamic);
  });

  it('a secondary of one zone passes knotc conf-check', async (t) => {
    if (!skipUnlessTool(t, 'knotc')) return;
    const text = knotZoneSecondaryConfig({
      port: 5398,
      storage: join(dir, 's'),
      zone: Z,
      primaryPort: 5399,
      secret: SECRET,
    });
    assert.match(text, /address: 127\.0\.0\.1@5399/);
    await check('secondary', text);
  });
});
