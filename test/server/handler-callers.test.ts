/**
 * The caller option through the handler (docs/design.md#the-caller-map): what is recorded, with
 * which serial (the route index's and the answer function's paths), what is not, and that the
 * reply to a query with the option is the reply without it, byte for byte.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { CallerMap } from '../../src/map/caller-map.js';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { Store } from '../../src/store/index.js';
import { CALLER_OPTION, callerOption } from '../../src/wire/caller.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { RouteIndexer } from '../../src/zone/route-indexer.js';
import { StoreZoneView } from '../../src/zone/store-view.js';
import { PARAMS, weighted, ZONE as Z } from '../store/helpers.js';

const CREATED = `created.orders.${Z}`;
const LATEST = `latest.orders.${Z}`;

function option(code: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(code, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}

describe('QueryHandler and the caller option', () => {
  let store: Store;
  let view: StoreZoneView;
  let indexer: RouteIndexer;
  let map: CallerMap;
  let metrics: DaemonMetrics;
  let indexed: QueryHandler;
  let unindexed: QueryHandler;
  let cache: AnswerCache;
  const zoneSerial = () => view.zones().find((z) => z.name === Z)!.serial;
  /** What the daemon's poll does. */
  const poll = () => {
    const changes = view.refresh(true);
    if (changes === undefined) return;
    cache.invalidate(changes.keys);
    indexer.apply(changes);
  };
  const make = (withIndex: boolean, cookies = false) =>
    new QueryHandler({
      view,
      cache: withIndex ? new AnswerCache() : cache,
      ...(withIndex ? { routes: indexer } : {}),
      metrics,
      log: pino({ level: 'silent' }),
      udpPayloadSize: 1232,
      callers: map,
      nsid: Buffer.from('ns1'),
      ...(cookies ? { cookieSecret: Buffer.alloc(16, 7) } : {}),
    });
  const ask = (handler: QueryHandler, name: string, qtype: number, options: Buffer[] = []) =>
    handler.handle(encodeQuery({ id: 7, name, qtype, edns: { udpSize: 1232, options } }), 'udp')!;
  const recorded = () => [...map.entries()].map((e) => [e.caller, e.name, e.serial]);

  beforeEach(() => {
    store = Store.open(':memory:');
    store.setRoute(Z, 'orders/created', weighted('v1', 'v2'), PARAMS);
    store.setRoute(Z, 'orders/latest', { ttl: 60, alias: CREATED }, PARAMS);
    view = new StoreZoneView(store, { epochTtl: 5 });
    view.refresh(true);
    indexer = new RouteIndexer({ store, zones: () => view.zones(), inline: true });
    indexer.rebuild();
    assert.ok(indexer.index !== undefined);
    map = new CallerMap({ maxCallers: 100, maxEntries: 1000, touchEveryMs: 5000 });
    metrics = new DaemonMetrics({ defaultMetrics: false });
    cache = new AnswerCache();
    indexed = make(true);
    unindexed = make(false);
  });
  afterEach(async () => {
    await indexer.close();
    store.close();
  });

  it('records a route answered from the index with the serial the index holds, lowercase, trailing dot', () => {
    const hits = metrics.indexHits.series().value;
    ask(indexed, CREATED.toUpperCase(), Type.URI, [callerOption('svc-a')]);
    assert.equal(metrics.indexHits.series().value, hits + 1, 'from the index');
    assert.deepEqual(recorded(), [['svc-a', CREATED, zoneSerial()]]);
  });

  it('records an alias, `_epoch` and a route from the answer function with the view zone serial', () => {
    ask(unindexed, CREATED, Type.TXT, [callerOption('svc-b')]);
    ask(indexed, LATEST, Type.URI, [callerOption('svc-b')]);
    ask(indexed, `_epoch.${Z}`, Type.TXT, [callerOption('svc-b')]);
    const serial = zoneSerial();
    assert.deepEqual(recorded().sort(), [
      ['svc-b', `_epoch.${Z}`, serial],
      ['svc-b', CREATED, serial],
      ['svc-b', LATEST, serial],
    ]);
  });

  it('records the new serial after a route change and after a flush, on both paths', () => {
    const before = zoneSerial();
    ask(unindexed, CREATED, Type.URI);
    store.setRoute(Z, 'orders/created', weighted('v3'), PARAMS);
    poll();
    const changed = zoneSerial();
    assert.ok(changed > before);
    ask(indexed, CREATED, Type.URI, [callerOption('idx')]);
    ask(unindexed, CREATED, Type.URI, [callerOption('fn')]);
    assert.deepEqual(recorded().sort(), [
      ['fn', CREATED, changed],
      ['idx', CREATED, changed],
    ]);
    store.flush(Z);
    // Cached before the flush: the pickup drops it, and the next answer has the flush's serial.
    poll();
    const flushed = zoneSerial();
    assert.ok(flushed > changed);
    ask(indexed, CREATED, Type.URI, [callerOption('idx')]);
    ask(unindexed, CREATED, Type.URI, [callerOption('fn')]);
    assert.deepEqual(recorded().sort(), [
      ['fn', CREATED, flushed],
      ['idx', CREATED, flushed],
    ]);
  });

  it('records nothing for NXDOMAIN, REFUSED, NODATA, other types, or without a caller', () => {
    ask(indexed, `missing.orders.${Z}`, Type.URI, [callerOption('x')]);
    ask(indexed, 'example.com.', Type.URI, [callerOption('x')]);
    ask(indexed, Z, Type.URI, [callerOption('x')]);
    ask(indexed, CREATED, Type.A, [callerOption('x')]);
    ask(indexed, Z, Type.SOA, [callerOption('x')]);
    ask(indexed, CREATED, Type.URI);
    ask(indexed, CREATED, Type.URI, [option(3, Buffer.alloc(0))]);
    assert.deepEqual(recorded(), []);
  });

  it('records nothing while the map is off (maxEntries 0)', () => {
    map.configure({ maxCallers: 100, maxEntries: 0, touchEveryMs: 5000 });
    ask(indexed, CREATED, Type.URI, [callerOption('x')]);
    assert.deepEqual(recorded(), []);
  });

  it('answers a query with the option byte for byte as the same query without it', () => {
    const cookie = option(10, Buffer.from('2464c4abcf10c957', 'hex'));
    const nsid = option(3, Buffer.alloc(0));
    const cases: [string, number, Buffer[]][] = [
      [CREATED, Type.URI, []],
      [CREATED, Type.TXT, []],
      [CREATED, Type.ANY, []],
      [LATEST, Type.URI, []],
      [`missing.orders.${Z}`, Type.URI, []],
      ['example.com.', Type.URI, []],
      [Z, Type.SOA, []],
      [CREATED, Type.URI, [nsid]],
      [CREATED, Type.URI, [cookie]],
      [`missing.orders.${Z}`, Type.URI, [cookie, nsid]],
    ];
    const callers = [
      callerOption('svc'),
      option(CALLER_OPTION, Buffer.from('bad id')),
      option(CALLER_OPTION, Buffer.alloc(0)),
    ];
    for (const handler of [indexed, unindexed, make(true, true)]) {
      for (const [name, qtype, others] of cases) {
        const plain = ask(handler, name, qtype, others);
        for (const caller of callers) {
          for (const options of [
            [caller, ...others],
            [...others, caller],
          ]) {
            const got = ask(handler, name, qtype, options);
            assert.deepEqual(got, plain, `${name} ${qtype} with ${options.length} options`);
          }
        }
        assert.ok(decodeMessage(plain).rcode !== Rcode.FORMERR);
      }
    }
  });

  it('counts ignored caller options by reason, and answers them normally', async () => {
    ask(indexed, CREATED, Type.URI, [option(CALLER_OPTION, Buffer.from('with space'))]);
    ask(indexed, CREATED, Type.URI, [option(CALLER_OPTION, Buffer.alloc(129, 0x61))]);
    ask(indexed, CREATED, Type.URI, [callerOption('one'), callerOption('two')]);
    const text = await metrics.registry.metrics();
    assert.match(text, /psarn_callers_ignored_total\{reason="bad_bytes"\} 1/);
    assert.match(text, /psarn_callers_ignored_total\{reason="too_long"\} 1/);
    assert.match(text, /psarn_callers_ignored_total\{reason="duplicate"\} 1/);
    assert.deepEqual(recorded(), [['one', CREATED, zoneSerial()]]);
    assert.doesNotMatch(text, /with space|"one"|"two"/, 'a caller id is never a label');
  });
});
