/**
 * The psarn package's library entry: the client library and the psARN grammar, re-exported from
 * psarn-client (docs/design.md#two-packages), so `import { PsarnClient } from 'psarn'` and
 * `from 'psarn-client'` give the same classes.
 * @example
 * import { PsarnClient } from 'psarn';
 * const client = new PsarnClient({ servers: ['127.0.0.1:8053'] });
 * await client.invoke('arn:aws:psarn:us-east-1:123456789012:orders/created', { orderId: 42 });
 */
export * from 'psarn-client';
// The grammar's writer side, which callers do not need: parsing `--target` and zone arguments.
export { labelsToPath, parseZoneArg, parseZoneName } from './psarn/name.js';
export { parseTargetArg, TargetError, validateTarget } from './psarn/target.js';
