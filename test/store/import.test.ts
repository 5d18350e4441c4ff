import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ImportRoute, RouteList, RouteSpec, ZoneContent } from '../../src/store/index.js';
import { Store } from '../../src/store/index.js';
import { lambda, PARAMS, tempDir, weighted, ZONE, ZONE2 } from './helpers.js';

const ZONE3 = '999999999999.us-east-1.aws.psarn.internal.';
let store: Store;
beforeEach(() => {
  store = Store.open(':memory:');
});

describe('importZones', () => {
  it('creates new zones with the given parameters, epoch and serial, one import journal row each', () => {
    const result = store.importZones(
      [
        {
          name: ZONE,
          serial: 2024010101,
          epoch: 7,
          params: { minimum: 60, nameservers: ['ns1.example.', 'ns2.example.'] },
          routes: [
            { path: 'orders/created', spec: weighted('a', 'b') },
            { path: 'orders/latest', spec: { ttl: 30, alias: `created.orders.${ZONE}` } },
          ],
        },
        { name: ZONE2, routes: [{ path: 'x', spec: weighted('x') }] },
      ],
      PARAMS,
    );
    const none = { problems: [], count: 0 };
    assert.deepEqual(result, [
      { zone: ZONE, routes: 2, serial: 2024010101, created: true, aliasProblems: none },
      { zone: ZONE2, routes: 1, serial: 2, created: true, aliasProblems: none },
    ]);
    const zone = store.zone(ZONE)!;
    assert.deepEqual(
      [zone.serial, zone.epoch, zone.minimum, zone.nameservers, zone.retry],
      [2024010101, 7, 60, ['ns1.example.', 'ns2.example.'], PARAMS.retry],
    );
    assert.equal(store.zone(ZONE2)?.epoch, 1);
    assert.deepEqual(
      store.journal(ZONE).map((e) => [e.op, e.serial]),
      [
        ['create', 1],
        ['import', 2024010101],
      ],
    );
    assert.deepEqual(store.getRoute(ZONE, 'orders/created')?.targets, weighted('a', 'b').targets);
    assert.equal(store.getRoute(ZONE, 'orders/latest')?.serial, 2024010101);
  });

  it('replaces the whole content of a listed zone and leaves other zones alone', () => {
    store.setRoute(ZONE, 'old', weighted('old'), PARAMS);
    store.setRoute(ZONE, 'keep/name', weighted('before'), PARAMS);
    store.setRoute(ZONE2, 'other', weighted('o'), PARAMS);
    const [r] = store.importZones(
      [
        {
          name: ZONE,
          routes: [
            { path: 'keep/name', spec: weighted('after1', 'after2') },
            { path: 'new', spec: weighted('n') },
          ],
        },
      ],
      PARAMS,
    );
    assert.equal(r?.serial, 4); // 3 + 1: no file serial
    assert.deepEqual(
      [...store.listRoutes(ZONE)].map((x) => [x.path, x.targets.map((t) => t.target)]),
      [
        ['keep/name', [lambda('after1'), lambda('after2')]],
        ['new', [lambda('n')]],
      ],
    );
    assert.equal(store.getRoute(ZONE2, 'other')?.serial, 2);
    assert.equal(store.zone(ZONE2)?.serial, 2);
    const entry = store.journal(ZONE).at(-1)!;
    assert.deepEqual(
      [entry.op, (entry.before as { routes: number }).routes, (entry.after as { routes: number }).routes],
      ['import', 2, 2],
    );
  });

  it('takes the file serial when it is ahead (RFC 1982), else current + 1', () => {
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS); // serial 2
    const imp = (serial?: number) =>
      store.importZones([{ name: ZONE, serial, routes: [{ path: 'a', spec: weighted('a') }] }], PARAMS)[0]!.serial;
    assert.equal(imp(100), 100); // ahead
    assert.equal(imp(100), 101); // equal: not ahead
    assert.equal(imp(50), 102); // behind
    assert.equal(imp(undefined), 103);
    assert.equal(imp(2 ** 32 - 1), 104); // 2^32 - 104 forward: more than half the space, so behind
    assert.equal(imp(2 ** 31 + 50), 2 ** 31 + 50); // 2^31 - 54 forward: ahead
    assert.equal(imp(2 ** 32 - 1), 2 ** 32 - 1);
    assert.equal(imp(5), 5); // ahead across the wrap
    assert.equal(imp(2 ** 31 + 5), 6); // exactly 2^31 away: undefined, so not ahead
  });

  it('serials wrap past 2^32 - 1 to 1, never 0', () => {
    store.importZones([{ name: ZONE, serial: 2 ** 31, routes: [] }], PARAMS);
    store.importZones([{ name: ZONE, serial: 2 ** 32 - 1, routes: [] }], PARAMS);
    assert.equal(store.setRoute(ZONE, 'a', weighted('a'), PARAMS).serial, 1);
    assert.equal(store.setRoute(ZONE, 'a', weighted('b'), PARAMS).serial, 2);
    assert.deepEqual(
      store.journal(ZONE, 2 ** 32 - 1).map((e) => e.serial),
      [1, 2],
    );
  });

  it('keeps the epoch when none is given and never moves it backwards', () => {
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    store.flush(ZONE);
    store.flush(ZONE); // epoch 3
    store.importZones([{ name: ZONE, routes: [] }], PARAMS);
    assert.equal(store.zone(ZONE)?.epoch, 3);
    store.importZones([{ name: ZONE, epoch: 1, routes: [] }], PARAMS);
    assert.equal(store.zone(ZONE)?.epoch, 3);
    store.importZones([{ name: ZONE, epoch: 9, routes: [] }], PARAMS);
    assert.equal(store.zone(ZONE)?.epoch, 9);
  });

  it('updates only the given parameters of an existing zone', () => {
    store.setRoute(ZONE, 'a', weighted('a'), PARAMS);
    store.importZones([{ name: ZONE, params: { refresh: 7200, expire: undefined }, routes: [] }], PARAMS);
    const z = store.zone(ZONE)!;
    assert.deepEqual([z.refresh, z.expire, z.mname], [7200, PARAMS.expire, PARAMS.mname]);
  });

  const bad: [string, ZoneContent[], string][] = [
    ['an invalid route', [{ name: ZONE, routes: [{ path: 'a', spec: weighted() }] }], 'ERR_INVALID_ROUTE'],
    [
      'a duplicate path',
      [
        {
          name: ZONE,
          routes: [
            { path: 'a', spec: weighted('a') },
            { path: 'a', spec: weighted('b') },
          ],
        },
      ],
      'ERR_INVALID_ROUTE',
    ],
    [
      'a zone listed twice',
      [
        { name: ZONE2, routes: [] },
        { name: ZONE2, routes: [] },
      ],
      'ERR_INVALID_ZONE',
    ],
    ['a bad serial', [{ name: ZONE2, serial: 2 ** 32, routes: [] }], 'ERR_INVALID_ZONE'],
    ['bad parameters', [{ name: ZONE2, params: { nameservers: [] }, routes: [] }], 'ERR_INVALID_ZONE'],
  ];
  for (const [why, zones, code] of bad) {
    it(`rejects ${why} (${code}) and writes nothing, in any zone`, () => {
      store.setRoute(ZONE, 'keep', weighted('k'), PARAMS);
      // Listed first, valid: must be rolled back too.
      const ok: ZoneContent = { name: ZONE3, routes: [{ path: 'a', spec: weighted('a') }] };
      assert.throws(() => store.importZones([ok, ...zones], PARAMS), { code });
      assert.equal(store.zone(ZONE3), undefined);
      assert.equal(store.zone(ZONE)?.serial, 2);
      assert.equal(store.zone(ZONE2), undefined);
      assert.equal(store.getRoute(ZONE, 'keep')?.targets.length, 1);
    });
  }
});

