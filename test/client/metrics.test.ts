/** ClientMetrics' per-target invocation counter: what a target's label is, and its bound. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ClientMetrics, MAX_TARGET_LABELS, OTHER_TARGET, targetLabel } from '../../src/client/metrics.js';

describe('targetLabel', () => {
  it('keeps an ARN as written', () => {
    for (const arn of [
      'arn:aws:lambda:eu-west-1:123456789012:function:orders:live',
      'arn:aws:sqs:us-east-1:123456789012:orders.fifo',
      'arn:aws:events:us-east-1:123456789012:event-bus/default',
    ]) {
      assert.equal(targetLabel(arn), arn);
    }
  });

  it('reduces a URL to its origin and path: never its query, fragment or userinfo', () => {
    assert.equal(
      targetLabel('https://ops:s3cret@hooks.example.com:8443/v2/orders?token=abc&sig=x#frag'),
      'https://hooks.example.com:8443/v2/orders',
    );
    assert.equal(targetLabel('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/');
    assert.equal(targetLabel('https://user:pw@[::1'), 'invalid-url');
  });

  it('clips a very long target', () => {
    assert.equal(targetLabel(`arn:x:${'a'.repeat(1000)}`).length, 256);
  });
});

describe('ClientMetrics.invoked', () => {
  it('counts by service, target and outcome', async () => {
    const registry = new Registry();
    const m = new ClientMetrics(registry);
    m.invoked('https', 'https://h.example/hook?token=secret', 'error');
    m.invoked('https', 'https://h.example/hook?token=other', 'error');
    m.invoked('lambda', 'arn:aws:lambda:eu-west-1:1:function:v2', 'ok');
    const text = await registry.metrics();
    assert.ok(
      text.includes(
        'psarn_client_invocations_total{service="https",target="https://h.example/hook",outcome="error"} 2',
      ),
      text,
    );
    assert.ok(
      text.includes(
        'psarn_client_invocations_total{service="lambda",target="arn:aws:lambda:eu-west-1:1:function:v2",outcome="ok"} 1',
      ),
    );
    assert.doesNotMatch(text, /secret|token=/);
  });

  it("starts a target's error counter at 0 with its first invocation, so increase() sees its first error", async () => {
    const registry = new Registry();
    const m = new ClientMetrics(registry);
    m.invoked('lambda', 'arn:aws:lambda:eu-west-1:1:function:v2', 'ok');
    const text = await registry.metrics();
    assert.ok(
      text.includes(
        'psarn_client_invocations_total{service="lambda",target="arn:aws:lambda:eu-west-1:1:function:v2",outcome="error"} 0',
      ),
      text,
    );
  });

  it(`names at most ${MAX_TARGET_LABELS} targets; later ones count as '${OTHER_TARGET}', earlier ones keep their name`, async () => {
    const registry = new Registry();
    const m = new ClientMetrics(registry);
    for (let i = 0; i < MAX_TARGET_LABELS + 50; i++) m.invoked('sqs', `arn:aws:sqs:us-east-1:1:q${i}`, 'ok');
    m.invoked('sqs', 'arn:aws:sqs:us-east-1:1:q0', 'error');
    const text = await registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('psarn_client_invocations_total{'));
    assert.equal(series.length, 2 * MAX_TARGET_LABELS + 1, 'the named targets (ok and error), and other');
    assert.ok(text.includes(`psarn_client_invocations_total{service="sqs",target="${OTHER_TARGET}",outcome="ok"} 50`));
    assert.ok(
      text.includes(
        'psarn_client_invocations_total{service="sqs",target="arn:aws:sqs:us-east-1:1:q0",outcome="error"} 1',
      ),
    );
  });
});
