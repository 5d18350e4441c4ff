/**
 * Rollouts with a metric gate end to end (issue 11, docs/design.md#rollout-gates): psarnd drives
 * `psarn rollout start … --every 1s --abort-if … --prometheus URL`; the real Prometheus
 * (Debian's `prometheus`) scrapes a process that sends events through the real client library
 * to the routes being rolled out (test/ops/fixtures/traffic.ts), its Lambda targets answered by
 * the fake AWS. A rollout to a broken target aborts once that target's error counter rises, and
 * the route is as before; one to a healthy target completes; a gate Prometheus cannot evaluate
 * pauses the rollout with Prometheus' reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';
import { startTraffic, type TrafficProcess } from '../ops/fixtures/traffic-process.js';

const ACCOUNT = '123456789012';
const psarn = (name: string) => `arn:aws:psarn:us-east-1:${ACCOUNT}:gate/${name}`;
const fn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

/** The gate of docs/operations.md#metric-gates: any error of the new target in the last minute. */
const gateOn = (target: string) =>
  `sum(increase(psarn_client_invocations_total{target="${target}",outcome="error"}[1m])) > 0`;

interface Status {
  status: string;
  step: number;
  steps: number[];
  pauseReason?: string;
  endReason?: string;
  lastGate?: string;
}

/** Routes rolled out here; the traffic process sends to each of them. */
const ROUTES = {
  broken: { psarn: psarn('broken'), old: fn('broken-v1'), to: fn('broken-v2') },
  healthy: { psarn: psarn('healthy'), old: fn('healthy-v1'), to: fn('healthy-v2') },
  unevaluable: { psarn: psarn('unevaluable'), old: fn('unevaluable-v1'), to: fn('unevaluable-v2') },
};

describe('psarn rollout with --abort-if against a real Prometheus', () => {
  let psarnd: RunningDaemon | undefined;
  let traffic: TrafficProcess | undefined;
  let prometheus: RunningPrometheus | undefined;
  const cli = (...args: string[]) => cliOn(psarnd!, ...args);

  before(async () => {
    if (toolPath('prometheus') === undefined) return;
    psarnd = await startPsarnd({ env: { PSARN_PROMETHEUS_TOKEN: '' } });
    for (const r of Object.values(ROUTES)) await cli('route', 'set', r.psarn, '--target', r.old, '--ttl', '1');
    traffic = await startTraffic({
      dns: `127.0.0.1:${psarnd.dns.port}`,
      psarns: Object.values(ROUTES).map((r) => r.psarn),
    });
    prometheus = await startPrometheus({ targets: [traffic.metrics] });
    // Prometheus scrapes the client library's counters before any rollout starts.
    await prometheus.waitFor(`psarn_client_invocations_total{target="${ROUTES.healthy.old}",outcome="ok"} > 0`);
  });
  after(async () => {
    await Promise.allSettled([prometheus?.stop(), traffic?.stop(), psarnd?.stop()]);
  });

  const status = async (p: string): Promise<Status> =>
    JSON.parse((await cli('rollout', 'status', p, '--json')).stdout) as Status;

  /** Polls `rollout status` until the rollout leaves `running` (up to 120 s of real steps and scrapes). */
  async function settled(p: string): Promise<Status> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const s = await status(p);
      if (s.status !== 'running') return s;
      if (Date.now() > deadline) assert.fail(`rollout of ${p} still running after 120 s: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const routeJson = async (p: string) => (await cli('route', 'get', p, '--json')).stdout;
  /** The route as `route get --json` shows it, without what every write moves (serial, time). */
  const routeContent = async (p: string) => {
    const {
      serial: _serial,
      updatedAt: _updatedAt,
      ...content
    } = JSON.parse(await routeJson(p)) as Record<string, unknown>;
    return content;
  };

  it("aborts when the new target's error counter rises, and the route is as before", async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    const r = ROUTES.broken;
    const before = await routeContent(r.psarn);
    await traffic!.fail('broken-v2');
    // 20 steps a second apart: the gate has 19 s to see v2's errors (about 3 s: the route's
    // TTL, two scrapes); it aborts long before the last step.
    const steps = Array.from({ length: 20 }, (_, i) => (i + 1) * 5).join(',');
    await cli(
      'rollout',
      'start',
      r.psarn,
      '--to',
      r.to,
      '--steps',
      steps,
      '--every',
      '1s',
      '--abort-if',
      gateOn(r.to),
      '--prometheus',
      prometheus!.url,
    );
    const s = await settled(r.psarn);
    t.diagnostic(`aborted at step ${s.step} of 20: ${s.endReason}`);
    assert.equal(s.status, 'aborted', JSON.stringify(s));
    assert.match(s.endReason ?? '', /^aborted by the gate before step \d+ of 20: 1 series: \{\} = [\d.]+/);
    assert.ok(s.step < 20, 'it never reached the last step');
    assert.deepEqual(await routeContent(r.psarn), before, 'the route exactly as before the rollout');
    const stats = await traffic!.stats();
    assert.ok(stats.byTarget[r.to]!.error > 0, 'the new target got events, and failed them');
    assert.equal(stats.failedEvents, 0, 'the old target took over every event the new one failed');
    assert.ok(psarnd!.logs.some((l) => l.msg === 'rollout aborted by its gate' && l.to === r.to));
  });

  it('completes when the new target has no errors, each step after its gate', async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    const r = ROUTES.healthy;
    await cli(
      'rollout',
      'start',
      r.psarn,
      '--to',
      r.to,
      '--steps',
      '25,50,75,100',
      '--every',
      '1s',
      '--abort-if',
      gateOn(r.to),
      '--prometheus',
      prometheus!.url,
    );
    const s = await settled(r.psarn);
    assert.equal(s.status, 'done', JSON.stringify(s));
    assert.equal(s.step, 4);
    assert.match(s.lastGate ?? '', /^empty result/, 'the last step was taken after a gate that was asked and said no');
    const route = JSON.parse(await routeJson(r.psarn)) as { targets: { target: string }[] };
    assert.deepEqual(
      route.targets.map((x) => x.target),
      [r.to],
    );
    // The gate watched a series that existed: v2's error counter, scraped at 0.
    const errors = await prometheus!.query(`psarn_client_invocations_total{target="${r.to}",outcome="error"}`);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.value[1], '0');
  });

  it("pauses, saying Prometheus' reason, when the gate cannot be evaluated", async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    const r = ROUTES.unevaluable;
    await cli(
      'rollout',
      'start',
      r.psarn,
      '--to',
      r.to,
      '--steps',
      '50,100',
      '--every',
      '1s',
      '--abort-if',
      'sum(rate(psarn_client_invocations_total[1m]) >',
      '--prometheus',
      prometheus!.url,
    );
    const s = await settled(r.psarn);
    assert.equal(s.status, 'paused', JSON.stringify(s));
    assert.equal(s.step, 1, 'never promoted blindly');
    assert.match(
      s.pauseReason ?? '',
      /could not be evaluated .*Prometheus rejected the query \(HTTP 400\): bad_data: .*parse error/,
    );
  });
});
