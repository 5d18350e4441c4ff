/**
 * PsarnClient end to end against the real psarnd (demo routes), with recording invokers standing
 * in for the targets: proportions, failover, fanout, errors, query counts and the epoch flush.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PsarnClient } from '../../src/client/client.js';
import { PsarnClientError } from '../../src/client/errors.js';
import type { InvokeRequest, Invoker } from '../../src/client/invokers/invoker.js';
import { NONE } from '../../src/client/selection.js';
import { pickSticky } from '../../src/client/sticky.js';
import type { RouteTarget } from '../../src/client/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { prng } from '../wire/build.js';

const ACCOUNT = 'arn:aws:psarn:us-east-1:123456789012';
const CREATED = `${ACCOUNT}:orders/created`;

/** Handles every ARN; records calls; fails for targets in `failing`. */
class Recorder implements Invoker {
  readonly service = 'recorder';
  readonly calls: InvokeRequest[] = [];
  readonly failing = new Set<string>();
  canInvoke(target: string): boolean {
    return target.startsWith('arn:');
  }
  async invoke(request: InvokeRequest) {
    this.calls.push(request);
    if (this.failing.has(request.target)) throw new Error(`${request.target} is down`);
    return { id: `ok-${this.calls.length}` };
  }
  count(suffix: string): number {
    return this.calls.filter((c) => c.target.endsWith(suffix)).length;
  }
}

