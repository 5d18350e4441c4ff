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
  Policy,
  RouteChange,
  RouteData,
  RouteEdit,
  RouteList,
  RouteSpec,
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
export { ALIAS_NAMES_SHOWN, StoreError } from './types.js';
