export type { ZoneKey } from './name.js';
export {
  DEFAULT_NAMESPACE,
  labelsToPath,
  nameToPsarn,
  normalizeNamespace,
  parseZoneArg,
  parseZoneName,
  psarnToName,
  zoneName,
} from './name.js';
export type { Psarn, PsarnErrorCode } from './psarn.js';
export { formatPsarn, isPsarn, PsarnError, parsePsarn } from './psarn.js';
