/**
 * PrometheusGate against the real Prometheus (Debian's `prometheus`) scraping a process that
 * sends events through the real client library (test/ops/fixtures/traffic.ts): the gate an
 * operator writes on the new target's error counter (docs/operations.md#metric-gates) fires
 * when that counter rises and not before; a bad query and a Prometheus that is down are
 * `ok: false` with the reason, never "not fired".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PrometheusGate } from '../../src/ops/prometheus.js';
import type { GateResult } from '../../src/ops/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';
import { startTraffic, type TrafficProcess } from './fixtures/traffic-process.js';

const ACCOUNT = '123456789012';
const PSARN = `arn:aws:psarn:us-east-1:${ACCOUNT}:gate/real`;
const V1 = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:gate-v1`;
const V2 = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:gate-v2`;
/** The gate of docs/operations.md#metric-gates, on the new target. */
const GATE = `sum(increase(psarn_client_invocations_total{target="${V2}",outcome="error"}[1m])) > 0`;

describe('PrometheusGate with a real Prometheus scraping the client library', () => {
  let psarnd: RunningDaemon | undefined;
  let traffic: TrafficProcess | undefined;
  let prometheus: RunningPrometheus | undefined;
  const gate = new PrometheusGate({ token: '', timeoutMs: 10_000 });

  before(async () => {
    if (toolPath('prometheus') === undefined) return;
    psarnd = await startPsarnd();
    await cliOn(psarnd, 'route', 'set', PSARN, '--target', `${V1}=70`, '--target', `${V2}=30`, '--ttl', '1');
    traffic = await startTraffic({ dns: `127.0.0.1:${psarnd.dns.port}`, psarns: [PSARN] });
    prometheus = await startPrometheus({ targets: [traffic.metrics] });
  });
  after(async () => {
    await Promise.allSettled([prometheus?.stop(), traffic?.stop(), psarnd?.stop()]);
  });

  it('does not fire while the new target succeeds (its error series scraped at 0)', async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    // Data flows: Prometheus has scraped v2's successes, and its error series at 0.
    await prometheus!.waitFor(`psarn_client_invocations_total{target="${V2}",outcome="ok"} > 0`);
    const zero = await prometheus!.waitFor(GATE.replace(' > 0', ''));
    assert.equal(zero[0]!.value[1], '0');
    const r = await gate.evaluate(GATE, prometheus!.url);
    assert.deepEqual({ ...r, detail: undefined }, { ok: true, fired: false, series: 0, detail: undefined });
  });

  it("fires once the new target's error counter rises, naming the series", async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    await traffic!.fail('gate-v2');
    const r = await untilFired(gate, GATE, prometheus!.url);
    assert.equal(r.series, 1);
    assert.match(r.detail, /^1 series: \{\} = \d+(\.\d+)?/);
    assert.ok(Number(/= ([\d.]+)/.exec(r.detail)![1]) > 0, r.detail);
    const labelled = await gate.evaluate(GATE.replace(/^sum\((.*)\) > 0$/, '$1 > 0'), prometheus!.url);
    assert.ok(labelled.ok && labelled.fired, JSON.stringify(labelled));
    assert.match(labelled.detail, new RegExp(`target="${V2}"`));
    const stats = await traffic!.stats();
    assert.ok(stats.byTarget[V2]!.error > 0 && stats.failedEvents === 0, 'v2 fails, v1 takes its events over');
  });

  it("pauses on a query Prometheus rejects, with Prometheus' own message", async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    const r = await gate.evaluate('sum(rate(psarn_client_invocations_total[1m]) >', prometheus!.url);
    assert.equal(r.ok, false);
    assert.match(
      (r as { reason: string }).reason,
      /^Prometheus rejected the query \(HTTP 400\): bad_data: .*parse error/,
    );
    const scalar = await gate.evaluate('scalar(sum(psarn_client_invocations_total))', prometheus!.url);
    assert.match((scalar as { reason: string }).reason, /returns a scalar .* write a vector comparison/);
  });

  it('pauses when Prometheus is down', async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    const { url, port } = prometheus!;
    await prometheus!.stop();
    const r = await gate.evaluate(GATE, url);
    assert.equal(r.ok, false);
    assert.match(
      (r as { reason: string }).reason,
      new RegExp(`^cannot reach Prometheus at http://127\\.0\\.0\\.1:${port}/api/v1/query: .*ECONNREFUSED`),
    );
  });
});

/** Evaluates until the gate fires (up to 60 s of real scrapes); every answer before must be ok. */
async function untilFired(
  gate: PrometheusGate,
  query: string,
  url: string,
): Promise<Extract<GateResult, { ok: true }>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await gate.evaluate(query, url);
    assert.ok(r.ok, `the gate could not be evaluated: ${JSON.stringify(r)}`);
    if (r.fired) return r;
    if (Date.now() > deadline) assert.fail(`the gate did not fire within 60 s; last ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
