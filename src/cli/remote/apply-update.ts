/**
 * The UPDATEs of a remote apply (docs/design.md#apply, remote part): one per zone the plan
 * touches, carrying every change of that zone, built route by route with the remote writes' own
 * `routeUpdate` (route-update.ts: the records the route makes, deletes before adds, each changed
 * RRset pinned as read), plus one more prerequisite: the zone's SOA as the transfer read it
 * (RFC 2136 §2.4.2, value dependent: the serial is in the RDATA). So the UPDATE applies only to
 * the zone exactly as planned; any change to it since the read (another route, a flush, a
 * rollout step) fails it with NXRRSET and nothing of the zone is written. A zone the server did
 * not have is pinned as having no SOA (§2.4.3): a zone created meanwhile fails it too.
 *
 * The zones are sent in an order where every UPDATE passes psarnd's own alias checks, which see
 * the database as it is after the UPDATEs before it (zoneOrder).
 */
import type { ApplyPlan, ApplyReader, PlanItem } from '../../ops/apply.js';
import { nameToPsarn, routeName, zoneName } from '../../psarn/name.js';
import { Class, Type } from '../../wire/types.js';
import { encodeUpdate, rrsetAbsent, rrsetIs, type UpdateMessage, type UpdateRecordSpec } from '../../wire/update.js';
import { CliError } from '../errors.js';
import { rrsetsOf, type ZoneRead } from './apply-reader.js';
import { routeUpdate } from './route-update.js';

/**
 * The largest UPDATE sent: a DNS message over TCP is at most 65,535 bytes (RFC 1035 §4.2.2),
 * less room for the TSIG RR the session appends (RFC 8945 §4.2: key and algorithm names up to
 * 255 bytes each, a 64-byte HMAC-SHA512, fixed fields).
 */
export const MAX_UPDATE_BYTES = 65535 - 640;

/** One UPDATE of a zone. */
export interface ZoneUpdate {
  zone: string;
  items: PlanItem[];
  message: UpdateMessage;
}

/** A route's part of an UPDATE: its prerequisites, deletes and adds, and their size in a message. */
interface RoutePart {
  item: PlanItem;
  prerequisites: UpdateRecordSpec[];
  deletes: UpdateRecordSpec[];
  adds: UpdateRecordSpec[];
  bytes: number;
}

/**
 * The UPDATEs that write `items` (one zone's part of the plan) over the zone as `read`: one
 * message when they fit (MAX_UPDATE_BYTES), which is one transaction on the server; else
 * several, the routes in an order where each message passes psarnd's alias checks on its own
 * (writeOrder), each route's RRsets pinned as read, the zone's SOA pinned by the first only (the
 * next ones find the serial the previous one made).
 */
