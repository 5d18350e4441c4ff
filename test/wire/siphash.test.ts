import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { siphash24 } from '../../src/wire/siphash.js';

/**
 * The reference vectors (vectors.h of github.com/veorq/SipHash, and Appendix A of the paper for
 * 15 bytes): key 00 01 .. 0f, message 00 01 .. (len - 1), output as little-endian bytes. Lengths
 * 0 to 15 cover every tail length with and without a whole word before it.
 */
const VECTORS: [number, string][] = [
  [0, '310e0edd47db6f72'],
  [1, 'fd67dc93c539f874'],
  [2, '5a4fa9d909806c0d'],
  [3, '2d7efbd796666785'],
  [4, 'b7877127e09427cf'],
  [5, '8da699cd64557618'],
  [6, 'cee3fe586e46c9cb'],
  [7, '37d1018bf50002ab'],
  [8, '6224939a79f5f593'],
  [9, 'b0e4a90bdf82009e'],
  [10, 'f3b9dd94c5bb5d7a'],
  [11, 'a7ad6b22462fb3f4'],
  [12, 'fbe50e86bc8f1e75'],
  [13, '903d84c02756ea14'],
  [14, 'eef27a8e90ca23f7'],
  [15, 'e545be4961ca29a1'],
  // 63 bytes: seven whole words and a 7-byte tail (0x958a324ceb064572 as a u64).
  [63, '724506eb4c328a95'],
];

const key = Buffer.from(Array.from({ length: 16 }, (_, i) => i));

describe('siphash24', () => {
  for (const [len, want] of VECTORS) {
    it(`matches the reference vector for ${len} bytes`, () => {
      const message = Buffer.from(Array.from({ length: len }, (_, i) => i));
      assert.equal(Buffer.from(siphash24(key, message)).toString('hex'), want);
    });
  }

  it('writes into a given buffer at an offset, and leaves the rest alone', () => {
    const out = Buffer.alloc(12, 0xee);
    siphash24(key, Buffer.alloc(0), out, 2);
    assert.equal(out.toString('hex'), 'eeee310e0edd47db6f72eeee');
  });

  it('refuses a key that is not 16 bytes', () => {
    assert.throws(() => siphash24(Buffer.alloc(8), Buffer.alloc(0)), RangeError);
  });
});
