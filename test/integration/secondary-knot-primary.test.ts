/**
 * psarnd as a secondary of Knot DNS (issue 10, docs/design.md#secondary-mode): knotd is the
 * primary of a zone file `psarn zone export` wrote, with the TSIG key, and NOTIFYs psarnd;
 * psarnd (secondary.zones: the zone) transfers it and serves its routes as the primary's psarnd
 * would. The file changed (a route set, exported again) and Knot reloaded: psarnd serves the
 * change within 2 s (Knot's NOTIFY, then a transfer).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../../bench/knot.js';
import { Store } from '../../src/store/index.js';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil, query } from '../helpers/dns.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';
import { knotPrimaryConfig, stopKnot } from '../helpers/knot.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const run = promisify(execFile);
const SECRET = randomBytes(32).toString('base64');
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
const nameOf = (path: string) => `${path.split('/').reverse().join('.')}.${ZONE}`;
const answerOf = (m: DecodedMessage): string[] => m.answer.map((rr) => JSON.stringify(rr)).sort();

describe('psarnd as a secondary of Knot DNS (a psarn zone file served by knotd)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-secondary-of-knot-'));
  let knot: ChildProcess | undefined;
  let secondary: RunningDaemon | undefined;
  let knotLog = '';
  after(async () => {
    await stopKnot(knot);
    await secondary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('transfers the zone from Knot, and serves a change of the file within 2 s of the reload', async (t) => {
    if (!skipUnlessTool(t, 'knotd') || !skipUnlessTool(t, 'knotc')) return;
    // The routes, written by psarn into a database of their own and exported as a zone file.
    const source = { db: join(dir, 'source.db') };
    const store = Store.open(source.db);
    store.setRoute(
      ZONE,
      'orders/created',
      {
        policy: 'weighted',
        ttl: 300,
        targets: [
          { target: `${LAMBDA}v1`, weight: 90, priority: 10 },
          { target: `${LAMBDA}v2`, weight: 10, priority: 10 },
        ],
      },
      PARAMS,
    );
    store.setRoute(
      ZONE,
      'orders/audit',
      {
        policy: 'fanout',
        ttl: 60,
        targets: [{ target: 'arn:aws:sqs:us-east-1:123456789012:audit', weight: 1, priority: 10 }],
        metadata: { team: 'orders' },
      },
      PARAMS,
    );
    store.setRoute(ZONE, 'orders/latest', { ttl: 300, alias: nameOf('orders/created') }, PARAMS);
    store.close();
    const zoneFile = join(dir, 'zone.txt');
    writeFileSync(zoneFile, (await cliOn(source, 'zone', 'export', ZONE)).stdout);

    const knotPort = await freePort();
    const secondaryPort = await freePort();
    const storage = join(dir, 'knot');
    mkdirSync(storage);
    const config = join(dir, 'knot.conf');
    writeFileSync(
      config,
      knotPrimaryConfig({
        port: knotPort,
        notifyPort: secondaryPort,
        dir: storage,
        zoneFile,
        secret: SECRET,
        zone: ZONE,
      }),
    );
    knot = spawn(toolPath('knotd')!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
      knotLog += s;
    });
    const knotAt = { host: '127.0.0.1', port: knotPort };
    const up = await askUntil(knotAt, nameOf('orders/created'), (m) => m.rcode === Rcode.NOERROR, 10_000);
    assert.equal(up.reply?.rcode, Rcode.NOERROR, `knotd does not serve the zone:\n${knotLog.slice(-1500)}`);

    secondary = await startPsarnd({
      db: join(dir, 'secondary.db'),
      demoRoutes: '',
      args: ['--listen', `127.0.0.1:${secondaryPort}`],
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_SECONDARY_PRIMARY: `127.0.0.1:${knotPort}`,
        PSARN_SECONDARY_KEY: 'transfer-key',
        PSARN_SECONDARY_ZONES: ZONE,
      },
    });
    for (const path of ['orders/created', 'orders/audit', 'orders/latest']) {
      const served = await askUntil(secondary.dns, nameOf(path), (m) => m.rcode === Rcode.NOERROR, 10_000);
      assert.equal(served.reply?.rcode, Rcode.NOERROR, `${path}: ${secondary.stderr()}`);
      // The same records as Knot serves (psarnd adds the route's TXT in additional; Knot does not).
      const knotAnswer = await query(knotAt, nameOf(path), Type.URI, { edns: false });
      assert.deepEqual(answerOf(served.reply!), answerOf(knotAnswer), path);
    }
    // The metadata came along (`_meta` TXT): the copy's route has it.
    const copy = Store.open(secondary.db, { create: false, readonly: true });
    assert.deepEqual(copy.getRoute(ZONE, 'orders/audit')?.metadata, { team: 'orders' });
    copy.close();

    // A change of the file, then Knot reloads it: its NOTIFY, then a transfer.
    const writer = Store.open(source.db, { create: false });
    writer.setRoute(
      ZONE,
      'orders/shipped',
      { policy: 'weighted', ttl: 300, targets: [{ target: `${LAMBDA}shipped`, weight: 1, priority: 10 }] },
      PARAMS,
    );
    writer.close();
    writeFileSync(zoneFile, (await cliOn(source, 'zone', 'export', ZONE)).stdout);
    await run(toolPath('knotc')!, ['-s', join(storage, 'knot.sock'), 'zone-reload', ZONE]);
    const served = await askUntil(secondary.dns, nameOf('orders/shipped'), (m) => m.rcode === Rcode.NOERROR, 2000);
    t.diagnostic(`file changed, knotc zone-reload -> served by psarnd: ${served.ms.toFixed(0)} ms`);
    assert.equal(
      served.reply?.rcode,
      Rcode.NOERROR,
      `not served within 2 s:\n${knotLog.slice(-1500)}\n${secondary.stderr()}`,
    );
    const line = secondary.logs.findLast((l) => l.msg === 'zone refreshed' && l.zone === ZONE);
    t.diagnostic(`transfer kind: ${String(line?.kind)}`);
    assert.equal(line?.kind, 'ixfr', JSON.stringify(line));
    assert.match(knotLog, /notify, outgoing, remote 127\.0\.0\.1@\d+[^\n]*serial/);
  });
});
