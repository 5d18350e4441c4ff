/**
 * Statements of schema 5's operations table (docs/design.md#operations): rollouts and holds.
 * Kept apart from statements.ts because only the operation commands and psarnd's rollout
 * driver use them, never the answer path.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Operation, OperationKind, OperationStatus, SavedRoute } from './types.js';

interface OperationDbRow {
  id: number;
  zone: string;
  path: string;
  kind: OperationKind;
  status: OperationStatus;
  saved: string;
  state: string;
  due_at: number | null;
  actor: string | null;
  created_at: number;
  updated_at: number;
}

const SELECT = `SELECT o.id, z.name AS zone, o.path, o.kind, o.status, o.saved, o.state, o.due_at, o.actor,
  o.created_at, o.updated_at FROM operations o JOIN zones z ON z.id = o.zone_id`;

export interface OperationStatements {
  byId: Statement<unknown[], OperationDbRow>;
  /** Operations by @zone (name or null), @path (or null), @kind (or null), @active (1 or 0), newest first, at most @limit. */
  list: Statement<unknown[], OperationDbRow>;
  /** Running operations due at or before @now, soonest first. */
  due: Statement<unknown[], OperationDbRow>;
  /** The soonest due_at of a running operation, or null. */
  nextDue: Statement<unknown[], number | null>;
  insert: Statement<unknown[], never>;
  update: Statement<unknown[], never>;
}

export function prepareOperationStatements(db: Database): OperationStatements {
  const all = (sql: string) => db.prepare<unknown[], OperationDbRow>(sql);
  return {
    byId: all(`${SELECT} WHERE o.id = ?`),
    list: all(
      `${SELECT} WHERE (@zone IS NULL OR z.name = @zone) AND (@path IS NULL OR o.path = @path)
       AND (@kind IS NULL OR o.kind = @kind)
       AND (@active = 0 OR o.status IN ('running', 'paused', 'held'))
       ORDER BY o.id DESC LIMIT @limit`,
    ),
    due: all(`${SELECT} WHERE o.status = 'running' AND o.due_at <= ? ORDER BY o.due_at, o.id`),
    nextDue: db
      .prepare<unknown[], number | null>(`SELECT min(due_at) FROM operations WHERE status = 'running'`)
      .pluck(),
    insert: db.prepare<unknown[], never>(
      `INSERT INTO operations (zone_id, path, kind, status, saved, state, due_at, actor, created_at, updated_at)
       VALUES ((SELECT id FROM zones WHERE name = @zone), @path, @kind, @status, @saved, @state, @dueAt, @actor, @at, @at)`,
    ),
    update: db.prepare<unknown[], never>(
      `UPDATE operations SET status = coalesce(@status, status), state = coalesce(@state, state),
       due_at = CASE WHEN @setDue = 1 THEN @dueAt ELSE due_at END, updated_at = @at WHERE id = @id`,
    ),
  };
}

export function toOperation(row: OperationDbRow): Operation {
  const op: Operation = {
    id: row.id,
    zone: row.zone,
    path: row.path,
    kind: row.kind,
    status: row.status,
    saved: JSON.parse(row.saved) as SavedRoute,
    state: JSON.parse(row.state) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.due_at !== null) op.dueAt = row.due_at;
  if (row.actor !== null) op.actor = row.actor;
  return op;
}
