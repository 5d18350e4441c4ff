/**
 * Sticky picks (docs/design.md#sticky-picks): weighted rendezvous hashing. Exact: the keys are
 * fixed strings and the hash is deterministic, so every count below is the same on every run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NONE } from '../../src/client/selection.js';
import { mix13BigInt, pickSticky, stickyOrder, unitHash } from '../../src/client/sticky.js';
import type { RouteTarget } from '../../src/client/types.js';

const KEYS = 100_000;
const keys = Array.from({ length: KEYS }, (_, i) => `tenant-${i}`);
const lambda = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const t = (name: string, weight: number, priority = 10): RouteTarget => ({ target: lambda(name), weight, priority });

/** The target each key picks. */
const picks = (targets: RouteTarget[]) => keys.map((k) => pickSticky(targets, k));

/** Percent of the keys on each target. */
function shares(targets: RouteTarget[]): number[] {
  const out = targets.map(() => 0);
  for (const i of picks(targets)) out[i]!++;
  return out.map((n) => (100 * n) / KEYS);
}

function assertShares(targets: RouteTarget[], within = 1): void {
  const sum = targets.reduce((s, x) => s + x.weight, 0);
  const got = shares(targets);
  targets.forEach((x, i) => {
    const want = sum === 0 ? 100 / targets.length : (100 * x.weight) / sum; // all-zero: even
    assert.ok(Math.abs(got[i]! - want) <= within, `${x.target}: ${got[i]}% of keys, weight says ${want}%`);
  });
}

/** SplitMix64's finaliser in BigInt, the reference for the 32-bit code. */
function mix13Reference(x: bigint): bigint {
  const M = (1n << 64n) - 1n;
  x ^= x >> 30n;
  x = (x * 0xbf58476d1ce4e5b9n) & M;
  x ^= x >> 27n;
  x = (x * 0x94d049bb133111ebn) & M;
  return x ^ (x >> 31n);
}

describe('the sticky hash', () => {
  it('computes SplitMix64 Mix13 exactly with 32-bit arithmetic', () => {
    const M = (1n << 64n) - 1n;
    const edge = [0n, 1n, M, 1n << 63n, 0xffffffffn, 0xffffffffn << 32n, 0x8000000080000000n];
    let x = 0x0123456789abcdefn;
    const inputs = [...edge];
    for (let i = 0; i < 20_000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & M; // a 64-bit LCG walks the inputs
      inputs.push(x);
    }
    for (const v of inputs) assert.equal(mix13BigInt(v), mix13Reference(v), `input ${v.toString(16)}`);
  });

  it('gives u strictly inside (0, 1), spread evenly over ten bins', () => {
    const bins = new Array<number>(10).fill(0);
    for (const k of keys) {
      const u = unitHash(lambda('a'), k);
      assert.ok(u > 0 && u < 1, `u = ${u}`);
      bins[Math.floor(u * 10)]!++;
    }
    for (const n of bins) assert.ok(Math.abs(n - KEYS / 10) < 600, `bins ${bins.join(' ')}`);
  });

  it('depends on the target and the key, and not on where one ends and the other starts', () => {
    assert.notEqual(unitHash('arn:a', 'k'), unitHash('arn:b', 'k'));
    assert.notEqual(unitHash('arn:a', 'k1'), unitHash('arn:a', 'k2'));
    assert.notEqual(unitHash('arn:ab', 'c'), unitHash('arn:a', 'bc'));
    assert.equal(unitHash('arn:a', 'k'), unitHash('arn:a', 'k'));
    // No two of 100k keys collide on one target.
    assert.equal(new Set(keys.map((k) => unitHash(lambda('a'), k))).size, KEYS);
  });
});

