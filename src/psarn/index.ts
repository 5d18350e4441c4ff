export type { ZoneKey } from './name.js';
export {
  DEFAULT_NAMESPACE,
  labelsToPath,
  MAX_NAME_LENGTH,
  nameToPsarn,
  normalizeNamespace,
  parseZoneArg,
  parseZoneName,
  psarnToName,
  zoneName,
} from './name.js';
export type { Psarn, PsarnErrorCode } from './psarn.js';
export { formatPsarn, isPsarn, MAX_SEGMENT_LENGTH, MAX_SEGMENTS, PsarnError, parsePsarn } from './psarn.js';
export { parseTargetArg, TargetError, validateTarget } from './target.js';
export type { RouteTxt } from './txt.js';
export { EPOCH_LABEL, parseRouteTxt, TXT_VERSION } from './txt.js';
