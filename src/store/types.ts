import { PsarnBaseError } from '../errors.js';

/** Values the store reads and writes. Zone names are absolute, lowercase, trailing dot. */

export type Policy = 'weighted' | 'fanout';

export interface TargetSpec {
  /** An ARN (`arn:...`) or an `https://` URL, byte-exact, case preserved. */
  target: string;
  /** 0..65535 */
  weight: number;
  /** 0..65535 */
  priority: number;
}

/** A route with targets (URI records + TXT). */
export interface TargetRouteSpec {
  policy: Policy;
  /** Seconds, 0..172800. */
  ttl: number;
  /** At least one. Kept in the given order. */
  targets: TargetSpec[];
  metadata?: Record<string, string>;
}

/** An alias route (CNAME): this name answers as `alias`, an absolute DNS name. */
export interface AliasRouteSpec {
  ttl: number;
  alias: string;
  metadata?: Record<string, string>;
}

export type RouteSpec = TargetRouteSpec | AliasRouteSpec;

/** What answering needs of a route: the hot read of a cache miss, without metadata or history. */
export type RouteData = Pick<StoredRoute, 'ttl' | 'policy' | 'targets' | 'alias'>;

/**
 * A page of a zone's routes as the rows come from SQLite, without an object per route or target:
 * what the route index's build reads (1M routes are 3M rows).
 */
export interface RoutePage {
  /** [path, policy, ttl, alias] per route, in path order; policy is null for an alias. */
  routes: [path: string, policy: Policy | null, ttl: number, alias: string | null][];
  /** [path, target, weight, priority] per target, by path then position. */
  targets: [path: string, target: string, weight: number, priority: number][];
  /** Route i's targets are targets[first[i], first[i + 1]). */
  first: Int32Array;
}

export interface StoredRoute {
  zone: string;
  /** Route path segments joined by '/', e.g. 'orders/created'. */
  path: string;
  ttl: number;
  /** Set for a target route. */
  policy?: Policy;
  /** Empty for an alias route. */
  targets: TargetSpec[];
  /** Absolute DNS name, set for an alias route. */
  alias?: string;
  metadata: Record<string, string>;
  /** Zone serial at which the route was last written. */
  serial: number;
  /** Unix ms of the last write. */
  updatedAt: number;
}

/** What a route's records are made of (zone export, zone transfers): a StoredRoute without its bookkeeping. */
export type RouteContent = Pick<StoredRoute, 'path' | 'ttl' | 'policy' | 'targets' | 'alias' | 'metadata'>;

/** SOA and NS parameters of a zone; the config supplies them when a zone is created. */
export interface ZoneParams {
  /** TTL of the SOA RR. */
  soaTtl: number;
  mname: string;
  rname: string;
  refresh: number;
  retry: number;
  expire: number;
  /** Negative-caching TTL (RFC 2308 §4). */
  minimum: number;
  nsTtl: number;
  /** Absolute names, at least one. */
  nameservers: string[];
}

export interface ZoneRow extends ZoneParams {
  id: number;
  name: string;
  /** RFC 1982 serial, bumped by every write to the zone. */
  serial: number;
  /** Emergency-override counter (docs/design.md#the-epoch-override), bumped by flush. */
  epoch: number;
  /**
   * The catalog serial the zone's creation produced (docs/design.md#catalog-zone): unique among
   * the zones the database ever held, so it tells a zone created again from its predecessor.
   * Always set on rows read from a store; a row built elsewhere (tests) may leave it out, and
   * the catalog then uses `id`.
   */
  created?: number;
}

export type JournalOp = 'set' | 'delete' | 'flush' | 'import' | 'create';

/** One change, keyed by the zone serial it produced: the future source of IXFR. */
export interface JournalEntry {
  zone: string;
  serial: number;
  op: JournalOp;
  /** Route path for set/delete. */
  path?: string;
  /** The route before and after (JSON of StoredRoute without zone/serial), when relevant. */
  before?: unknown;
  after?: unknown;
  at: number;
  /** Who made the change (docs/design.md#change-actors); absent for rows older than schema 4. */
  actor?: string;
}

