/**
 * Alias checks at write time (docs/design.md#alias-checks), issue 9: `route alias a b` then
 * `route alias b a` both succeeded and left a loop; deleting a route that aliases point at left
 * them dangling without a word.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { AliasRouteSpec, StoredRoute } from '../../src/store/index.js';
import { Store, StoreError } from '../../src/store/index.js';
import { MAX_CNAME_CHAIN } from '../../src/wire/types.js';
import { PARAMS, weighted, ZONE, ZONE2 } from './helpers.js';

let store: Store;

beforeEach(() => {
  store = Store.open(':memory:');
});

const name = (path: string, zone = ZONE) => `${path.split('/').reverse().join('.')}.${zone}`;
const alias = (to: string, zone = ZONE): AliasRouteSpec => ({ ttl: 60, alias: name(to, zone) });

/** Asserts `fn` throws a StoreError with `code` and a message matching each pattern; returns nothing written. */
function refused(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  const serial = store.zone(ZONE)?.serial;
  const journal = store.journal(ZONE).length;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StoreError, String(err));
    assert.equal(err.code, code, err.message);
    assert.ok(!err.message.includes('\n'));
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
  assert.equal(store.zone(ZONE)?.serial, serial, 'the serial stayed');
  assert.equal(store.journal(ZONE).length, journal, 'nothing journaled');
}

describe('alias writes: loops are refused, always', () => {
  it('route alias a b, then route alias b a: the second is refused, naming both', () => {
    store.setRoute(ZONE, 'orders/target', weighted('t'), PARAMS);
    store.setRoute(ZONE, 'a', alias('orders/target'), PARAMS);
    store.setRoute(ZONE, 'b', alias('a'), PARAMS);
    refused(
      () => store.setRoute(ZONE, 'a', alias('b'), PARAMS),
      'ERR_ALIAS_LOOP',
      new RegExp(`^alias ${name('a')} → ${name('b')} would make a loop: ${name('a')} → ${name('b')} → ${name('a')};`),
    );
    assert.equal(store.getRoute(ZONE, 'a')?.alias, name('orders/target'), 'a still points where it did');
  });

  it('a loop of three names every alias in it; force does not allow it', () => {
    store.setRoute(ZONE, 'x', alias('y'), PARAMS, { force: true });
    store.setRoute(ZONE, 'y', alias('z'), PARAMS, { force: true });
    refused(
      () => store.setRoute(ZONE, 'z', alias('x'), PARAMS, { force: true }),
      'ERR_ALIAS_LOOP',
      new RegExp(`${name('z')} → ${name('x')} → ${name('y')} → ${name('z')};`),
    );
  });

  it('an alias to itself is a loop', () => {
    refused(
      () => store.setRoute(ZONE, 'a', alias('a'), PARAMS, { force: true }),
      'ERR_ALIAS_LOOP',
      /would make a loop/,
    );
  });

  it('a loop across zones is found too', () => {
    store.setRoute(ZONE2, 'b', alias('a', ZONE), PARAMS, { force: true });
    refused(() => store.setRoute(ZONE, 'a', alias('b', ZONE2), PARAMS), 'ERR_ALIAS_LOOP', /would make a loop/);
  });

  it('messages show names the way the caller asks (the CLI shows psARNs)', () => {
    store.setRoute(ZONE, 'a', alias('b'), PARAMS, { force: true });
    refused(
      () => store.setRoute(ZONE, 'b', alias('a'), PARAMS, { show: (n) => `<${n.split('.')[0]}>` }),
      'ERR_ALIAS_LOOP',
      /^alias <b> → <a> would make a loop: <b> → <a> → <b>;/,
    );
  });
});

