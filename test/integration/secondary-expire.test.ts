/**
 * A psarnd secondary past its SOA expire (RFC 1035 §3.3.13, docs/design.md#secondary-mode), real
 * processes: the primary's zone has SOA refresh 1 s, retry 1 s, expire 3 s; with the primary
 * killed, the secondary answers SERVFAIL with EDE 22 No Reachable Authority once 3 s pass without
 * a successful SOA check, /ready names the zone, the metric says so; the primary back (its NOTIFY
 * at start), the zone is served again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Ede } from '../../src/wire/response.js';
import { Rcode } from '../../src/wire/types.js';
import { type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil } from '../helpers/dns.js';
import { httpGet } from '../helpers/http.js';

const SECRET = randomBytes(32).toString('base64');
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const ROUTE = `created.orders.${Z}`;

const edeOf = (m: DecodedMessage | undefined) => m?.edns?.options.find((o) => o.code === 15)?.data.readUInt16BE(0);

const EXPIRE_ASK = { edns: { udpSize: 1232 }, everyMs: 20 };

describe('a psarnd secondary past its SOA expire', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-secondary-expire-'));
  let primary: RunningDaemon | undefined;
  let secondary: RunningDaemon | undefined;
  after(async () => {
    await primary?.stop();
    await secondary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers SERVFAIL with EDE 22 once the primary has been unreachable for the expire, and serves again when it is back', async (t) => {
    const secondaryPort = await freePort();
    const primaryEnv = {
      PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
      PSARN_TRANSFER_ALLOW: 'transfer-key',
      PSARN_NOTIFY: `127.0.0.1:${secondaryPort} key transfer-key`,
      // The demo zone is created with these SOA timers.
      PSARN_SOA_REFRESH: '1',
      PSARN_SOA_RETRY: '1',
      PSARN_SOA_EXPIRE: '3',
    };
    const primaryDb = join(dir, 'primary.db');
    primary = await startPsarnd({ db: primaryDb, env: primaryEnv });
    const primaryPort = primary.dns.port;
    secondary = await startPsarnd({
      db: join(dir, 'secondary.db'),
      demoRoutes: '',
      args: ['--listen', `127.0.0.1:${secondaryPort}`],
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_SECONDARY_PRIMARY: `127.0.0.1:${primaryPort}`,
        PSARN_SECONDARY_KEY: 'transfer-key',
        PSARN_SECONDARY_ZONES: Z,
      },
    });
    const served = await askUntil(secondary.dns, ROUTE, (m) => m.rcode === Rcode.NOERROR, 10_000, EXPIRE_ASK);
    assert.equal(served.reply?.rcode, Rcode.NOERROR, secondary.stderr());
    // Up: the SOA checks every second keep it fresh past the 3 s expire.
    const fresh = await askUntil(secondary.dns, ROUTE, (m) => m.rcode !== Rcode.NOERROR, 4000, EXPIRE_ASK);
    assert.equal(fresh.reply?.rcode, Rcode.NOERROR, 'expired while the primary answers');

    await primary.stop('SIGKILL');
    const down = performance.now();
    const expired = await askUntil(secondary.dns, ROUTE, (m) => m.rcode === Rcode.SERVFAIL, 10_000, EXPIRE_ASK);
    t.diagnostic(`primary killed -> SERVFAIL after ${(performance.now() - down).toFixed(0)} ms (expire 3 s)`);
    assert.equal(expired.reply?.rcode, Rcode.SERVFAIL);
    assert.equal(edeOf(expired.reply), Ede.NO_REACHABLE_AUTHORITY);
    const ready = await httpGet(secondary.http, '/ready');
    assert.equal(ready.status, 503);
    assert.deepEqual(JSON.parse(ready.body).expired, [Z]);
    assert.match(
      (await httpGet(secondary.http, '/metrics')).body,
      new RegExp(`psarn_secondary_expired\\{zone="${Z}"\\} 1\\n`),
    );

    primary = await startPsarnd({ db: primaryDb, env: primaryEnv, args: ['--listen', `127.0.0.1:${primaryPort}`] });
    const back = await askUntil(secondary.dns, ROUTE, (m) => m.rcode === Rcode.NOERROR, 5000, EXPIRE_ASK);
    t.diagnostic(`primary back -> served after ${back.ms.toFixed(0)} ms`);
    assert.equal(back.reply?.rcode, Rcode.NOERROR);
    assert.equal((await httpGet(secondary.http, '/ready')).status, 200);
  });
});
