/**
 * The web console's JSON API (src/server/console-api.ts) over a real store: the views, the
 * bounds (pages of routes), the errors with their stable codes, the version token moving with
 * each kind of change, and the queue depth of a hold read from an SQS stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { holdRoute } from '../../src/ops/hold.js';
import { startRollout } from '../../src/ops/rollout-ops.js';
import { psarnToName } from '../../src/psarn/name.js';
import { ConsoleApi } from '../../src/server/console-api.js';
import { QueueDepths } from '../../src/server/console-queue.js';
import { Store } from '../../src/store/store.js';
import { type FakeSqs, startFakeSqs } from '../helpers/fake-sqs.js';
import { PARAMS, tempDir, ZONE } from '../store/helpers.js';

const NS = 'psarn.internal.';
const ACCOUNT_PSARN = 'arn:aws:psarn:us-east-1:123456789012';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:orders-held';
const LAMBDA = (n: string) => `arn:aws:lambda:us-east-1:123456789012:function:${n}`;

const tmp = tempDir();
after(tmp.cleanup);

describe('console API', () => {
  let store: Store;
  let reader: Store;
  let sqs: FakeSqs;
  let api: ConsoleApi;
  let clock = 1_800_000_000_000;
  const get = (path: string, query: Record<string, string> = {}) =>
    api.handle(`/api/v1/${path}`, new URLSearchParams(query));

  before(async () => {
    const file = tmp.file('api.db');
    store = Store.open(file, { create: true });
    store.setRoute(
      ZONE,
      'orders/created',
      {
        policy: 'weighted',
        ttl: 60,
        targets: [
          { target: LAMBDA('v1'), weight: 90, priority: 10 },
          { target: LAMBDA('v2'), weight: 10, priority: 10 },
          { target: LAMBDA('backup'), weight: 1, priority: 20 },
        ],
        metadata: { owner: '<b>team</b>' },
      },
      PARAMS,
    );
    store.setRoute(
      ZONE,
      'orders/latest',
      { ttl: 30, alias: psarnToName(`${ACCOUNT_PSARN}:orders/created`, NS) },
      PARAMS,
    );
    sqs = await startFakeSqs();
    sqs.createQueue(QUEUE);
    sqs.send(QUEUE, ['a', 'b', 'c']);
    // The API reads on a connection of its own, as psarnd's does.
    reader = Store.open(file, { readonly: true, create: false });
    api = new ConsoleApi({
      store: () => reader,
      namespace: NS,
      epochTtl: () => 5,
      depths: new QueueDepths({
        clientConfig: { endpoint: sqs.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
        now: () => clock,
      }),
      now: () => clock,
    });
  });
  after(async () => {
    reader?.close();
    store?.close();
    await sqs?.close();
  });

  it('lists the zones with serial, epoch and route count', async () => {
    const reply = await get('zones');
    assert.equal(reply.status, 200);
    const body = reply.body as { zones: { name: string; psarn: string; serial: number; routes: number }[] };
    assert.deepEqual(
      body.zones.map((z) => [z.name, z.psarn, z.routes]),
      [[ZONE, `${ACCOUNT_PSARN}:`, 2]],
    );
    assert.equal(body.zones[0]!.serial, store.zone(ZONE)!.serial);
  });

  it('shows a route with its targets, shares, metadata and serial; an alias with its target', async () => {
    const reply = await get('routes', { zone: ZONE });
    assert.equal(reply.status, 200);
    const body = reply.body as { total: number; routes: Record<string, unknown>[]; next?: string };
    assert.equal(body.total, 2);
    assert.equal(body.next, undefined);
    const [created, latest] = body.routes;
    assert.equal(created!.psarn, `${ACCOUNT_PSARN}:orders/created`);
    assert.equal(created!.policy, 'weighted');
    assert.equal(created!.ttl, 60);
    assert.deepEqual(created!.metadata, { owner: '<b>team</b>' });
    assert.deepEqual(
      (created!.targets as { target: string; share: number; role: string }[]).map((t) => [t.target, t.share, t.role]),
      [
        [LAMBDA('v1'), 0.9, 'primary'],
        [LAMBDA('v2'), 0.1, 'primary'],
        [LAMBDA('backup'), 0, 'failover'],
      ],
    );
    assert.equal(latest!.alias, psarnToName(`${ACCOUNT_PSARN}:orders/created`, NS));
    assert.equal(latest!.aliasPsarn, `${ACCOUNT_PSARN}:orders/created`);
    assert.deepEqual(latest!.targets, []);
  });

  it('takes a zone as a psARN too, and answers a stable code for a bad or unknown one', async () => {
    assert.equal((await get('routes', { zone: `${ACCOUNT_PSARN}:` })).status, 200);
    const bad = await get('routes', { zone: 'not a zone' });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error: { code: string } }).error.code, 'ERR_BAD_REQUEST');
    const unknown = await get('routes', { zone: '999999999999.us-east-1.aws.psarn.internal.' });
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as { error: { code: string } }).error.code, 'ERR_ZONE_NOT_FOUND');
    const missing = await get('routes');
    assert.equal((missing.body as { error: { code: string } }).error.code, 'ERR_BAD_REQUEST');
    const limit = await get('routes', { zone: ZONE, limit: '100000' });
    assert.equal(limit.status, 400, 'a page is bounded');
    const nope = await get('nope');
    assert.equal(nope.status, 404);
    assert.equal((nope.body as { error: { code: string } }).error.code, 'ERR_NOT_FOUND');
  });

  it('pages through a large zone in path order, each page bounded', async () => {
    const zone = '210987654321.us-east-1.aws.psarn.internal.';
    store.editRoutes(
      zone,
      Array.from({ length: 450 }, (_, i) => ({
        path: `bulk/r${String(i).padStart(4, '0')}`,
        make: () => ({
          policy: 'fanout' as const,
          ttl: 60,
          targets: [{ target: LAMBDA('x'), weight: 1, priority: 10 }],
        }),
      })),
      PARAMS,
    );
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const reply = await get('routes', { zone, limit: '200', ...(after === undefined ? {} : { after }) });
      const body = reply.body as { total: number; routes: { path: string }[]; next?: string };
      assert.equal(body.total, 450);
      assert.ok(body.routes.length <= 200);
      seen.push(...body.routes.map((r) => r.path));
      after = body.next;
      if (after === undefined) break;
    }
    assert.equal(seen.length, 450);
    assert.deepEqual(seen, [...seen].sort());
    assert.equal(new Set(seen).size, 450);
    store.deleteZone(zone);
  });

  it('moves the version token of routes on a route change, of operations on a hold, and of callers on a caller save', async () => {
    const v0 = (await get('version')).body as Record<string, string>;
    assert.deepEqual((await get('version')).body, v0, 'nothing changed, same token');
    store.setRoute(
      ZONE,
      'orders/new',
      { policy: 'fanout', ttl: 60, targets: [{ target: LAMBDA('n'), weight: 1, priority: 10 }] },
      PARAMS,
    );
    const v1 = (await get('version')).body as Record<string, string>;
    assert.notEqual(v1.routes, v0.routes);
    assert.equal(v1.operations, v0.operations);
    store.saveCallers([
      {
        caller: 'billing',
        name: psarnToName(`${ACCOUNT_PSARN}:orders/new`, NS),
        reporter: '',
        serial: 1,
        firstSeen: clock,
        lastSeen: clock,
        lookups: 1,
      },
    ]);
    const v2 = (await get('version')).body as Record<string, string>;
    assert.equal(v2.routes, v1.routes);
    assert.notEqual(v2.callers, v1.callers);
    holdRoute(store, { zone: ZONE, path: 'orders/new', queue: QUEUE, params: PARAMS, actor: 'user:test' });
    const v3 = (await get('version')).body as Record<string, string>;
    assert.notEqual(v3.operations, v2.operations);
    assert.notEqual(v3.version, v2.version);
  });

  it('shows a hold with the depth of its queue from SQS, cached, and a rollout with its step', async () => {
    const started = startRollout(
      { store, params: PARAMS, actor: 'user:test', now: clock },
      { zone: ZONE, path: 'orders/created', to: LAMBDA('v3'), schedule: { steps: [10, 50, 100], everyMs: 60_000 } },
    );
    assert.ok('op' in started);
    const reply = await get('operations');
    assert.equal(reply.status, 200);
    const body = reply.body as {
      rollouts: { psarn: string; to: string; step: number; percent: number; status: string }[];
      holds: { psarn: string; queue: string; depth: { messages?: number; unknown?: string } }[];
    };
    assert.deepEqual(
      body.rollouts.map((r) => [r.psarn, r.to, r.status, r.step, r.percent]),
      [[`${ACCOUNT_PSARN}:orders/created`, LAMBDA('v3'), 'running', 1, 10]],
    );
    assert.deepEqual(
      body.holds.map((h) => [h.psarn, h.queue, h.depth.messages]),
      [[`${ACCOUNT_PSARN}:orders/new`, QUEUE, 3]],
    );
    const calls = sqs.calls.get('GetQueueAttributes');
    sqs.send(QUEUE, ['d']);
    await get('operations');
    assert.equal(sqs.calls.get('GetQueueAttributes'), calls, 'asked again only after 30 s');
    clock += 31_000;
    const later = (await get('operations')).body as { holds: { depth: { messages?: number } }[] };
    assert.equal(later.holds[0]!.depth.messages, 4);
    // The routes list marks the route under a rollout and the held one.
    const routes = (await get('routes', { zone: ZONE })).body as {
      routes: { path: string; rollout?: number; hold?: number }[];
    };
    assert.ok(routes.routes.find((r) => r.path === 'orders/created')!.rollout !== undefined);
    assert.ok(routes.routes.find((r) => r.path === 'orders/new')!.hold !== undefined);
  });

  it('says why a queue depth is unknown when SQS cannot be asked, within its timeout', async () => {
    const depths = new QueueDepths({
      timeoutMs: 300,
      clientConfig: { endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } },
    });
    const depth = await depths.depth(QUEUE);
    assert.ok('unknown' in depth, JSON.stringify(depth));
    assert.ok(depth.unknown.length > 0 && depth.unknown.length <= 200);
    const notSqs = await depths.depth('arn:aws:sns:us-east-1:123456789012:topic');
    assert.ok('unknown' in notSqs);
  });

  it('serves the graph of a zone and the callers of a route; bad input has stable codes', async () => {
    const graph = (await get('graph', { zone: ZONE })).body as { nodes: { id: string }[] };
    const ids = graph.nodes.map((n) => n.id);
    assert.ok(ids.includes(`psarn:${ACCOUNT_PSARN}:orders/created`), ids.join(' '));
    assert.ok(ids.includes('caller:billing'), ids.join(' '));
    const callers = await get('callers', { psarn: `${ACCOUNT_PSARN}:orders/new` });
    assert.equal(callers.status, 200);
    const body = callers.body as { total: number; callers: { caller: string; current: boolean }[] };
    assert.equal(body.total, 1);
    assert.deepEqual(
      body.callers.map((c) => [c.caller, c.current]),
      [['billing', false]],
    );
    const none = await get('callers', { psarn: `${ACCOUNT_PSARN}:orders/none` });
    assert.equal(none.status, 404);
    assert.equal((none.body as { error: { code: string } }).error.code, 'ERR_ROUTE_NOT_FOUND');
    const bad = await get('callers', { psarn: 'arn:nope' });
    assert.equal(bad.status, 400);
    assert.equal((await get('callers')).status, 400);
  });

  it('answers 503 ERR_STARTING before the store is open', async () => {
    const starting = new ConsoleApi({ store: () => undefined, namespace: NS, epochTtl: () => 5 });
    const reply = await starting.handle('/api/v1/zones', new URLSearchParams());
    assert.equal(reply.status, 503);
    assert.equal((reply.body as { error: { code: string } }).error.code, 'ERR_STARTING');
  });
});
