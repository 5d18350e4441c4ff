/**
 * The catalog zone (docs/design.md#catalog-zone, RFC 9432) served by the real psarnd: the version
 * property and the demo zone's PTR through dig, a zone created by `psarn route set` listed within
 * 1 s, and `psarn zone export catalog.psarn.internal` accepted by named-checkzone and kzonecheck.
 * (A Knot secondary with `catalog-role: interpret` needs AXFR, which another part of issue 10 adds.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Store } from '../../src/store/index.js';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { memberLabel } from '../../src/zone/catalog.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';
import { skipUnlessTool } from '../helpers/tools.js';

const run = promisify(execFile);
const CAT = 'catalog.psarn.internal.';
const DEMO = '123456789012.us-east-1.aws.psarn.internal.';
const NEW = '444455556666.ap-southeast-2.aws.psarn.internal.';
const PAID = 'arn:aws:psarn:ap-southeast-2:444455556666:billing/paid';

/** The member label of a zone, from the database psarnd serves. */
function labelOf(db: string, zone: string): string {
  const store = Store.open(db, { create: false, readonly: true });
  try {
    const row = store.zone(zone);
    assert.ok(row?.created !== undefined, `zone ${zone} not in ${db}`);
    return memberLabel({ name: row.name, created: row.created });
  } finally {
    store.close();
  }
}

/** The rdata name of each record (NS, PTR, URI target). */
const targets = (m: DecodedMessage): string[] => m.answer.map((r) => ('target' in r ? r.target : `(${r.type})`));

async function catalogSerial(d: RunningDaemon): Promise<number> {
  const soa = (await query(d.dns, CAT, Type.SOA)).answer[0];
  assert.ok(soa !== undefined && 'serial' in soa);
  return soa.serial;
}

