/**
 * The transfer engine (src/secondary/transfer-client.ts) against a real psarnd primary
 * (docs/design.md#transfers-in): AXFR then each IXFR leaves the local database's `zone export`
 * byte for byte the primary's; a pruned journal falls back to AXFR with its reason; a wrong key,
 * no key, or a tampered MAC changes nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TransferError } from '../../src/secondary/errors.js';
import { TransferClient } from '../../src/secondary/transfer-client.js';
import { Store } from '../../src/store/store.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';
import { findTsig, makeTsigKey, readTsig } from '../../src/wire/tsig.js';
import { cliOn, type RunningDaemon, startAll, startPsarnd } from '../helpers/daemon.js';
import { PARAMS } from '../helpers/fixtures.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const NS = 'psarn.internal.';
const SECRET = randomBytes(32).toString('base64');
const KEY = makeTsigKey('transfer-key', 'hmac-sha256', SECRET);
const P = (path: string) => `arn:aws:psarn:us-east-1:123456789012:${path}`;

describe('transfers in from a psarnd primary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-xfr-in-'));
  const localDb = join(dir, 'secondary.db');
  let primary: RunningDaemon;
  let pruning: RunningDaemon;
  let store: Store;
  /** A client of `address`, signing with `key` (null: unsigned). */
  const client = (address = primary.dns, key: typeof KEY | null = KEY) =>
    new TransferClient({ store, primary: { address, key: key ?? undefined }, namespace: NS, params: PARAMS });
  const exportOf = async (db: string) => (await cliOn({ db }, 'zone', 'export', Z)).stdout;

  before(async () => {
    const env = { PSARN_TSIG_KEYS: `transfer-key:${SECRET}`, PSARN_TRANSFER_ALLOW: 'transfer-key' };
    [primary, pruning] = await startAll([
      startPsarnd({ env }),
      startPsarnd({ env: { ...env, PSARN_JOURNAL_KEEP: '1' } }),
    ]);
    store = Store.open(localDb);
    // Beside the demo routes (weighted, fanout, failover, an alias): metadata and a flushed epoch.
    await cliOn(
      primary,
      'route',
      'set',
      P('meta/route'),
      '--target',
      'arn:aws:sqs:us-east-1:123456789012:q',
      '--meta',
      'owner=team-a',
      '--meta',
      'note=x y;z',
    );
    await cliOn(primary, 'flush', Z);
  });
  after(async () => {
    store?.close();
    await Promise.all([primary?.stop(), pruning?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("AXFR: the local export equals the primary's, byte for byte; the primary serial is kept", async () => {
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    assert.equal(outcome.kind === 'axfr' && outcome.reason, 'no local copy');
    const theirs = await exportOf(primary.db);
    assert.match(theirs, /_meta\.route\.meta\./);
    assert.match(theirs, /epoch 2\n/);
    assert.equal(await exportOf(localDb), theirs);
    assert.ok(outcome.kind === 'axfr' && outcome.routes === 5 && outcome.bytes > 0 && outcome.messages >= 1);
    assert.equal(store.zone(Z)!.serial, outcome.serial);
    assert.equal(store.journal(Z).at(-1)!.actor, `primary:${primary.dns.host}:${primary.dns.port}`);
    // The primary answers the SOA query with the serial we now have.
    assert.equal((await client().soa(Z)).serial, outcome.serial);
  });

  it('nothing newer: refresh is current and writes nothing', async () => {
    const serial = store.zone(Z)!.serial;
    const outcome = await client().refresh(Z);
    assert.deepEqual([outcome.kind, outcome.serial], ['current', serial]);
    assert.equal(store.zone(Z)!.serial, serial);
  });

  for (const [what, args] of [
    ['route set (new)', ['route', 'set', P('new/one'), '--target', 'arn:aws:sqs:us-east-1:123456789012:new=3@5']],
    [
      'route weight',
      ['route', 'weight', P('orders/created'), 'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1=50'],
    ],
    [
      'route set --ttl and metadata',
      ['route', 'set', P('meta/route'), '--ttl', '60', '--meta', 'owner-', '--meta', 'extra=1'],
    ],
    ['route alias', ['route', 'alias', P('new/alias'), P('new/one')]],
    ['route delete', ['route', 'delete', P('orders/audit')]],
    [
      'route set to fanout',
      [
        'route',
        'set',
        P('new/one'),
        '--policy',
        'fanout',
        '--target',
        'arn:aws:sqs:us-east-1:123456789012:new',
        '--target',
        'arn:aws:sns:us-east-1:123456789012:t',
      ],
    ],
  ] as const) {
    it(`${what} on the primary, then IXFR: exports equal again`, async () => {
      await cliOn(primary, ...args);
      const outcome = await client().refresh(Z);
      assert.equal(outcome.kind, 'ixfr', JSON.stringify(outcome));
      assert.equal(await exportOf(localDb), await exportOf(primary.db));
    });
  }

  it('several changes in one IXFR (one condensed sequence)', async () => {
    await cliOn(primary, 'route', 'set', P('batch/a'), '--target', 'arn:aws:sqs:us-east-1:123456789012:a');
    await cliOn(primary, 'route', 'set', P('batch/b'), '--target', 'arn:aws:sqs:us-east-1:123456789012:b');
    await cliOn(primary, 'route', 'delete', P('batch/a'));
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'ixfr');
    assert.equal(outcome.sequences, 1, 'psarnd condenses');
    assert.equal(await exportOf(localDb), await exportOf(primary.db));
  });

  it('a flush: the primary answers with the whole zone (AXFR-style IXFR); epoch and export follow', async () => {
    await cliOn(primary, 'flush', Z);
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    assert.match(outcome.kind === 'axfr' ? outcome.reason : '', /whole zone/);
    assert.equal(store.zone(Z)!.epoch, 3);
    assert.equal(await exportOf(localDb), await exportOf(primary.db));
  });

  it('a journal pruned on the primary (journal.keep 1): AXFR fallback, with the reason', async () => {
    const other = join(dir, 'pruned.db');
    const local = Store.open(other);
    try {
      const c = new TransferClient({
        store: local,
        primary: { address: pruning.dns, key: KEY },
        namespace: NS,
        params: PARAMS,
      });
      assert.equal((await c.refresh(Z)).kind, 'axfr');
      // Writes prune every 64th serial, an import always: export and import the zone as it is
      // (the journal keeps only the import's row), then change one route.
      const file = join(dir, 'pruned.zone');
      writeFileSync(file, await exportOf(pruning.db));
      await cliOn(pruning, 'zone', 'import', file);
      await cliOn(pruning, 'route', 'set', P('pruned/r'), '--target', 'arn:aws:sqs:us-east-1:123456789012:p');
      const outcome = await c.refresh(Z);
      assert.equal(outcome.kind, 'axfr');
      assert.equal(outcome.kind === 'axfr' && outcome.from !== undefined, true);
      assert.match(outcome.kind === 'axfr' ? outcome.reason : '', /whole zone/);
      assert.equal((await cliOn({ db: other }, 'zone', 'export', Z)).stdout, await exportOf(pruning.db));
    } finally {
      local.close();
    }
  });

  it('a wrong key, an unknown key or no key: TransferError, nothing changed, no secret in the message', async () => {
    await cliOn(primary, 'route', 'set', P('refused/x'), '--target', 'arn:aws:sqs:us-east-1:123456789012:x');
    const serial = store.zone(Z)!.serial;
    const wrong = makeTsigKey('transfer-key', 'hmac-sha256', randomBytes(32).toString('base64'));
    const unknown = makeTsigKey('nobody', 'hmac-sha256', SECRET);
    for (const [key, code] of [
      [wrong, 'ERR_XFR_TSIG'],
      [unknown, 'ERR_XFR_TSIG'],
      [null, 'ERR_XFR_RCODE'],
    ] as const) {
      // An unsigned SOA query is answered (SOA is public data); an unsigned transfer is not.
      const ops = [(c: TransferClient) => c.refresh(Z), ...(key ? [(c: TransferClient) => c.soa(Z)] : [])];
      for (const op of ops) {
        await assert.rejects(op(client(primary.dns, key)), (err: Error) => {
          assert.ok(err instanceof TransferError, String(err));
          assert.equal(err.code, code, err.message);
          assert.match(err.message, new RegExp(`${primary.dns.host}:${primary.dns.port}`));
          assert.match(err.message, /123456789012\.us-east-1/);
          assert.ok(
            !err.message.includes(SECRET) && (key === null || !err.message.includes(key.secret.toString('base64'))),
          );
          return true;
        });
      }
      assert.equal(store.zone(Z)!.serial, serial);
    }
  });

  it('a reply whose MAC is tampered with (one bit, by a relay): nothing changed', async () => {
    const serial = store.zone(Z)!.serial;
    const before = await exportOf(localDb);
    // A relay between us and the primary flips one bit of the MAC of every message it passes.
    const relay: Server = createServer((down) => {
      const up = connect(primary.dns.port, primary.dns.host);
      const decoder = new FrameDecoder();
      down.on('data', (chunk) => up.write(chunk));
      up.on('data', (chunk) => {
        for (const message of decoder.push(chunk)) {
          const copy = Buffer.from(message);
          const at = findTsig(copy);
          if (at >= 0) {
            const { record } = readTsig(copy, at);
            const macAt = copy.indexOf(record.mac, at);
            copy[macAt + 3]! ^= 0x01;
          }
          down.write(frame(copy));
        }
      });
      const end = () => {
        up.destroy();
        down.destroy();
      };
      down.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as { port: number }).port;
      await assert.rejects(client({ host: '127.0.0.1', port }).refresh(Z), (err: Error) => {
        assert.ok(err instanceof TransferError);
        assert.equal(err.code, 'ERR_XFR_TSIG', err.message);
        return true;
      });
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
    assert.equal(store.zone(Z)!.serial, serial);
    assert.equal(await exportOf(localDb), before);
    // The real primary, unrelayed, still brings it up to date.
    assert.equal((await client().refresh(Z)).kind, 'ixfr');
    assert.equal(await exportOf(localDb), await exportOf(primary.db));
  });

  it("catalogMembers lists the primary's zones; dropZone deletes one whole", async () => {
    assert.deepEqual(await client().catalogMembers(`catalog.${NS}`), [Z]);
    client().dropZone(Z);
    assert.equal(store.zone(Z), undefined);
    assert.equal([...store.listRoutes(Z)].length, 0);
  });
});
