/**
 * Sticky picks (docs/design.md#sticky-picks): weighted rendezvous hashing of a caller's key, so
 * one key (a tenant, an order id) keeps its target while the route's weights move, and only the
 * keys that must move do. Pure and deterministic: the same key, targets and weights give the same
 * target in every process, with no state and no coordination.
 *
 * Each target scores weight / -ln(u), with u uniform in (0, 1) drawn from a 64-bit hash of
 * (target, key); the highest score wins. -ln(u) is Exp(1), so the winner is target i with
 * probability weight_i / sum (the minimum of independent exponentials with rates w_i), and a
 * weight change moves a key only when its own target lost score or another gained it.
 *
 * The priority and weight-0 rules are those of pickWeighted (src/client/selection.ts): the lowest
 * priority group with an untried target that may be picked; weight 0 is drained, except when every
 * weight in the group is 0, then the group splits evenly (each counts as weight 1). On a failed
 * target the caller marks it tried: the next pick is the next-best score in the same group, then
 * the next group.
 */
import { NONE } from './selection.js';
import type { RouteTarget } from './types.js';

/**
 * Chooses the next target for a key: the index in `targets`, or NONE when none is left. `tried`
 * holds the indexes already tried (failover). Register your own with the `picker` option of
 * PsarnClient; it must be deterministic in (targets, key, tried) for picks to stay sticky.
 */
export type Picker = (targets: readonly RouteTarget[], key: string, tried?: ReadonlySet<number>) => number;

/**
 * The index of the target to try next for `key`, by weighted rendezvous hashing; NONE when every
 * target was tried or is drained.
 * @example
 * const i = pickSticky(route.targets, 'tenant-42');
 * if (i !== NONE) send(route.targets[i].target);
 */
export const pickSticky: Picker = (targets, key, tried) => {
  hash64(key); // once per pick; each target's own hash is memoised
  const keyHi = outHi;
  const keyLo = outLo;
  let floor = -1;
  for (;;) {
    let priority = Number.POSITIVE_INFINITY;
    let groupSum = 0;
    for (let i = 0; i < targets.length; i++) {
      const p = targets[i]!.priority;
      if (p > floor && p < priority && !tried?.has(i)) priority = p;
    }
    if (priority === Number.POSITIVE_INFINITY) return NONE;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      if (t.priority === priority) groupSum += t.weight;
    }
    let best = NONE;
    let bestScore = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      if (t.priority !== priority || tried?.has(i)) continue;
      // All-zero group: even split (Route 53's rule). Otherwise weight 0 scores 0 and never wins.
      const weight = groupSum === 0 ? 1 : t.weight;
      if (weight === 0) continue;
      const score = weight / -Math.log(unit(keyHi, keyLo, t.target));
      // Strictly greater: a tie (equal hashes, ~2^-52) goes to the first in route order, so the
      // pick is the same everywhere.
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best !== NONE) return best;
    floor = priority; // only drained targets left in this group: fail over
  }
};

/**
 * Every target in the order a sticky invoke tries them for `key` (the pick first, then its
 * failovers), drained targets left out.
 */
export function stickyOrder(targets: readonly RouteTarget[], key: string, picker: Picker = pickSticky): number[] {
  const order: number[] = [];
  const tried = new Set<number>();
  for (let i = picker(targets, key); i !== NONE && !tried.has(i); i = picker(targets, key, tried)) {
    order.push(i);
    tried.add(i);
  }
  return order;
}

// The hash. u comes from H(key, target) = Mix13(h(key) XOR h(target)), where h is a 64-bit
// string hash and Mix13 is SplitMix64's finaliser (Stafford's variant 13), a bijection whose every
// output bit depends on every input bit: as the key varies, the targets' values behave as
// independent uniforms. Written here because the client has no dependencies
// (docs/design.md#two-packages) and node:crypto's SHA-256 costs a microsecond a call. h runs two
// 32-bit multiply-xor lanes over the UTF-16 code units (cyrb53's absorption and final crossing),
// then Mix13. A pick hashes the key once and each target once per process (memoised), then costs
// one Mix13 and one log per target. u takes the top 52 bits: (m + 0.5) / 2^52 is exact in a
// double and lies strictly inside (0, 1), so -ln(u) is finite and positive.

/** u in (0, 1) from the hash of (target, key). */
export function unitHash(target: string, key: string): number {
  hash64(key);
  return unit(outHi, outLo, target);
}

/** u for a target, given the key's hash. */
function unit(keyHi: number, keyLo: number, target: string): number {
  const h = targetHash(target);
  mix13((keyHi ^ h[0]) >>> 0, (keyLo ^ h[1]) >>> 0);
  // Top 52 bits: all 32 of hi and the top 20 of lo.
  return (outHi * 1048576 + (outLo >>> 12) + 0.5) / 4503599627370496;
}

/**
 * Each target's 64-bit hash, computed once per target string: a route's targets are the same on
 * every pick, and an ARN is longer than most keys. Bounded: past MAX_TARGET_HASHES distinct
 * targets the memo starts over (a process sees a few dozen).
 */
const targetHashes = new Map<string, readonly [number, number]>();
const MAX_TARGET_HASHES = 4096;

function targetHash(target: string): readonly [number, number] {
  let h = targetHashes.get(target);
  if (h === undefined) {
    hash64(target);
    h = [outHi, outLo];
    if (targetHashes.size >= MAX_TARGET_HASHES) targetHashes.clear();
    targetHashes.set(target, h);
  }
  return h;
}

/** h(text) into outHi:outLo. */
function hash64(text: string): void {
  let a = 0xdeadbeef;
  let b = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x9e3779b1);
    b = Math.imul(b ^ c, 0x5f356495);
  }
  mix13(
    (Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35)) >>> 0,
    (Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35)) >>> 0,
  );
}

// hash64, mix13 and mul64 return through these two (no tuple to allocate on every score).
let outHi = 0;
let outLo = 0;

/** SplitMix64's finaliser (Stafford's Mix13) of hi:lo (unsigned 32-bit halves), into outHi:outLo. */
function mix13(hi: number, lo: number): void {
  // x ^= x >>> 30; x *= 0xbf58476d1ce4e5b9; x ^= x >>> 27; x *= 0x94d049bb133111eb; x ^= x >>> 31
  mul64(hi ^ (hi >>> 30), (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0, 0xbf58476d, 0x1ce4e5b9);
  hi = outHi;
  lo = outLo;
  mul64(hi ^ (hi >>> 27), (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0, 0x94d049bb, 0x133111eb);
  hi = outHi;
  lo = outLo;
  outLo = (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0;
  outHi = (hi ^ (hi >>> 31)) >>> 0;
}

/** (hi:lo × chi:clo) mod 2^64 into outHi:outLo; lo, chi, clo unsigned 32-bit, hi any 32-bit pattern. */
function mul64(hi: number, lo: number, chi: number, clo: number): void {
  // lo × clo in full through 16-bit pieces (each product < 2^32, so exact in a double).
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const b0 = clo & 0xffff;
  const b1 = clo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  outLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  // The cross terms only reach the high half; the sum stays below 2^53, so >>> 0 reduces it exactly.
  outHi = (carry + Math.imul(hi, clo) + Math.imul(lo, chi)) >>> 0;
}

/** Mix13 on a 64-bit BigInt, through the 32-bit code above (for tests against a BigInt reference). */
export function mix13BigInt(x: bigint): bigint {
  mix13(Number(x >> 32n), Number(x & 0xffffffffn));
  return (BigInt(outHi) << 32n) | BigInt(outLo);
}