describe(`alias writes: chains of more than ${MAX_CNAME_CHAIN} aliases are refused`, () => {
  /** c1 → c2 → … → c<n> → end (a target route): n CNAMEs from c1. */
  function chain(n: number): void {
    store.setRoute(ZONE, 'end', weighted('end'), PARAMS);
    for (let i = n; i >= 1; i--) store.setRoute(ZONE, `c${i}`, alias(i === n ? 'end' : `c${i + 1}`), PARAMS);
  }

  it(`${MAX_CNAME_CHAIN} aliases are fine; one more in front is refused`, () => {
    chain(MAX_CNAME_CHAIN);
    refused(
      () => store.setRoute(ZONE, 'c0', alias('c1'), PARAMS, { force: true }),
      'ERR_ALIAS_CHAIN',
      new RegExp(`^alias ${name('c0')} would make a chain of more than 8 aliases: ${name('c0')} → ${name('c1')} → `),
      /a DNS answer follows at most 8 CNAMEs/,
    );
  });

  it('re-pointing the end of a chain to a longer one is refused, naming where the chain starts', () => {
    chain(MAX_CNAME_CHAIN - 1);
    store.setRoute(ZONE, 'far', weighted('far'), PARAMS);
    store.setRoute(ZONE, 'hop1', alias('hop2'), PARAMS, { force: true });
    store.setRoute(ZONE, 'hop2', alias('far'), PARAMS);
    // c7 -> end becomes c7 -> hop1 -> hop2 -> far: c1's chain grows from 7 to 9.
    refused(
      () => store.setRoute(ZONE, `c${MAX_CNAME_CHAIN - 1}`, alias('hop1'), PARAMS),
      'ERR_ALIAS_CHAIN',
      new RegExp(`chain of more than 8 aliases: ${name('c1')} → `),
    );
  });
});

describe('alias writes: a target that is no route is refused unless forced', () => {
  it('refuses an alias to a missing route, and writes it with force', () => {
    refused(
      () => store.setRoute(ZONE, 'latest', alias('orders/v2'), PARAMS),
      'ERR_ALIAS_DANGLING',
      new RegExp(`^alias ${name('latest')} would point at ${name('orders/v2')}, which is not a route$`),
    );
    assert.equal(store.zone(ZONE), undefined, 'not even the zone was created');
    const change = store.setRoute(ZONE, 'latest', alias('orders/v2'), PARAMS, { force: true });
    assert.equal(change.changed, true);
    assert.equal(store.getRoute(ZONE, 'latest')?.alias, name('orders/v2'));
  });

  it('names the chain when the alias reaches the missing name through others', () => {
    store.setRoute(ZONE, 'mid', alias('gone'), PARAMS, { force: true });
    refused(
      () => store.setRoute(ZONE, 'top', alias('mid'), PARAMS),
      'ERR_ALIAS_DANGLING',
      new RegExp(`^alias ${name('top')} would point through ${name('mid')} at ${name('gone')}, which is not a route$`),
    );
  });

  it('a name in no zone, or a parent of routes with no route of its own, is not a route', () => {
    refused(
      () => store.setRoute(ZONE, 'a', { ttl: 60, alias: 'x.example.com.' }, PARAMS),
      'ERR_ALIAS_DANGLING',
      /at x\.example\.com\., which is not a route/,
    );
    store.setRoute(ZONE, 'orders/created', weighted('c'), PARAMS);
    refused(() => store.setRoute(ZONE, 'a', alias('orders'), PARAMS), 'ERR_ALIAS_DANGLING');
  });

  it('an alias to a route in another zone, or through aliases to a route, is fine', () => {
    store.setRoute(ZONE2, 'payments/charge', weighted('charge'), PARAMS);
    store.setRoute(ZONE, 'pay', alias('payments/charge', ZONE2), PARAMS);
    store.setRoute(ZONE, 'pay2', alias('pay'), PARAMS);
    assert.equal(store.getRoute(ZONE, 'pay2')?.alias, name('pay'));
  });
});

