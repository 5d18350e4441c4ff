/** KinesisInvoker and FirehoseInvoker through the real SDK against the fake: record data, partition key, newline, endpoint env. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { InvokerError } from '../../../src/client/invokers/errors.js';
import { FirehoseInvoker, firehoseData } from '../../../src/client/invokers/firehose.js';
import { KinesisInvoker, partitionKey } from '../../../src/client/invokers/kinesis.js';
import { PSARN } from './contract.js';
import { dataText } from './fake-aws.js';
import { CREDENTIALS, localSdkConfig, useFakeAws } from './local-sdk.js';

const STREAM = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders';
const DELIVERY = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/orders-to-s3';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
type Body = Record<string, unknown>;
const CREDENTIALS_ONLY = { credentials: CREDENTIALS, maxAttempts: 1 };

/** Sets an env variable for one describe, restored after each test. */
function withEnv(name: string): (value: string) => void {
  const saved = process.env[name];
  afterEach(() => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
  return (value) => {
    process.env[name] = value;
  };
}

describe('partitionKey', () => {
  it('is the sticky key, hashed when Kinesis would refuse it; else the SHA-256 of the data', () => {
    const data = new TextEncoder().encode('{"order":1}');
    assert.equal(partitionKey('tenant-42', data), 'tenant-42');
    assert.equal(partitionKey('k'.repeat(256), data), 'k'.repeat(256));
    assert.equal(partitionKey('k'.repeat(257), data), sha256('k'.repeat(257)));
    assert.equal(partitionKey('', data), sha256(''));
    assert.equal(partitionKey(undefined, data), sha256('{"order":1}'));
  });
});

describe('KinesisInvoker (real SDK, fake Kinesis)', () => {
  const aws = useFakeAws();
  const kinesis = () => new KinesisInvoker({ clients: aws.clients() });

  it('puts one record on the stream ARN with the sticky key as PartitionKey', async () => {
    const response = await kinesis().invoke({ target: STREAM, payload: { order: 7 }, psarn: PSARN, key: 'tenant-9' });
    const request = aws.fake.last('kinesis');
    assert.equal(request.headers['x-amz-target'], 'Kinesis_20131202.PutRecord');
    assert.equal(request.headers['content-type'], 'application/x-amz-json-1.1');
    const body = request.body as Body;
    assert.deepEqual(Object.keys(body).sort(), ['Data', 'PartitionKey', 'StreamARN']);
    assert.equal(body.StreamARN, STREAM);
    assert.equal(body.PartitionKey, 'tenant-9');
    assert.equal(dataText(body.Data), '{"order":7}');
    assert.equal(response.id, 'shardId-000000000000/49600000000000000000000000001');
  });

  it('without a key, partitions by the hash of the data: equal events share a shard, others spread', async () => {
    const invoker = kinesis();
    for (const payload of ['a', 'a', 'b']) await invoker.invoke({ target: STREAM, payload, psarn: PSARN });
    const keys = aws.fake.requests.map((r) => (r.body as Body).PartitionKey);
    assert.deepEqual(keys, [sha256('a'), sha256('a'), sha256('b')]);
  });

  it("talks HTTP/1.1 by default (the SDK's HTTP/2 default fails against HTTP/1.1 endpoints), or what the caller gives", async () => {
    // No requestHandler in the config: the SDK alone would open an HTTP/2 session to the fake
    // (plain HTTP/1.1) and fail with "Protocol error".
    const plain = new KinesisInvoker({ clients: aws.clients({ ...CREDENTIALS_ONLY, endpoint: aws.fake.url }) });
    await plain.invoke({ target: STREAM, payload: 'h1', psarn: PSARN, timeoutMs: 5000 });
    assert.equal(aws.fake.last('kinesis').headers.connection, 'keep-alive');
    const own = new KinesisInvoker({ clients: aws.clients(localSdkConfig(aws.fake.url)) });
    await own.invoke({ target: STREAM, payload: 'own', psarn: PSARN });
    assert.equal(dataText((aws.fake.last('kinesis').body as Body).Data), 'own');
  });

  it('refuses targets that are not a stream', async () => {
    await assert.rejects(
      kinesis().invoke({
        target: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/c:1',
        payload: 1,
        psarn: PSARN,
      }),
      { code: 'ERR_INVALID_TARGET' },
    );
    assert.equal(aws.fake.requests.length, 0);
  });

  describe('with the endpoint from AWS_ENDPOINT_URL_KINESIS', () => {
    const set = withEnv('AWS_ENDPOINT_URL_KINESIS');
    it('sends to the env endpoint (not the account-based data-kinesis host)', async () => {
      set(aws.fake.url);
      const invoker = new KinesisInvoker({ clients: aws.clients(localSdkConfig()) });
      await invoker.invoke({ target: STREAM, payload: 'via env', psarn: PSARN, timeoutMs: 5000 });
      assert.equal(dataText((aws.fake.last('kinesis').body as Body).Data), 'via env');
    });
  });
});

describe('firehoseData', () => {
  it('appends one newline, unless the data ends with one', () => {
    const text = (payload: unknown) => new TextDecoder().decode(firehoseData(payload));
    assert.equal(text({ a: 1 }), '{"a":1}\n');
    assert.equal(text('line\n'), 'line\n');
    assert.equal(text(''), '\n');
    assert.equal(text(new TextEncoder().encode('x\n\n')), 'x\n\n');
  });
});

describe('FirehoseInvoker (real SDK, fake Firehose)', () => {
  const aws = useFakeAws();
  const firehose = () => new FirehoseInvoker({ clients: aws.clients() });

  it('puts one record, newline-terminated, on the stream named in the ARN', async () => {
    const response = await firehose().invoke({ target: DELIVERY, payload: { order: 3 }, psarn: PSARN, key: 'ignored' });
    const request = aws.fake.last('firehose');
    assert.equal(request.headers['x-amz-target'], 'Firehose_20150804.PutRecord');
    const body = request.body as { DeliveryStreamName: string; Record: Body };
    assert.equal(body.DeliveryStreamName, 'orders-to-s3');
    assert.deepEqual(Object.keys(body.Record), ['Data']);
    assert.equal(dataText(body.Record.Data), '{"order":3}\n');
    assert.deepEqual(response, { id: 'rec-1' });
  });

  it('wraps what Firehose refuses, with the SDK error as cause', async () => {
    aws.fake.refuse('firehose', 'ServiceUnavailableException', 'Slow down.', 503);
    await assert.rejects(firehose().invoke({ target: DELIVERY, payload: 1, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_TARGET_FAILED');
      assert.equal((error.cause as Error).name, 'ServiceUnavailableException');
      return true;
    });
  });

  describe('with the endpoint from AWS_ENDPOINT_URL_FIREHOSE', () => {
    const set = withEnv('AWS_ENDPOINT_URL_FIREHOSE');
    it('sends to the env endpoint', async () => {
      set(aws.fake.url);
      const invoker = new FirehoseInvoker({ clients: aws.clients(localSdkConfig()) });
      await invoker.invoke({ target: DELIVERY, payload: 'via env', psarn: PSARN, timeoutMs: 5000 });
      assert.equal(dataText((aws.fake.last('firehose').body as { Record: Body }).Record.Data), 'via env\n');
    });
  });
});
