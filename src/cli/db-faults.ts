/**
 * A database file the command cannot use, as one line that names the file and says what to do
 * (issue 9: a read-only database failed with "attempt to write a readonly database
 * (SqliteError)", naming nothing). better-sqlite3 reports these as a SqliteError, at open or at
 * the first write, with SQLite's code.
 */
import { statSync } from 'node:fs';
import { ECHO_LONG, quote } from '../errors.js';
import { sqliteCode } from '../store/faults.js';
import { CliError } from './errors.js';

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `err` (or its cause) as the CLI's runtime error about `file`, when it is a read-only database
 * or a path that cannot be opened as one; undefined for any other error.
 */
export function databaseFault(file: string, err: unknown): CliError | undefined {
  const sqlite = [err, (err as { cause?: unknown } | undefined)?.cause].find((e) => sqliteCode(e) !== undefined);
  if (sqlite === undefined) return undefined;
  const code = sqliteCode(sqlite);
  const full = (sqlite as { code: string }).code;
  const shown = quote(file, ECHO_LONG);
  if (code === 'SQLITE_READONLY') {
    return new CliError(
      'ERR_RUNTIME',
      `database ${shown} is read-only for this user (${full}); psarn writes the file and creates -wal and -shm beside it: run as the user that owns it (the one psarnd runs as), or give this user write access to the file and its folder`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_CANTOPEN') {
    const what = isFolder(file)
      ? 'is a folder, not a database file; pass --db FILE'
      : 'cannot be opened; check that this user may read and write the file and its folder';
    return new CliError('ERR_RUNTIME', `database ${shown} ${what} (${full})`, { cause: err });
  }
  return undefined;
}
