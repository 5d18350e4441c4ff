/**
 * What can go wrong with the database file itself, as StoreErrors that say what to do: a file
 * that is not psarn's, a damaged file, a write lock held too long. better-sqlite3 reports these
 * as a SqliteError whose `code` is SQLite's (SQLITE_BUSY, SQLITE_CORRUPT, SQLITE_NOTADB, ...).
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ECHO_LONG, echo, quote } from '../errors.js';
import { StoreError } from './types.js';

export const shownPath = (file: string): string => quote(file, ECHO_LONG);

/** SQLite's primary result code of an error thrown by better-sqlite3, or undefined for any other error. */
export function sqliteCode(err: unknown): string | undefined {
  if (!(err instanceof Database.SqliteError)) return undefined;
  // Extended codes read SQLITE_CORRUPT_INDEX, SQLITE_BUSY_SNAPSHOT, ...: the primary code is what matters.
  return /^SQLITE_[A-Z]+/.exec(err.code)?.[0] ?? err.code;
}

/** SQLITE_CORRUPT and SQLITE_NOTADB in the middle of a file: its pages are damaged. */
export function isDamage(code: string | undefined): boolean {
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB';
}

const RECOVER = (file: string) =>
  `restore it from a backup, or copy out what is readable with: sqlite3 ${shownPath(file)} .recover | sqlite3 recovered.db`;

export function corruptError(file: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    'ERR_DB_CORRUPT',
    `database ${shownPath(file)} is damaged (${echo(detail, 160)}); ${RECOVER(file)}`,
    cause === undefined ? undefined : { cause },
  );
}

export function lockedError(file: string, busyTimeoutMs: number, cause: unknown): StoreError {
  return new StoreError(
    'ERR_DB_LOCKED',
    `database ${shownPath(file)} is locked: another process held its write lock for over ${busyTimeoutMs} ms (the busy timeout), so nothing was written; it is usually another psarn command (a large zone import) or a sqlite3 shell with an open transaction: let it finish and retry ('fuser ${echo(file, ECHO_LONG)}' lists the processes that have the file open)`,
    { cause },
  );
}

/** A failed read, as the handler and the CLI see it; the SqliteError stays in `cause`. */
export function readError(file: string, cause: unknown): StoreError {
  const code = sqliteCode(cause);
  const detail = `${(cause as Error).message} (${(cause as { code?: string }).code ?? code})`;
  if (isDamage(code)) return corruptError(file, detail, cause);
  return new StoreError('ERR_DB_READ', `reading database ${shownPath(file)} failed: ${echo(detail, 160)}`, {
    cause,
  });
}

/**
 * A file that is there but is not a psarn database: empty (a truncated copy, a `touch`), not
 * SQLite at all, or SQLite without psarn's schema (user_version 0). psarn never leaves such a
 * file itself: it creates a database complete with its schema, then moves it into place.
 */
export function notPsarnError(file: string, why: string, cause?: unknown): StoreError {
  return new StoreError(
    'ERR_DB_NOT_PSARN',
    `database ${shownPath(file)} is not a psarn database: ${why}; if it should be one (a truncated copy?), restore it from a backup; otherwise pass another file with --db, or remove this one to let psarn create a new database`,
    cause === undefined ? undefined : { cause },
  );
}

/** Why an existing file whose user_version is 0 is not a psarn database, in a few words. */
export function foreignReason(file: string, db: Database.Database): string {
  if (statSync(file).size === 0) return 'the file is empty (0 bytes)';
  const tables = db
    .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name LIMIT 4")
    .pluck()
    .all();
  if (tables.length === 0) return 'it is an SQLite database with no tables';
  return `it is an SQLite database without psarn's schema (tables ${tables.map((t) => echo(t, 40)).join(', ')}${tables.length === 4 ? ', ...' : ''})`;
}
