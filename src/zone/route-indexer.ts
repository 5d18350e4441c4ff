/**
 * Keeps a RouteIndex in step with the store. The first index is built at start (in a worker
 * thread, so answering starts at once and the answer function serves every name meanwhile);
 * after that each picked-up change is applied in place: a `set` re-reads that one route, a
 * `delete` removes it, a flush only changes the zone's epoch. What the journal cannot name (an
 * import, a new zone) drops the zone from the index and schedules a rebuild, after which the
 * changes committed while it ran are applied from the journal. The index only accelerates: a
 * name it does not hold goes to the answer function, so a stale-free fallback always exists.
 */
import { serialGreater } from '../store/serial.js';
import type { Store } from '../store/store.js';
import type { JournalEntry, ZoneRow } from '../store/types.js';
import type { RouteIndex } from './route-index.js';
import { type BuiltRouteIndex, buildInWorker, buildRouteIndex, type WorkerBuild } from './route-index-build.js';
import type { ZoneChanges } from './store-view.js';

/** After a build that could not be brought up to date, the next try. */
const RETRY_MS = 30_000;
/**
 * A new or imported zone of fewer routes than this is loaded in place, in this thread (a few
 * milliseconds); a bigger one is left to a worker build of the whole index, so the event loop
 * that answers queries never stalls on it.
 */
const INLINE_ZONE_ROUTES = 5000;

export interface RouteIndexerOptions {
  store: Store;
  /** The zones as the view last read them (serial, epoch). */
  zones: () => ZoneRow[];
  /** Build in this thread instead of a worker: tests, and ':memory:' databases a worker cannot open. */
  inline?: boolean;
  /** Called after every build is adopted. */
  onBuilt?: (info: { routes: number; bytes: number; seconds: number; parts: number }) => void;
  onError?: (error: unknown) => void;
  /** Monotonic seconds (for the build duration). */
  now?: () => number;
  /** Zones with fewer routes are (re)loaded in place rather than by a rebuild (default INLINE_ZONE_ROUTES). */
  inlineZoneRoutes?: number;
  /** Worker threads for a build of a big store (route-index-build.ts; default 1). */
  buildWorkers?: number;
  /** The smallest store a build splits between workers (default PARALLEL_MIN_ROUTES). */
  parallelMinRoutes?: number;
}

