/** PrometheusGate against a local HTTP server answering as Prometheus' query API would. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { endpoint, PrometheusGate } from '../../src/ops/prometheus.js';
import type { GateResult } from '../../src/ops/types.js';
import { type FakeHttp, startFakeHttp } from '../client/invokers/fake-http.js';

const json = { 'content-type': 'application/json' };
const QUERY = 'sum(increase(psarn_client_invocations_total{outcome="error"}[1m])) > 0';

function answer(http: FakeHttp, status: number, body: unknown): void {
  http.answer({ status, body: typeof body === 'string' ? body : JSON.stringify(body), headers: json });
}

function vector(result: unknown[], extra: Record<string, unknown> = {}): unknown {
  return { status: 'success', data: { resultType: 'vector', result }, ...extra };
}

function notOk(r: GateResult): string {
  assert.equal(r.ok, false, `expected ok:false, got ${JSON.stringify(r)}`);
  return (r as { reason: string }).reason;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PrometheusGate', () => {
  let http: FakeHttp;
  before(async () => {
    http = await startFakeHttp();
  });
  beforeEach(() => http.reset());
  after(() => http.close());
  const gate = new PrometheusGate({ token: '' });

  it('POSTs the query form-encoded to <url>/api/v1/query, keeping a path prefix, with a timeout', async () => {
    answer(http, 200, vector([]));
    await new PrometheusGate({ timeoutMs: 2500, token: '' }).evaluate(QUERY, `${http.url}/prom/?x=1#f`);
    const hit = http.hits[0]!;
    assert.equal(hit.method, 'POST');
    assert.equal(hit.url, '/prom/api/v1/query');
    assert.equal(hit.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(hit.headers.authorization, undefined);
    const form = new URLSearchParams(hit.raw.toString());
    assert.equal(form.get('query'), QUERY);
    assert.equal(form.get('timeout'), '2500ms');
    assert.equal(form.get('time'), null, "evaluated at Prometheus' own now");
  });

  it('fires on a non-empty vector, naming the first series and its value', async () => {
    answer(
      http,
      200,
      vector([
        { metric: { target: 'arn:aws:lambda:eu-west-1:1:function:v2', outcome: 'error' }, value: [1700000000.5, '3'] },
        { metric: { __name__: 'up', job: 'x' }, value: [1700000000.5, '1'] },
      ]),
    );
    const r = await gate.evaluate(QUERY, http.url);
    assert.deepEqual(r, {
      ok: true,
      fired: true,
      series: 2,
      detail: '2 series: {target="arn:aws:lambda:eu-west-1:1:function:v2",outcome="error"} = 3 (+1 more)',
    });
  });

  it('does not fire on an empty vector', async () => {
    answer(http, 200, vector([]));
    const r = await new PrometheusGate({ token: '', now: () => 42 }).evaluate(QUERY, http.url);
    assert.deepEqual(r, { ok: true, fired: false, series: 0, detail: 'empty result in 0 ms' });
  });

  it('fires on a non-empty matrix with its last sample, and not on an empty one', async () => {
    answer(http, 200, {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { __name__: 'errors_total', job: 'api' },
            values: [
              [1, '1'],
              [2, '5'],
            ],
          },
        ],
      },
    });
    const r = await gate.evaluate('errors_total[1m]', http.url);
    assert.deepEqual(r, {
      ok: true,
      fired: true,
      series: 1,
      detail: '1 series: errors_total{job="api"} = 5 (last sample)',
    });
    answer(http, 200, { status: 'success', data: { resultType: 'matrix', result: [] } });
    assert.equal(((await gate.evaluate('errors_total[1m]', http.url)) as { fired: boolean }).fired, false);
  });

  it("appends Prometheus' warnings to the detail", async () => {
    answer(http, 200, vector([], { warnings: ['PromQL info: metric might not be a counter'] }));
    const r = await gate.evaluate(QUERY, http.url);
    assert.ok(r.ok && /warnings: PromQL info: metric might not be a counter/.test(r.detail), JSON.stringify(r));
  });

  it('refuses a scalar or string result: "non-empty" cannot apply, so it asks for a vector comparison', async () => {
    answer(http, 200, { status: 'success', data: { resultType: 'scalar', result: [1700000000, '1'] } });
    const reason = notOk(await gate.evaluate('1 > bool 0', http.url));
    assert.match(reason, /returns a scalar \(1\), not a vector; write a vector comparison/);
    answer(http, 200, { status: 'success', data: { resultType: 'string', result: [1700000000, 'hi'] } });
    assert.match(notOk(await gate.evaluate('"hi"', http.url)), /returns a string \(hi\)/);
  });

  it("gives Prometheus' own message for a query it rejects", async () => {
    answer(http, 400, {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "query": 1:5: parse error: unexpected <op:>>',
    });
    const reason = notOk(await gate.evaluate('sum( > 0', http.url));
    assert.equal(
      reason,
      'Prometheus rejected the query (HTTP 400): bad_data: invalid parameter "query": 1:5: parse error: unexpected <op:>>',
    );
  });

  it('pauses on a non-2xx without a JSON body, on bad JSON, and on a body that is not a query answer', async () => {
    http.answer({ status: 502, body: '<html>\nbad gateway\n</html>' });
    assert.match(
      notOk(await gate.evaluate(QUERY, http.url)),
      /^Prometheus at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query answered HTTP 502 Bad Gateway: <html> bad gateway <\/html>$/,
    );
    answer(http, 200, '{"status":"succ');
    assert.match(
      notOk(await gate.evaluate(QUERY, http.url)),
      /answered HTTP 200 with a body that is not a query API answer/,
    );
    answer(http, 200, { status: 'success' });
    assert.match(notOk(await gate.evaluate(QUERY, http.url)), /not a query API answer/);
    answer(http, 200, { status: 'success', data: { resultType: 'vector', result: 'nope' } });
    assert.match(notOk(await gate.evaluate(QUERY, http.url)), /a vector whose result is not a list/);
  });

  it('pauses when Prometheus is down (connection refused), naming the URL and the error code', async () => {
    const port = await closedPort();
    const reason = notOk(await gate.evaluate(QUERY, `http://127.0.0.1:${port}`));
    assert.match(
      reason,
      new RegExp(`^cannot reach Prometheus at http://127\\.0\\.0\\.1:${port}/api/v1/query: .*ECONNREFUSED`),
    );
  });

  it('pauses on a timeout, saying how long it waited', async () => {
    http.answer('hang');
    let t = 1000;
    const r = await new PrometheusGate({ timeoutMs: 50, token: '', now: () => (t += 60) }).evaluate(QUERY, http.url);
    assert.match(
      notOk(r),
      /^Prometheus at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query did not answer within 50 ms \(waited 60 ms\)$/,
    );
  });

  it("says cancelled when the caller's signal aborts", async () => {
    http.answer('hang');
    const controller = new AbortController();
    const pending = gate.evaluate(QUERY, http.url, controller.signal);
    controller.abort(new Error('psarnd stopping'));
    assert.equal(notOk(await pending), 'gate evaluation cancelled: psarnd stopping');
  });

  it('refuses a bad URL without printing its userinfo', async () => {
    assert.match(notOk(await gate.evaluate(QUERY, 'prometheus:9090')), /scheme 'prometheus:' is not http: or https:/);
    const reason = notOk(await gate.evaluate(QUERY, 'http://ops:s3cret@[::1'));
    assert.match(reason, /^invalid Prometheus URL/);
    assert.doesNotMatch(reason, /s3cret/);
    assert.equal(notOk(await gate.evaluate('  ', http.url)), 'the --abort-if query is empty');
  });

  it('sends URL userinfo as basic auth, never in the URL or a reason', async () => {
    answer(http, 200, vector([]));
    const base = http.url.replace('http://', 'http://ops:p%40ss@');
    await new PrometheusGate({ token: 'tok' }).evaluate(QUERY, base);
    assert.equal(http.hits[0]!.headers.authorization, `Basic ${Buffer.from('ops:p@ss').toString('base64')}`);
    const port = await closedPort();
    const reason = notOk(await gate.evaluate(QUERY, `http://ops:p%40ss@127.0.0.1:${port}/`));
    assert.doesNotMatch(reason, /ops|p%40ss|p@ss/);
    assert.deepEqual(endpoint('https://u:p@prom.example/sub/'), {
      url: 'https://prom.example/sub/api/v1/query',
      shown: 'https://prom.example/sub/api/v1/query',
      authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
    });
  });

  it('sends a bearer token from the option or from env PSARN_PROMETHEUS_TOKEN', async () => {
    answer(http, 200, vector([]));
    await new PrometheusGate({ token: 'opt-token' }).evaluate(QUERY, http.url);
    assert.equal(http.hits[0]!.headers.authorization, 'Bearer opt-token');
    const saved = process.env.PSARN_PROMETHEUS_TOKEN;
    process.env.PSARN_PROMETHEUS_TOKEN = 'env-token';
    try {
      await new PrometheusGate().evaluate(QUERY, http.url);
    } finally {
      if (saved === undefined) delete process.env.PSARN_PROMETHEUS_TOKEN;
      else process.env.PSARN_PROMETHEUS_TOKEN = saved;
    }
    assert.equal(http.hits[1]!.headers.authorization, 'Bearer env-token');
  });

  it('pauses on an answer too large for a gate, without reading all of it', async () => {
    answer(http, 200, 'x'.repeat(5 * 1024 * 1024));
    assert.match(
      notOk(await gate.evaluate(QUERY, http.url)),
      /answered more than 4194304 bytes; a gate query should aggregate/,
    );
  });

  it('never rejects, even when the fetch it was given misbehaves', async () => {
    const broken = new PrometheusGate({
      token: '',
      fetch: (() => {
        throw 'not an error';
      }) as unknown as typeof fetch,
    });
    assert.match(notOk(await broken.evaluate(QUERY, http.url)), /cannot reach Prometheus at .*: not an error/);
    const weird = new PrometheusGate({
      token: '',
      fetch: (async () => ({ status: 200, statusText: 'OK', body: null })) as unknown as typeof fetch,
    });
    assert.match(notOk(await weird.evaluate(QUERY, http.url)), /not a query API answer/);
  });

  it('validates timeoutMs at construction', () => {
    assert.throws(() => new PrometheusGate({ timeoutMs: 0 }), RangeError);
  });
});
