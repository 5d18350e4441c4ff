/**
 * History of changes made by signed DNS UPDATE (docs/design.md#history-and-revert): the real
 * UpdateServer behind the handler writes the route, and its history names the TSIG key, for a
 * route change and for a flush (`_epoch` TXT deleted) alike; routeAt goes back across them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rcode, Type } from '../../src/wire/types.js';
import { addRecord, deleteRRset } from '../../src/wire/update.js';
import { at, bench, LAMBDA, txt, uri, Z } from '../update/helpers.js';
import { PARAMS } from './helpers.js';

describe('route history of DNS UPDATE changes', () => {
  it('names the key that signed each UPDATE, for a change and a flush', () => {
    const b = bench();
    b.store.setRoute(
      Z,
      'orders/created',
      { policy: 'weighted', ttl: 300, targets: [{ target: `${LAMBDA}v1`, weight: 1, priority: 10 }] },
      PARAMS,
      {
        actor: 'user:alice',
      },
    );
    const sent = b.send({
      updates: [
        deleteRRset(at('created.orders'), Type.URI),
        deleteRRset(at('created.orders'), Type.TXT),
        addRecord(uri('created.orders', `${LAMBDA}v2`, 5)),
        addRecord(txt('created.orders', ['v=psarn1', 'policy=fanout'])),
      ],
    });
    assert.equal(sent.rcode, Rcode.NOERROR, JSON.stringify(sent.ede));
    assert.equal(b.send({ updates: [deleteRRset(at('_epoch'), Type.TXT)] }).rcode, Rcode.NOERROR);
    const h = b.store.routeHistory(Z, 'orders/created')!;
    assert.deepEqual(
      h.entries.map((e) => [e.serial, e.change, e.actor]),
      [
        [1, 'zone created', 'user:alice'],
        [2, 'created', 'user:alice'],
        [3, 'updated', 'key:update-key'],
        [4, 'flush', 'key:update-key'],
      ],
    );
    assert.equal(h.entries[2]!.after!.policy, 'fanout');
    assert.deepEqual(h.entries[2]!.after!.targets, [{ target: `${LAMBDA}v2`, weight: 5, priority: 10 }]);
    assert.deepEqual(h.entries[3]!.epoch, { before: 1, after: 2 });
    assert.deepEqual(b.store.routeAt(Z, 'orders/created', 2)!.targets, [
      { target: `${LAMBDA}v1`, weight: 1, priority: 10 },
    ]);
    b.store.close();
  });
});