describe('deleting, or turning into an alias, a route aliases point at', () => {
  beforeEach(() => {
    store.setRoute(ZONE, 'orders/created', weighted('c'), PARAMS);
    store.setRoute(ZONE, 'orders/v2', weighted('v2'), PARAMS);
    store.setRoute(ZONE, 'orders/latest', alias('orders/created'), PARAMS);
  });

  it('delete is refused, naming the alias; force deletes and reports it dangling', () => {
    refused(
      () => store.deleteRoute(ZONE, 'orders/created'),
      'ERR_ROUTE_ALIASED',
      new RegExp(
        `^route ${name('orders/created')} is the target of 1 alias \\(${name('orders/latest')}\\); deleting it would leave it pointing at nothing$`,
      ),
    );
    const change = store.deleteRoute(ZONE, 'orders/created', { force: true });
    assert.deepEqual(change.dangling, { names: [name('orders/latest')], count: 1 });
    assert.equal(store.getRoute(ZONE, 'orders/created'), undefined);
  });

  it('names at most five aliases, then a count', () => {
    for (let i = 1; i <= 7; i++) store.setRoute(ZONE2, `r${i}`, alias('orders/created'), PARAMS);
    refused(
      () => store.deleteRoute(ZONE, 'orders/created'),
      'ERR_ROUTE_ALIASED',
      /is the target of 8 aliases \((\S+, ){4}\S+ and 3 more\); deleting it would leave them pointing at nothing$/,
    );
    const change = store.deleteRoute(ZONE, 'orders/created', { force: true });
    assert.equal(change.dangling?.count, 8);
    assert.equal(change.dangling?.names.length, 5);
  });

  it('deleting an alias in the middle of a chain is refused too; deleting the first is fine', () => {
    store.setRoute(ZONE, 'orders/newest', alias('orders/latest'), PARAMS);
    refused(() => store.deleteRoute(ZONE, 'orders/latest'), 'ERR_ROUTE_ALIASED', /orders/);
    assert.equal(store.deleteRoute(ZONE, 'orders/newest').dangling, undefined);
  });

  it('turning the route into an alias is refused unless forced; an alias turned into a route is fine', () => {
    refused(
      () => store.setRoute(ZONE, 'orders/created', alias('orders/v2'), PARAMS),
      'ERR_ROUTE_ALIASED',
      /is the target of 1 alias .*; it would answer as the new alias$/,
    );
    store.setRoute(ZONE, 'orders/created', alias('orders/v2'), PARAMS, { force: true });
    store.setRoute(ZONE, 'orders/created', weighted('back'), PARAMS);
    assert.equal(store.getRoute(ZONE, 'orders/created')?.policy, 'weighted');
  });

  it('turning it into an alias of its own alias reports the loop, which no --force allows', () => {
    refused(() => store.setRoute(ZONE, 'orders/created', alias('orders/latest'), PARAMS), 'ERR_ALIAS_LOOP');
    refused(
      () => store.setRoute(ZONE, 'orders/created', alias('orders/latest'), PARAMS, { force: true }),
      'ERR_ALIAS_LOOP',
    );
  });

  it('an alias that points at itself (a zone file can hold one) does not keep itself from being deleted', () => {
    store.importZones([{ name: ZONE2, routes: [{ path: 'self', spec: alias('self', ZONE2) }] }], PARAMS);
    assert.equal(store.deleteRoute(ZONE2, 'self').dangling, undefined);
  });
});

describe('writes that change nothing', () => {
  it('are not written: same serial, no journal row, changed false, the stored route returned', () => {
    const first = store.setRoute(
      ZONE,
      'a',
      { ...weighted('x', 'y'), metadata: { team: 'orders', env: 'prod' } },
      PARAMS,
    );
    assert.equal(first.zoneCreated, true);
    assert.equal(first.before, undefined);
    const journal = store.journal(ZONE).length;
    const again = store.setRoute(
      ZONE,
      'a',
      { ...weighted('x', 'y'), metadata: { env: 'prod', team: 'orders' } },
      PARAMS,
    );
    assert.equal(again.changed, false);
    assert.equal(again.zoneCreated, false);
    assert.equal(again.serial, first.serial);
    assert.deepEqual(again.after, first.after);
    assert.equal(store.zone(ZONE)?.serial, first.serial);
    assert.equal(store.journal(ZONE).length, journal);
  });

  it('a change of target order, weight, priority, ttl, policy or metadata is a change', () => {
    store.setRoute(ZONE, 'a', { ...weighted('x', 'y'), metadata: { k: 'v' } }, PARAMS);
    const base = { ...weighted('x', 'y'), metadata: { k: 'v' } };
    const t = base.targets;
    const variants = [
      { ...base, targets: [t[1]!, t[0]!] },
      { ...base, targets: [{ ...t[0]!, weight: 2 }, t[1]!] },
      { ...base, targets: [t[0]!, { ...t[1]!, priority: 20 }] },
      { ...base, ttl: 301 },
      { ...base, policy: 'fanout' as const },
      { ...base, metadata: { k: 'w' } },
      { ...base, metadata: {} },
    ];
    for (const v of variants) {
      assert.equal(store.setRoute(ZONE, 'a', v, PARAMS).changed, true, JSON.stringify(v));
      store.setRoute(ZONE, 'a', base, PARAMS);
    }
  });
});

