/**
 * A psarnd secondary as the primary of a further secondary (docs/design.md#secondary-mode): the
 * middle psarnd follows the primary's catalog and, with `transfer.allow` and `notify`, serves its
 * copy by AXFR/IXFR and NOTIFYs after each applied refresh; the last psarnd follows the middle
 * one's catalog. A `route set` on the primary reaches the end of the chain within 2 s, by IXFR at
 * each hop.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import { Rcode } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil } from '../helpers/dns.js';

const SECRET = randomBytes(32).toString('base64');
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const ROUTE = `created.orders.${Z}`;

describe('a psarnd secondary as the primary of another secondary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-secondary-chain-'));
  let primary: RunningDaemon | undefined;
  let middle: RunningDaemon | undefined;
  let last: RunningDaemon | undefined;
  after(async () => {
    await last?.stop();
    await middle?.stop();
    await primary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the zones on, and a change reaches the end of the chain within 2 s by IXFR', async (t) => {
    const [middlePort, lastPort] = [await freePort(), await freePort()];
    const keys = { PSARN_TSIG_KEYS: `transfer-key:${SECRET}` };
    primary = await startPsarnd({
      db: join(dir, 'primary.db'),
      env: { ...keys, PSARN_TRANSFER_ALLOW: 'transfer-key', PSARN_NOTIFY: `127.0.0.1:${middlePort} key transfer-key` },
    });
    middle = await startPsarnd({
      db: join(dir, 'middle.db'),
      demoRoutes: '',
      args: ['--listen', `127.0.0.1:${middlePort}`],
      env: {
        ...keys,
        PSARN_SECONDARY_PRIMARY: `127.0.0.1:${primary.dns.port}`,
        PSARN_SECONDARY_KEY: 'transfer-key',
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_NOTIFY: `127.0.0.1:${lastPort} key transfer-key`,
      },
    });
    last = await startPsarnd({
      db: join(dir, 'last.db'),
      demoRoutes: '',
      args: ['--listen', `127.0.0.1:${lastPort}`],
      env: { ...keys, PSARN_SECONDARY_PRIMARY: `127.0.0.1:${middlePort}`, PSARN_SECONDARY_KEY: 'transfer-key' },
    });
    const first = await askUntil(last.dns, ROUTE, (m) => m.rcode === Rcode.NOERROR, 15_000);
    assert.equal(first.reply?.rcode, Rcode.NOERROR, `${middle.stderr()}\n${last.stderr()}`);

    const target = 'arn:aws:sqs:us-east-1:123456789012:chain';
    await cliOn(primary, 'route', 'set', 'arn:aws:psarn:us-east-1:123456789012:chain/one', '--target', target);
    const served = await askUntil(last.dns, `one.chain.${Z}`, (m) => m.rcode === Rcode.NOERROR, 2000);
    t.diagnostic(`route set on the primary -> served two hops away: ${served.ms.toFixed(0)} ms`);
    assert.equal(served.reply?.rcode, Rcode.NOERROR);
    for (const hop of [middle, last]) {
      const line = hop.logs.findLast((l) => l.msg === 'zone refreshed' && l.zone === Z);
      assert.equal(line?.kind, 'ixfr', JSON.stringify(line));
    }
  });
});
