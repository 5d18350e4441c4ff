export { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
export { nextSerial, serialGreater } from './serial.js';
export type { OpenOptions } from './store.js';
export { Store } from './store.js';
export type {
  AliasRouteSpec,
  ImportRoute,
  JournalEntry,
  JournalOp,
  Policy,
  RouteData,
  RouteList,
  RouteSpec,
  StoredRoute,
  StoreErrorCode,
  TargetRouteSpec,
  TargetSpec,
  ZoneContent,
  ZoneImport,
  ZoneParams,
  ZoneRow,
} from './types.js';
export { StoreError } from './types.js';
