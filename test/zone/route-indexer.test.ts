/**
 * RouteIndexer against a real Store and StoreZoneView: after each write, `view.refresh()` and
 * `indexer.apply(changes)` (what the daemon's poll does), a handler with the index must answer as
 * one without it, from the index for every target route and from the answer function for the
 * rest. The worker-thread build runs from dist (it loads dist/src/zone/route-index-worker.js).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import type { RouteSpec, ZoneRow } from '../../src/store/index.js';
import { Store } from '../../src/store/index.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { RouteIndexer } from '../../src/zone/route-indexer.js';
import { StoreZoneView, type ZoneChanges } from '../../src/zone/store-view.js';
import { lambda, PARAMS, tempDir, weighted, ZONE as Z, ZONE2 as Z2 } from '../store/helpers.js';

const Z3 = '333333333333.ap-south-1.aws.psarn.internal.';
/** The worker is the compiled route-index-worker.js: there is none under tsx. */
const compiled = !import.meta.url.endsWith('.ts');

function routeName(zone: string, path: string): string {
  return `${path.split('/').reverse().join('.')}.${zone}`;
}

const fanout = (...names: string[]): RouteSpec => ({ ...weighted(...names), policy: 'fanout', ttl: 60 });
const alias = (zone: string, path: string): RouteSpec => ({ ttl: 60, alias: routeName(zone, path) });

/**
 * A view, an indexer, and the daemon's poll over one store. `force`: the writes go through this
 * same connection (':memory:'), whose commits PRAGMA data_version does not report.
 */
function harness(
  store: Store,
  options: { inline: boolean; force?: boolean; inlineZoneRoutes?: number; buildWorkers?: number },
) {
  const view = new StoreZoneView(store, { epochTtl: 5 });
  view.refresh(true);
  const builds: number[] = [];
  const workers: number[] = [];
  const errors: unknown[] = [];
  const indexer = new RouteIndexer({
    store,
    zones: () => view.zones(),
    inline: options.inline,
    ...(options.inlineZoneRoutes !== undefined ? { inlineZoneRoutes: options.inlineZoneRoutes } : {}),
    // A test store is small: split it all the same.
    ...(options.buildWorkers !== undefined ? { buildWorkers: options.buildWorkers, parallelMinRoutes: 10 } : {}),
    onBuilt: ({ routes, parts }) => {
      builds.push(routes);
      workers.push(parts);
      // A runaway inline rebuild loop (a regression of #adopt) is cut short here, not at the stack limit.
      // (In a worker build the throw would be an unhandled rejection: only inline.)
      if (options.inline && builds.length > 20) throw new Error('more than 20 builds in one test: runaway rebuild');
    },
    onError: (error) => errors.push(error),
  });
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const log = pino({ level: 'silent' });
  // A fresh cache for each question: what is compared is the index against the store.
  const make = (routes?: RouteIndexer) =>
    new QueryHandler({
      view,
      cache: new AnswerCache(),
      ...(routes ? { routes } : {}),
      metrics,
      log,
      udpPayloadSize: 1232,
    });
  return {
    view,
    indexer,
    builds,
    workers,
    errors,
    /** What the daemon does every pollMs. */
    poll(): ZoneChanges | undefined {
      const changes = view.refresh(options.force === true);
      if (changes !== undefined) indexer.apply(changes);
      return changes;
    },
    /**
     * Asks a handler with the index and one without; they must agree byte for byte.
     * @returns the reply and whether it came from the index.
     */
    ask(name: string, qtype: number): { rcode: number; targets: string[]; epoch?: string; hit: boolean } {
      const request = encodeQuery({ id: 4242, name, qtype });
      const hits = metrics.indexHits.series().value;
      const got = make(indexer).handle(request, 'tcp')!;
      const hit = metrics.indexHits.series().value > hits;
      const want = make().handle(request, 'tcp')!;
      assert.deepEqual(got, want, `${name} type ${qtype}: the index and the answer function disagree`);
      const m = decodeMessage(got);
      const targets = m.answer.flatMap((r) => (r.type === 'URI' && 'target' in r ? [r.target] : []));
      const txt = [...m.answer, ...m.additional].find((r) => r.type === 'TXT');
      const epoch = txt && 'strings' in txt ? txt.strings.find((s) => s.startsWith('epoch=')) : undefined;
      return { rcode: m.rcode, targets, ...(epoch ? { epoch } : {}), hit };
    },
  };
}

type Harness = ReturnType<typeof harness>;

