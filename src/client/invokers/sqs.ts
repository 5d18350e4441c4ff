/** SQS targets: `arn:<partition>:sqs:<region>:<account>:<queue>` → SendMessage. */
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { AwsInvoker } from './aws-clients.js';
import { type InvokeRequest, type InvokeResponse, payloadText } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget, fifoIds } from './shared.js';

const FORM = 'arn:<partition>:sqs:<region>:<account>:<queue>';

/** DNS suffix of the SQS endpoint per partition; others fall back to amazonaws.com. */
const DNS_SUFFIX: Record<string, string> = {
  aws: 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-us-gov': 'amazonaws.com',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
};

/** The queue URL SQS expects for a queue ARN. */
export function queueUrl(arn: { partition: string; region: string; account: string; resource: string }): string {
  const suffix = DNS_SUFFIX[arn.partition] ?? 'amazonaws.com';
  return `https://sqs.${arn.region}.${suffix}/${arn.account}/${arn.resource}`;
}

/**
 * Sends the payload text as one SQS message. FIFO queues (`.fifo`) get MessageGroupId = psARN and
 * MessageDeduplicationId = SHA-256 of the body (see fifoIds). The SDK checks the MD5 of the body
 * in the answer; a mismatch fails the call.
 */
export class SqsInvoker extends AwsInvoker {
  readonly service = 'sqs';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'sqs', /^[\w-]+(\.fifo)?$/, FORM);
    // By default the SQS client sends to the QueueUrl's host (useQueueUrlAsEndpoint: true), which
    // silently ignores AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL and a profile's endpoint_url. The
    // client is per region and the URL is built from the same region, so the SDK's own endpoint
    // resolution (which honours all of those, FIPS and dual-stack too) reaches the same host.
    const { SendMessageCommand, SQSClient } = await loadSdk('sqs', target);
    const client = this.clients.client(
      'sqs',
      arn.region,
      (c) => new SQSClient({ useQueueUrlAsEndpoint: false, ...c } as SQSClientConfig),
    );
    const body = payloadText(request.payload);
    const command = new SendMessageCommand({
      QueueUrl: queueUrl(arn),
      MessageBody: body,
      ...(arn.resource.endsWith('.fifo') ? fifoIds(request.psarn, body) : {}),
    });
    const out = await awsCall('sqs', target, 'SQS SendMessage', request.timeoutMs, (o) => client.send(command, o));
    return { id: out.MessageId };
  }
}
