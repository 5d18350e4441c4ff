import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CallerKey, CallerMap, type CallerMapOptions, kthSmallest } from '../../src/map/caller-map.js';
import type { CallerRow } from '../../src/store/callers.js';

function setup(options: Partial<CallerMapOptions> = {}) {
  let now = 1_000_000;
  let evicted = 0;
  const map = new CallerMap({
    maxCallers: 10,
    maxEntries: 100,
    touchEveryMs: 5000,
    now: () => now,
    onEvicted: (n) => {
      evicted += n;
    },
    ...options,
  });
  const drained = () => {
    const out: { rows: CallerRow[]; removed: CallerKey[] } = { rows: [], removed: [] };
    map.drain(1000, (rows, removed) => {
      out.rows.push(...rows);
      out.removed.push(...removed);
    });
    return out;
  };
  return {
    map,
    drained,
    tick: (ms: number) => {
      now += ms;
      return now;
    },
    evicted: () => evicted,
  };
}

const names = (rows: readonly { caller: string; name: string }[]) => rows.map((r) => `${r.caller} ${r.name}`).sort();

describe('CallerMap', () => {
  it('records a pair with its serial, first and last seen, and counts lookups until saved', () => {
    const { map, drained, tick } = setup();
    map.record('svc-a', 'created.orders.z.', 7);
    const t = tick(10);
    map.record('svc-a', 'created.orders.z.', 7);
    map.record('svc-a', 'created.orders.z.', 7);
    const { rows } = drained();
    assert.deepEqual(rows, [
      {
        caller: 'svc-a',
        name: 'created.orders.z.',
        reporter: '',
        serial: 7,
        firstSeen: 1_000_000,
        lastSeen: t,
        lookups: 3,
      },
    ]);
    assert.equal(map.size, 1);
    assert.equal(map.callers, 1);
  });

  it('writes a pair again at once when its serial changes, and a same-serial lookup only after touchEveryMs', () => {
    const { map, drained, tick } = setup();
    map.record('a', 'n.', 1);
    drained();
    tick(1000);
    map.record('a', 'n.', 1);
    assert.deepEqual(drained().rows, [], 'same serial within touchEveryMs: not written');
    map.record('a', 'n.', 2);
    const changed = drained().rows;
    assert.equal(changed.length, 1);
    assert.equal(changed[0]!.serial, 2);
    assert.equal(changed[0]!.lookups, 2, 'the lookups since the last save');
    tick(4999);
    map.record('a', 'n.', 2);
    assert.deepEqual(drained().rows, []);
    tick(1);
    map.record('a', 'n.', 2);
    const touched = drained().rows;
    assert.equal(touched.length, 1);
    assert.equal(touched[0]!.lookups, 2);
  });

  it('keeps a failed write pending, with its lookups, and writes it at the next drain', () => {
    const { map, drained } = setup();
    map.record('a', 'n.', 1);
    assert.throws(
      () =>
        map.drain(10, () => {
          throw new Error('SQLITE_BUSY');
        }),
      /SQLITE_BUSY/,
    );
    map.record('a', 'n.', 1);
    const { rows } = drained();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.lookups, 2);
    assert.equal(map.pending, 0);
  });

  it('drains in chunks of `limit`', () => {
    const { map } = setup();
    for (let i = 0; i < 25; i++) map.record('a', `n${i}.`, 1);
    const sizes: number[] = [];
    while (map.pending > 0) map.drain(10, (rows) => sizes.push(rows.length));
    assert.deepEqual(sizes, [10, 10, 5]);
  });

  it('evicts the least recently seen ~10% of pairs past maxEntries, and deletes the saved ones', () => {
    const { map, drained, tick, evicted } = setup({ maxEntries: 20, maxCallers: 100 });
    for (let i = 0; i < 20; i++) {
      map.record(`c${i % 3}`, `n${i}.`, 1);
      tick(1);
    }
    drained();
    // n0 and n1 are seen again: the oldest are now n2, n3.
    map.record('c0', 'n0.', 1);
    map.record('c1', 'n1.', 1);
    tick(1);
    map.record('c0', 'new.', 1);
    assert.equal(map.size, 18);
    assert.equal(evicted(), 3);
    const held = names([...map.entries()]);
    for (const gone of ['c2 n2.', 'c0 n3.', 'c1 n4.']) assert.ok(!held.includes(gone), gone);
    for (const kept of ['c0 n0.', 'c1 n1.', 'c2 n5.', 'c0 new.']) assert.ok(held.includes(kept), kept);
    assert.deepEqual(names(drained().removed), ['c0 n3.', 'c1 n4.', 'c2 n2.']);
  });

  it('evicts the least recently seen callers past maxCallers, with all their names', () => {
    const { map, drained, tick } = setup({ maxCallers: 10, maxEntries: 1000 });
    for (let i = 0; i < 10; i++) {
      map.record(`c${i}`, 'a.', 1);
      map.record(`c${i}`, 'b.', 1);
      tick(1);
    }
    drained();
    map.record('c0', 'a.', 1);
    tick(1);
    map.record('c10', 'a.', 1);
    assert.equal(map.callers, 9);
    const callers = new Set([...map.entries()].map((e) => e.caller));
    assert.ok(callers.has('c0'), 'seen lately');
    assert.ok(callers.has('c10'), 'the newest');
    assert.ok(!callers.has('c1') && !callers.has('c2'));
    assert.deepEqual(names(drained().removed), ['c1 a.', 'c1 b.', 'c2 a.', 'c2 b.']);
  });

  it('drops a caller whose last name was evicted', () => {
    const { map, tick } = setup({ maxEntries: 10, maxCallers: 100 });
    map.record('old', 'x.', 1);
    tick(1);
    for (let i = 0; i < 10; i++) map.record('new', `n${i}.`, 1);
    assert.equal(map.callers, 1);
    assert.ok([...map.entries()].every((e) => e.caller === 'new'));
  });

  it('does not delete the row of a pair evicted before it was ever saved, nor of one seen again', () => {
    const { map, drained, tick } = setup({ maxEntries: 10, maxCallers: 100 });
    map.record('a', 'unsaved.', 1);
    tick(1);
    for (let i = 0; i < 10; i++) map.record('a', `n${i}.`, 1);
    const first = drained();
    assert.deepEqual(first.removed, []);
    assert.ok(!names(first.rows).includes('a unsaved.'), 'an evicted pair is not written');
  });

  it('keeps the row of a saved pair that was evicted and then seen again', () => {
    const { map, drained, tick } = setup({ maxEntries: 10, maxCallers: 100 });
    map.record('a', 'back.', 1);
    drained();
    tick(1);
    for (let i = 0; i < 10; i++) map.record('a', `n${i}.`, 1);
    map.record('a', 'back.', 2);
    const out = drained();
    assert.deepEqual(out.removed, []);
    assert.ok(names(out.rows).includes('a back.'));
  });

  it('records nothing when maxEntries is 0 (off)', () => {
    const { map, drained } = setup({ maxEntries: 0 });
    map.record('a', 'n.', 1);
    assert.equal(map.enabled, false);
    assert.equal(map.size, 0);
    assert.deepEqual(drained(), { rows: [], removed: [] });
  });

  it('loads saved rows newest first up to the bounds, writes them only on change, deletes the rest', () => {
    const { map, drained } = setup({ maxEntries: 2, maxCallers: 10 });
    const row = (name: string, lastSeen: number): CallerRow => ({
      caller: 'a',
      name,
      reporter: '',
      serial: 3,
      firstSeen: 1,
      lastSeen,
      lookups: 9,
    });
    for (const r of [row('n1.', 30), row('n2.', 20), row('n3.', 10)]) map.load(r);
    assert.equal(map.size, 2);
    const out = drained();
    assert.deepEqual(out.rows, []);
    assert.deepEqual(names(out.removed), ['a n3.']);
    map.record('a', 'n1.', 4);
    assert.deepEqual(
      drained().rows.map((r) => [r.name, r.serial, r.firstSeen, r.lookups]),
      [['n1.', 4, 1, 1]],
    );
  });

  it('sheds the excess at once when a reload lowers the bounds', () => {
    const { map, tick } = setup({ maxEntries: 100, maxCallers: 100 });
    for (let i = 0; i < 50; i++) {
      map.record(`c${i}`, 'n.', 1);
      tick(1);
    }
    map.configure({ maxEntries: 100, maxCallers: 20, touchEveryMs: 5000 });
    assert.equal(map.callers, 18);
    assert.ok([...map.entries()].some((e) => e.caller === 'c49'));
  });
});

describe('kthSmallest', () => {
  it('finds the k-th smallest as a sort would, duplicates included', () => {
    let seed = 3;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      const values = Float64Array.from({ length: n }, () => Math.floor(random() * (n / 3 + 1)));
      const sorted = Float64Array.from(values).sort();
      for (const k of [1, 2, Math.ceil(n / 10), Math.ceil(n / 2), n]) {
        assert.equal(
          kthSmallest(Float64Array.from(values), n, k),
          sorted[Math.min(n, Math.max(1, k)) - 1],
          `n ${n} k ${k}`,
        );
      }
    }
    assert.equal(kthSmallest(new Float64Array(4), 0, 1), Number.POSITIVE_INFINITY);
  });
});
