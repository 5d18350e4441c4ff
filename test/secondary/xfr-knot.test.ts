/**
 * The transfer engine (src/secondary/transfer-client.ts) with Knot DNS as the PRIMARY
 * (docs/design.md#transfers-in): knotd serves a zone file that `psarn zone export` made (plus an
 * A record, outside the route model), TSIG-signed; `zonefile-load: difference` makes Knot keep a
 * changeset per reload of a changed file, so an IXFR over several reloads is several difference
 * sequences (Knot does not condense them, as psarnd does). AXFR, then IXFRs, leave the local
 * export equal to the file Knot serves (as sets of records: Knot keeps an RRset in its own order).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../../bench/knot.js';
import { TransferClient } from '../../src/secondary/transfer-client.js';
import { Store } from '../../src/store/store.js';
import { makeTsigKey } from '../../src/wire/tsig.js';
import { cliOn } from '../helpers/daemon.js';
import { PARAMS } from '../helpers/fixtures.js';
import { knotPrimaryConfig, stopKnot } from '../helpers/knot.js';
import { skipUnlessTool, toolAvailable, toolPath } from '../helpers/tools.js';

const run = promisify(execFile);
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const NS = 'psarn.internal.';
const SECRET = randomBytes(32).toString('base64');
const KEY = makeTsigKey('transfer-key', 'hmac-sha256', SECRET);
const P = (path: string) => `arn:aws:psarn:us-east-1:123456789012:${path}`;
const Q = (name: string) => `arn:aws:sqs:us-east-1:123456789012:${name}`;
/** Outside the route model: Knot serves it, the secondary skips it. */
const EXTRA = `www.${Z} 300 IN A 192.0.2.1\n`;

/** A master file's records as sorted lines, comments and directives dropped, with its head comment. */
function records(text: string): { head: string; lines: string[] } {
  const all = text.split('\n');
  const lines = all.filter((l) => l !== '' && !l.startsWith(';') && !l.startsWith('$')).sort();
  return { head: all[0]!, lines };
}

describe('transfers in from a Knot DNS primary (a psarn zone file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-xfr-knot-'));
  const source = join(dir, 'source.db');
  const localDb = join(dir, 'secondary.db');
  const zoneFile = join(dir, 'zone.db');
  let knot: ChildProcess | undefined;
  let log = '';
  let port = 0;
  let store: Store | undefined;
  let client: TransferClient;

  const exportOf = async (db: string) => (await cliOn({ db }, 'zone', 'export', Z)).stdout;
  /** Writes the source database's export (with the extra A) for Knot, reloads it, waits for its serial. */
  const publish = async () => {
    const text = await exportOf(source);
    writeFileSync(zoneFile, text + EXTRA);
    const serial = Number(/ serial (\d+) /.exec(text)![1]);
    if (knot !== undefined) {
      await run(toolPath('knotc')!, ['-s', join(dir, 'knot', 'knot.sock'), 'zone-reload', Z]);
    }
    return serial;
  };
  const servedSerial = async (serial: number) => {
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      try {
        if ((await client.soa(Z)).serial === serial) return;
      } catch {
        // not loaded yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`Knot does not serve serial ${serial}:\n${log.slice(-2000)}`);
  };
  const assertSame = async () => {
    const theirs = records(await exportOf(source));
    const ours = records(await exportOf(localDb));
    assert.equal(ours.head, theirs.head, 'serial and epoch');
    assert.deepEqual(ours.lines, theirs.lines);
  };

  before(async () => {
    if (!toolAvailable('knotd') || !toolAvailable('knotc')) return;
    await cliOn({ db: source }, 'db', 'init');
    await cliOn(
      { db: source },
      'route',
      'set',
      P('orders/created'),
      '--target',
      `${Q('v1')}=90`,
      '--target',
      `${Q('v2')}=10`,
    );
    await cliOn(
      { db: source },
      'route',
      'set',
      P('orders/audit'),
      '--policy',
      'fanout',
      '--target',
      Q('audit'),
      '--target',
      Q('audit2'),
    );
    await cliOn(
      { db: source },
      'route',
      'set',
      P('payments/charge'),
      '--target',
      `${Q('main')}=1@10`,
      '--target',
      `${Q('backup')}=1@20`,
    );
    await cliOn({ db: source }, 'route', 'alias', P('orders/latest'), P('orders/created'));
    await cliOn({ db: source }, 'route', 'set', P('meta/route'), '--target', Q('m'), '--meta', 'owner=team-a');
    await cliOn({ db: source }, 'flush', Z);
    port = await freePort();
    const storage = join(dir, 'knot');
    mkdirSync(storage);
    await publish();
    const config = join(dir, 'knot.conf');
    writeFileSync(config, knotPrimaryConfig({ port, dir: storage, zoneFile, secret: SECRET, zone: Z }));
    knot = spawn(toolPath('knotd')!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
      log += s;
    });
    store = Store.open(localDb);
    client = new TransferClient({
      store,
      primary: { address: { host: '127.0.0.1', port }, key: KEY },
      namespace: NS,
      params: PARAMS,
    });
  });
  after(async () => {
    await stopKnot(knot);
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('AXFR, then IXFRs of one and of several changesets: the export follows the file', async (t) => {
    if (!skipUnlessTool(t, 'knotd') || !skipUnlessTool(t, 'knotc')) return;
    const first = Number(/ serial (\d+) /.exec(await exportOf(source))![1]);
    await servedSerial(first);
    const axfr = await client.refresh(Z);
    assert.equal(axfr.kind, 'axfr');
    assert.equal(axfr.serial, first);
    assert.equal((axfr as { skipped: number }).skipped, 1, 'the A record');
    await assertSame();

    // One change, one reload: one difference sequence.
    await cliOn({ db: source }, 'route', 'weight', P('orders/created'), `${Q('v1')}=50`);
    await servedSerial(await publish());
    const one = await client.refresh(Z);
    assert.equal(one.kind, 'ixfr', JSON.stringify(one));
    assert.equal(one.sequences, 1);
    await assertSame();

    // Several reloads before the secondary asks: Knot answers with one sequence per changeset.
    await cliOn({ db: source }, 'route', 'set', P('new/one'), '--target', Q('new'));
    await publish();
    await cliOn({ db: source }, 'route', 'delete', P('orders/audit'));
    await publish();
    await cliOn({ db: source }, 'route', 'alias', P('new/alias'), P('new/one'));
    await cliOn({ db: source }, 'route', 'set', P('meta/route'), '--ttl', '60', '--meta', 'owner-', '--meta', 'x=1');
    await servedSerial(await publish());
    const several = await client.refresh(Z);
    assert.equal(several.kind, 'ixfr', JSON.stringify(several));
    assert.ok(several.kind === 'ixfr' && several.from === one.serial);
    assert.equal(several.sequences, 3, 'serials 8 -> 9 -> 10 -> 12, one sequence each');
    await assertSame();

    // A flush: every route's TXT changes; Knot sends it as a difference too.
    await cliOn({ db: source }, 'flush', Z);
    await servedSerial(await publish());
    const flushed = await client.refresh(Z);
    assert.equal(flushed.kind, 'ixfr', JSON.stringify(flushed));
    await assertSame();
    assert.match(log, /IXFR, outgoing/);
    t.diagnostic(JSON.stringify({ axfr, one, several, flushed }));
    if (process.env.PSARN_SHOW_KNOT_LOG === '1') t.diagnostic(log);
  });
});
