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
 */
import type { ApplyReader } from '../../ops/apply.js';
import { routeName } from '../../psarn/name.js';
import { EPOCH_LABEL, parseRouteTxt } from '../../psarn/txt.js';
import type { StoredRoute } from '../../store/types.js';
import type { DnsRecord } from '../../wire/types.js';
import { catalogName } from '../../zone/catalog.js';
import { META_LABEL } from '../../zonefile/meta.js';
import { knownRecords, RemoteZoneReader, routesOf } from './records.js';
import type { RouteRrsets } from './route-read.js';
import { readZoneSerial } from './route-read.js';
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
  const epochName = `${EPOCH_LABEL}.${zone}`;
  for await (const batch of session.transfer(zone)) {
    for (const r of knownRecords(batch)) {
      builder.add(r);
      if (r.type === 'SOA' && r.name === zone) read.soa ??= r;
      if (r.type === 'TXT' && r.name === epochName) {
        const m = /^epoch=(\d{1,15})$/.exec(r.strings.join(''));
        if (m) read.epoch = Number(m[1]);
      }
      const list = read.records.get(r.name) ?? [];
      read.records.set(r.name, list);
      list.push(r);
    }
  }
  for (const route of routesOf(builder.finish().filter((z) => z.name === zone))) read.routes.set(route.path, route);
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

function isRouteTxt(strings: readonly string[]): boolean {
  try {
    parseRouteTxt(strings);
    return true;
  } catch {
    return false;
  }
}

/** The zones the server lists in its catalog zone (RFC 9432). */
async function catalogZones(session: RemoteSession, namespace: string): Promise<string[]> {
  const zones: string[] = [];
  for await (const records of session.transfer(catalogName(namespace))) {
    for (const r of knownRecords(records)) if (r.type === 'PTR') zones.push(r.target);
  }
  return zones;
}

/** The server's zones as planApply reads them; operations are not visible over DNS (none). */
export class RemoteApplyReader implements ApplyReader {
  readonly zones = new Map<string, ZoneRead>();
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

  /** Operations live in the primary's database; DNS does not show them (docs/design.md#apply). */
  operations(): [] {
    return [];
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
