/** Schema 6's persisted caller map and epoch serial (docs/design.md#the-caller-map). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CallerRow, Store } from '../../src/store/index.js';
import { PARAMS, weighted, ZONE } from './helpers.js';

const row = (over: Partial<CallerRow>): CallerRow => ({
  caller: 'orders-fn',
  name: `a.${ZONE}`,
  reporter: '',
  serial: 1,
  firstSeen: 100,
  lastSeen: 100,
  lookups: 1,
  ...over,
});

describe('Store caller map', () => {
  it('adds rows, then merges: the newer lookup brings its serial, lookups add up, the first stays', () => {
    const store = Store.open(':memory:');
    store.saveCallers([row({}), row({ caller: 'billing', serial: 4, lookups: 2 })]);
    store.saveCallers([row({ serial: 7, firstSeen: 300, lastSeen: 300, lookups: 5 })]);
    // An older report (a secondary's late message) neither moves the serial back nor the last seen.
    store.saveCallers([row({ serial: 3, firstSeen: 50, lastSeen: 200, lookups: 1 })]);
    const rows = store.callerRows({ name: `a.${ZONE}` });
    assert.deepEqual(
      rows.map((r) => [r.caller, r.serial, r.firstSeen, r.lastSeen, r.lookups]),
      [
        ['billing', 4, 100, 100, 2],
        ['orders-fn', 7, 50, 300, 7],
      ],
    );
  });

  it('keeps reporters apart, filters by zone, caller and reporter, and deletes evicted keys', () => {
    const store = Store.open(':memory:');
    store.saveCallers([
      row({}),
      row({ reporter: 'sec-key' }),
      row({ name: `_epoch.${ZONE}` }),
      row({ name: 'a.other.internal.' }),
      row({ name: `x${ZONE}` }),
    ]);
    assert.equal(store.callerRows().length, 5);
    assert.deepEqual(
      store.callerRows({ zone: ZONE }).map((r) => [r.name, r.reporter]),
      [
        [`_epoch.${ZONE}`, ''],
        [`a.${ZONE}`, ''],
        [`a.${ZONE}`, 'sec-key'],
      ],
    );
    assert.equal(store.callerRows({ reporter: 'sec-key' }).length, 1);
    assert.equal(store.callerRows({ caller: 'nobody' }).length, 0);
    store.saveCallers([], [{ caller: 'orders-fn', name: `a.${ZONE}`, reporter: 'sec-key' }]);
    assert.equal(store.callerRows({ reporter: 'sec-key' }).length, 0);
  });

  it("records the serial of the zone's last epoch change: none at first, then each flush's", () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    assert.equal(store.epochSerial(ZONE), undefined);
    assert.equal(store.epochSerial('nope.internal.'), undefined);
    const { serial } = store.flush(ZONE);
    assert.equal(store.epochSerial(ZONE), serial);
    store.setRoute(ZONE, 'b', weighted('y'), PARAMS);
    assert.equal(store.epochSerial(ZONE), serial, 'a route write is no epoch change');
    const second = store.flush(ZONE);
    assert.equal(store.epochSerial(ZONE), second.serial);
  });
});
