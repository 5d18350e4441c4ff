import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadyAnswer } from '../../src/wire/response.js';
import { AnswerCache } from '../../src/zone/cache.js';

function ready(bytes: number): ReadyAnswer {
  return { rcode: 0, aa: true, ancount: 1, nscount: 0, arcount: 0, body: Buffer.alloc(bytes), additionalAt: bytes };
}

describe('AnswerCache', () => {
  it('returns what was set until a zone it was read from changes', () => {
    const cache = new AnswerCache();
    const a = ready(10);
    cache.set('k1', a, ['z1.']);
    cache.set('k2', ready(10), ['z2.']);
    assert.equal(cache.get('k1'), a);
    cache.invalidate(['z1.']);
    assert.equal(cache.get('k1'), undefined);
    assert.ok(cache.get('k2'));
  });

  it('an answer read from two zones is dropped when either changes', () => {
    const cache = new AnswerCache();
    cache.set('k', ready(10), ['z1.', 'z2.']);
    cache.invalidate(['z2.']);
    assert.equal(cache.get('k'), undefined);
  });

  it('an entry is dropped only when one of its own keys changes', () => {
    const cache = new AnswerCache();
    cache.set('route-a', ready(10), ['z:z1.', 'p:z1.|a', 'e:z1.']);
    cache.set('route-b', ready(10), ['z:z1.', 'p:z1.|b', 'e:z1.']);
    cache.set('refused', ready(10), ['']);
    cache.invalidate(['s:z1.', 'p:z1.|a']);
    assert.equal(cache.get('route-a'), undefined);
    assert.ok(cache.get('route-b'));
    assert.ok(cache.get('refused'));
    cache.invalidate(['']);
    assert.equal(cache.get('refused'), undefined);
  });

  it('an entry set after an invalidation is valid', () => {
    const cache = new AnswerCache();
    cache.invalidate(['z1.']);
    cache.set('k', ready(10), ['z1.']);
    assert.ok(cache.get('k'));
  });

  it('is bounded in bytes', () => {
    const cache = new AnswerCache({ maxBytes: 10_000 });
    for (let i = 0; i < 1000; i++) cache.set(`key${i}`, ready(100), ['z.']);
    assert.ok(cache.size < 100, `size ${cache.size}`);
    assert.ok(cache.get('key999'), 'the newest entry stays');
    assert.equal(cache.get('key0'), undefined);
  });

  it('keeps what is used through generation turnover, and drops what is not', () => {
    const cache = new AnswerCache({ maxBytes: 20_000 });
    cache.set('hot', ready(100), ['z.']);
    cache.set('cold', ready(100), ['z.']);
    for (let i = 0; i < 2000; i++) {
      cache.set(`filler${i}`, ready(100), ['z.']);
      if (i % 10 === 0) assert.ok(cache.get('hot'), `hot lost at ${i}`);
    }
    assert.equal(cache.get('cold'), undefined);
  });
});
