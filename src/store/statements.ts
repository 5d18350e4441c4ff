/**
 * Every SQL statement of psarn, prepared once per connection, and the mapping from rows to the
 * values of types.ts. Route reads are one statement each (routes LEFT JOIN targets), so a single
 * read is always one snapshot, and listing can stream without a second statement per route.
 */
import type { Database, Statement } from 'better-sqlite3';
import { labelsToPath, routeName } from '../psarn/name.js';
import { MAX_CNAME_CHAIN } from '../wire/types.js';
import type {
  JournalEntry,
  JournalOp,
  Policy,
  RoutePage,
  SavedRoute,
  StoredRoute,
  ZoneParams,
  ZoneRow,
} from './types.js';

const ZONE_COLUMNS = `id, name, serial, epoch, soa_ttl AS soaTtl, mname, rname, refresh, retry, expire, minimum,
  ns_ttl AS nsTtl, nameservers, created`;

const ROUTE_SELECT = `SELECT z.name AS zone, r.path, r.policy, r.ttl, r.alias, r.metadata, r.serial,
  r.updated_at AS updatedAt, t.target, t.weight, t.priority
  FROM zones z JOIN routes r ON r.zone_id = z.id
  LEFT JOIN targets t ON t.zone_id = r.zone_id AND t.path = r.path`;

export interface ZoneDbRow extends Omit<ZoneRow, 'nameservers'> {
  nameservers: string;
}

export interface RouteJoinRow {
  zone: string;
  path: string;
  policy: Policy | null;
  ttl: number;
  alias: string | null;
  metadata: string;
  serial: number;
  updatedAt: number;
  target: string | null;
  weight: number | null;
  priority: number | null;
}

export type RouteDataRow = Pick<RouteJoinRow, 'policy' | 'ttl' | 'alias' | 'target' | 'weight' | 'priority'>;

interface JournalDbRow {
  zone: string;
  serial: number;
  op: JournalOp;
  path: string | null;
  before: string | null;
  after: string | null;
  at: number;
  actor: string | null;
}

/** Named parameters of the zone INSERT/UPDATE (camelCase, as ZoneParams). */
export type ZoneParamsRow = Omit<ZoneParams, 'nameservers'> & { nameservers: string };

/** A row of an alias walk that found a problem (see ALIAS_WALK). */
export interface AliasWalkRow {
  startZone: number;
  startPath: string;
  /** The node reached: null when the name it points at is in no zone (or is no route path). */
  zoneId: number | null;
  path: string | null;
  /** The name the last alias points at (the node's name). */
  name: string;
  /** CNAMEs followed from the start. */
  depth: number;
  /** ' zoneId:path zoneId:path … ': the nodes passed before this one, the start first. */
  seen: string;
  kind: 'loop' | 'dangling' | 'chain';
}

/**
 * The route path of `name` in the zone `zone` (both absolute, lowercase), or null when the name
 * is not strictly below the zone or its labels are no route path. SQL function `psarn_path`.
 */
export function aliasPath(name: unknown, zone: unknown): string | null {
  if (typeof name !== 'string' || typeof zone !== 'string') return null;
  const cut = name.length - zone.length - 1;
  if (cut < 1 || name[cut] !== '.' || !name.endsWith(zone)) return null;
  return labelsToPath(name.slice(0, cut).split('.'))?.join('/') ?? null;
}

/**
 * The zone an alias row `a` points into: the deepest zone whose name ends its alias, as the
 * answer function picks (docs/design.md#the-answer-function); NULL when there is none.
 */
const ALIAS_ZONE = `(SELECT z.id FROM zones z
  WHERE length(a.alias) > length(z.name) AND substr(a.alias, -length(z.name) - 1) = '.' || z.name
  ORDER BY length(z.name) DESC LIMIT 1)`;