export function zoneUpdates(
  read: ZoneRead,
  items: readonly PlanItem[],
  plan: ApplyPlan,
  reader: ApplyReader,
  namespace: string,
  id: () => number,
): ZoneUpdate[] {
  const soaPin = read.soa === undefined ? rrsetAbsent(read.zone, Type.SOA) : rrsetIs(read.soa);
  const empty = encodedSize({ id: 0, zone: read.zone });
  const parts: RoutePart[] = writeOrder(items, plan, reader, namespace).map((item) => {
    const { name, metaName, rrsets } = rrsetsOf(read, item.path);
    const route = routeUpdate(
      {
        zone: read.zone,
        path: item.path,
        name,
        metaName,
        zoneExists: read.exists,
        serial: 0,
        epoch: read.epoch,
        ...(item.before === undefined ? {} : { route: item.before }),
        rrsets,
      },
      item.after,
      0,
    );
    const updates = route.updates ?? [];
    // routeUpdate puts a route's deletes first (a CNAME shares its name with nothing: RFC 1034
    // §3.6.2); a message keeps that order for all its routes (RFC 2136 §3.4.2 applies in order).
    const cut = updates.findIndex((u) => u.klass !== Class.ANY);
    const deletes = updates.slice(0, cut < 0 ? updates.length : cut);
    const adds = updates.slice(deletes.length);
    const prerequisites = [...(route.prerequisites ?? [])];
    // Names are not compressed (encodeUpdate), so a message's size is the sum of its routes' parts.
    const bytes = encodedSize({ id: 0, zone: read.zone, prerequisites, updates }) - empty;
    return { item, prerequisites, deletes, adds, bytes };
  });
  const room = MAX_UPDATE_BYTES - encodedSize({ id: 0, zone: read.zone, prerequisites: [soaPin] });
  const chunks: RoutePart[][] = [[]];
  let size = 0;
  for (const part of parts) {
    if (size + part.bytes > room && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(part);
    size += part.bytes;
  }
  return chunks.map((chunk, i) => ({
    zone: read.zone,
    items: chunk.map((p) => p.item),
    message: {
      id: id(),
      zone: read.zone,
      prerequisites: [...(i === 0 ? [soaPin] : []), ...chunk.flatMap((p) => p.prerequisites)],
      updates: [...chunk.flatMap((p) => p.deletes), ...chunk.flatMap((p) => p.adds)],
    },
  }));
}

/** The message's size; Infinity past what one DNS message can hold (encodeUpdate refuses it). */
function encodedSize(message: UpdateMessage): number {
  try {
    return encodeUpdate(message).length;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * A zone's routes in an order where each prefix of it passes psarnd's alias checks (what lets a
 * zone be split into several UPDATEs): routes with targets first (they need nothing), then the
 * aliases written, nearest their target route first (what each points at is there already), then
 * the aliases deleted, farthest from their target first (no alias is left pointing at one
 * deleted), then the routes with targets deleted (nothing points at them any more: planApply
 * checked it). Within each group, plan order.
 */
function writeOrder(items: readonly PlanItem[], plan: ApplyPlan, reader: ApplyReader, namespace: string): PlanItem[] {
  const planned = new Map(plan.items.map((i) => [routeName(i.zone, i.path), i]));
  const stored = (name: string) => {
    const at = locate(name, namespace);
    try {
      return at === undefined ? undefined : reader.getRoute(at.zone, at.path);
    } catch {
      return undefined; // a zone not read: planApply did not need it, so nothing there is in a chain
    }
  };
  /** Aliases between `first` and a route with targets, following `next`. */
  const depth = (first: string | undefined, next: (name: string) => string | undefined) => {
    let n = 0;
    for (let name = first; name !== undefined && n <= 9; name = next(name)) n++;
    return n;
  };
  const finalAlias = (name: string) => {
    const item = planned.get(name);
    return item === undefined ? stored(name)?.alias : item.after?.alias;
  };
  const group = (item: PlanItem) =>
    item.after !== undefined ? (item.after.alias === undefined ? 0 : 1) : item.before?.alias === undefined ? 3 : 2;
  const rank = new Map(
    items.map((item) => {
      const g = group(item);
      const d =
        g === 1
          ? depth(item.after!.alias, finalAlias)
          : g === 2
            ? -depth(item.before!.alias, (n) => stored(n)?.alias)
            : 0;
      return [item, g * 100 + d] as const;
    }),
  );
  return [...items].sort((a, b) => rank.get(a)! - rank.get(b)!);
}

function locate(name: string, namespace: string): { zone: string; path: string } | undefined {
  try {
    const psarn = nameToPsarn(name, namespace);
    return { zone: zoneName(psarn, namespace), path: psarn.path.join('/') };
  } catch {
    return undefined;
  }
}

/**
 * The plan's zones in the order their UPDATEs go: each zone after the zones whose UPDATE it
 * needs first, otherwise in plan order (the file's). Zone B goes before zone A when
 * - an alias A's UPDATE writes leads (through any chain) to a route B's UPDATE adds, or turns
 *   into or out of an alias (psarnd refuses an alias to a route that is not there yet:
 *   docs/design.md#alias-checks);
 * - B's UPDATE deletes a route that an alias of A points at now, and A's UPDATE re-points or
 *   deletes that alias (psarnd refuses deleting a route aliases point at).
 * @throws CliError ERR_RUNTIME before anything is sent, when the zones need each other both ways
 */
export function zoneOrder(plan: ApplyPlan, reader: ApplyReader, namespace: string): string[] {
  const zones: string[] = [];
  for (const item of plan.items) if (!zones.includes(item.zone)) zones.push(item.zone);
  const planned = new Map(plan.items.map((i) => [routeName(i.zone, i.path), i]));
  /** Zone → the zones whose UPDATE must come before it. */
  const before = new Map(zones.map((z) => [z, new Set<string>()]));
  for (const item of plan.items) {
    if (item.after?.alias === undefined) continue;
    // The alias's chain as the plan leaves it (planApply checked it ends, within 8, at a route).
    let next: string | undefined = item.after.alias;
    for (let hop = 0; next !== undefined && hop <= 9; hop++) {
      const target = planned.get(next);
      if (target !== undefined) {
        // A route added, or one whose alias changes (the chain goes on elsewhere); a change of
        // targets alone needs no order: the route is there either way.
        const moves = target.action === 'add' || target.before?.alias !== target.after?.alias;
        if (moves && target.after !== undefined && target.zone !== item.zone) before.get(item.zone)!.add(target.zone);
        next = target.after?.alias;
        continue;
      }
      const at = locate(next, namespace);
      next = at === undefined ? undefined : reader.getRoute(at.zone, at.path)?.alias;
    }
  }
  if (plan.delete > 0) {
    // planApply has read every zone for a prune that deletes (it checks the same aliases).
    for (const route of reader.listRoutes()) {
      const target = route.alias === undefined ? undefined : planned.get(route.alias);
      if (target?.action !== 'delete' || target.zone === route.zone) continue;
      if (planned.has(routeName(route.zone, route.path))) before.get(target.zone)!.add(route.zone);
    }
  }
  const order: string[] = [];
  const left = [...zones];
  while (left.length > 0) {
    const i = left.findIndex((z) => [...before.get(z)!].every((b) => order.includes(b)));
    if (i < 0) {
      throw new CliError(
        'ERR_RUNTIME',
        `cannot apply over --server: aliases in zones ${left.join(', ')} point at routes this apply writes in each other's zones, and each zone is one UPDATE that psarnd checks on its own; apply in two steps (first without those aliases), or on the primary's host with --db (one transaction); nothing was written`,
      );
    }
    order.push(left.splice(i, 1)[0]!);
  }
  return order;
}
