/**
 * `psarn zone export` then `psarn zone import` keeps route metadata (issue 9), as a user runs
 * them: routes set with `--meta` (and an alias with metadata, as a routes file gives it), the
 * zone exported, imported into a fresh database and exported again gives the same text, and
 * `route list --json` shows the same targets, policy, TTL, alias and metadata in both.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Store } from '../../src/store/store.js';
import { entryArgs } from '../helpers/daemon.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';
import { skipUnlessTool } from '../helpers/tools.js';
import { tempDir } from '../store/helpers.js';

const run = promisify(execFile);
const PSARN = 'arn:aws:psarn:us-east-1:123456789012';

describe('zone export and import keep route metadata', () => {
  const tmp = tempDir();
  const db = tmp.file('a.db');
  const copy = tmp.file('b.db');
  const file = join(tmp.dir, 'a.zone');
  const cli = (...args: string[]) =>
    run(process.execPath, [...entryArgs('cli'), ...args], {
      cwd: tmp.dir,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSARN_'))),
    });
  const routes = async (at: string) => {
    const list = JSON.parse((await cli('route', 'list', '--json', '--db', at)).stdout) as Record<string, unknown>[];
    // What a route is, not when or at which serial it was written.
    return list.map(({ updatedAt: _u, serial: _s, ...rest }) => rest);
  };

  before(async () => {
    await cli('db', 'init', '--db', db);
    await cli(
      'route',
      'set',
      `${PSARN}:orders/created`,
      '--target',
      'arn:aws:lambda:us-east-1:123456789012:function:v1=90',
      '--target',
      'arn:aws:lambda:us-east-1:123456789012:function:v2=10',
      '--ttl',
      '3600',
      '--meta',
      'team=orders',
      '--meta',
      'note=say "hi"; C:\\path ; (x) $ORIGIN @',
      '--meta',
      'empty=',
      '--meta',
      'unicode=café € 日本 🙂',
      '--meta',
      `long=${'é'.repeat(300)}${'x'.repeat(500)}`,
      '--db',
      db,
    );
    const many = Array.from({ length: 50 }, (_, i) => ['--meta', `k${i}=v${i}=x`]).flat();
    await cli(
      'route',
      'set',
      `${PSARN}:orders/audit`,
      '--target',
      'arn:aws:sqs:us-east-1:123456789012:q',
      '--policy',
      'fanout',
      ...many,
      '--db',
      db,
    );
    await cli('route', 'set', `${PSARN}:orders/plain`, '--target', 'https://hooks.example.com/x', '--db', db);
    // An alias with metadata, as a routes file (the demo's format) writes it.
    const store = Store.open(db);
    try {
      store.setRoute(
        ZONE,
        'orders/latest',
        { ttl: 60, alias: `created.orders.${ZONE}`, metadata: { owner: 'me', 'a=b': '%' } },
        PARAMS,
      );
    } finally {
      store.close();
    }
    await cli('zone', 'export', ZONE, '--output', file, '--db', db);
    await cli('db', 'init', '--db', copy);
    await cli('zone', 'import', file, '--db', copy);
  });
  after(() => tmp.cleanup());

  it('route list --json shows the same routes, metadata included, after the round trip', async () => {
    const before = await routes(db);
    assert.equal(before.length, 4);
    assert.deepEqual(await routes(copy), before);
    const created = before.find((r) => r.path === 'orders/created')!;
    assert.deepEqual(Object.keys(created.metadata as object), ['team', 'note', 'empty', 'unicode', 'long']);
    assert.equal((created.metadata as Record<string, string>).note, 'say "hi"; C:\\path ; (x) $ORIGIN @');
    assert.equal(Object.keys(before.find((r) => r.path === 'orders/audit')!.metadata as object).length, 50);
    assert.deepEqual(before.find((r) => r.path === 'orders/latest')!.metadata, { owner: 'me', 'a=b': '%' });
    assert.deepEqual(before.find((r) => r.path === 'orders/plain')!.metadata, {});
  });

  it('export -> import -> export gives the same text', async () => {
    const again = (await cli('zone', 'export', ZONE, '--db', copy)).stdout;
    assert.equal(again, readFileSync(file, 'utf8'));
    assert.match(again, /^_meta\.created\.orders\.\S+\t3600\tIN\tTXT\t"team=orders"$/m);
  });

  it('named-checkzone and kzonecheck accept the file', async (t) => {
    if (!skipUnlessTool(t, 'named-checkzone') || !skipUnlessTool(t, 'kzonecheck')) return;
    const { stdout } = await run('named-checkzone', [ZONE, file]);
    assert.match(stdout, /^OK$/m);
    await run('kzonecheck', ['-o', ZONE, file]);
  });
});
