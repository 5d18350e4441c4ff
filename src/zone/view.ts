/**
 * The zone view the answer function reads. It is an interface so that the answer function stays
 * pure and testable: tests build an in-memory view from zone-file text; the daemon uses the
 * store-backed view.
 */
import type { RouteData, ZoneRow } from '../store/types.js';
import type { CatalogZone } from './catalog.js';

export interface ZoneView {
  /** TTL of `_epoch` answers (config epochTtl). */
  readonly epochTtl: number;
  /**
   * The deepest zone that contains the name with these labels (leftmost first, lowercase), or
   * undefined when the name is outside every zone (REFUSED). `labels` excludes the root.
   */
  findZone(labels: readonly string[]): ZoneRow | undefined;
  /** The route at `path` ('orders/created') of a zone. */
  getRoute(zone: ZoneRow, path: string): RouteData | undefined;
  /**
   * The metadata of the route at `path`, for `_meta.<route name>` TXT (src/zone/meta.ts); a view
   * without it serves no `_meta` names (NXDOMAIN).
   */
  getMetadata?(zone: ZoneRow, path: string): Record<string, string> | undefined;
  /** True when a route exists below `path` (the name is an empty non-terminal, RFC 8020). */
  hasDescendants(zone: ZoneRow, path: string): boolean;
  /** The catalog zone (docs/design.md#catalog-zone), when this view serves one. */
  catalog?(): CatalogZone | undefined;
}

/** Splits an absolute name ('a.b.c.') into lowercase labels (['a','b','c']). Plain LDH/underscore names only. */
export function nameLabels(name: string): string[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return trimmed === '' ? [] : trimmed.toLowerCase().split('.');
}

/** Finds the deepest zone among `zones` (keyed by absolute lowercase name) that contains `labels`. */
export function findDeepestZone<Z>(zones: ReadonlyMap<string, Z>, labels: readonly string[]): Z | undefined {
  for (let i = 0; i < labels.length; i++) {
    const zone = zones.get(`${labels.slice(i).join('.')}.`);
    if (zone !== undefined) return zone;
  }
  return undefined;
}