/** Every target route must come from the index (all three types), the others must not. */
function assertServed(h: Harness, routes: [string, string][], misses: [string, string][] = []): void {
  for (const [zone, path] of routes) {
    for (const qtype of [Type.URI, Type.TXT, Type.ANY]) {
      assert.equal(h.ask(routeName(zone, path), qtype).hit, true, `${path} in ${zone} type ${qtype} from the index`);
    }
  }
  for (const [zone, path] of misses) {
    assert.equal(h.ask(routeName(zone, path), Type.URI).hit, false, `${path} in ${zone} not from the index`);
  }
}

function seed(store: Store): void {
  store.setRoute(Z, 'orders/created', weighted('v1', 'v2'), PARAMS);
  store.setRoute(Z, 'orders/audit', fanout('audit'), PARAMS);
  store.setRoute(Z, 'orders/latest', alias(Z, 'orders/created'), PARAMS);
  store.setRoute(Z2, 'payments/charge', weighted('charge'), PARAMS);
}

describe('RouteIndexer, built inline', () => {
  let store: Store;
  let h: Harness;
  const zoneRow = (name: string): ZoneRow => h.view.zones().find((z) => z.name === name)!;

  function start(): void {
    store = Store.open(':memory:');
    seed(store);
    h = harness(store, { inline: true, force: true });
    h.indexer.rebuild();
  }
  afterEach(async () => {
    await h.indexer.close();
    store.close();
  });

  it('indexes every target route of every zone; aliases and other names go to the answer function', () => {
    start();
    assert.deepEqual(h.builds, [3]);
    assert.equal(h.indexer.building, false);
    assert.deepEqual(h.ask(routeName(Z, 'orders/created'), Type.URI).targets, [lambda('v1'), lambda('v2')]);
    assertServed(
      h,
      [
        [Z, 'orders/created'],
        [Z, 'orders/audit'],
        [Z2, 'payments/charge'],
      ],
      [
        [Z, 'orders/latest'],
        [Z, 'orders'],
        [Z, 'orders/missing'],
        [Z2, 'orders/created'],
      ],
    );
    assert.deepEqual(h.ask(routeName(Z, 'orders/latest'), Type.URI).targets, [lambda('v1'), lambda('v2')]);
  });

  it('a route set, replaced or deleted through the store is answered as the store now says', () => {
    start();
    store.setRoute(Z, 'orders/shipped', fanout('ship-a', 'ship-b'), PARAMS);
    store.setRoute(Z, 'orders/created', weighted('v3'), PARAMS);
    store.deleteRoute(Z, 'orders/audit');
    assert.ok(h.poll());
    assert.equal(h.indexer.index?.size, 3);
    assertServed(
      h,
      [
        [Z, 'orders/shipped'],
        [Z, 'orders/created'],
      ],
      [[Z, 'orders/audit']],
    );
    assert.deepEqual(h.ask(routeName(Z, 'orders/created'), Type.ANY).targets, [lambda('v3')]);
    assert.equal(h.ask(routeName(Z, 'orders/audit'), Type.URI).rcode, Rcode.NXDOMAIN);
    assert.deepEqual(h.builds, [3], 'applied in place, no rebuild');
  });

  it('a change it fails to apply drops the index and rebuilds it: never a stale answer', () => {
    start();
    const read = store.routeData.bind(store);
    let fail = true;
    store.routeData = (zoneId, path) => {
      if (fail) throw new Error('SQLITE_IOERR: disk I/O error (injected)');
      return read(zoneId, path);
    };
    store.setRoute(Z, 'orders/created', weighted('v9'), PARAMS);
    try {
      h.poll();
      fail = false; // the rebuild (inline, inside poll) already ran: fail only the first read
    } finally {
      store.routeData = read;
    }
    assert.equal(h.errors.length, 1);
    assert.match(String(h.errors[0]), /injected/);
    assert.deepEqual(h.builds, [3, 3], 'rebuilt after the failure');
    assertServed(h, [[Z, 'orders/created']]);
    assert.deepEqual(h.ask(routeName(Z, 'orders/created'), Type.URI).targets, [lambda('v9')]);
  });

  it('a target route turned into an alias leaves the index (the CNAME comes from the answer function)', () => {
    start();
    store.setRoute(Z, 'orders/audit', alias(Z2, 'payments/charge'), PARAMS);
    h.poll();
    assertServed(h, [[Z2, 'payments/charge']], [[Z, 'orders/audit']]);
    const m = h.ask(routeName(Z, 'orders/audit'), Type.URI);
    assert.deepEqual(m.targets, [lambda('charge')]);
    // And back.
    store.setRoute(Z, 'orders/audit', fanout('audit-2'), PARAMS);
    h.poll();
    assertServed(h, [[Z, 'orders/audit']]);
  });

  it('a flush changes the epoch in every route TXT, without a rebuild', () => {
    start();
    const before = zoneRow(Z).epoch;
    store.flush(Z);
    h.poll();
    const epoch = `epoch=${before + 1}`;
    assert.equal(h.ask(routeName(Z, 'orders/created'), Type.TXT).epoch, epoch);
    assert.equal(h.ask(routeName(Z, 'orders/audit'), Type.URI).epoch, epoch);
    assert.equal(h.ask(routeName(Z2, 'payments/charge'), Type.TXT).epoch, `epoch=${zoneRow(Z2).epoch}`);
    assertServed(h, [
      [Z, 'orders/created'],
      [Z, 'orders/audit'],
    ]);
    assert.deepEqual(h.builds, [3]);
  });

  // A zone the journal cannot say what changed in (an import, a new zone) is loaded in place when
  // it is small, else dropped and left to a rebuild: both ways, the same answers.
  for (const [how, limit, rebuilds] of [
    ['loaded in place', undefined, 0],
    ['rebuilt (over inlineZoneRoutes)', 1, 1],
  ] as const) {
    const begin = (): void => {
      store = Store.open(':memory:');
      seed(store);
      h = harness(store, { inline: true, force: true, ...(limit !== undefined ? { inlineZoneRoutes: limit } : {}) });
      h.indexer.rebuild();
    };

    it(`an import: the zone is ${how}`, () => {
      begin();
      store.importZones(
        [
          {
            name: Z,
            routes: [
              { path: 'orders/created', spec: weighted('imported') },
              { path: 'billing/invoice', spec: fanout('invoice') },
            ],
          },
        ],
        PARAMS,
      );
      h.poll();
      assert.equal(h.builds.length, 1 + rebuilds);
      assertServed(
        h,
        [
          [Z, 'orders/created'],
          [Z, 'billing/invoice'],
          [Z2, 'payments/charge'],
        ],
        [
          [Z, 'orders/audit'],
          [Z, 'orders/latest'],
        ],
      );
      assert.deepEqual(h.ask(routeName(Z, 'orders/created'), Type.URI).targets, [lambda('imported')]);
    });

    it(`a new zone is ${how}, a removed zone is dropped`, () => {
      begin();
      store.setRoute(Z3, 'jobs/run', weighted('run'), PARAMS);
      const changes = h.poll();
      assert.deepEqual(
        changes?.added.map((z) => z.name),
        [Z3],
      );
      assert.equal(h.builds.length, 1 + rebuilds);
      assertServed(h, [
        [Z3, 'jobs/run'],
        [Z, 'orders/created'],
      ]);
      // The store has no zone removal; a refresh that finds a zone gone reports it like this.
      h.indexer.apply({ changed: [], keys: [], entries: new Map(), added: [], removed: [Z2] });
      assert.equal(h.indexer.index?.hasZone(Z2), false);
      assertServed(h, [[Z3, 'jobs/run']], [[Z2, 'payments/charge']]);
    });

    it(`a change the journal does not name (no entries): the zone is ${how}`, () => {
      begin();
      h.indexer.apply({ changed: [zoneRow(Z)], keys: [], entries: new Map(), added: [], removed: [] });
      assert.equal(h.builds.length, 1 + rebuilds);
      assertServed(h, [
        [Z, 'orders/created'],
        [Z2, 'payments/charge'],
      ]);
    });
  }

  it('changes applied before the first build are left to it', () => {
    store = Store.open(':memory:');
    seed(store);
    h = harness(store, { inline: true, force: true });
    store.setRoute(Z, 'orders/early', weighted('early'), PARAMS);
    h.poll(); // no index yet: nothing to apply to
    assert.equal(h.indexer.index, undefined);
    assert.equal(h.ask(routeName(Z, 'orders/early'), Type.URI).hit, false);
    h.indexer.rebuild();
    assertServed(h, [[Z, 'orders/early']]);
  });

  it('a rebuild while the view is behind the store keeps the zone indexed', {}, () => {
    store = Store.open(':memory:');
    seed(store);
    h = harness(store, { inline: true, force: true });
    store.setRoute(Z, 'orders/late', weighted('late'), PARAMS); // committed, not yet refreshed
    h.indexer.rebuild();
    assert.deepEqual(h.errors, []);
    assert.equal(h.builds.length, 1);
    assert.equal(h.indexer.index?.hasZone(Z), true);
    h.poll();
    assertServed(h, [
      [Z, 'orders/late'],
      [Z, 'orders/created'],
    ]);
  });
});