/**
 * Follows the alias chain of every route in the CTE `seed(zone_id, path)`, in SQL (one
 * statement, no round trip per route: a zone import checks its aliases with it), and returns
 * the rows where a chain goes wrong: it comes back to a node it passed (`loop`), reaches a
 * name that is no route (`dangling`), or needs more than MAX_CNAME_CHAIN CNAMEs (`chain`).
 * `seen` carries the nodes passed, so a loop stops at its first repeat; the depth bound stops
 * everything else. A target route ends a walk without a row.
 */
function aliasWalk(seed: string): string {
  return `WITH RECURSIVE ${seed},
  walk(start_zone, start_path, zone_id, path, name, depth, seen) AS (
    SELECT zone_id, path, zone_id, path, NULL, 0, ' ' FROM seed
    UNION ALL
    SELECT w.start_zone, w.start_path, t.id, psarn_path(a.alias, t.name), a.alias, w.depth + 1,
      w.seen || w.zone_id || ':' || w.path || ' '
    FROM walk w
    JOIN routes a ON a.zone_id = w.zone_id AND a.path = w.path AND a.alias IS NOT NULL
    LEFT JOIN zones t ON t.id = ${ALIAS_ZONE}
    WHERE w.depth <= ${MAX_CNAME_CHAIN} AND instr(w.seen, ' ' || w.zone_id || ':' || w.path || ' ') = 0
  )
  SELECT * FROM (
    SELECT start_zone AS startZone, start_path AS startPath, zone_id AS zoneId, path, name, depth, seen,
      CASE
        WHEN instr(seen, ' ' || zone_id || ':' || path || ' ') > 0 THEN 'loop'
        WHEN NOT EXISTS (SELECT 1 FROM routes r WHERE r.zone_id = walk.zone_id AND r.path = walk.path) THEN 'dangling'
        WHEN depth > ${MAX_CNAME_CHAIN} THEN 'chain'
      END AS kind
    FROM walk
  ) WHERE kind IS NOT NULL ORDER BY startZone, startPath`;
}

/** The prepared statements of one connection. Named explicitly: better-sqlite3's own statement type cannot be named in declarations. */
export interface Statements {
  dataVersion: Statement<unknown[], number>;
  zones: Statement<unknown[], ZoneDbRow>;
  zone: Statement<unknown[], ZoneDbRow>;
  isEmpty: Statement<unknown[], number>;
  /** The catalog zone's serial (migration 3's triggers move it when a zone is created or deleted). */
  catalogSerial: Statement<unknown[], number>;
  insertZone: Statement<unknown[], never>;
  updateZoneParams: Statement<unknown[], never>;
  setSerialEpoch: Statement<unknown[], never>;
  route: Statement<unknown[], RouteJoinRow>;
  routeById: Statement<unknown[], RouteJoinRow>;
  routeData: Statement<unknown[], RouteDataRow>;
  routesPage: Statement<unknown[], RoutePage['routes'][number]>;
  targetsRange: Statement<unknown[], RoutePage['targets'][number]>;
  /** routesPage with each route's metadata (JSON text) last. */
  routesPageMeta: Statement<unknown[], [...RoutePage['routes'][number], string]>;
  routesAll: Statement<unknown[], RouteJoinRow>;
  routesOfZone: Statement<unknown[], RouteJoinRow>;
  routesUnder: Statement<unknown[], RouteJoinRow>;
  hasDescendants: Statement<unknown[], number>;
  countRoutes: Statement<unknown[], number>;
  routePathAt: Statement<unknown[], string>;
  upsertRoute: Statement<unknown[], never>;
  insertRoute: Statement<unknown[], never>;
  insertTarget: Statement<unknown[], never>;
  /** IMPORT_ROUTE_ROWS routes at once (zone import): IMPORT_ROUTE_VALUES values each, then { zone, serial, at }. */
  insertRoutes: Statement<unknown[], never>;
  /** IMPORT_TARGET_ROWS targets at once (zone import): IMPORT_TARGET_VALUES values each, then { zone }. */
  insertTargets: Statement<unknown[], never>;
  deleteTargets: Statement<unknown[], never>;
  deleteRoute: Statement<unknown[], never>;
  deleteZoneTargets: Statement<unknown[], never>;
  deleteZoneRoutes: Statement<unknown[], never>;
  /** Deletes the zone row of an id (its journal cascades). */
  deleteZone: Statement<unknown[], never>;
  appendJournal: Statement<unknown[], never>;
  journalSince: Statement<unknown[], JournalDbRow>;
  /** 1 when the zone `@zone` (name) still has the journal row of serial `@serial`, else 0. */
  journalHas: Statement<unknown[], number>;
  /** Deletes a zone's (`@zone` id) journal rows older than its newest `@keep`. */
  pruneJournal: Statement<unknown[], never>;
  /** Deletes a zone's (`@zone` id) oldest journal rows, up to the first written at or after `@cutoff` (unix ms). */
  pruneJournalAge: Statement<unknown[], never>;
  /** The value of the setting `@key`, or undefined. */
  setting: Statement<unknown[], string>;
  /** Writes the setting `@key` = `@value`. */
  putSetting: Statement<unknown[], never>;
  /** Deletes the setting `@key`. */
  deleteSetting: Statement<unknown[], never>;
  /** The aliases pointing at a name: { zone, path }, by zone and path. */
  aliasReferrers: Statement<unknown[], { zone: string; path: string }>;
  /** Problems of the chains through one alias (`@zone` id, `@path`) and of every alias whose chain reaches it. */
  aliasWalkFrom: Statement<unknown[], AliasWalkRow>;
  /** Problems of the chains of every alias in the zones `@zones` (a JSON array of ids) or pointing into them. */
  aliasWalkZones: Statement<unknown[], AliasWalkRow>;
}

