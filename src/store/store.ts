/**
 * The SQLite store (better-sqlite3 12, WAL). All SQL of psarn lives in src/store/, statements
 * prepared once in the constructor. Every write is one transaction that bumps the zone's serial
 * and appends to the change journal. Readers in another process (the daemon) see a write whole
 * or not at all.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { routeName } from '../psarn/name.js';
import { checkAliasWrite, checkReferrers } from './aliases.js';
import {
  type CallerFilter,
  type CallerRow,
  type CallerStatements,
  prepareCallerStatements,
  toCallerRow,
} from './callers.js';
import { createDatabase } from './create.js';
import {
  corruptError,
  foreignReason,
  isDamage,
  lockedError,
  notPsarnError,
  readError,
  shownPath,
  sqliteCode,
} from './faults.js';
import {
  CHANGES,
  deriveEntries,
  type HistoryStatements,
  prepareHistoryStatements,
  type RouteHistory,
  stateAfter,
} from './history.js';
import { type ImportResult, importZones } from './import.js';
import { type OperationStatements, prepareOperationStatements, toOperation } from './operations.js';
import { migrate } from './schema.js';
import { nextSerial, serialGreater } from './serial.js';
import {
  groupRoutes,
  journalRoute,
  prepareStatements,
  type Statements,
  savedRoute,
  toJournalEntry,
  toParamsRow,
  toZoneRow,
} from './statements.js';
import type {
  EditOptions,
  EditResult,
  JournalEntry,
  NewOperation,
  Operation,
  OperationFilter,
  OperationKind,
  OperationPatch,
  RouteChange,
  RouteContent,
  RouteData,
  RouteEdit,
  RoutePage,
  RouteSpec,
  SavedRoute,
  StoredRoute,
  WriteOptions,
  ZoneImport,
  ZoneParams,
  ZoneRow,
} from './types.js';
import { StoreError } from './types.js';
import { type CheckedRoute, checkParams, checkPath, checkRoute, checkZoneName } from './validate.js';

/** Paths in (after, until]: a run of a zone's routes in path order. */
export interface PathRange {
  after: string;
  until?: string;
}

/**
 * True when writing `route` would leave `stored` as it is: same kind, TTL, policy, alias,
 * targets (in order) and metadata (in any key order).
 */
function sameRoute(stored: StoredRoute, route: CheckedRoute | StoredRoute): boolean {
  if (
    stored.ttl !== route.ttl ||
    (stored.policy ?? null) !== (route.policy ?? null) ||
    (stored.alias ?? null) !== (route.alias ?? null)
  ) {
    return false;
  }
  const a = stored.targets;
  const b = route.targets;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.target !== b[i]!.target || a[i]!.weight !== b[i]!.weight || a[i]!.priority !== b[i]!.priority)
      return false;
  }
  const keys = Object.keys(stored.metadata);
  return (
    keys.length === Object.keys(route.metadata).length &&
    keys.every((k) => Object.hasOwn(route.metadata, k) && route.metadata[k] === stored.metadata[k])
  );
}

/** Thrown inside editRoutes' transaction to roll back writes that net to no change. */
const UNCHANGED = new Error('no change');

const NO_METADATA: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Above every path (paths are ASCII; SQLite compares text as UTF-8 bytes). */
const PATH_MAX = '\u{10FFFF}';

export interface OpenOptions {
  /** Create the file (and its folder) when missing. Default true. With false, a missing file is StoreError ERR_DB_MISSING. */
  create?: boolean;
  /** Mode of a file created here (its -wal/-shm follow; a created folder gets x where r is set). Default 0o600. */
  mode?: number;
  readonly?: boolean;
  /** Unix ms clock, for updatedAt and journal times, and for readFailure()'s window. */
  now?: () => number;
  /** How long a write waits for another process's write lock before ERR_DB_LOCKED. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * Run `PRAGMA quick_check` before the first write, and refuse to write (ERR_DB_CORRUPT) into
   * a damaged file: writing there can spread the damage. The CLI sets it; the check reads the
   * whole file (about 1 s per GB), which a one-off command can afford and psarnd need not.
   */
  checkBeforeWrite?: boolean;
  /** readFailure() reports a failed read for this long after it. Default 10000 ms. */
  readFailureWindowMs?: number;
  /**
   * SQLite page cache in KiB (default 65536). Imports want it large; the daemon, whose reads
   * are point lookups the OS file cache also holds, keeps it small so its RSS stays bounded.
   */
  cacheKiB?: number;
  /**
   * Changes kept per zone in the journal (config journal.keep, docs/design.md#transfers): the
   * IXFR source. Older rows are pruned in batches inside the writes, so a zone holds between
   * `journalKeep` and `journalKeep + JOURNAL_PRUNE_EVERY - 1` rows. Default 10000.
   */
  journalKeep?: number;
  /**
   * Journal rows older than this (ms, by the store's clock) are pruned too, at every write of
   * their zone (config journal.maxAge, docs/design.md#history-and-revert). Default: no age limit.
   */
  journalMaxAgeMs?: number;
}

/** Default of config journal.keep. */
export const JOURNAL_KEEP = 10_000;
/**
 * A write prunes its zone's journal when its serial is a multiple of this (an import always):
 * the prune walks `keep` index entries, so doing it on every write would cost each write that
 * walk; once per 64 serials it is noise, and the journal overshoots `keep` by at most 63 rows.
 */
export const JOURNAL_PRUNE_EVERY = 64;

/** How long a write waits for another process's write lock (the daemon vs. the CLI) before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
const READ_FAILURE_WINDOW_MS = 10_000;

/** The last failed read of a store, while it is recent (see Store.readFailure). */
export interface ReadFailure {
  /** When (the store's clock) the last read failed. */
  at: number;
  /** Reads that failed since the store was opened. */
  count: number;
  error: StoreError;
}

const CACHE_KIB = 65536;

const isMemory = (file: string) => file === ':memory:' || file === '';

const oneLineOf = (err: unknown): string => {
  const e = err as { message?: string; code?: string };
  const code = typeof e.code === 'string' && !String(e.message).includes(e.code) ? ` (${e.code})` : '';
  return `${String(e.message ?? err).split('\n', 1)[0]}${code}`;
};

