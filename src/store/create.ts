/**
 * Creating a database file so that it is never seen half made. The schema is written into a
 * temporary file beside the target, which is then hard-linked to the target name: link(2)
 * fails when the name exists, so two processes creating the same database at once (psarnd and
 * a CLI command) cannot both win, and no process ever opens a file without psarn's schema
 * unless someone else put it there. That is what lets Store.open treat an existing file with
 * no schema (a 0-byte truncated copy, say) as an error instead of a new, empty database.
 */
import { constants, copyFileSync, linkSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { createDatabaseFile } from './file-mode.js';
import { migrate } from './schema.js';

let sequence = 0;

/**
 * Creates `file` with the current schema, in WAL mode, with `mode` (file-mode.ts: the folder
 * too when this creates it). The temporary file is created with that mode before SQLite opens
 * it, and the link (or copy) keeps it.
 * @returns true when this call created it, false when another process created it meanwhile.
 */
export function createDatabase(file: string, mode?: number): boolean {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${++sequence}.new`);
  try {
    createDatabaseFile(tmp, mode);
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
