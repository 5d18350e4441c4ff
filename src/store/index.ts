export type { CallerFilter, CallerRow } from './callers.js';
export type { HistoryChange, RouteHistory, RouteHistoryEntry } from './history.js';
export type { ImportResult } from './import.js';
export { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
export { nextSerial, serialGreater } from './serial.js';
export type { OpenOptions } from './store.js';
export { Store } from './store.js';
export type {
  AliasProblem,
  AliasRouteSpec,
  EditOptions,
  EditResult,
  ImportRoute,
  JournalEntry,
  JournalOp,
  NewOperation,
  Operation,
  OperationFilter,
  OperationKind,
  OperationPatch,
  OperationStatus,
  Policy,
  RouteChange,
  RouteData,
  RouteEdit,
  RouteList,
  RouteSpec,
  SavedRoute,
  StoredRoute,
  StoreErrorCode,
  TargetRouteSpec,
  TargetSpec,
  WriteOptions,
  ZoneContent,
  ZoneImport,
  ZoneParams,
  ZoneRow,
} from './types.js';
export { ACTIVE_STATUSES, ALIAS_NAMES_SHOWN, StoreError } from './types.js';
