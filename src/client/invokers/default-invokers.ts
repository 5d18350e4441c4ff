/** The nine built-in invokers, sharing one cache of AWS SDK clients. */
import { AwsClientCache } from './aws-clients.js';
import { DynamoDbInvoker } from './dynamodb.js';
import { EventsInvoker } from './events.js';
import { FirehoseInvoker } from './firehose.js';
import { HttpsInvoker } from './https.js';
import type { Invoker } from './invoker.js';
import { KinesisInvoker } from './kinesis.js';
import { LambdaInvoker } from './lambda.js';
import { SnsInvoker } from './sns.js';
import { SqsInvoker } from './sqs.js';
import { StatesInvoker } from './states.js';

export interface DefaultInvokersOptions {
  /** Passed to every AWS SDK client (credentials, endpoint, maxAttempts, ...); region comes from the ARN. */
  clientConfig?: Record<string, unknown>;
  /** Use this cache instead of a new one (e.g. to `destroy()` the clients at shutdown). */
  clients?: AwsClientCache;
  /** fetch for https targets. */
  fetch?: typeof fetch;
  /** Accept http:// targets too (tests against a local server only). */
  allowHttp?: boolean;
}

/**
 * lambda, sqs, sns, events, states, dynamodb, kinesis, firehose and https, in that order. SDK clients are made on first use,
 * one per service and region.
 * @example
 * const invokers = defaultInvokers({ clientConfig: { maxAttempts: 2 } });
 * const invoker = invokers.find((i) => i.canInvoke(target));
 */
export function defaultInvokers(options: DefaultInvokersOptions = {}): Invoker[] {
  const clients = options.clients ?? new AwsClientCache(options.clientConfig);
  return [
    new LambdaInvoker({ clients }),
    new SqsInvoker({ clients }),
    new SnsInvoker({ clients }),
    new EventsInvoker({ clients }),
    new StatesInvoker({ clients }),
    new DynamoDbInvoker({ clients }),
    new KinesisInvoker({ clients }),
    new FirehoseInvoker({ clients }),
    new HttpsInvoker({ fetch: options.fetch, allowHttp: options.allowHttp }),
  ];
}
