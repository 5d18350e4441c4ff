/** The pure part of rollouts (docs/design.md#rollouts): presets, parsing, the weights at each step. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  apportion,
  FINAL_WEIGHT,
  formatDuration,
  isAsWritten,
  PRESETS,
  parseDuration,
  parseSteps,
  type RolloutState,
  routeAt,
  savedSpec,
  scheduleOf,
  startProblem,
  targetsAt,
  WEIGHT_SCALE,
} from '../../src/ops/rollout.js';
import type { SavedRoute, TargetSpec } from '../../src/store/types.js';

const t = (target: string, weight: number, priority = 10): TargetSpec => ({ target, weight, priority });
const value = <T>(r: { value: T } | { problem: string }): T => {
  assert.ok('value' in r, `expected a value, got ${JSON.stringify(r)}`);
  return r.value;
};
const problem = (r: { value: unknown } | { problem: string }): string => {
  assert.ok('problem' in r, `expected a problem, got ${JSON.stringify(r)}`);
  return r.problem;
};

describe('rollout schedules', () => {
  it('has the CodeDeploy-named presets with their steps and intervals', () => {
    assert.deepEqual(PRESETS['canary10-5m'], { steps: [10, 100], everyMs: 300_000 });
    assert.deepEqual(PRESETS['canary10-15m'], { steps: [10, 100], everyMs: 900_000 });
    assert.deepEqual(PRESETS['linear10-1m'], { steps: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], everyMs: 60_000 });
    assert.deepEqual(PRESETS['linear10-10m']!.steps, PRESETS['linear10-1m']!.steps);
    assert.equal(PRESETS['linear10-10m']!.everyMs, 600_000);
    assert.deepEqual(PRESETS['all-at-once']!.steps, [100]);
  });

  it('reads durations in s, m and h, and refuses anything else', () => {
    assert.equal(value(parseDuration('1s')), 1000);
    assert.equal(value(parseDuration('5m')), 300_000);
    assert.equal(value(parseDuration('2h')), 7_200_000);
    assert.equal(value(parseDuration('1h30m')), 5_400_000);
    assert.equal(value(parseDuration('168h')), 604_800_000);
    for (const bad of ['', '5', 'm', '1.5m', '5 m', '-1s', '1d', '0s', '169h', '5ms', '1M']) {
      assert.match(problem(parseDuration(bad)), /invalid duration/, bad);
    }
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(1000), '1s');
    assert.equal(formatDuration(3_661_000), '1h1m1s');
  });

  it('reads steps as increasing whole percents and appends 100 when the list stops short', () => {
    assert.deepEqual(value(parseSteps('10,25,50,100')), [10, 25, 50, 100]);
    assert.deepEqual(value(parseSteps('10,25,50')), [10, 25, 50, 100]);
    assert.deepEqual(value(parseSteps('100')), [100]);
    assert.deepEqual(value(parseSteps('1')), [1, 100]);
    assert.match(problem(parseSteps('10,10,100')), /must increase \(10 then 10\)/);
    assert.match(problem(parseSteps('50,25')), /must increase/);
    assert.match(problem(parseSteps('0,100')), /'0' is not a whole percent/);
    assert.match(problem(parseSteps('10,101')), /'101'/);
    assert.match(problem(parseSteps('10,,100')), /'' is not/);
    assert.match(problem(parseSteps('10.5')), /'10.5'/);
    assert.match(problem(parseSteps('')), /is not a whole percent/);
  });

  it('takes a preset, or steps and every, never both; the default is 10,25,50,100 every 5m', () => {
    assert.deepEqual(value(scheduleOf({})), { steps: [10, 25, 50, 100], everyMs: 300_000 });
    assert.deepEqual(value(scheduleOf({ every: '1s' })), { steps: [10, 25, 50, 100], everyMs: 1000 });
    assert.deepEqual(value(scheduleOf({ preset: 'linear10-1m' })).steps.length, 10);
    assert.deepEqual(value(scheduleOf({ steps: '5,50' })), { steps: [5, 50, 100], everyMs: 300_000 });
    assert.deepEqual(value(scheduleOf({ steps: '5,50', every: '1s' })), { steps: [5, 50, 100], everyMs: 1000 });
    assert.match(problem(scheduleOf({ preset: 'canary10-5m', steps: '10,100' })), /give --preset or --steps/);
    assert.match(problem(scheduleOf({ preset: 'canary10-5m', every: '1m' })), /give --preset or --steps/);
    assert.match(problem(scheduleOf({ preset: 'canary5' })), /unknown --preset 'canary5': use canary10-5m/);
    assert.match(problem(scheduleOf({ steps: '10', every: 'soon' })), /^--every: invalid duration 'soon'/);
  });
});

describe('rollout weights', () => {
  it('apportions exactly, largest remainders first, ties to the earlier', () => {
    assert.deepEqual(apportion(9000, [1, 1, 1]), [3000, 3000, 3000]);
    assert.deepEqual(apportion(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(apportion(200, [1, 1, 1]), [67, 67, 66]);
    assert.deepEqual(apportion(9900, [2, 1]), [6600, 3300]);
    assert.deepEqual(apportion(100, [65535, 1]), [100, 0]);
    // 7 × 3/7 = 3, remainder 0; the 1/7s: 1.0; 4 × 3/7 = 1.71 → floor 1, remainder 5/7 is largest.
    assert.deepEqual(apportion(7, [3, 1, 3]), [3, 1, 3]);
    assert.deepEqual(apportion(5, [3, 1, 3]), [2, 1, 2]);
    for (let total = 0; total <= WEIGHT_SCALE; total += 97) {
      for (const ws of [[1, 2, 3], [7, 0, 13, 5], [65535, 65535, 1], [1]]) {
        const out = apportion(total, ws);
        assert.equal(
          out.reduce((a, b) => a + b, 0),
          total,
          `${total} over ${ws}`,
        );
        const sum = ws.reduce((a, b) => a + b, 0);
        out.forEach((w, i) => {
          assert.ok(Math.abs(w - (total * ws[i]!) / sum) < 1, `${total} over ${ws}: ${out}`);
        });
      }
    }
  });

  it('gives the new target k% of the primary group and the others the rest in their old proportions', () => {
    const saved = [t('a', 3), t('b', 1)];
    assert.deepEqual(targetsAt(saved, 'n', 10), [t('a', 6750), t('b', 2250), t('n', 1000)]);
    assert.deepEqual(targetsAt(saved, 'n', 50), [t('a', 3750), t('b', 1250), t('n', 5000)]);
    assert.deepEqual(targetsAt(saved, 'n', 99), [t('a', 75), t('b', 25), t('n', 9900)]);
    assert.deepEqual(targetsAt(saved, 'n', 100), [t('n', FINAL_WEIGHT)]);
  });

  it('rounds a 3-target route so the group adds up to the scale at every percent', () => {
    const saved = [t('a', 1), t('b', 1), t('c', 1)];
    assert.deepEqual(targetsAt(saved, 'n', 1), [t('a', 3300), t('b', 3300), t('c', 3300), t('n', 100)]);
    assert.deepEqual(targetsAt(saved, 'n', 10), [t('a', 3000), t('b', 3000), t('c', 3000), t('n', 1000)]);
    assert.deepEqual(targetsAt(saved, 'n', 99), [t('a', 34), t('b', 33), t('c', 33), t('n', 9900)]);
    assert.deepEqual(targetsAt(saved, 'n', 98), [t('a', 67), t('b', 67), t('c', 66), t('n', 9800)]);
    const odd = [t('a', 5), t('b', 7), t('c', 11)];
    for (let k = 1; k < 100; k++) {
      const out = targetsAt(odd, 'n', k);
      assert.equal(
        out.reduce((s, x) => s + x.weight, 0),
        WEIGHT_SCALE,
        `k=${k}`,
      );
      assert.equal(out[3]!.weight, k * 100);
      // Each old target within one unit of its exact share of the rest.
      out.slice(0, 3).forEach((x, i) => {
        const exact = ((WEIGHT_SCALE - k * 100) * odd[i]!.weight) / 23;
        assert.ok(Math.abs(x.weight - exact) < 1, `k=${k} ${x.target}: ${x.weight} vs ${exact}`);
      });
    }
  });

  it('keeps failover groups and the target order; the new target joins the primary group last', () => {
    const saved = [t('fb', 1, 20), t('a', 1, 5), t('b', 0, 5), t('c', 1, 5)];
    assert.deepEqual(targetsAt(saved, 'n', 20), [
      t('fb', 1, 20),
      t('a', 4000, 5),
      t('b', 0, 5),
      t('c', 4000, 5),
      t('n', 2000, 5),
    ]);
    assert.deepEqual(targetsAt(saved, 'n', 100), [t('fb', 1, 20), t('n', FINAL_WEIGHT, 5)]);
  });

  it('splits evenly among old targets whose weights are all 0 (selection splits such a group evenly)', () => {
    assert.deepEqual(targetsAt([t('a', 0), t('b', 0)], 'n', 10), [t('a', 4500), t('b', 4500), t('n', 1000)]);
  });

  it('keeps a new target that is on the route in its place', () => {
    const saved = [t('a', 90), t('n', 10), t('fb', 1, 20)];
    assert.deepEqual(targetsAt(saved, 'n', 25), [t('a', 7500), t('n', 2500), t('fb', 1, 20)]);
    assert.deepEqual(targetsAt(saved, 'n', 100), [t('n', FINAL_WEIGHT), t('fb', 1, 20)]);
  });

  it('writes weights in range whatever the old ones were', () => {
    const saved = [t('a', 65535), t('b', 65535), t('c', 1)];
    for (const k of [1, 33, 50, 99]) {
      for (const x of targetsAt(saved, 'n', k)) assert.ok(x.weight >= 0 && x.weight <= 65535);
    }
  });

  it('keeps the policy, TTL and metadata of the saved route; abort writes the saved one back', () => {
    const saved: SavedRoute = {
      path: 'p',
      ttl: 3600,
      policy: 'weighted',
      targets: [t('b', 1, 20), t('a', 2)],
      metadata: { team: 'orders', z: '1' },
      updatedAt: 5,
    };
    const at = routeAt(saved, 'n', 10);
    assert.equal(at.ttl, 3600);
    assert.equal(at.policy, 'weighted');
    assert.deepEqual(at.metadata, { team: 'orders', z: '1' });
    assert.deepEqual(savedSpec(saved), {
      policy: 'weighted',
      ttl: 3600,
      targets: [t('b', 1, 20), t('a', 2)],
      metadata: { team: 'orders', z: '1' },
    });
  });
});

describe('rollout refusals and the manual-change check', () => {
  const route = (targets: TargetSpec[], extra: Partial<SavedRoute> = {}): SavedRoute => ({
    path: 'p',
    ttl: 60,
    policy: 'weighted',
    targets,
    metadata: {},
    updatedAt: 0,
    ...extra,
  });

  it('refuses an alias, a fanout route, a failover or doubled target, and a target with all the traffic', () => {
    assert.equal(startProblem(route([t('a', 1)]), 'n'), undefined);
    assert.equal(startProblem(route([t('a', 90), t('n', 10)]), 'n'), undefined);
    assert.match(startProblem(route([], { alias: 'x.', policy: undefined }), 'n')!, /alias of x\./);
    assert.match(startProblem(route([t('a', 1)], { policy: 'fanout' }), 'n')!, /fanout/);
    assert.match(startProblem(route([t('a', 1), t('n', 1, 20)]), 'n')!, /failover target \(priority 20/);
    assert.match(startProblem(route([t('a', 1), t('n', 1), t('n', 2)]), 'n')!, /on it 2 times/);
    assert.match(startProblem(route([t('n', 1), t('fb', 1, 20)]), 'n')!, /already gets all/);
    assert.match(startProblem(route([t('n', 1), t('a', 0)]), 'n')!, /already gets all/);
  });

  it('tells the route a step wrote from one whose targets were changed since; TTL and metadata are not its own', () => {
    const saved = route([t('a', 1)], { metadata: { k: 'v' } });
    const state = { written: targetsAt(saved.targets, 'n', 10) } as RolloutState;
    const stored = (over: Partial<SavedRoute> = {}) => ({
      ...saved,
      targets: state.written,
      zone: 'z.',
      serial: 3,
      ...over,
    });
    assert.ok(isAsWritten(stored(), state));
    assert.ok(!isAsWritten(undefined, state));
    assert.ok(!isAsWritten(stored({ targets: [t('a', 9000), t('n', 1001)] }), state));
    assert.ok(!isAsWritten(stored({ targets: [t('a', 9000), t('n', 1000, 11)] }), state), 'priority');
    assert.ok(!isAsWritten(stored({ targets: [t('n', 1000), t('a', 9000)] }), state), 'order');
    assert.ok(!isAsWritten(stored({ targets: [t('a', 9000)] }), state));
    assert.ok(!isAsWritten(stored({ policy: 'fanout' }), state));
    assert.ok(!isAsWritten(stored({ alias: 'x.', policy: undefined, targets: [] }), state));
    assert.ok(isAsWritten(stored({ ttl: 61 }), state), 'a TTL change is not the rollout’s business');
    assert.ok(isAsWritten(stored({ metadata: { k: 'w' } }), state));
  });

  it('takes TTL and metadata from the route as it is now', () => {
    const saved = route([t('a', 1)], { ttl: 60, metadata: { k: 'v' } });
    const at = routeAt(saved, 'n', 50, { ttl: 3600, metadata: { k: 'w' } });
    assert.deepEqual(at, {
      policy: 'weighted',
      ttl: 3600,
      targets: [t('a', 5000), t('n', 5000)],
      metadata: { k: 'w' },
    });
  });
});
