/**
 * `psarn hold` / `psarn release` on a temp database (docs/design.md#hold-and-release): one
 * transaction each, the epoch bumped, the saved route restored byte for byte, a running rollout
 * paused (and left paused by the release), and the refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Store } from '../../src/store/store.js';
import { Sandbox } from '../cli/helpers.js';

const PSARN = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:orders-hold';

/** The route as `route get --json` shows it, without what every write moves. */
async function routeJson(box: Sandbox, psarn = PSARN): Promise<Record<string, unknown>> {
  const v = JSON.parse(await box.ok(['route', 'get', psarn, '--json'])) as Record<string, unknown>;
  for (const k of ['serial', 'updatedAt', 'epoch', 'updated']) delete v[k];
  return v;
}

function withStore<T>(box: Sandbox, fn: (s: Store) => T): T {
  const store = Store.open(box.db, { create: false });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

describe('psarn hold / release (local database)', () => {
  let box: Sandbox;
  before(async () => {
    box = new Sandbox();
    await box.ok(['db', 'init']);
  });
  after(() => box.cleanup());

  const setRoute = () =>
    box.ok([
      'route',
      'set',
      PSARN,
      // Order, weights and priorities that a sort or a default would change.
      '--target',
      'https://b.example.com/hook=7@20',
      '--target',
      'arn:aws:lambda:us-east-1:123456789012:function:v2=90@5',
      '--target',
      'arn:aws:lambda:us-east-1:123456789012:function:v1=3@5',
      '--ttl',
      '172800',
      '--meta',
      'team=payments',
      '--meta',
      'owner=z',
    ]);

  it('holds: fanout to the queue alone, TTL and metadata kept, epoch bumped, the route saved', async () => {
    await setRoute();
    const original = await routeJson(box);
    const epochBefore = withStore(box, (s) => s.zone(ZONE)!.epoch);
    const out = await box.ok(['hold', PSARN, '--queue', QUEUE]);
    assert.match(out, new RegExp(`^held ${PSARN} in ${QUEUE} \\(hold #\\d+, zone ${ZONE} serial \\d+, epoch`));
    const held = withStore(box, (s) => ({
      route: s.getRoute(ZONE, 'orders/created')!,
      epoch: s.zone(ZONE)!.epoch,
      hold: s.operations({ kind: 'hold', active: true })[0]!,
    }));
    assert.equal(held.epoch, epochBefore + 1);
    assert.equal(held.route.policy, 'fanout');
    assert.deepEqual(held.route.targets, [{ target: QUEUE, weight: 1, priority: 10 }]);
    assert.equal(held.route.ttl, 172800);
    assert.deepEqual(held.route.metadata, { team: 'payments', owner: 'z' });
    assert.equal(held.hold.status, 'held');
    assert.deepEqual(held.hold.state, { queue: QUEUE });
    assert.equal(held.hold.actor?.startsWith('user:'), true);
    assert.deepEqual(
      held.hold.saved.targets.map((t) => t.target),
      (original.targets as { target: string }[]).map((t) => t.target),
    );

    // A second hold names the queue the route is held in.
    const again = await box.run(['hold', PSARN, '--queue', 'arn:aws:sqs:us-east-1:123456789012:other']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, new RegExp(`already held in ${QUEUE} \\(hold #${held.hold.id}`));

    const released = await box.ok(['release', PSARN]);
    assert.match(released, /^released .* \(hold #\d+, zone .* serial \d+, epoch \d+ → \d+\)/);
    assert.deepEqual(await routeJson(box), original, 'restored byte for byte');
    const after = withStore(box, (s) => ({
      route: s.getRoute(ZONE, 'orders/created')!,
      epoch: s.zone(ZONE)!.epoch,
      hold: s.operation(held.hold.id)!,
    }));
    assert.equal(after.epoch, epochBefore + 2);
    assert.equal(after.hold.status, 'released');
    // Stored exactly as before: target order, weights, priorities, policy, TTL, metadata.
    const { serial: _s, updatedAt: _u, zone: _z, ...restored } = after.route;
    const { updatedAt: _u2, ...saved } = held.hold.saved;
    assert.deepEqual(restored, saved);
    const none = await box.run(['release', PSARN]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /is not held \(hold #\d+ was released\); nothing released/);
  });

  it('pauses a running rollout of the route, and the release leaves it paused', async () => {
    const rollout = withStore(box, (s) =>
      s.insertOperation({
        zone: ZONE,
        path: 'orders/created',
        kind: 'rollout',
        status: 'running',
        saved: s.operations({ kind: 'hold' })[0]!.saved,
        state: { step: 1, to: 'x' },
        dueAt: 123,
      }),
    );
    const out = await box.ok(['hold', PSARN, '--queue', QUEUE]);
    assert.match(out, new RegExp(`paused rollout #${rollout.id} of ${PSARN}`));
    const paused = withStore(box, (s) => ({
      r: s.operation(rollout.id)!,
      h: s.operations({ kind: 'hold', active: true })[0]!,
    }));
    assert.equal(paused.r.status, 'paused');
    assert.equal(paused.r.dueAt, undefined);
    assert.deepEqual(paused.r.state, { step: 1, to: 'x', pauseReason: `held (hold #${paused.h.id})` });
    assert.equal(paused.h.state.pausedRollout, rollout.id);
    const rel = await box.ok(['release', PSARN]);
    assert.match(rel, new RegExp(`rollout #${rollout.id} of ${PSARN} stays paused`));
    assert.equal(
      withStore(box, (s) => s.operation(rollout.id)!.status),
      'paused',
    );
    withStore(box, (s) => s.updateOperation(rollout.id, { status: 'aborted' }));
  });

  it('refuses a release over a change made by hand while held, shows it, and --force restores', async () => {
    const original = await routeJson(box);
    await box.ok(['hold', PSARN, '--queue', QUEUE]);
    await box.ok(['route', 'weight', PSARN, `${QUEUE}=5`]);
    const refused = await box.run(['release', PSARN]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /was changed while held in .*; check the change \(shown above\), then pass --force/);
    assert.match(refused.stdout, new RegExp(`target ${QUEUE}: weight 1 → 5`));
    assert.equal(
      withStore(box, (s) => s.operations({ kind: 'hold', active: true }).length),
      1,
      'still held',
    );
    const forced = await box.ok(['release', PSARN, '--force']);
    assert.match(forced, /--force: the change made while held is overwritten/);
    assert.deepEqual(await routeJson(box), original);
    const last = withStore(box, (s) => s.operations({ kind: 'hold', limit: 1 })[0]!);
    assert.equal((last.state.overwritten as { targets: { weight: number }[] }).targets[0]!.weight, 5);
  });

  it('refuses an alias (exit 2, naming the route to hold), a queue already on the route, a missing route', async () => {
    await box.ok(['route', 'alias', 'arn:aws:psarn:us-east-1:123456789012:orders/new', PSARN]);
    const alias = await box.run(['hold', 'arn:aws:psarn:us-east-1:123456789012:orders/new', '--queue', QUEUE]);
    assert.equal(alias.status, 2);
    assert.match(alias.stderr, /is an alias of created\.orders\..*; hold the route with the targets instead/);
    await box.ok(['route', 'set', 'arn:aws:psarn:us-east-1:123456789012:q/r', '--target', QUEUE]);
    const loop = await box.run(['hold', 'arn:aws:psarn:us-east-1:123456789012:q/r', '--queue', QUEUE]);
    assert.equal(loop.status, 2);
    assert.match(loop.stderr, /already sends to .*; hold in another queue/);
    const missing = await box.run(['hold', 'arn:aws:psarn:us-east-1:123456789012:no/such', '--queue', QUEUE]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /not found; nothing held/);
    assert.equal(
      withStore(box, (s) => s.operations({ kind: 'hold', active: true }).length),
      0,
    );
  });

  it('rejects bad input with exit 2 before opening the database', async () => {
    for (const [argv, message] of [
      [['hold', PSARN], /missing --queue/],
      [['hold', PSARN, '--queue', 'arn:aws:sns:us-east-1:123456789012:t'], /service 'sns' is not sqs/],
      [['hold', PSARN, '--queue', 'arn:aws:sqs:us-east-1:12345:q'], /account '12345' is not 12 digits/],
      [['hold', PSARN, '--queue', 'https://sqs.us-east-1.amazonaws.com/1/q'], /not an ARN/],
      [['release', PSARN, '--rate', '5'], /--rate goes with --replay/],
      [['release', PSARN, '--replay', '--rate', '0'], /invalid --rate '0'/],
      [['release', PSARN, '--replay', '--rate', 'fast'], /invalid --rate 'fast'/],
      [['release', PSARN, '--replay', '--dns', 'bad host:1'], /invalid server/],
    ] as const) {
      const r = await box.run([...argv, '--db', box.path('none.db')]);
      assert.equal(r.status, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('over --server: arguments checked before connecting (exit 2), then sent to the server (docs/design.md#remote-operations)', async () => {
    const bad = await box.run(['hold', PSARN, '--queue', 'arn:aws:sqs:us-east-1:1:q', '--server', '127.0.0.1:1']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid --queue/);
    const r = await box.run(['hold', PSARN, '--queue', QUEUE, '--server', '127.0.0.1:1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach server 127\.0\.0\.1:1/);
  });

  it('--json prints the hold', async () => {
    const held = JSON.parse(await box.ok(['hold', PSARN, '--queue', QUEUE, '--json'])) as {
      hold: { id: number; state: { queue: string }; status: string };
      epoch: number;
    };
    assert.equal(held.hold.status, 'held');
    assert.equal(held.hold.state.queue, QUEUE);
    const rel = JSON.parse(await box.ok(['release', PSARN, '--json'])) as { hold: { status: string }; epoch: number };
    assert.equal(rel.hold.status, 'released');
    assert.equal(rel.epoch, held.epoch + 1);
  });
});
