/**
 * What the remote apply reads (docs/design.md#apply, remote part): each zone of the server by a
 * signed AXFR (RFC 5936), kept as routes (for the plan, through the same records → routes
 * mapping as `route list`: records.ts) and as the records themselves (what an UPDATE's
 * prerequisites pin: route-update.ts). A zone the server does not serve is read as empty: the
 * first UPDATE that writes a route into it creates it, as a remote `route set` does.
 *
 * `RemoteApplyReader` is the ApplyReader planApply reads (src/ops/apply.ts). planApply is
 * synchronous (locally it runs inside one SQLite transaction), and it reads a zone outside the
 * file only when an alias leads there, or every zone when `--prune` deletes a route (is an alias
 * outside the file pointing at it?). So a read of a zone not yet fetched answers "no route" and
 * notes the zone (`missing`); the caller then drops that plan (or its error), fetches the zones
 * and plans again: each round fetches at least one more zone, so the rounds end.
 *
 * Operations (rollouts, holds) are rows in the primary's database, not records: psarnd shows
 * them at control names to a key of update.allow or transfer.allow
 * (docs/design.md#remote-operations), which readOperations reads once the plan says which routes
 * it changes or deletes.
 */
import type { ApplyReader, PlanItem } from '../../ops/apply.js';
import type { HoldView, RolloutView } from '../../ops/rollout-view.js';
import { routeName } from '../../psarn/name.js';
import { ACTIVE_STATUSES, type Operation, type OperationStatus, type StoredRoute } from '../../store/types.js';
import type { DnsRecord } from '../../wire/types.js';
import { catalogName } from '../../zone/catalog.js';
import { META_LABEL } from '../../zonefile/meta.js';
import { readControlState } from './ops.js';
import { knownRecords, RemoteZoneReader, routesOf } from './records.js';
import { isRouteTxt, type RouteRrsets, readZoneSerial } from './route-read.js';
import type { RemoteSession } from './session.js';

/** One zone as read from the server. */
export interface ZoneRead {
  zone: string;
  /** False when the server serves no such zone (it refused the SOA query): read as empty. */
  exists: boolean;
  /** The zone's SOA as the transfer began with it (what the zone's UPDATE pins); undefined when no zone. */
  soa: (DnsRecord & { type: 'SOA' }) | undefined;
  /** From `_epoch` TXT "epoch=N" (0 when there is none). */
  epoch: number;
  routes: Map<string, StoredRoute>;
  /** Every record of the zone by owner name, as sent. */
  records: Map<string, DnsRecord[]>;
}

/** Reads `zone` whole: SOA query (does it exist), then AXFR. @throws CliError naming the server */
export async function readZone(session: RemoteSession, zone: string, namespace: string): Promise<ZoneRead> {
  const read: ZoneRead = { zone, exists: false, soa: undefined, epoch: 0, routes: new Map(), records: new Map() };
  if ((await readZoneSerial(session, zone)) === undefined) return read;
  read.exists = true;
  const builder = new RemoteZoneReader(namespace, session.target.label);
  for await (const batch of session.transfer(zone)) {
    for (const r of knownRecords(batch)) {
      builder.add(r);
      if (r.type === 'SOA' && r.name === zone) read.soa ??= r;
      const list = read.records.get(r.name) ?? [];
      read.records.set(r.name, list);
      list.push(r);
    }
  }
  // The zone-file builder reads `_epoch` TXT as `zone import` does.
  const zones = builder.finish().filter((z) => z.name === zone);
  read.epoch = zones[0]?.epoch ?? 0;
  for (const route of routesOf(zones)) read.routes.set(route.path, route);
  return read;
}

/** The RRsets of the route at `path` as the transfer sent them (route-read.ts reads the same by queries). */
export function rrsetsOf(read: ZoneRead, path: string): { name: string; metaName: string; rrsets: RouteRrsets } {
  const name = routeName(read.zone, path);
  const metaName = `${META_LABEL}.${name}`;
  const at = read.records.get(name) ?? [];
  return {
    name,
    metaName,
    rrsets: {
      uri: at.filter((r) => r.type === 'URI'),
      // Only psarn's own TXT (`v=psarn1`), as route-read.ts.
      txt: at.filter((r) => r.type === 'TXT' && isRouteTxt(r.strings)),
      cname: at.filter((r) => r.type === 'CNAME'),
      meta: (read.records.get(metaName) ?? []).filter((r) => r.type === 'TXT'),
    },
  };
}

/** The zones the server lists in its catalog zone (RFC 9432). */
async function catalogZones(session: RemoteSession, namespace: string): Promise<string[]> {
  const zones: string[] = [];
  for await (const records of session.transfer(catalogName(namespace))) {
    for (const r of knownRecords(records)) if (r.type === 'PTR') zones.push(r.target);
  }
  return zones;
}

/** An active operation as planApply reads it. */
type ActiveOperation = Pick<Operation, 'id' | 'kind' | 'status' | 'zone' | 'path'>;

