export { AwsClientCache, type AwsInvokerOptions } from './aws-clients.js';
export { type DefaultInvokersOptions, defaultInvokers } from './default-invokers.js';
export { DynamoDbInvoker } from './dynamodb.js';
export { eventItem } from './dynamodb-item.js';
export { InvokerError, type InvokerErrorCode } from './errors.js';
export { EVENT_SOURCE, EventsInvoker, eventDetail } from './events.js';
export { FirehoseInvoker, firehoseData } from './firehose.js';
export { DEFAULT_HTTPS_TIMEOUT_MS, HttpsInvoker, type HttpsInvokerOptions } from './https.js';
export {
  type ArnParts,
  type InvokeRequest,
  type InvokeResponse,
  type Invoker,
  parseArn,
  payloadBytes,
  payloadText,
} from './invoker.js';
export { KinesisInvoker, partitionKey } from './kinesis.js';
export { LambdaInvoker } from './lambda.js';
export { SnsInvoker } from './sns.js';
export { queueUrl, SqsInvoker } from './sqs.js';
export { StatesInvoker } from './states.js';
