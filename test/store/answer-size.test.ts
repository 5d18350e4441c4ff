/**
 * A route whose answer cannot be sent in one DNS message is refused when written (issue 8,
 * defect 5.1: a route with 1,100 targets was accepted, then every query for it was SERVFAIL).
 * The store's size arithmetic is checked against the encoder itself: the answer function and
 * encodeReady, and the route index, on random routes; then a route exactly at the limit must be
 * answered whole over TCP even through the longest alias chain, and one byte more is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { Store, type StoreError, type TargetSpec } from '../../src/store/index.js';
import type { Policy, RouteData } from '../../src/store/types.js';
import { MAX_ALIAS_CHAIN, MAX_ROUTE_RECORDS, routeRecordsSize } from '../../src/store/validate.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { parseQuery } from '../../src/wire/query.js';
import { MAX_CNAME_CHAIN, Rcode, Type } from '../../src/wire/types.js';
import { answer } from '../../src/zone/answer.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { encodeAnswer } from '../../src/zone/encode.js';
import { RouteIndex } from '../../src/zone/route-index.js';
import type { RouteRecords } from '../../src/zone/route-wire.js';
import { PARAMS, ZONE as Z } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';
import { prng } from '../wire/build.js';

const ZONE_TEXT = `
$ORIGIN ${Z}
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 7 3600 600 86400 30
@ 3600 IN NS ns.psarn.internal.
`;
const TCP_MAX = 65535;
/** The route TXT with the epoch at its widest (16 digits): 12 + (1+8) + (1+15) + (1+22), policy weighted. */
const TXT_WEIGHTED = 60;
/** A URI RR in a route's answer: owner pointer 2, type/class/TTL/rdlength 10, priority and weight 4. */
const URI_FIXED = 16;

const SQS = 'arn:aws:sqs:us-east-1:123456789012:';

/** Distinct targets whose URI RRs and the weighted TXT take exactly `records` bytes (each target 200+ bytes). */
function targetsTaking(records: number): TargetSpec[] {
  const each = URI_FIXED + 200;
  const remain = records - TXT_WEIGHTED;
  const n = Math.floor(remain / each);
  const lengths = Array.from({ length: n }, () => 200);
  lengths[n - 1]! += remain - n * each;
  return lengths.map((len, i) => {
    const head = `${SQS}q${i}-`;
    return { target: head + 'x'.repeat(len - head.length), weight: 1, priority: 10 };
  });
}

function put(view: MemoryView, path: string, route: RouteData): void {
  view.routes.get(Z)!.set(path, { zone: Z, path, metadata: {}, serial: 1, updatedAt: 0, ...route });
}

function handlerFor(view: MemoryView, index?: RouteIndex): QueryHandler {
  return new QueryHandler({
    view,
    cache: new AnswerCache(),
    ...(index !== undefined ? { routes: { index } } : {}),
    metrics: new DaemonMetrics({ defaultMetrics: false }),
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
  });
}

/** Labels that make a name in Z of exactly 255 octets on the wire: 3 of 63, one of 19, then Z (43). */
function longPath(last: string): string {
  assert.equal(last.length, 19);
  const [c, b, a] = ['c', 'b', 'a'].map((ch) => ch.repeat(63));
  return `${c}/${b}/${a}/${last}`;
}
const nameOf = (path: string) => `${path.split('/').reverse().join('.')}.${Z}`;

