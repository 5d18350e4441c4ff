/** Kinesis Data Streams targets: `arn:<partition>:kinesis:<region>:<account>:stream/<name>` → PutRecord. */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { AwsInvoker } from './aws-clients.js';
import { type InvokeRequest, type InvokeResponse, payloadBytes } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget } from './shared.js';

const FORM = 'arn:<partition>:kinesis:<region>:<account>:stream/<name>';

/** Kinesis takes a partition key of 1 to 256 characters. */
const MAX_PARTITION_KEY = 256;

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * The record's PartitionKey: the caller's sticky key (so one tenant's events land on one shard,
 * in order), hashed with SHA-256 when it is empty or longer than Kinesis's 256 characters;
 * without a key, the SHA-256 of the data, which spreads distinct events over the shards.
 */
export function partitionKey(key: string | undefined, data: Uint8Array): string {
  if (key === undefined) return sha256(data);
  return key.length >= 1 && key.length <= MAX_PARTITION_KEY ? key : sha256(key);
}

/**
 * client-kinesis defaults to the HTTP/2 handler for every operation, because SubscribeToShard
 * needs it. PutRecord does not, and that handler fails with "Protocol error" against endpoints
 * that speak HTTP/1.1 only — LocalStack setups, kinesalite, proxies, the tests' fake
 * (aws-sdk-js-v3#3602, #3780). So the Kinesis client gets the SDK's own HTTP/1.1 keep-alive
 * handler, the one every other SDK client uses, unless the caller's config sets a
 * requestHandler. It comes from the @smithy/node-http-handler that client-kinesis itself depends
 * on (resolved from its folder), so psarn-client needs no dependency; if that cannot be found the
 * SDK's default stays.
 */
function http1Handler(): { requestHandler?: unknown } {
  try {
    const fromKinesis = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-kinesis'));
    const { NodeHttpHandler } = fromKinesis('@smithy/node-http-handler') as { NodeHttpHandler: new () => unknown };
    return { requestHandler: new NodeHttpHandler() };
  } catch {
    return {};
  }
}

/**
 * Puts one record: Data is the payload's bytes as every invoker sends them (strings and bytes as
 * they are, anything else as JSON), StreamARN the target, so the account and region are the
 * route's. Resolves with `id` = `<ShardId>/<SequenceNumber>`.
 */
export class KinesisInvoker extends AwsInvoker {
  readonly service = 'kinesis';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'kinesis', /^stream\/[\w.-]{1,128}$/, FORM);
    const { KinesisClient, PutRecordCommand } = await loadSdk('kinesis', target);
    const client = this.clients.client(
      'kinesis',
      arn.region,
      (c) =>
        new KinesisClient({ ...(c.requestHandler === undefined ? http1Handler() : {}), ...c } as KinesisClientConfig),
    );
    const data = payloadBytes(request.payload);
    const command = new PutRecordCommand({
      StreamARN: target,
      Data: data,
      PartitionKey: partitionKey(request.key, data),
    });
    const out = await awsCall('kinesis', target, 'Kinesis PutRecord', request.timeoutMs, (o) =>
      client.send(command, o),
    );
    return { id: `${out.ShardId}/${out.SequenceNumber}` };
  }
}