export class RouteIndexer {
  readonly #options: RouteIndexerOptions;
  #index: RouteIndex | undefined;
  #build: WorkerBuild | undefined;
  #again = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: RouteIndexerOptions) {
    this.#options = options;
  }

  /** The index to answer from; undefined until the first build is adopted. */
  get index(): RouteIndex | undefined {
    return this.#index;
  }

  /** True while a build runs. */
  get building(): boolean {
    return this.#build !== undefined;
  }

  /** Starts a build now, or once the running one ends. */
  rebuild(): void {
    if (this.#closed) return;
    if (this.#build !== undefined) {
      this.#again = true;
      return;
    }
    const now = this.#options.now ?? (() => performance.now() / 1000);
    const started = now();
    if (this.#options.inline === true) {
      try {
        this.#adopt(buildRouteIndex(this.#options.store), now() - started);
      } catch (error) {
        this.#options.onError?.(error);
      }
      return;
    }
    const build = buildInWorker(this.#options.store.file, {
      ...(this.#options.buildWorkers !== undefined ? { parallel: this.#options.buildWorkers } : {}),
      ...(this.#options.parallelMinRoutes !== undefined ? { parallelMinRoutes: this.#options.parallelMinRoutes } : {}),
    });
    this.#build = build;
    build.result.then(
      (built) => {
        this.#build = undefined;
        if (this.#closed) return;
        this.#adopt(built, now() - started);
        if (this.#again) {
          this.#again = false;
          this.rebuild();
        }
      },
      (error: unknown) => {
        this.#build = undefined;
        if (this.#closed) return;
        this.#options.onError?.(error);
        // A change that asked for a build while this one ran still needs it (once).
        if (this.#again) {
          this.#again = false;
          this.rebuild();
        }
      },
    );
  }

  /**
   * Applies what a view refresh picked up. Never throws: if applying fails (a store read, a bug),
   * the index is dropped and rebuilt, so it can never go on answering a change it missed.
   */
  apply(changes: ZoneChanges): void {
    const index = this.#index;
    if (index === undefined) return; // the build in flight reads past these, or the journal covers them
    let rebuild: boolean;
    try {
      rebuild = this.#applyChanges(index, changes);
    } catch (error) {
      this.#index = undefined;
      this.#options.onError?.(error);
      rebuild = true;
    }
    if (rebuild) this.rebuild();
  }

  /** @returns whether a rebuild is needed. */
  #applyChanges(index: RouteIndex, changes: ZoneChanges): boolean {
    let rebuild = false;
    for (const name of changes.removed) index.dropZone(name);
    // Declared at once: it takes its names from an enclosing zone's entries (the deepest zone
    // answers); its own routes are loaded now when it is small, else by a rebuild, and answered
    // from the store until then.
    for (const zone of changes.added) {
      index.setZone(zone.name, zone.epoch, zone.serial);
      if (!this.#loadZone(index, zone)) rebuild = true;
    }
    for (const zone of changes.changed) {
      if (!index.hasZone(zone.name)) continue; // dropped earlier; a rebuild is on its way
      index.setZone(zone.name, zone.epoch, zone.serial);
      if (!this.#applyEntries(index, zone, changes.entries.get(zone.name) ?? [])) rebuild = true;
    }
    return rebuild;
  }

  /**
   * Replaces a zone's entries with its routes as the store holds them now, when it has fewer
   * than `inlineZoneRoutes`. @returns false, having changed nothing, when it is bigger.
   */
  #loadZone(index: RouteIndex, zone: ZoneRow): boolean {
    const { store } = this.#options;
    return store.read(() => {
      const limit = this.#options.inlineZoneRoutes ?? INLINE_ZONE_ROUTES;
      const pages = store.routePagesOfZone(zone.id, limit);
      const first = pages.next();
      pages.return?.();
      if (!first.done && first.value.routes.length >= limit) return false;
      index.dropZone(zone.name);
      index.setZone(zone.name, zone.epoch, zone.serial);
      if (!first.done) index.load(zone.name, first.value);
      return true;
    });
  }

  /** Stops a running build. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#build?.terminate();
  }

  /** Adopts a build after applying what was committed since its snapshot; on failure, tries again in RETRY_MS. */
  #adopt(built: BuiltRouteIndex, seconds: number): void {
    let again: boolean;
    try {
      again = this.#catchUp(built);
    } catch (error) {
      // The store answers meanwhile; try again later rather than build in a loop.
      this.#options.onError?.(error);
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        this.rebuild();
      }, RETRY_MS).unref();
      return;
    }
    this.#options.onBuilt?.({ routes: built.index.size, bytes: built.index.bytes, seconds, parts: built.parts });
    if (again) this.rebuild();
  }

  /** Brings a build up to the view and makes it the index. @returns whether another build is needed. */
  #catchUp(built: BuiltRouteIndex): boolean {
    const { index, serials } = built;
    const { store } = this.#options;
    const current = new Set<string>();
    let again = false;
    for (const zone of this.#options.zones()) {
      current.add(zone.name);
      const serial = serials.get(zone.name);
      if (serial === undefined || !index.hasZone(zone.name)) {
        // Created after the snapshot: loaded now when small, like a new zone picked up later.
        if (!this.#loadZone(index, zone)) again = true;
        continue;
      }
      index.setZone(zone.name, zone.epoch, zone.serial);
      // Only what the view has seen past the snapshot: a snapshot ahead of the view (a commit
      // the next poll picks up) already holds it, and that poll re-applies it harmlessly.
      if (serialGreater(zone.serial, serial) && !this.#applyEntries(index, zone, store.journal(zone.name, serial)))
        again = true;
    }
    for (const name of serials.keys()) if (!current.has(name)) index.dropZone(name);
    this.#index = index;
    return again;
  }

  /**
   * Applies journal entries by re-reading each named route. When an entry does not name what it
   * changed (import, create, or no entries at all) the zone is reloaded whole if it is small.
   * @returns false when it is not: the zone is dropped from the index and needs a rebuild.
   */
  #applyEntries(index: RouteIndex, zone: ZoneRow, entries: readonly JournalEntry[]): boolean {
    const named =
      entries.length > 0 &&
      entries.every((e) => e.op === 'flush' || ((e.op === 'set' || e.op === 'delete') && e.path !== undefined));
    if (!named) {
      if (this.#loadZone(index, zone)) return true;
      index.dropZone(zone.name);
      return false;
    }
    const { store } = this.#options;
    for (const entry of entries) {
      if (entry.path === undefined || entry.op === 'flush') continue;
      const route = entry.op === 'set' ? store.routeData(zone.id, entry.path) : undefined;
      if (route === undefined) index.delete(zone.name, entry.path);
      else index.set(zone.name, entry.path, route);
    }
    return true;
  }
}
