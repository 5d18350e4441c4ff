import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { RouteSpec } from '../../src/store/index.js';
import { Store, StoreError } from '../../src/store/index.js';
import { lambda, PARAMS, weighted, ZONE } from './helpers.js';

let now = 1_700_000_000_000;
let store: Store;

beforeEach(() => {
  now = 1_700_000_000_000;
  store = Store.open(':memory:', { now: () => now });
});

describe('setRoute', () => {
  it('creates the zone (serial 1, epoch 1, journal create) then writes the route at serial 2', () => {
    const { serial } = store.setRoute(ZONE, 'orders/created', weighted('a', 'b'), PARAMS);
    assert.equal(serial, 2);
    const zone = store.zone(ZONE);
    // The catalog serial starts at 1 in a new database; this zone's creation made it 2.
    assert.deepEqual(zone, { id: zone?.id, name: ZONE, serial: 2, epoch: 1, created: 2, ...PARAMS });
    const journal = store.journal(ZONE);
    assert.deepEqual(
      journal.map((e) => [e.serial, e.op, e.path]),
      [
        [1, 'create', undefined],
        [2, 'set', 'orders/created'],
      ],
    );
    assert.equal(journal[1]?.before, undefined);
    assert.deepEqual((journal[1]!.after as { targets: unknown[] }).targets, weighted('a', 'b').targets);
    assert.equal(journal[1]?.at, now);
  });

  it('every later write bumps the serial exactly once and journals one row with that serial', () => {
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    const serials = [
      store.setRoute(ZONE, 'b', weighted('b'), PARAMS).serial,
      store.setRoute(ZONE, 'a', weighted('c'), PARAMS).serial,
      store.deleteRoute(ZONE, 'b').serial,
      store.flush(ZONE).serial,
    ];
    assert.deepEqual(serials, [3, 4, 5, 6]);
    assert.equal(store.zone(ZONE)?.serial, 6);
    assert.deepEqual(
      store.journal(ZONE, 2).map((e) => [e.serial, e.op, e.path]),
      [
        [3, 'set', 'b'],
        [4, 'set', 'a'],
        [5, 'delete', 'b'],
        [6, 'flush', undefined],
      ],
    );
  });

  it('replaces the whole route, keeping the new target order, and records before and after', () => {
    store.setRoute(ZONE, 'orders/created', weighted('a', 'b'), PARAMS);
    now += 1000;
    const spec: RouteSpec = {
      policy: 'fanout',
      ttl: 60,
      targets: [
        { target: lambda('z'), weight: 5, priority: 20 },
        { target: 'https://example.com/Hook?X=1', weight: 0, priority: 0 },
        { target: lambda('m'), weight: 65535, priority: 65535 },
      ],
      metadata: { owner: 'team-orders' },
    };
    const { serial } = store.setRoute(ZONE, 'orders/created', spec, PARAMS);
    const route = store.getRoute(ZONE, 'orders/created');
    assert.deepEqual(route, {
      zone: ZONE,
      path: 'orders/created',
      ttl: 60,
      policy: 'fanout',
      targets: spec.targets,
      metadata: { owner: 'team-orders' },
      serial,
      updatedAt: now,
    });
    const entry = store.journal(ZONE).at(-1)!;
    assert.deepEqual((entry.before as { targets: unknown[] }).targets, weighted('a', 'b').targets);
    assert.deepEqual((entry.after as { targets: unknown[] }).targets, spec.targets);
  });

  it('stores alias routes (lowercased, no targets) and switches between alias and targets', () => {
    store.setRoute(ZONE, 'orders/created', weighted('c'), PARAMS);
    store.setRoute(ZONE, 'orders/latest', { ttl: 30, alias: `Created.Orders.${ZONE}` }, PARAMS);
    const alias = store.getRoute(ZONE, 'orders/latest');
    assert.equal(alias?.alias, `created.orders.${ZONE}`);
    assert.equal(alias?.policy, undefined);
    assert.deepEqual(alias?.targets, []);
    store.setRoute(ZONE, 'orders/latest', weighted('x'), PARAMS);
    const route = store.getRoute(ZONE, 'orders/latest');
    assert.equal(route?.alias, undefined);
    assert.equal(route?.policy, 'weighted');
    store.setRoute(ZONE, 'orders/latest', { ttl: 30, alias: `a.${ZONE}` }, PARAMS, { force: true });
    assert.deepEqual(store.getRoute(ZONE, 'orders/latest')?.targets, []);
  });

  const invalid: [string, string, unknown][] = [
    [
      'weight above 65535',
      'a',
      { policy: 'weighted', ttl: 1, targets: [{ target: lambda('a'), weight: 65536, priority: 1 }] },
    ],
    [
      'negative priority',
      'a',
      { policy: 'weighted', ttl: 1, targets: [{ target: lambda('a'), weight: 1, priority: -1 }] },
    ],
    [
      'fractional weight',
      'a',
      { policy: 'weighted', ttl: 1, targets: [{ target: lambda('a'), weight: 1.5, priority: 1 }] },
    ],
    ['ttl above 172800', 'a', { ...weighted('a'), ttl: 172801 }],
    ['negative ttl', 'a', { ...weighted('a'), ttl: -1 }],
    ['no targets', 'a', { policy: 'weighted', ttl: 1, targets: [] }],
    ['unknown policy', 'a', { ...weighted('a'), policy: 'random' }],
    ['empty target', 'a', { policy: 'weighted', ttl: 1, targets: [{ target: '', weight: 1, priority: 1 }] }],
    ['duplicate target', 'a', weighted('a', 'a')],
    // Past 16 targets the repeat is found through a set of keys rather than a scan.
    ['duplicate target among 20', 'a', weighted(...Array.from({ length: 19 }, (_, i) => `f${i}`), 'f7')],
    ['relative alias', 'a', { ttl: 1, alias: 'created.orders' }],
    ['alias with a space', 'a', { ttl: 1, alias: 'a b.example.' }],
    ['alias and targets', 'a', { ...weighted('a'), alias: `x.${ZONE}` }],
    ['non-string metadata', 'a', { ...weighted('a'), metadata: { n: 1 } }],
    ['uppercase path', 'Orders', weighted('a')],
    ['empty segment', 'orders//created', weighted('a')],
    ['reserved leading _', '_epoch', weighted('a')],
    ['nine segments', 'a/b/c/d/e/f/g/h/i', weighted('a')],
  ];
  for (const [why, path, spec] of invalid) {
    it(`rejects ${why} with ERR_INVALID_ROUTE and changes nothing`, () => {
      store.setRoute(ZONE, 'a', weighted('keep'), PARAMS);
      assert.throws(
        () => store.setRoute(ZONE, path, spec as RouteSpec, PARAMS),
        (err: unknown) => err instanceof StoreError && err.code === 'ERR_INVALID_ROUTE' && err.message.includes(ZONE),
      );
      assert.equal(store.zone(ZONE)?.serial, 2);
      assert.equal(store.journal(ZONE).length, 2);
      assert.deepEqual(store.getRoute(ZONE, 'a')?.targets, weighted('keep').targets);
    });
  }

  it('takes one target at several weights or priorities (not repeats), with few targets or many', () => {
    for (const count of [2, 20]) {
      const targets = Array.from({ length: count }, (_, i) => ({
        target: lambda('f'),
        weight: i,
        priority: 10 + (i % 2),
      }));
      store.setRoute(ZONE, `n${count}`, { policy: 'weighted', ttl: 1, targets }, PARAMS);
      assert.equal(store.getRoute(ZONE, `n${count}`)?.targets.length, count);
    }
  });

  it('rejects an invalid route in a new zone without creating the zone', () => {
    assert.throws(() => store.setRoute(ZONE, 'a', weighted(), PARAMS), { code: 'ERR_INVALID_ROUTE' });
    assert.equal(store.isEmpty(), true);
  });

  it('rejects a bad zone name or bad zone parameters with ERR_INVALID_ZONE, creating nothing', () => {
    assert.throws(() => store.setRoute('Not.Absolute', 'a', weighted('a'), PARAMS), { code: 'ERR_INVALID_ZONE' });
    assert.throws(() => store.setRoute(ZONE, 'a', weighted('a'), { ...PARAMS, nameservers: [] }), {
      code: 'ERR_INVALID_ZONE',
    });
    assert.throws(() => store.setRoute(ZONE, 'a', weighted('a'), { ...PARAMS, minimum: -1 }), {
      code: 'ERR_INVALID_ZONE',
    });
    assert.equal(store.isEmpty(), true);
  });
});

