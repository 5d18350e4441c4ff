/** `psarn key generate` (issue 10): a new random key, in the config's form and in nsupdate's -y form. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { keyText } from '../../src/cli/commands/key.js';
import { loadConfig } from '../../src/config/config.js';
import { parseTsigKey } from '../../src/wire/tsig.js';
import { Sandbox } from './helpers.js';

describe('psarn key generate', () => {
  const box = new Sandbox();
  after(() => box.cleanup());

  for (const [args, algorithm, bytes, name] of [
    [[], 'hmac-sha256', 32, 'psarn-key.'],
    [['transfer-key'], 'hmac-sha256', 32, 'transfer-key.'],
    [['Update.Key', '--algorithm', 'HMAC-SHA512'], 'hmac-sha512', 64, 'update.key.'],
  ] as const) {
    it(`${args.join(' ') || '(no arguments)'}: a ${bytes}-byte ${algorithm} key that psarnd's config and -y both read, the same`, async () => {
      const r = await box.run(['key', 'generate', ...args]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      // The output is a valid config file.
      const file = join(box.dir, `key-${bytes}-${args.length}.yaml`);
      writeFileSync(file, r.stdout);
      const [fromConfig] = loadConfig({ file, env: {}, cwd: box.dir }).config.tsig.keys;
      assert.ok(fromConfig);
      assert.equal(fromConfig.name, name);
      assert.equal(fromConfig.algorithm, algorithm);
      assert.equal(fromConfig.secret.length, bytes);
      const dashY = /^# (hmac-sha\d+:\S+:\S+)$/m.exec(r.stdout)?.[1];
      assert.ok(dashY, r.stdout);
      assert.deepEqual(parseTsigKey(dashY), fromConfig);
    });
  }

  it('needs no config and no database (runs where a config is broken)', async () => {
    const r = await box.run(['key', 'generate', '--config', join(box.dir, 'missing.yaml')]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('every key is new: the secret comes from the random source', async () => {
    const a = await box.run(['key', 'generate']);
    const b = await box.run(['key', 'generate']);
    assert.notEqual(a.stdout, b.stdout);
    const fixed = keyText('k', 'hmac-sha256', (n) => Buffer.alloc(n, 0xff));
    assert.match(fixed, new RegExp(`secret: "${Buffer.alloc(32, 0xff).toString('base64').replace(/[+/]/g, '\\$&')}"`));
  });
});
