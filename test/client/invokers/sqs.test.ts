/** SqsInvoker through the real SDK against the fake: QueueUrl, body, FIFO ids, MD5 check, endpoint env. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { InvokerError } from '../../../src/client/invokers/errors.js';
import { queueUrl, SqsInvoker } from '../../../src/client/invokers/sqs.js';
import { PSARN } from './contract.js';
import { localSdkConfig, useFakeAws } from './local-sdk.js';

const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:orders-audit';
type Body = Record<string, unknown>;

describe('queueUrl', () => {
  it('builds the SQS queue URL from the ARN, per partition', () => {
    const url = (arn: string) => queueUrl({ ...arnParts(arn) });
    assert.equal(url(QUEUE), 'https://sqs.us-east-1.amazonaws.com/123456789012/orders-audit');
    assert.equal(
      url('arn:aws-cn:sqs:cn-north-1:123456789012:q'),
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
    );
    assert.equal(url('arn:aws-us-gov:sqs:us-gov-west-1:1:q.fifo'), 'https://sqs.us-gov-west-1.amazonaws.com/1/q.fifo');
  });
});

function arnParts(arn: string) {
  const [, partition, , region, account, resource] = arn.split(':') as string[];
  return { partition: partition!, region: region!, account: account!, resource: resource! };
}

describe('SqsInvoker (real SDK, fake SQS)', () => {
  const aws = useFakeAws();
  const sqs = () => new SqsInvoker({ clients: aws.clients() });

  it('sends MessageBody to the QueueUrl of the ARN and returns the MessageId', async () => {
    const response = await sqs().invoke({ target: QUEUE, payload: { order: 1 }, psarn: PSARN });
    const request = aws.fake.last('sqs');
    assert.equal(request.operation, 'SendMessage');
    assert.equal(request.headers['x-amz-target'], 'AmazonSQS.SendMessage');
    assert.deepEqual(request.body, {
      QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders-audit',
      MessageBody: '{"order":1}',
    });
    assert.deepEqual(response, { id: 'msg-1' });
  });

  it('sets MessageGroupId (the psARN) and a content hash as MessageDeduplicationId for FIFO queues', async () => {
    const target = 'arn:aws:sqs:us-east-1:123456789012:orders.fifo';
    const invoker = sqs();
    await invoker.invoke({ target, payload: { order: 1 }, psarn: PSARN });
    await invoker.invoke({ target, payload: { order: 1 }, psarn: PSARN });
    await invoker.invoke({ target, payload: { order: 2 }, psarn: PSARN });
    const [a, b, c] = aws.fake.requests.map((r) => r.body as Body);
    assert.equal(a!.QueueUrl, 'https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo');
    assert.equal(a!.MessageGroupId, PSARN);
    assert.equal(a!.MessageDeduplicationId, createHash('sha256').update('{"order":1}').digest('hex'));
    assert.equal(b!.MessageDeduplicationId, a!.MessageDeduplicationId, 'same body, same id: SQS drops the repeat');
    assert.notEqual(c!.MessageDeduplicationId, a!.MessageDeduplicationId);
  });

  it('sends no FIFO ids to a standard queue', async () => {
    await sqs().invoke({ target: QUEUE, payload: 'x', psarn: PSARN });
    const body = aws.fake.last('sqs').body as Body;
    assert.equal('MessageGroupId' in body, false);
    assert.equal('MessageDeduplicationId' in body, false);
  });

  it('fails when the MD5 of the body in the answer does not match what was sent', async () => {
    aws.fake.respond('sqs', () => ({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ MessageId: 'm', MD5OfMessageBody: '00000000000000000000000000000000' }),
    }));
    await assert.rejects(sqs().invoke({ target: QUEUE, payload: { order: 1 }, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_TARGET_FAILED');
      assert.match(error.message, /InvalidChecksumError/);
      return true;
    });
  });

  it('wraps QueueDoesNotExist with the SDK error as cause', async () => {
    aws.fake.refuse('sqs', 'com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.');
    await assert.rejects(sqs().invoke({ target: QUEUE, payload: {}, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal((error.cause as Error).name, 'QueueDoesNotExist');
      return true;
    });
  });

  describe('with the endpoint from AWS_ENDPOINT_URL_SQS (no endpoint in the config)', () => {
    const saved = process.env.AWS_ENDPOINT_URL_SQS;
    afterEach(() => {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SQS;
      else process.env.AWS_ENDPOINT_URL_SQS = saved;
    });

    // The SDK's default (useQueueUrlAsEndpoint) would send this to sqs.us-east-1.amazonaws.com,
    // the QueueUrl's host; the test handler refuses anything but 127.0.0.1, so that would fail.
    it('sends to the env endpoint, not to the queue URL host', async () => {
      process.env.AWS_ENDPOINT_URL_SQS = aws.fake.url;
      const invoker = new SqsInvoker({ clients: aws.clients(localSdkConfig()) });
      const response = await invoker.invoke({ target: QUEUE, payload: 'via env', psarn: PSARN, timeoutMs: 5000 });
      assert.deepEqual(response, { id: 'msg-1' });
      assert.equal((aws.fake.last('sqs').body as Body).MessageBody, 'via env');
    });
  });
});
