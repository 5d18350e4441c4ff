/**
 * The SQLite store (better-sqlite3 12, WAL). All SQL of psarn lives in src/store/, statements
 * prepared once in the constructor. Every write is one transaction that bumps the zone's serial
 * and appends to the change journal. Readers in another process (the daemon) see a write whole
 * or not at all.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { importZones } from './import.js';
import { migrate } from './schema.js';
import { nextSerial, serialGreater } from './serial.js';
import {
  groupRoutes,
  journalRoute,
  prepareStatements,
  type Statements,
  toJournalEntry,
  toParamsRow,
  toZoneRow,
} from './statements.js';
import type { JournalEntry, RouteData, RouteSpec, StoredRoute, ZoneImport, ZoneParams, ZoneRow } from './types.js';
import { StoreError } from './types.js';
import { checkParams, checkRoute, checkZoneName } from './validate.js';

export interface OpenOptions {
  /** Create the file (and its folder) when missing. Default true. With false, a missing file is StoreError ERR_DB_MISSING. */
  create?: boolean;
  readonly?: boolean;
  /** Unix ms clock, for updatedAt and journal times. */
  now?: () => number;
  /**
   * SQLite page cache in KiB (default 65536). Imports want it large; the daemon, whose reads
   * are point lookups the OS file cache also holds, keeps it small so its RSS stays bounded.
   */
  cacheKiB?: number;
}

