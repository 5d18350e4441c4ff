/**
 * The UPDATE that turns a route read from the server into the route a command built
 * (docs/cli.md#remote), in the route <-> RR mapping of docs/design.md#records-at-a-routes-name:
 * URI RRset = targets (RRset TTL = route TTL), TXT "v=psarn1" "policy=…" = policy, CNAME =
 * alias, TXT at `_meta.<name>` = metadata. The new records come from `routeRecords`, the one
 * function `zone export` and transfers use, so an UPDATE writes what an export would show.
 *
 * Prerequisites pin every RRset the change depends on, as read (RFC 2136 §2.4.2 value-dependent
 * "RRset exists", or §2.4.3 "RRset does not exist"): if another writer changed the route
 * between the read and the UPDATE, the server answers NXRRSET and changes nothing. RFC 2136
 * §3.2.5 compares RDATA only, so a change of the TTL alone is not caught.
 */
import type { RouteContent, StoredRoute } from '../../store/types.js';
import type { DnsRecord } from '../../wire/types.js';
import { Type } from '../../wire/types.js';
import {
  addRecord,
  deleteRRset,
  rrsetAbsent,
  rrsetIs,
  type UpdateMessage,
  type UpdateRecordSpec,
} from '../../wire/update.js';
import { routeRecords } from '../../zonefile/export.js';
import { formatRecord } from '../../zonefile/presentation.js';
import type { RemoteRouteRead } from './route-read.js';

const TYPES = [
  ['uri', Type.URI],
  ['txt', Type.TXT],
  ['cname', Type.CNAME],
] as const;

/** Same records (owner, TTL, data), in any order. */
function sameSet(a: readonly DnsRecord[], b: readonly DnsRecord[]): boolean {
  if (a.length !== b.length) return false;
  const text = (list: readonly DnsRecord[]) => list.map(formatRecord).sort().join('\n');
  return text(a) === text(b);
}

function sameMetadata(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k, i) => kb[i] === k && a![k] === b![k]);
}

/** RFC 2136 §2.4.2 "RRset exists (value dependent)" of the RRset as read, or §2.4.3 "does not exist". */
export function pin(records: readonly DnsRecord[], name: string, type: number): UpdateRecordSpec[] {
  return records.length > 0 ? records.map(rrsetIs) : [rrsetAbsent(name, type)];
}

/**
 * The UPDATE from `read` to `after` (undefined: delete the route). RRsets that stay as they are
 * are neither pinned nor written; the `_meta` RRset is written only when the metadata changes
 * (and deleted with the route), so a server that does not answer `_meta` queries keeps it.
 */
export function routeUpdate(read: RemoteRouteRead, after: RouteContent | undefined, id: number): UpdateMessage {
  const zone = { name: read.zone, epoch: read.epoch };
  const next = after === undefined ? [] : routeRecords(zone, after);
  const prerequisites: UpdateRecordSpec[] = [];
  // Every delete before any add: RFC 2136 §3.4.2 applies updates in order, and a CNAME cannot
  // share a name with other data (RFC 1034 §3.6.2), so a route turned alias (or back) must lose
  // its old RRsets before it gets the new ones.
  const deletes: UpdateRecordSpec[] = [];
  const adds: UpdateRecordSpec[] = [];
  for (const [field, type] of TYPES) {
    const old = read.rrsets[field];
    const now = next.filter((r) => r.name === read.name && Type[r.type] === type);
    if (sameSet(old, now)) continue;
    prerequisites.push(...pin(old, read.name, type));
    if (old.length > 0) deletes.push(deleteRRset(read.name, type));
    for (const record of now) adds.push(addRecord(record));
  }
  const metaNow = next.filter((r) => r.name === read.metaName);
  if (after === undefined) {
    // RFC 2136 §2.5.2: deleting an RRset that is not there is no error.
    deletes.push(deleteRRset(read.metaName, Type.TXT));
  } else if (!sameMetadata(read.route?.metadata, after.metadata)) {
    prerequisites.push(...pin(read.rrsets.meta, read.metaName, Type.TXT));
    if (read.rrsets.meta.length > 0) deletes.push(deleteRRset(read.metaName, Type.TXT));
    for (const record of metaNow) adds.push(addRecord(record));
  }
  return { id, zone: read.zone, prerequisites, updates: [...deletes, ...adds] };
}

/** The route `make` built, as a StoredRoute for the diff (serial and time are not DNS's). */
export function afterRoute(
  before: StoredRoute | undefined,
  at: { zone: string; path: string },
  spec: { ttl: number; metadata?: Record<string, string> } & (
    | { alias: string }
    | { policy: StoredRoute['policy']; targets: StoredRoute['targets'] }
  ),
): StoredRoute {
  const base = {
    zone: at.zone,
    path: at.path,
    ttl: spec.ttl,
    metadata: { ...spec.metadata },
    serial: before?.serial ?? 0,
    updatedAt: 0,
  };
  if ('alias' in spec) return { ...base, alias: spec.alias, targets: [] };
  return {
    ...base,
    ...(spec.policy === undefined ? {} : { policy: spec.policy }),
    targets: spec.targets.map((t) => ({ ...t })),
  };
}
