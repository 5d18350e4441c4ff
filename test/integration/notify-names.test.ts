/**
 * A `notify` entry naming a host (docs/design.md#notify), real processes on 127.0.0.1: a psarnd
 * primary whose `notify` is `localhost:<port>` (resolved at each change; 127.0.0.1 here) and a
 * psarnd secondary listening there. The zone's SOA refresh and retry are an hour, so within 2 s
 * only a NOTIFY can make the secondary refresh: a route set on the primary is served by the
 * secondary within 2 s, the primary logs the NOTIFY answered by the resolved address, and the
 * secondary counts one more IXFR.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { cliOn, type HostPort, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';

const SECRET = randomBytes(32).toString('base64');
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const ROUTE = `created.orders.${Z}`;
const psarn = (path: string) => `arn:aws:psarn:us-east-1:123456789012:${path}`;
const nameOf = (path: string) => `${path.split('/').reverse().join('.')}.${Z}`;
const targetOf = (m: DecodedMessage | undefined) =>
  (m?.answer.filter((rr) => rr.type === 'URI') as { target: string }[] | undefined)?.map((rr) => rr.target).sort();
/** An hour: the secondary's SOA timers cannot fire during the test. */
const HOUR = 3600;

/** Asks until `done` holds (every 10 ms, at most `ms`); returns the last answer and when. */
async function until(
  at: HostPort,
  name: string,
  qtype: number,
  done: (m: DecodedMessage) => boolean,
  ms: number,
): Promise<{ reply: DecodedMessage | undefined; ms: number }> {
  const started = performance.now();
  let reply: DecodedMessage | undefined;
  while (performance.now() - started < ms) {
    try {
      reply = await query(at, name, qtype, { edns: false });
      if (done(reply)) break;
    } catch {
      // no answer yet: ask again
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { reply, ms: performance.now() - started };
}

function httpGet(at: HostPort, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: at.host, port: at.port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** The value of one sample of a metrics text, 0 when absent. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('notify by host name: a psarnd primary NOTIFYs the addresses localhost resolves to', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-notify-names-'));
  let primary: RunningDaemon | undefined;
  let secondary: RunningDaemon | undefined;
  let secondaryPort = 0;

  after(async () => {
    await primary?.stop();
    await secondary?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a route set on the primary within 2 s, by a NOTIFY to the resolved address (not the SOA timer)', async (t) => {
    const addresses = (await lookup('localhost', { all: true })).map((a) => a.address);
    assert.ok(addresses.includes('127.0.0.1'), `localhost resolves to ${addresses.join(', ')}: no 127.0.0.1`);
    secondaryPort = await freePort();
    const peer = `localhost:${secondaryPort}`;
    primary = await startPsarnd({
      db: join(dir, 'primary.db'),
      env: {
        PSARN_LOG_LEVEL: 'debug',
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_NOTIFY: `${peer} key transfer-key`,
        // Stored with each zone at its creation (the demo routes' zone, at this first start).
        PSARN_SOA_REFRESH: String(HOUR),
        PSARN_SOA_RETRY: String(HOUR),
      },
    });
    secondary = await startPsarnd({
      db: join(dir, 'secondary.db'),
      demoRoutes: '',
      args: ['--listen', `127.0.0.1:${secondaryPort}`],
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_SECONDARY_PRIMARY: `127.0.0.1:${primary.dns.port}`,
        PSARN_SECONDARY_KEY: 'transfer-key',
        PSARN_SECONDARY_ZONES: 'catalog',
      },
    });
    // The start's transfer (the secondary refreshes every zone at start).
    const first = await until(secondary.dns, ROUTE, Type.URI, (m) => m.rcode === Rcode.NOERROR, 10_000);
    assert.equal(first.reply?.rcode, Rcode.NOERROR, `the secondary does not serve ${ROUTE}: ${secondary.stderr()}`);
    const soa = (await query(secondary.dns, Z, Type.SOA, { edns: false })).answer[0] as {
      serial: number;
      refresh: number;
      retry: number;
    };
    assert.deepEqual([soa.refresh, soa.retry], [HOUR, HOUR], 'the SOA timers cannot fire within the test');
    const ixfr = `psarn_secondary_refresh_total{zone="${Z}",kind="ixfr",result="ok"}`;
    const ixfrBefore = sample((await httpGet(secondary.http, '/metrics')).body, ixfr);

    const target = 'arn:aws:sqs:us-east-1:123456789012:by-name';
    await cliOn(primary, 'route', 'set', psarn('changes/named'), '--target', target);
    const served = await until(
      secondary.dns,
      nameOf('changes/named'),
      Type.URI,
      (m) => targetOf(m)?.[0] === target,
      2000,
    );
    t.diagnostic(`route set -> served by the secondary notified by name: ${served.ms.toFixed(0)} ms`);
    assert.deepEqual(targetOf(served.reply), [target], `not served within 2 s: ${secondary.stderr()}`);

    // The secondary refreshed once more, by IXFR, to the primary's new serial: with an hour's
    // refresh and retry, a NOTIFY is what asked it to.
    const serial = ((await query(primary.dns, Z, Type.SOA, { edns: false })).answer[0] as { serial: number }).serial;
    assert.ok(serial > soa.serial);
    const metrics = (await httpGet(secondary.http, '/metrics')).body;
    assert.equal(sample(metrics, ixfr), ixfrBefore + 1, metrics);
    const refreshed = secondary.logs.findLast((l) => l.msg === 'zone refreshed' && l.zone === Z);
    assert.deepEqual([refreshed?.kind, refreshed?.from, refreshed?.to], ['ixfr', soa.serial, serial]);
    // The primary's NOTIFY of that serial, to the name's address, answered by the secondary
    // there (the answer's TSIG verified): the answer check is per resolved address.
    const answered = () =>
      primary!.logs.find(
        (l) =>
          l.msg === 'NOTIFY answered' &&
          l.zone === Z &&
          l.serial === serial &&
          l.peer === peer &&
          l.address === `127.0.0.1:${secondaryPort}`,
      );
    for (let i = 0; i < 100 && answered() === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(answered(), JSON.stringify(primary.logs.filter((l) => String(l.msg).includes('NOTIFY'))));
    const sent = (await httpGet(primary.http, '/metrics')).body;
    assert.ok(sample(sent, `psarn_notify_sent_total{peer="${peer}",result="acked"}`) >= 1, sent);
    assert.equal(sample(sent, `psarn_notify_sent_total{peer="${peer}",result="unresolved"}`), 0);
  });
});
