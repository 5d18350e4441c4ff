/**
 * The share of the calls each target of a route gets (docs/design.md#selection-semantics): the
 * graph's `routes` edges, the console's bars, and what `psarn route get`, `psarn dig` and `psarn
 * invoke` print (src/cli/shares.ts formats them). Pure.
 *
 * - weighted: the lowest priority value is the group the client uses; each of its targets gets
 *   weight / sum of the group's weights; weight 0 is drained, unless every weight in the group
 *   is 0, then they split evenly (Route 53's rule). The other groups serve only on failover: 0.
 * - fanout: every target with weight > 0 gets every call (1); weight 0 is drained (0).
 */
import type { Policy } from '../store/types.js';

export type ShareRole = 'primary' | 'failover' | 'drained';

export interface EdgeShare {
  /** Fraction of the calls, 0..1. */
  share: number;
  role: ShareRole;
}

/** Shares in the order of `targets`. */
export function edgeShares(policy: Policy, targets: readonly { weight: number; priority: number }[]): EdgeShare[] {
  if (policy === 'fanout') {
    return targets.map((t) => (t.weight > 0 ? { share: 1, role: 'primary' } : { share: 0, role: 'drained' }));
  }
  if (targets.length === 0) return [];
  const primary = Math.min(...targets.map((t) => t.priority));
  const group = targets.filter((t) => t.priority === primary);
  const sum = group.reduce((acc, t) => acc + t.weight, 0);
  return targets.map((t): EdgeShare => {
    if (t.priority !== primary) return { share: 0, role: 'failover' };
    if (sum === 0) return { share: 1 / group.length, role: 'primary' };
    return t.weight > 0 ? { share: t.weight / sum, role: 'primary' } : { share: 0, role: 'drained' };
  });
}

/** `90%`, `33.3%`: a share as the renderers label an edge (one decimal). */
export function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
