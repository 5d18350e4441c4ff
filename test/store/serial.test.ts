import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextSerial, serialGreater } from '../../src/store/index.js';

describe('RFC 1982 serials', () => {
  it('nextSerial adds one modulo 2^32 and skips 0', () => {
    assert.equal(nextSerial(1), 2);
    assert.equal(nextSerial(2 ** 31), 2 ** 31 + 1);
    assert.equal(nextSerial(2 ** 32 - 2), 2 ** 32 - 1);
    assert.equal(nextSerial(2 ** 32 - 1), 1);
  });

  it('serialGreater compares within half the space, across the wrap', () => {
    const cases: [number, number, boolean][] = [
      [2, 1, true],
      [1, 2, false],
      [5, 5, false],
      [1, 2 ** 32 - 1, true], // wrapped forward
      [2 ** 32 - 1, 1, false],
      [2 ** 31 - 1 + 10, 10, true], // the farthest "ahead"
      [2 ** 31 + 10, 10, false], // exactly half: undefined, so not greater
      [2 ** 31 + 11, 10, false], // more than half ahead is behind
    ];
    for (const [a, b, want] of cases) assert.equal(serialGreater(a, b), want, `${a} > ${b}`);
  });
});
