/** SNS targets: `arn:<partition>:sns:<region>:<account>:<topic>` → Publish. */
import type { SNSClientConfig } from '@aws-sdk/client-sns';
import { AwsInvoker } from './aws-clients.js';
import { type InvokeRequest, type InvokeResponse, payloadText } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget, fifoIds } from './shared.js';

const FORM = 'arn:<partition>:sns:<region>:<account>:<topic>';

/**
 * Publishes the payload text to a topic. FIFO topics (`.fifo`) get the same group and
 * deduplication ids as FIFO queues (see fifoIds).
 */
export class SnsInvoker extends AwsInvoker {
  readonly service = 'sns';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'sns', /^[\w-]+(\.fifo)?$/, FORM);
    const { PublishCommand, SNSClient } = await loadSdk('sns', target);
    const client = this.clients.client('sns', arn.region, (c) => new SNSClient(c as SNSClientConfig));
    const message = payloadText(request.payload);
    const command = new PublishCommand({
      TopicArn: target,
      Message: message,
      ...(arn.resource.endsWith('.fifo') ? fifoIds(request.psarn, message) : {}),
    });
    const out = await awsCall('sns', target, 'SNS Publish', request.timeoutMs, (o) => client.send(command, o));
    return { id: out.MessageId };
  }
}
