/**
 * Caller reports from secondaries (docs/design.md#caller-reports-from-secondaries), real
 * processes on 127.0.0.1: a psarnd secondary (callers.reportEvery 1s) sends the callers written
 * to its own table while it runs to its psarnd primary, which stores them under the secondary's TSIG key name; with
 * the primary killed the secondary keeps serving, and once the primary is back the latest state
 * of every row arrives. A Knot primary refuses the reports: the psarnd secondary logs that once
 * and keeps serving.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import type { CallerRow } from '../../src/store/callers.js';
import { Store } from '../../src/store/index.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil, query } from '../helpers/dns.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';
import { httpGet } from '../helpers/http.js';
import { knotPrimaryConfig, stopKnot } from '../helpers/knot.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const SECRET = randomBytes(32).toString('base64');
const ROUTE = `created.orders.${ZONE}`;

const own = (over: Partial<CallerRow>): CallerRow => {
  const now = Date.now();
  return {
    caller: 'orders-api',
    name: ROUTE,
    reporter: '',
    serial: 1,
    firstSeen: now - 500,
    lastSeen: now - 100,
    lookups: 3,
    ...over,
  };
};

/** Writes rows into a database's callers table, as the secondary's map persists them. */
function seed(db: string, rows: CallerRow[]): void {
  const store = Store.open(db);
  try {
    store.saveCallers(rows);
  } finally {
    store.close();
  }
}

