/**
 * ZoneSync, the change pipeline: with a scripted view and a fake clock (the poll timer and the
 * read-side spacing are driven by hand), then over a real store written by a second connection.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { Store } from '../../src/store/index.js';
import type { ZoneRow } from '../../src/store/types.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { pathKey, serialKey } from '../../src/zone/deps.js';
import { RouteIndexer } from '../../src/zone/route-indexer.js';
import type { ZoneChanges } from '../../src/zone/store-view.js';
import { StoreZoneView } from '../../src/zone/store-view.js';
import { type SyncedView, type SyncTimers, ZoneSync } from '../../src/zone/zone-sync.js';
import { lambda, PARAMS, tempDir, weighted, ZONE as Z } from '../store/helpers.js';

/** A timer that fires only when the test says so. */
function fakeTimers(): SyncTimers & { fire(): void; armed: () => boolean; ms: number | undefined } {
  let fn: (() => void) | undefined;
  const timers = {
    ms: undefined as number | undefined,
    setInterval(f: () => void, ms: number) {
      fn = f;
      timers.ms = ms;
      return 1;
    },
    clearInterval() {
      fn = undefined;
    },
    fire() {
      fn?.();
    },
    armed: () => fn !== undefined,
  };
  return timers;
}

function changes(zone: ZoneRow, keys: string[]): ZoneChanges {
  return { changed: [zone], keys, entries: new Map(), added: [], removed: [] };
}

