/**
 * Change confirmation (docs/design.md#change-confirmation) over a store with an injected clock:
 * who has the route's current serial before and after a `route set`, after a flush (the
 * current serial becomes the flush's), until when each other caller keeps what it fetched (the
 * TTL of the version it fetched, cut short by a later flush plus epochTtl), reporters merged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { routeCallers } from '../../src/map/confirm.js';
import type { CallerState, RouteCallers } from '../../src/map/types.js';
import type { CallerRow } from '../../src/store/callers.js';
import { Store } from '../../src/store/store.js';
import { lambda, PARAMS, tempDir, ZONE } from '../store/helpers.js';

const NS = 'psarn.internal.';
const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const NAME = `created.orders.${ZONE}`;
const EPOCH_TTL = 5;

const seen = (caller: string, serial: number, lastSeen: number, extra: Partial<CallerRow> = {}): CallerRow => ({
  caller,
  name: NAME,
  reporter: '',
  serial,
  firstSeen: lastSeen,
  lastSeen,
  lookups: 1,
  ...extra,
});
const spec = (ttl: number, fn: string) => ({
  policy: 'weighted' as const,
  ttl,
  targets: [{ target: lambda(fn), weight: 1, priority: 10 }],
});
const byCaller = (v: RouteCallers): Record<string, Omit<CallerState, 'caller'>> =>
  Object.fromEntries(v.callers.map(({ caller, ...rest }) => [caller, rest]));

describe('routeCallers', () => {
  const tmp = tempDir();
  let clock = 1_000_000;
  let store: Store;
  const view = () => routeCallers(store, P, { epochTtl: EPOCH_TTL, namespace: NS, now: clock });
  before(() => {
    store = Store.open(tmp.file(), { now: () => clock });
  });
  after(() => {
    store.close();
    tmp.cleanup();
  });

  it('lists callers with the current serial, before and after a route set, and after a flush', () => {
    const s1 = store.setRoute(ZONE, 'orders/created', spec(300, 'v1'), PARAMS).serial;
    clock += 1000;
    store.saveCallers([seen('billing', s1, clock), seen('checkout', s1, clock)]);
    let v = view();
    assert.deepEqual(
      { psarn: v.psarn, zone: v.zone, path: v.path, serial: v.serial, currentSerial: v.currentSerial, ttl: v.ttl },
      { psarn: P, zone: ZONE, path: 'orders/created', serial: s1, currentSerial: s1, ttl: 300 },
    );
    assert.deepEqual(
      v.callers.map((c) => [c.caller, c.current, c.holdsUntil]),
      [
        ['billing', true, undefined],
        ['checkout', true, undefined],
      ],
    );

    // route set: a new serial and TTL; the callers hold the old answer for the TTL they fetched.
    const fetchedAt = clock;
    clock += 9000;
    const s2 = store.setRoute(ZONE, 'orders/created', spec(60, 'v2'), PARAMS).serial;
    clock += 1000;
    store.saveCallers([seen('checkout', s2, clock)]);
    v = view();
    assert.deepEqual([v.serial, v.currentSerial, v.ttl], [s2, s2, 60]);
    const afterSet = byCaller(v);
    assert.deepEqual(afterSet.billing, {
      serial: s1,
      lastSeen: fetchedAt,
      lookups: 1,
      current: false,
      holdsUntil: fetchedAt + 300_000,
      reporters: [''],
    });
    assert.deepEqual(
      [afterSet.checkout!.current, afterSet.checkout!.serial, afterSet.checkout!.lookups],
      [true, s2, 2],
    );

    // flush: the current serial is the flush's; everyone before it refetches within epochTtl.
    const checkoutAt = clock;
    clock += 4000;
    const flushAt = clock;
    const { serial: s3 } = store.flush(ZONE);
    assert.equal(store.epochSerial(ZONE), s3);
    v = view();
    assert.deepEqual([v.serial, v.currentSerial], [s2, s3]);
    let now = byCaller(v);
    assert.deepEqual(
      [now.billing!.current, now.billing!.holdsUntil, now.checkout!.current, now.checkout!.holdsUntil],
      // billing: min(its fetch + 300 s, flush + 5 s); checkout: min(its fetch + 60 s, flush + 5 s).
      [false, flushAt + EPOCH_TTL * 1000, false, Math.min(checkoutAt + 60_000, flushAt + EPOCH_TTL * 1000)],
    );

    // The flush reaching callers: checkout refetches; a caller that fetched after the flush an
    // older serial (a secondary not yet caught up) keeps it for its TTL, no flush cut.
    clock += 2000;
    store.saveCallers([seen('checkout', s3, clock), seen('lagging', s2, clock, { reporter: 'secondary-1' })]);
    v = view();
    now = byCaller(v);
    assert.equal(now.checkout!.current, true);
    assert.equal(now.checkout!.holdsUntil, undefined);
    assert.deepEqual(
      [now.lagging!.current, now.lagging!.holdsUntil, now.lagging!.reporters],
      [false, clock + 60_000, ['secondary-1']],
    );
    assert.equal(v.callers.filter((c) => c.current).length, 1);
  });

  it('merges reporters: the newest lookup brings its serial, lookups add up', () => {
    const r = store.getRoute(ZONE, 'orders/created')!;
    const current = routeCallers(store, P, { epochTtl: EPOCH_TTL, namespace: NS }).currentSerial;
    store.saveCallers([
      seen('merged', r.serial, 500, { lookups: 4 }),
      seen('merged', current, 900, { reporter: 'secondary-2', lookups: 6 }),
      seen('merged', r.serial, 700, { reporter: 'secondary-1', lookups: 1 }),
    ]);
    const m = byCaller(view()).merged!;
    assert.deepEqual(
      { serial: m.serial, lastSeen: m.lastSeen, lookups: m.lookups, current: m.current, reporters: m.reporters },
      { serial: current, lastSeen: 900, lookups: 11, current: true, reporters: ['', 'secondary-1', 'secondary-2'] },
    );
  });

  it('counts only the route itself: other names and _epoch are not its callers', () => {
    store.saveCallers([
      seen('epoch-reader', 99, clock, { name: `_epoch.${ZONE}` }),
      seen('other', 99, clock, { name: `audit.orders.${ZONE}` }),
    ]);
    const names = view().callers.map((c) => c.caller);
    assert.ok(!names.includes('epoch-reader') && !names.includes('other'));
  });

  it('throws ERR_ROUTE_NOT_FOUND for a psARN that is no route, ERR_INVALID_PSARN for bad text', () => {
    assert.throws(() => routeCallers(store, `${P}-missing`, { epochTtl: 5, namespace: NS }), {
      name: 'StoreError',
      code: 'ERR_ROUTE_NOT_FOUND',
      message: /route 'arn:aws:psarn:us-east-1:123456789012:orders\/created-missing' not found/,
    });
    assert.throws(() => routeCallers(store, 'arn:aws:psarn:nope', { epochTtl: 5, namespace: NS }), {
      code: 'ERR_INVALID_PSARN',
    });
  });

  it('for an alias, counts a change of the route it names in the zone: its answer carries those records', () => {
    const latest = 'arn:aws:psarn:us-east-1:123456789012:orders/latest';
    const aliasSerial = store.setRoute(ZONE, 'orders/latest', { ttl: 60, alias: NAME }, PARAMS).serial;
    store.saveCallers([seen('via-alias', aliasSerial, clock, { name: `latest.orders.${ZONE}` })]);
    let v = routeCallers(store, latest, { epochTtl: EPOCH_TTL, namespace: NS });
    assert.deepEqual([v.serial, v.currentSerial, v.callers[0]!.current], [aliasSerial, aliasSerial, true]);
    clock += 1000;
    const changed = store.setRoute(ZONE, 'orders/created', spec(60, 'v9'), PARAMS).serial;
    v = routeCallers(store, latest, { epochTtl: EPOCH_TTL, namespace: NS });
    assert.deepEqual([v.serial, v.currentSerial, v.callers[0]!.current], [aliasSerial, changed, false]);
  });

  it("uses the route's current TTL when the journal no longer knows the fetched version", () => {
    const t2 = tempDir();
    let t = 0;
    const s = Store.open(t2.file(), { now: () => t, journalMaxAgeMs: 10_000 });
    try {
      const old = s.setRoute(ZONE, 'orders/created', spec(3600, 'v1'), PARAMS).serial;
      s.saveCallers([seen('early', old, 0)]);
      t = 60_000;
      // This write prunes the rows older than 10 s: the serial `early` fetched among them.
      s.setRoute(ZONE, 'orders/created', spec(30, 'v2'), PARAMS);
      const v = routeCallers(s, P, { epochTtl: 5, namespace: NS });
      assert.deepEqual([v.callers[0]!.current, v.callers[0]!.holdsUntil], [false, 30_000]);
    } finally {
      s.close();
      t2.cleanup();
    }
  });
});