describe('deleteRoute', () => {
  it('removes the route and its targets, journaling the route it removed', () => {
    store.setRoute(ZONE, 'a', weighted('x', 'y'), PARAMS);
    assert.equal(store.deleteRoute(ZONE, 'a').serial, 3);
    assert.equal(store.getRoute(ZONE, 'a'), undefined);
    assert.deepEqual([...store.listRoutes()], []);
    const entry = store.journal(ZONE, 2)[0]!;
    assert.equal(entry.op, 'delete');
    assert.deepEqual((entry.before as { targets: unknown[] }).targets, weighted('x', 'y').targets);
    assert.equal(entry.after, undefined);
    // Re-creating it works: no target rows were left behind to collide with.
    store.setRoute(ZONE, 'a', weighted('z'), PARAMS);
    assert.deepEqual(store.getRoute(ZONE, 'a')?.targets, weighted('z').targets);
  });

  it('a missing route (or zone) is ERR_ROUTE_NOT_FOUND and leaves the serial alone', () => {
    assert.throws(() => store.deleteRoute(ZONE, 'a'), { code: 'ERR_ROUTE_NOT_FOUND' });
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    assert.throws(() => store.deleteRoute(ZONE, 'b'), { code: 'ERR_ROUTE_NOT_FOUND' });
    assert.equal(store.zone(ZONE)?.serial, 2);
    assert.equal(store.journal(ZONE).length, 2);
  });
});

describe('flush', () => {
  it('bumps epoch and serial together and journals the epochs', () => {
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    assert.deepEqual(store.flush(ZONE), { epoch: 2, serial: 3 });
    assert.deepEqual(store.flush(ZONE), { epoch: 3, serial: 4 });
    const zone = store.zone(ZONE)!;
    assert.equal(zone.epoch, 3);
    assert.equal(zone.serial, 4);
    const last = store.journal(ZONE).at(-1)!;
    assert.deepEqual([last.op, last.before, last.after], ['flush', { epoch: 2 }, { epoch: 3 }]);
  });

  it('an unknown zone is ERR_ZONE_NOT_FOUND', () => {
    assert.throws(() => store.flush(ZONE), { code: 'ERR_ZONE_NOT_FOUND' });
  });
});
