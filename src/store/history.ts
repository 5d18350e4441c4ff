/**
 * A route's history from the change journal (docs/design.md#history-and-revert): every journal
 * row that concerns one route, with the route before and after it. Set and delete rows carry
 * both; a zone import carries neither (one row for the whole zone), so its before and after are
 * told from the rows around it: the route after the import is the `before` of the route's next
 * row (or the route now, when none follows), and before it the state the rows before it left.
 * A side nothing records stays unknown (two imports in a row, or an import before the oldest
 * kept row). Kept apart from statements.ts: only `psarn route history|revert` read it.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { JournalOp, SavedRoute } from './types.js';

/** A journal row of the zone that concerns the route: its own set/delete rows and the zone-wide ones. */
export interface HistoryRow {
  seq: number;
  serial: number;
  op: JournalOp;
  before: string | null;
  after: string | null;
  at: number;
  actor: string | null;
}

/** The oldest row the zone's journal keeps. */
export interface OldestRow {
  serial: number;
  op: JournalOp;
}

export interface HistoryStatements {
  /** The rows of zone @zone (id) with path @path, or with no path (import, flush, create), by seq. */
  rows: Statement<unknown[], HistoryRow>;
  /** The zone's oldest kept row. */
  oldest: Statement<unknown[], OldestRow>;
  /** The seq of the newest row of zone @zone with serial @serial (journal_zone_serial), or null. */
  serialSeq: Statement<unknown[], number | null>;
}

export function prepareHistoryStatements(db: Database): HistoryStatements {
  return {
    // journal_zone_seq walks the zone in order; a row of another route is skipped on its path.
    rows: db.prepare<unknown[], HistoryRow>(
      `SELECT seq, serial, op, before, after, at, actor FROM journal
       WHERE zone_id = @zone AND (path = @path OR path IS NULL) ORDER BY seq`,
    ),
    oldest: db.prepare<unknown[], OldestRow>('SELECT serial, op FROM journal WHERE zone_id = ? ORDER BY seq LIMIT 1'),
    serialSeq: db
      .prepare<unknown[], number | null>('SELECT max(seq) FROM journal WHERE zone_id = @zone AND serial = @serial')
      .pluck(),
  };
}

/**
 * What a row did to the route: `zone created` (the zone's first row: the route did not exist),
 * `created`, `updated`, `deleted`, `unchanged` (an import that left it as it was), `unknown` (an
 * import whose before or after nothing records: it may have changed the route), `flush` (the
 * zone's epoch: every caller refetches, the route itself unchanged).
 */
export type HistoryChange = 'zone created' | 'created' | 'updated' | 'deleted' | 'unchanged' | 'unknown' | 'flush';

/** One change in a route's history. */
export interface RouteHistoryEntry {
  /** The journal's insertion order (serials wrap, RFC 1982). */
  seq: number;
  /** The zone serial the change produced. */
  serial: number;
  /** Unix ms. */
  at: number;
  /** Who (docs/design.md#change-actors); absent for rows older than schema 4. */
  actor?: string;
  op: JournalOp;
  change: HistoryChange;
  /** The route before: null when there was none; absent when nothing records it. */
  before?: SavedRoute | null;
  /** The route after, as `before`. */
  after?: SavedRoute | null;
  /** A flush: the zone's epoch before and after. */
  epoch?: { before: number; after: number };
}

/** A route's history, read in one snapshot. */
export interface RouteHistory {
  zone: string;
  path: string;
  /** The zone's serial now. */
  serial: number;
  /** The zone's oldest kept journal row (journal.keep, journal.maxAge prune older ones). */
  oldestSerial?: number;
  /** True when the journal still holds the zone's creation: nothing of the route is pruned. */
  complete: boolean;
  /** The route now (journal form), or undefined when there is none. */
  route?: SavedRoute;
  /** Oldest first; imports that provably left the route alone are left out. */
  entries: RouteHistoryEntry[];
  /** How many kept entries changed the route (or may have: CHANGES), before any limit. */
  changes: number;
}

/** What the journal says a route was at some point: a route, none (null), or not recorded (undefined). */
export type RouteState = SavedRoute | null | undefined;

const parse = (text: string | null): SavedRoute | null => (text === null ? null : (JSON.parse(text) as SavedRoute));

/** True when two journal forms of a route are the same route (updatedAt aside). */
export function sameSaved(a: SavedRoute | null, b: SavedRoute | null): boolean {
  if (a === null || b === null) return a === b;
  const content = (r: SavedRoute) =>
    JSON.stringify([
      r.ttl,
      r.policy ?? null,
      r.alias ?? null,
      r.targets.map((t) => [t.target, t.weight, t.priority]),
      Object.entries(r.metadata).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
    ]);
  return content(a) === content(b);
}

/**
 * Every row that concerns the route, oldest first, with the route before and after each (pure).
 * `current` is the route now; `complete`: the rows start at the zone's creation.
 */
export function deriveEntries(rows: readonly HistoryRow[], current: SavedRoute | null): RouteHistoryEntry[] {
  const entries: RouteHistoryEntry[] = rows.map((row) => {
    const e: RouteHistoryEntry = { seq: row.seq, serial: row.serial, at: row.at, op: row.op, change: 'unknown' };
    if (row.actor !== null) e.actor = row.actor;
    if (row.op === 'set' || row.op === 'delete') {
      e.before = parse(row.before);
      e.after = parse(row.after);
    } else if (row.op === 'flush') {
      const epoch = (text: string | null) => (JSON.parse(text ?? '{}') as { epoch?: number }).epoch ?? 0;
      e.epoch = { before: epoch(row.before), after: epoch(row.after) };
    } else if (row.op === 'create') {
      // The zone's first row (a deleted zone's journal goes with it): no route before or after.
      e.before = null;
      e.after = null;
    }
    return e;
  });
  // Forward: what the rows before each one left; an import leaves the route unknown.
  let state: RouteState;
  for (const e of entries) {
    if (e.op === 'import' || e.op === 'flush') e.before = state;
    if (e.op === 'flush') e.after = state;
    if (e.op !== 'import') state = e.after;
    else state = undefined;
  }
  // Backward: what the rows after each one found (the route now after the last).
  state = current;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.op === 'import' || (e.op === 'flush' && e.after === undefined)) e.after = state;
    if (e.op === 'flush' && e.before === undefined) e.before = e.after;
    state = e.before;
  }
  for (const e of entries) e.change = changeOf(e);
  return entries;
}

function changeOf(e: RouteHistoryEntry): HistoryChange {
  if (e.op === 'create') return 'zone created';
  if (e.op === 'flush') return 'flush';
  if (e.before === undefined || e.after === undefined) return 'unknown';
  if (e.before === null) return e.after === null ? 'unchanged' : 'created';
  if (e.after === null) return 'deleted';
  return sameSaved(e.before, e.after) ? 'unchanged' : 'updated';
}

/**
 * The route right after the rows up to `seq` (the route at that serial): the `before` of the
 * first later row, or the route now when none follows. Undefined when nothing records it.
 */
export function stateAfter(entries: readonly RouteHistoryEntry[], seq: number, current: SavedRoute | null): RouteState {
  const next = entries.find((e) => e.seq > seq);
  return next === undefined ? current : next.before;
}

/** The entries that changed the route (or may have): what `revert` without --to undoes the last of. */
export const CHANGES: ReadonlySet<HistoryChange> = new Set(['created', 'updated', 'deleted', 'unknown']);
