import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalEntry } from '../../src/store/types.js';
import { changedKeys } from '../../src/zone/deps.js';

const Z = 'z.';
const entry = (op: JournalEntry['op'], path?: string): JournalEntry => ({
  zone: Z,
  serial: 2,
  op,
  at: 0,
  ...(path !== undefined ? { path } : {}),
});

describe('changedKeys', () => {
  it('a set or delete invalidates its route and the serial-bearing answers', () => {
    assert.deepEqual(changedKeys(Z, [entry('set', 'a/b'), entry('delete', 'c')]), ['s:z.', 'p:z.|a/b', 'p:z.|c']);
  });
  it('a flush invalidates the epoch-bearing answers', () => {
    assert.deepEqual(changedKeys(Z, [entry('flush')]), ['s:z.', 'e:z.']);
  });
  it('an import, or a journal that says nothing, invalidates the whole zone', () => {
    assert.deepEqual(changedKeys(Z, [entry('set', 'a'), entry('import')]), ['z:z.']);
    assert.deepEqual(changedKeys(Z, []), ['z:z.']);
  });
});
