/**
 * DNS UPDATE in an in-process psarnd on a file. While another process holds the database's
 * write lock (a `psarn zone import`):
 * the write runs on the event loop, so it waits only UPDATE_BUSY_TIMEOUT_MS on a connection of
 * its own, then answers SERVFAIL with an EDE, instead of stalling every query for the store's
 * 5 s (docs/design.md#dns-update). Once the lock is gone the same change applies, and the
 * daemon serves it. And `update.allow` follows a reload.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { type Config, defaultConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon, UPDATE_BUSY_TIMEOUT_MS } from '../../src/server/daemon.js';
import { Store } from '../../src/store/store.js';
import { decodeMessage } from '../../src/wire/message.js';
import { makeTsigKey, signMessage } from '../../src/wire/tsig.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { addRecord, encodeUpdate } from '../../src/wire/update.js';
import { projectRoot } from '../helpers/daemon.js';
import { query, udpRaw } from '../helpers/dns.js';
import { tempDir } from '../store/helpers.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const key = makeTsigKey('update-key', 'hmac-sha256', randomBytes(32).toString('base64'));
const tmp = tempDir();
const file = tmp.file();

const config: Config = {
  ...defaultConfig(projectRoot),
  db: file,
  listen: { host: '127.0.0.1', port: 0 },
  http: { host: '127.0.0.1', port: 0 },
  demoRoutes: null,
  udpIo: 'dgram',
  tsig: { keys: [key] },
  update: { allow: ['update-key'] },
};

describe('DNS UPDATE in an in-process psarnd on a file', () => {
  let daemon: Daemon | undefined;
  before(async () => {
    Store.open(file).close();
    daemon = await startDaemon(config, { log: pino({ level: 'silent' }), http: false });
  });
  after(async () => {
    await daemon?.close();
    tmp.cleanup();
  });

  const update = (id: number) =>
    signMessage(
      encodeUpdate({
        id,
        zone: Z,
        updates: [
          addRecord({
            name: `a.${Z}`,
            ttl: 60,
            type: 'URI',
            priority: 1,
            weight: 1,
            target: 'arn:aws:sqs:us-east-1:123456789012:q',
          }),
        ],
      }),
      key,
    );

  it(`answers SERVFAIL after ${UPDATE_BUSY_TIMEOUT_MS} ms, not after the store's 5 s; applies once the lock is gone`, async () => {
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    let reply: Buffer | undefined;
    const started = performance.now();
    try {
      reply = await udpRaw(daemon!.dns, update(1), 4000);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const ms = performance.now() - started;
    assert.ok(reply, 'answered');
    const m = decodeMessage(reply);
    assert.equal(m.rcode, Rcode.SERVFAIL);
    assert.match(
      m.edns?.options
        .find((o) => o.code === 15)
        ?.data.subarray(2)
        .toString() ?? '',
      /locked/,
    );
    assert.ok(ms < 1500, `answered after ${Math.round(ms)} ms`);
    const applied = decodeMessage((await udpRaw(daemon!.dns, update(2)))!);
    assert.equal(applied.rcode, Rcode.NOERROR);
    assert.equal((await query(daemon!.dns, `a.${Z}`, Type.URI)).answer.length, 1);
  });

  it('update.allow follows a reload (SIGHUP): a key taken off is refused at once, put back allowed', async () => {
    daemon!.reload({ ...config, update: { allow: [] } });
    const refused = decodeMessage((await udpRaw(daemon!.dns, update(3)))!);
    assert.equal(refused.rcode, Rcode.REFUSED);
    daemon!.reload(config);
    assert.equal(decodeMessage((await udpRaw(daemon!.dns, update(4)))!).rcode, Rcode.NOERROR);
  });
});
