/**
 * `psarn` on a faulty database file (issue 8, defect 5.6): one clear line and exit 1, and no
 * write into a damaged file.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { writeCorruptDatabase } from '../helpers/corrupt.js';
import { Sandbox } from './helpers.js';

const s = new Sandbox();
after(() => s.cleanup());

const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const Q = 'arn:aws:sqs:us-east-1:123456789012:q';

describe('psarn and store faults', () => {
  it('refuses to write into a file that fails PRAGMA quick_check: one line, exit 1, file unchanged', async () => {
    const db = s.path('corrupt.db');
    writeCorruptDatabase(db, { routes: 2000 });
    const before = readFileSync(db);
    const r = await s.run(['route', 'set', P, '--target', Q, '--db', db]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^psarn: database '.*corrupt\.db' is damaged \(PRAGMA quick_check: Tree \d+ page \d+: [^\n\\]+\); restore it from a backup, or copy out what is readable with: sqlite3 '.*corrupt\.db' \.recover \| sqlite3 recovered\.db\n$/,
    );
    assert.deepEqual(readFileSync(db), before);
  });

  it('a read of a damaged page is the same kind of line, not a bare SqliteError', async () => {
    const db = s.path('corrupt.db');
    const r = await s.run(['route', 'get', 'arn:aws:psarn:us-east-1:123456789012:r/7', '--db', db]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^psarn: database '.*corrupt\.db' is damaged \(database disk image is malformed \(SQLITE_CORRUPT\)\); restore it/,
    );
    assert.doesNotMatch(r.stderr, /SqliteError|StoreError/);
  });

  it('an empty file is not a database: it says so and what to do, and is left empty', async () => {
    const db = s.path('empty.db');
    writeFileSync(db, '');
    for (const argv of [
      ['route', 'list'],
      ['route', 'set', P, '--target', Q],
      ['db', 'init'],
    ]) {
      const r = await s.run([...argv, '--db', db]);
      assert.equal(r.status, 1, argv.join(' '));
      assert.match(
        r.stderr,
        /^psarn: database '.*empty\.db' is not a psarn database: the file is empty \(0 bytes\); if it should be one \(a truncated copy\?\), restore it from a backup; otherwise pass another file with --db, or remove this one to let psarn create a new database\n$/,
      );
    }
    assert.equal(statSync(db).size, 0);
  });
});
