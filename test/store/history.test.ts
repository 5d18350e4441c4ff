/**
 * A route's history from the journal (docs/design.md#history-and-revert): Store.routeHistory
 * through every kind of change, Store.routeAt (the route at a serial) and its errors, and
 * journal.maxAge pruning with an injected clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteHistoryEntry } from '../../src/store/history.js';
import { type SavedRoute, Store, StoreError, type TargetRouteSpec } from '../../src/store/index.js';
import { JOURNAL_PRUNE_EVERY } from '../../src/store/store.js';
import { lambda, PARAMS, weighted, ZONE, ZONE2 } from './helpers.js';

/** A store on ':memory:' whose clock the test moves. */
function clocked(options: { journalKeep?: number; journalMaxAgeMs?: number } = {}) {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const store = Store.open(':memory:', { ...options, now: () => clock.now });
  return { store, clock };
}

const split = (a: number, b: number): TargetRouteSpec => ({
  policy: 'weighted',
  ttl: 300,
  targets: [
    { target: lambda('orders-v1'), weight: a, priority: 10 },
    { target: lambda('orders-v2'), weight: b, priority: 10 },
  ],
});

/** [serial, change, actor] of each entry: the shape of a history at a glance. */
const shape = (entries: RouteHistoryEntry[]) => entries.map((e) => [e.serial, e.change, e.actor ?? null]);

/** The targets of a journal-form route, as name=weight. */
const targetsOf = (r: SavedRoute | null | undefined) =>
  r === null || r === undefined ? r : r.targets.map((t) => `${t.target.split(':').at(-1)}=${t.weight}`).join(' ');

