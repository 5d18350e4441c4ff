import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { pathKey } from '../../src/zone/deps.js';
import { MemoryView } from '../helpers/memory-view.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const ZONE = `
$ORIGIN ${Z}
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 1 3600 600 86400 30
@ 3600 IN NS ns.psarn.internal.
created.orders 300 IN URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:v1"
created.orders 300 IN URI 10 10 "arn:aws:lambda:us-east-1:123456789012:function:v2"
`;

function setup(view = new MemoryView(ZONE)) {
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const handler = new QueryHandler({
    view,
    cache: new AnswerCache(),
    metrics,
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
  });
  return { handler, metrics, view };
}

async function value(metrics: DaemonMetrics, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, name);
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe('QueryHandler', () => {
  it('serves the second query from the ready answer, with its own id and case', async () => {
    const { handler, metrics } = setup();
    const first = handler.handle(encodeQuery({ id: 1, name: `created.orders.${Z}`, qtype: Type.URI }), 'udp')!;
    const second = handler.handle(encodeQuery({ id: 2, name: `CREATED.orders.${Z}`, qtype: Type.URI }), 'udp')!;
    assert.equal(await value(metrics, 'psarn_answer_cache_hits_total'), 1);
    assert.equal(await value(metrics, 'psarn_answer_cache_misses_total'), 1);
    const a = decodeMessage(first);
    const b = decodeMessage(second);
    assert.equal(b.id, 2);
    assert.equal(b.question[0]!.name, `CREATED.orders.${Z}`);
    assert.deepEqual(b.answer, a.answer);
    // Same length: only the id and the question's case differ.
    assert.equal(first.length, second.length);
  });

  it('an exception while answering is SERVFAIL and a counted internal error', async () => {
    const view = new MemoryView(ZONE);
    view.getRoute = () => {
      throw new Error('boom');
    };
    const { handler, metrics } = setup(view);
    const reply = handler.handle(encodeQuery({ id: 9, name: `created.orders.${Z}`, qtype: Type.URI }), 'tcp');
    assert.ok(reply);
    const m = decodeMessage(reply);
    assert.equal(m.rcode, Rcode.SERVFAIL);
    assert.equal(m.id, 9);
    assert.equal(await value(metrics, 'psarn_dns_internal_errors_total'), 1);
  });

  it('truncates over the requester size on UDP but not on TCP', async () => {
    // 12 targets of ~70 bytes: about 1 KB of answer, over 512 and under 1232.
    const big = Array.from(
      { length: 12 },
      (_, i) => `big.fleet 300 IN URI 10 1 "arn:aws:lambda:us-east-1:123456789012:function:fleet-member-${i}"`,
    );
    const { handler, metrics } = setup(new MemoryView(`${ZONE}\n${big.join('\n')}`));
    const name = `big.fleet.${Z}`;
    const plain = encodeQuery({ id: 3, name, qtype: Type.URI, edns: false });
    const tcp = decodeMessage(handler.handle(plain, 'tcp')!);
    assert.equal(tcp.tc, false);
    assert.equal(tcp.answer.length, 12);
    // Without EDNS the UDP limit is 512 (RFC 1035 §4.2.1): header and question only, TC set.
    const udp = decodeMessage(handler.handle(plain, 'udp')!);
    assert.equal(udp.tc, true);
    assert.equal(udp.answer.length, 0);
    assert.equal(udp.question[0]?.name, name);
    // With EDNS 1232 it fits.
    const edns = decodeMessage(handler.handle(encodeQuery({ id: 4, name, qtype: Type.URI }), 'udp')!);
    assert.equal(edns.tc, false);
    assert.equal(edns.answer.length, 12);
    assert.equal(await value(metrics, 'psarn_dns_truncated_total'), 1);
  });

  it('an answer too big to encode is SERVFAIL, read, encoded and logged once until its data changes', async () => {
    // Issue 8, defect 5.1: a database written before writes were size-checked holds a route of
    // 5,000 targets. Each query re-read and re-encoded it (~12 ms) and logged a stack trace.
    const view = new MemoryView(ZONE);
    const zone = view.zones.get(Z)!;
    const route = view.routes.get(Z)!.get('orders/created')!;
    const small = route.targets;
    route.targets = Array.from({ length: 5000 }, (_, i) => ({
      target: `arn:aws:lambda:us-east-1:123456789012:function:orders-created-${i}`,
      weight: 1,
      priority: 10,
    }));
    let reads = 0;
    const getRoute = view.getRoute.bind(view);
    view.getRoute = (z, path) => {
      reads++;
      return getRoute(z, path);
    };
    const lines: string[] = [];
    const cache = new AnswerCache();
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const handler = new QueryHandler({
      view,
      cache,
      metrics,
      log: pino({ level: 'error' }, { write: (line: string) => lines.push(line) }),
      udpPayloadSize: 1232,
    });
    const ask = (id: number, proto: 'udp' | 'tcp') =>
      decodeMessage(handler.handle(encodeQuery({ id, name: `created.orders.${Z}`, qtype: Type.URI }), proto)!);
    for (let id = 1; id <= 5; id++) {
      const m = ask(id, id % 2 === 0 ? 'udp' : 'tcp');
      assert.equal(m.rcode, Rcode.SERVFAIL);
      assert.equal(m.id, id);
      assert.equal(m.question[0]?.name, `created.orders.${Z}`);
    }
    assert.equal(reads, 1, 'the route was read once');
    assert.equal(lines.length, 1, 'and logged once');
    assert.match(JSON.parse(lines[0]!).msg, /cannot encode the answer; answering SERVFAIL until/);
    assert.equal(JSON.parse(lines[0]!).qname, `created.orders.${Z}`);
    assert.equal(await value(metrics, 'psarn_dns_internal_errors_total'), 1);
    assert.equal(await value(metrics, 'psarn_answer_cache_hits_total'), 4);
    // The route is rewritten: the change invalidates the cached SERVFAIL like any answer.
    route.targets = small;
    cache.invalidate([pathKey(zone.name, 'orders/created')]);
    const fixed = ask(6, 'udp');
    assert.equal(fixed.rcode, Rcode.NOERROR);
    assert.equal(fixed.answer.length, 2);
    assert.equal(reads, 2);
    assert.equal(lines.length, 1);
  });

  it('drops short packets and counts them', async () => {
    const { handler, metrics } = setup();
    assert.equal(handler.handle(Buffer.alloc(5), 'udp'), undefined);
    assert.equal(await value(metrics, 'psarn_dns_malformed_total'), 1);
  });
});
