/**
 * What the transfer engine asks of the store (docs/design.md#transfers-in): an import that takes
 * the primary's serial and epoch exactly, an edit that also writes the zone's SOA/NS parameters,
 * and the deletion of a whole zone in one transaction.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Store } from '../../src/store/store.js';
import { PARAMS } from '../helpers/fixtures.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const route = (target: string) => ({
  policy: 'weighted' as const,
  ttl: 300,
  targets: [{ target: `arn:aws:sqs:us-east-1:123456789012:${target}`, weight: 1, priority: 10 }],
});

describe('the store for transfers in', () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(':memory:');
    for (let i = 0; i < 5; i++) store.setRoute(Z, `r/${i}`, route(`q${i}`), PARAMS);
    store.flush(Z);
    store.flush(Z);
  });
  afterEach(() => store.close());

  it('importZones exact: the serial and epoch as given, even lower; without exact "ahead or +1" and never a lower epoch', () => {
    const before = store.zone(Z)!;
    assert.deepEqual([before.serial, before.epoch], [8, 3]);
    const zone = { name: Z, serial: 4, epoch: 2, routes: [{ path: 'x/y', spec: route('x') }] };
    store.importZones([zone], PARAMS);
    assert.deepEqual([store.zone(Z)!.serial, store.zone(Z)!.epoch], [9, 3]);
    store.importZones([zone], PARAMS, { exact: true, actor: 'primary:127.0.0.1:53' });
    assert.deepEqual([store.zone(Z)!.serial, store.zone(Z)!.epoch], [4, 2]);
    assert.equal(store.journal(Z).at(-1)!.actor, 'primary:127.0.0.1:53');
    assert.deepEqual(
      [...store.listRoutes(Z)].map((r) => r.path),
      ['x/y'],
    );
  });

  it('editRoutes setParams writes the SOA/NS parameters with the routes, under the given serial', () => {
    const params = { ...PARAMS, refresh: 60, nameservers: ['ns1.example.', 'ns2.example.'], soaTtl: 120 };
    store.editRoutes(Z, [{ path: 'r/0', make: () => null }], params, { serial: 100, setParams: true });
    const z = store.zone(Z)!;
    assert.deepEqual([z.serial, z.refresh, z.soaTtl, z.nameservers], [100, 60, 120, ['ns1.example.', 'ns2.example.']]);
    // Without setParams the parameters only create a zone.
    store.editRoutes(Z, [{ path: 'r/1', make: () => null }], PARAMS, { serial: 101 });
    assert.equal(store.zone(Z)!.refresh, 60);
  });

  it('deleteZone: the zone, its routes and journal in one transaction; the catalog serial moves', () => {
    const catalog = store.catalogSerial();
    assert.equal(store.deleteZone(Z), true);
    assert.equal(store.zone(Z), undefined);
    assert.equal([...store.listRoutes()].length, 0);
    assert.deepEqual(store.journal(Z), []);
    assert.equal(store.catalogSerial(), catalog + 1);
    assert.equal(store.deleteZone(Z), false);
    assert.equal(store.catalogSerial(), catalog + 1);
  });
});
