export { ZoneFileError } from './errors.js';
export type { ExportOptions } from './export.js';
export { exportZone } from './export.js';
export type { ImportFileOptions } from './import.js';
export { buildZones, importMasterFile } from './import.js';
export type { ParsedLine, ParseOptions, RecordSink } from './parse.js';
export { parseMasterFile, readMasterFile } from './parse.js';
export { formatRdata, formatRecord, parseRecord, quoteString } from './presentation.js';
