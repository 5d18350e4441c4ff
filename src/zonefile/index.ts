export { ZoneFileError } from './errors.js';
export type { ExportOptions } from './export.js';
export { exportZone } from './export.js';
export { buildZones } from './import.js';
export type { ParsedLine, ParseOptions } from './parse.js';
export { parseMasterFile } from './parse.js';
export { formatRdata, formatRecord, parseRecord, quoteString } from './presentation.js';
