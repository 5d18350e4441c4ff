/** AwsClientCache (one SDK client per service and region) and defaultInvokers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsClientCache } from '../../../src/client/invokers/aws-clients.js';
import { defaultInvokers } from '../../../src/client/invokers/default-invokers.js';
import { PSARN, SAMPLE_TARGETS } from './contract.js';
import { useFakeAws } from './local-sdk.js';

describe('AwsClientCache', () => {
  it('makes one client per service and region, with the ARN region over the config one', () => {
    const cache = new AwsClientCache({ region: 'ap-south-1', maxAttempts: 2 });
    let made = 0;
    const make = (config: Record<string, unknown>) => ({ config, n: ++made });
    const a = cache.client('lambda', 'us-east-1', make);
    assert.equal(cache.client('lambda', 'us-east-1', make), a);
    const b = cache.client('lambda', 'eu-west-1', make);
    const c = cache.client('sqs', 'us-east-1', make);
    assert.deepEqual([a.n, b.n, c.n], [1, 2, 3]);
    assert.equal(cache.created, 3);
    assert.deepEqual(a.config, { region: 'us-east-1', maxAttempts: 2 });
    assert.deepEqual(cache.client('sns', '', make).config, { region: 'ap-south-1', maxAttempts: 2 });
  });

  it('destroy() destroys every client and forgets it', () => {
    const cache = new AwsClientCache();
    let destroyed = 0;
    const make = () => ({ destroy: () => void destroyed++ });
    const first = cache.client('sns', 'us-east-1', make);
    cache.client('sqs', 'us-east-1', make);
    cache.destroy();
    assert.equal(destroyed, 2);
    assert.notEqual(cache.client('sns', 'us-east-1', make), first);
  });
});

describe('defaultInvokers', () => {
  const aws = useFakeAws();

  it('returns the nine built-in invokers; each sample target has exactly one taker', () => {
    const invokers = defaultInvokers();
    assert.deepEqual(
      invokers.map((i) => i.service),
      ['lambda', 'sqs', 'sns', 'events', 'states', 'dynamodb', 'kinesis', 'firehose', 'https'],
    );
    for (const [service, target] of Object.entries(SAMPLE_TARGETS)) {
      assert.deepEqual(
        invokers.filter((i) => i.canInvoke(target)).map((i) => i.service),
        [service],
      );
    }
  });

  it('passes allowHttp and fetch to the https invoker', () => {
    const https = (options: Parameters<typeof defaultInvokers>[0]) => defaultInvokers(options).at(-1)!;
    assert.equal(https({}).canInvoke('http://127.0.0.1/x'), false);
    assert.equal(https({ allowHttp: true }).canInvoke('http://127.0.0.1/x'), true);
  });

  it('creates SDK clients lazily, once per service and region, shared by the invokers', async () => {
    const clients = aws.clients();
    const invokers = defaultInvokers({ clients });
    const send = (target: string) =>
      invokers.find((i) => i.canInvoke(target))!.invoke({ target, payload: {}, psarn: PSARN });
    assert.equal(clients.created, 0);
    await send('arn:aws:lambda:us-east-1:123456789012:function:a');
    await send('arn:aws:lambda:us-east-1:123456789012:function:b');
    await send('arn:aws:lambda:us-east-1:123456789012:function:a:live');
    assert.equal(clients.created, 1);
    await send('arn:aws:lambda:eu-west-1:123456789012:function:a');
    await send('arn:aws:sqs:us-east-1:123456789012:q');
    await send('arn:aws:sqs:us-east-1:123456789012:q2');
    await send('arn:aws:sns:us-east-1:123456789012:t');
    assert.equal(clients.created, 3 + 1);
    assert.equal(aws.fake.requests.length, 7);
  });

  it('builds its own cache from clientConfig', async () => {
    const invokers = defaultInvokers({ clientConfig: aws.clients().clientConfig as Record<string, unknown> });
    const target = SAMPLE_TARGETS.states!;
    const response = await invokers.find((i) => i.canInvoke(target))!.invoke({ target, payload: {}, psarn: PSARN });
    assert.equal(response.id, `${target}:exec-1`);
  });
});