/** A UNIQUE constraint failed (the extended code; sqliteCode() keeps only the primary one). */
const isUniqueViolation = (err: unknown): boolean =>
  err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE';

export class Store {
  readonly file: string;
  /**
   * True when this open created the database (the file did not exist, or ':memory:'). psarnd
   * loads the demo routes only then: an existing file, however empty, is never given them.
   */
  readonly created: boolean;
  readonly #db: Database.Database;
  readonly #q: Statements;
  readonly #now: () => number;
  readonly #busyTimeoutMs: number;
  readonly #failureWindowMs: number;
  readonly #journalKeep: number;
  readonly #journalMaxAgeMs: number | undefined;
  #checkBeforeWrite: boolean;
  #lastFailure: ReadFailure | undefined;
  #failures = 0;
  /** One transaction wrapper for read(); `.deferred()` takes no lock until the first SELECT. */
  readonly #readTx: Database.Transaction<(fn: () => unknown) => unknown>;

  private constructor(file: string, db: Database.Database, created: boolean, options: OpenOptions) {
    this.file = file;
    this.created = created;
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    this.#failureWindowMs = options.readFailureWindowMs ?? READ_FAILURE_WINDOW_MS;
    this.#journalKeep = options.journalKeep ?? JOURNAL_KEEP;
    if (!(Number.isSafeInteger(this.#journalKeep) && this.#journalKeep >= 1)) {
      throw new RangeError(`journalKeep must be an integer of at least 1, not ${this.#journalKeep}`);
    }
    this.#journalMaxAgeMs = options.journalMaxAgeMs;
    if (
      this.#journalMaxAgeMs !== undefined &&
      !(Number.isSafeInteger(this.#journalMaxAgeMs) && this.#journalMaxAgeMs >= 1)
    ) {
      throw new RangeError(`journalMaxAgeMs must be an integer of at least 1, not ${this.#journalMaxAgeMs}`);
    }
    this.#checkBeforeWrite = options.checkBeforeWrite ?? false;
    this.#q = prepareStatements(db);
    this.#readTx = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Opens (and migrates to the current schema version) a database file; ':memory:' works. A
   * missing file is created with the schema (see create.ts); an existing file without psarn's
   * schema, even an empty one, is an error rather than a new database.
   * @example const store = Store.open('./data/psarn.db', { create: false });
   * @throws StoreError ERR_DB_MISSING / ERR_DB_NOT_PSARN / ERR_DB_CORRUPT / ERR_DB_LOCKED /
   *   ERR_DB_OPEN / ERR_DB_SCHEMA (a newer schema than this code knows)
   */
  static open(file: string, options: OpenOptions = {}): Store {
    const create = (options.create ?? true) && !options.readonly;
    const readonly = options.readonly ?? false;
    const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    let created = isMemory(file);
    if (!created && !existsSync(file)) {
      if (!create) {
        throw new StoreError(
          'ERR_DB_MISSING',
          `database ${shownPath(file)} does not exist; start psarnd once or run 'psarn db init' to create it, or pass --db FILE`,
        );
      }
      try {
        created = createDatabase(file, options.mode);
      } catch (err) {
        throw new StoreError('ERR_DB_OPEN', `cannot create database ${shownPath(file)}: ${oneLineOf(err)}`, {
          cause: err,
        });
      }
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly, fileMustExist: !isMemory(file), timeout: busyTimeoutMs });
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      // Before anything writes to it: a file someone else left without psarn's schema (user_version
      // 0) stays untouched. ':memory:' is new and empty, and psarn migrates it below.
      if (!isMemory(file) && db.pragma('user_version', { simple: true }) === 0) {
        throw notPsarnError(file, foreignReason(file, db));
      }
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
      return new Store(file, db, created, options);
    } catch (err) {
      db?.close();
      if (err instanceof StoreError) throw err;
      const code = sqliteCode(err);
      if (code === 'SQLITE_NOTADB') throw notPsarnError(file, 'it is not an SQLite file', err);
      if (code === 'SQLITE_CORRUPT') throw corruptError(file, oneLineOf(err), err);
      if (code === 'SQLITE_BUSY') throw lockedError(file, busyTimeoutMs, err);
      throw new StoreError('ERR_DB_OPEN', `cannot open database ${shownPath(file)}: ${oneLineOf(err)}`, {
        cause: err,
      });
    }
  }

  /**
   * The last failed read while it is recent (within readFailureWindowMs of the store's clock),
   * else undefined. psarnd's /ready answers 503 while there is one: a damaged file fails the
   * reads that touch its bad pages, query after query, and the daemon should not look healthy.
   */
  readFailure(): ReadFailure | undefined {
    const last = this.#lastFailure;
    return last !== undefined && this.#now() - last.at < this.#failureWindowMs ? last : undefined;
  }

  /** A read's SqliteError as a StoreError, remembered for readFailure(); other errors unchanged. */
  #readFailed(err: unknown): unknown {
    if (sqliteCode(err) === undefined) return err;
    const error = readError(this.file, err);
    this.#lastFailure = { at: this.#now(), count: ++this.#failures, error };
    return error;
  }

  close(): void {
    this.#db.close();
  }

  /** PRAGMA data_version: changes whenever another connection commits. Cheap; poll it. */
  dataVersion(): number {
    try {
      return this.#q.dataVersion.get() as number;
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  /**
   * Runs fn inside one read transaction (a consistent snapshot across several reads). Nests:
   * an inner read() becomes a savepoint of the outer one and shares its snapshot. Do not write
   * inside fn: upgrading a snapshot another process has moved past fails with SQLITE_BUSY_SNAPSHOT.
   * @example const { zone, route } = store.read(() => ({ zone: store.zone(z), route: store.getRoute(z, p) }));
   */
  read<T>(fn: () => T): T {
    try {
      return this.#readTx.deferred(fn) as T;
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  zones(): ZoneRow[] {
    try {
      return this.#q.zones.all().map(toZoneRow);
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  /**
   * The catalog zone's serial (docs/design.md#catalog-zone): moved, in the same transaction, by
   * every zone created or deleted. Read it with `zones()` inside one `read()` for a consistent pair.
   */
  catalogSerial(): number {
    try {
      return this.#q.catalogSerial.get() as number;
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  zone(name: string): ZoneRow | undefined {
    let row: ReturnType<Statements['zone']['get']>;
    try {
      row = this.#q.zone.get(name);
    } catch (err) {
      throw this.#readFailed(err);
    }
    return row === undefined ? undefined : toZoneRow(row);
  }

  /**
   * The answering part of a route, by zone id: one statement (so one snapshot), no metadata.
   * This is the read of every answer-cache miss in psarnd.
   */
  routeData(zoneId: number, path: string): RouteData | undefined {
    let rows: ReturnType<Statements['routeData']['all']>;
    try {
      rows = this.#q.routeData.all(zoneId, path);
    } catch (err) {
      throw this.#readFailed(err);
    }
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
   * Every route of a zone in pages of `pageSize` routes, in path order, as rows (RoutePage): the
   * route index's build reads a zone with this. Call it inside read() so every page comes from
   * one snapshot.
   */
  *routePagesOfZone(zoneId: number, pageSize = 2048, range?: PathRange): IterableIterator<RoutePage> {
    let after = range?.after ?? '';
    const until = range?.until ?? PATH_MAX;
    for (;;) {
      let routes: RoutePage['routes'];
      let targets: RoutePage['targets'];
      let last: string;
      try {
        routes = this.#q.routesPage.all(zoneId, after, until, pageSize);
        if (routes.length === 0) return;
        last = routes[routes.length - 1]![0];
        targets = this.#q.targetsRange.all(zoneId, after, last);
      } catch (err) {
        throw this.#readFailed(err);
      }
      // Both lists are in path order (targets by seq within a path): a merge.
      const first = new Int32Array(routes.length + 1);
      let t = 0;
      for (let i = 0; i < routes.length; i++) {
        const path = routes[i]![0];
        while (t < targets.length && targets[t]![0] < path) t++;
        first[i] = t;
        while (t < targets.length && targets[t]![0] === path) t++;
      }
      first[routes.length] = t;
      yield { routes, targets, first };
      after = last;
    }
  }

  /**
   * Every route of a zone in path order, with its metadata: what zone export and zone transfers
   * write. Read a page of `pageSize` routes at a time as raw rows (two primary-key range scans,
   * as routePagesOfZone: a 1M-route zone streams at a third of the join's cost); call it inside
   * read() or snapshot() so every page comes from one snapshot. Between pages the connection is
   * free. Routes without metadata share one frozen empty object.
   */
  *routeContents(zoneId: number, pageSize = 2048): Generator<RouteContent> {
    let after = '';
    for (;;) {
      let routes: ReturnType<Statements['routesPageMeta']['all']>;
      let targets: RoutePage['targets'];
      let last: string;
      try {
        routes = this.#q.routesPageMeta.all(zoneId, after, PATH_MAX, pageSize);
        if (routes.length === 0) return;
        last = routes[routes.length - 1]![0];
        targets = this.#q.targetsRange.all(zoneId, after, last);
      } catch (err) {
        throw this.#readFailed(err);
      }
      let t = 0;
      for (const [path, policy, ttl, alias, metadata] of routes) {
        while (t < targets.length && targets[t]![0] < path) t++;
        const list: RouteContent['targets'] = [];
        for (; t < targets.length && targets[t]![0] === path; t++) {
          const row = targets[t]!;
          list.push({ target: row[1], weight: row[2], priority: row[3] });
        }
        const route: RouteContent = {
          path,
          ttl,
          targets: list,
          metadata: metadata === '{}' ? NO_METADATA : (JSON.parse(metadata) as Record<string, string>),
        };
        if (policy !== null) route.policy = policy;
        if (alias !== null) route.alias = alias;
        yield route;
      }
      after = last;
    }
  }

  /** How many routes a zone has (a range scan of its key: 60–130 ms at 1M routes). */
  routeCount(zoneId: number): number {
    try {
      return this.#q.countRoutes.get(zoneId) as number;
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  /**
   * The paths that split a zone's routes into `parts` runs of nearly equal size (parts - 1 of
   * them, ascending; none when the zone has fewer routes than parts): what a parallel index build
   * gives each worker as its PathRange. Inside read(), for one snapshot.
   */
  routeSplits(zoneId: number, parts: number): string[] {
    try {
      const count = this.routeCount(zoneId);
      if (count < parts) return [];
      const splits: string[] = [];
      for (let k = 1; k < parts; k++)
        splits.push(this.#q.routePathAt.get(zoneId, Math.floor((count * k) / parts) - 1) as string);
      return splits;
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  getRoute(zone: string, path: string): StoredRoute | undefined {
    try {
      return groupRoutes(this.#q.route.all(zone, path)).next().value ?? undefined;
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  /**
   * True when some route's path starts with `path + '/'` (an empty non-terminal, RFC 8020).
   * One index probe: such paths are exactly those strictly between `path/` and `path0`. Any s in
   * that range agrees with `path` on its first path.length bytes (a difference there would put s
   * below or above both bounds), and its next byte is >= '/' and < '0', i.e. '/'. Segments use
   * only [a-z0-9_-], so siblings like `orders-x` ('-' < '/') and `orders0`, `ordersx` fall outside.
   */
  hasDescendants(zone: string, path: string): boolean {
    try {
      return this.#q.hasDescendants.get(zone, `${path}/`, `${path}0`) === 1;
    } catch (err) {
      throw this.#readFailed(err);
    }
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
    return this.#guard(groupRoutes(rows));
  }

  /** `it`, with a failed read turned into a StoreError (and remembered) as the other reads do. */
  *#guard<T>(it: Iterator<T>): Generator<T> {
    let finished = false;
    try {
      for (;;) {
        let next: IteratorResult<T>;
        try {
          next = it.next();
        } catch (err) {
          finished = true;
          throw this.#readFailed(err);
        }
        if (next.done) {
          finished = true;
          return;
        }
        yield next.value;
      }
    } finally {
      // The consumer stopped early (break, return()): close the statement's iterator too.
      if (!finished) it.return?.();
    }
  }

  /**
   * Creates or replaces a route in one transaction, creating its zone with `params` when new.
   * A route equal to the stored one is not written: the serial stays (`changed: false`).
   * Alias writes are checked in the same transaction (docs/design.md#alias-checks).
   * @example store.setRoute(zone, 'orders/created', { policy: 'weighted', ttl: 300, targets }, params)
   * @throws StoreError ERR_INVALID_ROUTE (bad weight/priority/ttl, no targets), ERR_INVALID_ZONE,
   *   ERR_ALIAS_LOOP, ERR_ALIAS_CHAIN, ERR_ALIAS_DANGLING, ERR_ROUTE_ALIASED
   */
  setRoute(zone: string, path: string, spec: RouteSpec, params: ZoneParams, options: WriteOptions = {}): RouteChange {
    return this.updateRoute(zone, path, () => spec, params, options);
  }

  /**
   * Writes the route `make` builds from the stored one (undefined when there is none), in one
   * transaction: the read, the build and the write see the same route, so `psarn route set`
   * can keep what it was not told and `route weight` change only the targets named, whatever
   * another writer does meanwhile. `make` may throw to refuse; nothing is written then.
   * @throws as setRoute, and whatever `make` throws
   */
  updateRoute(
    zone: string,
    path: string,
    make: (before: StoredRoute | undefined) => RouteSpec,
    params: ZoneParams,
    options: WriteOptions = {},
  ): RouteChange {
    checkZoneName(zone);
    checkPath(zone, path);
    const q = this.#q;
    return this.#write(() => {
      const existing = q.zone.get(zone);
      const before = existing && groupRoutes(q.routeById.all(existing.id, path)).next().value;
      const route = checkRoute(zone, path, make(before));
      if (existing !== undefined && before !== undefined && sameRoute(before, route)) {
        return { zone, path, before, after: before, changed: false, serial: existing.serial, zoneCreated: false };
      }
      const z = this.#zoneOrCreate(zone, params, options.actor);
      const serial = this.#bump(z, z.epoch);
      const at = this.#now();
      q.deleteTargets.run(z.id, path);
      q.upsertRoute.run(z.id, path, route.policy, route.ttl, route.alias, route.metadataJson, serial, at);
      route.targets.forEach((t, seq) => {
        q.insertTarget.run(z.id, path, seq, t.target, t.weight, t.priority);
      });
      if (route.alias !== null) {
        // The walk first: a loop is refused whatever --force says, so it is the one to report.
        checkAliasWrite(q, z.id, path, options);
        if (before?.policy !== undefined) checkReferrers(q, routeName(zone, path), 'convert', options);
      }
      const after = groupRoutes(q.routeById.all(z.id, path)).next().value;
      q.appendJournal.run(
        z.id,
        serial,
        'set',
        path,
        journalRoute(before),
        journalRoute(after),
        at,
        options.actor ?? null,
      );
      this.#prune(z.id, serial);
      return { zone, path, before, after, changed: true, serial, zoneCreated: existing === undefined };
    });
  }

  /**
   * Writes several routes of one zone in one transaction under one new serial (a DNS UPDATE
   * message, a secondary's IXFR step: docs/design.md#writes). Each edit sees the routes as the
   * edits before it left them; alias checks run once all are written, on the result, so one
   * message may create a route and an alias to it, or delete both. Unchanged routes are not
   * written; when nothing changes (and `options.serial`/`epoch` move nothing) the serial stays.
   * A zone is created (with `params`) only when an edit writes a route into it.
   * @throws as updateRoute, plus ERR_ZONE_NOT_FOUND for `serial`/`epoch` on a zone that does
   *   not exist; nothing is written then.
   */
  editRoutes(zone: string, edits: readonly RouteEdit[], params: ZoneParams, options: EditOptions = {}): EditResult {
    checkZoneName(zone);
    for (const e of edits) checkPath(zone, e.path);
    const q = this.#q;
    const actor = options.actor ?? null;
    try {
      return this.#editRoutes(zone, edits, params, options, q, actor);
    } catch (err) {
      if (err !== UNCHANGED) throw err;
      return { zone, changes: [], serial: this.zone(zone)?.serial ?? 0, zoneCreated: false };
    }
  }

  #editRoutes(
    zone: string,
    edits: readonly RouteEdit[],
    params: ZoneParams,
    options: EditOptions,
    q: Statements,
    actor: string | null,
  ): EditResult {
    return this.#write(() => {
      options.check?.();
      const existing = q.zone.get(zone);
      let z: { id: number; serial: number; epoch: number } | undefined = existing;
      const at = this.#now();
      const changes: RouteChange[] = [];
      // Each path once, with the route before the message: the journal row is the whole change.
      const written = new Map<string, StoredRoute | undefined>();
      // The new serial, fixed at the first write (the zone's next, or the primary's).
      let serial: number | undefined;
      for (const edit of edits) {
        const before = z && groupRoutes(q.routeById.all(z.id, edit.path)).next().value;
        const spec = edit.make(before);
        if (spec === null) {
          if (before === undefined || z === undefined) continue;
          q.deleteRoute.run(z.id, edit.path);
          if (!written.has(edit.path)) written.set(edit.path, before);
          continue;
        }
        const route = checkRoute(zone, edit.path, spec);
        if (before !== undefined && sameRoute(before, route)) continue;
        z ??= this.#zoneOrCreate(zone, params, options.actor);
        serial ??= options.serial ?? nextSerial(z.serial);
        q.deleteTargets.run(z.id, edit.path);
        q.upsertRoute.run(z.id, edit.path, route.policy, route.ttl, route.alias, route.metadataJson, serial, at);
        route.targets.forEach((t, seq) => {
          q.insertTarget.run(z!.id, edit.path, seq, t.target, t.weight, t.priority);
        });
        if (!written.has(edit.path)) written.set(edit.path, before);
      }
      if (z === undefined) {
        if (options.serial !== undefined || typeof options.epoch === 'number') {
          throw new StoreError('ERR_ZONE_NOT_FOUND', `no zone ${zone}`);
        }
        return { zone, changes, serial: 0, zoneCreated: false };
      }
      const epoch = typeof options.epoch === 'function' ? options.epoch(z.epoch) : (options.epoch ?? z.epoch);
      if (written.size === 0 && options.serial === undefined && epoch === z.epoch) {
        return { zone, changes, serial: z.serial, zoneCreated: false };
      }
      serial ??= options.serial ?? nextSerial(z.serial);
      for (const [path, before] of written) {
        const after = groupRoutes(q.routeById.all(z.id, path)).next().value;
        // Edited back to what it was (set then set back, create then delete): no change.
        if (after === undefined ? before === undefined : before !== undefined && sameRoute(before, after)) continue;
        q.appendJournal.run(
          z.id,
          serial,
          after === undefined ? 'delete' : 'set',
          path,
          journalRoute(before),
          journalRoute(after),
          at,
          actor,
        );
        changes.push({ zone, path, before, after, changed: true, serial, zoneCreated: false });
      }
      // Every write undone within the message: roll it all back (the rows took the new serial).
      if (changes.length === 0 && options.serial === undefined && epoch === z.epoch) throw UNCHANGED;
      q.setSerialEpoch.run(serial, epoch, z.id);
      if (options.setParams === true && existing !== undefined) {
        checkParams(zone, params);
        q.updateZoneParams.run({ id: z.id, ...toParamsRow(params) });
      }
      if (epoch !== z.epoch) {
        const journal = (e: number) => JSON.stringify({ epoch: e });
        q.appendJournal.run(z.id, serial, 'flush', null, journal(z.epoch), journal(epoch), at, actor);
      }
      // Checked on the result: every alias written, every route deleted or turned into an alias.
      for (const c of changes) {
        const name = routeName(zone, c.path);
        if (c.after?.alias !== undefined) {
          checkAliasWrite(q, z.id, c.path, options);
          if (c.before?.policy !== undefined) checkReferrers(q, name, 'convert', options);
        } else if (c.after === undefined) {
          const dangling = checkReferrers(q, name, 'delete', options);
          if (dangling) c.dangling = dangling;
        }
      }
      this.#prune(z.id, serial);
      const zoneCreated = existing === undefined;
      if (zoneCreated) for (const c of changes) c.zoneCreated = true;
      return { zone, changes, serial, zoneCreated };
    });
  }

  /**
   * Deletes a route. Refuses (unless `options.force`) while aliases point at it; a forced delete
   * reports them in `dangling`.
   * @throws StoreError ERR_ROUTE_NOT_FOUND, ERR_ROUTE_ALIASED
   */
  deleteRoute(zone: string, path: string, options: WriteOptions = {}): RouteChange {
    const q = this.#q;
    return this.#write(() => {
      const z = q.zone.get(zone);
      const before = z && groupRoutes(q.routeById.all(z.id, path)).next().value;
      if (z === undefined || before === undefined) {
        throw new StoreError('ERR_ROUTE_NOT_FOUND', `no route '${path}' in zone ${zone}`);
      }
      const dangling = checkReferrers(q, routeName(zone, path), 'delete', options);
      q.deleteRoute.run(z.id, path);
      const serial = this.#bump(z, z.epoch);
      q.appendJournal.run(z.id, serial, 'delete', path, journalRoute(before), null, this.#now(), options.actor ?? null);
      this.#prune(z.id, serial);
      return { zone, path, before, changed: true, serial, zoneCreated: false, ...(dangling ? { dangling } : {}) };
    });
  }

  /**
   * Deletes a zone with its routes and journal in one transaction (a secondary dropping a zone
   * its primary's catalog no longer lists); migration 3's trigger moves the catalog serial.
   * @returns false when there was no such zone (nothing written)
   */
  deleteZone(zone: string): boolean {
    const q = this.#q;
    return this.#write(() => {
      const z = q.zone.get(zone);
      if (z === undefined) return false;
      // Targets, then routes, then the zone (its journal rows cascade): each delete finds no
      // child rows left for its own cascade.
      q.deleteZoneTargets.run(z.id);
      q.deleteZoneRoutes.run(z.id);
      q.deleteZone.run(z.id);
      return true;
    });
  }

  /** Bumps the zone's epoch (and serial). @throws StoreError ERR_ZONE_NOT_FOUND */
  flush(zone: string, options: Pick<WriteOptions, 'actor'> = {}): { epoch: number; serial: number } {
    const q = this.#q;
    return this.#write(() => {
      const z = q.zone.get(zone);
      if (z === undefined) throw new StoreError('ERR_ZONE_NOT_FOUND', `no zone ${zone}; set a route in it first`);
      const epoch = z.epoch + 1;
      const serial = this.#bump(z, epoch);
      const journal = (e: number) => JSON.stringify({ epoch: e });
      q.appendJournal.run(
        z.id,
        serial,
        'flush',
        null,
        journal(z.epoch),
        journal(epoch),
        this.#now(),
        options.actor ?? null,
      );
      this.#prune(z.id, serial);
      return { epoch, serial };
    });
  }

  /**
   * Replaces each zone's whole content in one transaction for all of them (100k routes in
   * seconds). New serial: the file's serial when it is ahead of the current one (RFC 1982),
   * otherwise current + 1; with `exact` (a secondary's AXFR), the zone's serial and epoch as
   * given, even when not ahead. @returns per zone the route count and new serial.
   * @throws StoreError ERR_INVALID_ROUTE / ERR_INVALID_ZONE, and nothing is written (one transaction).
   */
  importZones(
    zones: ZoneImport[],
    params: ZoneParams,
    options: Pick<WriteOptions, 'actor'> & { exact?: boolean } = {},
  ): ImportResult[] {
    return importZones(zones, params, {
      actor: options.actor ?? null,
      exact: options.exact ?? false,
      q: this.#q,
      now: this.#now,
      write: (fn) => this.#write(fn),
      foreignKeys: (on) => this.#db.pragma(`foreign_keys = ${on ? 'ON' : 'OFF'}`),
      zoneOrCreate: (name, p) => this.#zoneOrCreate(name, p, options.actor),
      pruneJournal: (zoneId) => this.#prune(zoneId, 0, true),
    });
  }

  /**
   * Journal entries of a zone with serial > `sinceSerial` (RFC 1982), oldest first; 0 means all
   * that are kept. Empty when the journal no longer reaches `sinceSerial` (pruned, journal.keep):
   * the readers (deps.ts, route-indexer.ts) then treat the zone as changed whole, as after an
   * import, instead of trusting a list with a hole in it.
   */
  journal(zone: string, sinceSerial = 0): JournalEntry[] {
    return this.journalFrom(zone, sinceSerial) ?? [];
  }

  /**
   * As journal(), but undefined when the journal no longer holds the row that produced
   * `sinceSerial` (so the changes since it are not all known): IXFR falls back to AXFR then.
   * `sinceSerial` 0 gives every kept row. One snapshot (nests in read()).
   */
  journalFrom(zone: string, sinceSerial: number): JournalEntry[] | undefined {
    let rows: ReturnType<Statements['journalSince']['all']> | undefined;
    try {
      rows = this.read(() =>
        sinceSerial !== 0 && this.#q.journalHas.get({ zone, serial: sinceSerial }) !== 1
          ? undefined
          : this.#q.journalSince.all({ zone, since: sinceSerial }),
      );
    } catch (err) {
      throw this.#readFailed(err);
    }
    if (rows === undefined) return undefined;
    const entries = rows.map(toJournalEntry);
    return sinceSerial === 0 ? entries : entries.filter((e) => serialGreater(e.serial, sinceSerial));
  }

  /**
   * The history of one route (docs/design.md#history-and-revert): every kept journal row of its
   * zone that concerns it, oldest first, each with the route before and after (an import's told
   * from the rows around it), flushes of the zone included, imports that left the route as it was
   * left out. `limit`: only the newest that many. Undefined when there is no such zone. One
   * snapshot (nests in read() and transaction()).
   */
  routeHistory(zone: string, path: string, options: { limit?: number } = {}): RouteHistory | undefined {
    const found = this.#history(zone, path);
    if (found === undefined) return undefined;
    const { history } = found;
    const shown = history.entries.filter((e) => e.change !== 'unchanged');
    const limit = options.limit;
    return { ...history, entries: limit === undefined ? shown : shown.slice(Math.max(0, shown.length - limit)) };
  }

  /**
   * The route as it was at zone serial `serial`, right after the change that produced it: the
   * route (journal form), or null when it did not exist then. One snapshot.
   * @throws StoreError ERR_ZONE_NOT_FOUND; ERR_JOURNAL_PRUNED (older than the oldest kept row,
   *   which the message names); ERR_SERIAL_UNKNOWN (no change of the zone produced it);
   *   ERR_HISTORY_GAP (zone imports on both sides of it: the route then is not recorded)
   */
  routeAt(zone: string, path: string, serial: number): SavedRoute | null {
    return this.read(() => {
      const found = this.#history(zone, path);
      if (found === undefined) throw new StoreError('ERR_ZONE_NOT_FOUND', `no zone ${zone}`);
      const { history, zoneId } = found;
      const seq = this.#historyQ().serialSeq.get({ zone: zoneId, serial });
      if (seq === null || seq === undefined) {
        const kept =
          history.oldestSerial === undefined
            ? 'its journal is empty'
            : `its journal keeps serials ${history.oldestSerial} to ${history.serial}`;
        if (
          history.oldestSerial !== undefined &&
          serialGreater(history.oldestSerial, serial) &&
          !serialGreater(serial, history.serial)
        ) {
          throw new StoreError(
            'ERR_JOURNAL_PRUNED',
            `serial ${serial} of zone ${zone} is pruned from the journal: the oldest kept is serial ${history.oldestSerial} (config journal.keep, journal.maxAge)`,
          );
        }
        throw new StoreError('ERR_SERIAL_UNKNOWN', `serial ${serial} is not one of zone ${zone}'s: ${kept}`);
      }
      const state = stateAfter(history.entries, seq, history.route ?? null);
      if (state === undefined) {
        throw new StoreError(
          'ERR_HISTORY_GAP',
          `the journal does not record route '${path}' at serial ${serial}: a zone import replaced zone ${zone} without a row per route; pick a serial next to a change of the route`,
        );
      }
      return state;
    });
  }

  /** The full history (every concerning row, `unchanged` imports too) and the zone's id. */
  #history(zone: string, path: string): { history: RouteHistory; zoneId: number } | undefined {
    const q = this.#historyQ();
    try {
      return this.read(() => {
        const z = this.#q.zone.get(zone);
        if (z === undefined) return undefined;
        const stored = groupRoutes(this.#q.routeById.all(z.id, path)).next().value;
        const route = stored === undefined ? undefined : savedRoute(stored);
        const oldest = q.oldest.get(z.id);
        const entries = deriveEntries(q.rows.all({ zone: z.id, path }), route ?? null);
        const history: RouteHistory = {
          zone,
          path,
          serial: z.serial,
          complete: oldest?.op === 'create',
          entries,
          changes: entries.filter((e) => CHANGES.has(e.change)).length,
          ...(oldest === undefined ? {} : { oldestSerial: oldest.serial }),
          ...(route === undefined ? {} : { route }),
        };
        return { history, zoneId: z.id };
      });
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  #historyStatements: HistoryStatements | undefined;
  /** Prepared on first use: only `psarn route history|revert` read a route's history. */
  #historyQ(): HistoryStatements {
    this.#historyStatements ??= prepareHistoryStatements(this.#db);
    return this.#historyStatements;
  }

  /**
   * Runs the generator `fn` returns inside one read transaction held open across its yields, and
   * yields what it yields: a zone transfer streams a whole zone from one snapshot while the
   * socket drains. The transaction ends when the generator ends, throws, or is returned early.
   * Use a connection of its own (Store.open(file, { readonly: true })): while it is open no other
   * read of this connection may start a transaction, and its iterators keep it busy.
   */
  *snapshot<T>(fn: () => Iterator<T>): Generator<T> {
    const db = this.#db;
    try {
      db.prepare('BEGIN DEFERRED').run();
    } catch (err) {
      throw this.#readFailed(err);
    }
    try {
      // #guard maps a failed read and closes the iterator when the consumer stops early.
      yield* this.#guard(fn());
    } finally {
      if (db.inTransaction) db.prepare('ROLLBACK').run();
    }
  }

  /**
   * The database's setting `key` (schema 4's settings table), or undefined. A secondary's copy
   * keeps its primary under 'secondary.primary' (docs/design.md#change-actors).
   */
  setting(key: string): string | undefined {
    try {
      return this.read(() => this.#q.setting.get({ key }));
    } catch (err) {
      throw this.#readFailed(err);
    }
  }

  /** Writes (or, with undefined, deletes) the setting `key`, in a transaction of its own. */
  putSetting(key: string, value: string | undefined): void {
    this.#write(() => {
      if (value === undefined) this.#q.deleteSetting.run({ key });
      else this.#q.putSetting.run({ key, value });
    });
  }

  /**
   * Runs `fn` in one write transaction (IMMEDIATE): the writes of this store it makes (editRoutes,
   * insertOperation, updateOperation, flush) nest in it as savepoints and commit together, or
   * none does when it throws. A rollout step is its route change and its state in one commit.
   */
  transaction<T>(fn: () => T): T {
    return this.#write(fn);
  }

  /**
   * Records a new operation on a route (docs/design.md#operations), in a transaction of its own or
   * the caller's.
   * @throws StoreError ERR_ZONE_NOT_FOUND; ERR_OPERATION_CONFLICT when the route already has an
   *   active operation of that kind
   */
  insertOperation<S>(op: NewOperation<S>): Operation<S> {
    const q = this.#opsQ();
    return this.#write(() => {
      if (this.#q.zone.get(op.zone) === undefined) throw new StoreError('ERR_ZONE_NOT_FOUND', `no zone ${op.zone}`);
      const at = this.#now();
      try {
        const { lastInsertRowid } = q.insert.run({
          zone: op.zone,
          path: op.path,
          kind: op.kind,
          status: op.status,
          saved: JSON.stringify(op.saved),
          state: JSON.stringify(op.state),
          dueAt: op.dueAt ?? null,
          actor: op.actor ?? null,
          at,
        });
        return toOperation(q.byId.get(Number(lastInsertRowid))!) as Operation<S>;
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new StoreError('ERR_OPERATION_CONFLICT', `${op.path} in ${op.zone} already has an active ${op.kind}`, {
            cause: err,
          });
        }
        throw err;
      }
    });
  }

  /**
   * Changes an operation's status, state or due time (each field given; `dueAt: null` clears it).
   * @throws StoreError ERR_OPERATION_NOT_FOUND; ERR_OPERATION_CONFLICT when it would make a second
   *   active operation of its kind on the route
   */
  updateOperation<S>(id: number, patch: OperationPatch<S>): Operation<S> {
    const q = this.#opsQ();
    return this.#write(() => {
      try {
        q.update.run({
          id,
          status: patch.status ?? null,
          state: patch.state === undefined ? null : JSON.stringify(patch.state),
          setDue: patch.dueAt === undefined ? 0 : 1,
          dueAt: patch.dueAt ?? null,
          at: this.#now(),
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new StoreError('ERR_OPERATION_CONFLICT', `operation ${id} would be a second active one on its route`, {
            cause: err,
          });
        }
        throw err;
      }
      const row = q.byId.get(id);
      if (row === undefined) throw new StoreError('ERR_OPERATION_NOT_FOUND', `no operation ${id}`);
      return toOperation(row) as Operation<S>;
    });
  }

  /** The operation of an id, or undefined. */
  operation<S = Record<string, unknown>>(id: number): Operation<S> | undefined {
    const row = this.read(() => this.#opsQ().byId.get(id));
    return row && (toOperation(row) as Operation<S>);
  }

  /** Operations matching `filter`, newest first. */
  operations<S = Record<string, unknown>>(filter: OperationFilter = {}): Operation<S>[] {
    const rows = this.read(() =>
      this.#opsQ().list.all({
        zone: filter.zone ?? null,
        path: filter.path ?? null,
        kind: filter.kind ?? null,
        active: filter.active === true ? 1 : 0,
        limit: filter.limit ?? -1,
      }),
    );
    return rows.map((r) => toOperation(r) as Operation<S>);
  }

  /**
   * The active (running, paused or held) operation of `kind` on a route, or undefined: there is at
   * most one (schema 5's partial unique index).
   */
  activeOperation<S = Record<string, unknown>>(
    zone: string,
    path: string,
    kind: OperationKind,
  ): Operation<S> | undefined {
    return this.operations<S>({ zone, path, kind, active: true, limit: 1 })[0];
  }

  /** Running operations due at or before `now` (unix ms), soonest first. */
  dueOperations<S = Record<string, unknown>>(now: number): Operation<S>[] {
    return this.read(() => this.#opsQ().due.all(now)).map((r) => toOperation(r) as Operation<S>);
  }

  /** The soonest due time (unix ms) of a running operation, or undefined when none runs. */
  nextOperationDue(): number | undefined {
    return this.read(() => this.#opsQ().nextDue.get()) ?? undefined;
  }

  #opsStatements: OperationStatements | undefined;
  /** Prepared on first use: only the operation commands and psarnd's driver need them. */
  #opsQ(): OperationStatements {
    this.#opsStatements ??= prepareOperationStatements(this.#db);
    return this.#opsStatements;
  }

  /**
   * Writes part of the caller map (docs/design.md#the-caller-map) in one transaction: each row
   * of `rows` added or merged into its stored one (the newer last lookup brings its serial;
   * `lookups` is the count since the last save, added), each key of `removed` deleted (evicted
   * from the in-memory map). No route, serial or journal changes. With `lookups: 'total'` (a
   * secondary's report) each row's lookups are its reporter's total: the newer row replaces them.
   */
  saveCallers(
    rows: readonly CallerRow[],
    removed: readonly Pick<CallerRow, 'caller' | 'name' | 'reporter'>[] = [],
    options: { lookups?: 'since' | 'total' } = {},
  ): void {
    const q = this.#callersQ();
    const upsert = options.lookups === 'total' ? q.replace : q.upsert;
    this.#write(() => {
      for (const row of rows) upsert.run(row);
      for (const key of removed) q.remove.run(key.caller, key.name, key.reporter);
    });
  }

  /** Rows of the persisted caller map matching `filter`, by name, caller and reporter. */
  callerRows(filter: CallerFilter = {}): CallerRow[] {
    return this.read(() =>
      this.#callersQ()
        .list.all({
          name: filter.name ?? null,
          zone: filter.zone ?? null,
          caller: filter.caller ?? null,
          reporter: filter.reporter ?? null,
        })
        .map(toCallerRow),
    );
  }

  /**
   * The serial of the zone's last epoch change (a flush, a hold, a release), or undefined when
   * there was none since schema 6 or there is no such zone: a caller has a route's current
   * answer once it fetched it at or after the larger of this and the route's serial.
   */
  epochSerial(zone: string): number | undefined {
    return this.read(() => this.#callersQ().epochSerial.get(zone)) ?? undefined;
  }

  /**
   * `reporter`'s rows last seen after `since` (ms), by name and caller: what a secondary sends its
   * primary (docs/design.md#caller-reports-from-secondaries).
   */
  callerRowsSeenSince(reporter: string, since: number): CallerRow[] {
    return this.read(() => this.#callersQ().seenSince.all({ reporter, since }).map(toCallerRow));
  }

  /**
   * Keeps `reporter`'s `keep` most recently seen rows and deletes the rest (one transaction);
   * returns how many were deleted. The primary's bound on one secondary's reports.
   */
  trimCallers(reporter: string, keep: number): number {
    const q = this.#callersQ();
    return this.#write(() =>
      q.countReporter.get(reporter)! > keep ? q.trimReporter.run({ reporter, keep }).changes : 0,
    );
  }

  #callersStatements: CallerStatements | undefined;
  /** Prepared on first use: the answer path never needs them. */
  #callersQ(): CallerStatements {
    this.#callersStatements ??= prepareCallerStatements(this.#db);
    return this.#callersStatements;
  }

  /** True when the database holds no zones at all. */
  isEmpty(): boolean {
    return this.#q.isEmpty.get() === 1;
  }

  /**
   * IMMEDIATE takes the write lock at BEGIN: a deferred transaction that reads and then writes
   * can fail with SQLITE_BUSY_SNAPSHOT at once when another process committed in between,
   * whereas BEGIN IMMEDIATE waits (busy_timeout) for the lock and then reads fresh data.
   */
  #write<T>(fn: () => T): T {
    if (this.#checkBeforeWrite) {
      this.#quickCheck();
      this.#checkBeforeWrite = false;
    }
    try {
      return this.#db.transaction(fn).immediate();
    } catch (err) {
      const code = sqliteCode(err);
      if (code === 'SQLITE_BUSY') throw lockedError(this.file, this.#busyTimeoutMs, err);
      if (isDamage(code)) throw corruptError(this.file, oneLineOf(err), err);
      throw err;
    }
  }

  /**
   * PRAGMA quick_check: every page and b-tree of the file is well formed (it skips the index
   * contents that integrity_check also compares, which is what makes it fast).
   * @throws StoreError ERR_DB_CORRUPT with SQLite's first complaint
   */
  #quickCheck(): void {
    let first: string;
    try {
      const rows = this.#db.pragma('quick_check(1)') as { quick_check: string }[];
      // SQLite prefixes the first complaint with a "*** in database main ***" line.
      first = (rows[0]?.quick_check ?? 'no result').replace(/^\*\*\* in database \w+ \*\*\*\n/, '');
    } catch (err) {
      throw corruptError(this.file, `PRAGMA quick_check: ${oneLineOf(err)}`, err);
    }
    if (first !== 'ok') {
      throw corruptError(this.file, `PRAGMA quick_check: ${first}`);
    }
  }

  /** The zone's row, creating it (serial 1, epoch 1, journal 'create') when new. In a write transaction. */
  #zoneOrCreate(name: string, params: ZoneParams, actor?: string): { id: number; serial: number; epoch: number } {
    const z = this.#q.zone.get(name);
    if (z !== undefined) return z;
    checkParams(name, params);
    const row = toParamsRow(params);
    const { lastInsertRowid } = this.#q.insertZone.run({ name, serial: 1, epoch: 1, ...row });
    const id = Number(lastInsertRowid);
    const { nameservers, ...rest } = params;
    const after = JSON.stringify({ ...rest, nameservers, epoch: 1 });
    this.#q.appendJournal.run(id, 1, 'create', null, null, after, this.#now(), actor ?? null);
    return { id, serial: 1, epoch: 1 };
  }

  /**
   * Prunes the zone's journal to its newest journalKeep rows, in the write transaction: on every
   * JOURNAL_PRUNE_EVERY-th serial, or always (`always`, after an import); and, with
   * journalMaxAgeMs, its rows older than that, at every write.
   */
  #prune(zoneId: number, serial: number, always = false): void {
    if (always || serial % JOURNAL_PRUNE_EVERY === 0)
      this.#q.pruneJournal.run({ zone: zoneId, keep: this.#journalKeep });
    // Every write: the walk stops at the first young row, so an age limit holds to the write
    // rather than to the next 64th serial. The row just appended is never older than the cutoff.
    if (this.#journalMaxAgeMs !== undefined)
      this.#q.pruneJournalAge.run({ zone: zoneId, cutoff: this.#now() - this.#journalMaxAgeMs });
  }

  /** Sets the zone's next serial (and epoch); returns the serial. */
  #bump(z: { id: number; serial: number }, epoch: number): number {
    const serial = nextSerial(z.serial);
    this.#q.setSerialEpoch.run(serial, epoch, z.id);
    return serial;
  }
}
