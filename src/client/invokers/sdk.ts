/**
 * The AWS SDK clients, loaded on first use (docs/design.md#two-packages). A Lambda pays every
 * module it imports on each cold start, and five of the SDK clients cost about 200 ms there: a
 * caller whose routes point only at Lambda functions loads only @aws-sdk/client-lambda, on its
 * first invocation. The packages are optional peer dependencies of psarn-client (the Lambda
 * Node.js runtime ships them), so a missing one is a clear error naming what to install.
 */
import { InvokerError } from './errors.js';

/** The SDK module of each AWS service we invoke, by the ARN's service field. */
interface SdkModules {
  lambda: typeof import('@aws-sdk/client-lambda');
  sqs: typeof import('@aws-sdk/client-sqs');
  sns: typeof import('@aws-sdk/client-sns');
  events: typeof import('@aws-sdk/client-eventbridge');
  states: typeof import('@aws-sdk/client-sfn');
  dynamodb: typeof import('@aws-sdk/client-dynamodb');
  kinesis: typeof import('@aws-sdk/client-kinesis');
  firehose: typeof import('@aws-sdk/client-firehose');
}

export type SdkService = keyof SdkModules;
export type SdkModule<S extends SdkService> = SdkModules[S];

const LOADERS: { [S in SdkService]: () => Promise<SdkModule<S>> } = {
  lambda: () => import('@aws-sdk/client-lambda'),
  sqs: () => import('@aws-sdk/client-sqs'),
  sns: () => import('@aws-sdk/client-sns'),
  events: () => import('@aws-sdk/client-eventbridge'),
  states: () => import('@aws-sdk/client-sfn'),
  dynamodb: () => import('@aws-sdk/client-dynamodb'),
  kinesis: () => import('@aws-sdk/client-kinesis'),
  firehose: () => import('@aws-sdk/client-firehose'),
};

/** The npm package of each service's SDK client. */
export const SDK_PACKAGES: Readonly<Record<SdkService, string>> = {
  lambda: '@aws-sdk/client-lambda',
  sqs: '@aws-sdk/client-sqs',
  sns: '@aws-sdk/client-sns',
  events: '@aws-sdk/client-eventbridge',
  states: '@aws-sdk/client-sfn',
  dynamodb: '@aws-sdk/client-dynamodb',
  kinesis: '@aws-sdk/client-kinesis',
  firehose: '@aws-sdk/client-firehose',
};

/** One import per service and process; concurrent first calls share it. A failed one is retried next time. */
const loading = new Map<SdkService, Promise<unknown>>();

/**
 * The SDK module of `service`, imported on the first call.
 * @throws InvokerError ERR_SDK_MISSING naming the package to install, with the import error as `cause`.
 */
export async function loadSdk<S extends SdkService>(service: S, target: string): Promise<SdkModule<S>> {
  let module = loading.get(service);
  if (module === undefined) {
    module = LOADERS[service]();
    loading.set(service, module);
  }
  try {
    return (await module) as SdkModule<S>;
  } catch (error) {
    if (loading.get(service) === module) loading.delete(service);
    const name = SDK_PACKAGES[service];
    const missing = (error as { code?: unknown })?.code === 'ERR_MODULE_NOT_FOUND';
    throw new InvokerError(
      'ERR_SDK_MISSING',
      missing
        ? `cannot invoke '${target}': ${name} is not installed (npm install ${name}; the Lambda Node.js runtime includes it)`
        : `cannot invoke '${target}': ${name} failed to load: ${(error as Error)?.message ?? String(error)}`,
      { service, target, cause: error },
    );
  }
}
