import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store } from '../../src/store/store.js';
import { lambda, PARAMS, ZONE } from './helpers.js';

describe('Store.routeData (the answer path read)', () => {
  it('gives the answering part of a target route and an alias, by zone id', () => {
    const store = Store.open(':memory:');
    store.setRoute(
      ZONE,
      'orders/created',
      {
        policy: 'fanout',
        ttl: 60,
        targets: [
          { target: lambda('b'), weight: 5, priority: 20 },
          { target: lambda('a'), weight: 1, priority: 10 },
        ],
      },
      PARAMS,
    );
    store.setRoute(ZONE, 'orders/latest', { ttl: 30, alias: `created.orders.${ZONE}` }, PARAMS);
    const id = store.zone(ZONE)!.id;
    assert.deepEqual(store.routeData(id, 'orders/created'), {
      ttl: 60,
      policy: 'fanout',
      targets: [
        { target: lambda('b'), weight: 5, priority: 20 },
        { target: lambda('a'), weight: 1, priority: 10 },
      ],
    });
    assert.deepEqual(store.routeData(id, 'orders/latest'), { ttl: 30, alias: `created.orders.${ZONE}`, targets: [] });
    assert.equal(store.routeData(id, 'orders/nope'), undefined);
    assert.equal(store.routeData(id + 1, 'orders/created'), undefined);
    store.close();
  });
});
