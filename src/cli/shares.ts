/**
 * How `route get`, the psARN summary of `psarn dig` and `psarn invoke` print a target's share of
 * the calls. The shares themselves are the graph's (src/map/shares.ts,
 * docs/design.md#selection-semantics): one rule for every place that shows them.
 */
import type { EdgeShare } from '../map/shares.js';

/** `90%`, `33.3%`, `0%`; `failover` and `drained` for targets without a share. */
export function formatShare(s: EdgeShare): string {
  if (s.role !== 'primary') return s.role;
  const pct = Math.round(s.share * 1000) / 10;
  return `${pct}%`;
}
