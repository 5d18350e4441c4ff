/**
 * Picking targets (docs/design.md#selection-semantics). Pure; the random source is passed in so splits are exact in
 * tests. Allocation-free on the first pick: this runs on every event.
 *
 * weighted: the lowest priority group that still has an untried target that may be picked;
 * within it a weighted pick (RFC 2782 with its erratum fixed: a uniform integer in [0, sum-1],
 * so a weight-0 target can never win); weight 0 is drained, except when every weight in the
 * group is 0, then the group splits evenly (Route 53's rule). A failed target is marked tried;
 * the next pick stays in its group while the group has untried targets, then fails over.
 */
import type { Random, RouteTarget } from './types.js';

/** No target left to try. */
export const NONE = -1;

/** Index of the next target to try, or NONE. `tried` holds indexes already tried. */
export function pickWeighted(targets: readonly RouteTarget[], random: Random, tried?: ReadonlySet<number>): number {
  let floor = -1;
  for (;;) {
    // The lowest priority above `floor` that has an untried target.
    let priority = Number.POSITIVE_INFINITY;
    for (let i = 0; i < targets.length; i++) {
      const p = targets[i]!.priority;
      if (p > floor && p < priority && !tried?.has(i)) priority = p;
    }
    if (priority === Number.POSITIVE_INFINITY) return NONE;
    let groupSum = 0;
    let openSum = 0;
    let openCount = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      if (t.priority !== priority) continue;
      groupSum += t.weight;
      if (!tried?.has(i)) {
        openSum += t.weight;
        openCount++;
      }
    }
    if (groupSum === 0) {
      // Every weight in the group is 0: an even split among the untried ones.
      let n = Math.floor(random() * openCount);
      for (let i = 0; i < targets.length; i++) {
        if (targets[i]!.priority === priority && !tried?.has(i) && n-- === 0) return i;
      }
    } else if (openSum > 0) {
      const r = Math.floor(random() * openSum);
      let running = 0;
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i]!;
        if (t.priority !== priority || tried?.has(i)) continue;
        running += t.weight;
        if (running > r) return i;
      }
    }
    floor = priority; // only drained targets left here: fail over to the next group
  }
}

/** fanout: every target with weight > 0, in route order. */
export function fanoutTargets(targets: readonly RouteTarget[]): RouteTarget[] {
  return targets.filter((t) => t.weight > 0);
}
