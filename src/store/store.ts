/**
 * The SQLite store (better-sqlite3 12, WAL). All SQL of psarn lives in src/store/, statements
 * prepared once in the constructor. Every write is one transaction that bumps the zone's serial
 * and appends to the change journal. Readers in another process (the daemon) see a write whole
 * or not at all.
 */
import type { JournalEntry, RouteSpec, StoredRoute, ZoneContent, ZoneParams, ZoneRow } from './types.js';

export interface OpenOptions {
  /** Create the file (and its folder) when missing. Default true. With false, a missing file is StoreError ERR_DB_MISSING. */
  create?: boolean;
  readonly?: boolean;
  /** Unix ms clock, for updatedAt and journal times. */
  now?: () => number;
}

export class Store {
  /**
   * Opens (and migrates to the current schema version) a database file; ':memory:' works.
   * @throws StoreError ERR_DB_MISSING / ERR_DB_OPEN / ERR_DB_SCHEMA (a newer schema than this code knows)
   */
  static open(_file: string, _options: OpenOptions = {}): Store {
    throw new Error('not implemented');
  }

  close(): void {
    throw new Error('not implemented');
  }

  /** PRAGMA data_version: changes whenever another connection commits. Cheap; poll it. */
  dataVersion(): number {
    throw new Error('not implemented');
  }

  /** Runs fn inside one read transaction (a consistent snapshot across several reads). */
  read<T>(_fn: () => T): T {
    throw new Error('not implemented');
  }

  zones(): ZoneRow[] {
    throw new Error('not implemented');
  }

  zone(_name: string): ZoneRow | undefined {
    throw new Error('not implemented');
  }

  getRoute(_zone: string, _path: string): StoredRoute | undefined {
    throw new Error('not implemented');
  }

  /** True when some route's path starts with `path + '/'` (an empty non-terminal, RFC 8020). */
  hasDescendants(_zone: string, _path: string): boolean {
    throw new Error('not implemented');
  }

  /**
   * Routes in path order; all zones when `zone` is undefined; only paths equal to `prefix` or
   * under `prefix + '/'` when given. Iterates without loading everything into memory.
   */
  listRoutes(_zone?: string, _prefix?: string): IterableIterator<StoredRoute> {
    throw new Error('not implemented');
  }

  /**
   * Creates or replaces a route in one transaction, creating its zone with `params` when new.
   * @returns the zone serial after the write.
   * @throws StoreError ERR_INVALID_ROUTE (bad weight/priority/ttl, no targets)
   */
  setRoute(_zone: string, _path: string, _spec: RouteSpec, _params: ZoneParams): number {
    throw new Error('not implemented');
  }

  /** @returns the serial after the write. @throws StoreError ERR_ROUTE_NOT_FOUND */
  deleteRoute(_zone: string, _path: string): number {
    throw new Error('not implemented');
  }

  /** Bumps the zone's epoch (and serial). @throws StoreError ERR_ZONE_NOT_FOUND */
  flush(_zone: string): { epoch: number; serial: number } {
    throw new Error('not implemented');
  }

  /**
   * Replaces each zone's whole content in one transaction for all of them (100k routes in
   * seconds). New serial: the file's serial when it is ahead of the current one (RFC 1982),
   * otherwise current + 1. @returns per zone the route count and new serial.
   */
  importZones(_zones: ZoneContent[], _params: ZoneParams): { zone: string; routes: number; serial: number }[] {
    throw new Error('not implemented');
  }

  /** Journal entries of a zone with serial > `sinceSerial`, oldest first. */
  journal(_zone: string, _sinceSerial = 0): JournalEntry[] {
    throw new Error('not implemented');
  }

  /** True when the database holds no zones at all (first start: load the demo routes). */
  isEmpty(): boolean {
    throw new Error('not implemented');
  }
}
