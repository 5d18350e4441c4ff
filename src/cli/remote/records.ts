/**
 * Records read from a server -> routes, through the zone-file importer's builder
 * (src/zonefile/import.ts `ZoneBuilder`): a transfer or a route's RRsets are read by the same
 * rules as a master file (URI TTL the smallest of the set, a TXT without `v=psarn1` an error,
 * `_meta` TXT the metadata), so the remote commands and `zone import` cannot disagree.
 */
import { quote } from '../../errors.js';
import type { RouteSpec, StoredRoute, ZoneImport } from '../../store/types.js';
import type { DecodedRecord } from '../../wire/message.js';
import type { DnsRecord } from '../../wire/types.js';
import { ZoneBuilder } from '../../zonefile/import.js';
import { CliError, oneLine } from '../errors.js';

/** The epoch of an `_epoch.<zone>` TXT (`"epoch=N"`), or undefined when it holds none. */
export function epochOfTxt(strings: readonly string[]): number | undefined {
  const m = /^epoch=(\d{1,15})$/.exec(strings.join(''));
  return m ? Number(m[1]) : undefined;
}

/** The records psarn reads (SOA, NS, URI, TXT, CNAME, PTR); a type it does not know is left out. */
export function knownRecords(records: readonly DecodedRecord[]): DnsRecord[] {
  return records.filter((r): r is DnsRecord & { class: number } => typeof r.type === 'string' && !('rdata' in r));
}

/**
 * A builder of zones from records sent by `server`; `add` them in the order received, then `finish`.
 * @throws CliError ERR_RUNTIME naming the server and the record at fault
 */
export class RemoteZoneReader {
  readonly #builder: ZoneBuilder;
  readonly #server: string;
  #count = 0;

  constructor(namespace: string, server: string) {
    this.#builder = new ZoneBuilder(namespace, `server ${server}`);
    this.#server = server;
  }

  add(record: DnsRecord): void {
    this.#count++;
    if (record.type === 'SOA' || record.type === 'NS' || record.type === 'PTR') return;
    try {
      this.#builder.other({ record, owner: record.name, line: this.#count });
    } catch (err) {
      throw this.#error(err);
    }
  }

  finish(): ZoneImport[] {
    try {
      return this.#builder.finish();
    } catch (err) {
      throw this.#error(err);
    }
  }

  #error(err: unknown): CliError {
    return new CliError(
      'ERR_RUNTIME',
      `server ${this.#server} sent records psarn cannot read as routes: ${oneLine((err as Error).message)}`,
      { cause: err },
    );
  }
}

/**
 * A route as the remote commands show and compare it: what DNS carries. The route's own serial
 * and time of change are not in DNS: 0 here, and not shown (docs/cli.md#remote).
 */
export function storedRoute(zone: string, path: string, spec: RouteSpec): StoredRoute {
  const base = { zone, path, ttl: spec.ttl, metadata: { ...spec.metadata }, serial: 0, updatedAt: 0 };
  if ('alias' in spec) return { ...base, alias: spec.alias, targets: [] };
  return { ...base, policy: spec.policy, targets: spec.targets.map((t) => ({ ...t })) };
}

/** Every route of the zones read, in zone then path order. */
export function* routesOf(zones: readonly ZoneImport[]): Generator<StoredRoute> {
  for (const zone of [...zones].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (let i = 0; i < zone.routes.length; i++) {
      const route = zone.routes.at(i)!;
      yield storedRoute(zone.name, route.path, route.spec);
    }
  }
}

/** The one route read from `records` (all at its name and its `_meta` name), or undefined. */
export function routeFromRecords(
  records: readonly DnsRecord[],
  at: { zone: string; path: string },
  namespace: string,
  server: string,
): StoredRoute | undefined {
  const reader = new RemoteZoneReader(namespace, server);
  for (const r of records) reader.add(r);
  const routes = [...routesOf(reader.finish())].filter((r) => r.zone === at.zone && r.path === at.path);
  if (routes.length > 1) throw new CliError('ERR_RUNTIME', `server ${server} sent route ${quote(at.path)} twice`);
  return routes[0];
}