/** The primary's rows from `reporter`, read until `done` holds (bounded: 30 s), by caller. */
async function rowsAt(db: string, reporter: string, done: (rows: CallerRow[]) => boolean): Promise<CallerRow[]> {
  let rows: CallerRow[] = [];
  for (let i = 0; i < 300; i++) {
    const store = Store.open(db, { create: false, readonly: true });
    try {
      rows = store.callerRows({ reporter });
    } finally {
      store.close();
    }
    if (done(rows)) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
  return rows;
}

const byCaller = (rows: CallerRow[]) => new Map(rows.map((r) => [r.caller, r]));

/** A counter's value on /metrics, 0 when absent. */
async function counter(d: RunningDaemon, series: string): Promise<number> {
  const text = (await httpGet(d.http, '/metrics')).body;
  const escaped = series.replace(/[{}"]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

describe('caller reports: a psarnd secondary to its psarnd primary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-caller-reports-'));
  const primaryDb = join(dir, 'primary.db');
  const secondaryDb = join(dir, 'secondary.db');
  let primary: RunningDaemon | undefined;
  let secondary: RunningDaemon | undefined;
  let primaryPort = 0;
  let secondaryPort = 0;

  after(async () => {
    await secondary?.stop();
    await primary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const startPrimary = () =>
    startPsarnd({
      db: primaryDb,
      ...(primaryPort > 0 ? { args: ['--listen', `127.0.0.1:${primaryPort}`] } : {}),
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_NOTIFY: `127.0.0.1:${secondaryPort} key transfer-key`,
      },
    });

  it("stores the secondary's callers under its key name", async () => {
    secondaryPort = await freePort();
    primary = await startPrimary();
    primaryPort = primary.dns.port;
    secondary = await startPsarnd({
      db: secondaryDb,
      demoRoutes: '',
      args: ['--listen', `127.0.0.1:${secondaryPort}`],
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_SECONDARY_PRIMARY: `127.0.0.1:${primaryPort}`,
        PSARN_SECONDARY_KEY: 'transfer-key',
        PSARN_SECONDARY_ZONES: 'catalog',
        PSARN_CALLERS_REPORT_EVERY: '1s',
      },
    });
    const served = await askUntil(secondary.dns, ROUTE, (m) => m.rcode === Rcode.NOERROR, 10_000);
    assert.equal(served.reply?.rcode, Rcode.NOERROR, secondary.stderr());
    // The secondary's map, as it persists it (its own rows: reporter ''), written while it runs:
    // a report covers the rows seen since the last one, whenever the process started.
    seed(secondaryDb, [
      own({ caller: 'orders-api', serial: 5 }),
      own({ caller: 'billing', name: `_epoch.${ZONE}`, serial: 5, lookups: 1 }),
    ]);
    const rows = await rowsAt(primaryDb, 'transfer-key', (r) => r.length === 2);
    assert.equal(rows.length, 2, `the primary has ${JSON.stringify(rows)}\n${secondary.stderr()}`);
    const got = byCaller(rows);
    assert.equal(got.get('orders-api')?.name, ROUTE);
    assert.equal(got.get('orders-api')?.serial, 5);
    assert.equal(got.get('billing')?.name, `_epoch.${ZONE}`);
    // First seen since the reporter started: their lookups come along.
    assert.equal(got.get('orders-api')?.lookups, 3);
    assert.ok((await counter(secondary, 'psarn_callers_reports_total{direction="sent",result="ok"}')) >= 1);
    assert.ok((await counter(primary, 'psarn_callers_reports_total{direction="received",result="ok"}')) >= 1);
    // Nothing became a record: the control name does not exist on the primary.
    const control = await query(primary.dns, `_callers.${ZONE}`, Type.TXT, { edns: false });
    assert.equal(control.rcode, Rcode.NXDOMAIN);
  });

  it('with the primary down the secondary keeps serving; once it is back, the latest state arrives', async () => {
    assert.ok(primary && secondary);
    await primary.stop('SIGKILL');
    // Written while the primary is down: a newer serial and more lookups, and a new caller.
    seed(secondaryDb, [
      own({ caller: 'orders-api', serial: 6, lookups: 4 }),
      own({ caller: 'during-outage', serial: 6, firstSeen: Date.now() - 50, lastSeen: Date.now(), lookups: 2 }),
    ]);
    let failed = 0;
    for (let i = 0; i < 100 && failed === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      failed = await counter(secondary, 'psarn_callers_reports_total{direction="sent",result="error"}');
    }
    assert.ok(failed >= 1, 'a report failed while the primary was down');
    const down = await query(secondary.dns, ROUTE, Type.URI, { edns: false });
    assert.equal(down.rcode, Rcode.NOERROR, 'the secondary keeps serving');
    primary = await startPrimary();
    assert.equal(primary.dns.port, primaryPort);
    const rows = await rowsAt(primaryDb, 'transfer-key', (r) => {
      const m = byCaller(r);
      return m.get('orders-api')?.serial === 6 && m.has('during-outage');
    });
    const got = byCaller(rows);
    assert.equal(got.get('orders-api')?.serial, 6, `${JSON.stringify(rows)}\n${secondary.stderr()}`);
    assert.equal(got.get('orders-api')?.lookups, 7, "the secondary's total: 3 before the outage, 4 during it");
    assert.equal(got.get('during-outage')?.lookups, 2);
    const warned = secondary.logs.filter((l) => String(l.msg).startsWith('caller report not sent'));
    assert.equal(warned.length, 1, 'one warning for the outage (rate-limited)');
  });
});

describe('caller reports: a psarnd secondary of Knot DNS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-caller-reports-knot-'));
  let knot: ChildProcess | undefined;
  let secondary: RunningDaemon | undefined;
  let knotLog = '';
  after(async () => {
    await stopKnot(knot);
    await secondary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused by Knot: one warning, and the secondary keeps serving', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    const source = join(dir, 'source.db');
    const store = Store.open(source);
    store.setRoute(
      ZONE,
      'orders/created',
      {
        policy: 'weighted',
        ttl: 300,
        targets: [{ target: 'arn:aws:lambda:us-east-1:123456789012:function:v1', weight: 1, priority: 10 }],
      },
      PARAMS,
    );
    store.close();
    const zoneFile = join(dir, 'zone.txt');
    writeFileSync(zoneFile, (await cliOn({ db: source }, 'zone', 'export', ZONE)).stdout);
    const knotPort = await freePort();
    const storage = join(dir, 'knot');
    mkdirSync(storage);
    const config = join(dir, 'knot.conf');
    writeFileSync(config, knotPrimaryConfig({ port: knotPort, dir: storage, zoneFile, secret: SECRET, zone: ZONE }));
    knot = spawn(toolPath('knotd')!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
      knotLog += s;
    });
    const up = await askUntil({ host: '127.0.0.1', port: knotPort }, ROUTE, (m) => m.rcode === Rcode.NOERROR, 10_000);
    assert.equal(up.reply?.rcode, Rcode.NOERROR, `knotd does not serve the zone:\n${knotLog.slice(-1500)}`);

    const secondaryDb = join(dir, 'secondary.db');
    secondary = await startPsarnd({
      db: secondaryDb,
      demoRoutes: '',
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_SECONDARY_PRIMARY: `127.0.0.1:${knotPort}`,
        PSARN_SECONDARY_KEY: 'transfer-key',
        PSARN_SECONDARY_ZONES: ZONE,
        PSARN_CALLERS_REPORT_EVERY: '1s',
      },
    });
    const served = await askUntil(secondary.dns, ROUTE, (m) => m.rcode === Rcode.NOERROR, 10_000);
    assert.equal(served.reply?.rcode, Rcode.NOERROR, secondary.stderr());
    seed(secondaryDb, [own({ caller: 'orders-api' })]);
    // Two refused rounds at least: tried again at the interval, and logged once.
    let refused = 0;
    for (let i = 0; i < 200 && refused < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      refused =
        (await counter(secondary, 'psarn_callers_reports_total{direction="sent",result="refused"}')) +
        (await counter(secondary, 'psarn_callers_reports_total{direction="sent",result="notauth"}'));
    }
    assert.ok(refused >= 2, `refused ${refused} times\n${secondary.stderr()}\n${knotLog.slice(-1500)}`);
    const lines = secondary.logs.filter((l) => /^caller report refused/.test(String(l.msg)));
    assert.equal(lines.length, 1, JSON.stringify(lines));
    t.diagnostic(`Knot's answer, as logged: ${JSON.stringify(lines[0])}`);
    const still = await query(secondary.dns, ROUTE, Type.URI, { edns: false });
    assert.equal(still.rcode, Rcode.NOERROR, 'the secondary keeps serving');
    assert.equal((await httpGet(secondary.http, '/ready')).status, 200);
  });
});
