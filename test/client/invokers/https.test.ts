/** HttpsInvoker against a local HTTP server (allowHttp) and an injected fetch. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { InvokerError } from '../../../src/client/invokers/errors.js';
import { HttpsInvoker } from '../../../src/client/invokers/https.js';
import { PSARN } from './contract.js';
import { type FakeHttp, startFakeHttp } from './fake-http.js';

describe('HttpsInvoker', () => {
  let http: FakeHttp;
  before(async () => {
    http = await startFakeHttp();
  });
  beforeEach(() => http.reset());
  after(() => http.close());
  const target = () => `${http.url}/hooks/orders?x=1`;
  const invoker = new HttpsInvoker({ allowHttp: true });

  it('POSTs the payload as application/json and returns status and decoded body', async () => {
    const response = await invoker.invoke({ target: target(), payload: { order: 6 }, psarn: PSARN });
    const hit = http.hits[0]!;
    assert.equal(hit.method, 'POST');
    assert.equal(hit.url, '/hooks/orders?x=1');
    assert.equal(hit.headers['content-type'], 'application/json');
    assert.equal(hit.raw.toString(), '{"order":6}');
    assert.deepEqual(response, { statusCode: 200, body: { accepted: true } });
  });

  it('returns a non-JSON body as text and an empty one as undefined', async () => {
    http.answer({ status: 201, body: 'queued' });
    assert.deepEqual(await invoker.invoke({ target: target(), payload: {}, psarn: PSARN }), {
      statusCode: 201,
      body: 'queued',
    });
    http.answer({ status: 204 });
    assert.deepEqual(await invoker.invoke({ target: target(), payload: {}, psarn: PSARN }), {
      statusCode: 204,
      body: undefined,
    });
  });

  for (const status of [400, 500, 302]) {
    it(`rejects on HTTP ${status}, naming the status${status === 302 ? ', without following the redirect' : ''}`, async () => {
      http.answer({ status, body: 'no', headers: { location: `${http.url}/elsewhere` } });
      await assert.rejects(invoker.invoke({ target: target(), payload: {}, psarn: PSARN }), (error: unknown) => {
        assert.ok(error instanceof InvokerError);
        assert.equal(error.code, 'ERR_TARGET_REJECTED');
        assert.equal(error.statusCode, status);
        assert.match(error.message, new RegExp(`HTTP ${status}`));
        return true;
      });
      assert.equal(http.hits.length, 1);
    });
  }

  it('gives up after timeoutMs when the server does not answer', async () => {
    http.answer('hang');
    const started = performance.now();
    await assert.rejects(invoker.invoke({ target: target(), payload: {}, psarn: PSARN, timeoutMs: 100 }), {
      code: 'ERR_TARGET_FAILED',
    });
    assert.ok(performance.now() - started < 5000);
  });

  it('declines http:// unless allowHttp, and refuses to send it', async () => {
    const strict = new HttpsInvoker();
    assert.equal(strict.canInvoke(target()), false);
    assert.equal(strict.canInvoke('https://hooks.example.com/x'), true);
    await assert.rejects(strict.invoke({ target: target(), payload: {}, psarn: PSARN }), {
      code: 'ERR_INVALID_TARGET',
    });
    assert.equal(http.hits.length, 0);
  });

  it('uses an injected fetch, and a fetch failure rejects with it as cause', async () => {
    const calls: string[] = [];
    const boom = new TypeError('fetch failed');
    const fake: typeof fetch = async (input) => {
      calls.push(String(input));
      throw boom;
    };
    const withFetch = new HttpsInvoker({ fetch: fake });
    await assert.rejects(
      withFetch.invoke({ target: 'https://hooks.example.com/x', payload: 1, psarn: PSARN }),
      (error: unknown) => {
        assert.ok(error instanceof InvokerError);
        assert.equal(error.code, 'ERR_TARGET_FAILED');
        assert.equal(error.cause, boom);
        return true;
      },
    );
    assert.deepEqual(calls, ['https://hooks.example.com/x']);
  });
});
