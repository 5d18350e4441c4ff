/**
 * The hold queue as replay reads it (docs/design.md#hold-and-release), through
 * @aws-sdk/client-sqs: ReceiveMessage (long polling, a visibility timeout, the receive count),
 * DeleteMessageBatch, GetQueueAttributes. The client follows the SDK's own configuration
 * (AWS_REGION, the credential chain, AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL, a profile's
 * endpoint_url); the queue URL is built from the ARN as the SQS invoker builds it, and sent to
 * the SDK's endpoint (useQueueUrlAsEndpoint false) for the same reason (src/client/invokers/sqs.ts).
 */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { parseArn } from '../client/invokers/invoker.js';
import { queueUrl } from '../client/invokers/sqs.js';
import { PsarnBaseError } from '../errors.js';
import type { QueueMessage, QueueSource } from './replay.js';

export interface SqsSource extends QueueSource {
  readonly url: string;
  /** Closes the client's sockets. */
  close(): void;
}

/** An SQS error as one line: its name and message. */
function why(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}

/** An SQS call of the replay failed; the SDK's error is the cause. */
export class SqsSourceError extends PsarnBaseError {
  readonly code = 'ERR_REPLAY_QUEUE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SqsSourceError';
  }
}

/**
 * The SQS source of a queue ARN. `clientConfig` is merged over the SDK's defaults (tests pass
 * credentials and an endpoint; the CLI passes nothing).
 */
export async function sqsSource(queueArn: string, clientConfig: Record<string, unknown> = {}): Promise<SqsSource> {
  const arn = parseArn(queueArn);
  if (arn === undefined) throw new SqsSourceError(`not a queue ARN: ${queueArn}`);
  const sdk = await import('@aws-sdk/client-sqs');
  const client: SQSClient = new sdk.SQSClient({
    region: arn.region,
    useQueueUrlAsEndpoint: false,
    ...clientConfig,
  } as SQSClientConfig);
  const url = queueUrl(arn);
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new SqsSourceError(`SQS ${what} on ${queueArn} failed: ${why(err)}`, { cause: err });
    }
  };
  return {
    url,
    async receive({ max, waitSeconds, visibilitySeconds }) {
      const out = await call('ReceiveMessage', () =>
        client.send(
          new sdk.ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: max,
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: visibilitySeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        ),
      );
      return (out.Messages ?? []).map(
        (m): QueueMessage => ({
          id: m.MessageId ?? '',
          handle: m.ReceiptHandle ?? '',
          body: m.Body ?? '',
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        }),
      );
    },
    async delete(messages) {
      const failed: { id: string; reason: string }[] = [];
      for (let i = 0; i < messages.length; i += 10) {
        const chunk = messages.slice(i, i + 10);
        // Entry ids are the positions: a MessageId may be longer than the 80 characters an Id allows.
        const out = await call('DeleteMessageBatch', () =>
          client.send(
            new sdk.DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.handle })),
            }),
          ),
        ).catch((err: Error) => {
          for (const m of chunk) failed.push({ id: m.id, reason: err.message });
          return undefined;
        });
        for (const f of out?.Failed ?? []) {
          const m = chunk[Number(f.Id)];
          if (m !== undefined) failed.push({ id: m.id, reason: `${f.Code ?? 'Failed'}: ${f.Message ?? ''}` });
        }
      }
      return failed;
    },
    async counts() {
      const out = await call('GetQueueAttributes', () =>
        client.send(
          new sdk.GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        ),
      );
      return {
        visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    },
    close: () => client.destroy(),
  };
}
