/**
 * Store faults (issue 8, defect 5.6): a file that is not psarn's, a damaged file, a write lock
 * held too long. Each is a StoreError with a code and a message that says what to do.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createDatabase } from '../../src/store/create.js';
import { SCHEMA_VERSION, Store, StoreError } from '../../src/store/index.js';
import { CORRUPT_ZONE, routePath, writeCorruptDatabase } from '../helpers/corrupt.js';
import { PARAMS, tempDir, weighted, ZONE } from './helpers.js';

const tmp = tempDir();
after(tmp.cleanup);

function storeError(fn: () => unknown, code: string, message: RegExp): StoreError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StoreError, `expected StoreError ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  assert.ok(!caught.message.includes('\n'));
  return caught;
}

describe('a file that is not a psarn database', () => {
  it('a 0-byte file is ERR_DB_NOT_PSARN, in every mode, and stays 0 bytes (no new database, no demo)', () => {
    const file = tmp.file('empty.db');
    writeFileSync(file, '');
    for (const options of [{}, { create: false }, { readonly: true }]) {
      storeError(
        () => Store.open(file, options),
        'ERR_DB_NOT_PSARN',
        /is not a psarn database: the file is empty \(0 bytes\); if it should be one \(a truncated copy\?\), restore it from a backup; otherwise pass another file with --db, or remove this one/,
      );
    }
    assert.equal(statSync(file).size, 0);
    assert.deepEqual(
      readdirSync(tmp.dir).filter((f) => f.startsWith('empty.db')),
      ['empty.db'],
    );
  });

  it('an SQLite file of another application is ERR_DB_NOT_PSARN naming its tables, and is left untouched', () => {
    const file = tmp.file('other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE customers (id INTEGER); CREATE TABLE orders (id INTEGER)');
    db.close();
    const before = readFileSync(file);
    storeError(() => Store.open(file), 'ERR_DB_NOT_PSARN', /without psarn's schema \(tables customers, orders\)/);
    assert.deepEqual(readFileSync(file), before);
  });

  it('a file that is not SQLite at all is ERR_DB_NOT_PSARN with the cause', () => {
    const file = tmp.file('text.db');
    writeFileSync(file, 'not a database, just text long enough to have a header'.repeat(20));
    const err = storeError(() => Store.open(file), 'ERR_DB_NOT_PSARN', /it is not an SQLite file/);
    assert.ok(err.cause instanceof Database.SqliteError);
  });
});

describe('creating a database', () => {
  it('created is true only for the open that made the file (and for :memory:)', () => {
    const file = tmp.file('new.db');
    const first = Store.open(file);
    assert.equal(first.created, true);
    first.close();
    const again = Store.open(file);
    assert.equal(again.created, false);
    again.close();
    const memory = Store.open(':memory:');
    assert.equal(memory.created, true);
    memory.close();
  });

  it('the file appears whole, with its schema; a second creator loses and leaves no temporary file', () => {
    const file = tmp.file('race.db');
    assert.equal(createDatabase(file), true);
    assert.equal(createDatabase(file), false);
    assert.deepEqual(
      readdirSync(tmp.dir).filter((f) => f.includes('race.db')),
      ['race.db'],
    );
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });
});

describe('a damaged file', () => {
  const file = tmp.file('corrupt.db');
  writeCorruptDatabase(file, { routes: 2000 });

  it('reads of damaged pages are ERR_DB_CORRUPT with the cause; readFailure() tells, then clears after its window', () => {
    let now = 1_000_000;
    const store = Store.open(file, { create: false, now: () => now, readFailureWindowMs: 10_000 });
    try {
      assert.equal(store.readFailure(), undefined);
      assert.equal(store.zone(CORRUPT_ZONE)?.name, CORRUPT_ZONE, 'the zones table is intact');
      const zoneId = store.zone(CORRUPT_ZONE)!.id;
      const err = storeError(
        () => store.read(() => store.routeData(zoneId, routePath(1000))),
        'ERR_DB_CORRUPT',
        /is damaged \(database disk image is malformed \(SQLITE_CORRUPT\)\); restore it from a backup, or copy out what is readable with: sqlite3 '.*corrupt\.db' \.recover \| sqlite3 recovered\.db$/,
      );
      assert.ok(err.cause instanceof Database.SqliteError);
      storeError(() => store.getRoute(CORRUPT_ZONE, routePath(5)), 'ERR_DB_CORRUPT', /damaged/);
      storeError(() => [...store.listRoutes(CORRUPT_ZONE)], 'ERR_DB_CORRUPT', /damaged/);
      const failure = store.readFailure();
      assert.ok(failure !== undefined);
      assert.equal(failure.count, 3, 'each failed read counted once, even inside read()');
      assert.equal(failure.at, now);
      assert.equal(failure.error.code, 'ERR_DB_CORRUPT');
      now += 9_999;
      assert.ok(store.readFailure() !== undefined, 'still within the window');
      now += 1;
      assert.equal(store.readFailure(), undefined, 'no failed read for 10 s');
    } finally {
      store.close();
    }
  });

  it('with checkBeforeWrite (the CLI), a write is refused after PRAGMA quick_check, and nothing is written', () => {
    const before = readFileSync(file);
    const store = Store.open(file, { create: false, checkBeforeWrite: true });
    try {
      storeError(
        () => store.setRoute(CORRUPT_ZONE, 'new/route', weighted('a'), PARAMS),
        'ERR_DB_CORRUPT',
        /is damaged \(PRAGMA quick_check: .+\); restore it from a backup/,
      );
      storeError(() => store.flush(CORRUPT_ZONE), 'ERR_DB_CORRUPT', /quick_check/);
    } finally {
      store.close();
    }
    assert.deepEqual(readFileSync(file), before);
  });

  it('checkBeforeWrite lets a sound file be written', () => {
    const store = Store.open(tmp.file('sound.db'), { checkBeforeWrite: true });
    assert.equal(store.setRoute(ZONE, 'a', weighted('a'), PARAMS).serial, 2);
    assert.equal(store.setRoute(ZONE, 'b', weighted('b'), PARAMS).serial, 3);
    store.close();
  });
});

describe('a write lock held past the busy timeout', () => {
  it('is ERR_DB_LOCKED, saying who may hold it and what to do, after waiting busyTimeoutMs', () => {
    const file = tmp.file('locked.db');
    Store.open(file).close();
    const holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE');
    const store = Store.open(file, { busyTimeoutMs: 100 });
    try {
      const started = performance.now();
      const err = storeError(
        () => store.setRoute(ZONE, 'a', weighted('a'), PARAMS),
        'ERR_DB_LOCKED',
        /is locked: another process held its write lock for over 100 ms \(the busy timeout\), so nothing was written; it is usually another psarn command \(a large zone import\) or a sqlite3 shell with an open transaction: let it finish and retry \('fuser .*locked\.db' lists the processes that have the file open\)$/,
      );
      assert.ok(performance.now() - started >= 90, 'it waited for the lock first');
      assert.equal((err.cause as { code?: string }).code, 'SQLITE_BUSY');
      holder.exec('ROLLBACK');
      assert.equal(store.setRoute(ZONE, 'a', weighted('a'), PARAMS).serial, 2, 'works once the lock is free');
    } finally {
      store.close();
      holder.close();
    }
  });
});
