import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fanoutTargets, NONE, pickWeighted } from '../../src/client/selection.js';
import type { RouteTarget } from '../../src/client/types.js';

const t = (target: string, weight: number, priority = 10): RouteTarget => ({ target, weight, priority });

/** A random source that walks [0, 1) in `n` even steps: every integer in [0, sum-1] exactly n/sum times. */
function sweep(n: number): () => number {
  let i = 0;
  return () => (i++ % n) / n;
}

function counts(targets: RouteTarget[], n: number, tried?: Set<number>): number[] {
  const random = sweep(n);
  const out = targets.map(() => 0);
  for (let k = 0; k < n; k++) {
    const i = pickWeighted(targets, random, tried);
    if (i !== NONE) out[i]!++;
  }
  return out;
}

describe('pickWeighted', () => {
  it('splits 90/10 exactly with an even random sweep', () => {
    assert.deepEqual(counts([t('a', 90), t('b', 10)], 1000), [900, 100]);
  });

  it('splits 30/50/20 exactly', () => {
    assert.deepEqual(counts([t('a', 30), t('b', 50), t('c', 20)], 1000), [300, 500, 200]);
  });

  it('never picks weight 0 when the group has weight (RFC 2782 erratum)', () => {
    assert.deepEqual(counts([t('a', 0), t('b', 1), t('c', 0)], 100), [0, 100, 0]);
    // random() just below 1 still lands on a weighted target
    assert.equal(
      pickWeighted([t('a', 1), t('b', 0)], () => 0.9999999),
      0,
    );
  });

  it('splits an all-zero group evenly (Route 53)', () => {
    assert.deepEqual(counts([t('a', 0), t('b', 0), t('c', 0), t('d', 0)], 400), [100, 100, 100, 100]);
  });

  it('uses the lowest priority group only', () => {
    assert.deepEqual(counts([t('backup', 100, 20), t('primary', 1, 10)], 50), [0, 50]);
  });

  it('stays in the group while it has untried targets, then fails over', () => {
    const targets = [t('a', 90), t('b', 10), t('backup', 1, 20)];
    assert.equal(
      pickWeighted(targets, () => 0, new Set([0])),
      1,
    );
    assert.equal(
      pickWeighted(targets, () => 0, new Set([0, 1])),
      2,
    );
    assert.equal(
      pickWeighted(targets, () => 0, new Set([0, 1, 2])),
      NONE,
    );
  });

  it('a drained target is not a failover candidate; the next group is', () => {
    const targets = [t('a', 10), t('drained', 0), t('backup', 5, 20)];
    assert.equal(
      pickWeighted(targets, () => 0, new Set([0])),
      2,
    );
  });

  it('an all-zero group keeps splitting among its untried targets', () => {
    const targets = [t('a', 0), t('b', 0)];
    assert.equal(
      pickWeighted(targets, () => 0.99, new Set([1])),
      0,
    );
  });

  it('returns NONE for no targets', () => {
    assert.equal(pickWeighted([], Math.random), NONE);
  });

  it('with the real random source, 30/50/20 over 100k picks lands within a point', () => {
    const targets = [t('a', 30), t('b', 50), t('c', 20)];
    const out = [0, 0, 0];
    for (let k = 0; k < 100_000; k++) out[pickWeighted(targets, Math.random)]!++;
    const pct = out.map((c) => (c / 100_000) * 100);
    for (const [i, expected] of [30, 50, 20].entries()) {
      assert.ok(Math.abs(pct[i]! - expected) < 1, `target ${i}: ${pct[i]}% vs ${expected}%`);
    }
  });
});

describe('fanoutTargets', () => {
  it('every target with weight > 0, across priorities', () => {
    assert.deepEqual(
      fanoutTargets([t('a', 1), t('b', 0), t('c', 5, 20)]).map((x) => x.target),
      ['a', 'c'],
    );
  });
});
