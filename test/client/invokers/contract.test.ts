/** The shared Invoker contract, run against each of the six built-in invokers and their fakes. */
import { after, before, describe } from 'node:test';
import { AwsClientCache, type AwsInvokerOptions } from '../../../src/client/invokers/aws-clients.js';
import { EventsInvoker } from '../../../src/client/invokers/events.js';
import { HttpsInvoker } from '../../../src/client/invokers/https.js';
import type { Invoker } from '../../../src/client/invokers/invoker.js';
import { LambdaInvoker } from '../../../src/client/invokers/lambda.js';
import { SnsInvoker } from '../../../src/client/invokers/sns.js';
import { SqsInvoker } from '../../../src/client/invokers/sqs.js';
import { StatesInvoker } from '../../../src/client/invokers/states.js';
import { type ContractFixtures, invokerContract, SAMPLE_TARGETS } from './contract.js';
import { type FakeAws, type FakeRequest, type FakeService, startFakeAws } from './fake-aws.js';
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
  invokerContract('https', () => new HttpsInvoker({ allowHttp: true }), {
    target: () => `${http.url}/hooks/orders`,
    received: () => http.hits.at(-1)!.raw.toString('utf8'),
    refuse: () => http.answer({ status: 503, body: 'unavailable' }),
    reset: () => http.reset(),
  });
});