/** State reads in flight at once on the session's connection (pipelined, RFC 7766 §6.2.1). */
const STATE_READS_IN_FLIGHT = 64;

/**
 * The server's zones as planApply reads them, and the active operations of the routes a plan
 * changes or deletes once readOperations has read them (none before).
 */
export class RemoteApplyReader implements ApplyReader {
  readonly zones = new Map<string, ZoneRead>();
  #operations: ActiveOperation[] = [];
  #all = false;
  #missing: string[] | 'all' | undefined;
  readonly #session: RemoteSession;
  readonly #namespace: string;

  constructor(session: RemoteSession, namespace: string) {
    this.#session = session;
    this.#namespace = namespace;
  }

  /** Fetches the zones not read yet (`'all'`: every zone of the catalog). */
  async fetch(zones: readonly string[] | 'all'): Promise<void> {
    const wanted = zones === 'all' ? await catalogZones(this.#session, this.#namespace) : zones;
    for (const zone of wanted) {
      if (!this.zones.has(zone)) this.zones.set(zone, await readZone(this.#session, zone, this.#namespace));
    }
    if (zones === 'all') this.#all = true;
  }

  /**
   * The zones planApply asked for that were not fetched (`'all'`: a listing of every zone) since
   * the last call; undefined when none: the last plan read only what was fetched.
   */
  takeMissing(): string[] | 'all' | undefined {
    const missing = this.#missing;
    this.#missing = undefined;
    return missing;
  }

  #note(zone: string | 'all'): void {
    if (zone === 'all' || this.#missing === 'all') this.#missing = 'all';
    else this.#missing = [...new Set([...(this.#missing ?? []), zone])];
  }

  getRoute(zone: string, path: string): StoredRoute | undefined {
    const read = this.zones.get(zone);
    if (read === undefined) this.#note(zone);
    return read?.routes.get(path);
  }

  listRoutes(zone?: string): Iterable<StoredRoute> {
    if (zone === undefined) {
      if (!this.#all) this.#note('all');
      return [...this.zones.keys()].sort(cmp).flatMap((z) => this.listRoutes(z) as StoredRoute[]);
    }
    const read = this.zones.get(zone);
    if (read === undefined) this.#note(zone);
    return [...(read?.routes.values() ?? [])].sort((a, b) => cmp(a.path, b.path));
  }

  /** The operations readOperations read, newest first as Store.operations lists them. */
  operations(): ActiveOperation[] {
    return this.#operations;
  }

  /**
   * Reads from psarnd's control names (docs/design.md#remote-operations) the active operations
   * of the routes `items` change or delete (docs/design.md#apply, "Over `--server`"): the zone's
   * active rollouts (`_rollout.<zone>`) once per zone, and each route's latest hold
   * (`_hold.<route>`), pipelined. A route the plan adds is not read: the zone does not have it.
   * Resolves with the control name the server read no state at (not a psarnd primary that shows
   * state to this key: a secondary, say), or undefined when it read them all.
   * @throws CliError naming the server on a refusal, a timeout, a TXT that is not psarnd's state
   */
  async readOperations(items: readonly PlanItem[]): Promise<string | undefined> {
    const routes = items.filter((i) => i.action !== 'add' && this.zones.get(i.zone)?.exists === true);
    const reads: (() => Promise<string | undefined>)[] = [];
    const found: ActiveOperation[] = [];
    for (const zone of new Set(routes.map((i) => i.zone))) {
      reads.push(async () => {
        const read = await readControlState<{ rollouts: RolloutView[] }>(this.#session, 'rollout', zone);
        if (!read.answered) return `_rollout.${zone}`;
        for (const r of read.state?.rollouts ?? []) {
          const status = r.status as OperationStatus;
          if (ACTIVE_STATUSES.includes(status)) found.push({ id: r.id, kind: 'rollout', status, ...at(r) });
        }
        return undefined;
      });
    }
    for (const item of routes) {
      reads.push(async () => {
        const name = routeName(item.zone, item.path);
        const read = await readControlState<HoldView>(this.#session, 'hold', name);
        if (!read.answered) return `_hold.${name}`;
        const hold = read.state?.hold;
        if (hold !== undefined && ACTIVE_STATUSES.includes(hold.status)) {
          found.push({ id: hold.id, kind: 'hold', status: hold.status, ...at(hold) });
        }
        return undefined;
      });
    }
    let unanswered: string | undefined;
    for (let i = 0; i < reads.length; i += STATE_READS_IN_FLIGHT) {
      const results = await Promise.all(reads.slice(i, i + STATE_READS_IN_FLIGHT).map((read) => read()));
      unanswered ??= results.find((r) => r !== undefined);
      if (unanswered !== undefined) break;
    }
    this.#operations = found.sort((a, b) => b.id - a.id);
    return unanswered;
  }
}

const at = (op: { zone: string; path: string }) => ({ zone: op.zone, path: op.path });
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
