import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { encodeNotify } from '../../src/server/notify.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Opcode, Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { pathKey } from '../../src/zone/deps.js';
import { PARAMS, zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const ZONE = `
${zoneHead(Z)}
created.orders 300 IN URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:v1"
created.orders 300 IN URI 10 10 "arn:aws:lambda:us-east-1:123456789012:function:v2"
latest.orders 60 IN CNAME created.orders
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

  // RFC 6891 §7: a reply to a request with an OPT carries one, whatever its rcode.
  it('NOTIMP (opcode != 0) keeps the question and the OPT, AA clear', () => {
    const { handler } = setup();
    for (const edns of [{ udpSize: 4096, do: true }, false] as const) {
      const request = encodeQuery({ id: 11, name: `created.orders.${Z}`, qtype: Type.URI, edns });
      request[2] = (request[2]! & 0x87) | (Opcode.STATUS << 3);
      const m = decodeMessage(handler.handle(request, 'udp')!);
      assert.deepEqual([m.id, m.opcode, m.rcode, m.aa, m.answer.length], [11, Opcode.STATUS, Rcode.NOTIMP, false, 0]);
      assert.deepEqual(m.question, [{ name: `created.orders.${Z}`, qtype: Type.URI, qclass: 1 }]);
      assert.deepEqual(m.edns, edns ? { udpSize: 1232, version: 0, do: true, options: [] } : undefined);
    }
  });

  // docs/design.md#notify: a primary accepts NOTIFY from nobody; Knot answers NOTAUTH then.
  it('a NOTIFY to this primary is NOTAUTH with its question, AA clear, and counted', async () => {
    const { handler, metrics } = setup();
    for (const name of [Z, 'example.com.']) {
      const request = encodeNotify(77, { ...PARAMS, name, serial: 5 });
      const m = decodeMessage(handler.handle(request, 'udp')!);
      assert.deepEqual(
        [m.id, m.qr, m.opcode, m.rcode, m.aa, m.answer.length],
        [77, true, Opcode.NOTIFY, Rcode.NOTAUTH, false, 0],
      );
      assert.deepEqual(m.question, [{ name, qtype: Type.SOA, qclass: 1 }]);
    }
    const notauth = (await metrics.responses.get()).values.filter((v) => v.labels.rcode === 'NOTAUTH');
    assert.equal(notauth[0]?.value, 2);
  });

  it('FORMERR for QDCOUNT 0 carries the OPT of the query, and is counted', async () => {
    const { handler, metrics } = setup();
    const query = encodeQuery({ id: 12, name: `created.orders.${Z}`, qtype: Type.URI });
    // The same message without its question: header (QDCOUNT 0, ARCOUNT 1) and the OPT.
    const noQuestion = Buffer.concat([query.subarray(0, 12), query.subarray(query.length - 11)]);
    noQuestion.writeUInt16BE(0, 4);
    const m = decodeMessage(handler.handle(noQuestion, 'tcp')!);
    assert.deepEqual([m.id, m.rcode, m.question.length], [12, Rcode.FORMERR, 0]);
    assert.equal(m.edns?.udpSize, 1232);
    assert.equal(await value(metrics, 'psarn_dns_malformed_total'), 1);
  });

  it('QTYPE 0 is NOTIMP with the question and OPT, as Knot answers', () => {
    const { handler } = setup();
    for (const name of [`created.orders.${Z}`, `latest.orders.${Z}`, 'www.example.com.']) {
      const m = decodeMessage(handler.handle(encodeQuery({ id: 13, name, qtype: 0 }), 'udp')!);
      assert.deepEqual([m.rcode, m.aa, m.answer.length, m.authority.length], [Rcode.NOTIMP, false, 0, 0], name);
      assert.equal(m.question[0]?.qtype, 0);
      assert.ok(m.edns);
    }
  });

  it('RRSIG and NSEC at an alias: NODATA at the alias, the CNAME not followed (RFC 4035 §2.5)', () => {
    const { handler } = setup();
    for (const qtype of [Type.RRSIG, Type.NSEC]) {
      const m = decodeMessage(handler.handle(encodeQuery({ id: 14, name: `latest.orders.${Z}`, qtype }), 'udp')!);
      assert.deepEqual([m.rcode, m.aa, m.answer.length], [Rcode.NOERROR, true, 0]);
      assert.deepEqual(
        m.authority.map((r) => [r.name, r.type]),
        [[Z, 'SOA']],
      );
    }
  });

  it('a URI set that fits only without the additional TXT is sent without it, TC clear (RFC 2181 §9)', async () => {
    // Five targets of 68 bytes: 420 bytes of URI records; with the 45-byte TXT over 512.
    const fit = Array.from(
      { length: 5 },
      (_, i) => `fit.fleet 300 IN URI 10 1 "arn:aws:lambda:us-east-1:123456789012:function:fit-member-with-pad-${i}"`,
    );
    const { handler, metrics } = setup(new MemoryView(`${ZONE}\n${fit.join('\n')}`));
    const request = encodeQuery({ id: 15, name: `fit.fleet.${Z}`, qtype: Type.URI, edns: false });
    const whole = decodeMessage(handler.handle(request, 'tcp')!);
    assert.ok(whole.size > 512 && whole.additional.length === 1, `whole reply ${whole.size} bytes`);
    const udp = decodeMessage(handler.handle(request, 'udp')!);
    assert.equal(udp.tc, false);
    assert.deepEqual(udp.answer, whole.answer);
    assert.deepEqual(udp.additional, []);
    assert.equal(await value(metrics, 'psarn_dns_truncated_total'), 0);
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

  it('times each request with the injected clock', async () => {
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const ticks = [1000, 1000.25, 2000, 2000.5];
    const handler = new QueryHandler({
      view: new MemoryView(ZONE),
      cache: new AnswerCache(),
      metrics,
      log: pino({ level: 'silent' }),
      udpPayloadSize: 1232,
      now: () => ticks.shift()!,
    });
    handler.handle(encodeQuery({ id: 1, name: `created.orders.${Z}`, qtype: Type.URI }), 'udp');
    handler.handle(encodeQuery({ id: 2, name: `created.orders.${Z}`, qtype: Type.TXT }), 'udp');
    const metric = metrics.registry.getSingleMetric('psarn_dns_request_duration_seconds')!;
    const sum = (await metric.get()).values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'));
    assert.equal(sum?.value, 0.00075);
  });

  it('drops short packets and counts them', async () => {
    const { handler, metrics } = setup();
    assert.equal(handler.handle(Buffer.alloc(5), 'udp'), undefined);
    assert.equal(await value(metrics, 'psarn_dns_malformed_total'), 1);
  });
});