describe('RouteIndexer, built in a worker thread', { skip: compiled ? false : 'the worker runs from dist' }, () => {
  let temp: ReturnType<typeof tempDir>;
  /** The daemon's connection (view, indexer) and the writer's, as the CLI in another process. */
  let store: Store;
  let writer: Store;
  let h: Harness | undefined;
  before(() => {
    temp = tempDir();
  });
  after(() => temp.cleanup());
  afterEach(async () => {
    await h?.indexer.close();
    h = undefined;
    store.close();
    writer.close();
  });

  /** A file database with the seed and `count` more routes in Z; opens both connections. */
  function open(name: string, count: number): void {
    writer = Store.open(temp.file(name));
    seed(writer);
    const routes = Array.from({ length: count }, (_, i) => ({ path: `bulk/r${i}`, spec: weighted(`bulk-${i}`) }));
    const kept = [
      { path: 'orders/created', spec: weighted('v1', 'v2') },
      { path: 'orders/audit', spec: fanout('audit') },
      { path: 'orders/latest', spec: alias(Z, 'orders/created') },
    ];
    writer.importZones([{ name: Z, routes: [...kept, ...routes] }], PARAMS);
    store = Store.open(temp.file(name), { create: false });
  }

  /** Waits for the index to be adopted, polling as the daemon does; bounded. */
  async function adopted(harness: Harness, during: () => void = () => {}): Promise<void> {
    const deadline = performance.now() + 10_000;
    while (harness.indexer.index === undefined) {
      assert.ok(performance.now() < deadline, `no index after 10 s; errors: ${harness.errors.join('; ')}`);
      during();
      harness.poll();
      await sleep(2);
    }
  }

  for (const buildWorkers of [1, 3]) {
    it(`applies what was committed during the build from the journal on adoption (${buildWorkers} build workers)`, async () => {
      open(`during-${buildWorkers}.db`, 3000);
      h = harness(store, { inline: false, buildWorkers });
      h.indexer.rebuild();
      assert.equal(h.indexer.building, true);
      let n = 0;
      const deleted: string[] = [];
      // Commit while the worker reads its snapshot, and refresh after each as the poll would.
      await adopted(h, () => {
        if (n >= 1000) return; // bulk/r{n} and bulk/r{2999 - n} stay apart
        writer.setRoute(Z, `during/r${n}`, weighted(`during-${n}`), PARAMS);
        writer.setRoute(Z, `bulk/r${n}`, fanout(`replaced-${n}`), PARAMS);
        writer.deleteRoute(Z, `bulk/r${2999 - n}`);
        deleted.push(`bulk/r${2999 - n}`);
        n++;
      });
      assert.ok(n > 0, 'the build finished before anything was committed');
      assert.deepEqual(h.errors, []);
      assert.equal(h.builds.length, 1, 'adopted as built, with the journal applied; no rebuild');
      // After adoption, the usual path.
      writer.setRoute(Z, 'after/adoption', weighted('after'), PARAMS);
      h.poll();
      // bulk (3000) - deleted (n) + during (n) + orders/created, orders/audit, payments/charge, after/adoption.
      assert.equal(h.indexer.index?.size, 3000 + 4);
      const during = Array.from({ length: n }, (_, i): [string, string] => [Z, `during/r${i}`]);
      assertServed(
        h,
        [...during, [Z, 'bulk/r0'], [Z, `bulk/r${n - 1}`], [Z, 'after/adoption'], [Z2, 'payments/charge']],
        deleted.map((path): [string, string] => [Z, path]),
      );
      assert.deepEqual(h.ask(routeName(Z, 'bulk/r0'), Type.URI).targets, [lambda('replaced-0')]);
      assert.deepEqual(h.workers, [buildWorkers], 'the parts the build was made of');
    });
  }

  it('close() during a build stops it: nothing adopted, no error reported', async () => {
    open('close.db', 100);
    h = harness(store, { inline: false });
    h.indexer.rebuild();
    assert.equal(h.indexer.building, true);
    await h.indexer.close();
    // The build's promise settles on the worker's exit; let its handlers run.
    for (let i = 0; i < 100 && h.indexer.building; i++) await sleep(5);
    assert.equal(h.indexer.building, false);
    assert.equal(h.indexer.index, undefined);
    assert.deepEqual(h.errors, []);
    assert.deepEqual(h.builds, []);
    h.indexer.rebuild(); // closed: no new build
    assert.equal(h.indexer.building, false);
    // The answer function still answers.
    assert.equal(h.ask(routeName(Z, 'orders/created'), Type.URI).hit, false);
  });

  it('a snapshot newer than the view keeps its zones', {}, async () => {
    open('ahead.db', 10);
    h = harness(store, { inline: false });
    writer.setRoute(Z, 'orders/late', weighted('late'), PARAMS); // committed, not yet refreshed
    h.indexer.rebuild();
    const deadline = performance.now() + 10_000;
    while (h.indexer.index === undefined && performance.now() < deadline) await sleep(2);
    assert.equal(h.indexer.index?.hasZone(Z), true, 'zone dropped on adoption');
    assert.equal(h.builds.length, 1);
  });
});
