/**
 * What a ready answer depends on, as keys whose generation the answer cache compares. A change
 * bumps only the keys it touches, so a `route set` of one route leaves every other route's
 * cached answer warm:
 * - `z:<zone>` every answer from the zone (bumped by imports and anything the journal cannot name);
 * - `s:<zone>` answers that carry the SOA serial: negative answers, apex SOA/NS;
 * - `e:<zone>` answers that carry the epoch: route TXTs, `_epoch`;
 * - `p:<zone>|<path>` answers that read that route (a CNAME chain reads several);
 * - `` (empty) answers outside every zone (REFUSED), bumped when the zone set changes;
 * - `c:` every answer from the catalog zone (catalog.ts), bumped when its serial moves.
 */
import type { JournalEntry } from '../store/types.js';

export const ZONE_SET = '';
/** Answers from the catalog zone (docs/design.md#catalog-zone). */
export const CATALOG = 'c:';

export const zoneKey = (zone: string): string => `z:${zone}`;
export const serialKey = (zone: string): string => `s:${zone}`;
export const epochKey = (zone: string): string => `e:${zone}`;
export const pathKey = (zone: string, path: string): string => `p:${zone}|${path}`;

/** The keys a zone's journal entries since the last known serial invalidate. */
export function changedKeys(zone: string, entries: readonly JournalEntry[]): string[] {
  const keys = [serialKey(zone)];
  if (entries.length === 0) return [zoneKey(zone)]; // the journal cannot say what changed
  for (const entry of entries) {
    if ((entry.op === 'set' || entry.op === 'delete') && entry.path !== undefined) keys.push(pathKey(zone, entry.path));
    else if (entry.op === 'flush') keys.push(epochKey(zone));
    else return [zoneKey(zone)];
  }
  return keys;
}
