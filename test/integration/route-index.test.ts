/**
 * The route index in the real psarnd (built in a worker thread at start, kept in step by the
 * change poll): URI, TXT and ANY questions of target routes are answered from it, a change is
 * served from it within 1 s, and a daemon with `routeIndex: false` answers the same bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Store } from '../../src/store/index.js';
import { type DecodedMessage, decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { type RunningDaemon, startAll, startPsarnd } from '../helpers/daemon.js';
import { query, tcpRaw, udpRaw } from '../helpers/dns.js';
import { PARAMS, ZONE as Z } from '../helpers/fixtures.js';

const CREATED = `created.orders.${Z}`;
const SHIPPED = `shipped.orders.${Z}`;
const SHIPPED_V1 = ['arn:aws:sqs:us-east-1:123456789012:shipped', 'https://hooks.example.com/shipped/ü'];
const SHIPPED_V2 = ['arn:aws:sns:us-east-1:123456789012:shipped-2'];

/** A metric's value (summed over its series), 0 when absent. */
async function metric(d: RunningDaemon, name: string): Promise<number> {
  const text = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/** Polls `check` (bounded) until it returns true. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    assert.ok(performance.now() < deadline, `${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** Writes orders/shipped to a daemon's database from this process, as the CLI would from its own. */
function setShipped(d: RunningDaemon, targets: string[]): void {
  const store = Store.open(d.db, { create: false });
  try {
    const spec = {
      policy: 'fanout' as const,
      ttl: 45,
      targets: targets.map((target) => ({ target, weight: 1, priority: 10 })),
    };
    store.setRoute(Z, 'orders/shipped', spec, PARAMS);
  } finally {
    store.close();
  }
}

const targets = (m: DecodedMessage) => m.answer.flatMap((r) => (r.type === 'URI' && 'target' in r ? [r.target] : []));

describe('psarnd route index', () => {
  let d: RunningDaemon;
  let off: RunningDaemon;
  before(async () => {
    // startAll: when one start fails, the other daemon is stopped too (a bare Promise.all left it running).
    [d, off] = await startAll([startPsarnd(), startPsarnd({ env: { PSARN_ROUTE_INDEX: 'false' } })]);
  });
  after(async () => {
    await Promise.all([d?.stop(), off?.stop()]);
  });

  it('is built at start: the three demo target routes (the alias is not indexed)', async () => {
    await until('psarn_route_index_routes > 0', 10_000, async () => (await metric(d, 'psarn_route_index_routes')) > 0);
    assert.equal(await metric(d, 'psarn_route_index_routes'), 3);
    assert.ok((await metric(d, 'psarn_route_index_bytes')) > 0);
    assert.equal(await metric(d, 'psarn_route_index_builds_total'), 1);
  });

  it('answers URI, TXT and ANY of target routes from the index, and nothing else', async () => {
    const hits = await metric(d, 'psarn_route_index_hits_total');
    const uri = await query(d.dns, CREATED, Type.URI);
    assert.equal(uri.rcode, Rcode.NOERROR);
    assert.equal(uri.answer.length, 2);
    await query(d.dns, CREATED.toUpperCase(), Type.TXT, { tcp: true });
    await query(d.dns, `audit.orders.${Z}`, Type.ANY);
    assert.equal(await metric(d, 'psarn_route_index_hits_total'), hits + 3);
    // An alias, another type, a missing name: the answer function's.
    const alias = await query(d.dns, `latest.orders.${Z}`, Type.URI);
    assert.equal(alias.answer[0]?.type, 'CNAME');
    await query(d.dns, CREATED, Type.A);
    await query(d.dns, `missing.orders.${Z}`, Type.URI);
    assert.equal(await metric(d, 'psarn_route_index_hits_total'), hits + 3);
  });

  /** Queries `name` until its URI targets are `want` (at most 1 s after the write); how long it took. */
  async function servedWithin1s(name: string, want: string[]): Promise<number> {
    const written = performance.now();
    for (;;) {
      const m = await query(d.dns, name, Type.URI);
      if (m.rcode === Rcode.NOERROR && JSON.stringify(targets(m)) === JSON.stringify(want)) break;
      assert.ok(performance.now() - written < 1000, `${name} did not answer ${want.join(', ')} within 1 s`);
      await sleep(10);
    }
    return performance.now() - written;
  }

  it('serves a route written to the store within 1 s, then from the index', async () => {
    setShipped(d, SHIPPED_V1);
    // The first answer may come from the answer function: a miss picks up the change first.
    await servedWithin1s(SHIPPED, SHIPPED_V1);
    const hits = await metric(d, 'psarn_route_index_hits_total');
    assert.deepEqual(targets(await query(d.dns, SHIPPED, Type.URI)), SHIPPED_V1);
    assert.equal(await metric(d, 'psarn_route_index_hits_total'), hits + 1, 'answered from the index');
    assert.equal(await metric(d, 'psarn_route_index_routes'), 4);
  });

  it('serves a replaced route from the index within 1 s', async () => {
    const hits = await metric(d, 'psarn_route_index_hits_total');
    setShipped(d, SHIPPED_V2);
    await servedWithin1s(SHIPPED, SHIPPED_V2);
    // Indexed all along: every one of those answers came from the index, old ones and the new.
    assert.ok((await metric(d, 'psarn_route_index_hits_total')) > hits);
    assert.equal(await metric(d, 'psarn_route_index_routes'), 4);
    assert.equal(await metric(d, 'psarn_route_index_builds_total'), 1, 'applied in place');
  });

  it('with routeIndex false: no index, and byte-identical replies', async () => {
    setShipped(off, SHIPPED_V1);
    setShipped(off, SHIPPED_V2);
    await until('the route on the daemon without index', 1000, async () => {
      return JSON.stringify(targets(await query(off.dns, SHIPPED, Type.URI))) === JSON.stringify(SHIPPED_V2);
    });
    const questions: [string, number][] = [];
    for (const name of [CREATED, `audit.orders.${Z}`, `charge.payments.${Z}`, SHIPPED, `CrEaTeD.oRdErS.${Z}`])
      for (const qtype of [Type.URI, Type.TXT, Type.ANY]) questions.push([name, qtype]);
    questions.push([`latest.orders.${Z}`, Type.URI], [`missing.orders.${Z}`, Type.URI], [CREATED, Type.A]);
    questions.push([`_epoch.${Z}`, Type.TXT], [Z, Type.SOA], [`orders.${Z}`, Type.URI]);
    let id = 100;
    for (const [name, qtype] of questions) {
      for (const edns of [false, { udpSize: 512 }, { udpSize: 1232, do: true }] as const) {
        const request = encodeQuery({ id: id++, name, qtype, edns });
        const [a, b] = await Promise.all([udpRaw(d.dns, request), udpRaw(off.dns, request)]);
        assert.ok(a && b, `${name} ${qtype}: no UDP reply`);
        assert.deepEqual(a, b, `${name} type ${qtype} edns ${JSON.stringify(edns)} over UDP`);
      }
      const request = encodeQuery({ id: id++, name, qtype });
      const [[a], [b]] = await Promise.all([tcpRaw(d.dns, [request]), tcpRaw(off.dns, [request])]);
      assert.ok(a && b, `${name} ${qtype}: no TCP reply`);
      assert.deepEqual(a, b, `${name} type ${qtype} over TCP`);
      assert.equal(decodeMessage(a).id, id - 1);
    }
    assert.equal(await metric(off, 'psarn_route_index_hits_total'), 0);
    assert.equal(await metric(off, 'psarn_route_index_routes'), 0);
    assert.equal(await metric(off, 'psarn_route_index_builds_total'), 0);
    assert.ok((await metric(d, 'psarn_route_index_hits_total')) > 0);
  });
});