/** Options of a route write (setRoute, updateRoute, deleteRoute). */
export interface WriteOptions {
  /**
   * Write anyway what would leave an alias pointing at nothing: an alias to a route that does
   * not exist, deleting a route aliases point at, turning such a route into an alias. Never
   * a loop, nor a chain of more than MAX_CNAME_CHAIN aliases (docs/design.md#alias-checks).
   */
  force?: boolean;
  /** How a DNS name appears in error messages (the CLI shows psARNs). Default: the name itself. */
  show?: (name: string) => string;
  /** Who makes the change, journaled with it (docs/design.md#change-actors), e.g. 'key:update-key'. */
  actor?: string;
}

/**
 * One route of a multi-route write (Store.editRoutes): `make` gets the stored route (undefined
 * when none) and returns the new one, or null to delete it (nothing when there is none).
 */
export interface RouteEdit {
  path: string;
  make: (before: StoredRoute | undefined) => RouteSpec | null;
}

/** Options of Store.editRoutes. */
export interface EditOptions extends WriteOptions {
  /**
   * The serial the zone takes (a secondary applying its primary's change keeps the primary's
   * serial, RFC 1995); default the next one. Set even when no route changes.
   */
  serial?: number;
  /**
   * The epoch the zone takes (a secondary following a flush on its primary), or a function of the
   * current one (a DNS UPDATE's flush: `(e) => e + 1`, read in the write transaction; not called
   * when the zone does not exist and no edit creates it); default unchanged.
   */
  epoch?: number | ((current: number) => number);
  /**
   * Runs first inside the write transaction, before any edit: reads of this store (zone(),
   * getRoute()) see what the edits start from, and no other writer can change it before they
   * commit. Throwing rolls everything back. A DNS UPDATE checks its prerequisites here
   * (RFC 2136 §3.2: on the zone the update is applied to).
   */
  check?: () => void;
  /**
   * Write `params` (SOA fields, NS) to an existing zone too, in the same transaction: a
   * secondary following its primary's SOA and NS. Default: `params` only create a zone.
   */
  setParams?: boolean;
}

/** What Store.editRoutes did. */
export interface EditResult {
  zone: string;
  /** The routes that changed, in edit order (an unchanged or absent-and-deleted route is left out). */
  changes: RouteChange[];
  /** The zone's serial after the write: unchanged when nothing changed (and no `serial` was given). */
  serial: number;
  zoneCreated: boolean;
}

/** At most this many names in a list of aliases (messages, `RouteChange.dangling`); then a count. */
export const ALIAS_NAMES_SHOWN = 5;

/** What a route write did: the route before and after it, for a diff. */
export interface RouteChange {
  zone: string;
  path: string;
  /** Undefined when the route did not exist. */
  before?: StoredRoute;
  /** Undefined after a delete; `before` again when nothing changed. */
  after?: StoredRoute;
  /** False when the write would not change the route: then nothing was written and the serial stayed. */
  changed: boolean;
  /** The zone's serial after the write (its current one when nothing changed). */
  serial: number;
  /** True when this write created the zone. */
  zoneCreated: boolean;
  /** Aliases a forced write left pointing at nothing: their DNS names (at most ALIAS_NAMES_SHOWN) and how many. */
  dangling?: { names: string[]; count: number };
}

/**
 * An alias whose chain is broken: it ends at a name that is no route (`dangling`), comes back
 * to an alias it passed (`loop`), or needs more than MAX_CNAME_CHAIN CNAMEs (`chain`).
 */
export interface AliasProblem {
  kind: 'dangling' | 'loop' | 'chain';
  /** The alias's DNS name. */
  alias: string;
  /** The names from the alias on: for a loop up to and including the name it comes back to. */
  chain: string[];
}

/** One route of a zone import. */
export interface ImportRoute {
  path: string;
  spec: RouteSpec;
}

/**
 * The routes of a zone import: an array, or a list that builds route i when asked, so that 1M
 * routes need not exist as objects all at once (the zone-file reader keeps them in columns).
 */
export interface RouteList extends Iterable<ImportRoute> {
  readonly length: number;
  at(i: number): ImportRoute | undefined;
  /** Route i's path without building the route (optional: `at(i).path` otherwise). */
  pathAt?(i: number): string;
}

/** A whole zone as `psarn zone import` builds it from a master file. */
export interface ZoneContent {
  name: string;
  /** From the file's SOA/NS at the apex; undefined keeps existing or default parameters. */
  params?: Partial<ZoneParams>;
  /** The SOA serial in the file, if any. */
  serial?: number;
  /** From `_epoch.<zone>` TXT "epoch=<n>", if any. */
  epoch?: number;
  routes: ImportRoute[];
}

