/**
 * psarnd's rollout driver (docs/design.md#rollouts) on a real store with a fake clock and a fake
 * gate: steps on time, the gate before each step (fired aborts, not evaluable pauses), a held
 * route waits, a route changed by hand pauses naming who, and a restart with overdue steps takes
 * one step after its gate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { driverActor, type RolloutState, scheduleOf, WEIGHT_SCALE } from '../../src/ops/rollout.js';
import { RolloutDriver } from '../../src/ops/rollout-driver.js';
import { type RolloutOperation, startRollout } from '../../src/ops/rollout-ops.js';
import type { GateEvaluator, GateResult } from '../../src/ops/types.js';
import { savedRoute } from '../../src/store/statements.js';
import { Store } from '../../src/store/store.js';
import { type FakeClock, fakeClock } from '../helpers/fake-clock.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'psarn-rollout-driver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OLD = 'arn:aws:lambda:us-east-1:123456789012:function:v1';
const NEW = 'arn:aws:lambda:us-east-1:123456789012:function:v2';
const T0 = 1_800_000_000_000;
const EVERY = 60_000;

class FakeGate implements GateEvaluator {
  calls: { query: string; prometheus: string }[] = [];
  constructor(public results: (GateResult | Error)[]) {}
  async evaluate(query: string, prometheus: string): Promise<GateResult> {
    this.calls.push({ query, prometheus });
    const next = this.results.length > 1 ? this.results.shift()! : this.results[0]!;
    if (next instanceof Error) throw next;
    return next;
  }
}

const OK: GateResult = { ok: true, fired: false, series: 0, detail: 'empty result' };
const FIRED: GateResult = { ok: true, fired: true, series: 1, detail: '1 series: errors 0.3' };

interface Rig {
  store: Store;
  clock: FakeClock;
  gate: FakeGate;
  driver: RolloutDriver;
  metrics: string[];
  changed: number;
  op: RolloutOperation;
  /** Moves the clock and waits for the run the timers started. */
  advance(ms: number): Promise<void>;
  weights(): number[];
  reload(): RolloutOperation;
}

let files = 0;

function rig(options: { steps?: string; gate?: FakeGate; withGate?: boolean; file?: string } = {}): Rig {
  const file = options.file ?? join(dir, `d${files++}.db`);
  const store = Store.open(file, { create: true });
  store.setRoute(
    ZONE,
    'orders',
    { policy: 'weighted', ttl: 60, targets: [{ target: OLD, weight: 1, priority: 10 }], metadata: { team: 'a' } },
    PARAMS,
  );
  const clock = fakeClock(T0);
  const gate = options.gate ?? new FakeGate([OK]);
  const schedule = scheduleOf({ steps: options.steps ?? '10,50', every: '1m' });
  assert.ok('value' in schedule);
  const started = startRollout(
    { store, params: PARAMS, actor: 'user:alice', now: clock.now() },
    {
      zone: ZONE,
      path: 'orders',
      to: NEW,
      schedule: schedule.value,
      ...(options.withGate === false
        ? {}
        : { gate: { query: 'rate(errors[1m]) > 0', prometheus: 'http://prom:9090' } }),
    },
  );
  assert.ok(!('refused' in started), JSON.stringify(started));
  return attach(store, clock, gate, started.op);
}

function attach(store: Store, clock: FakeClock, gate: FakeGate, op: RolloutOperation): Rig {
  const metrics: string[] = [];
  const r: Rig = {
    store,
    clock,
    gate,
    metrics,
    changed: 0,
    op,
    driver: undefined as unknown as RolloutDriver,
    async advance(ms) {
      clock.advance(ms);
      await r.driver.run();
    },
    weights: () => store.getRoute(ZONE, 'orders')!.targets.map((t) => t.weight),
    reload: () => store.operation<RolloutState>(op.id)! as RolloutOperation,
  };
  r.driver = new RolloutDriver({
    store,
    params: PARAMS,
    gate,
    clock,
    log: { info() {}, warn() {}, error() {} },
    metrics: { rolloutStep: (result) => metrics.push(result) },
    changed: () => {
      r.changed++;
    },
  });
  r.driver.start();
  return r;
}

