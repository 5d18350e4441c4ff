/**
 * `psarn rollout start|status|pause|resume|promote|abort` in-process on a temp database
 * (docs/cli.md#psarn-rollout): what each prints and writes, and that abort restores the route
 * byte for byte.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Store } from '../../src/store/store.js';
import { Sandbox, usage } from '../cli/helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const A = 'arn:aws:psarn:us-east-1:123456789012';
const P = `${A}:orders/created`;
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const V1 = `${FN}orders-v1`;
const V0 = `${FN}orders-v0`;
const FB = `${FN}orders-fallback`;
const V2 = `${FN}orders-v2`;
const NOW = Date.parse('2026-12-03T12:00:00.000Z');

describe('psarn rollout', () => {
  let s: Sandbox;
  const run = (argv: string[]) => s.run(argv, { wallClock: () => NOW });
  const ok = async (argv: string[]) => {
    const r = await run(argv);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const routeJson = async () => {
    const { serial: _s, updatedAt: _u, ...rest } = JSON.parse(await ok(['route', 'get', P, '--json']));
    return rest;
  };
  /** The route's whole stored form, as abort must restore it. */
  const stored = () => {
    const store = Store.open(s.db, { create: false });
    try {
      const { serial: _s, updatedAt: _u, ...rest } = store.getRoute(ZONE, 'orders/created')!;
      return JSON.stringify(rest);
    } finally {
      store.close();
    }
  };

  before(() => {
    s = new Sandbox();
  });
  after(() => s.cleanup());
  beforeEach(async () => {
    s.cleanup();
    s = new Sandbox();
    s.env.USER = 'alice';
    await ok(['db', 'init']);
    // Failover first, three keys of metadata, two primary targets 2:1, a 1 h TTL.
    await ok([
      'route',
      'set',
      P,
      '--target',
      `${FB}=1@20`,
      '--target',
      `${V1}=2@10`,
      '--target',
      `${V0}=1@10`,
      '--ttl',
      '3600',
      '--meta',
      'team=orders',
      '--meta',
      'z=last',
      '--meta',
      'a=first',
    ]);
  });

  it('start writes the first step at once, prints what changed and when the next step is due', async () => {
    const out = await ok(['rollout', 'start', P, '--to', V2, '--steps', '10,50', '--every', '90s']);
    assert.equal(
      out,
      [
        `started rollout #1 of ${P} to ${V2}: 10% 50% 100% every 1m30s`,
        `updated ${P} (zone ${ZONE} serial 3)`,
        `  target ${V1}: weight 2 → 6000`,
        `  target ${V0}: weight 1 → 3000`,
        `  target ${V2}: (none) → weight 1000, priority 10`,
        `next: 50% at 2026-12-03T12:01:30.000Z; the primary psarnd takes the steps ('psarn rollout status ${P}')`,
        '',
      ].join('\n'),
    );
    const route = await routeJson();
    assert.equal(route.ttl, 3600);
    assert.deepEqual(route.metadata, { team: 'orders', z: 'last', a: 'first' });
    assert.deepEqual(
      route.targets.map((t: { target: string; weight: number; priority: number }) => [t.target, t.weight, t.priority]),
      [
        [FB, 1, 20],
        [V1, 6000, 10],
        [V0, 3000, 10],
        [V2, 1000, 10],
      ],
    );
    const store = Store.open(s.db, { create: false });
    try {
      const [op] = store.operations({ kind: 'rollout' });
      assert.equal(op!.status, 'running');
      assert.equal(op!.dueAt, NOW + 90_000);
      assert.equal(op!.actor, 'user:alice');
      assert.equal(store.journal(ZONE).at(-1)!.actor, 'user:alice', 'one transaction: the route step and the rollout');
      assert.equal(store.journal(ZONE).at(-1)!.serial, 3);
    } finally {
      store.close();
    }
  });

  it('status lists rollouts in progress and shows one as a block or JSON', async () => {
    assert.equal(await ok(['rollout', 'status']), 'no rollout in progress\n');
    assert.equal((await run(['rollout', 'status', P])).status, 1, 'no rollout of the route yet');
    await ok(['rollout', 'start', P, '--to', V2, '--preset', 'canary10-5m']);
    const list = await ok(['rollout', 'status']);
    assert.match(
      list,
      /^ID +STATUS +STEP +NEXT +PSARN +TO\n#1 +running +1\/2 10% +2026-12-03T12:05:00.000Z +arn:aws:psarn:/,
    );
    const block = await run(['rollout', 'status', P]);
    assert.match(block.stdout, /^rollout: +#1$/m);
    assert.match(block.stdout, /^steps: +10% 100% every 5m \(preset canary10-5m\)$/m);
    assert.match(block.stdout, /^next: +100% at 2026-12-03T12:05:00.000Z \(in 5m\)$/m);
    assert.match(block.stdout, /^started: +2026-.* by user:alice$/m);
    const view = JSON.parse(await ok(['rollout', 'status', P, '--json']));
    assert.equal(view.id, 1);
    assert.equal(view.psarn, P);
    assert.equal(view.to, V2);
    assert.equal(view.status, 'running');
    assert.equal(view.step, 1);
    assert.deepEqual(view.steps, [10, 100]);
    assert.equal(view.percent, 10);
    assert.equal(view.every, '5m');
    assert.equal(view.preset, 'canary10-5m');
    assert.equal(view.nextStepAt, '2026-12-03T12:05:00.000Z');
    assert.equal(view.nextPercent, 100);
    assert.equal(view.startedBy, 'user:alice');
    assert.deepEqual(JSON.parse(await ok(['rollout', 'status', '--json'])), [view]);
  });

  it('pause keeps the route, says who paused; resume re-arms one interval from now', async () => {
    await ok(['rollout', 'start', P, '--to', V2, '--steps', '10,50', '--every', '1m']);
    const before = stored();
    assert.equal(
      await ok(['rollout', 'pause', P]),
      `paused rollout #1 of ${P} at step 1 of 3 (10%); the route stays as it is\n`,
    );
    assert.equal(stored(), before);
    const view = JSON.parse(await ok(['rollout', 'status', P, '--json']));
    assert.equal(view.status, 'paused');
    assert.equal(view.pauseReason, 'paused by user:alice');
    assert.equal(view.nextStepAt, undefined);
    assert.match(await ok(['rollout', 'status']), /^#1 paused: paused by user:alice$/m);
    assert.equal((await run(['rollout', 'pause', P])).status, 2, 'not running');
    const r = await run(['rollout', 'resume', P]);
    assert.equal(r.stdout, `resumed rollout #1 of ${P} at step 1 of 3 (10%); next: 50% at 2026-12-03T12:01:00.000Z\n`);
    assert.equal(r.stderr, '');
    const resumed = JSON.parse(await ok(['rollout', 'status', P, '--json']));
    assert.equal(resumed.status, 'running');
    assert.equal(resumed.pauseReason, undefined);
    assert.match((await run(['rollout', 'resume', P])).stderr, /is running, not paused/);
  });

  it('resume after a change by hand warns who changed it and takes the route as it is', async () => {
    await ok(['rollout', 'start', P, '--to', V2, '--steps', '10,50']);
    await ok(['rollout', 'pause', P]);
    s.env.USER = 'bob';
    await ok(['route', 'weight', P, `${V2}=2000`]);
    s.env.USER = 'alice';
    const r = await run(['rollout', 'resume', P]);
    assert.equal(r.status, 0);
    assert.match(
      r.stderr,
      /^psarn: warning: the route was changed by user:bob \(serial 4\) since step 1 of 3 \(10%\); the next step replaces/,
    );
  });

  it('promote writes the new target alone in the primary group at once, failover kept', async () => {
    await ok(['rollout', 'start', P, '--to', V2, '--preset', 'linear10-1m']);
    const out = await ok(['rollout', 'promote', P]);
    assert.match(out, new RegExp(`^promoted rollout #1 of ${P}: ${V2} has all of the primary traffic\nupdated `));
    const route = await routeJson();
    assert.deepEqual(
      route.targets.map((t: { target: string; weight: number; priority: number }) => [t.target, t.weight, t.priority]),
      [
        [FB, 1, 20],
        [V2, 1, 10],
      ],
    );
    const view = JSON.parse(await ok(['rollout', 'status', P, '--json']));
    assert.equal(view.status, 'done');
    assert.equal(view.endReason, 'promoted by user:alice');
    assert.equal((await run(['rollout', 'promote', P])).status, 1, 'nothing in progress any more');
  });

  it('abort restores the route byte for byte: targets in order, weights, priorities, TTL, metadata', async () => {
    const before = stored();
    const beforeJson = await routeJson();
    await ok(['rollout', 'start', P, '--to', V2, '--steps', '30,60']);
    assert.notEqual(stored(), before);
    const out = await ok(['rollout', 'abort', P]);
    assert.equal(
      out,
      [
        `aborted rollout #1 of ${P}: the route is as before the rollout`,
        `updated ${P} (zone ${ZONE} serial 4)`,
        `  target ${V1}: weight 4667 → 2`,
        `  target ${V0}: weight 2333 → 1`,
        `  target ${V2}: weight 3000, priority 10 → (none)`,
        '',
      ].join('\n'),
    );
    assert.equal(stored(), before);
    assert.deepEqual(await routeJson(), beforeJson);
    assert.equal(JSON.parse(await ok(['rollout', 'status', P, '--json'])).status, 'aborted');
    // A new rollout may start once the last one ended.
    await ok(['rollout', 'start', P, '--to', V2, '--steps', '50']);
  });

  it('without --preset or --steps takes the steps 10,25,50,100, at --every when given', async () => {
    await ok(['rollout', 'start', P, '--to', V2, '--every', '1s']);
    const view = JSON.parse(await ok(['rollout', 'status', P, '--json']));
    assert.deepEqual(
      [view.steps, view.everyMs, view.step, view.percent, view.preset],
      [[10, 25, 50, 100], 1000, 1, 10, undefined],
    );
  });

  it('blue/green (--steps 100) switches at once and is done', async () => {
    const out = await ok(['rollout', 'start', P, '--to', V2, '--steps', '100']);
    assert.match(out, /: 100% at once\n/);
    assert.match(out, new RegExp(`rollout #1 done: ${V2} has all of the primary traffic\n$`));
    assert.equal(JSON.parse(await ok(['rollout', 'status', P, '--json'])).status, 'done');
    assert.equal(await ok(['rollout', 'status']), 'no rollout in progress\n');
  });

  it('refuses what it cannot roll out, and writes nothing then', async () => {
    const before = stored();
    const refused = async (argv: string[], status: number, pattern: RegExp) => {
      const r = await run(argv);
      assert.equal(r.status, status, r.stderr);
      assert.match(r.stderr, /^psarn: [^\n]+\n$/);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, '');
    };
    await refused(['rollout', 'start', `${A}:orders/missing`, '--to', V2], 1, /route '.*orders\/missing' not found/);
    await refused(['rollout', 'start', P, '--to', FB], 2, /failover target \(priority 20, the primary group is 10\)/);
    await ok(['route', 'set', `${A}:fan`, '--target', V1, '--policy', 'fanout']);
    await refused(['rollout', 'start', `${A}:fan`, '--to', V2], 2, /policy is fanout/);
    await ok(['route', 'alias', `${A}:al`, P]);
    await refused(['rollout', 'start', `${A}:al`, '--to', V2], 2, /is an alias of .*orders\/created/);
    assert.equal(stored(), before);
    await ok(['rollout', 'start', P, '--to', V2, '--steps', '10']);
    await refused(['rollout', 'start', P, '--to', V2, '--steps', '20'], 2, /already has rollout #1 \(running\)/);
    await refused(['rollout', 'abort', `${A}:fan`], 1, /no rollout in progress/);
  });

  it('refuses a held route', async () => {
    const store = Store.open(s.db, { create: false });
    try {
      const route = store.getRoute(ZONE, 'orders/created')!;
      const { zone: _z, serial: _s, ...saved } = route;
      store.insertOperation({ zone: ZONE, path: 'orders/created', kind: 'hold', status: 'held', saved, state: {} });
    } finally {
      store.close();
    }
    const r = await run(['rollout', 'start', P, '--to', V2]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /it is held \(hold #1\); release it first/);
  });

  it('checks its arguments before opening the database', () => {
    assert.match(usage(['rollout', 'start', P]).message, /missing --to/);
    assert.match(usage(['rollout', 'start', P, '--to', 'lambda:v2']).message, /^--to: invalid target/);
    assert.match(usage(['rollout', 'start', P, '--to', V2, '--steps', '50,10']).message, /must increase/);
    assert.match(usage(['rollout', 'start', P, '--to', V2, '--every', '5']).message, /^--every: invalid duration '5'/);
    assert.match(usage(['rollout', 'start', P, '--to', V2, '--preset', 'canary']).message, /unknown --preset/);
    assert.match(
      usage(['rollout', 'start', P, '--to', V2, '--preset', 'canary10-5m', '--steps', '10']).message,
      /give --preset or --steps/,
    );
    assert.match(usage(['rollout', 'start', P, '--to', V2, '--abort-if', 'up == 0']).message, /needs --prometheus URL/);
    assert.match(
      usage(['rollout', 'start', P, '--to', V2, '--prometheus', 'http://p:9090']).message,
      /without --abort-if/,
    );
    assert.match(
      usage(['rollout', 'start', P, '--to', V2, '--abort-if', 'up', '--prometheus', 'ftp://p']).message,
      /invalid --prometheus 'ftp:\/\/p'/,
    );
    assert.match(
      usage(['rollout', 'start', P, '--to', V2, '--steps', '100', '--abort-if', 'up', '--prometheus', 'http://p:9090'])
        .message,
      /this rollout has one step/,
    );
    assert.match(usage(['rollout', 'pause']).message, /missing <psARN>/);
    assert.match(usage(['rollout', 'status', P, P]).message, /unexpected argument/);
  });

  it('keeps the gate in the rollout', async () => {
    await ok([
      'rollout',
      'start',
      P,
      '--to',
      V2,
      '--preset',
      'canary10-15m',
      '--abort-if',
      'sum(rate(psarn_client_errors_total[1m])) > 0',
      '--prometheus',
      'http://127.0.0.1:9090',
    ]);
    const view = JSON.parse(await ok(['rollout', 'status', P, '--json']));
    assert.deepEqual(view.gate, {
      query: 'sum(rate(psarn_client_errors_total[1m])) > 0',
      prometheus: 'http://127.0.0.1:9090',
    });
    assert.match(
      await ok(['rollout', 'status', P]),
      /^gate: +sum\(rate\(psarn_client_errors_total\[1m\]\)\) > 0 at http:\/\/127.0.0.1:9090$/m,
    );
  });

  it('never shows the password of a --prometheus URL in status, plain or JSON', async () => {
    await ok([
      'rollout',
      'start',
      P,
      '--to',
      V2,
      '--preset',
      'canary10-15m',
      '--abort-if',
      'sum(rate(psarn_client_errors_total[1m])) > 0',
      '--prometheus',
      'http://ops:s3cret@127.0.0.1:9090',
    ]);
    const view = JSON.parse(await ok(['rollout', 'status', P, '--json']));
    assert.equal(view.gate.prometheus, 'http://ops:***@127.0.0.1:9090/');
    const plain = await ok(['rollout', 'status', P]);
    assert.doesNotMatch(plain, /s3cret/);
    assert.match(plain, /^gate: .* at http:\/\/ops:\*\*\*@127\.0\.0\.1:9090\/$/m);
  });

  it('over --server: arguments checked before connecting (exit 2), then sent to the server (docs/design.md#remote-operations)', async () => {
    const bad = await s.run(['rollout', 'start', P, '--to', V2, '--steps', '50,10', '--server', '127.0.0.1:1']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /percents must increase/);
    const r = await s.run(['rollout', 'status', '--server', '127.0.0.1:1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach server 127\.0\.0\.1:1/);
  });

  it('has help', async () => {
    assert.match(await ok(['help', 'rollout']), /rollout start +shift a route to a new target/);
    assert.match(await ok(['rollout', 'start', '--help']), /--preset P +canary10-5m/);
  });
});
