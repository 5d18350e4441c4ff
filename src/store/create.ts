/**
 * Creating a database file so that it is never seen half made. The schema is written into a
 * temporary file beside the target, which is then hard-linked to the target name: link(2)
 * fails when the name exists, so two processes creating the same database at once (psarnd and
 * a CLI command) cannot both win, and no process ever opens a file without psarn's schema
 * unless someone else put it there. That is what lets Store.open treat an existing file with
 * no schema (a 0-byte truncated copy, say) as an error instead of a new, empty database.
 */
import { constants, copyFileSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './schema.js';

let sequence = 0;

/**
 * Creates `file` with the current schema, in WAL mode.
 * @returns true when this call created it, false when another process created it meanwhile.
 */
export function createDatabase(file: string): boolean {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${++sequence}.new`);
  try {
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = WAL');
      migrate(db, tmp, false);
    } finally {
      // The last connection to close checkpoints the WAL into the file and removes -wal/-shm.
      db.close();
    }
    try {
      linkSync(tmp, file);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // A file system without hard links (some network or FAT mounts): copy, still refusing
      // to replace a file that appeared meanwhile.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
      try {
        copyFileSync(tmp, file, constants.COPYFILE_EXCL);
        return true;
      } catch (copyErr) {
        if ((copyErr as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw copyErr;
      }
    }
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${tmp}${suffix}`, { force: true });
  }
}
