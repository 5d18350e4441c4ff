/**
 * Callers name themselves, end to end (docs/design.md#the-caller-map): the real psarnd, asked by
 * the real dig with `+ednsopt=65001:<hex>`, by `psarn dig +caller=`, and by the client library;
 * the rows are in the database after callers.persistEvery (1 s here, through the env), a clean
 * stop (SIGTERM) writes what the last tick had not, and a restart reads them back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { RouteResolver } from '../../src/client/resolver.js';
import type { CallerRow } from '../../src/store/callers.js';
import { Store } from '../../src/store/index.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { skipUnlessTool } from '../helpers/tools.js';

const run = promisify(execFile);
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const CREATED = `created.orders.${Z}`;
const AUDIT = `audit.orders.${Z}`;
const PSARN_CREATED = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const PSARN_AUDIT = 'arn:aws:psarn:us-east-1:123456789012:orders/audit';
const hex = (s: string) => Buffer.from(s).toString('hex');

/** The rows of the callers table, read on a connection of the test's own. */
function rows(db: string): CallerRow[] {
  const store = Store.open(db, { readonly: true, create: false });
  try {
    return store.callerRows({ reporter: '' });
  } finally {
    store.close();
  }
}

/** Waits (bounded) until `test` holds for the rows, returning them. */
async function rowsWhen(db: string, test: (r: CallerRow[]) => boolean, what: string): Promise<CallerRow[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const got = rows(db);
    if (test(got)) return got;
    if (Date.now() > deadline) assert.fail(`${what}: rows are ${JSON.stringify(got)}`);
    await sleep(100);
  }
}

const pairs = (r: readonly CallerRow[]) => r.map((x) => `${x.caller} ${x.name}`).sort();

describe('callers end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-callers-'));
  const db = join(dir, 'psarn.db');
  let d: RunningDaemon | undefined;
  let resolver: RouteResolver | undefined;

  before(async () => {
    d = await startPsarnd({ db, env: { PSARN_CALLERS_PERSIST_EVERY: '1s' } });
  });
  after(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records dig +ednsopt, psarn dig +caller= and the client library, with the zone serial, within persistEvery', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const server = `${d!.dns.host}:${d!.dns.port}`;
    const serial = Number(
      (await run('dig', [`@${d!.dns.host}`, '-p', String(d!.dns.port), '+short', Z, 'SOA'])).stdout.split(' ')[2],
    );
    assert.ok(serial > 0);
    const dug = await run('dig', [
      `@${d!.dns.host}`,
      '-p',
      String(d!.dns.port),
      '+time=2',
      '+tries=2',
      `+ednsopt=65001:${hex('dig-caller')}`,
      CREATED,
      'URI',
    ]);
    assert.match(dug.stdout, /status: NOERROR/);
    const cli = await cliOn(d!, 'dig', PSARN_AUDIT, `@${server}`, '+caller=cli-caller', '+short');
    assert.match(cli.stdout, /orders-audit/);
    resolver = new RouteResolver({ servers: [server], caller: 'lib-caller' });
    const route = await resolver.resolve(PSARN_CREATED);
    assert.equal(route.targets.length, 2);
    const got = await rowsWhen(db, (r) => r.length >= 3, 'three callers persisted');
    assert.deepEqual(pairs(got), [`cli-caller ${AUDIT}`, `dig-caller ${CREATED}`, `lib-caller ${CREATED}`]);
    for (const row of got) {
      assert.equal(row.serial, serial, `${row.caller}: the serial of the answer`);
      assert.ok(row.lookups >= 1);
      assert.ok(row.firstSeen <= row.lastSeen);
    }
  });

  it('writes the last changes on a clean stop, and a restart reads the map back', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const before = rows(db);
    assert.equal(before.length, 3, 'the first test persisted three rows');
    // A change: the next fetch has a newer serial, which a clean stop writes.
    await cliOn(d!, 'route', 'set', PSARN_CREATED, '--target', 'arn:aws:lambda:us-east-1:123456789012:function:v3');
    const server = `${d!.dns.host}:${d!.dns.port}`;
    const deadline = Date.now() + 10_000;
    let answer = '';
    while (!answer.includes(':v3') && Date.now() < deadline) {
      answer = (await cliOn(d!, 'dig', PSARN_CREATED, `@${server}`, '+caller=dig-caller', '+short')).stdout;
    }
    assert.match(answer, /:v3/);
    assert.equal(await d!.stop('SIGTERM'), 0);
    const stopped = rows(db);
    const dig = stopped.find((r) => r.caller === 'dig-caller' && r.name === CREATED)!;
    // Exactly the serial the route set produced (the zone's now: nothing else wrote it), not merely a newer one.
    const store = Store.open(db, { readonly: true, create: false });
    const changed = store.zone(Z)!.serial;
    store.close();
    assert.ok(changed !== before.find((r) => r.caller === 'dig-caller')!.serial);
    assert.equal(dig.serial, changed, 'the serial of the changed route was written');
    assert.equal(dig.firstSeen, before.find((r) => r.caller === 'dig-caller')!.firstSeen);
    assert.ok(dig.lookups >= 2, 'lookups are summed');

    d = await startPsarnd({ db, env: { PSARN_CALLERS_PERSIST_EVERY: '1h' } });
    const loaded = d.logs.find((l) => l.msg === 'caller map loaded');
    assert.equal(loaded?.rows, 3);
    assert.equal(loaded?.held, 3);
    assert.deepEqual(pairs(rows(db)), pairs(stopped), 'nothing lost across the restart');
  });
});

describe('callers with workers: 2', () => {
  let d: RunningDaemon | undefined;
  after(async () => {
    await d?.stop();
  });

  it('each worker keeps its own map and writes it on a clean stop; the table is their union', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const dir = mkdtempSync(join(tmpdir(), 'psarn-callers-workers-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const db = join(dir, 'psarn.db');
    d = await startPsarnd({
      db,
      args: ['--workers', '2'],
      env: { PSARN_CALLERS_PERSIST_EVERY: '1h' },
      timeoutMs: 60_000,
    });
    // Each dig is a new socket, so the kernel spreads them over both workers.
    const callers = Array.from({ length: 12 }, (_, i) => `worker-test-${i}`);
    for (const caller of callers) {
      const out = await run('dig', [
        `@${d.dns.host}`,
        '-p',
        String(d.dns.port),
        '+time=2',
        '+tries=2',
        `+ednsopt=65001:${hex(caller)}`,
        CREATED,
        'URI',
      ]);
      assert.match(out.stdout, /status: NOERROR/);
    }
    assert.equal(await d.stop('SIGTERM'), 0);
    assert.deepEqual(
      rows(db)
        .map((r) => r.caller)
        .sort(),
      [...callers].sort(),
    );
  });
});
