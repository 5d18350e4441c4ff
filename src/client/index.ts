/**
 * The psarn-client package: the client library and the psARN grammar, without the daemon
 * (docs/design.md#two-packages). `psarn` re-exports all of it.
 * @example
 * import { PsarnClient } from 'psarn-client';
 * const client = new PsarnClient({ servers: ['127.0.0.1:8053'] });
 * await client.invoke('arn:aws:psarn:us-east-1:123456789012:orders/created', { orderId: 42 });
 */

export type { ZoneKey } from '../psarn/name.js';
export {
  DEFAULT_NAMESPACE,
  MAX_NAME_LENGTH,
  nameToPsarn,
  normalizeNamespace,
  psarnToName,
  zoneName,
} from '../psarn/name.js';
// The psARN grammar a caller needs next to the client (docs/design.md#two-packages). The parts
// only writers use (target and zone arguments) are exported by psarn, not here.
export type { Psarn, PsarnErrorCode } from '../psarn/psarn.js';
export { formatPsarn, isPsarn, MAX_SEGMENT_LENGTH, MAX_SEGMENTS, PsarnError, parsePsarn } from '../psarn/psarn.js';
export type { RouteTxt } from '../psarn/txt.js';
export { EPOCH_LABEL, parseRouteTxt, TXT_VERSION } from '../psarn/txt.js';
export type { InvokeOptions, InvokeResult, PsarnClientOptions, TargetOutcome } from './client.js';
export { PsarnClient } from './client.js';
export type { ClientErrorCode, TargetFailure } from './errors.js';
export { PsarnClientError } from './errors.js';
export type { InvokeRequest, InvokeResponse, Invoker } from './invokers/index.js';
export { AwsClientCache, defaultInvokers, InvokerError } from './invokers/index.js';
export type { MetricsRegistry } from './metrics.js';
export type { ResolverOptions } from './resolver.js';
export { NONE, pickWeighted } from './selection.js';
export { type Picker, pickSticky } from './sticky.js';
export type { Clock, Policy, Random, Route, RouteTarget } from './types.js';
