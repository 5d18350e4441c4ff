/** Schema 5's operations (docs/design.md#operations): rollouts and holds kept beside the routes. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type SavedRoute, Store, StoreError } from '../../src/store/index.js';
import { PARAMS, weighted, ZONE } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'psarn-ops-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function saved(store: Store, path: string): SavedRoute {
  const { zone: _z, serial: _s, ...rest } = store.getRoute(ZONE, path)!;
  return rest;
}

describe('Store operations', () => {
  it('inserts, reads, updates and lists an operation with its saved route and state', () => {
    let now = 1_000;
    const store = Store.open(':memory:', { now: () => now });
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    const op = store.insertOperation({
      zone: ZONE,
      path: 'a',
      kind: 'rollout',
      status: 'running',
      saved: saved(store, 'a'),
      state: { step: 0 },
      dueAt: 5_000,
      actor: 'user:alice',
    });
    assert.equal(op.zone, ZONE);
    assert.equal(op.path, 'a');
    assert.deepEqual(op.saved, saved(store, 'a'));
    assert.deepEqual(op.state, { step: 0 });
    assert.equal(op.dueAt, 5_000);
    assert.equal(op.actor, 'user:alice');
    assert.equal(op.createdAt, 1_000);
    assert.equal(store.nextOperationDue(), 5_000);
    assert.deepEqual(store.dueOperations(4_999), []);
    assert.deepEqual(
      store.dueOperations(5_000).map((o) => o.id),
      [op.id],
    );
    now = 2_000;
    const paused = store.updateOperation(op.id, { status: 'paused', state: { step: 1 }, dueAt: null });
    assert.equal(paused.status, 'paused');
    assert.deepEqual(paused.state, { step: 1 });
    assert.equal(paused.dueAt, undefined);
    assert.equal(paused.updatedAt, 2_000);
    assert.equal(store.nextOperationDue(), undefined);
    // A patch without state keeps it.
    assert.deepEqual(store.updateOperation(op.id, { status: 'running' }).state, { step: 1 });
    assert.deepEqual(
      store.operations({ zone: ZONE, path: 'a', kind: 'rollout', active: true }).map((o) => o.id),
      [op.id],
    );
    assert.deepEqual(store.operations({ kind: 'hold' }), []);
  });

  it('allows one active operation of a kind per route, and another once it ended', () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    const base = { zone: ZONE, path: 'a', saved: saved(store, 'a'), state: {} } as const;
    const first = store.insertOperation({ ...base, kind: 'rollout', status: 'running' });
    assert.throws(
      () => store.insertOperation({ ...base, kind: 'rollout', status: 'paused' }),
      (e: unknown) => e instanceof StoreError && e.code === 'ERR_OPERATION_CONFLICT',
    );
    // A hold beside a rollout is allowed (the hold pauses the rollout: docs/design.md#operations).
    store.insertOperation({ ...base, kind: 'hold', status: 'held' });
    store.updateOperation(first.id, { status: 'aborted' });
    assert.equal(store.activeOperation(ZONE, 'a', 'rollout'), undefined);
    assert.equal(store.activeOperation(ZONE, 'a', 'hold')?.status, 'held');
    const second = store.insertOperation({ ...base, kind: 'rollout', status: 'running' });
    assert.equal(store.activeOperation(ZONE, 'a', 'rollout')?.id, second.id);
    assert.equal(store.activeOperation(ZONE, 'b', 'rollout'), undefined);
    assert.deepEqual(
      store.operations({ kind: 'rollout' }).map((o) => [o.id, o.status]),
      [
        [second.id, 'running'],
        [first.id, 'aborted'],
      ],
    );
    assert.throws(
      () => store.updateOperation(first.id, { status: 'running' }),
      (e: unknown) => e instanceof StoreError && e.code === 'ERR_OPERATION_CONFLICT',
    );
    assert.equal(store.operations({ limit: 1 }).length, 1);
  });

  it('refuses an operation in a zone that does not exist, and an update of an unknown id', () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    const s = saved(store, 'a');
    assert.throws(
      () => store.insertOperation({ zone: 'nope.', path: 'a', kind: 'hold', status: 'held', saved: s, state: {} }),
      (e: unknown) => e instanceof StoreError && e.code === 'ERR_ZONE_NOT_FOUND',
    );
    assert.throws(
      () => store.updateOperation(999, { status: 'done' }),
      (e: unknown) => e instanceof StoreError && e.code === 'ERR_OPERATION_NOT_FOUND',
    );
  });

  it('commits a route change and an operation together in transaction(), or neither', () => {
    const store = Store.open(':memory:');
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    const serial = store.zone(ZONE)!.serial;
    assert.throws(() =>
      store.transaction(() => {
        store.editRoutes(ZONE, [{ path: 'a', make: () => weighted('y') }], PARAMS);
        store.insertOperation({
          zone: ZONE,
          path: 'a',
          kind: 'hold',
          status: 'held',
          saved: saved(store, 'a'),
          state: {},
        });
        throw new Error('boom');
      }),
    );
    assert.equal(store.zone(ZONE)!.serial, serial);
    assert.equal(store.getRoute(ZONE, 'a')!.targets[0]!.target, weighted('x').targets[0]!.target);
    assert.deepEqual(store.operations(), []);
    store.transaction(() => {
      store.editRoutes(ZONE, [{ path: 'a', make: () => weighted('y') }], PARAMS);
      store.insertOperation({
        zone: ZONE,
        path: 'a',
        kind: 'hold',
        status: 'held',
        saved: saved(store, 'a'),
        state: {},
      });
    });
    assert.equal(store.zone(ZONE)!.serial, serial + 1);
    assert.equal(store.operations().length, 1);
  });

  it('keeps operations across a reopen of the file, and drops them with their zone', () => {
    const file = join(dir, 'ops.db');
    const store = Store.open(file);
    store.setRoute(ZONE, 'a', weighted('x'), PARAMS);
    store.insertOperation({ zone: ZONE, path: 'a', kind: 'hold', status: 'held', saved: saved(store, 'a'), state: {} });
    store.close();
    const again = Store.open(file);
    assert.equal(again.operations({ active: true }).length, 1);
    again.deleteZone(ZONE);
    assert.deepEqual(again.operations(), []);
    again.close();
  });
});
