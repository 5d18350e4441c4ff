/** SnsInvoker, EventsInvoker and StatesInvoker through the real SDK against the fake. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { InvokerError } from '../../../src/client/invokers/errors.js';
import { EventsInvoker, eventDetail } from '../../../src/client/invokers/events.js';
import { SnsInvoker } from '../../../src/client/invokers/sns.js';
import { StatesInvoker } from '../../../src/client/invokers/states.js';
import { PSARN } from './contract.js';
import { useFakeAws } from './local-sdk.js';

type Body = Record<string, unknown>;
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:orders-topic';
const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/orders';
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:orders-flow';

describe('SnsInvoker (real SDK, fake SNS over the Query protocol)', () => {
  const aws = useFakeAws();
  const sns = () => new SnsInvoker({ clients: aws.clients() });

  it('publishes the payload text to the topic and returns the MessageId', async () => {
    const response = await sns().invoke({ target: TOPIC, payload: { order: 3 }, psarn: PSARN });
    const form = aws.fake.last('sns').body as Body;
    assert.equal(form.Action, 'Publish');
    assert.equal(form.TopicArn, TOPIC);
    assert.equal(form.Message, '{"order":3}');
    assert.equal(form.MessageGroupId, undefined);
    assert.deepEqual(response, { id: 'sns-1' });
  });

  it('sets group and deduplication ids for a FIFO topic', async () => {
    await sns().invoke({ target: `${TOPIC}.fifo`, payload: 'hello', psarn: PSARN });
    const form = aws.fake.last('sns').body as Body;
    assert.equal(form.MessageGroupId, PSARN);
    assert.equal(form.MessageDeduplicationId, createHash('sha256').update('hello').digest('hex'));
  });

  it('wraps an SNS error (XML ErrorResponse) with its code', async () => {
    aws.fake.refuse('sns', 'AuthorizationError', 'not allowed to publish', 403);
    await assert.rejects(sns().invoke({ target: TOPIC, payload: {}, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      // The SDK maps the Query error code to its modelled exception.
      assert.equal((error.cause as Error).name, 'AuthorizationErrorException');
      assert.match(error.message, /not allowed to publish/);
      return true;
    });
  });
});

describe('eventDetail', () => {
  it('keeps a JSON object text byte for byte and wraps anything else as {"payload": ...}', () => {
    assert.equal(eventDetail('{ "a" : 1 }'), '{ "a" : 1 }');
    assert.equal(eventDetail({ a: 1 }), '{"a":1}');
    assert.equal(eventDetail('hello'), '{"payload":"hello"}');
    assert.equal(eventDetail([1, 2]), '{"payload":[1,2]}');
    assert.equal(eventDetail(42), '{"payload":42}');
    assert.equal(eventDetail(null), '{"payload":null}');
  });
});

describe('EventsInvoker (real SDK, fake EventBridge)', () => {
  const aws = useFakeAws();
  const events = () => new EventsInvoker({ clients: aws.clients() });

  it('puts one entry on the bus with Source psarn and DetailType the psARN path', async () => {
    const response = await events().invoke({ target: BUS, payload: { order: 4 }, psarn: PSARN });
    const request = aws.fake.last('events');
    assert.equal(request.headers['x-amz-target'], 'AWSEvents.PutEvents');
    assert.deepEqual(request.body, {
      Entries: [{ EventBusName: BUS, Source: 'psarn', DetailType: 'orders/created', Detail: '{"order":4}' }],
    });
    assert.deepEqual(response, { id: 'evt-1' });
  });

  it('wraps a plain-text payload so Detail stays a JSON object', async () => {
    await events().invoke({ target: BUS, payload: 'hello', psarn: PSARN });
    const entry = (aws.fake.last('events').body as { Entries: Body[] }).Entries[0]!;
    assert.equal(entry.Detail, '{"payload":"hello"}');
  });

  it('rejects when the entry failed even though PutEvents answered 200', async () => {
    aws.fake.respond('events', () => ({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      }),
    }));
    await assert.rejects(events().invoke({ target: BUS, payload: {}, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_TARGET_REJECTED');
      assert.match(error.message, /InternalFailure: try again/);
      return true;
    });
  });

  it('refuses an events ARN that is not an event bus, without calling EventBridge', async () => {
    const target = 'arn:aws:events:us-east-1:123456789012:rule/orders-rule';
    await assert.rejects(events().invoke({ target, payload: {}, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_INVALID_TARGET');
      assert.match(error.message, /event-bus\/<name>/);
      return true;
    });
    assert.equal(aws.fake.requests.length, 0);
  });
});

describe('StatesInvoker (real SDK, fake Step Functions)', () => {
  const aws = useFakeAws();
  const states = () => new StatesInvoker({ clients: aws.clients() });

  it('starts an execution with the payload as input and returns the execution ARN', async () => {
    const response = await states().invoke({ target: MACHINE, payload: { order: 5 }, psarn: PSARN });
    const request = aws.fake.last('states');
    assert.equal(request.headers['x-amz-target'], 'AWSStepFunctions.StartExecution');
    assert.deepEqual(request.body, { stateMachineArn: MACHINE, input: '{"order":5}' });
    assert.deepEqual(response, { id: `${MACHINE}:exec-1` });
  });

  it('wraps StateMachineDoesNotExist with the SDK error as cause', async () => {
    aws.fake.refuse('states', 'StateMachineDoesNotExist', 'State Machine Does Not Exist');
    await assert.rejects(states().invoke({ target: MACHINE, payload: {}, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_TARGET_FAILED');
      assert.equal((error.cause as Error).name, 'StateMachineDoesNotExist');
      return true;
    });
  });
});
