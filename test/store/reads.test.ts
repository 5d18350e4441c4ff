import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { PARAMS, weighted, ZONE, ZONE2 } from './helpers.js';

let store: Store;

beforeEach(() => {
  store = Store.open(':memory:');
});

const paths = (it: Iterable<{ zone: string; path: string }>, withZone = false) =>
  [...it].map((r) => (withZone ? `${r.zone} ${r.path}` : r.path));

describe('hasDescendants', () => {
  it('is true for a parent of a route (an empty non-terminal)', () => {
    store.setRoute(ZONE, 'orders/created', weighted('a'), PARAMS);
    assert.equal(store.hasDescendants(ZONE, 'orders'), true);
    store.setRoute(ZONE, 'x/y/z', weighted('a'), PARAMS);
    assert.equal(store.hasDescendants(ZONE, 'x'), true);
    assert.equal(store.hasDescendants(ZONE, 'x/y'), true);
  });

  it('is false for a route without children, a sibling with a longer name, and other zones', () => {
    store.setRoute(ZONE, 'orders', weighted('a'), PARAMS);
    store.setRoute(ZONE, 'ordersx/a', weighted('a'), PARAMS);
    store.setRoute(ZONE, 'orders-x/a', weighted('a'), PARAMS);
    store.setRoute(ZONE, 'orders_x/a', weighted('a'), PARAMS);
    store.setRoute(ZONE, 'orders0/a', weighted('a'), PARAMS);
    store.setRoute(ZONE2, 'orders/created', weighted('a'), PARAMS);
    assert.equal(store.hasDescendants(ZONE, 'orders'), false);
    assert.equal(store.hasDescendants(ZONE, 'order'), false);
    assert.equal(store.hasDescendants(ZONE, 'orders/created'), false);
    assert.equal(store.hasDescendants('unknown.zone.', 'orders'), false);
    assert.equal(store.hasDescendants(ZONE2, 'orders'), true);
  });
});

describe('listRoutes', () => {
  beforeEach(() => {
    for (const p of [
      'orders/created',
      'orders',
      'orders-x',
      'orders/audit',
      'ordersx/a',
      'orders/a/b',
      'payments/charge',
    ]) {
      store.setRoute(ZONE, p, weighted(`${p.replace(/\//g, '-')}-1`, `${p.replace(/\//g, '-')}-2`), PARAMS);
    }
    store.setRoute(ZONE2, 'b', weighted('b'), PARAMS);
    store.setRoute(ZONE2, 'a', { ttl: 5, alias: `orders.${ZONE}` }, PARAMS);
  });

  it('lists one zone in path (byte) order with each route whole', () => {
    const routes = [...store.listRoutes(ZONE)];
    assert.deepEqual(
      routes.map((r) => r.path),
      ['orders', 'orders-x', 'orders/a/b', 'orders/audit', 'orders/created', 'ordersx/a', 'payments/charge'],
    );
    for (const r of routes) {
      assert.deepEqual(r, store.getRoute(ZONE, r.path));
      assert.equal(r.targets.length, 2);
    }
  });

  it('with a prefix, lists the route itself and those under prefix/, not siblings like orders-x', () => {
    assert.deepEqual(paths(store.listRoutes(ZONE, 'orders')), [
      'orders',
      'orders/a/b',
      'orders/audit',
      'orders/created',
    ]);
    assert.deepEqual(paths(store.listRoutes(ZONE, 'orders/a')), ['orders/a/b']);
    assert.deepEqual(paths(store.listRoutes(ZONE, 'order')), []);
    assert.deepEqual(paths(store.listRoutes(ZONE2, 'orders')), []);
  });

  it('across zones, orders by zone name then path, alias routes included', () => {
    const all = [...store.listRoutes()];
    assert.equal(all.length, 9);
    assert.deepEqual(
      all.slice(0, 2).map((r) => [r.zone, r.path, r.alias]),
      [
        [ZONE, 'orders', undefined],
        [ZONE, 'orders-x', undefined],
      ],
    );
    assert.deepEqual(
      all.slice(-2).map((r) => [r.zone, r.path, r.alias ?? null, r.targets.length]),
      [
        [ZONE2, 'a', `orders.${ZONE}`, 0],
        [ZONE2, 'b', null, 1],
      ],
    );
  });

  it('is lazy: stopping early frees the connection for other reads', () => {
    const iter = store.listRoutes(ZONE);
    assert.equal(iter.next().value?.path, 'orders');
    iter.return?.(undefined);
    assert.equal(store.zones().length, 2);
  });
});

describe('zones, zone, isEmpty', () => {
  it('lists zones by name with their parameters', () => {
    assert.equal(store.isEmpty(), true);
    assert.deepEqual(store.zones(), []);
    store.setRoute(ZONE2, 'a', weighted('a'), { ...PARAMS, nameservers: ['ns1.example.', 'ns2.example.'] });
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    assert.equal(store.isEmpty(), false);
    assert.deepEqual(
      store.zones().map((z) => [z.name, z.nameservers]),
      [
        [ZONE, PARAMS.nameservers],
        [ZONE2, ['ns1.example.', 'ns2.example.']],
      ],
    );
    assert.equal(store.zone('nope.'), undefined);
    assert.equal(store.getRoute(ZONE, 'b'), undefined);
    assert.equal(store.getRoute('nope.', 'a'), undefined);
  });
});

describe('journal', () => {
  it('returns entries after a serial, and all of them for 0', () => {
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    store.setRoute(ZONE2, 'a', weighted('a'), PARAMS);
    store.setRoute(ZONE, 'b', weighted('b'), PARAMS);
    store.flush(ZONE);
    assert.deepEqual(
      store.journal(ZONE).map((e) => e.serial),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      store.journal(ZONE, 2).map((e) => e.op),
      ['set', 'flush'],
    );
    assert.deepEqual(store.journal(ZONE, 4), []);
    assert.deepEqual(
      store.journal(ZONE2).map((e) => e.op),
      ['create', 'set'],
    );
    assert.deepEqual(store.journal('nope.'), []);
  });
});

describe('read', () => {
  it('returns the function value and nests', () => {
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    const out = store.read(() => {
      const zone = store.zone(ZONE);
      const inner = store.read(() => store.getRoute(ZONE, 'a'));
      return { serial: zone?.serial, route: inner?.serial };
    });
    assert.deepEqual(out, { serial: 2, route: 2 });
  });

  it('rethrows and ends the transaction when fn throws', () => {
    assert.throws(
      () =>
        store.read(() => {
          throw new Error('boom');
        }),
      /boom/,
    );
    // Not left inside a transaction: a write still commits.
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    assert.equal(store.zone(ZONE)?.serial, 2);
  });
});
