/**
 * A zone import killed inside its transaction (kill -9) leaves the zone as it was: the import
 * writes without foreign-key checks and in statements of many rows, and none of that may leak
 * out of the one transaction.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/index.js';
import { lambda, PARAMS, tempDir, weighted, ZONE } from './helpers.js';

describe('zone import killed mid-transaction', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('leaves the old zone intact and the file sound', async () => {
    const file = tmp.file('kill.db');
    const setup = Store.open(file);
    setup.importZones([{ name: ZONE, routes: [{ path: 'old/a', spec: weighted('old-a', 'old-b') }] }], PARAMS);
    const before = setup.zone(ZONE)!;
    setup.close();

    const self = fileURLToPath(import.meta.url);
    const script = self.replace(/import-kill\.test(\.[cm]?[jt]s)$/, `import-process${extname(self)}`);
    // 20,000 routes take ~6 MB of pages: with a 1 MiB cache most reach the WAL before the commit.
    const child = spawn(process.execPath, ['--import', 'tsx', script, file, '20000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      while (!out.includes('inside')) {
        assert.equal(child.exitCode, null, 'the import process exited early');
        const [chunk] = (await once(child.stdout, 'data')) as [string];
        out += chunk;
      }
      // The transaction has written pages to the WAL (so the kill below interrupts real work).
      assert.ok(statSync(`${file}-wal`).size > 1_000_000, `WAL of ${statSync(`${file}-wal`).size} bytes`);
      child.kill('SIGKILL');
      const [, signal] = await exited;
      assert.equal(signal, 'SIGKILL');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    const raw = new Database(file, { readonly: true });
    try {
      assert.equal(raw.pragma('quick_check', { simple: true }), 'ok');
      assert.equal(raw.prepare('SELECT count(*) FROM routes').pluck().get(), 1);
      assert.equal(raw.prepare('SELECT count(*) FROM targets').pluck().get(), 2);
    } finally {
      raw.close();
    }
    const store = Store.open(file, { create: false });
    try {
      assert.deepEqual(store.zone(ZONE), before);
      assert.deepEqual(
        store.getRoute(ZONE, 'old/a')?.targets.map((t) => t.target),
        [lambda('old-a'), lambda('old-b')],
      );
      assert.deepEqual(
        store.journal(ZONE).map((e) => e.op),
        ['create', 'import'],
      );
      // And the next import goes through.
      store.importZones([{ name: ZONE, routes: [{ path: 'new/b', spec: weighted('b') }] }], PARAMS);
      assert.deepEqual(
        [...store.listRoutes(ZONE)].map((r) => r.path),
        ['new/b'],
      );
    } finally {
      store.close();
    }
  });
});
