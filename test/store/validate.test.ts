import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPath } from '../../src/store/validate.js';
import { prng } from '../wire/build.js';
import { ZONE } from './helpers.js';

describe('checkPath', () => {
  // The rule, written out independently of the code (which has a one-pass fast path).
  const SEGMENT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
  const valid = (path: string) => {
    const segments = path.split('/');
    return segments.length <= 8 && segments.every((s) => SEGMENT.test(s));
  };
  const accepts = (path: string) => {
    try {
      checkPath(ZONE, path);
      return true;
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'ERR_INVALID_ROUTE');
      return false;
    }
  };

  it('accepts exactly the paths of 1..8 lowercase segments (20,000 seeded paths)', () => {
    const random = prng(3);
    const chars = 'az09-_/A.é';
    let ok = 0;
    for (let i = 0; i < 20_000; i++) {
      let path = '';
      const length = random() < 0.02 ? 60 + Math.floor(random() * 500) : Math.floor(random() * 20);
      for (let k = 0; k < length; k++)
        path += random() < 0.7 ? chars[k % 3]! : chars[Math.floor(random() * chars.length)]!;
      assert.equal(accepts(path), valid(path), JSON.stringify(path));
      if (valid(path)) ok++;
    }
    assert.ok(ok > 1000 && ok < 19_000, `${ok} valid paths`);
    for (const path of ['a', 'orders/created', `${'a'.repeat(63)}`, 'a/b/c/d/e/f/g/h', '0-_']) {
      assert.ok(accepts(path), path);
    }
    for (const path of [
      '',
      '/',
      'a/',
      '/a',
      'a//b',
      `${'a'.repeat(64)}`,
      'a/b/c/d/e/f/g/h/i',
      '-a',
      '_a',
      'A',
      'a.b',
    ]) {
      assert.ok(!accepts(path), path);
    }
  });
});
