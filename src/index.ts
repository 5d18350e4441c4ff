/**
 * The psarn package: the client library and the psARN grammar.
 * @example
 * import { PsarnClient } from 'psarn';
 * const client = new PsarnClient({ servers: ['127.0.0.1:8053'] });
 * await client.invoke('arn:aws:psarn:us-east-1:123456789012:orders/created', { orderId: 42 });
 */
export type { InvokeOptions, InvokeResult, PsarnClientOptions, TargetOutcome } from './client/client.js';
export { PsarnClient } from './client/client.js';
export type { ClientErrorCode, TargetFailure } from './client/errors.js';
export { PsarnClientError } from './client/errors.js';
export type { InvokeRequest, InvokeResponse, Invoker } from './client/invokers/index.js';
export { AwsClientCache, defaultInvokers, InvokerError } from './client/invokers/index.js';
export type { ResolverOptions } from './client/resolver.js';
export type { Clock, Policy, Random, Route, RouteTarget } from './client/types.js';
export * from './psarn/index.js';