/** `count` routes in path order: 1..5 targets (some sharing a target at another weight), every 7th an alias. */
function manyRoutes(count: number): ImportRoute[] {
  return Array.from({ length: count }, (_, i): ImportRoute => {
    const path = `svc${String(i).padStart(4, '0')}/r`;
    if (i % 7 === 3) return { path, spec: { ttl: i, alias: `r.svc0000.${ZONE}` } };
    const targets = Array.from({ length: 1 + (i % 5) }, (_, k) => ({
      target: lambda(`f${i}-${k % 3}`),
      weight: k,
      priority: 10 + (k % 2),
    }));
    const spec: RouteSpec = { policy: i % 2 ? 'fanout' : 'weighted', ttl: i, targets };
    if (i % 11 === 0) spec.metadata = { n: String(i) };
    return { path, spec };
  });
}

/** What the store gives back for imported routes. */
function stored(s: Store): ImportRoute[] {
  return [...s.listRoutes(ZONE)].map((r) => ({
    path: r.path,
    spec:
      r.alias !== undefined
        ? { ttl: r.ttl, alias: r.alias }
        : {
            policy: r.policy!,
            ttl: r.ttl,
            targets: r.targets,
            ...(Object.keys(r.metadata).length > 0 ? { metadata: r.metadata } : {}),
          },
  }));
}

