/**
 * Creating the database file with owner-only permissions. The routes are not secret (they are
 * served over DNS), but the file is the write path: whoever can write it changes every route,
 * and a readable file shows routes not yet published and the change journal. So a new database
 * is 0600 and a folder created for it 0700, unless configured (`dbMode`).
 *
 * SQLite creates the -wal and -shm files with the database file's mode (os_unix.c,
 * findCreateFileMode), so setting the database file's mode at creation covers all three.
 * The file is created empty with its mode before SQLite opens it, not chmod-ed afterwards: a
 * process that opened it in between would keep its descriptor. The process umask cannot widen
 * what is asked, and the mode is then set exactly (fchmod), so a configured 0640 is 0640.
 * Existing files and folders are left as they are.
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';

/** Owner read and write only. */
export const DEFAULT_DB_MODE = 0o600;

/** The mode of a folder for files of `mode`: x wherever r is set (0600 -> 0700, 0640 -> 0750). */
export function dirModeFor(mode: number): number {
  return mode | ((mode & 0o444) >> 2);
}

/**
 * Creates the missing folders of `file` and the empty file itself with `mode` (folders:
 * dirModeFor). A file that appeared meanwhile (another process created it) is left alone.
 * @example createDatabaseFile('./data/psarn.db', 0o600) // data/ 0700, psarn.db 0600
 */
export function createDatabaseFile(file: string, mode: number = DEFAULT_DB_MODE): void {
  const dir = dirname(file);
  const dirMode = dirModeFor(mode);
  const first = mkdirSync(dir, { recursive: true, mode: dirMode });
  if (first !== undefined) {
    // mkdir applied the umask; set exactly what was asked on each folder created here.
    let at = first;
    chmodSync(at, dirMode);
    for (const part of relative(first, dir)
      .split(sep)
      .filter((p) => p !== '')) {
      at = `${at}${sep}${part}`;
      chmodSync(at, dirMode);
    }
  }
  let fd: number;
  try {
    fd = openSync(file, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}
