/**
 * A damaged database file for tests of store faults: a real psarn database with `routes` routes,
 * whose b-tree leaf pages of the given tables are then overwritten with garbage, as a bad disk
 * block or a torn copy would leave them. The header, the schema and the zones table stay intact,
 * so the file opens and psarnd starts; reads of the damaged tables fail with SQLITE_CORRUPT.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { PARAMS, ZONE } from './fixtures.js';

export const CORRUPT_ZONE = ZONE;

/** The path of route i: 'r/<i>'. */
export const routePath = (i: number): string => `r/${i}`;

export function writeCorruptDatabase(file: string, options: { routes?: number; tables?: string[] } = {}): void {
  const count = options.routes ?? 2000;
  const store = Store.open(file);
  store.importZones(
    [
      {
        name: ZONE,
        routes: Array.from({ length: count }, (_, i) => ({
          path: routePath(i),
          spec: {
            policy: 'weighted' as const,
            ttl: 300,
            targets: [{ target: `arn:aws:sqs:us-east-1:123456789012:queue-${i}`, weight: 1, priority: 10 }],
          },
        })),
      },
    ],
    PARAMS,
  );
  store.close(); // the last connection checkpoints the WAL into the file
  corruptLeaves(file, options.tables ?? ['routes', 'targets']);
}

/** Overwrites every leaf page of `tables` with deterministic garbage. @returns the pages written. */
export function corruptLeaves(file: string, tables: string[]): number[] {
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db
    .prepare<string[], number>(
      `SELECT pageno FROM dbstat WHERE pagetype = 'leaf' AND name IN (${tables.map(() => '?').join(', ')}) ORDER BY pageno`,
    )
    .pluck()
    .all(...tables);
  db.close();
  const garbage = Buffer.alloc(pageSize);
  let x = 0x9e3779b9;
  for (let i = 0; i < pageSize; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    garbage[i] = x >>> 24;
  }
  const fd = openSync(file, 'r+');
  try {
    for (const page of pages) writeSync(fd, garbage, 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
  return pages;
}
