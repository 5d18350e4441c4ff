import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeUriRdata, encodeUriRdata, WireError } from '../../src/wire/index.js';

describe('URI rdata (RFC 7553 §4.5)', () => {
  const samples = [
    { priority: 10, weight: 90, target: 'arn:aws:lambda:us-east-1:123456789012:function:Orders' },
    { priority: 0, weight: 0, target: 'h' },
    { priority: 65535, weight: 65535, target: 'https://Example.COM/path?q=1&r=ü' },
    { priority: 20, weight: 1, target: 'x'.repeat(1000) },
  ];

  it('round-trips priority, weight and the target byte for byte', () => {
    for (const s of samples) assert.deepEqual(decodeUriRdata(encodeUriRdata(s)), s);
  });

  it('lays out priority, weight, then target bytes without a length prefix', () => {
    assert.deepEqual(encodeUriRdata({ priority: 258, weight: 3, target: 'ab' }), Buffer.from([1, 2, 0, 3, 0x61, 0x62]));
  });

  it('refuses out-of-range numbers and an empty target', () => {
    for (const bad of [
      { priority: -1, weight: 0, target: 'x' },
      { priority: 0, weight: 65536, target: 'x' },
      { priority: 1.5, weight: 0, target: 'x' },
      { priority: 0, weight: 0, target: '' },
    ]) {
      assert.throws(() => encodeUriRdata(bad), WireError, JSON.stringify(bad));
    }
  });

  it('refuses rdata shorter than 5 bytes and a target that is not UTF-8', () => {
    assert.throws(() => decodeUriRdata(Buffer.from([0, 1, 0, 2])), WireError);
    assert.throws(() => decodeUriRdata(Buffer.alloc(0)), WireError);
    assert.throws(() => decodeUriRdata(Buffer.from([0, 1, 0, 2, 0xff])), /UTF-8/);
  });
});