describe('updateRoute', () => {
  it('builds the new route from the stored one, in the write transaction', () => {
    store.setRoute(ZONE, 'a', { ...weighted('x'), ttl: 3600, metadata: { team: 'orders' } }, PARAMS);
    let seen: StoredRoute | undefined;
    const change = store.updateRoute(
      ZONE,
      'a',
      (before) => {
        seen = before;
        return { policy: 'weighted', ttl: before!.ttl, targets: weighted('z').targets, metadata: before!.metadata };
      },
      PARAMS,
    );
    assert.equal(seen?.ttl, 3600);
    assert.deepEqual(change.before, seen);
    assert.equal(change.after?.ttl, 3600);
    assert.deepEqual(change.after?.metadata, { team: 'orders' });
  });

  it('a build that throws writes nothing, not even a new zone', () => {
    assert.throws(
      () =>
        store.updateRoute(
          ZONE,
          'a',
          () => {
            throw new Error('refused');
          },
          PARAMS,
        ),
      /refused/,
    );
    assert.equal(store.zone(ZONE), undefined);
  });
});

describe('zone import reports broken alias chains and goes on', () => {
  it('a loop, a dangling alias and a chain over 8, each with its names; a loop once', () => {
    const routes = [
      { path: 'loop/a', spec: alias('loop/b') },
      { path: 'loop/b', spec: alias('loop/a') },
      { path: 'lost', spec: alias('nowhere') },
      ...Array.from({ length: 9 }, (_, i) => ({ path: `c${i}`, spec: alias(i === 8 ? 'end' : `c${i + 1}`) })),
      { path: 'end', spec: weighted('end') },
      { path: 'fine', spec: alias('end') },
    ];
    const [result] = store.importZones([{ name: ZONE, routes }], PARAMS);
    const { problems, count } = result!.aliasProblems;
    assert.equal(count, 3, JSON.stringify(problems));
    assert.deepEqual(
      problems.map((p) => [p.kind, p.alias]),
      [
        ['chain', name('c0')],
        ['loop', name('loop/a')],
        ['dangling', name('lost')],
      ],
    );
    assert.deepEqual(problems[1]!.chain, [name('loop/a'), name('loop/b'), name('loop/a')]);
    assert.deepEqual(problems[2]!.chain, [name('lost'), name('nowhere')]);
    assert.equal(store.getRoute(ZONE, 'loop/a')?.alias, name('loop/b'), 'imported all the same');
  });

  it('an alias in another zone left pointing at nothing by the import is reported with the imported zone', () => {
    store.setRoute(ZONE, 'orders/created', weighted('c'), PARAMS);
    store.setRoute(ZONE2, 'link', alias('orders/created'), PARAMS);
    const [result] = store.importZones([{ name: ZONE, routes: [{ path: 'other', spec: weighted('o') }] }], PARAMS);
    assert.deepEqual(result!.aliasProblems, {
      problems: [
        { kind: 'dangling', alias: name('link', ZONE2), chain: [name('link', ZONE2), name('orders/created')] },
      ],
      count: 1,
    });
    assert.equal(result!.created, false);
  });
});
