/**
 * The contract every Invoker keeps (undici's cacheStoreTests pattern): run it against each
 * implementation with fixtures that say what its fake service received and how to make it refuse.
 */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import type { Invoker } from '../../../src/client/invokers/invoker.js';

/** One target of each built-in kind; an invoker must decline every kind but its own. */
export const SAMPLE_TARGETS: Record<string, string> = {
  lambda: 'arn:aws:lambda:us-east-1:123456789012:function:orders-created',
  sqs: 'arn:aws:sqs:us-east-1:123456789012:orders-audit',
  sns: 'arn:aws:sns:us-east-1:123456789012:orders-topic',
  events: 'arn:aws:events:us-east-1:123456789012:event-bus/orders',
  states: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders-flow',
  dynamodb: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
  kinesis: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders',
  firehose: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/orders',
  https: 'https://hooks.example.com/orders',
};

export const PSARN = 'arn:aws:psarn:us-east-1:123456789012:orders/created';

export interface ContractFixtures {
  /** A target this invoker handles and the fake behind it accepts. */
  target: () => string;
  /** The payload as the fake service received it in the last call (Lambda Payload, SQS MessageBody, ...). */
  received: () => string;
  /** Make the fake service refuse calls until reset(). */
  refuse: () => void;
  /** Forget recorded calls and refusals. */
  reset: () => void;
  /**
   * What the service should have received for the JSON text the test sent, when the target does
   * not store bytes as they are: DynamoDB stores a parsed item (so whitespace is not kept),
   * Firehose appends a newline. Default: the text itself.
   */
  expected?: (text: string) => string;
}

export function invokerContract(name: string, makeInvoker: () => Invoker, fixtures: ContractFixtures): void {
  describe(`Invoker contract: ${name}`, () => {
    let invoker: Invoker;
    before(() => {
      invoker = makeInvoker();
    });
    beforeEach(() => fixtures.reset());

    const send = (payload: unknown) => invoker.invoke({ target: fixtures.target(), payload, psarn: PSARN });
    const expected = fixtures.expected ?? ((text: string) => text);

    it('has a short lowercase service name', () => {
      assert.match(invoker.service, /^[a-z][a-z0-9-]*$/);
    });

    it('handles its own target and declines the other kinds', () => {
      assert.equal(invoker.canInvoke(fixtures.target()), true);
      const others = Object.entries(SAMPLE_TARGETS).filter(([service]) => service !== invoker.service);
      assert.ok(others.length >= 5);
      for (const [, target] of others) assert.equal(invoker.canInvoke(target), false, target);
      assert.equal(invoker.canInvoke('not a target'), false);
      assert.equal(invoker.canInvoke(''), false);
    });

    it('resolves when the service accepts, having sent an object payload as JSON', async () => {
      const payload = { order: 42, items: ['a', 'b'], note: 'café' };
      const response = await send(payload);
      assert.equal(typeof response, 'object');
      assert.equal(fixtures.received(), expected(JSON.stringify(payload)));
    });

    it('sends a string payload as it is, not re-serialised', async () => {
      const text = '{ "b": 2,   "a" : [1, 2] }';
      await send(text);
      assert.equal(fixtures.received(), expected(text));
    });

    it('sends bytes as they are', async () => {
      const text = '{"bytes":"ünïcode"}';
      await send(new TextEncoder().encode(text));
      assert.equal(fixtures.received(), expected(text));
    });

    it('rejects with an Error when the service refuses, and recovers after', async () => {
      fixtures.refuse();
      await assert.rejects(send({ order: 1 }), (error: unknown) => {
        assert.ok(error instanceof Error, 'rejects with an Error');
        assert.ok(error.message.length > 0);
        return true;
      });
      fixtures.reset();
      await send({ order: 2 });
      assert.equal(fixtures.received(), expected('{"order":2}'));
    });
  });
}
