/**
 * psarnd as a secondary of psarnd (issue 10, docs/design.md#secondary-mode), real processes on
 * 127.0.0.1, TSIG throughout: the secondary follows the primary's catalog, transfers every zone
 * at start, serves a `psarn route set` on the primary within 2 s (NOTIFY, then IXFR: its log and
 * metrics say so) and a zone created later; its own database refuses the CLI's writes. With the
 * primary killed it (and a Knot secondary of the primary, when knotd is installed) keeps
 * answering the last routes; once the primary is back, a change reaches every secondary within 2 s.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import { Store } from '../../src/store/index.js';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { cliOn, type HostPort, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil, query } from '../helpers/dns.js';
import { httpGet } from '../helpers/http.js';
import { knotSecondaryConfig, stopKnot } from '../helpers/knot.js';
import { toolAvailable, toolPath } from '../helpers/tools.js';

const SECRET = randomBytes(32).toString('base64');
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const ROUTE = `created.orders.${Z}`;
const LATER_PSARN = 'arn:aws:psarn:eu-west-1:210987654321:later';
const LATER_NAME = 'later.210987654321.eu-west-1.aws.psarn.internal.';
const psarn = (path: string) => `arn:aws:psarn:us-east-1:123456789012:${path}`;
const nameOf = (path: string) => `${path.split('/').reverse().join('.')}.${Z}`;
const targetOf = (m: DecodedMessage | undefined) =>
  (m?.answer.filter((rr) => rr.type === 'URI') as { target: string }[] | undefined)?.map((rr) => rr.target).sort();
const answerOf = (m: DecodedMessage): string[] => m.answer.map((rr) => JSON.stringify(rr)).sort();

describe('psarnd as a secondary of psarnd (catalog, TSIG, NOTIFY, IXFR)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-secondary-psarnd-'));
  const primaryDb = join(dir, 'primary.db');
  let primary: RunningDaemon | undefined;
  let secondary: RunningDaemon | undefined;
  let knot: ChildProcess | undefined;
  let knotAt: HostPort | undefined;
  let knotLog = '';
  let primaryPort = 0;
  let secondaryPort = 0;
  let knotPort = 0;

  after(async () => {
    await stopKnot(knot);
    await primary?.stop();
    await secondary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const startPrimary = () =>
    startPsarnd({
      db: primaryDb,
      ...(primaryPort > 0 ? { args: ['--listen', `127.0.0.1:${primaryPort}`] } : {}),
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_NOTIFY: [secondaryPort, ...(knotPort > 0 ? [knotPort] : [])]
          .map((port) => `127.0.0.1:${port} key transfer-key`)
          .join(','),
      },
    });

  it('transfers the catalog and every zone at start, and is ready once it has', async () => {
    secondaryPort = await freePort();
    if (toolAvailable('knotd')) knotPort = await freePort();
    primary = await startPrimary();
    primaryPort = primary.dns.port;
    secondary = await startPsarnd({
      db: join(dir, 'secondary.db'),
      demoRoutes: '',
      args: ['--listen', `127.0.0.1:${secondaryPort}`],
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_SECONDARY_PRIMARY: `127.0.0.1:${primaryPort}`,
        PSARN_SECONDARY_KEY: 'transfer-key',
        PSARN_SECONDARY_ZONES: 'catalog',
      },
    });
    const first = await askUntil(secondary.dns, ROUTE, (m) => m.rcode === Rcode.NOERROR, 10_000);
    assert.equal(first.reply?.rcode, Rcode.NOERROR, `the secondary does not serve ${ROUTE}: ${secondary.stderr()}`);
    assert.deepEqual(answerOf(first.reply!), answerOf(await query(primary.dns, ROUTE, Type.URI, { edns: false })));
    let ready = await httpGet(secondary.http, '/ready');
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await httpGet(secondary.http, '/ready');
    }
    assert.equal(ready.status, 200, ready.body);
    const refreshed = secondary.logs.find((l) => l.msg === 'zone refreshed' && l.zone === Z);
    assert.equal(refreshed?.kind, 'axfr');
    assert.equal(refreshed?.from, null);
    for (const field of ['to', 'bytes', 'ms']) assert.equal(typeof refreshed?.[field], 'number', field);

    if (knotPort > 0) {
      // A Knot secondary of the same primary, for the primary-down part below.
      knotAt = { host: '127.0.0.1', port: knotPort };
      const storage = join(dir, 'knot');
      mkdirSync(storage);
      const config = join(dir, 'knot.conf');
      writeFileSync(
        config,
        knotSecondaryConfig({
          port: knotPort,
          primaryPort,
          dir: storage,
          secret: SECRET,
          catalog: 'catalog.psarn.internal',
        }),
      );
      knot = spawn(toolPath('knotd')!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
        knotLog += s;
      });
      const served = await askUntil(knotAt, ROUTE, (m) => m.rcode === Rcode.NOERROR, 10_000);
      assert.equal(served.reply?.rcode, Rcode.NOERROR, `Knot does not serve ${ROUTE}:\n${knotLog.slice(-1500)}`);
    }
  });

  it('serves a route set on the primary within 2 s, by NOTIFY then IXFR', async (t) => {
    assert.ok(primary && secondary);
    const target = 'arn:aws:sqs:us-east-1:123456789012:secondary-1';
    await cliOn(primary, 'route', 'set', psarn('changes/one'), '--target', target);
    const served = await askUntil(secondary.dns, nameOf('changes/one'), (m) => m.rcode === Rcode.NOERROR, 2000);
    t.diagnostic(`route set -> served by the psarnd secondary: ${served.ms.toFixed(0)} ms after the CLI returned`);
    assert.deepEqual(targetOf(served.reply), [target], `not served within 2 s: ${secondary.stderr()}`);
    const line = secondary.logs.findLast((l) => l.msg === 'zone refreshed' && l.zone === Z);
    assert.equal(line?.kind, 'ixfr', JSON.stringify(line));
    const metrics = (await httpGet(secondary.http, '/metrics')).body;
    assert.match(metrics, new RegExp(`psarn_secondary_refresh_total\\{zone="${Z}",kind="ixfr",result="ok"\\} [1-9]`));
    const serial = (await query(primary.dns, Z, Type.SOA, { edns: false })).answer[0] as { serial: number };
    assert.match(metrics, new RegExp(`psarn_secondary_serial\\{zone="${Z}"\\} ${serial.serial}\\n`));
  });

  it('follows a zone created on the primary later, through the catalog', async (t) => {
    assert.ok(primary && secondary);
    await cliOn(primary, 'route', 'set', LATER_PSARN, '--target', 'https://later.example/');
    const served = await askUntil(secondary.dns, LATER_NAME, (m) => m.rcode === Rcode.NOERROR, 5000);
    t.diagnostic(`zone created -> served by the psarnd secondary: ${served.ms.toFixed(0)} ms`);
    assert.equal(served.reply?.rcode, Rcode.NOERROR, secondary.stderr());
    assert.ok(secondary.logs.some((l) => l.msg === 'zone added from the catalog'));
  });

  it("refuses a CLI write on the secondary's database with one line naming the primary, and writes nothing", async () => {
    assert.ok(secondary);
    const before = Store.open(secondary.db, { create: false, readonly: true });
    const serial = before.zone(Z)!.serial;
    const journal = before.journal(Z).length;
    before.close();
    await assert.rejects(
      cliOn(secondary, 'route', 'set', psarn('local/write'), '--target', 'https://x.example/'),
      (err) => {
        const { code, stderr } = err as { code: number; stderr: string };
        assert.equal(code, 1);
        assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
        assert.match(
          stderr,
          new RegExp(`is a secondary copy of 127\\.0\\.0\\.1:${primaryPort}; change routes on the primary`),
        );
        return true;
      },
    );
    const check = Store.open(secondary.db, { create: false, readonly: true });
    assert.equal(check.zone(Z)!.serial, serial);
    assert.equal(check.journal(Z).length, journal);
    assert.equal(check.getRoute(Z, 'local/write'), undefined);
    check.close();
  });

  it('keeps answering while the primary is down; once it is back, a change reaches every secondary within 2 s', async (t) => {
    assert.ok(primary && secondary);
    const last = await query(secondary.dns, nameOf('changes/one'), Type.URI, { edns: false });
    await primary.stop('SIGKILL');
    // Down: the secondaries answer the last routes.
    for (const at of [secondary.dns, ...(knotAt ? [knotAt] : [])]) {
      const reply = await query(at, nameOf('changes/one'), Type.URI, { edns: false });
      assert.equal(reply.rcode, Rcode.NOERROR);
      assert.deepEqual(targetOf(reply), targetOf(last));
    }
    primary = await startPrimary();
    assert.equal(primary.dns.port, primaryPort);
    const target = 'arn:aws:sqs:us-east-1:123456789012:after-restart';
    await cliOn(primary, 'route', 'set', psarn('changes/one'), '--target', target);
    const secondaries: [string, HostPort][] = [
      ['psarnd', secondary.dns],
      ...(knotAt ? [['knot', knotAt] as [string, HostPort]] : []),
    ];
    for (const [who, at] of secondaries) {
      const served = await askUntil(at, nameOf('changes/one'), (m) => targetOf(m)?.[0] === target, 2000);
      t.diagnostic(`after the restart, route set -> served by ${who}: ${served.ms.toFixed(0)} ms`);
      assert.deepEqual(targetOf(served.reply), [target], `${who} did not serve the change within 2 s`);
    }
  });
});
