/**
 * What share of calls each target of a route gets (docs/design.md#selection-semantics), for
 * `route get` and the psARN summary of `psarn dig`. Pure.
 *
 * - weighted: the lowest priority value is the primary group; each target there gets
 *   weight / sum of the group's weights; weight 0 is drained, unless every weight in the group
 *   is 0, then they split evenly (Route 53's rule). Other groups only serve on failover.
 * - fanout: every target with weight > 0 gets every call (100 %); weight 0 is drained.
 */
import type { Policy } from '../store/types.js';

export type ShareRole = 'primary' | 'failover' | 'drained';

export interface TargetShare {
  /** Fraction of calls, 0..1; 0 for failover and drained targets. */
  share: number;
  role: ShareRole;
}

/** Shares in the order of `targets`. */
export function computeShares(policy: Policy, targets: readonly { weight: number; priority: number }[]): TargetShare[] {
  if (policy === 'fanout') {
    return targets.map((t) => (t.weight > 0 ? { share: 1, role: 'primary' } : { share: 0, role: 'drained' }));
  }
  if (targets.length === 0) return [];
  const primary = Math.min(...targets.map((t) => t.priority));
  const group = targets.filter((t) => t.priority === primary);
  const sum = group.reduce((acc, t) => acc + t.weight, 0);
  return targets.map((t): TargetShare => {
    if (t.priority !== primary) return { share: 0, role: 'failover' };
    if (sum === 0) return { share: 1 / group.length, role: 'primary' };
    return t.weight > 0 ? { share: t.weight / sum, role: 'primary' } : { share: 0, role: 'drained' };
  });
}

/** `90%`, `33.3%`, `0%`; `failover` and `drained` for targets without a share. */
export function formatShare(s: TargetShare): string {
  if (s.role !== 'primary') return s.role;
  const pct = Math.round(s.share * 1000) / 10;
  return `${pct}%`;
}