describe('PsarnClient against psarnd', () => {
  let d: RunningDaemon;
  const cli = (...args: string[]) => cliOn(d, ...args);

  before(async () => {
    d = await startPsarnd();
  });
  after(async () => {
    await d?.stop();
  });

  const client = (recorder: Recorder, extra: Record<string, unknown> = {}) =>
    new PsarnClient({ servers: [`${d.dns.host}:${d.dns.port}`], invokers: [recorder], ...extra });

  it('splits the demo canary 90/10 within a couple of points, with one DNS query', async () => {
    const recorder = new Recorder();
    const c = client(recorder, { random: prng(42) });
    for (let i = 0; i < 4000; i++) await c.invoke(CREATED, { i });
    const v1 = recorder.count('orders-created-v1') / 40;
    assert.ok(Math.abs(v1 - 90) < 2, `v1 got ${v1}%`);
    assert.equal(recorder.count('orders-created-v1') + recorder.count('orders-created-v2'), 4000);
    assert.equal(c.resolver.queries, 1);
  });

  it('30/50/20 after a route change, within a couple of points', async () => {
    const psarn = `${ACCOUNT}:canary/three`;
    await cli(
      'route',
      'set',
      psarn,
      '--target',
      'arn:aws:lambda:us-east-1:123456789012:function:a=30',
      '--target',
      'arn:aws:lambda:us-east-1:123456789012:function:b=50',
      '--target',
      'arn:aws:lambda:us-east-1:123456789012:function:c=20',
    );
    const recorder = new Recorder();
    const c = client(recorder, { random: prng(7) });
    for (let i = 0; i < 5000; i++) await c.invoke(psarn, i);
    for (const [fn, pct] of [
      ['a', 30],
      ['b', 50],
      ['c', 20],
    ] as const) {
      const got = recorder.count(`:function:${fn}`) / 50;
      assert.ok(Math.abs(got - pct) < 2, `${fn}: ${got}% vs ${pct}%`);
    }
  });

  it('fails over to the priority-20 backup when the primary fails', async () => {
    const recorder = new Recorder();
    recorder.failing.add('arn:aws:lambda:us-east-1:123456789012:function:payments-charge');
    const result = await client(recorder).invoke(`${ACCOUNT}:payments/charge`, { amount: 1 });
    assert.deepEqual(
      result.outcomes.map((o) => [o.target.split(':').at(-1), o.ok]),
      [
        ['payments-charge', false],
        ['payments-charge-backup', true],
      ],
    );
  });

  it('fans out to every target of orders/audit', async () => {
    const recorder = new Recorder();
    const result = await client(recorder).invoke(`${ACCOUNT}:orders/audit`, { audit: true });
    assert.equal(result.policy, 'fanout');
    assert.deepEqual(recorder.calls.map((c) => c.target).sort(), [
      'arn:aws:sns:us-east-1:123456789012:orders-audit',
      'arn:aws:sqs:us-east-1:123456789012:orders-audit',
    ]);
    assert.ok(recorder.calls.every((c) => JSON.stringify(c.payload) === '{"audit":true}'));
  });

  it('rejects with every cause when every target fails: the event is never dropped silently', async () => {
    const recorder = new Recorder();
    recorder.failing.add('arn:aws:lambda:us-east-1:123456789012:function:payments-charge');
    recorder.failing.add('arn:aws:lambda:us-east-1:123456789012:function:payments-charge-backup');
    await assert.rejects(client(recorder).invoke(`${ACCOUNT}:payments/charge`, 1), (err: unknown) => {
      assert.ok(err instanceof PsarnClientError);
      assert.equal(err.code, 'ERR_ALL_TARGETS_FAILED');
      assert.equal(err.failures.length, 2);
      assert.match(err.message, /payments-charge-backup is down/);
      return true;
    });
  });

  it('an unknown psARN rejects with ERR_ROUTE_NOT_FOUND; a malformed one with ERR_INVALID_PSARN', async () => {
    const c = client(new Recorder());
    await assert.rejects(c.invoke(`${ACCOUNT}:orders/nope`, 1), { code: 'ERR_ROUTE_NOT_FOUND' });
    await assert.rejects(c.invoke('arn:aws:psarn:us-east-1:1:x', 1), { code: 'ERR_INVALID_PSARN' });
  });

  it('follows the alias orders/latest to the targets of orders/created', async () => {
    const recorder = new Recorder();
    await client(recorder).invoke(`${ACCOUNT}:orders/latest`, 1);
    assert.match(recorder.calls[0]!.target, /orders-created-v[12]$/);
  });

  it('picks up a flush within epochTtl even when the TTL is an hour', async () => {
    const psarn = `${ACCOUNT}:long/lived`;
    await cli('route', 'set', psarn, '--target', 'arn:aws:sqs:us-east-1:123456789012:old', '--ttl', '3600');
    let now = Date.now();
    const recorder = new Recorder();
    const c = client(recorder, { now: () => now, epochTtl: 5 });
    await c.invoke(psarn, 1);
    await cli('route', 'set', psarn, '--target', 'arn:aws:sqs:us-east-1:123456789012:new', '--ttl', '3600');
    await cli('flush', psarn);
    await new Promise((r) => setTimeout(r, 300)); // the daemon picks the change up (polls every 100 ms)
    now += 4000;
    await c.invoke(psarn, 2);
    assert.equal(
      recorder.calls.at(-1)!.target,
      'arn:aws:sqs:us-east-1:123456789012:old',
      'still cached inside epochTtl',
    );
    now += 1500;
    await c.invoke(psarn, 3);
    assert.equal(recorder.calls.at(-1)!.target, 'arn:aws:sqs:us-east-1:123456789012:new');
  });

  it('counts lookups and invocations by target in the registry it is given, never a psARN', async () => {
    const registry = new Registry();
    const recorder = new Recorder();
    const v2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2';
    recorder.failing.add(v2);
    const c = client(recorder, { registry, random: prng(3) });
    for (let i = 0; i < 60; i++) await c.invoke(CREATED, i);
    const text = await registry.metrics();
    const failed = recorder.count('orders-created-v2');
    assert.ok(failed > 0, 'the seed sends some events to v2');
    const line = (target: string, outcome: string, n: number) =>
      `psarn_client_invocations_total{service="recorder",target="${target}",outcome="${outcome}"} ${n}`;
    for (const expected of [
      line(v2, 'error', failed),
      line(v2, 'ok', 0),
      line(v2.replace('v2', 'v1'), 'ok', recorder.count('orders-created-v1')),
    ]) {
      assert.ok(text.includes(expected), `${expected}\nin\n${text}`);
    }
    assert.match(text, /psarn_client_lookups_total\{outcome="hit"\} 59/);
    assert.doesNotMatch(text, /psarn:|orders\/created/, 'never a psARN');
  });
});

