/**
 * The daemon's zone view: zone names held in memory, everything else read from the store on an
 * answer-cache miss, inside one read transaction so a reply never mixes two versions of a route.
 */
import type { Store } from '../store/store.js';
import type { StoredRoute, ZoneRow } from '../store/types.js';
import { findDeepestZone, type ZoneView } from './view.js';

/** Zones whose content changed since the last refresh. */
export interface ZoneChanges {
  changed: ZoneRow[];
  added: ZoneRow[];
  removed: string[];
}

export class StoreZoneView implements ZoneView {
  epochTtl: number;
  readonly #store: Store;
  #zones = new Map<string, ZoneRow>();
  #dataVersion = Number.NaN;
  #sawNewer = false;

  constructor(store: Store, options: { epochTtl: number }) {
    this.#store = store;
    this.epochTtl = options.epochTtl;
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
    const next = new Map<string, ZoneRow>();
    for (const zone of this.#store.zones()) next.set(zone.name, zone);
    const changes: ZoneChanges = { changed: [], added: [], removed: [] };
    for (const [name, zone] of next) {
      const before = this.#zones.get(name);
      if (before === undefined) changes.added.push(zone);
      else if (before.serial !== zone.serial || before.epoch !== zone.epoch) changes.changed.push(zone);
    }
    for (const name of this.#zones.keys()) if (!next.has(name)) changes.removed.push(name);
    this.#zones = next;
    const any = changes.changed.length + changes.added.length + changes.removed.length > 0;
    return any ? changes : undefined;
  }

  /** Runs fn in one read transaction of the store: one snapshot for a whole answer. */
  read<T>(fn: () => T): T {
    return this.#store.read(fn);
  }

  findZone(labels: readonly string[]): ZoneRow | undefined {
    const known = findDeepestZone(this.#zones, labels);
    if (known === undefined) return undefined;
    // Read the row again inside the caller's transaction, so serial and epoch match the routes read.
    const fresh = this.#store.zone(known.name) ?? known;
    if (fresh.serial !== known.serial) this.#sawNewer = true;
    return fresh;
  }

  /**
   * True (once) when a lookup since the last call read a zone newer than the last refresh: the
   * caller should refresh before caching, so answers of other names do not lag behind it.
   */
  takeNewer(): boolean {
    const newer = this.#sawNewer;
    this.#sawNewer = false;
    return newer;
  }

  getRoute(zone: ZoneRow, path: string): StoredRoute | undefined {
    return this.#store.getRoute(zone.name, path);
  }

  hasDescendants(zone: ZoneRow, path: string): boolean {
    return this.#store.hasDescendants(zone.name, path);
  }
}