const ROUTE_COLUMNS = '(zone_id, path, policy, ttl, alias, metadata, serial, updated_at)';
const TARGET_COLUMNS = '(zone_id, path, seq, target, weight, priority)';

/**
 * Rows per INSERT of `zone import`. One statement per row costs most of its time in the call
 * and the binding, not in SQLite: 64 routes and 128 targets per statement take the insert
 * time of 1M routes from ~11 s to ~7 s of CPU; more rows gain nothing measurable. The values
 * every row of a zone shares are named parameters, bound once per statement: `@zone`,
 * `@serial`, `@at` (then 5 values per route, path policy ttl alias metadata; and 5 per
 * target, path seq target weight priority). Far below SQLite's 32766-parameter limit.
 */
export const IMPORT_ROUTE_ROWS = 64;
export const IMPORT_TARGET_ROWS = 128;
export const IMPORT_ROUTE_VALUES = 5;
export const IMPORT_TARGET_VALUES = 5;

/** `INSERT INTO table columns VALUES row, row, ...` with `rows` copies of `row`. */
function insertRows(table: string, columns: string, row: string, rows: number): string {
  return `INSERT INTO ${table} ${columns} VALUES ${new Array(rows).fill(row).join(', ')}`;
}

export function prepareStatements(db: Database): Statements {
  // The name <-> path mapping of src/psarn/name.ts, for the alias walks: the same code the
  // answer function follows a CNAME with.
  db.function('psarn_path', { deterministic: true }, aliasPath);
  db.function('psarn_name', { deterministic: true }, (zone: unknown, path: unknown) =>
    typeof zone === 'string' && typeof path === 'string' ? routeName(zone, path) : null,
  );
  const s = <R = unknown>(sql: string): Statement<unknown[], R> => db.prepare<unknown[], R>(sql);
  // One column, returned bare (`.pluck()`).
  const one = <R>(sql: string): Statement<unknown[], R> => db.prepare<unknown[], R>(sql).pluck();
  return {
    dataVersion: one<number>('PRAGMA data_version'),
    zones: s<ZoneDbRow>(`SELECT ${ZONE_COLUMNS} FROM zones ORDER BY name`),
    zone: s<ZoneDbRow>(`SELECT ${ZONE_COLUMNS} FROM zones WHERE name = ?`),
    isEmpty: one<number>('SELECT NOT EXISTS (SELECT 1 FROM zones)'),
    catalogSerial: one<number>('SELECT serial FROM catalog WHERE id = 1'),
    insertZone: s<never>(
      `INSERT INTO zones (name, serial, epoch, soa_ttl, mname, rname, refresh, retry, expire, minimum, ns_ttl, nameservers)
       VALUES (@name, @serial, @epoch, @soaTtl, @mname, @rname, @refresh, @retry, @expire, @minimum, @nsTtl, @nameservers)`,
    ),
    updateZoneParams: s<never>(
      `UPDATE zones SET soa_ttl = @soaTtl, mname = @mname, rname = @rname, refresh = @refresh, retry = @retry,
       expire = @expire, minimum = @minimum, ns_ttl = @nsTtl, nameservers = @nameservers WHERE id = @id`,
    ),
    setSerialEpoch: s<never>('UPDATE zones SET serial = ?, epoch = ? WHERE id = ?'),

    route: s<RouteJoinRow>(`${ROUTE_SELECT} WHERE z.name = ? AND r.path = ? ORDER BY t.seq`),
    routeById: s<RouteJoinRow>(`${ROUTE_SELECT} WHERE z.id = ? AND r.path = ? ORDER BY t.seq`),
    routeData: s<RouteDataRow>(
      `SELECT r.policy, r.ttl, r.alias, t.target, t.weight, t.priority FROM routes r
       LEFT JOIN targets t ON t.zone_id = r.zone_id AND t.path = r.path
       WHERE r.zone_id = ? AND r.path = ? ORDER BY t.seq`,
    ),
    // The route index's build reads a zone in batches: a page of routes, then the targets of
    // that path range, both primary-key range scans (a join seeks the targets once per route:
    // 7.5 s against 5.2 s for 1M routes), as arrays rather than objects (4.2 -> 2.6 s of CPU).
    routesPage: s<RoutePage['routes'][number]>(
      'SELECT path, policy, ttl, alias FROM routes WHERE zone_id = ? AND path > ? AND path <= ? ORDER BY path LIMIT ?',
    ).raw(true),
    routesPageMeta: s<[...RoutePage['routes'][number], string]>(
      'SELECT path, policy, ttl, alias, metadata FROM routes WHERE zone_id = ? AND path > ? AND path <= ? ORDER BY path LIMIT ?',
    ).raw(true),
    targetsRange: s<RoutePage['targets'][number]>(
      `SELECT path, target, weight, priority FROM targets WHERE zone_id = ? AND path > ? AND path <= ?
       ORDER BY path, seq`,
    ).raw(true),
    // (zone name, path, seq) order walks zones by their name index, then each zone's routes and
    // targets by primary key: no temporary sort, so 1M routes stream in constant memory.
    routesAll: s<RouteJoinRow>(`${ROUTE_SELECT} ORDER BY z.name, r.path, t.seq`),
    routesOfZone: s<RouteJoinRow>(`${ROUTE_SELECT} WHERE z.name = ? ORDER BY r.path, t.seq`),
    // [prefix, prefix + '0') is an index range; the second test drops siblings such as
    // 'orders-x' that sort inside it ('-' < '/' < '0').
    routesUnder: s<RouteJoinRow>(
      `${ROUTE_SELECT} WHERE z.name = @zone AND r.path >= @prefix AND r.path < @prefix || '0'
       AND (r.path = @prefix OR substr(r.path, length(@prefix) + 1, 1) = '/') ORDER BY r.path, t.seq`,
    ),
    // Paths with prefix p + '/' are exactly the strings strictly between p + '/' and p + '0' in
    // byte order (BINARY collation): '0' is the character right after '/' in ASCII, and a path
    // never ends with '/', so no path equals either bound. See hasDescendants in store.ts.
    hasDescendants: one<number>(
      `SELECT EXISTS (SELECT 1 FROM routes WHERE zone_id = (SELECT id FROM zones WHERE name = ?)
       AND path > ? AND path < ?)`,
    ),
    countRoutes: one<number>('SELECT count(*) FROM routes WHERE zone_id = ?'),
    // Where a parallel index build splits a zone (route-index-build.ts): the path at a rank.
    routePathAt: one<string>('SELECT path FROM routes WHERE zone_id = ? ORDER BY path LIMIT 1 OFFSET ?'),

    upsertRoute: s<never>(
      `INSERT INTO routes (zone_id, path, policy, ttl, alias, metadata, serial, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (zone_id, path) DO UPDATE SET policy = excluded.policy, ttl = excluded.ttl,
       alias = excluded.alias, metadata = excluded.metadata, serial = excluded.serial, updated_at = excluded.updated_at`,
    ),
    insertRoute: s<never>(insertRows('routes', ROUTE_COLUMNS, '(?, ?, ?, ?, ?, ?, ?, ?)', 1)),
    insertTarget: s<never>(insertRows('targets', TARGET_COLUMNS, '(?, ?, ?, ?, ?, ?)', 1)),
    insertRoutes: s<never>(
      insertRows('routes', ROUTE_COLUMNS, '(@zone, ?, ?, ?, ?, ?, @serial, @at)', IMPORT_ROUTE_ROWS),
    ),
    insertTargets: s<never>(insertRows('targets', TARGET_COLUMNS, '(@zone, ?, ?, ?, ?, ?)', IMPORT_TARGET_ROWS)),
    deleteTargets: s<never>('DELETE FROM targets WHERE zone_id = ? AND path = ?'),
    deleteRoute: s<never>('DELETE FROM routes WHERE zone_id = ? AND path = ?'),
    deleteZoneTargets: s<never>('DELETE FROM targets WHERE zone_id = ?'),
    deleteZoneRoutes: s<never>('DELETE FROM routes WHERE zone_id = ?'),
    deleteZone: s<never>('DELETE FROM zones WHERE id = ?'),

    appendJournal: s<never>(
      'INSERT INTO journal (zone_id, serial, op, path, before, after, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    // Rows after the one that produced `since` (journal seq order, since serials wrap); the
    // caller drops any not ahead of `since` in RFC 1982 terms.
    journalSince: s<JournalDbRow>(
      `SELECT z.name AS zone, j.serial, j.op, j.path, j.before, j.after, j.at, j.actor
       FROM journal j JOIN zones z ON z.id = j.zone_id
       WHERE z.name = @zone AND j.seq > coalesce(
         (SELECT max(seq) FROM journal WHERE zone_id = z.id AND serial = @since), 0)
       ORDER BY j.seq`,
    ),
    journalHas: one<number>(
      `SELECT EXISTS (SELECT 1 FROM journal WHERE zone_id = (SELECT id FROM zones WHERE name = @zone)
       AND serial = @serial)`,
    ),
    // The newest @keep rows stay: the bound is the seq of the (@keep)th newest row, found by
    // walking journal_zone_seq backwards @keep steps (no sort, no count of the whole zone).
    pruneJournal: s<never>(
      `DELETE FROM journal WHERE zone_id = @zone AND seq < (
         SELECT seq FROM journal WHERE zone_id = @zone ORDER BY seq DESC LIMIT 1 OFFSET @keep - 1)`,
    ),
    // journal.maxAge (docs/design.md#history-and-revert): walks journal_zone_seq from the oldest
    // row to the first young enough, so it costs one index step when there is nothing to prune.
    // Rows go oldest first, by seq: a row behind a younger one (the clock stepped back) waits.
    pruneJournalAge: s<never>(
      `DELETE FROM journal WHERE zone_id = @zone AND seq < (
         SELECT seq FROM journal WHERE zone_id = @zone AND at >= @cutoff ORDER BY seq LIMIT 1)`,
    ),
    setting: one<string>('SELECT value FROM settings WHERE key = @key'),
    putSetting: s<never>(
      'INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    deleteSetting: s<never>('DELETE FROM settings WHERE key = @key'),

    aliasReferrers: s<{ zone: string; path: string }>(
      `SELECT z.name AS zone, r.path FROM routes r JOIN zones z ON z.id = r.zone_id WHERE r.alias = ?
       ORDER BY z.name, r.path`,
    ),
    // Seeded with the alias and, walking up through routes_alias, every alias whose chain
    // reaches it (UNION: a loop already stored ends the walk up): a write in the middle of a
    // chain can make the whole chain too long.
    aliasWalkFrom: s<AliasWalkRow>(
      aliasWalk(`seed(zone_id, path) AS (
        SELECT CAST(@zone AS INTEGER), @path -- an integer, as zone_id is: the walk writes ids into text
        UNION
        SELECT r.zone_id, r.path FROM seed s JOIN zones z ON z.id = s.zone_id
        JOIN routes r ON r.alias = psarn_name(z.name, s.path)
      )`),
    ),
    aliasWalkZones: s<AliasWalkRow>(
      aliasWalk(`seed(zone_id, path) AS (
        SELECT r.zone_id, r.path FROM routes r
        WHERE r.alias IS NOT NULL AND (r.zone_id IN (SELECT value FROM json_each(@zones))
          OR EXISTS (SELECT 1 FROM zones z WHERE z.id IN (SELECT value FROM json_each(@zones))
            AND length(r.alias) > length(z.name) AND substr(r.alias, -length(z.name) - 1) = '.' || z.name))
      )`),
    ),
  };
}

export function toZoneRow(row: ZoneDbRow): ZoneRow {
  return { ...row, nameservers: JSON.parse(row.nameservers) as string[] };
}

/** The SOA/NS parameters of a zone row, without its identity and counters. */
export function paramsOf(zone: ZoneRow): ZoneParams {
  const { soaTtl, mname, rname, refresh, retry, expire, minimum, nsTtl, nameservers } = zone;
  return { soaTtl, mname, rname, refresh, retry, expire, minimum, nsTtl, nameservers };
}

export function toParamsRow(p: ZoneParams): ZoneParamsRow {
  return {
    soaTtl: p.soaTtl,
    mname: p.mname,
    rname: p.rname,
    refresh: p.refresh,
    retry: p.retry,
    expire: p.expire,
    minimum: p.minimum,
    nsTtl: p.nsTtl,
    nameservers: JSON.stringify(p.nameservers),
  };
}

export function toJournalEntry(row: JournalDbRow): JournalEntry {
  const entry: JournalEntry = { zone: row.zone, serial: row.serial, op: row.op, at: row.at };
  if (row.path !== null) entry.path = row.path;
  if (row.before !== null) entry.before = JSON.parse(row.before);
  if (row.after !== null) entry.after = JSON.parse(row.after);
  if (row.actor !== null) entry.actor = row.actor;
  return entry;
}

/** Folds join rows (ordered by zone, path, seq) into routes, one at a time. */
export function* groupRoutes(rows: Iterable<RouteJoinRow>): Generator<StoredRoute> {
  let current: StoredRoute | undefined;
  for (const row of rows) {
    if (current === undefined || current.path !== row.path || current.zone !== row.zone) {
      if (current !== undefined) yield current;
      current = {
        zone: row.zone,
        path: row.path,
        ttl: row.ttl,
        targets: [],
        metadata: JSON.parse(row.metadata) as Record<string, string>,
        serial: row.serial,
        updatedAt: row.updatedAt,
      };
      if (row.policy !== null) current.policy = row.policy;
      if (row.alias !== null) current.alias = row.alias;
    }
    if (row.target !== null) {
      current.targets.push({ target: row.target, weight: row.weight!, priority: row.priority! });
    }
  }
  if (current !== undefined) yield current;
}

/**
 * A route as the journal records it and an operation saves it (SavedRoute): the StoredRoute
 * without zone and serial.
 */
export function savedRoute(route: StoredRoute): SavedRoute {
  const { zone: _zone, serial: _serial, ...rest } = route;
  return rest;
}

/** The journal's JSON of a route (savedRoute), or null for none. */
export function journalRoute(route: StoredRoute | undefined): string | null {
  return route === undefined ? null : JSON.stringify(savedRoute(route));
}