function refused(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StoreError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('Store.routeHistory', () => {
  it('lists set, weight, alias, delete, re-create, UPDATE, import and flush, oldest first, with who and before/after', () => {
    const { store, clock } = clocked();
    const user = { actor: 'user:alice' };
    store.setRoute(ZONE, 'orders', split(90, 10), PARAMS, user); // 1 zone created, 2 created
    clock.now += 1000;
    store.setRoute(ZONE, 'orders', split(50, 50), PARAMS, user); // 3
    store.setRoute(ZONE, 'other', weighted('x'), PARAMS, user); // 4: another route, not listed
    store.flush(ZONE, { actor: 'user:bob' }); // 5
    // A DNS UPDATE: editRoutes with the key's name as the actor.
    store.editRoutes(ZONE, [{ path: 'orders', make: () => split(0, 100) }], PARAMS, { actor: 'key:ci-deploy' }); // 6
    store.setRoute(ZONE, 'orders', { ttl: 60, alias: `other.${ZONE}` }, PARAMS, user); // 7
    store.deleteRoute(ZONE, 'orders', user); // 8
    store.setRoute(ZONE, 'orders', weighted('orders-v3'), PARAMS); // 9: no actor (as before schema 4)
    // An import that changes the route; a write; an import that leaves the route as it is.
    const imp = (name: string) =>
      store.importZones([{ name: ZONE, routes: [{ path: 'orders', spec: weighted(name) }] }], PARAMS, {
        actor: 'user:carol',
      });
    imp('orders-v4'); // 10
    store.setRoute(ZONE, 'orders', weighted('orders-v5'), PARAMS, user); // 11
    imp('orders-v5'); // 12: unchanged, left out
    const h = store.routeHistory(ZONE, 'orders')!;
    assert.deepEqual(shape(h.entries), [
      [1, 'zone created', 'user:alice'],
      [2, 'created', 'user:alice'],
      [3, 'updated', 'user:alice'],
      [5, 'flush', 'user:bob'],
      [6, 'updated', 'key:ci-deploy'],
      [7, 'updated', 'user:alice'],
      [8, 'deleted', 'user:alice'],
      [9, 'created', null],
      [10, 'updated', 'user:carol'],
      [11, 'updated', 'user:alice'],
    ]);
    assert.equal(h.serial, 12);
    assert.equal(h.complete, true);
    assert.equal(h.oldestSerial, 1);
    assert.equal(h.changes, 8);
    const [, created, weight, flush, update, alias, deleted, recreated, imported] = h.entries;
    assert.equal(created!.before, null);
    assert.equal(targetsOf(created!.after), 'orders-v1=90 orders-v2=10');
    assert.equal(created!.at, Date.UTC(2026, 0, 1));
    assert.equal(weight!.at, Date.UTC(2026, 0, 1) + 1000);
    assert.equal(targetsOf(weight!.after), 'orders-v1=50 orders-v2=50');
    assert.deepEqual(flush!.epoch, { before: 1, after: 2 });
    assert.equal(targetsOf(flush!.after), 'orders-v1=50 orders-v2=50', 'the route at the flush');
    assert.equal(targetsOf(update!.after), 'orders-v1=0 orders-v2=100');
    assert.equal(alias!.after!.alias, `other.${ZONE}`);
    assert.equal(deleted!.after, null);
    assert.equal(recreated!.before, null);
    // The import's sides come from the rows around it: before it the re-created route, after it
    // what the next write found.
    assert.equal(imported!.op, 'import');
    assert.equal(targetsOf(imported!.before), 'orders-v3=1');
    assert.equal(targetsOf(imported!.after), 'orders-v4=1');
    assert.equal(targetsOf(h.route), 'orders-v5=1');
    // limit: the newest N, still oldest first.
    assert.deepEqual(
      store.routeHistory(ZONE, 'orders', { limit: 2 })!.entries.map((e) => e.serial),
      [10, 11],
    );
    assert.equal(store.routeHistory(ZONE2, 'orders'), undefined, 'no such zone');
    store.close();
  });

  it('an import between two imports, or before the kept journal, is unknown: it may have changed the route', () => {
    const { store } = clocked();
    store.setRoute(ZONE, 'orders', weighted('a'), PARAMS); // 1, 2
    const imp = (name: string) =>
      store.importZones([{ name: ZONE, routes: [{ path: 'orders', spec: weighted(name) }] }], PARAMS);
    imp('b'); // 3: before known (a), after unknown (what 4 replaced is not recorded)
    imp('c'); // 4: before unknown, after known (the route now)
    const h = store.routeHistory(ZONE, 'orders')!;
    assert.deepEqual(
      h.entries.map((e) => [e.serial, e.change, targetsOf(e.before), targetsOf(e.after)]),
      [
        [1, 'zone created', null, null],
        [2, 'created', null, 'a=1'],
        [3, 'unknown', 'a=1', undefined],
        [4, 'unknown', undefined, 'c=1'],
      ],
    );
    store.close();
  });

  it('says when older changes are pruned: not complete, and the oldest kept serial', () => {
    const { store } = clocked({ journalKeep: 3 });
    for (let i = 0; i < JOURNAL_PRUNE_EVERY; i++) store.setRoute(ZONE, 'orders', weighted(`f${i}`), PARAMS);
    const h = store.routeHistory(ZONE, 'orders')!;
    assert.equal(h.complete, false);
    // Pruned at serial 64 to the newest 3 (62..64), then 65 appended.
    assert.equal(h.oldestSerial, 62);
    assert.deepEqual(
      h.entries.map((e) => e.serial),
      [62, 63, 64, 65],
    );
    store.close();
  });
});

describe('Store.routeAt', () => {
  it('is the route right after the change that produced the serial: null before it existed, unchanged by other routes', () => {
    const { store } = clocked();
    store.setRoute(ZONE, 'orders', split(90, 10), PARAMS); // 1, 2
    store.setRoute(ZONE, 'other', weighted('x'), PARAMS); // 3
    store.setRoute(ZONE, 'orders', split(50, 50), PARAMS); // 4
    store.flush(ZONE); // 5
    store.deleteRoute(ZONE, 'orders'); // 6
    store.setRoute(ZONE, 'other', weighted('y'), PARAMS); // 7
    assert.equal(store.routeAt(ZONE, 'orders', 1), null, 'the zone was created before the route');
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 2)), 'orders-v1=90 orders-v2=10');
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 3)), 'orders-v1=90 orders-v2=10', 'another route changed');
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 4)), 'orders-v1=50 orders-v2=50');
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 5)), 'orders-v1=50 orders-v2=50', 'a flush');
    assert.equal(store.routeAt(ZONE, 'orders', 6), null);
    assert.equal(store.routeAt(ZONE, 'orders', 7), null);
    // The journal form, byte for byte what was written (metadata and TTL too).
    assert.deepEqual(store.routeAt(ZONE, 'orders', 4), store.routeHistory(ZONE, 'orders')!.entries[2]!.after);
    store.close();
  });

  it('refuses a pruned serial (naming the oldest kept), one the zone never had, and a gap between imports', () => {
    const { store } = clocked({ journalKeep: 3 });
    for (let i = 0; i < JOURNAL_PRUNE_EVERY; i++) store.setRoute(ZONE, 'orders', weighted(`f${i}`), PARAMS);
    refused(
      () => store.routeAt(ZONE, 'orders', 10),
      'ERR_JOURNAL_PRUNED',
      /^serial 10 of zone .* is pruned from the journal: the oldest kept is serial 62 \(config journal\.keep, journal\.maxAge\)$/,
    );
    refused(
      () => store.routeAt(ZONE, 'orders', 66),
      'ERR_SERIAL_UNKNOWN',
      /^serial 66 is not one of zone .*: its journal keeps serials 62 to 65$/,
    );
    refused(() => store.routeAt(ZONE2, 'orders', 1), 'ERR_ZONE_NOT_FOUND', /no zone/);
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 62)), 'f60=1');
    // Two imports in a row: the route between them is not recorded.
    const imp = (name: string) =>
      store.importZones([{ name: ZONE, routes: [{ path: 'orders', spec: weighted(name) }] }], PARAMS);
    imp('b'); // 66
    imp('c'); // 67
    refused(() => store.routeAt(ZONE, 'orders', 66), 'ERR_HISTORY_GAP', /does not record route 'orders' at serial 66/);
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 65)), 'f63=1');
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 67)), 'c=1');
    store.close();
  });

  it('an import that jumped the serial: a skipped serial is not one of the zone', () => {
    const { store } = clocked();
    store.setRoute(ZONE, 'orders', weighted('a'), PARAMS); // 1, 2
    store.importZones([{ name: ZONE, serial: 100, routes: [{ path: 'orders', spec: weighted('b') }] }], PARAMS);
    refused(() => store.routeAt(ZONE, 'orders', 50), 'ERR_SERIAL_UNKNOWN', /^serial 50 is not one of zone/);
    assert.equal(targetsOf(store.routeAt(ZONE, 'orders', 100)), 'b=1');
    store.close();
  });
});