describe('the catalog zone, served by psarnd', () => {
  let d: RunningDaemon;
  const dig = async (...args: string[]) =>
    (await run('dig', [`@${d.dns.host}`, '-p', String(d.dns.port), '+time=2', '+tries=1', ...args])).stdout;

  before(async () => {
    d = await startPsarnd();
  });
  after(async () => {
    await d?.stop();
  });

  it('dig version.catalog.psarn.internal TXT: "2", authoritative', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const out = await dig('version.catalog.psarn.internal', 'TXT');
    assert.match(out, /status: NOERROR/);
    assert.match(out, /;; flags: [a-z ]*\baa\b/);
    assert.match(out, /^version\.catalog\.psarn\.internal\.\s+0\s+IN\s+TXT\s+"2"$/m);
  });

  it('answers SOA, NS invalid. and the PTR of the demo zone; NXDOMAIN elsewhere', async (t) => {
    const ns = await query(d.dns, CAT, Type.NS);
    assert.equal(ns.aa, true);
    assert.deepEqual(targets(ns), ['invalid.']);
    const owner = `${labelOf(d.db, DEMO)}.zones.${CAT}`;
    const ptr = await query(d.dns, owner, Type.PTR);
    assert.equal(ptr.rcode, Rcode.NOERROR);
    assert.deepEqual(targets(ptr), [DEMO]);
    const missing = await query(d.dns, `0000000000000000.zones.${CAT}`, Type.PTR);
    assert.equal(missing.rcode, Rcode.NXDOMAIN);
    assert.equal(missing.authority[0]?.type, 'SOA');
    if (!skipUnlessTool(t, 'dig')) return;
    const out = await dig(owner, 'PTR');
    assert.match(
      out,
      new RegExp(`^${owner.replaceAll('.', '\\.')}\\s+0\\s+IN\\s+PTR\\s+${DEMO.replaceAll('.', '\\.')}$`, 'm'),
    );
  });

  it('lists a zone created by `psarn route set` within 1 s, with the catalog serial bumped', async (t) => {
    const before = await catalogSerial(d);
    // The zone's creation will make the catalog serial before + 1, its `created`: its label is
    // known now, and the NXDOMAIN for it goes into the answer cache, which the pickup must drop
    // (a cache hit never triggers a pickup: only the poll can serve the change).
    const owner = `${memberLabel({ name: NEW, created: before + 1 })}.zones.${CAT}`;
    assert.equal((await query(d.dns, owner, Type.PTR)).rcode, Rcode.NXDOMAIN);
    assert.equal((await query(d.dns, owner, Type.PTR)).rcode, Rcode.NXDOMAIN);
    await cliOn(d, 'route', 'set', PAID, '--target', 'https://pay.example.com/');
    const committed = performance.now();
    assert.equal(owner, `${labelOf(d.db, NEW)}.zones.${CAT}`);
    let m: DecodedMessage | undefined;
    while (performance.now() - committed < 1000) {
      m = await query(d.dns, owner, Type.PTR);
      if (m.rcode === Rcode.NOERROR && m.answer.length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    t.diagnostic(`listed ${(performance.now() - committed).toFixed(0)} ms after psarn route set exited`);
    assert.ok(m !== undefined && targets(m)[0] === NEW, 'the new zone was not listed within 1 s');
    const after = await catalogSerial(d);
    assert.ok(after > before);
    // Logged, and in /metrics as the catalog's psarn_zone_serial.
    const logged = () => d.logs.some((l) => l.msg === 'catalog changed' && l.serial === after && l.zone === CAT);
    // The log travels through a pipe, and may come after the answer: bounded wait.
    for (let i = 0; i < 100 && !logged(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(logged(), 'no "catalog changed" log line');
    const metrics = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
    assert.match(metrics, new RegExp(`^psarn_zone_serial\\{zone="catalog\\.psarn\\.internal\\."\\} ${after}$`, 'm'));
    // A route change in an existing zone leaves the catalog's serial alone.
    const now = await catalogSerial(d);
    await cliOn(d, 'route', 'set', PAID, '--target', 'https://pay2.example.com/');
    const name = `paid.billing.${NEW}`;
    for (let i = 0; i < 100; i++) {
      const uri = await query(d.dns, name, Type.URI);
      if (targets(uri).includes('https://pay2.example.com/')) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await catalogSerial(d), now);
  });

  describe('psarn zone export catalog.psarn.internal', () => {
    let file: string;
    before(async () => {
      file = join(d.dir, 'catalog.zone');
      await cliOn(d, 'zone', 'export', 'Catalog.PSARN.internal', '--output', file);
    });

    it('holds the records psarnd serves: SOA with its serial, NS invalid., version "2", a PTR per zone', async () => {
      const text = readFileSync(file, 'utf8');
      const serial = await catalogSerial(d);
      assert.match(
        text,
        new RegExp(`^catalog\\.psarn\\.internal\\.\\s+3600\\s+IN\\s+SOA\\s+\\S+ \\S+ ${serial} `, 'm'),
      );
      assert.match(text, /^catalog\.psarn\.internal\.\s+3600\s+IN\s+NS\s+invalid\.$/m);
      assert.match(text, /^version\.catalog\.psarn\.internal\.\s+0\s+IN\s+TXT\s+"2"$/m);
      // The demo zone, and the one the test above created.
      const ptrs = text.split('\n').filter((line) => /\sPTR\s/.test(line));
      assert.deepEqual(ptrs.map((line) => line.split(/\s+/)[4]).sort(), [DEMO, NEW].sort());
      for (const zone of [DEMO, NEW]) assert.ok(text.includes(`${labelOf(d.db, zone)}.zones.${CAT}`), zone);
    });

    it('named-checkzone accepts it', async (t) => {
      if (!skipUnlessTool(t, 'named-checkzone')) return;
      const { stdout } = await run('named-checkzone', [CAT, file]);
      assert.match(stdout, /OK/);
    });

    it('kzonecheck accepts it', async (t) => {
      if (!skipUnlessTool(t, 'kzonecheck')) return;
      await run('kzonecheck', ['-o', CAT, file]);
    });
  });
});
