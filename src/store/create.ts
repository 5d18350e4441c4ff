/**
 * Creating a database file so that it is never seen half made. The schema is written into a
 * temporary file beside the target, which is then hard-linked to the target name: link(2)
 * fails when the name exists, so two processes creating the same database at once (psarnd and
 * a CLI command) cannot both win, and no process ever opens a file without psarn's schema
 * unless someone else put it there. That is what lets Store.open treat an existing file with
 * no schema (a 0-byte truncated copy, say) as an error instead of a new, empty database.
 */
import { constants, copyFileSync, linkSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, parse, sep } from 'node:path';
import Database from 'better-sqlite3';
import { shownPath } from './faults.js';
import { createDatabaseFile } from './file-mode.js';
import { migrate } from './schema.js';

let sequence = 0;

/**
 * Creates `file` with the current schema, in WAL mode, with `mode` (file-mode.ts: the folder
 * too when this creates it). The temporary file is created with that mode before SQLite opens
 * it, and the link (or copy) keeps it.
 * @returns true when this call created it, false when another process created it meanwhile.
 * @throws Error saying why in words when a folder on the way is a file (`--db /etc/passwd/x.db`:
 *   mkdir's raw EEXIST) or cannot be written; the system error is the cause
 */
export function createDatabase(file: string, mode?: number): boolean {
  try {
    return create(file, mode);
  } catch (err) {
    throw explained(file, err);
  }
}

function create(file: string, mode: number | undefined): boolean {
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
    // Never throws: a failed cleanup (ENOTDIR when the folder is a file) must not hide the
    // error that brought us here.
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        rmSync(`${tmp}${suffix}`, { force: true });
      } catch {}
    }
  }
}

/** The error of a failed creation in words, when a folder on the way is the cause. */
function explained(file: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  const options = { cause: err };
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    const blocker = fileOnTheWay(dirname(file));
    if (blocker !== undefined) {
      return new Error(`${shownPath(blocker)} is a file, not a folder; give a database path inside a folder`, options);
    }
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const why = code === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this user';
    return new Error(
      `the folder ${shownPath(dirname(file))} (or one on the way) ${why} (${code}); psarn creates the database there, with -wal and -shm beside it: give another path, or run as a user who may write there`,
      options,
    );
  }
  return err;
}

/** The first existing path on the way to `dir` (itself included) that is not a folder. */
function fileOnTheWay(dir: string): string | undefined {
  const { root } = parse(dir);
  let at = root;
  for (const part of dir
    .slice(root.length)
    .split(sep)
    .filter((p) => p !== '')) {
    at = at === root ? `${root}${part}` : `${at}${sep}${part}`;
    try {
      if (!statSync(at).isDirectory()) return at;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
