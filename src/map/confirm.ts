/**
 * Change confirmation (docs/design.md#change-confirmation): which callers of a route have its
 * current answer, and until when the others may still use an older one. Read from the
 * persisted caller map, the route, the zone's last epoch change and the journal.
 */
import { psarnToName, zoneName } from '../psarn/name.js';
import { formatPsarn, parsePsarn } from '../psarn/psarn.js';
import { serialGreater } from '../store/serial.js';
import type { Store } from '../store/store.js';
import { type JournalEntry, type StoredRoute, StoreError } from '../store/types.js';
import { MAX_CNAME_CHAIN } from '../wire/types.js';
import { locateName } from './scope.js';
import type { CallerState, RouteCallers } from './types.js';

export interface RouteCallersOptions {
  /** Unix ms (default Date.now()): only for the caller of a text view; the result does not depend on it. */
  now?: number;
  /** Config `epochTtl`, seconds: how soon after an epoch change every caller refetches. */
  epochTtl: number;
  /** Config `namespace`. */
  namespace: string;
}

/**
 * The callers of the route at `psarn`, merged over reporters (this psarnd and each secondary
 * that reported them), sorted by caller id.
 *
 * A caller has the current answer when the zone serial it fetched is at or after
 * `currentSerial` = max(the route's serial, for an alias the serials of the routes its chain
 * passes through in the zone, the zone's last epoch change). One that is not may
 * use what it fetched until `holdsUntil`: its last lookup plus the TTL of the version it fetched
 * (from the journal when it still holds that serial, else the route's current TTL), but no later
 * than the epoch change's time plus `epochTtl` when an epoch change came after its fetch (every
 * client re-reads `_epoch` once epochTtl has passed: docs/design.md#the-epoch-override).
 * @throws PsarnError ERR_INVALID_PSARN; StoreError ERR_ROUTE_NOT_FOUND when no route (or alias) is at `psarn`
 * @example routeCallers(store, 'arn:aws:psarn:us-east-1:123456789012:orders/created', { epochTtl: 5, namespace: 'psarn.internal.' })
 */
export function routeCallers(store: Store, psarn: string, options: RouteCallersOptions): RouteCallers {
  const p = parsePsarn(psarn);
  const text = formatPsarn(p);
  const ns = options.namespace;
  const zone = zoneName(p, ns);
  const path = p.path.join('/');
  const name = psarnToName(p, ns);
  return store.read(() => {
    const route = store.getRoute(zone, path);
    if (route === undefined) {
      throw new StoreError('ERR_ROUTE_NOT_FOUND', `route '${text}' not found; 'psarn route list' shows the routes`);
    }
    const epochSerial = store.epochSerial(zone);
    let currentSerial = answerSerial(store, route);
    if (epochSerial !== undefined && serialGreater(epochSerial, currentSerial)) currentSerial = epochSerial;
    const rows = store.callerRows({ name });
    const ttlAt = fetchedTtl(store, route);
    const epochAt = epochSerial === undefined ? undefined : epochChangeAt(store, zone, epochSerial);
    const byCaller = new Map<string, CallerState>();
    for (const row of rows) {
      const known = byCaller.get(row.caller);
      if (known === undefined) {
        byCaller.set(row.caller, {
          caller: row.caller,
          serial: row.serial,
          lastSeen: row.lastSeen,
          lookups: row.lookups,
          current: false,
          reporters: [row.reporter],
        });
        continue;
      }
      // The newer lookup brings its serial, as the store's upsert merges one reporter's rows.
      if (row.lastSeen > known.lastSeen) {
        known.lastSeen = row.lastSeen;
        known.serial = row.serial;
      }
      known.lookups += row.lookups;
      known.reporters.push(row.reporter);
    }
    const callers = [...byCaller.values()].sort((a, b) => (a.caller < b.caller ? -1 : a.caller > b.caller ? 1 : 0));
    for (const c of callers) {
      c.reporters.sort();
      c.current = !serialGreater(currentSerial, c.serial);
      if (c.current) continue;
      let until = c.lastSeen + ttlAt(c.serial) * 1000;
      // An epoch change after its fetch makes it refetch within epochTtl of that change. A fetch
      // after the change that still got an older serial (from a secondary not yet caught up)
      // learnt the older epoch too: no earlier end then.
      if (
        epochSerial !== undefined &&
        epochAt !== undefined &&
        serialGreater(epochSerial, c.serial) &&
        epochAt >= c.lastSeen
      ) {
        until = Math.min(until, epochAt + options.epochTtl * 1000);
      }
      c.holdsUntil = until;
    }
    return { psarn: text, zone, path, serial: route.serial, currentSerial, ttl: route.ttl, callers };
  });
}

/**
 * The serial of the newest change in what a lookup of the route answers: the route's own, and
 * for an alias the routes its chain passes through in the same zone (their records come in the
 * same answer). Serials of another zone do not compare with this zone's (RFC 1982 serials are
 * per zone): a chain that leaves the zone counts up to there.
 */
function answerSerial(store: Store, route: StoredRoute): number {
  let serial = route.serial;
  let at = route;
  for (let hops = 0; at.alias !== undefined && hops < MAX_CNAME_CHAIN; hops++) {
    const next = locateName(at.alias, [route.zone]);
    const to = next === undefined ? undefined : store.getRoute(next.zone, next.path);
    if (to === undefined) break;
    if (serialGreater(to.serial, serial)) serial = to.serial;
    at = to;
  }
  return serial;
}

/**
 * The TTL of the route as it was at a zone serial, from the journal (store.routeAt), memoised
 * per serial; the route's current TTL when the journal no longer knows it (pruned, an import
 * gap, a serial of no change).
 */
function fetchedTtl(store: Store, route: StoredRoute): (serial: number) => number {
  const memo = new Map<number, number>();
  return (serial) => {
    let ttl = memo.get(serial);
    if (ttl !== undefined) return ttl;
    ttl = route.ttl;
    if (serial !== route.serial && serial !== 0) {
      try {
        ttl = store.routeAt(route.zone, route.path, serial)?.ttl ?? route.ttl;
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
      }
    }
    memo.set(serial, ttl);
    return ttl;
  };
}

/**
 * When the zone's epoch last changed: the `at` of the journal row that produced `epochSerial`
 * (a flush, or a hold or release of any route of the zone); undefined when the journal no
 * longer holds it.
 */
function epochChangeAt(store: Store, zone: string, epochSerial: number): number | undefined {
  const find = (rows: JournalEntry[] | undefined) => rows?.findLast((e) => e.serial === epochSerial)?.at;
  // The serial before it is nearly always the previous row (a write bumps the serial by one): a
  // read of one or a few rows; else the whole kept journal.
  const before = epochSerial === 1 ? 4294967295 : epochSerial - 1;
  return find(store.journalFrom(zone, before)) ?? find(store.journal(zone));
}