describe('RolloutDriver', () => {
  it('takes each step when due, after its gate, with its own actor, and ends the rollout at 100%', async () => {
    const r = rig();
    try {
      assert.deepEqual(r.weights(), [9000, 1000], 'start wrote the first step');
      assert.equal(r.clock.armed(), 1);
      await r.advance(EVERY - 1);
      assert.deepEqual(r.weights(), [9000, 1000], 'not due yet');
      assert.equal(r.gate.calls.length, 0);
      await r.advance(1);
      assert.deepEqual(r.weights(), [5000, 5000]);
      assert.deepEqual(r.gate.calls, [{ query: 'rate(errors[1m]) > 0', prometheus: 'http://prom:9090' }]);
      let op = r.reload();
      assert.equal(op.status, 'running');
      assert.equal(op.state.step, 1);
      assert.equal(op.dueAt, T0 + 2 * EVERY);
      assert.equal(op.state.lastGate, 'empty result');
      const journal = r.store.journal(ZONE).filter((e) => e.path === 'orders');
      assert.equal(journal.at(-1)!.actor, driverActor(op.id));
      assert.equal(journal.at(-1)!.actor, `psarnd:rollout#${op.id}`);
      assert.equal(op.state.serial, r.store.zone(ZONE)!.serial);
      await r.advance(EVERY);
      assert.deepEqual(
        r.store.getRoute(ZONE, 'orders')!.targets.map((t) => [t.target, t.weight]),
        [[NEW, 1]],
      );
      op = r.reload();
      assert.equal(op.status, 'done');
      assert.equal(op.dueAt, undefined);
      assert.equal(r.gate.calls.length, 2, 'the gate is asked before the last step too');
      assert.deepEqual(r.metrics, ['applied', 'applied']);
      assert.equal(r.changed, 2, 'each step picked up at once');
      assert.equal(r.clock.armed(), 0, 'nothing left to drive');
      assert.equal(r.store.getRoute(ZONE, 'orders')!.ttl, 60);
      assert.deepEqual(r.store.getRoute(ZONE, 'orders')!.metadata, { team: 'a' });
    } finally {
      await r.driver.close();
      r.store.close();
    }
  });

  it('aborts when the gate fires: the saved route back, byte for byte', async () => {
    const r = rig({ steps: '10,20,50', gate: new FakeGate([OK, FIRED]) });
    try {
      await r.advance(EVERY);
      assert.deepEqual(r.weights(), [8000, 2000]);
      await r.advance(EVERY);
      const op = r.reload();
      assert.equal(op.status, 'aborted');
      assert.match(op.state.endReason!, /^aborted by the gate before step 3 of 4: 1 series: errors 0.3$/);
      assert.equal(op.dueAt, undefined);
      assert.deepEqual(savedRoute(r.store.getRoute(ZONE, 'orders')!), {
        ...op.saved,
        updatedAt: r.store.getRoute(ZONE, 'orders')!.updatedAt,
      });
      assert.deepEqual(r.weights(), [1]);
      assert.deepEqual(r.metrics, ['applied', 'aborted']);
      assert.equal(r.store.journal(ZONE).at(-1)!.actor, driverActor(op.id));
      await r.advance(10 * EVERY);
      assert.equal(r.gate.calls.length, 2, 'an aborted rollout is not asked again');
    } finally {
      await r.driver.close();
      r.store.close();
    }
  });

  for (const [name, result] of [
    ['a gate that cannot be evaluated', { ok: false, reason: 'Prometheus at http://prom:9090: connection refused' }],
    ['a gate that throws', new Error('socket hang up')],
  ] as const) {
    it(`pauses on ${name}, says why, and never promotes`, async () => {
      const r = rig({ gate: new FakeGate([result]) });
      try {
        await r.advance(EVERY);
        const op = r.reload();
        assert.equal(op.status, 'paused');
        assert.equal(op.dueAt, undefined);
        assert.match(
          op.state.pauseReason!,
          /^the gate could not be evaluated before step 2 of 3: (Prometheus at http:\/\/prom:9090: connection refused|socket hang up); resume/,
        );
        assert.deepEqual(r.weights(), [9000, 1000], 'the route stays at the last step');
        assert.deepEqual(r.metrics, ['gate_error']);
        await r.advance(10 * EVERY);
        assert.equal(r.gate.calls.length, 1);
        assert.deepEqual(r.weights(), [9000, 1000]);
      } finally {
        await r.driver.close();
        r.store.close();
      }
    });
  }

  it('never steps a held route: the step waits another interval, the gate is not asked', async () => {
    const r = rig();
    try {
      const hold = r.store.insertOperation({
        zone: ZONE,
        path: 'orders',
        kind: 'hold',
        status: 'held',
        saved: r.op.saved,
        state: {},
        actor: 'user:bob',
      });
      await r.advance(EVERY);
      assert.deepEqual(r.weights(), [9000, 1000]);
      assert.equal(r.gate.calls.length, 0);
      assert.equal(r.reload().status, 'running');
      assert.equal(r.reload().dueAt, T0 + 2 * EVERY);
      assert.deepEqual(r.metrics, ['held']);
      r.store.updateOperation(hold.id, { status: 'released' });
      await r.advance(EVERY);
      assert.deepEqual(r.weights(), [5000, 5000]);
      assert.deepEqual(r.metrics, ['held', 'applied']);
    } finally {
      await r.driver.close();
      r.store.close();
    }
  });

  it('pauses, naming who, when the route was changed since the last step, and does not overwrite it', async () => {
    const r = rig();
    try {
      r.store.updateRoute(
        ZONE,
        'orders',
        (before) => ({
          policy: 'weighted',
          ttl: 60,
          targets: [
            { ...before!.targets[0]!, weight: 9500 },
            { ...before!.targets[1]!, weight: 500 },
          ],
          metadata: { team: 'a' },
        }),
        PARAMS,
        { actor: 'user:bob' },
      );
      const serial = r.store.zone(ZONE)!.serial;
      await r.advance(EVERY);
      const op = r.reload();
      assert.equal(op.status, 'paused');
      assert.match(
        op.state.pauseReason!,
        new RegExp(`^the route was changed by user:bob \\(serial ${serial}\\) after step 1 of 3 \\(10%\\)`),
      );
      assert.deepEqual(r.weights(), [9500, 500], "the operator's change stays");
      assert.equal(r.gate.calls.length, 0, 'not asked: nothing will be stepped');
      assert.deepEqual(r.metrics, ['paused']);
    } finally {
      await r.driver.close();
      r.store.close();
    }
  });

  it('keeps a TTL or metadata change made during the rollout: the rollout owns the targets only', async () => {
    const r = rig();
    try {
      r.store.updateRoute(
        ZONE,
        'orders',
        (before) => ({ ...(before as { policy: 'weighted' } & typeof before)!, ttl: 5, metadata: { team: 'b' } }),
        PARAMS,
        {
          actor: 'user:bob',
        },
      );
      await r.advance(EVERY);
      assert.equal(r.reload().status, 'running');
      assert.deepEqual(r.weights(), [5000, 5000]);
      assert.equal(r.store.getRoute(ZONE, 'orders')!.ttl, 5);
      assert.deepEqual(r.store.getRoute(ZONE, 'orders')!.metadata, { team: 'b' });
    } finally {
      await r.driver.close();
      r.store.close();
    }
  });

  it('after a restart with several steps overdue, takes one step after its gate and waits the interval again', async () => {
    const file = join(dir, 'restart.db');
    const first = rig({ steps: '10,20,30,40', file });
    await first.advance(EVERY);
    assert.deepEqual(first.weights(), [8000, 2000]);
    await first.driver.close();
    first.store.close();
    // psarnd is down for 5 intervals: three steps are overdue.
    const clock = fakeClock(first.clock.now() + 5 * EVERY);
    const store = Store.open(file, { create: false });
    const gate = new FakeGate([OK]);
    const op = store.operations<RolloutState>({ kind: 'rollout' })[0] as RolloutOperation;
    const r = attach(store, clock, gate, op);
    try {
      await r.advance(0);
      assert.deepEqual(r.weights(), [7000, 3000], 'one step: 30%, not 40% or 100%');
      assert.equal(gate.calls.length, 1, 'the gate of that step was asked');
      assert.equal(r.reload().state.step, 2);
      assert.equal(r.reload().dueAt, clock.now() + EVERY);
      await r.advance(EVERY - 1);
      assert.deepEqual(r.weights(), [7000, 3000]);
      await r.advance(1);
      assert.deepEqual(r.weights(), [6000, 4000]);
      assert.equal(gate.calls.length, 2);
    } finally {
      await r.driver.close();
      store.close();
    }
  });

  it('notices a rollout another connection starts, at the next notice(), and none before', async () => {
    const file = join(dir, 'notice.db');
    const cli = Store.open(file, { create: true });
    cli.setRoute(
      ZONE,
      'orders',
      { policy: 'weighted', ttl: 60, targets: [{ target: OLD, weight: 1, priority: 10 }] },
      PARAMS,
    );
    const clock = fakeClock(T0);
    const store = Store.open(file, { create: false });
    const gate = new FakeGate([OK]);
    const r = attach(store, clock, gate, undefined as unknown as RolloutOperation);
    try {
      assert.equal(clock.armed(), 0, 'nothing to drive');
      const schedule = scheduleOf({ steps: '10,50', every: '1m' });
      assert.ok('value' in schedule);
      const started = startRollout(
        { store: cli, params: PARAMS, actor: 'user:alice', now: clock.now() },
        { zone: ZONE, path: 'orders', to: NEW, schedule: schedule.value },
      );
      assert.ok(!('refused' in started));
      assert.equal(clock.armed(), 0);
      r.driver.notice();
      assert.equal(clock.armed(), 1, 'armed at the new due time');
      r.driver.notice();
      assert.equal(clock.armed(), 1, 'an unmoved data_version re-arms nothing');
      await r.advance(EVERY);
      assert.deepEqual(r.weights(), [5000, 5000]);
      assert.equal(gate.calls.length, 0, 'no gate, nothing asked');
      assert.equal(WEIGHT_SCALE, 10_000);
    } finally {
      await r.driver.close();
      store.close();
      cli.close();
    }
  });

  it('a rollout paused by the CLI while its gate is asked is not stepped', async () => {
    let release: (r: GateResult) => void = () => {};
    const slow: GateEvaluator = {
      evaluate: () =>
        new Promise<GateResult>((resolve) => {
          release = resolve;
        }),
    };
    const r = rig();
    const driver = new RolloutDriver({
      store: r.store,
      params: PARAMS,
      gate: slow,
      clock: r.clock,
      log: { info() {}, warn() {}, error() {} },
    });
    await r.driver.close();
    try {
      r.clock.advance(EVERY);
      const run = driver.run();
      r.store.updateOperation(r.op.id, { status: 'paused', dueAt: null });
      release(OK);
      await run;
      assert.deepEqual(r.weights(), [9000, 1000]);
      assert.equal(r.reload().status, 'paused');
    } finally {
      await driver.close();
      r.store.close();
    }
  });
});