/** What Store.importZones takes: a ZoneContent, or one whose routes are built on request. */
export interface ZoneImport extends Omit<ZoneContent, 'routes'> {
  routes: RouteList;
}

/** What an operation on a route is (docs/design.md#operations). */
export type OperationKind = 'rollout' | 'hold';

/**
 * Where an operation is: a rollout is `running` (psarnd steps it at `dueAt`) or `paused`, and
 * ends `done` or `aborted`; a hold is `held` until it is `released`. The first three are active:
 * a route has at most one active operation of each kind.
 */
export type OperationStatus = 'running' | 'paused' | 'done' | 'aborted' | 'held' | 'released';

/** The statuses of an operation still in progress. */
export const ACTIVE_STATUSES: readonly OperationStatus[] = ['running', 'paused', 'held'];

/** The route as an operation saved it: a StoredRoute without zone and serial (the journal's form). */
export type SavedRoute = Omit<StoredRoute, 'zone' | 'serial'>;

/** An operation on a route (schema 5's operations table), `S` the kind's own state. */
export interface Operation<S = Record<string, unknown>> {
  id: number;
  zone: string;
  path: string;
  kind: OperationKind;
  status: OperationStatus;
  /** The route before the operation: what abort and release restore, byte for byte. */
  saved: SavedRoute;
  state: S;
  /** Unix ms at which psarnd next acts on a running rollout; undefined otherwise. */
  dueAt?: number;
  /** Who started it (docs/design.md#change-actors). */
  actor?: string;
  createdAt: number;
  updatedAt: number;
}

/** What Store.insertOperation takes. */
export type NewOperation<S = Record<string, unknown>> = Pick<
  Operation<S>,
  'zone' | 'path' | 'kind' | 'status' | 'saved' | 'state' | 'dueAt' | 'actor'
>;

/** What Store.updateOperation changes: each field given (dueAt null clears it). */
export interface OperationPatch<S = Record<string, unknown>> {
  status?: OperationStatus;
  state?: S;
  dueAt?: number | null;
}

/** Which operations Store.operations lists. */
export interface OperationFilter {
  zone?: string;
  path?: string;
  kind?: OperationKind;
  /** Only active ones (running, paused, held). */
  active?: boolean;
  /** At most this many, newest first (default all). */
  limit?: number;
}

/** The stable codes of StoreError. */
export type StoreErrorCode =
  | 'ERR_DB_MISSING'
  | 'ERR_DB_OPEN'
  | 'ERR_DB_SCHEMA'
  /** The file exists but is not a psarn database: empty, not SQLite, or without the schema. */
  | 'ERR_DB_NOT_PSARN'
  /** The file is damaged: SQLITE_CORRUPT, or PRAGMA quick_check failed before a write. */
  | 'ERR_DB_CORRUPT'
  /** A read failed for another reason (an I/O error); the SqliteError is the cause. */
  | 'ERR_DB_READ'
  /** Another process held the write lock past the busy timeout. */
  | 'ERR_DB_LOCKED'
  | 'ERR_ZONE_NOT_FOUND'
  /** A zone name or SOA/NS parameters outside their ranges. */
  | 'ERR_INVALID_ZONE'
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_INVALID_ROUTE'
  /** The alias would come back to itself, or lead into a loop. */
  | 'ERR_ALIAS_LOOP'
  /** The alias would be, or lengthen, a chain of more than MAX_CNAME_CHAIN aliases. */
  | 'ERR_ALIAS_CHAIN'
  /** The alias would point at a name that is no route (WriteOptions.force allows it). */
  | 'ERR_ALIAS_DANGLING'
  /** Aliases point at the route being deleted or turned into an alias (WriteOptions.force allows it). */
  | 'ERR_ROUTE_ALIASED'
  /** A serial older than the zone's oldest kept journal row (journal.keep, journal.maxAge pruned it). */
  | 'ERR_JOURNAL_PRUNED'
  /** A serial no change of the zone produced (ahead of its serial, or skipped by an import). */
  | 'ERR_SERIAL_UNKNOWN'
  /** The journal does not record the route at that serial (zone imports on both sides of it). */
  | 'ERR_HISTORY_GAP'
  /** No zone for an operation, or the route already has an active operation of that kind. */
  | 'ERR_OPERATION_CONFLICT'
  | 'ERR_OPERATION_NOT_FOUND';

export class StoreError extends PsarnBaseError {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