/** How long a write waits for another process's write lock (the daemon vs. the CLI) before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

const CACHE_KIB = 65536;

const isMemory = (file: string) => file === ':memory:' || file === '';

export class Store {
  readonly file: string;
  readonly #db: Database.Database;
  readonly #q: Statements;
  readonly #now: () => number;
  /** One transaction wrapper for read(); `.deferred()` takes no lock until the first SELECT. */
  readonly #readTx: Database.Transaction<(fn: () => unknown) => unknown>;

  private constructor(file: string, db: Database.Database, now: () => number) {
    this.file = file;
    this.#db = db;
    this.#now = now;
    this.#q = prepareStatements(db);
    this.#readTx = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Opens (and migrates to the current schema version) a database file; ':memory:' works.
   * @example const store = Store.open('./data/psarn.db', { create: false });
   * @throws StoreError ERR_DB_MISSING / ERR_DB_OPEN / ERR_DB_SCHEMA (a newer schema than this code knows)
   */
  static open(file: string, options: OpenOptions = {}): Store {
    const create = (options.create ?? true) && !options.readonly;
    const readonly = options.readonly ?? false;
    if (!isMemory(file) && !existsSync(file)) {
      if (!create) {
        throw new StoreError(
          'ERR_DB_MISSING',
          `database '${file}' does not exist; start psarnd once or run 'psarn db init' to create it, or pass --db FILE`,
        );
      }
      mkdirSync(dirname(file), { recursive: true });
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly, fileMustExist: !create, timeout: BUSY_TIMEOUT_MS });
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // WAL lets the daemon read while the CLI writes; a reader keeps its snapshot until it ends.
      // The mode is persistent in the file, so a read-only connection just uses it.
      if (!readonly) db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; a power loss can lose the
      // last commits but never corrupts the file.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // 64 MiB of page cache (default 2 MiB): a 100k-route import touches ~20 MB of b-tree pages,
      // and evicting them mid-transaction more than doubles its time. Pages are allocated on use.
      db.pragma(`cache_size = ${-(options.cacheKiB ?? CACHE_KIB)}`);
      migrate(db, file, readonly);
      return new Store(file, db, options.now ?? Date.now);
    } catch (err) {
      db?.close();
      if (err instanceof StoreError) throw err;
      throw new StoreError('ERR_DB_OPEN', `cannot open database '${file}': ${(err as Error).message}`, { cause: err });
    }
  }

  close(): void {
    this.#db.close();
  }

  /** PRAGMA data_version: changes whenever another connection commits. Cheap; poll it. */
  dataVersion(): number {
    return this.#q.dataVersion.get() as number;
  }

  /**
   * Runs fn inside one read transaction (a consistent snapshot across several reads). Nests:
   * an inner read() becomes a savepoint of the outer one and shares its snapshot. Do not write
   * inside fn: upgrading a snapshot another process has moved past fails with SQLITE_BUSY_SNAPSHOT.
   * @example const { zone, route } = store.read(() => ({ zone: store.zone(z), route: store.getRoute(z, p) }));
   */
  read<T>(fn: () => T): T {
    return this.#readTx.deferred(fn) as T;
  }

  zones(): ZoneRow[] {
    return this.#q.zones.all().map(toZoneRow);
  }

  zone(name: string): ZoneRow | undefined {
    const row = this.#q.zone.get(name);
    return row === undefined ? undefined : toZoneRow(row);
  }

  /**
   * The answering part of a route, by zone id: one statement (so one snapshot), no metadata.
   * This is the read of every answer-cache miss in psarnd.
   */
  routeData(zoneId: number, path: string): RouteData | undefined {
    const rows = this.#q.routeData.all(zoneId, path);
    const first = rows[0];
    if (first === undefined) return undefined;
    const route: RouteData = { ttl: first.ttl, targets: [] };
    if (first.policy !== null) route.policy = first.policy;
    if (first.alias !== null) route.alias = first.alias;
    for (const row of rows) {
      if (row.target !== null) route.targets.push({ target: row.target, weight: row.weight!, priority: row.priority! });
    }
    return route;
  }

  /**
   * Every route of a zone as [path, RouteData], in path order: the route index's build reads a
   * zone with this, `pageSize` routes at a time (a page of routes, then their targets). Call it
   * inside read() so every page comes from one snapshot.
   */
  *routeDataOfZone(zoneId: number, pageSize = 2048): IterableIterator<[string, RouteData]> {
    let after = '';
    for (;;) {
      const routes = this.#q.routesPage.all(zoneId, after, pageSize);
      if (routes.length === 0) return;
      const last = routes[routes.length - 1]!.path;
      const targets = this.#q.targetsRange.all(zoneId, after, last);
      let t = 0;
      for (const row of routes) {
        const route: RouteData = { ttl: row.ttl, targets: [] };
        if (row.policy !== null) route.policy = row.policy;
        if (row.alias !== null) route.alias = row.alias;
        // Both lists are in path order (targets by seq within a path): a merge.
        while (t < targets.length && targets[t]!.path < row.path) t++;
        for (; t < targets.length && targets[t]!.path === row.path; t++) {
          const target = targets[t]!;
          route.targets.push({ target: target.target, weight: target.weight, priority: target.priority });
        }
        yield [row.path, route];
      }
      after = last;
    }
  }

  getRoute(zone: string, path: string): StoredRoute | undefined {
    return groupRoutes(this.#q.route.all(zone, path)).next().value ?? undefined;
  }

  /**
   * True when some route's path starts with `path + '/'` (an empty non-terminal, RFC 8020).
   * One index probe: such paths are exactly those strictly between `path/` and `path0`. Any s in
   * that range agrees with `path` on its first path.length bytes (a difference there would put s
   * below or above both bounds), and its next byte is >= '/' and < '0', i.e. '/'. Segments use
   * only [a-z0-9_-], so siblings like `orders-x` ('-' < '/') and `orders0`, `ordersx` fall outside.
   */
  hasDescendants(zone: string, path: string): boolean {
    return this.#q.hasDescendants.get(zone, `${path}/`, `${path}0`) === 1;
  }

  /**
   * Routes in path order; all zones when `zone` is undefined; only paths equal to `prefix` or
   * under `prefix + '/'` when given. Iterates without loading everything into memory.
   * While the iterator is open the connection is busy: finish (or `return()`) it before calling
   * another method of this store. The whole iteration reads one snapshot.
   */
  listRoutes(zone?: string, prefix?: string): IterableIterator<StoredRoute> {
    const q = this.#q;
    const rows =
      zone === undefined
        ? q.routesAll.iterate()
        : prefix === undefined || prefix === ''
          ? q.routesOfZone.iterate(zone)
          : q.routesUnder.iterate({ zone, prefix });
    return groupRoutes(rows);
  }

  /**
   * Creates or replaces a route in one transaction, creating its zone with `params` when new.
   * @example store.setRoute(zone, 'orders/created', { policy: 'weighted', ttl: 300, targets }, params)
   * @returns the zone serial after the write.
   * @throws StoreError ERR_INVALID_ROUTE (bad weight/priority/ttl, no targets), ERR_INVALID_ZONE
   */
  setRoute(zone: string, path: string, spec: RouteSpec, params: ZoneParams): number {
    checkZoneName(zone);
    const route = checkRoute(zone, path, spec);
    const q = this.#q;
    return this.#write(() => {
      const z = this.#zoneOrCreate(zone, params);
      const before = groupRoutes(q.routeById.all(z.id, path)).next().value;
      const serial = this.#bump(z, z.epoch);
      const at = this.#now();
      q.deleteTargets.run(z.id, path);
      q.upsertRoute.run(z.id, path, route.policy, route.ttl, route.alias, route.metadataJson, serial, at);
      route.targets.forEach((t, seq) => {
        q.insertTarget.run(z.id, path, seq, t.target, t.weight, t.priority);
      });
      const after = groupRoutes(q.routeById.all(z.id, path)).next().value;
      q.appendJournal.run(z.id, serial, 'set', path, journalRoute(before), journalRoute(after), at);
      return serial;
    });
  }

  /** @returns the serial after the write. @throws StoreError ERR_ROUTE_NOT_FOUND */
  deleteRoute(zone: string, path: string): number {
    const q = this.#q;
    return this.#write(() => {
      const z = q.zone.get(zone);
      const before = z && groupRoutes(q.routeById.all(z.id, path)).next().value;
      if (z === undefined || before === undefined) {
        throw new StoreError('ERR_ROUTE_NOT_FOUND', `no route '${path}' in zone ${zone}`);
      }
      q.deleteRoute.run(z.id, path);
      const serial = this.#bump(z, z.epoch);
      q.appendJournal.run(z.id, serial, 'delete', path, journalRoute(before), null, this.#now());
      return serial;
    });
  }

  /** Bumps the zone's epoch (and serial). @throws StoreError ERR_ZONE_NOT_FOUND */
  flush(zone: string): { epoch: number; serial: number } {
    const q = this.#q;
    return this.#write(() => {
      const z = q.zone.get(zone);
      if (z === undefined) throw new StoreError('ERR_ZONE_NOT_FOUND', `no zone ${zone}; set a route in it first`);
      const epoch = z.epoch + 1;
      const serial = this.#bump(z, epoch);
      const journal = (e: number) => JSON.stringify({ epoch: e });
      q.appendJournal.run(z.id, serial, 'flush', null, journal(z.epoch), journal(epoch), this.#now());
      return { epoch, serial };
    });
  }

  /**
   * Replaces each zone's whole content in one transaction for all of them (100k routes in
   * seconds). New serial: the file's serial when it is ahead of the current one (RFC 1982),
   * otherwise current + 1. @returns per zone the route count and new serial.
   * @throws StoreError ERR_INVALID_ROUTE / ERR_INVALID_ZONE, and nothing is written (one transaction).
   */
  importZones(zones: ZoneImport[], params: ZoneParams): { zone: string; routes: number; serial: number }[] {
    return importZones(zones, params, {
      q: this.#q,
      now: this.#now,
      write: (fn) => this.#write(fn),
      foreignKeys: (on) => this.#db.pragma(`foreign_keys = ${on ? 'ON' : 'OFF'}`),
      zoneOrCreate: (name, p) => this.#zoneOrCreate(name, p),
    });
  }

  /** Journal entries of a zone with serial > `sinceSerial` (RFC 1982), oldest first; 0 means all. */
  journal(zone: string, sinceSerial = 0): JournalEntry[] {
    const rows = this.#q.journalSince.all({ zone, since: sinceSerial });
    const entries = rows.map(toJournalEntry);
    return sinceSerial === 0 ? entries : entries.filter((e) => serialGreater(e.serial, sinceSerial));
  }

  /** True when the database holds no zones at all (first start: load the demo routes). */
  isEmpty(): boolean {
    return this.#q.isEmpty.get() === 1;
  }

  /**
   * IMMEDIATE takes the write lock at BEGIN: a deferred transaction that reads and then writes
   * can fail with SQLITE_BUSY_SNAPSHOT at once when another process committed in between,
   * whereas BEGIN IMMEDIATE waits (busy_timeout) for the lock and then reads fresh data.
   */
  #write<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /** The zone's row, creating it (serial 1, epoch 1, journal 'create') when new. In a write transaction. */
  #zoneOrCreate(name: string, params: ZoneParams): { id: number; serial: number; epoch: number } {
    const z = this.#q.zone.get(name);
    if (z !== undefined) return z;
    checkParams(name, params);
    const row = toParamsRow(params);
    const { lastInsertRowid } = this.#q.insertZone.run({ name, serial: 1, epoch: 1, ...row });
    const id = Number(lastInsertRowid);
    const { nameservers, ...rest } = params;
    const after = JSON.stringify({ ...rest, nameservers, epoch: 1 });
    this.#q.appendJournal.run(id, 1, 'create', null, null, after, this.#now());
    return { id, serial: 1, epoch: 1 };
  }

  /** Sets the zone's next serial (and epoch); returns the serial. */
  #bump(z: { id: number; serial: number }, epoch: number): number {
    const serial = nextSerial(z.serial);
    this.#q.setSerialEpoch.run(serial, epoch, z.id);
    return serial;
  }
}