describe('PsarnClient sticky picks (docs/design.md#sticky-picks)', () => {
  let d: RunningDaemon;
  const THREE = `${ACCOUNT}:sticky/three`;
  const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
  before(async () => {
    d = await startPsarnd();
    await cliOn(
      d,
      'route',
      'set',
      THREE,
      '--target',
      `${fn('a')}=30`,
      '--target',
      `${fn('b')}=50`,
      '--target',
      `${fn('c')}=20`,
    );
  });
  after(async () => {
    await d?.stop();
  });
  const client = (recorder: Recorder, extra: Record<string, unknown> = {}) =>
    new PsarnClient({ servers: [`${d.dns.host}:${d.dns.port}`], invokers: [recorder], ...extra });

  it('invoke with a key sends every event of the key to the target pickSticky names, and hands the key on', async () => {
    const recorder = new Recorder();
    // A random source that would spread the events: the key must win over it.
    const c = client(recorder, { random: prng(3) });
    const route = await c.resolve(THREE);
    for (const key of ['tenant-1', 'tenant-2', 'order-9']) {
      const want = route.targets[pickSticky(route.targets, key)]!.target;
      for (let i = 0; i < 20; i++) await c.invoke(THREE, { i }, { key });
      const got = new Set(recorder.calls.filter((call) => call.key === key).map((call) => call.target));
      assert.deepEqual([...got], [want], key);
    }
  });

  it('without a key the picks stay random', async () => {
    const recorder = new Recorder();
    const c = client(recorder, { random: prng(3) });
    for (let i = 0; i < 60; i++) await c.invoke(THREE, i);
    assert.equal(new Set(recorder.calls.map((call) => call.target)).size, 3);
    assert.ok(recorder.calls.every((call) => call.key === undefined));
  });

  it('fails over in the same order for a key, every time; pick(route, key) lists that order', async () => {
    const recorder = new Recorder();
    const c = client(recorder);
    const route = await c.resolve(THREE);
    const order = c.pick(route, 'tenant-7').map((x) => x.target);
    assert.equal(order.length, 3);
    assert.deepEqual(
      c.pick(route, 'tenant-7').map((x) => x.target),
      order,
    );
    recorder.failing.add(order[0]!);
    for (let i = 0; i < 5; i++) {
      const result = await c.invoke(THREE, i, { key: 'tenant-7' });
      assert.deepEqual(
        result.outcomes.map((o) => [o.target, o.ok]),
        [
          [order[0], false],
          [order[1], true],
        ],
      );
    }
  });

  it('pick on a fanout route lists every target with weight, key or not', async () => {
    const c = client(new Recorder());
    const audit = await c.resolve(`${ACCOUNT}:orders/audit`);
    assert.deepEqual(
      c.pick(audit, 'k').map((x) => x.target),
      audit.targets.map((x) => x.target),
    );
    const result = await c.invoke(`${ACCOUNT}:orders/audit`, 1, { key: 'k' });
    assert.equal(result.outcomes.length, 2);
  });

  it("takes a picker of the caller's own, and refuses one that repeats itself", async () => {
    const recorder = new Recorder();
    const last = (targets: readonly RouteTarget[], _key: string, tried?: ReadonlySet<number>) => {
      for (let i = targets.length - 1; i >= 0; i--) if (!tried?.has(i)) return i;
      return NONE;
    };
    const c = client(recorder, { picker: last });
    const route = await c.resolve(THREE);
    await c.invoke(THREE, 1, { key: 'x' });
    assert.equal(recorder.calls[0]!.target, route.targets.at(-1)!.target);
    assert.deepEqual(c.pick(route, 'x'), [...route.targets].reverse());

    recorder.failing.add(route.targets.at(-1)!.target);
    const stuck = client(recorder, { picker: () => route.targets.length - 1 });
    await assert.rejects(stuck.invoke(THREE, 1, { key: 'x' }), {
      code: 'ERR_INVALID_OPTION',
      message: /picker returned 2/,
    });
    assert.throws(() => client(recorder, { picker: 'rendezvous' }), { code: 'ERR_INVALID_OPTION' });
  });

  it('refuses a key that is not a string', async () => {
    const c = client(new Recorder());
    await assert.rejects(c.invoke(THREE, 1, { key: 42 as unknown as string }), {
      code: 'ERR_INVALID_OPTION',
      message: /use String\(id\)/,
    });
  });
});

describe('PsarnClient with psarnd down', () => {
  it('keeps invoking from stale routes, marked stale, without waiting on the dead server each time', async (t) => {
    const d = await startPsarnd();
    t.after(() => d.stop()); // when an assertion fails first (stop is idempotent)
    let now = Date.now();
    const recorder = new Recorder();
    const c = new PsarnClient({
      servers: [`${d.dns.host}:${d.dns.port}`],
      invokers: [recorder],
      now: () => now,
      timeoutMs: 200,
      tries: 1,
    });
    const fresh = await c.invoke(CREATED, 1);
    assert.equal(fresh.stale, false);
    await d.stop();
    now += 301_000; // past the demo route's 300 s TTL
    const first = await c.invoke(CREATED, 2);
    assert.equal(first.stale, true);
    const started = performance.now();
    for (let i = 0; i < 100; i++) assert.equal((await c.invoke(CREATED, i)).stale, true);
    assert.ok(performance.now() - started < 1000, 'stale answers come at once inside the 30 s re-check window');
    assert.equal(recorder.calls.length, 102, 'every event reached a target');
  });
});
