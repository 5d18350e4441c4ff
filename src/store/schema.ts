/**
 * The schema and its migrations. `PRAGMA user_version` holds the version: migration i (0-based)
 * takes the database from version i to i + 1, each in its own IMMEDIATE transaction so that two
 * processes opening a fresh file at once (the daemon and the CLI) cannot both apply it.
 * Append new migrations; never edit a released one.
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from './types.js';

const V1 = `
-- One row per zone. The epoch (docs/design.md#the-epoch-override) lives here, beside the serial, so a flush is one
-- UPDATE in the same transaction that bumps the serial and journals the change.
CREATE TABLE zones (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 2 AND 255 AND name = lower(name) AND substr(name, -1) = '.'),
  serial      INTEGER NOT NULL CHECK (serial BETWEEN 1 AND 4294967295),
  epoch       INTEGER NOT NULL CHECK (epoch >= 0),
  soa_ttl     INTEGER NOT NULL CHECK (soa_ttl BETWEEN 0 AND 2147483647),
  mname       TEXT    NOT NULL,
  rname       TEXT    NOT NULL,
  refresh     INTEGER NOT NULL CHECK (refresh BETWEEN 0 AND 4294967295),
  retry       INTEGER NOT NULL CHECK (retry BETWEEN 0 AND 4294967295),
  expire      INTEGER NOT NULL CHECK (expire BETWEEN 0 AND 4294967295),
  minimum     INTEGER NOT NULL CHECK (minimum BETWEEN 0 AND 4294967295),
  ns_ttl      INTEGER NOT NULL CHECK (ns_ttl BETWEEN 0 AND 2147483647),
  nameservers TEXT    NOT NULL CHECK (json_valid(nameservers) AND json_array_length(nameservers) >= 1)
) STRICT;

-- A route is either a target route (policy set, at least one row in 'targets') or an alias
-- (alias set, no targets). The CHECK holds "exactly one of policy/alias"; the parts that span
-- two tables are held by the store's code (validate.ts, setRoute), not by a trigger: a
-- BEFORE INSERT trigger on targets cost 20% of a 100k-route import.
-- WITHOUT ROWID: the primary key is the only access path (lookups, prefix range scans), so
-- clustering rows on it saves a second b-tree.
CREATE TABLE routes (
  zone_id    INTEGER NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  path       TEXT    NOT NULL CHECK (length(path) BETWEEN 1 AND 511),
  policy     TEXT    CHECK (policy IN ('weighted', 'fanout')),
  ttl        INTEGER NOT NULL CHECK (ttl BETWEEN 0 AND 172800),
  alias      TEXT    CHECK (alias IS NULL OR (length(alias) BETWEEN 2 AND 255 AND substr(alias, -1) = '.')),
  metadata   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  serial     INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (zone_id, path),
  CHECK ((policy IS NULL) <> (alias IS NULL))
) STRICT, WITHOUT ROWID;

-- The URI RRset of a route, in the order the operator gave (seq).
CREATE TABLE targets (
  zone_id  INTEGER NOT NULL,
  path     TEXT    NOT NULL,
  seq      INTEGER NOT NULL CHECK (seq >= 0),
  target   TEXT    NOT NULL CHECK (length(target) >= 1),
  weight   INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 65535),
  priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 65535),
  PRIMARY KEY (zone_id, path, seq),
  FOREIGN KEY (zone_id, path) REFERENCES routes (zone_id, path) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- The change journal, keyed by the zone serial each change produced: the future IXFR source
-- (RFC 1995). seq is a global insertion order, because serials wrap (RFC 1982) and so cannot
-- order the rows by themselves.
CREATE TABLE journal (
  seq     INTEGER PRIMARY KEY,
  zone_id INTEGER NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  serial  INTEGER NOT NULL CHECK (serial BETWEEN 1 AND 4294967295),
  op      TEXT    NOT NULL CHECK (op IN ('create', 'set', 'delete', 'flush', 'import')),
  path    TEXT,
  before  TEXT    CHECK (before IS NULL OR json_valid(before)),
  after   TEXT    CHECK (after IS NULL OR json_valid(after)),
  at      INTEGER NOT NULL
) STRICT;
-- (zone_id, seq) serves "changes after X" as a range; (zone_id, serial) finds X.
CREATE INDEX journal_zone_seq ON journal (zone_id, seq);
CREATE INDEX journal_zone_serial ON journal (zone_id, serial);
`;

// The aliases that point at a name (docs/design.md#alias-checks): deleting a route, or turning
// it into an alias, first asks who points at it, and an alias write walks the chains into it.
// Partial: only alias rows are indexed, so the 1M target routes of an import cost nothing here.
const V2 = `
CREATE INDEX routes_alias ON routes (alias) WHERE alias IS NOT NULL;
`;

// The catalog zone (docs/design.md#catalog-zone, RFC 9432): its serial, and when each zone was
// created. Triggers, not code in the store's write paths, so that every way a zone row comes or
// goes (a route write, an import, a transfer into a secondary) moves the catalog in the same
// transaction. Zones are few and created rarely; the triggers cost nothing on route writes.
// `created` is the catalog serial that the zone's insert produced: unique among every zone the
// database ever held (until 2^32 zone creations), so a zone deleted and created again is a new
// catalog member. Existing zones take their id, and the catalog serial starts above every one.
const V3 = `
CREATE TABLE catalog (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  serial INTEGER NOT NULL CHECK (serial BETWEEN 1 AND 4294967295)
) STRICT;
INSERT INTO catalog (id, serial) VALUES (1, max(1, coalesce((SELECT max(id) FROM zones), 0)));
ALTER TABLE zones ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
UPDATE zones SET created = id;
-- RFC 1982 increment, skipping 0 as the zone serials do (src/store/serial.ts).
CREATE TRIGGER zones_catalog_insert AFTER INSERT ON zones BEGIN
  UPDATE catalog SET serial = CASE WHEN serial >= 4294967295 THEN 1 ELSE serial + 1 END;
  UPDATE zones SET created = (SELECT serial FROM catalog) WHERE id = NEW.id;
END;
CREATE TRIGGER zones_catalog_delete AFTER DELETE ON zones BEGIN
  UPDATE catalog SET serial = CASE WHEN serial >= 4294967295 THEN 1 ELSE serial + 1 END;
END;
`;

// Who made each change (docs/design.md#change-actors): 'user:<OS user>' for a local CLI write,
// 'key:<TSIG key name>' for a signed DNS UPDATE, 'primary:<address>' for a secondary's transfer;
// NULL for rows written before this migration. And the database's own settings, one row per
// key: a secondary's copy records its primary there, so a local write can be refused.
const V4 = `
ALTER TABLE journal ADD COLUMN actor TEXT;
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`;

// Operations on routes (docs/design.md#operations): rollouts and holds, each a sequence of
// ordinary route changes whose state lives here so that it survives a restart of psarnd or of
// the CLI. `saved` is the route before the operation (journal form: StoredRoute without zone
// and serial), what `rollout abort` and `release` restore byte for byte. `state` is the kind's
// own JSON. `due_at` (unix ms) is when psarnd next acts on a running rollout. At most one
// active operation of each kind per route (the partial unique index); finished ones stay as
// history until their zone goes.
const V5 = `
CREATE TABLE operations (
  id         INTEGER PRIMARY KEY,
  zone_id    INTEGER NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
  path       TEXT    NOT NULL CHECK (length(path) BETWEEN 1 AND 511),
  kind       TEXT    NOT NULL CHECK (kind IN ('rollout', 'hold')),
  status     TEXT    NOT NULL CHECK (status IN ('running', 'paused', 'done', 'aborted', 'held', 'released')),
  saved      TEXT    NOT NULL CHECK (json_valid(saved)),
  state      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(state)),
  due_at     INTEGER,
  actor      TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX operations_active ON operations (zone_id, path, kind)
  WHERE status IN ('running', 'paused', 'held');
CREATE INDEX operations_due ON operations (due_at) WHERE status = 'running';
`;

// The caller map (docs/design.md#the-caller-map): which caller fetched which name, the zone
// serial of the answer it last got, and when. psarnd keeps the map in memory, bounded, and writes
// it here every callers.persistEvery so that a restart keeps it and the CLI can read it;
// `reporter` is '' for this psarnd's own callers, else the TSIG key name of the secondary that
// reported them. `name` is the DNS name asked (lowercase, trailing dot): a route, an alias or
// `_epoch.<zone>`. And `zones.epoch_serial`, the serial of the zone's last epoch change (a flush,
// a hold, a release): a caller has a route's current answer once it fetched it at or after
// max(route serial, epoch_serial), since every route's TXT carries the epoch. NULL: no epoch
// change since this migration.
const V6 = `
CREATE TABLE callers (
  caller     TEXT    NOT NULL CHECK (length(caller) BETWEEN 1 AND 255),
  name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  reporter   TEXT    NOT NULL DEFAULT '',
  serial     INTEGER NOT NULL CHECK (serial BETWEEN 0 AND 4294967295),
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  lookups    INTEGER NOT NULL DEFAULT 0 CHECK (lookups >= 0),
  PRIMARY KEY (caller, name, reporter)
) STRICT, WITHOUT ROWID;
CREATE INDEX callers_name ON callers (name);
ALTER TABLE zones ADD COLUMN epoch_serial INTEGER;
CREATE TRIGGER zones_epoch_serial AFTER UPDATE OF epoch ON zones WHEN NEW.epoch <> OLD.epoch BEGIN
  UPDATE zones SET epoch_serial = NEW.serial WHERE id = NEW.id;
END;
`;

/** Migration i takes the schema from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [V1, V2, V3, V4, V5, V6];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION, or checks that it is there when `readonly`.
 * @throws StoreError ERR_DB_SCHEMA for a newer schema, or an older one opened read-only.
 */
export function migrate(db: Database, file: string, readonly: boolean): void {
  const current = () => db.pragma('user_version', { simple: true }) as number;
  const tooNew = (found: number) =>
    new StoreError(
      'ERR_DB_SCHEMA',
      `database '${file}' has schema version ${found}, newer than version ${SCHEMA_VERSION} that this psarn knows; upgrade psarn`,
    );
  const found = current();
  if (found > SCHEMA_VERSION) throw tooNew(found);
  if (found === SCHEMA_VERSION) return;
  if (readonly) {
    throw new StoreError(
      'ERR_DB_SCHEMA',
      `database '${file}' has schema version ${found}, older than version ${SCHEMA_VERSION}; open it once read-write (start psarnd) to migrate it`,
    );
  }
  for (let version = found; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const now = current();
      if (now > SCHEMA_VERSION) throw tooNew(now);
      if (now !== version) return;
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