describe('pickSticky', () => {
  it('splits 70/30 within 1 point over 100k keys', () => {
    assertShares([t('a', 70), t('b', 30)]);
  });

  it('splits 30/50/20 and 1/1/1/1 within 1 point', () => {
    assertShares([t('a', 30), t('b', 50), t('c', 20)]);
    assertShares([t('a', 1), t('b', 1), t('c', 1), t('d', 1)]);
  });

  it('is sticky: the same key gets the same target, whatever the order of the targets', () => {
    const targets = [t('a', 30), t('b', 50), t('c', 20)];
    const reversed = [...targets].reverse();
    for (const k of keys.slice(0, 5000)) {
      assert.equal(targets[pickSticky(targets, k)], reversed[pickSticky(reversed, k)]);
    }
  });

  it('moving 10 points of weight from A to B moves only keys from A to B, about 10% of them', () => {
    const before = picks([t('a', 70), t('b', 30)]);
    const after = picks([t('a', 60), t('b', 40)]);
    let moved = 0;
    for (let k = 0; k < KEYS; k++) {
      if (before[k] === after[k]) continue;
      assert.deepEqual([before[k], after[k]], [0, 1], `key ${keys[k]} moved from ${before[k]} to ${after[k]}`);
      moved++;
    }
    const pct = (100 * moved) / KEYS;
    assert.ok(pct >= 9 && pct <= 11, `${pct}% of keys moved`);
  });

  it('a rollout step (new target up, the others down in proportion) moves keys only to the new target', () => {
    // 60/40 → new 10, the rest 54/36 → new 25, the rest 45/30: what `psarn rollout` writes.
    const steps = [
      [t('a', 60), t('b', 40), t('new', 0)],
      [t('a', 54), t('b', 36), t('new', 10)],
      [t('a', 45), t('b', 30), t('new', 25)],
    ];
    const [p0, p1, p2] = steps.map(picks) as [number[], number[], number[]];
    for (const [from, to, step] of [
      [p0, p1, 10],
      [p1, p2, 15],
    ] as const) {
      let moved = 0;
      for (let k = 0; k < KEYS; k++) {
        if (from[k] === to[k]) continue;
        assert.equal(to[k], 2, `key ${keys[k]} moved from ${from[k]} to ${to[k]}, not to the new target`);
        moved++;
      }
      const pct = (100 * moved) / KEYS;
      assert.ok(Math.abs(pct - step) <= 1, `${pct}% of keys moved for a ${step}-point step`);
    }
  });

  it('with three targets an A→B shift keeps C at its share (some keys pass through C: rendezvous is not a ring)', () => {
    // Documented in docs/design.md#sticky-picks: C loses keys to B and gains as many from A.
    const before = picks([t('a', 50), t('b', 30), t('c', 20)]);
    const after = picks([t('a', 40), t('b', 40), t('c', 20)]);
    let toB = 0;
    let moved = 0;
    const cBefore = before.filter((i) => i === 2).length;
    const cAfter = after.filter((i) => i === 2).length;
    for (let k = 0; k < KEYS; k++) {
      if (before[k] === after[k]) continue;
      moved++;
      assert.notEqual(after[k], 0, 'no key moves to A, whose weight fell');
      assert.notEqual(before[k], 1, 'no key leaves B, whose weight rose');
      if (after[k] === 1) toB++;
    }
    assert.ok(Math.abs(cAfter - cBefore) / KEYS < 0.01, `C: ${cBefore} → ${cAfter} keys`);
    assert.ok(toB / KEYS >= 0.09 && toB / KEYS <= 0.11, `${toB} keys moved to B`);
    assert.ok(moved / KEYS < 0.13, `${moved} keys moved in all`); // ~11.8% in theory
  });

  it('never picks weight 0 when the group has weight; splits an all-zero group evenly', () => {
    const drained = picks([t('a', 0), t('b', 5), t('c', 0)]);
    assert.ok(drained.every((i) => i === 1));
    assertShares([t('a', 0), t('b', 0), t('c', 0)]);
    assertShares([t('a', 0), t('b', 0)]);
  });

  it('uses the lowest priority group; on failure the next-best score in the group, then the next group', () => {
    const targets = [t('backup', 100, 20), t('a', 30), t('b', 50), t('c', 20), t('drained', 0)];
    for (const k of keys.slice(0, 2000)) {
      const order = stickyOrder(targets, k);
      // The group in score order, then the backup; drained never.
      assert.equal(order.length, 4);
      assert.equal(order.at(-1), 0);
      const scores = order.slice(0, 3).map((i) => targets[i]!.weight / -Math.log(unitHash(targets[i]!.target, k)));
      assert.deepEqual(
        scores,
        [...scores].sort((x, y) => y - x),
      );
      // Stable per key: failing the first gives the second, every time.
      assert.equal(pickSticky(targets, k, new Set([order[0]!])), order[1]);
      assert.equal(pickSticky(targets, k, new Set([order[0]!, order[1]!])), order[2]);
    }
    assert.equal(pickSticky(targets, 'k', new Set([0, 1, 2, 3])), NONE);
  });

  it('an all-zero group fails over among its untried targets, then to the next group', () => {
    const targets = [t('a', 0), t('b', 0), t('next', 0, 20)];
    assert.equal(stickyOrder(targets, 'k').length, 3);
    assert.equal(stickyOrder(targets, 'k').at(-1), 2);
  });
});
