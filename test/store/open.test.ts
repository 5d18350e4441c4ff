import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION, Store, StoreError } from '../../src/store/index.js';
import { PARAMS, tempDir, weighted, ZONE } from './helpers.js';

const tmp = tempDir();
after(tmp.cleanup);

function tables(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
  } finally {
    db.close();
  }
}

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe('Store.open', () => {
  it('migrates a version-1 database to the current version: the alias index, and its existing aliases are checked', () => {
    const file = tmp.file('v1.db');
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare(`INSERT INTO zones (name, serial, epoch, soa_ttl, mname, rname, refresh, retry, expire, minimum, ns_ttl, nameservers)
      VALUES (?, 1, 1, 3600, 'ns.', 'h.', 1, 1, 1, 1, 3600, '["ns."]')`).run(ZONE);
    db.prepare(
      "INSERT INTO routes (zone_id, path, policy, ttl, alias, serial, updated_at) VALUES (1, 'latest', NULL, 60, ?, 1, 0)",
    ).run(`created.${ZONE}`);
    db.close();
    const store = Store.open(file, { create: false });
    assert.equal(userVersion(file), SCHEMA_VERSION);
    assert.throws(
      () => store.setRoute(ZONE, 'created', { ttl: 60, alias: `latest.${ZONE}` }, PARAMS, { force: true }),
      {
        code: 'ERR_ALIAS_LOOP',
      },
    );
    store.close();
    const check = new Database(file, { readonly: true });
    assert.equal(check.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'routes_alias'").pluck().get(), 1);
    check.close();
  });

  it('creates the file and its folder, migrates an empty database to the current version, in WAL mode', () => {
    const file = join(tmp.dir, 'nested', 'deeper', 'psarn.db');
    const store = Store.open(file);
    store.close();
    assert.ok(existsSync(file));
    assert.ok(SCHEMA_VERSION >= 1);
    assert.equal(userVersion(file), SCHEMA_VERSION);
    assert.deepEqual(tables(file), [
      'callers',
      'catalog',
      'journal',
      'operations',
      'routes',
      'settings',
      'targets',
      'zones',
    ]);
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('re-opens an existing database without re-running migrations or losing data', () => {
    const file = tmp.file('reopen.db');
    const a = Store.open(file);
    const { serial } = a.setRoute(ZONE, 'orders/created', weighted('a'), PARAMS);
    a.close();
    const b = Store.open(file, { create: false });
    assert.equal(b.zone(ZONE)?.serial, serial);
    assert.deepEqual(
      b.getRoute(ZONE, 'orders/created')?.targets.map((t) => t.target),
      weighted('a').targets.map((t) => t.target),
    );
    b.close();
    assert.equal(userVersion(file), SCHEMA_VERSION);
  });

  it('with create: false, a missing file is ERR_DB_MISSING naming the path and the fix', () => {
    const file = join(tmp.dir, 'absent', 'psarn.db');
    assert.throws(
      () => Store.open(file, { create: false }),
      (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'ERR_DB_MISSING');
        assert.match(err.message, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        assert.match(err.message, /start psarnd once or run 'psarn db init' to create it, or pass --db FILE/);
        return true;
      },
    );
    assert.equal(existsSync(join(tmp.dir, 'absent')), false, 'no folder created');
  });

  it('read-only: a missing file is ERR_DB_MISSING, an existing current one reads but cannot write', () => {
    assert.throws(() => Store.open(tmp.file('ro-absent.db'), { readonly: true }), { code: 'ERR_DB_MISSING' });
    const file = tmp.file('ro.db');
    Store.open(file).close();
    const ro = Store.open(file, { readonly: true });
    assert.equal(ro.isEmpty(), true);
    assert.throws(() => ro.setRoute(ZONE, 'a', weighted('a'), PARAMS), /readonly/i);
    ro.close();
  });

  it('rejects a database of a newer schema version, naming both versions', () => {
    const file = tmp.file('newer.db');
    Store.open(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    assert.throws(
      () => Store.open(file),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === 'ERR_DB_SCHEMA' &&
        err.message.includes(`version ${SCHEMA_VERSION + 5}`) &&
        err.message.includes(`version ${SCHEMA_VERSION}`),
    );
    assert.equal(userVersion(file), SCHEMA_VERSION + 5, 'left untouched');
  });

  it('refuses a database without the schema (user_version 0) instead of migrating it, read-only or not', () => {
    const file = tmp.file('old.db');
    new Database(file).close();
    assert.throws(() => Store.open(file, { readonly: true }), { code: 'ERR_DB_NOT_PSARN' });
    assert.throws(() => Store.open(file), { code: 'ERR_DB_NOT_PSARN' });
    assert.equal(userVersion(file), 0);
  });

  it('a file that is not SQLite is ERR_DB_NOT_PSARN with the cause', async () => {
    const file = tmp.file('garbage.db');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'this is not a database, just some text that is long enough to have a header'.repeat(20));
    assert.throws(
      () => Store.open(file),
      (err: unknown) => err instanceof StoreError && err.code === 'ERR_DB_NOT_PSARN' && err.cause !== undefined,
    );
  });

  it(':memory: works and starts empty', () => {
    const store = Store.open(':memory:');
    assert.equal(store.isEmpty(), true);
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    assert.equal(store.isEmpty(), false);
    store.close();
  });
});
