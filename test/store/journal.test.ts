/** journal.keep: pruning the change journal, and telling readers when it no longer reaches a serial. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { JOURNAL_PRUNE_EVERY } from '../../src/store/store.js';
import { StoreZoneView } from '../../src/zone/store-view.js';
import { PARAMS, tempDir, weighted, ZONE, ZONE2 } from './helpers.js';

function rows(store: Store, zone: string): number {
  return store.journal(zone).length;
}

describe('journal.keep', () => {
  it('prunes each zone to its newest `keep` rows, in batches of JOURNAL_PRUNE_EVERY serials', () => {
    const store = Store.open(':memory:', { journalKeep: 10 });
    for (let i = 0; i < 3 * JOURNAL_PRUNE_EVERY; i++) {
      store.setRoute(ZONE, `r${i % 7}`, weighted(`f${i}`), PARAMS);
      // Every zone keeps between keep and keep + JOURNAL_PRUNE_EVERY - 1 rows once it has that many.
      const n = rows(store, ZONE);
      assert.ok(n <= 10 + JOURNAL_PRUNE_EVERY - 1, `${n} rows after ${i + 1} writes`);
    }
    const serial = store.zone(ZONE)!.serial;
    // The prune at the last multiple of JOURNAL_PRUNE_EVERY left exactly the newest 10 rows then.
    const entries = store.journal(ZONE);
    assert.equal(entries.at(-1)!.serial, serial);
    assert.equal(entries[0]!.serial, serial - entries.length + 1, 'the kept rows are the newest, contiguous');
    assert.ok(entries.length >= 10);
    // Another zone's journal is its own.
    store.setRoute(ZONE2, 'a', weighted('a'), PARAMS);
    assert.equal(rows(store, ZONE2), 2);
    store.close();
  });

  it('an import prunes at once', () => {
    const store = Store.open(':memory:', { journalKeep: 3 });
    for (let i = 0; i < 20; i++) store.setRoute(ZONE, `r${i}`, weighted('a'), PARAMS);
    assert.equal(rows(store, ZONE), 21);
    store.importZones([{ name: ZONE, routes: [{ path: 'x', spec: weighted('x') }] }], PARAMS);
    assert.equal(rows(store, ZONE), 3);
    assert.equal(store.journal(ZONE).at(-1)!.op, 'import');
    store.close();
  });

  it('journalFrom is undefined once the row of the serial asked for is pruned, and journal() is then empty', () => {
    const store = Store.open(':memory:', { journalKeep: 5 });
    for (let i = 0; i < JOURNAL_PRUNE_EVERY; i++) store.setRoute(ZONE, `r${i}`, weighted('a'), PARAMS);
    const serial = store.zone(ZONE)!.serial;
    assert.equal(serial, JOURNAL_PRUNE_EVERY + 1);
    // Serial 64 pruned to the newest 5 (60..64), then serial 65 was appended.
    assert.deepEqual(
      store.journal(ZONE).map((e) => e.serial),
      [60, 61, 62, 63, 64, 65],
    );
    assert.equal(store.journalFrom(ZONE, 58), undefined);
    // An empty list tells deps.ts and the route indexer "the journal cannot say": reload the zone.
    assert.deepEqual(store.journal(ZONE, 58), []);
    assert.deepEqual(
      store.journalFrom(ZONE, 62)!.map((e) => e.serial),
      [63, 64, 65],
    );
    assert.deepEqual(store.journalFrom(ZONE, serial), []);
    store.close();
  });

  it('a reader that fell behind past the pruned rows drops the whole zone from its cache', () => {
    const tmp = tempDir();
    const store = Store.open(tmp.file(), { journalKeep: 2 });
    // The reader is another connection, as psarnd is to the CLI: data_version moves for it.
    const reader = Store.open(tmp.file(), { readonly: true });
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    const view = new StoreZoneView(reader, { epochTtl: 5 });
    view.refresh(true);
    for (let i = 0; i < JOURNAL_PRUNE_EVERY; i++) store.setRoute(ZONE, `r${i}`, weighted('a'), PARAMS);
    const changes = view.refresh()!;
    // Without the gap check the remaining rows would name only the last routes, and the cached
    // answers of the pruned ones would stay.
    assert.deepEqual(changes.keys, [`z:${ZONE}`]);
    reader.close();
    store.close();
    tmp.cleanup();
  });

  it('refuses a keep below 1', () => {
    assert.throws(() => Store.open(':memory:', { journalKeep: 0 }), { code: 'ERR_DB_OPEN', message: /journalKeep/ });
  });
});

describe('change actors (schema 4)', () => {
  it('journals who made each change, and nothing for a writer that does not say', () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS, { actor: 'user:alice' });
    store.setRoute(ZONE, 'a', weighted('b'), PARAMS, { actor: 'key:update-key' });
    store.flush(ZONE, { actor: 'user:bob' });
    store.deleteRoute(ZONE, 'a', { actor: 'key:update-key' });
    store.setRoute(ZONE, 'b', weighted('b'), PARAMS);
    store.importZones([{ name: ZONE2, routes: [{ path: 'x', spec: weighted('x') }] }], PARAMS, { actor: 'user:carol' });
    assert.deepEqual(
      store.journal(ZONE).map((e) => [e.op, e.actor]),
      [
        ['create', 'user:alice'],
        ['set', 'user:alice'],
        ['set', 'key:update-key'],
        ['flush', 'user:bob'],
        ['delete', 'key:update-key'],
        ['set', undefined],
      ],
    );
    assert.deepEqual(
      store.journal(ZONE2).map((e) => [e.op, e.actor]),
      [
        ['create', 'user:carol'],
        ['import', 'user:carol'],
      ],
    );
    store.close();
  });

  it('keeps settings by key: put, replace, delete', () => {
    const store = Store.open(':memory:');
    assert.equal(store.setting('secondary.primary'), undefined);
    store.putSetting('secondary.primary', '10.0.0.5:8053');
    store.putSetting('secondary.primary', '10.0.0.6:8053');
    assert.equal(store.setting('secondary.primary'), '10.0.0.6:8053');
    store.putSetting('secondary.primary', undefined);
    assert.equal(store.setting('secondary.primary'), undefined);
    store.close();
  });
});
