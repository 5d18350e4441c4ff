/**
 * The psarn package. Today: the psARN grammar and its DNS name mapping.
 * @example
 * import { parsePsarn, psarnToName } from 'psarn';
 * psarnToName('arn:aws:psarn:us-east-1:123456789012:orders/created');
 * // 'created.orders.123456789012.us-east-1.aws.psarn.internal.'
 */
export * from './psarn/index.js';
