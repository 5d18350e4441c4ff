/**
 * The graph's model (docs/design.md#the-graph): shares of weighted, failover and fanout targets,
 * aliases (in the scope, out of it, dangling), rollout and hold marks, the zone and prefix
 * filters, reporters merged, `_epoch` and other names left out, hostile caller ids kept exact,
 * credentials in targets hidden, and the same bytes on every run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildGraph, targetLabel } from '../../src/map/graph.js';
import { edgeShares } from '../../src/map/shares.js';
import type { Graph, GraphEdge, GraphNode } from '../../src/map/types.js';
import { holdRoute } from '../../src/ops/hold.js';
import { startRollout } from '../../src/ops/rollout-ops.js';
import type { CallerRow } from '../../src/store/callers.js';
import { Store } from '../../src/store/store.js';
import { lambda, PARAMS, tempDir, ZONE, ZONE2 } from '../store/helpers.js';

const NS = 'psarn.internal.';
const A = 'arn:aws:psarn:us-east-1:123456789012';
const B = 'arn:aws:psarn:eu-west-1:210987654321';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:parked';

const node = (g: Graph, id: string): GraphNode => {
  const n = g.nodes.find((x) => x.id === id);
  assert.ok(n, `node ${id} in ${g.nodes.map((x) => x.id).join(', ')}`);
  return n;
};
const edge = (g: Graph, from: string, to: string): GraphEdge => {
  const e = g.edges.find((x) => x.from === from && x.to === to);
  assert.ok(e, `edge ${from} -> ${to}`);
  return e;
};
const row = (caller: string, name: string, extra: Partial<CallerRow> = {}): CallerRow => ({
  caller,
  name,
  reporter: '',
  serial: 1,
  firstSeen: 1000,
  lastSeen: 2000,
  lookups: 1,
  ...extra,
});

describe('edgeShares', () => {
  it('gives the lowest priority group its weights, failover and drained 0, fanout 1', () => {
    const targets = [
      { weight: 3, priority: 10 },
      { weight: 1, priority: 10 },
      { weight: 0, priority: 10 },
      { weight: 5, priority: 20 },
    ];
    assert.deepEqual(edgeShares('weighted', targets), [
      { share: 0.75, role: 'primary' },
      { share: 0.25, role: 'primary' },
      { share: 0, role: 'drained' },
      { share: 0, role: 'failover' },
    ]);
    // Route 53's rule: a group of weights 0 splits evenly.
    assert.deepEqual(
      edgeShares('weighted', [
        { weight: 0, priority: 5 },
        { weight: 0, priority: 5 },
        { weight: 9, priority: 6 },
      ]).map((s) => s.share),
      [0.5, 0.5, 0],
    );
    assert.deepEqual(edgeShares('fanout', targets), [
      { share: 1, role: 'primary' },
      { share: 1, role: 'primary' },
      { share: 0, role: 'drained' },
      { share: 1, role: 'primary' },
    ]);
  });
});

describe('buildGraph', () => {
  const tmp = tempDir();
  let store: Store;
  let clock = 1_000_000;
  const orders = `${A}:orders/created`;
  const latest = `${A}:orders/latest`;
  const audit = `${A}:orders/audit`;
  const charge = `${A}:payments/charge`;
  const remote = `${B}:billing/invoice`;
  const toRemote = `${A}:billing/remote`;
  const dangling = `${A}:orders/dangling`;
  const name = (path: string, zone = ZONE) => `${path.split('/').reverse().join('.')}.${zone}`;

  before(() => {
    store = Store.open(tmp.file(), { now: () => clock });
    store.setRoute(
      ZONE,
      'orders/created',
      {
        policy: 'weighted',
        ttl: 300,
        targets: [
          { target: lambda('v1'), weight: 90, priority: 10 },
          { target: lambda('v2'), weight: 10, priority: 10 },
          { target: lambda('backup'), weight: 1, priority: 20 },
        ],
      },
      PARAMS,
    );
    store.setRoute(ZONE, 'orders/latest', { ttl: 60, alias: name('orders/created') }, PARAMS);
    store.setRoute(
      ZONE,
      'orders/audit',
      {
        policy: 'fanout',
        ttl: 30,
        targets: [
          { target: 'arn:aws:sqs:us-east-1:123456789012:audit', weight: 1, priority: 10 },
          { target: 'arn:aws:sns:us-east-1:123456789012:audit', weight: 0, priority: 10 },
        ],
      },
      PARAMS,
    );
    store.setRoute(
      ZONE,
      'payments/charge',
      { policy: 'weighted', ttl: 300, targets: [{ target: lambda('charge'), weight: 1, priority: 10 }] },
      PARAMS,
    );
    store.setRoute(
      ZONE2,
      'billing/invoice',
      {
        policy: 'weighted',
        ttl: 120,
        targets: [{ target: 'https://billing.example.com/hook?token=s3cr3t&v=2', weight: 1, priority: 10 }],
      },
      PARAMS,
    );
    store.setRoute(ZONE, 'billing/remote', { ttl: 300, alias: name('billing/invoice', ZONE2) }, PARAMS);
    store.setRoute(ZONE, 'orders/dangling', { ttl: 300, alias: name('orders/gone') }, PARAMS, { force: true });
    clock += 1000;
    const ctx = { store, params: PARAMS, actor: 'user:test', now: clock };
    const started = startRollout(ctx, {
      zone: ZONE,
      path: 'orders/created',
      to: lambda('v3'),
      schedule: { steps: [10, 50, 100], everyMs: 60_000 },
      gate: { query: 'rate(errors[5m]) > 0', prometheus: 'http://prom:9090' },
    });
    assert.ok('op' in started);
    holdRoute(store, { zone: ZONE, path: 'payments/charge', queue: QUEUE, params: PARAMS });
    store.saveCallers([
      row('checkout', name('orders/created'), { lookups: 5, lastSeen: 5000 }),
      row('checkout', name('orders/created'), { reporter: 'secondary-1', lookups: 7, lastSeen: 9000 }),
      row('checkout', `_epoch.${ZONE}`, { lookups: 50, lastSeen: 9999 }),
      row('reporting', name('orders/latest'), { lookups: 2, lastSeen: 3000 }),
      row('reporting', name('orders/gone'), { lookups: 2, lastSeen: 99999 }),
      row('epoch-only', `_epoch.${ZONE}`),
      row('invoicer', name('billing/invoice', ZONE2), { lookups: 3 }),
    ]);
  });
  after(() => {
    store.close();
    tmp.cleanup();
  });

  it('draws routes to their targets with weight, priority, share and role', () => {
    const g = buildGraph(store, { namespace: NS });
    const route = node(g, `psarn:${orders}`);
    assert.equal(route.kind, 'route');
    assert.equal(route.policy, 'weighted');
    assert.equal(route.ttl, 300);
    assert.equal(route.zone, ZONE);
    assert.equal(route.serial, store.getRoute(ZONE, 'orders/created')!.serial);
    // The rollout's first step: v3 has 10% of the primary group, v1 and v2 share the rest 90:10.
    const at = (t: string) => edge(g, `psarn:${orders}`, `target:${lambda(t)}`);
    assert.equal(at('v3').share, 0.1);
    assert.equal(at('v1').share, 0.81);
    assert.equal(Math.round(at('v2').share! * 1000) / 1000, 0.09);
    assert.deepEqual(
      { ...at('backup') },
      {
        from: `psarn:${orders}`,
        to: `target:${lambda('backup')}`,
        kind: 'routes',
        weight: 1,
        priority: 20,
        share: 0,
        role: 'failover',
      },
    );
    const fan = (t: string) => edge(g, `psarn:${audit}`, `target:arn:aws:${t}:us-east-1:123456789012:audit`);
    assert.deepEqual(
      [fan('sqs').share, fan('sqs').role, fan('sns').share, fan('sns').role],
      [1, 'primary', 0, 'drained'],
    );
    assert.equal(node(g, `psarn:${audit}`).policy, 'fanout');
  });

  it('marks the rollout (id, status, step, target, gate) and the hold (id, queue)', () => {
    const g = buildGraph(store, { namespace: NS });
    const ops = store.operations({ active: true });
    const rollout = ops.find((o) => o.kind === 'rollout')!;
    const hold = ops.find((o) => o.kind === 'hold')!;
    assert.deepEqual(node(g, `psarn:${orders}`).rollout, {
      id: rollout.id,
      status: 'running',
      step: '10%',
      to: lambda('v3'),
      gate: 'rate(errors[5m]) > 0',
    });
    assert.equal(node(g, `psarn:${orders}`).hold, undefined);
    assert.deepEqual(node(g, `psarn:${charge}`).hold, { id: hold.id, queue: QUEUE });
    assert.deepEqual(
      g.edges.filter((e) => e.from === `psarn:${charge}`).map((e) => [e.to, e.share]),
      [[`target:${QUEUE}`, 1]],
    );
    assert.equal(node(g, `psarn:${audit}`).rollout, undefined);
  });

  it('draws aliases as edges, follows them out of the zone, and marks a dangling one', () => {
    const g = buildGraph(store, { namespace: NS });
    assert.equal(node(g, `psarn:${latest}`).kind, 'alias');
    assert.equal(node(g, `psarn:${latest}`).ttl, 60);
    assert.equal(edge(g, `psarn:${latest}`, `psarn:${orders}`).kind, 'alias');
    assert.equal(edge(g, `psarn:${toRemote}`, `psarn:${remote}`).kind, 'alias');
    const gone = node(g, `psarn:${A}:orders/gone`);
    assert.deepEqual([gone.kind, gone.missing, gone.zone], ['route', true, ZONE]);
    assert.equal(edge(g, `psarn:${dangling}`, `psarn:${A}:orders/gone`).kind, 'alias');
    // Only an alias's own edge: no alias edges from routes.
    assert.equal(g.edges.filter((e) => e.kind === 'alias').length, 3);
  });

  it('merges reporters: lookups summed, the last lookup the latest; _epoch and names of no route not drawn', () => {
    const g = buildGraph(store, { namespace: NS });
    const calls = edge(g, 'caller:checkout', `psarn:${orders}`);
    assert.deepEqual([calls.kind, calls.lookups, calls.lastSeen], ['calls', 12, 9000]);
    assert.equal(node(g, 'caller:checkout').lastSeen, 9000);
    assert.equal(g.edges.filter((e) => e.from === 'caller:checkout').length, 1, 'no edge to _epoch');
    assert.ok(!g.nodes.some((n) => n.id === 'caller:epoch-only'), 'a caller of _epoch only is not drawn');
    assert.ok(!g.nodes.some((n) => n.label.startsWith('_epoch')));
    // reporting asked for orders/gone too (a dangling alias's end): no route, no edge; its node keeps the drawn lookup's time.
    assert.deepEqual(
      g.edges.filter((e) => e.from === 'caller:reporting').map((e) => e.to),
      [`psarn:${latest}`],
    );
    assert.equal(node(g, 'caller:reporting').lastSeen, 3000);
  });

  it('limits to a zone, or a psARN prefix, with the callers of its routes and where its aliases lead', () => {
    const g = buildGraph(store, { namespace: NS, zone: ZONE2 });
    assert.equal(g.zone, ZONE2);
    assert.deepEqual(
      g.nodes.map((n) => n.id),
      ['caller:invoicer', `psarn:${remote}`, 'target:https://billing.example.com/hook?token=…&v=…'],
    );
    const one = buildGraph(store, { namespace: NS, zone: `${A}:billing` });
    assert.deepEqual([one.zone, one.prefix], [ZONE, 'billing']);
    // The alias in the prefix, and the route of the other zone it leads to, with its target; not that route's callers.
    assert.deepEqual(
      one.nodes.map((n) => n.id),
      [`psarn:${remote}`, `psarn:${toRemote}`, 'target:https://billing.example.com/hook?token=…&v=…'],
    );
    const orderOnly = buildGraph(store, { namespace: NS, zone: `${A}:orders/latest` });
    assert.deepEqual(
      orderOnly.nodes.filter((n) => n.kind !== 'target').map((n) => n.id),
      ['caller:reporting', `psarn:${orders}`, `psarn:${latest}`],
    );
    // The zone given as its name without the dot, or as a psARN with an empty path.
    assert.equal(buildGraph(store, { namespace: NS, zone: ZONE.slice(0, -1).toUpperCase() }).zone, ZONE);
    assert.equal(buildGraph(store, { namespace: NS, zone: `${A}:` }).prefix, undefined);
    assert.throws(() => buildGraph(store, { namespace: NS, zone: 'example.com' }), { code: 'ERR_INVALID_ZONE' });
    assert.throws(() => buildGraph(store, { namespace: NS, zone: '999999999999.us-east-1.aws.psarn.internal.' }), {
      code: 'ERR_ZONE_NOT_FOUND',
    });
  });

  it('hides credential-like query values of targets, in labels and ids', () => {
    const g = buildGraph(store, { namespace: NS });
    assert.equal(targetLabel('https://h.example.com/x?token=abc&page=2'), 'https://h.example.com/x?token=…&page=…');
    assert.equal(targetLabel(lambda('a')), lambda('a'));
    assert.ok(!JSON.stringify(g).includes('s3cr3t'));
  });

  it('sorts nodes by id and edges by from, to: the same bytes on every run', () => {
    const a = JSON.stringify(buildGraph(store, { namespace: NS, now: 1 }));
    const b = JSON.stringify(buildGraph(store, { namespace: NS, now: 1 }));
    assert.equal(a, b);
    const g = JSON.parse(a) as Graph;
    assert.equal(g.generatedAt, 1);
    const ids = g.nodes.map((n) => n.id);
    assert.deepEqual(ids, [...ids].sort());
    const keys = g.edges.map((e) => `${e.from}\u0000${e.to}`);
    assert.deepEqual(keys, [...keys].sort());
  });

  it('keeps hostile caller ids exact: one node each, no merging', () => {
    const hostile = ['a"b', 'a\\', 'a\\"', 'x\n-->y', 'line\u2028sep', '#quot;', '[]{}()<>|', 'end', '\u202eevil'];
    store.saveCallers(hostile.map((c) => row(c, name('orders/audit'))));
    const g = buildGraph(store, { namespace: NS });
    for (const c of hostile) {
      assert.equal(node(g, `caller:${c}`).label, c);
      assert.equal(edge(g, `caller:${c}`, `psarn:${audit}`).kind, 'calls');
    }
  });
});