describe('importZones writes many rows per statement', () => {
  // Around the statement sizes (64 routes, 128 targets) and their remainders.
  for (const count of [0, 1, 63, 64, 65, 129, 300]) {
    it(`${count} routes come back exactly`, () => {
      const routes = manyRoutes(count);
      const [result] = store.importZones([{ name: ZONE, routes }], PARAMS);
      assert.deepEqual(stored(store), routes);
      // Every row carries the import's serial and time (the values all rows of a statement share).
      const { at } = store.journal(ZONE).at(-1)!;
      for (const r of store.listRoutes(ZONE)) assert.deepEqual([r.serial, r.updatedAt], [result!.serial, at]);
    });
  }

  it('sorts routes given out of order, and takes a RouteList that builds each route when asked', () => {
    const routes = manyRoutes(150);
    store.importZones([{ name: ZONE, routes: [...routes].reverse() }], PARAMS);
    assert.deepEqual(stored(store), routes);
    let built = 0;
    const list: RouteList = {
      length: routes.length,
      at: (i) => {
        built++;
        return routes[i];
      },
      pathAt: (i) => routes[i]!.path,
      [Symbol.iterator]: () => routes[Symbol.iterator](),
    };
    store.importZones([{ name: ZONE, routes: list }], PARAMS);
    assert.deepEqual(stored(store), routes);
    assert.equal(built, routes.length, 'each route built once');
  });

  it('refuses a path given twice even when the two are not next to each other', () => {
    const routes = manyRoutes(100);
    const twice = [...routes, { path: routes[40]!.path, spec: weighted('x') }];
    assert.throws(() => store.importZones([{ name: ZONE, routes: twice }], PARAMS), {
      code: 'ERR_INVALID_ROUTE',
      message: new RegExp(`route '${routes[40]!.path}' appears twice`),
    });
  });
});

describe('importZones and foreign keys', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('turns them back on after an import, and after a failed one (a delete still cascades)', () => {
    const file = tmp.file('fk.db');
    const s = Store.open(file);
    const raw = new Database(file, { readonly: true });
    const targets = (path: string) =>
      raw.prepare('SELECT count(*) FROM targets WHERE path = ?').pluck().get(path) as number;
    try {
      s.importZones([{ name: ZONE, routes: manyRoutes(70) }], PARAMS);
      assert.throws(() => s.importZones([{ name: ZONE, routes: [{ path: 'a', spec: weighted() }] }], PARAMS));
      const path = manyRoutes(70)[4]!.path;
      assert.equal(targets(path), 5);
      // Without its cascade, deleting the route would leave its targets behind.
      s.deleteRoute(ZONE, path);
      assert.equal(targets(path), 0);
    } finally {
      raw.close();
      s.close();
    }
  });
});

describe('importZones scale', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('imports 100k routes with 2 targets each into a file (time printed, not asserted)', (t) => {
    const file = Store.open(tmp.file('big.db'));
    const routes = Array.from({ length: 100_000 }, (_, i) => ({
      path: `svc${i % 1000}/r${i}`,
      spec: {
        policy: 'weighted' as const,
        ttl: 300,
        targets: [
          { target: lambda(`f${i}`), weight: 90, priority: 10 },
          { target: lambda(`g${i}`), weight: 10, priority: 20 },
        ],
      },
    }));
    const start = performance.now();
    const [r] = file.importZones([{ name: ZONE, routes }], PARAMS);
    const ms = performance.now() - start;
    t.diagnostic(`importZones 100k routes x 2 targets: ${ms.toFixed(0)} ms`);
    assert.equal(r?.routes, 100_000);
    assert.equal(file.getRoute(ZONE, 'svc7/r99007')?.targets[1]?.target, lambda('g99007'));
    let n = 0;
    for (const _ of file.listRoutes(ZONE, 'svc7')) n++;
    assert.equal(n, 100);
    file.close();
  });
});
