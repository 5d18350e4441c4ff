/** Lru: the route cache's bounded map (src/client/lru.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lru } from '../../src/client/lru.js';

describe('Lru', () => {
  it('evicts the least recently used entry past max, and get() makes an entry recent', () => {
    const gone: string[] = [];
    const lru = new Lru<string, number>(3, (value, key) => gone.push(`${key}=${value}`));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    assert.equal(lru.get('a'), 1); // a is now the most recent: b is the oldest
    lru.set('d', 4);
    assert.deepEqual(gone, ['b=2']);
    assert.equal(lru.peek('b'), undefined);
    assert.equal(lru.size, 3);
    lru.set('e', 5);
    assert.deepEqual(gone, ['b=2', 'c=3']);
  });

  it('peek() leaves the order alone', () => {
    const gone: string[] = [];
    const lru = new Lru<string, number>(2, (_v, key) => gone.push(key));
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.peek('a'), 1);
    lru.set('c', 3);
    assert.deepEqual(gone, ['a']);
  });

  it('disposes a replaced value (not the same one set again) and a deleted one', () => {
    const gone: string[] = [];
    const lru = new Lru<string, { v: number }>(2, (value, key) => gone.push(`${key}=${value.v}`));
    const one = { v: 1 };
    lru.set('a', one);
    lru.set('a', one);
    assert.deepEqual(gone, []);
    lru.set('a', { v: 2 });
    assert.deepEqual(gone, ['a=1']);
    assert.equal(lru.delete('a'), true);
    assert.equal(lru.delete('a'), false);
    assert.deepEqual(gone, ['a=1', 'a=2']);
    assert.equal(lru.size, 0);
  });

  it('set() of an existing key makes it the most recent', () => {
    const gone: string[] = [];
    const lru = new Lru<string, number>(2, (_v, key) => gone.push(key));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('a', 10);
    lru.set('c', 3);
    assert.deepEqual(gone, ['a', 'b']); // the replaced 1, then b evicted
    assert.equal(lru.get('a'), 10);
  });

  it('refuses a max that is not a positive integer', () => {
    assert.throws(() => new Lru(0), RangeError);
    assert.throws(() => new Lru(1.5), RangeError);
  });
});