describe('journal.maxAge', () => {
  const HOUR = 3_600_000;

  it('prunes rows older than maxAge at the next write of their zone, whatever keep says', () => {
    const { store, clock } = clocked({ journalMaxAgeMs: 24 * HOUR });
    store.setRoute(ZONE, 'orders', weighted('a'), PARAMS); // 1, 2 at t0
    store.setRoute(ZONE2, 'orders', weighted('a'), PARAMS); // ZONE2 1, 2 at t0
    clock.now += 20 * HOUR;
    store.setRoute(ZONE, 'orders', weighted('b'), PARAMS); // 3 at t0+20h
    assert.deepEqual(
      store.journal(ZONE).map((e) => e.serial),
      [1, 2, 3],
      'nothing old enough yet',
    );
    clock.now += 5 * HOUR; // t0+25h: 1 and 2 are past 24h, 3 is 5h old
    store.setRoute(ZONE, 'orders', weighted('c'), PARAMS); // 4
    assert.deepEqual(
      store.journal(ZONE).map((e) => e.serial),
      [3, 4],
    );
    // Another zone's rows wait for a write of that zone.
    assert.deepEqual(
      store.journal(ZONE2).map((e) => e.serial),
      [1, 2],
    );
    store.flush(ZONE2);
    assert.deepEqual(
      store.journal(ZONE2).map((e) => e.serial),
      [3],
      'a flush prunes too; the row it appended stays',
    );
    // History and revert see the cut: the route before serial 3 is no longer known.
    const h = store.routeHistory(ZONE, 'orders')!;
    assert.equal(h.complete, false);
    assert.equal(h.oldestSerial, 3);
    refused(() => store.routeAt(ZONE, 'orders', 2), 'ERR_JOURNAL_PRUNED', /oldest kept is serial 3/);
    store.close();
  });

  it('an import and a delete prune by age too; a row behind a younger one (the clock stepped back) waits', () => {
    const { store, clock } = clocked({ journalMaxAgeMs: HOUR });
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS); // 1, 2 at t0
    clock.now -= 10 * HOUR; // the clock steps back
    store.setRoute(ZONE, 'b', weighted('b'), PARAMS); // 3 at t0-10h
    clock.now += 10 * HOUR + HOUR / 2; // t0+30m
    store.setRoute(ZONE, 'c', weighted('c'), PARAMS); // 4: 1 and 2 are young, so 3 stays behind them
    assert.deepEqual(
      store.journal(ZONE).map((e) => e.serial),
      [1, 2, 3, 4],
    );
    clock.now += HOUR; // t0+1h30: 1, 2, 3 are old, 4 is 1h old... exactly the limit: kept
    store.deleteRoute(ZONE, 'a'); // 5
    assert.deepEqual(
      store.journal(ZONE).map((e) => e.serial),
      [4, 5],
    );
    clock.now += 2 * HOUR;
    store.importZones([{ name: ZONE, routes: [{ path: 'x', spec: weighted('x') }] }], PARAMS); // 6
    assert.deepEqual(
      store.journal(ZONE).map((e) => e.serial),
      [6],
    );
    store.close();
  });

  it('without maxAge, age prunes nothing (keep alone decides)', () => {
    const { store, clock } = clocked();
    store.setRoute(ZONE, 'orders', weighted('a'), PARAMS);
    clock.now += 1000 * 24 * HOUR;
    store.setRoute(ZONE, 'orders', weighted('b'), PARAMS);
    assert.equal(store.journal(ZONE).length, 3);
    assert.throws(
      () => Store.open(':memory:', { journalMaxAgeMs: 0 }),
      /journalMaxAgeMs must be an integer of at least 1/,
    );
    store.close();
  });
});
