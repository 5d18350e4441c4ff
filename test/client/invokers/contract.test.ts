/** The shared Invoker contract, run against each of the nine built-in invokers and their fakes. */
import { after, before, describe } from 'node:test';
import { AwsClientCache, type AwsInvokerOptions } from '../../../src/client/invokers/aws-clients.js';
import { DynamoDbInvoker } from '../../../src/client/invokers/dynamodb.js';
import { EventsInvoker } from '../../../src/client/invokers/events.js';
import { FirehoseInvoker } from '../../../src/client/invokers/firehose.js';
import { HttpsInvoker } from '../../../src/client/invokers/https.js';
import type { Invoker } from '../../../src/client/invokers/invoker.js';
import { KinesisInvoker } from '../../../src/client/invokers/kinesis.js';
import { LambdaInvoker } from '../../../src/client/invokers/lambda.js';
import { SnsInvoker } from '../../../src/client/invokers/sns.js';
import { SqsInvoker } from '../../../src/client/invokers/sqs.js';
import { StatesInvoker } from '../../../src/client/invokers/states.js';
import { type ContractFixtures, invokerContract, SAMPLE_TARGETS } from './contract.js';
import { dataText, type FakeAws, type FakeRequest, type FakeService, startFakeAws, unmarshalItem } from './fake-aws.js';
import { type FakeHttp, startFakeHttp } from './fake-http.js';
import { localSdkConfig } from './local-sdk.js';

describe('built-in invokers', () => {
  let fake: FakeAws;
  let http: FakeHttp;
  const caches: AwsClientCache[] = [];
  before(async () => {
    fake = await startFakeAws();
    http = await startFakeHttp();
  });
  after(async () => {
    for (const cache of caches) cache.destroy();
    await fake.close();
    await http.close();
  });

  /** An AWS invoker whose SDK clients talk to the fake. */
  const aws = (make: (options: AwsInvokerOptions) => Invoker) => () => {
    const clients = new AwsClientCache(localSdkConfig(fake.url));
    caches.push(clients);
    return make({ clients });
  };
  const fixtures = (
    service: FakeService,
    refusal: [code: string, message: string, status?: number],
    received: (request: FakeRequest) => unknown,
  ): ContractFixtures => ({
    target: () => SAMPLE_TARGETS[service]!,
    received: () => String(received(fake.last(service))),
    refuse: () => fake.refuse(service, ...refusal),
    reset: () => fake.reset(),
  });
  type Body = Record<string, unknown>;

  invokerContract(
    'lambda',
    aws((o) => new LambdaInvoker(o)),
    fixtures('lambda', ['ResourceNotFoundException', 'Function not found', 404], (r) => r.raw),
  );
  invokerContract(
    'sqs',
    aws((o) => new SqsInvoker(o)),
    fixtures(
      'sqs',
      ['com.amazonaws.sqs#QueueDoesNotExist', 'The specified queue does not exist.'],
      (r) => (r.body as Body).MessageBody,
    ),
  );
  invokerContract(
    'sns',
    aws((o) => new SnsInvoker(o)),
    fixtures('sns', ['NotFound', 'Topic does not exist', 404], (r) => (r.body as Body).Message),
  );
  invokerContract(
    'events',
    aws((o) => new EventsInvoker(o)),
    fixtures(
      'events',
      ['ResourceNotFoundException', 'Event bus orders does not exist.'],
      (r) => ((r.body as { Entries: Body[] }).Entries[0] as Body).Detail,
    ),
  );
  invokerContract(
    'states',
    aws((o) => new StatesInvoker(o)),
    fixtures('states', ['StateMachineDoesNotExist', 'State Machine Does Not Exist'], (r) => (r.body as Body).input),
  );
  invokerContract(
    'dynamodb',
    aws((o) => new DynamoDbInvoker(o)),
    {
      ...fixtures(
        'dynamodb',
        ['com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', 'Requested resource not found'],
        (r) => JSON.stringify(unmarshalItem((r.body as { Item: Body }).Item)),
      ),
      // The item is the parsed event: its JSON, without the sender's whitespace.
      expected: (text) => JSON.stringify(JSON.parse(text)),
    },
  );
  invokerContract(
    'kinesis',
    aws((o) => new KinesisInvoker(o)),
    fixtures('kinesis', ['ResourceNotFoundException', 'Stream orders under account 123456789012 not found.'], (r) =>
      dataText((r.body as Body).Data),
    ),
  );
  invokerContract(
    'firehose',
    aws((o) => new FirehoseInvoker(o)),
    {
      ...fixtures(
        'firehose',
        ['ResourceNotFoundException', 'Firehose orders under account 123456789012 not found.'],
        (r) => dataText(((r.body as { Record: Body }).Record as Body).Data),
      ),
      expected: (text) => `${text}\n`, // one event per line in the S3 objects
    },
  );
  invokerContract('https', () => new HttpsInvoker({ allowHttp: true }), {
    target: () => `${http.url}/hooks/orders`,
    received: () => http.hits.at(-1)!.raw.toString('utf8'),
    refuse: () => http.answer({ status: 503, body: 'unavailable' }),
    reset: () => http.reset(),
  });
});
