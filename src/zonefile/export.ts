/**
 * `psarn zone export`: a zone as an RFC 1035 master file that named-checkzone and kzonecheck
 * accept, and that `zone import` reads back to the same zone (export -> import is the identity).
 * Layout: $ORIGIN and $TTL, SOA, NS, `_epoch` TXT, then each route (URI RRset + TXT, or CNAME)
 * in path order, owners absolute.
 */
import type { StoredRoute, ZoneRow } from '../store/types.js';

export interface ExportOptions {
  /** TTL of the `_epoch` TXT (config epochTtl). */
  epochTtl: number;
}

/** Writes the file text chunk by chunk (so 1M routes need not sit in one string). */
export function* exportZone(
  _zone: ZoneRow,
  _routes: Iterable<StoredRoute>,
  _options: ExportOptions,
): Generator<string> {
  throw new Error('not implemented');
}
