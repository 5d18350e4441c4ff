/** LambdaInvoker through the real SDK against the fake: what Lambda receives and how answers map. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvokerError } from '../../../src/client/invokers/errors.js';
import { LambdaInvoker } from '../../../src/client/invokers/lambda.js';
import { PSARN } from './contract.js';
import { useFakeAws } from './local-sdk.js';

const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:orders-created';

/** The FunctionName the SDK put in the path `/2015-03-31/functions/<name>/invocations`. */
function functionName(url: string): string {
  const match = /^\/2015-03-31\/functions\/([^/?]+)\/invocations/.exec(url);
  assert.ok(match, url);
  return decodeURIComponent(match[1]!);
}

describe('LambdaInvoker (real SDK, fake Lambda)', () => {
  const aws = useFakeAws();
  const lambda = () => new LambdaInvoker({ clients: aws.clients() });

  it('invokes RequestResponse by default with the full ARN and returns the decoded payload', async () => {
    const response = await lambda().invoke({ target: FUNCTION, payload: { id: 7 }, psarn: PSARN });
    const request = aws.fake.last('lambda');
    assert.equal(functionName(request.url), FUNCTION);
    assert.equal(request.headers['x-amz-invocation-type'], 'RequestResponse');
    assert.equal(request.raw, '{"id":7}');
    assert.deepEqual(response, { statusCode: 200, body: { ok: true, n: 1 } });
  });

  it('keeps the qualifier in FunctionName and sends Event when asked', async () => {
    const target = `${FUNCTION}:live`;
    const response = await lambda().invoke({ target, payload: 'x', psarn: PSARN, invocationType: 'Event' });
    const request = aws.fake.last('lambda');
    assert.equal(functionName(request.url), target);
    assert.equal(request.headers['x-amz-invocation-type'], 'Event');
    assert.deepEqual(response, { statusCode: 202, body: undefined });
  });

  it('returns a non-JSON payload as text', async () => {
    aws.fake.respond('lambda', () => ({ status: 200, body: 'plain words' }));
    const response = await lambda().invoke({ target: FUNCTION, payload: {}, psarn: PSARN });
    assert.equal(response.body, 'plain words');
  });

  it('rejects when the function failed (FunctionError), naming the error and its message', async () => {
    aws.fake.respond('lambda', () => ({
      status: 200,
      headers: { 'x-amz-function-error': 'Unhandled' },
      body: JSON.stringify({ errorType: 'TypeError', errorMessage: 'order is undefined', trace: [] }),
    }));
    await assert.rejects(lambda().invoke({ target: FUNCTION, payload: {}, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_TARGET_REJECTED');
      assert.equal(error.statusCode, 200);
      assert.match(error.message, /Unhandled/);
      assert.match(error.message, /TypeError: order is undefined/);
      assert.match(error.message, /orders-created/);
      return true;
    });
  });

  it('wraps a service exception with the SDK error as cause', async () => {
    aws.fake.refuse('lambda', 'ResourceNotFoundException', 'Function not found: orders-created', 404);
    await assert.rejects(lambda().invoke({ target: FUNCTION, payload: {}, psarn: PSARN }), (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_TARGET_FAILED');
      assert.equal((error.cause as Error).name, 'ResourceNotFoundException');
      assert.match(error.message, /Function not found/);
      return true;
    });
  });

  it('gives up after timeoutMs when the service does not answer', async () => {
    aws.fake.respond('lambda', () => 'hang');
    const started = performance.now();
    await assert.rejects(lambda().invoke({ target: FUNCTION, payload: {}, psarn: PSARN, timeoutMs: 150 }), {
      code: 'ERR_TARGET_FAILED',
    });
    assert.ok(performance.now() - started < 5000);
  });

  it('refuses a lambda ARN that is not a function, without calling Lambda', async () => {
    const target = 'arn:aws:lambda:us-east-1:123456789012:layer:shared:3';
    await assert.rejects(lambda().invoke({ target, payload: {}, psarn: PSARN }), { code: 'ERR_INVALID_TARGET' });
    assert.equal(aws.fake.requests.length, 0);
  });
});
