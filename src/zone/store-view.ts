/**
 * The daemon's zone view: zone names held in memory, everything else read from the store on an
 * answer-cache miss, inside one read transaction so a reply never mixes two versions of a route.
 */
import type { Store } from '../store/store.js';
import type { JournalEntry, RouteData, ZoneRow } from '../store/types.js';
import { buildCatalog, type CatalogOptions, type CatalogZone, catalogMembers } from './catalog.js';
import { CATALOG, changedKeys, ZONE_SET, zoneKey } from './deps.js';
import { findDeepestZone, type ZoneView } from './view.js';

/** Zones whose content changed since the last refresh. */
export interface ZoneChanges {
  changed: ZoneRow[];
  /** The answer-cache keys (src/zone/deps.ts) the changes invalidate, read from the journal. */
  keys: string[];
  /** Per changed zone, its journal entries since the last refresh (empty when the journal has none). */
  entries: Map<string, JournalEntry[]>;
  added: ZoneRow[];
  removed: string[];
  /** The catalog zone after the change, when its serial moved (a zone created or deleted). */
  catalog?: CatalogZone;
}

export class StoreZoneView implements ZoneView {
  epochTtl: number;
  readonly #store: Store;
  #zones = new Map<string, ZoneRow>();
  #dataVersion = Number.NaN;
  readonly #catalogOptions: CatalogOptions | undefined;
  #catalog: CatalogZone | undefined;

  constructor(store: Store, options: { epochTtl: number; catalog?: CatalogOptions }) {
    this.#store = store;
    this.epochTtl = options.epochTtl;
    this.#catalogOptions = options.catalog;
  }

  /** The catalog zone as of the last refresh; undefined when the view serves none. */
  catalog(): CatalogZone | undefined {
    return this.#catalog;
  }

  /** The zones as of the last refresh. */
  zones(): ZoneRow[] {
    return [...this.#zones.values()];
  }

  /**
   * Re-reads the zone list when another connection has committed since the last call (PRAGMA
   * data_version, so an idle poll costs one cheap statement). `force` re-reads regardless, for
   * this connection's own writes. Returns undefined when nothing changed.
   */
  refresh(force = false): ZoneChanges | undefined {
    const version = this.#store.dataVersion();
    if (!force && version === this.#dataVersion) return undefined;
    this.#dataVersion = version;
    // One snapshot for the zone rows and the catalog serial: they move in one transaction.
    const [rows, catalogSerial] = this.#store.read(() => [this.#store.zones(), this.#store.catalogSerial()] as const);
    const next = new Map<string, ZoneRow>();
    for (const zone of rows) next.set(zone.name, zone);
    const changes: ZoneChanges = { changed: [], keys: [], entries: new Map(), added: [], removed: [] };
    const catalog = this.#catalogOptions;
    if (catalog !== undefined && this.#catalog?.serial !== catalogSerial) {
      this.#catalog = buildCatalog(catalog.namespace, catalogSerial, catalog.params, catalogMembers(rows));
      changes.catalog = this.#catalog;
      changes.keys.push(CATALOG);
    }
    for (const [name, zone] of next) {
      const before = this.#zones.get(name);
      if (before === undefined) {
        changes.added.push(zone);
        changes.keys.push(zoneKey(name), ZONE_SET);
      } else if (before.serial !== zone.serial || before.epoch !== zone.epoch) {
        const entries = this.#store.journal(name, before.serial);
        changes.changed.push(zone);
        changes.entries.set(name, entries);
        changes.keys.push(...changedKeys(name, entries));
      }
    }
    for (const name of this.#zones.keys()) {
      if (!next.has(name)) {
        changes.removed.push(name);
        changes.keys.push(zoneKey(name), ZONE_SET);
      }
    }
    this.#zones = next;
    const any =
      changes.changed.length + changes.added.length + changes.removed.length > 0 || changes.catalog !== undefined;
    return any ? changes : undefined;
  }

  /** Runs fn in one read transaction of the store: one snapshot for a whole answer. */
  read<T>(fn: () => T): T {
    return this.#store.read(fn);
  }

  /**
   * The zone rows are those of the last refresh; the caller refreshes before a cache miss
   * (a data_version check), so serial and epoch are as current as the routes it then reads.
   */
  findZone(labels: readonly string[]): ZoneRow | undefined {
    return findDeepestZone(this.#zones, labels);
  }

  getRoute(zone: ZoneRow, path: string): RouteData | undefined {
    return this.#store.routeData(zone.id, path);
  }

  getMetadata(zone: ZoneRow, path: string): Record<string, string> | undefined {
    return this.#store.getRoute(zone.name, path)?.metadata;
  }

  hasDescendants(zone: ZoneRow, path: string): boolean {
    return this.#store.hasDescendants(zone.name, path);
  }
}
