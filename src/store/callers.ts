/**
 * Statements of schema 6's callers table (docs/design.md#the-caller-map): the persisted caller
 * map. psarnd writes it every callers.persistEvery from its in-memory map; `psarn graph`,
 * `psarn route callers` and the web console read it. Kept apart from statements.ts because the
 * answer path never touches it.
 */
import type { Database, Statement } from 'better-sqlite3';

/** One (caller, name) pair as stored: who fetched which DNS name, at which zone serial, and when. */
export interface CallerRow {
  /** The caller id, as sent in EDNS option 65001 (docs/design.md#the-caller-map). */
  caller: string;
  /** The DNS name asked: lowercase, trailing dot (a route, an alias, or `_epoch.<zone>`). */
  name: string;
  /** '' for this psarnd's own callers; else the TSIG key name of the secondary that reported them. */
  reporter: string;
  /** The zone serial of the answer last fetched (0 when the name was in no zone served). */
  serial: number;
  /** Unix ms of the first and the last lookup seen. */
  firstSeen: number;
  lastSeen: number;
  /** Lookups seen (summed over persists; approximate across restarts and evictions). */
  lookups: number;
}

/** Which rows callerRows returns; every field given narrows it. */
export interface CallerFilter {
  /** Exactly this name. */
  name?: string;
  /** Names in this zone: the zone itself and every name under it. */
  zone?: string;
  caller?: string;
  reporter?: string;
}

interface CallerDbRow {
  caller: string;
  name: string;
  reporter: string;
  serial: number;
  first_seen: number;
  last_seen: number;
  lookups: number;
}

export interface CallerStatements {
  /**
   * Adds a row, or merges into the stored one: the newer last_seen brings its serial, the older
   * first_seen stays, lookups are added (`@lookups` is the count since the last persist).
   */
  upsert: Statement<unknown[], never>;
  /**
   * A secondary's report (docs/design.md#caller-reports-from-secondaries): its rows carry the
   * secondary's own totals, so the newer last_seen brings its serial and its lookups (replaced,
   * not added: a report sent twice changes nothing), the older first_seen stays.
   */
  replace: Statement<unknown[], never>;
  remove: Statement<unknown[], never>;
  list: Statement<unknown[], CallerDbRow>;
  epochSerial: Statement<unknown[], number | null>;
  /** A reporter's rows seen after @since (a secondary's report: docs/design.md#caller-reports-from-secondaries). */
  seenSince: Statement<unknown[], CallerDbRow>;
  /** How many rows a reporter has. */
  countReporter: Statement<unknown[], number>;
  /**
   * Deletes a reporter's least recently seen rows past the first @keep (most recent first): the
   * bound on what one secondary can hold in its primary's table (callers.maxEntries).
   */
  trimReporter: Statement<unknown[], never>;
}

export function prepareCallerStatements(db: Database): CallerStatements {
  return {
    upsert: db.prepare<unknown[], never>(
      `INSERT INTO callers (caller, name, reporter, serial, first_seen, last_seen, lookups)
       VALUES (@caller, @name, @reporter, @serial, @firstSeen, @lastSeen, @lookups)
       ON CONFLICT (caller, name, reporter) DO UPDATE SET
         serial = CASE WHEN excluded.last_seen >= last_seen THEN excluded.serial ELSE serial END,
         first_seen = min(first_seen, excluded.first_seen),
         last_seen = max(last_seen, excluded.last_seen),
         lookups = lookups + excluded.lookups`,
    ),
    replace: db.prepare<unknown[], never>(
      `INSERT INTO callers (caller, name, reporter, serial, first_seen, last_seen, lookups)
       VALUES (@caller, @name, @reporter, @serial, @firstSeen, @lastSeen, @lookups)
       ON CONFLICT (caller, name, reporter) DO UPDATE SET
         serial = CASE WHEN excluded.last_seen >= last_seen THEN excluded.serial ELSE serial END,
         lookups = CASE WHEN excluded.last_seen >= last_seen THEN excluded.lookups ELSE lookups END,
         first_seen = min(first_seen, excluded.first_seen),
         last_seen = max(last_seen, excluded.last_seen)`,
    ),
    remove: db.prepare<unknown[], never>('DELETE FROM callers WHERE caller = ? AND name = ? AND reporter = ?'),
    list: db.prepare<unknown[], CallerDbRow>(
      `SELECT caller, name, reporter, serial, first_seen, last_seen, lookups FROM callers
       WHERE (@name IS NULL OR name = @name)
         AND (@zone IS NULL OR name = @zone OR substr(name, -length(@zone) - 1) = '.' || @zone)
         AND (@caller IS NULL OR caller = @caller)
         AND (@reporter IS NULL OR reporter = @reporter)
       ORDER BY name, caller, reporter`,
    ),
    epochSerial: db.prepare<unknown[], number | null>('SELECT epoch_serial FROM zones WHERE name = ?').pluck(),
    seenSince: db.prepare<unknown[], CallerDbRow>(
      `SELECT caller, name, reporter, serial, first_seen, last_seen, lookups FROM callers
       WHERE reporter = @reporter AND last_seen > @since ORDER BY name, caller`,
    ),
    countReporter: db.prepare<unknown[], number>('SELECT count(*) FROM callers WHERE reporter = ?').pluck(),
    trimReporter: db.prepare<unknown[], never>(
      `DELETE FROM callers WHERE reporter = @reporter AND (caller, name) IN (
         SELECT caller, name FROM callers WHERE reporter = @reporter
         ORDER BY last_seen DESC, caller, name LIMIT -1 OFFSET @keep)`,
    ),
  };
}

export function toCallerRow(row: CallerDbRow): CallerRow {
  return {
    caller: row.caller,
    name: row.name,
    reporter: row.reporter,
    serial: row.serial,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    lookups: row.lookups,
  };
}
