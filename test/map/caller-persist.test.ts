import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallerMap } from '../../src/map/caller-map.js';
import { CallerPersister, type CallerStore, loadCallers, type PersistTimers } from '../../src/map/caller-persist.js';
import type { CallerRow } from '../../src/store/callers.js';

/** A store in memory: rows by key, every save recorded; `fail` makes the next saves throw. */
function memoryStore(initial: CallerRow[] = []) {
  const rows = new Map(initial.map((r) => [`${r.caller} ${r.name}`, r]));
  const saves: number[] = [];
  const store: CallerStore & { fail: number } = {
    fail: 0,
    saveCallers(batch, removed = []) {
      if (store.fail > 0) {
        store.fail--;
        throw new Error('database is locked');
      }
      saves.push(batch.length + removed.length);
      for (const r of batch) {
        const before = rows.get(`${r.caller} ${r.name}`);
        rows.set(`${r.caller} ${r.name}`, { ...r, lookups: (before?.lookups ?? 0) + r.lookups });
      }
      for (const k of removed) rows.delete(`${k.caller} ${k.name}`);
    },
    callerRows: () => [...rows.values()],
  };
  return { store, rows, saves };
}

function fakeTimers() {
  const ticks: (() => void)[] = [];
  const timers: PersistTimers & { fire(): void; intervals: number[] } = {
    intervals: [],
    setInterval(fn, ms) {
      ticks.push(fn);
      timers.intervals.push(ms);
      return ticks.length - 1;
    },
    clearInterval(handle) {
      ticks[handle as number] = () => {};
    },
    fire() {
      for (const t of ticks) t();
    },
  };
  return timers;
}

const map = (maxEntries = 1000) =>
  new CallerMap({ maxCallers: 100, maxEntries, touchEveryMs: 60_000, now: () => 5000 });

describe('CallerPersister', () => {
  it('writes the changes at each tick, in chunks, and nothing when nothing changed', async () => {
    const m = map();
    const { store, rows, saves } = memoryStore();
    const timers = fakeTimers();
    const persister = new CallerPersister({ map: m, store, everyMs: 5000, chunk: 10, timers });
    persister.start();
    assert.deepEqual(timers.intervals, [5000]);
    for (let i = 0; i < 25; i++) m.record('svc', `n${i}.`, 1);
    await persister.persist();
    assert.deepEqual(saves, [10, 10, 5]);
    assert.equal(rows.size, 25);
    await persister.persist();
    assert.deepEqual(saves, [10, 10, 5], 'nothing new: no write');
    await persister.stop();
  });

  it('reports a failed write, keeps the changes, and writes them at the next tick', async () => {
    const m = map();
    const { store, rows } = memoryStore();
    const errors: unknown[] = [];
    const persister = new CallerPersister({
      map: m,
      store,
      everyMs: 5000,
      onError: (e) => errors.push(e),
      timers: fakeTimers(),
    });
    m.record('svc', 'a.', 1);
    store.fail = 1;
    await persister.persist();
    assert.equal(errors.length, 1);
    assert.equal(rows.size, 0);
    m.record('svc', 'a.', 2);
    await persister.persist();
    assert.equal(rows.get('svc a.')?.serial, 2);
    assert.equal(rows.get('svc a.')?.lookups, 2);
  });

  it('writes what is left on stop, once a running persist is over, and ticks no more', async () => {
    const m = map();
    const { store, rows } = memoryStore();
    const timers = fakeTimers();
    const persister = new CallerPersister({ map: m, store, everyMs: 5000, chunk: 1, timers });
    persister.start();
    m.record('svc', 'a.', 1);
    m.record('svc', 'b.', 1);
    const running = persister.persist();
    m.record('svc', 'c.', 1);
    await persister.stop();
    await running;
    assert.deepEqual([...rows.keys()].sort(), ['svc a.', 'svc b.', 'svc c.']);
    m.record('svc', 'd.', 1);
    timers.fire();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(rows.has('svc d.'), false, 'the timer is cleared');
  });

  it('restarts its timer with a new interval (a reload)', () => {
    const timers = fakeTimers();
    const persister = new CallerPersister({ map: map(), store: memoryStore().store, everyMs: 5000, timers });
    persister.start();
    persister.setInterval(1000);
    assert.deepEqual(timers.intervals, [5000, 1000]);
  });

  it('loadCallers reads the rows back newest first, so the bounds keep the newest', () => {
    const row = (name: string, lastSeen: number): CallerRow => ({
      caller: 'svc',
      name,
      reporter: '',
      serial: 1,
      firstSeen: 1,
      lastSeen,
      lookups: 1,
    });
    const m = map(2);
    const read = loadCallers(m, memoryStore([row('old.', 1), row('new.', 3), row('mid.', 2)]).store);
    assert.equal(read, 3);
    assert.deepEqual([...m.entries()].map((e) => e.name).sort(), ['mid.', 'new.']);
    assert.equal(loadCallers(map(0), memoryStore([row('a.', 1)]).store), 0, 'off: nothing read');
  });
});
