/**
 * A new database, its -wal and -shm files and the folder created for it are owner-only (0600 /
 * 0700) by default, whatever the umask, or exactly the configured mode; existing files keep theirs.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabaseFile, dirModeFor } from '../../src/store/file-mode.js';
import { Store } from '../../src/store/store.js';
import { Sandbox } from '../cli/helpers.js';
import { PARAMS } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const modeOf = (path: string) => statSync(path).mode & 0o777;
const octal = (mode: number) => `0${mode.toString(8)}`;

/** Opens (creating) a store, writes one route so the -wal and -shm files exist, and keeps it open. */
function createWithWal(file: string, mode?: number): Store {
  const store = Store.open(file, mode === undefined ? {} : { mode });
  store.setRoute(
    ZONE,
    'orders/created',
    {
      ttl: 300,
      policy: 'weighted',
      targets: [{ target: 'arn:aws:lambda:us-east-1:123456789012:function:f', weight: 1, priority: 10 }],
    },
    PARAMS,
  );
  return store;
}

describe('database file modes', { skip: process.platform === 'win32' && 'no POSIX modes' }, () => {
  const dirs: string[] = [];
  let umask = 0;
  before(() => {
    // The defect showed under the common umask 022: files 0644, folders 0755.
    umask = process.umask(0o022);
  });
  after(() => {
    process.umask(umask);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'psarn-mode-'));
    dirs.push(d);
    return d;
  };

  it('creates the database, -wal and -shm 0600 and its folders 0700 by default', () => {
    const root = temp();
    const file = join(root, 'data', 'nested', 'psarn.db');
    const store = createWithWal(file);
    try {
      assert.ok(existsSync(`${file}-wal`) && existsSync(`${file}-shm`), 'WAL mode files exist');
      for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(octal(modeOf(f)), '0600', f);
      assert.equal(octal(modeOf(join(root, 'data'))), '0700');
      assert.equal(octal(modeOf(join(root, 'data', 'nested'))), '0700');
    } finally {
      store.close();
    }
  });

  it('uses a configured mode exactly, even when the umask would remove bits', () => {
    const root = temp();
    const file = join(root, 'shared', 'psarn.db');
    const previous = process.umask(0o077);
    let store: Store | undefined;
    try {
      store = createWithWal(file, 0o640);
    } finally {
      process.umask(previous);
    }
    try {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(octal(modeOf(f)), '0640', f);
      assert.equal(octal(modeOf(join(root, 'shared'))), '0750');
    } finally {
      store.close();
    }
  });

  it('leaves an existing database and folder as they are', () => {
    const root = temp();
    const file = join(root, 'psarn.db');
    createWithWal(file, 0o644).close();
    chmodSync(root, 0o755);
    createWithWal(file).close();
    assert.equal(octal(modeOf(file)), '0644');
    assert.equal(octal(modeOf(root)), '0755');
  });

  it('dirModeFor adds x where r is set', () => {
    assert.deepEqual(
      [0o600, 0o640, 0o644, 0o660].map((m) => octal(dirModeFor(m))),
      ['0700', '0750', '0755', '0770'],
    );
  });

  it('createDatabaseFile does not touch a file that exists', () => {
    const root = temp();
    const file = join(root, 'psarn.db');
    createDatabaseFile(file, 0o600);
    chmodSync(file, 0o644);
    createDatabaseFile(file, 0o600);
    assert.equal(octal(modeOf(file)), '0644');
  });

  it('psarn db init follows dbMode from the config (env PSARN_DB_MODE)', async () => {
    const box = new Sandbox();
    dirs.push(box.dir);
    box.env.PSARN_DB = join(box.dir, 'data', 'psarn.db');
    await box.ok(['db', 'init']);
    assert.equal(octal(modeOf(join(box.dir, 'data', 'psarn.db'))), '0600');
    assert.equal(octal(modeOf(join(box.dir, 'data'))), '0700');
    box.env.PSARN_DB = join(box.dir, 'group', 'psarn.db');
    box.env.PSARN_DB_MODE = '0660';
    await box.ok(['db', 'init']);
    assert.equal(octal(modeOf(join(box.dir, 'group', 'psarn.db'))), '0660');
    assert.equal(octal(modeOf(join(box.dir, 'group'))), '0770');
  });
});
