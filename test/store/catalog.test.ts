/** The store's side of the catalog zone (docs/design.md#catalog-zone): its serial and each zone's `created`. */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION, Store } from '../../src/store/index.js';
import { PARAMS, tempDir, weighted, ZONE, ZONE2 } from './helpers.js';

const ZONE3 = '111111111111.us-west-2.aws.psarn.internal.';
const tmp = tempDir();
after(tmp.cleanup);

let store: Store;
beforeEach(() => {
  store = Store.open(':memory:');
});

const created = (name: string): number | undefined => store.zone(name)?.created;

describe('catalog serial', () => {
  it('starts at 1 and moves once per zone created, never on a route change in an existing zone', () => {
    assert.equal(store.catalogSerial(), 1);
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    assert.equal(store.catalogSerial(), 2);
    assert.equal(created(ZONE), 2);
    // Writes inside the zone: its serial moves, the catalog's does not.
    store.setRoute(ZONE, 'b', weighted('b'), PARAMS);
    store.deleteRoute(ZONE, 'b');
    store.flush(ZONE);
    store.importZones([{ name: ZONE, routes: [{ path: 'c', spec: weighted('c') }] }], PARAMS);
    assert.equal(store.catalogSerial(), 2);
    assert.equal(created(ZONE), 2);
    store.setRoute(ZONE2, 'a', weighted('a'), PARAMS);
    assert.equal(store.catalogSerial(), 3);
    assert.equal(created(ZONE2), 3);
  });

  it('an import creating several zones gives each its own created value, all above the ones before', () => {
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    store.importZones(
      [
        { name: ZONE2, routes: [{ path: 'a', spec: weighted('a') }] },
        { name: ZONE3, routes: [{ path: 'a', spec: weighted('a') }] },
        // An existing zone in the same import: no new member.
        { name: ZONE, routes: [{ path: 'b', spec: weighted('b') }] },
      ],
      PARAMS,
    );
    assert.equal(store.catalogSerial(), 4);
    assert.deepEqual([created(ZONE), created(ZONE2), created(ZONE3)].sort(), [2, 3, 4]);
  });

  it('is read in the same snapshot as the zone rows', () => {
    const pair = store.read(() => [store.zones().length, store.catalogSerial()]);
    assert.deepEqual(pair, [0, 1]);
  });

  it('a zone deleted and created again gets a new created value, and each move bumps the serial', () => {
    // psarn has no zone delete today; a secondary dropping a zone (or a hand-made DELETE) goes
    // through the same trigger, so the catalog never goes back.
    const file = tmp.file('recreate.db');
    const s = Store.open(file);
    s.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    s.setRoute(ZONE2, 'a', weighted('a'), PARAMS);
    const before = s.zone(ZONE2)!;
    assert.equal(s.catalogSerial(), 3);
    s.close();
    const db = new Database(file);
    db.pragma('foreign_keys = ON');
    db.prepare('DELETE FROM zones WHERE name = ?').run(ZONE2);
    db.close();
    const again = Store.open(file);
    assert.equal(again.catalogSerial(), 4);
    again.setRoute(ZONE2, 'a', weighted('a'), PARAMS);
    const after = again.zone(ZONE2)!;
    assert.equal(again.catalogSerial(), 5);
    // SQLite reuses the largest rowid once it is deleted: `id` alone would not tell them apart.
    assert.equal(after.id, before.id);
    assert.notEqual(after.created, before.created);
    assert.equal(after.created, 5);
    again.close();
  });

  it('wraps past 2^32 - 1 to 1, as zone serials do (RFC 1982, 0 skipped)', () => {
    const file = tmp.file('wrap.db');
    Store.open(file).close();
    const db = new Database(file);
    db.prepare('UPDATE catalog SET serial = 4294967295').run();
    db.close();
    const s = Store.open(file);
    s.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    assert.equal(s.catalogSerial(), 1);
    s.close();
  });
});

describe('migration 3 (the catalog)', () => {
  it('keeps existing zones as members (created = id) and starts the serial above every one', () => {
    const file = tmp.file('v2.db');
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.exec(MIGRATIONS[1]!);
    db.pragma('user_version = 2');
    const insert =
      db.prepare(`INSERT INTO zones (id, name, serial, epoch, soa_ttl, mname, rname, refresh, retry, expire, minimum, ns_ttl, nameservers)
      VALUES (?, ?, 9, 1, 3600, 'ns.', 'h.', 1, 1, 1, 1, 3600, '["ns."]')`);
    insert.run(1, ZONE);
    insert.run(7, ZONE2);
    db.close();
    const s = Store.open(file, { create: false });
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
    assert.equal(s.catalogSerial(), 7);
    assert.deepEqual(
      s.zones().map((z) => [z.name, z.created, z.serial]),
      [
        [ZONE, 1, 9],
        [ZONE2, 7, 9],
      ],
    );
    s.setRoute(ZONE3, 'a', weighted('a'), PARAMS);
    assert.equal(s.catalogSerial(), 8);
    assert.equal(s.zone(ZONE3)?.created, 8);
    s.close();
  });

  it('starts an empty database at serial 1', () => {
    const file = tmp.file('v2-empty.db');
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.exec(MIGRATIONS[1]!);
    db.pragma('user_version = 2');
    db.close();
    const s = Store.open(file, { create: false });
    assert.equal(s.catalogSerial(), 1);
    s.close();
  });
});