describe('route answer size (issue 8, defect 5.1)', () => {
  it('routeRecordsSize is what the answer function, encodeReady and the route index write', () => {
    const rand = prng(0x51ee);
    const view = new MemoryView(ZONE_TEXT);
    const zone = view.zones.get(Z)!;
    for (let round = 0; round < 200; round++) {
      zone.epoch = [0, 7, 12345, Number.MAX_SAFE_INTEGER][round % 4]!;
      const policy: Policy = round % 2 === 0 ? 'weighted' : 'fanout';
      const targets = Array.from({ length: 1 + Math.floor(rand() * 20) }, (_, i) => ({
        // ASCII, 2- and 3-byte UTF-8: the size is in bytes, not characters.
        target: `https://h${i}.example/${'é€a'.repeat(Math.floor(rand() * 40))}`,
        weight: Math.floor(rand() * 65536),
        priority: Math.floor(rand() * 65536),
      }));
      const path = `r${round}/${'p'.repeat(1 + Math.floor(rand() * 60))}`;
      put(view, path, { ttl: 300, policy, targets });
      const index = new RouteIndex();
      index.setZone(Z, zone.epoch);
      assert.ok(index.set(Z, path, { ttl: 300, policy, targets }));
      const expected = routeRecordsSize(policy, targets, String(zone.epoch).length);
      for (const qtype of [Type.URI, Type.ANY]) {
        const request = encodeQuery({ id: 1, name: nameOf(path), qtype });
        const parsed = parseQuery(request);
        assert.equal(parsed.kind, 'query');
        if (parsed.kind !== 'query') return;
        const found = answer({ labels: parsed.query.labels, qtype }, view);
        const ready = encodeAnswer(Buffer.from(parsed.query.key, 'latin1'), found);
        assert.equal(ready.body.length, expected, `round ${round} qtype ${qtype}: answer function`);
        const body: RouteRecords = { end: 0, ancount: 0, arcount: 0, additionalAt: 0 };
        const ref = index.lookup(request, 12, parsed.query.questionEnd - 4);
        assert.ok(index.writeRecords(ref, qtype, Buffer.allocUnsafe(TCP_MAX), body));
        assert.equal(body.end, expected, `round ${round} qtype ${qtype}: route index`);
      }
    }
    // The default is the widest epoch: what a later flush can grow the TXT to.
    assert.equal(routeRecordsSize('weighted', [{ target: 'x', weight: 0, priority: 0 }]), TXT_WEIGHTED + URI_FIXED + 1);
  });

  it('keeps room for the alias chain the answer function follows', () => {
    assert.equal(MAX_ALIAS_CHAIN, MAX_CNAME_CHAIN);
  });

  it('a route at the limit is answered whole over TCP, directly and through 8 aliases of the longest names', () => {
    const targets = targetsTaking(MAX_ROUTE_RECORDS);
    assert.equal(routeRecordsSize('weighted', targets), MAX_ROUTE_RECORDS);
    const view = new MemoryView(ZONE_TEXT);
    view.zones.get(Z)!.epoch = Number.MAX_SAFE_INTEGER;
    const route = longPath('route-0123456789abc');
    put(view, route, { ttl: 300, policy: 'weighted', targets });
    // alias-0 -> alias-1 -> ... -> alias-7 -> the route: eight CNAMEs before the URI set.
    const aliases = Array.from({ length: MAX_ALIAS_CHAIN }, (_, i) => longPath(`alias-${i}-0123456789a`));
    aliases.forEach((path, i) => {
      put(view, path, { ttl: 300, targets: [], alias: nameOf(aliases[i + 1] ?? route) });
    });
    const index = new RouteIndex();
    index.setZone(Z, Number.MAX_SAFE_INTEGER);
    assert.ok(index.set(Z, route, { ttl: 300, policy: 'weighted', targets }));
    for (const [label, handler] of [
      ['store path', handlerFor(view)],
      ['route index', handlerFor(view, index)],
    ] as const) {
      // ANY at an alias is answered with the CNAME alone; URI follows the chain to the route.
      for (const [start, cnames, qtype] of [
        [route, 0, Type.URI],
        [route, 0, Type.ANY],
        [aliases[0]!, MAX_ALIAS_CHAIN, Type.URI],
      ] as const) {
        const request = encodeQuery({ id: 7, name: nameOf(start), qtype, edns: { udpSize: 1232 } });
        const reply = handler.handle(request, 'tcp');
        assert.ok(reply !== undefined);
        assert.ok(reply.length <= TCP_MAX, `${label}: ${reply.length} bytes`);
        const m = decodeMessage(reply);
        assert.equal(m.rcode, Rcode.NOERROR, label);
        assert.equal(m.tc, false, `${label}, ${cnames} aliases: not truncated`);
        const uris = [...m.answer, ...m.additional].filter((r) => r.type === 'URI').length;
        assert.equal(uris, targets.length, `${label}, ${cnames} aliases: the whole URI set`);
        assert.equal(m.answer.filter((r) => r.type === 'CNAME').length, cnames);
        assert.equal([...m.answer, ...m.additional].filter((r) => r.type === 'TXT').length, 1, 'and the TXT');
      }
    }
  });

  it('setRoute takes a route at the limit and refuses one byte more, saying how big and what fits', () => {
    const store = Store.open(':memory:');
    try {
      const atLimit = targetsTaking(MAX_ROUTE_RECORDS);
      store.setRoute(Z, 'big', { policy: 'weighted', ttl: 300, targets: atLimit }, PARAMS);
      assert.equal(store.getRoute(Z, 'big')?.targets.length, atLimit.length);
      const over = targetsTaking(MAX_ROUTE_RECORDS + 1);
      const serial = store.zone(Z)?.serial;
      assert.throws(
        () => store.setRoute(Z, 'big', { policy: 'weighted', ttl: 300, targets: over }, PARAMS),
        (err: StoreError) => {
          assert.equal(err.code, 'ERR_INVALID_ROUTE');
          assert.match(err.message, /^invalid route 'big' in zone 123456789012\.us-east-1\.aws\.psarn\.internal\.: /);
          assert.match(err.message, new RegExp(`\\(${over.length} targets, ${MAX_ROUTE_RECORDS + 1} bytes of URI`));
          assert.match(err.message, new RegExp(`at most ${MAX_ROUTE_RECORDS} bytes`));
          assert.match(err.message, /65535-byte DNS message/);
          return true;
        },
      );
      assert.equal(store.zone(Z)?.serial, serial, 'nothing written');
      // 30 targets of 1,000 ASCII bytes: over the limit at 3 bytes a character, far under it in bytes.
      const long = Array.from({ length: 30 }, (_, i) => ({
        target: `${SQS}${i}-${'q'.repeat(990)}`,
        weight: 1,
        priority: 1,
      }));
      store.setRoute(Z, 'long', { policy: 'weighted', ttl: 300, targets: long }, PARAMS);
      assert.equal(store.getRoute(Z, 'big')?.targets.length, atLimit.length);
    } finally {
      store.close();
    }
  });

  it("refuses the report's routes: route set with 1,100 targets, zone import with 5,000", () => {
    const lambdas = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        target: `arn:aws:lambda:us-east-1:123456789012:function:orders-created-${i}`,
        weight: 1,
        priority: 10,
      }));
    const store = Store.open(':memory:');
    try {
      assert.throws(
        () => store.setRoute(Z, 'orders/created', { policy: 'weighted', ttl: 300, targets: lambdas(1100) }, PARAMS),
        /invalid route 'orders\/created' .*: its answer would take 8\d{4} bytes \(1100 targets/,
      );
      assert.throws(
        () =>
          store.importZones(
            [
              {
                name: Z,
                routes: [
                  { path: 'orders/audit', spec: { policy: 'fanout' as const, ttl: 60, targets: lambdas(5000) } },
                ],
              },
            ],
            PARAMS,
          ),
        (err: StoreError) => err.code === 'ERR_INVALID_ROUTE' && /\(5000 targets/.test(err.message),
      );
      assert.equal(store.zone(Z), undefined, 'the import wrote nothing');
    } finally {
      store.close();
    }
  });
});
