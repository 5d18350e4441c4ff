/**
 * Turns master-file records into zone contents for Store.importZones (DESIGN.md §6): URI, TXT
 * and CNAME make routes (no TXT: weighted; URI TTL: the smallest of the set), SOA and NS at an
 * apex set the zone's parameters, `_epoch` TXT sets the epoch, anything else is an error naming
 * its line. Records of several zones may share a file.
 */
import type { ZoneContent } from '../store/types.js';
import type { ParsedLine } from './parse.js';

/** @throws ZoneFileError naming the line (a name outside the namespace, a bad TXT, a CNAME beside other data, ...). */
export function buildZones(_lines: ParsedLine[], _namespace: string, _file?: string): ZoneContent[] {
  throw new Error('not implemented');
}
