/** Data Firehose targets: `arn:<partition>:firehose:<region>:<account>:deliverystream/<name>` → PutRecord. */
import type { FirehoseClientConfig } from '@aws-sdk/client-firehose';
import { AwsInvoker } from './aws-clients.js';
import { type InvokeRequest, type InvokeResponse, payloadBytes } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget } from './shared.js';

const FORM = 'arn:<partition>:firehose:<region>:<account>:deliverystream/<name>';

const NEWLINE = 0x0a;

/**
 * The record's data: the payload's bytes with a newline appended unless they end with one.
 * Firehose concatenates records into its S3 objects with no separator; one event per line is
 * JSON Lines, which Athena, Glue and jq read, and the separator AWS's docs tell producers to add.
 */
export function firehoseData(payload: unknown): Uint8Array {
  const bytes = payloadBytes(payload);
  if (bytes.length > 0 && bytes[bytes.length - 1] === NEWLINE) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = NEWLINE;
  return out;
}

/**
 * Puts one record (Record.Data = firehoseData). PutRecord names the stream by name only, so it
 * goes to that stream in the ARN's region of the account the credentials belong to: Firehose
 * has no cross-account PutRecord. Resolves with the RecordId.
 */
export class FirehoseInvoker extends AwsInvoker {
  readonly service = 'firehose';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'firehose', /^deliverystream\/[\w.-]{1,64}$/, FORM);
    const { FirehoseClient, PutRecordCommand } = await loadSdk('firehose', target);
    const client = this.clients.client('firehose', arn.region, (c) => new FirehoseClient(c as FirehoseClientConfig));
    const command = new PutRecordCommand({
      DeliveryStreamName: arn.resource.slice('deliverystream/'.length),
      Record: { Data: firehoseData(request.payload) },
    });
    const out = await awsCall('firehose', target, 'Firehose PutRecord', request.timeoutMs, (o) =>
      client.send(command, o),
    );
    return { id: out.RecordId };
  }
}