/** A view whose refresh() hands out what the test queued, recording each call's `force`. */
function scriptedView(zones: ZoneRow[]) {
  const queue: (ZoneChanges | Error | undefined)[] = [];
  const refreshes: boolean[] = [];
  let reads = 0;
  const view: SyncedView = {
    epochTtl: 5,
    refresh(force = false) {
      refreshes.push(force);
      const next = queue.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    zones: () => zones,
    findZone: () => zones[0],
    getRoute: () => undefined,
    hasDescendants: () => false,
    read<T>(fn: () => T): T {
      reads++;
      return fn();
    },
  };
  return { view, queue, refreshes, reads: () => reads };
}

describe('ZoneSync', () => {
  const zone: ZoneRow = { ...PARAMS, id: 1, name: Z, serial: 8, epoch: 1 };

  it('start() forces the first pickup and arms the poll; each tick applies what changed, in order', () => {
    const { view, queue, refreshes } = scriptedView([zone]);
    const timers = fakeTimers();
    const order: string[] = [];
    const invalidated: string[][] = [];
    const sync = new ZoneSync({
      view,
      cache: {
        invalidate: (keys) => {
          order.push('cache');
          invalidated.push([...keys]);
        },
      },
      index: { apply: () => order.push('index') },
      pollMs: 250,
      timers,
    });
    const events: number[] = [];
    sync.onChange(({ changes: c, zones }) => {
      order.push('listener');
      events.push(c.changed.length + zones.length);
    });
    sync.start();
    assert.deepEqual(refreshes, [true]);
    assert.equal(timers.ms, 250);
    assert.ok(timers.armed());

    timers.fire(); // nothing queued: nothing applied, nobody told
    assert.deepEqual(order, []);

    queue.push(changes(zone, [serialKey(Z), pathKey(Z, 'orders/created')]));
    timers.fire();
    assert.deepEqual(order, ['cache', 'index', 'listener']);
    assert.deepEqual(invalidated, [[serialKey(Z), pathKey(Z, 'orders/created')]]);
    assert.deepEqual(events, [2]);
    assert.deepEqual(refreshes, [true, false, false]);

    sync.stop();
    assert.equal(timers.armed(), false);
  });

  it('a failed read is reported, nothing is applied, and the next poll picks up again', () => {
    const { view, queue } = scriptedView([zone]);
    const timers = fakeTimers();
    const invalidated: string[][] = [];
    const sync = new ZoneSync({ view, cache: { invalidate: (keys) => invalidated.push([...keys]) }, timers });
    const errors: unknown[] = [];
    sync.onError((e) => errors.push(e));
    sync.start();
    queue.push(new Error('disk I/O error'));
    timers.fire();
    assert.equal((errors[0] as Error).message, 'disk I/O error');
    assert.deepEqual(invalidated, []);
    queue.push(changes(zone, [serialKey(Z)]));
    timers.fire();
    assert.equal(errors.length, 1);
    assert.deepEqual(invalidated, [[serialKey(Z)]]);
  });

  it('a read through its view picks up first, at most once a millisecond of the injected clock', () => {
    const { view, queue, refreshes, reads } = scriptedView([zone]);
    let now = 1000;
    const sync = new ZoneSync({ view, cache: new AnswerCache(), timers: fakeTimers(), now: () => now });
    queue.push(changes(zone, [serialKey(Z)]));
    const seen: number[] = [];
    sync.onChange(() => seen.push(now));
    assert.equal(
      sync.view.read(() => 'answer'),
      'answer',
    );
    assert.deepEqual(refreshes, [false]);
    assert.deepEqual(seen, [1000]);
    now += 0.5;
    sync.view.read(() => undefined);
    assert.deepEqual(refreshes, [false], 'a second read in the same millisecond does not pick up again');
    now += 0.5;
    sync.view.read(() => undefined);
    assert.deepEqual(refreshes, [false, false]);
    assert.equal(reads(), 3);
  });

  it('listeners can stop listening', () => {
    const { view, queue } = scriptedView([zone]);
    const sync = new ZoneSync({ view, cache: new AnswerCache(), timers: fakeTimers() });
    let heard = 0;
    const stop = sync.onChange(() => heard++);
    queue.push(changes(zone, []));
    sync.poll();
    stop();
    queue.push(changes(zone, []));
    sync.poll();
    assert.equal(heard, 1);
  });

  describe('over a real store written by another connection', () => {
    const tmp = tempDir();
    after(() => tmp.cleanup());

    it('drops the cached answers a change touched, and the view reads the new serial after a pickup', () => {
      const file = tmp.file();
      const writer = Store.open(file, { create: true });
      const reader = Store.open(file, { create: false });
      try {
        writer.setRoute(Z, 'orders/created', weighted('v1'), PARAMS);
        const view = new StoreZoneView(reader, { epochTtl: 5 });
        const cache = new AnswerCache();
        let now = 0;
        const sync = new ZoneSync({ view, cache, timers: fakeTimers(), now: () => now });
        sync.start();
        const serial = view.zones()[0]!.serial;
        const body = Buffer.alloc(1);
        const ready = { rcode: 0, aa: true, ancount: 1, nscount: 0, arcount: 0, body, additionalAt: 1 } as const;
        cache.set('created', ready, [pathKey(Z, 'orders/created')]);
        cache.set('other', ready, [pathKey(Z, 'orders/other')]);

        writer.setRoute(Z, 'orders/created', weighted('v2'), PARAMS);
        assert.equal(view.zones()[0]!.serial, serial, 'nothing is picked up by itself before a tick or a read');
        now += 5;
        const labels = Z.slice(0, -1).split('.');
        const seen = sync.view.read(() => sync.view.findZone(labels)?.serial);
        assert.ok(seen !== undefined && seen > serial, 'the read picked the change up first');
        assert.equal(cache.get('created'), undefined, 'the changed route is dropped');
        assert.ok(cache.get('other'), 'an untouched route stays cached');
      } finally {
        reader.close();
        writer.close();
      }
    });

    it('one freshness rule: the index and the store path serve a change from the same pickup', () => {
      const file = tmp.file('rule.db');
      const writer = Store.open(file, { create: true });
      const reader = Store.open(file, { create: false });
      const indexer = new RouteIndexer({ store: reader, zones: () => view.zones(), inline: true });
      const view = new StoreZoneView(reader, { epochTtl: 5 });
      try {
        writer.setRoute(Z, 'orders/created', weighted('v1'), PARAMS);
        writer.setRoute(Z, 'orders/latest', { ttl: 60, alias: `created.orders.${Z}` }, PARAMS);
        const cache = new AnswerCache();
        let now = 0;
        const sync = new ZoneSync({ view, cache, index: indexer, timers: fakeTimers(), now: () => now });
        sync.start();
        indexer.rebuild();
        const metrics = new DaemonMetrics({ defaultMetrics: false });
        const handler = new QueryHandler({
          view: sync.view,
          cache,
          routes: indexer,
          metrics,
          log: pino({ level: 'silent' }),
          udpPayloadSize: 1232,
        });
        const targets = (name: string): string[] =>
          decodeMessage(handler.handle(encodeQuery({ id: 1, name, qtype: Type.URI }), 'udp')!).answer.flatMap((r) =>
            r.type === 'URI' && 'target' in r ? [r.target] : [],
          );
        const created = `created.orders.${Z}`;
        const latest = `latest.orders.${Z}`;
        assert.deepEqual(targets(created), [lambda('v1')]); // from the index
        assert.deepEqual(targets(latest), [lambda('v1')]); // through the alias: the store path, now cached

        writer.setRoute(Z, 'orders/created', weighted('v2'), PARAMS);
        assert.deepEqual(targets(created), [lambda('v1')], 'the index: as of the last pickup');
        assert.deepEqual(targets(latest), [lambda('v1')], 'the cache: as of the last pickup');
        now += 5;
        // A miss (a name never asked) reads the store: its view picks up first, for every path.
        targets(`other.orders.${Z}`);
        assert.deepEqual(targets(created), [lambda('v2')], 'the index took the change in the same pickup');
        assert.deepEqual(targets(latest), [lambda('v2')], 'and the cached alias answer was dropped by it');
        assert.ok(metrics.indexHits.series().value >= 3);
      } finally {
        void indexer.close();
        reader.close();
        writer.close();
      }
    });
  });
});
