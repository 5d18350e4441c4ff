/** Store.editRoutes: several routes of a zone in one transaction under one serial (docs/design.md#writes). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store, StoreError } from '../../src/store/index.js';
import { PARAMS, weighted, ZONE } from './helpers.js';

const alias = (to: string) => ({ alias: `${to}.${ZONE}`, ttl: 60 });

describe('Store.editRoutes', () => {
  it('writes every route under one new serial, one journal row per route, with the actor', () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'old', weighted('o'), PARAMS);
    const before = store.zone(ZONE)!.serial;
    const r = store.editRoutes(
      ZONE,
      [
        { path: 'a', make: () => weighted('a') },
        { path: 'b', make: () => alias('a') },
        { path: 'old', make: () => null },
        { path: 'never', make: () => null },
      ],
      PARAMS,
      { actor: 'key:k' },
    );
    assert.equal(r.serial, before + 1);
    assert.equal(store.zone(ZONE)!.serial, before + 1);
    assert.deepEqual(
      r.changes.map((c) => [c.path, c.before === undefined, c.after === undefined]),
      [
        ['a', true, false],
        ['b', true, false],
        ['old', false, true],
      ],
    );
    const rows = store.journal(ZONE, before);
    assert.deepEqual(
      rows.map((e) => [e.op, e.path, e.serial, e.actor]),
      [
        ['set', 'a', before + 1, 'key:k'],
        ['set', 'b', before + 1, 'key:k'],
        ['delete', 'old', before + 1, 'key:k'],
      ],
    );
    assert.equal(store.getRoute(ZONE, 'b')!.serial, before + 1);
    store.close();
  });

  it('changes nothing and keeps the serial when every edit leaves its route as it is', () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    const serial = store.zone(ZONE)!.serial;
    const r = store.editRoutes(
      ZONE,
      [
        { path: 'a', make: () => weighted('a') },
        { path: 'x', make: () => null },
        // Set then set back within one message: no change either.
        { path: 'a', make: () => weighted('z') },
        { path: 'a', make: () => weighted('a') },
      ],
      PARAMS,
    );
    assert.deepEqual(r.changes, []);
    assert.equal(r.serial, serial);
    assert.equal(store.zone(ZONE)!.serial, serial);
    assert.equal(store.journal(ZONE, serial).length, 0);
    // And no zone is created by edits that write nothing.
    const empty = store.editRoutes(
      '111111111111.us-west-2.aws.psarn.internal.',
      [{ path: 'a', make: () => null }],
      PARAMS,
    );
    assert.equal(empty.serial, 0);
    assert.equal(store.zones().length, 1);
    store.close();
  });

  it('checks aliases on the result: an alias to a route made later in the message is fine, a dangling one is refused whole', () => {
    const store = Store.open(':memory:');
    store.editRoutes(
      ZONE,
      [
        { path: 'b', make: () => alias('a') },
        { path: 'a', make: () => weighted('a') },
      ],
      PARAMS,
    );
    assert.equal(store.getRoute(ZONE, 'b')!.alias, `a.${ZONE}`);
    const serial = store.zone(ZONE)!.serial;
    assert.throws(
      () =>
        store.editRoutes(
          ZONE,
          [
            { path: 'c', make: () => weighted('c') },
            { path: 'a', make: () => null },
          ],
          PARAMS,
        ),
      (err: unknown) => err instanceof StoreError && err.code === 'ERR_ROUTE_ALIASED',
    );
    assert.equal(store.zone(ZONE)!.serial, serial, 'nothing written');
    assert.equal(store.getRoute(ZONE, 'c'), undefined);
    // Deleting the alias and its target together is fine.
    store.editRoutes(
      ZONE,
      [
        { path: 'a', make: () => null },
        { path: 'b', make: () => null },
      ],
      PARAMS,
    );
    assert.equal(store.getRoute(ZONE, 'a'), undefined);
    assert.throws(
      () => store.editRoutes(ZONE, [{ path: 'l', make: () => alias('l') }], PARAMS),
      (err: unknown) => err instanceof StoreError && err.code === 'ERR_ALIAS_LOOP',
    );
    store.close();
  });

  it("takes a given serial and epoch (a secondary's IXFR step), journaling the epoch as a flush", () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    const r = store.editRoutes(ZONE, [{ path: 'a', make: () => weighted('b') }], PARAMS, {
      serial: 1000,
      epoch: 7,
      actor: 'primary:10.0.0.5:53',
    });
    assert.equal(r.serial, 1000);
    const z = store.zone(ZONE)!;
    assert.deepEqual([z.serial, z.epoch], [1000, 7]);
    assert.deepEqual(
      store.journal(ZONE, 2).map((e) => [e.op, e.serial]),
      [
        ['set', 1000],
        ['flush', 1000],
      ],
    );
    // A serial with no route change still moves the zone (a primary's SOA-only change).
    store.editRoutes(ZONE, [], PARAMS, { serial: 1001 });
    assert.equal(store.zone(ZONE)!.serial, 1001);
    assert.throws(
      () => store.editRoutes('111111111111.us-west-2.aws.psarn.internal.', [], PARAMS, { serial: 5 }),
      (err: unknown) => err instanceof StoreError && err.code === 'ERR_ZONE_NOT_FOUND',
    );
    store.close();
  });
});
