/**
 * The UPDATEs of a remote apply (src/cli/remote/apply-update.ts), planned by planApply over a
 * store standing in for the server: the zones in an order where each UPDATE passes psarnd's
 * alias checks (an alias's target zone first, a re-pointed alias before the delete of its old
 * target), zones that need each other both ways refused before anything is sent, one message
 * per zone pinned to the zone's SOA as read, and a zone too big for one message split into
 * messages that each fit, routes with targets before the aliases into them.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RemoteApplyReader, type ZoneRead } from '../../src/cli/remote/apply-reader.js';
import { MAX_UPDATE_BYTES, zoneOrder, zoneUpdates } from '../../src/cli/remote/apply-update.js';
import type { RemoteSession } from '../../src/cli/remote/session.js';
import { parseRoutesYaml } from '../../src/config/routes-file.js';
import { applyRoutes, planApply } from '../../src/ops/apply.js';
import { routeName } from '../../src/psarn/name.js';
import { Store } from '../../src/store/store.js';
import { Class, Type } from '../../src/wire/types.js';
import { encodeUpdate, parseUpdate } from '../../src/wire/update.js';
import { soaRecord } from '../../src/zone/records.js';
import { routeRecords } from '../../src/zonefile/export.js';
import { PARAMS } from '../helpers/fixtures.js';

const E = 'arn:aws:psarn:us-east-1:123456789012';
const W = 'arn:aws:psarn:us-west-2:123456789012';
const EAST = '123456789012.us-east-1.aws.psarn.internal.';
const WEST = '123456789012.us-west-2.aws.psarn.internal.';
const L = 'arn:aws:lambda:us-east-1:123456789012:function';
const NS = 'psarn.internal.';
const OPTIONS = { file: 'r.yaml', defaultTtl: 300, namespace: NS, params: PARAMS };

let store: Store;
beforeEach(() => {
  store = Store.open(':memory:');
});
afterEach(() => store.close());

const entries = (yaml: string) => parseRoutesYaml(yaml, 'r.yaml');
const plan = (yaml: string, prune = false) => planApply(store, entries(yaml), { ...OPTIONS, prune });

/** The zone as an AXFR of psarnd would give it: its SOA, epoch, routes and their records. */
function zoneRead(zone: string): ZoneRead {
  const row = store.zone(zone);
  const read: ZoneRead = {
    zone,
    exists: row !== undefined,
    soa: undefined,
    epoch: 0,
    routes: new Map(),
    records: new Map(),
  };
  if (row === undefined) return read;
  read.soa = soaRecord(row);
  read.epoch = row.epoch;
  for (const route of store.listRoutes(zone)) {
    read.routes.set(route.path, route);
    for (const r of routeRecords(row, route)) read.records.set(r.name, [...(read.records.get(r.name) ?? []), r]);
  }
  return read;
}

let nextId = 1;
const id = () => nextId++;

describe('remote apply: the order of the zones', () => {
  it('an alias into a route another zone creates: that zone first, whatever the file order', () => {
    const yaml = `routes:
  - { psarn: "${E}:a", alias: "${W}:t" }
  - { psarn: "${W}:t", targets: ["${L}:t"] }
`;
    assert.deepEqual(zoneOrder(plan(yaml), store, NS), [WEST, EAST]);
    // Each zone needs the other first: east's alias leads through west's new alias to east's new route.
    const chain = `routes:
  - { psarn: "${E}:b", alias: "${W}:c" }
  - { psarn: "${W}:c", alias: "${E}:d" }
  - { psarn: "${E}:d", targets: ["${L}:d"] }
`;
    assert.throws(
      () => zoneOrder(plan(chain), store, NS),
      (err: Error) =>
        /^cannot apply over --server: aliases in zones .*us-east-1.*us-west-2.* point at routes this apply writes in each other's zones.*nothing was written$/.test(
          err.message,
        ),
    );
  });

  it('without aliases between them: the file order', () => {
    const yaml = `routes:
  - { psarn: "${W}:x", targets: ["${L}:x"] }
  - { psarn: "${E}:y", targets: ["${L}:y"] }
`;
    assert.deepEqual(zoneOrder(plan(yaml), store, NS), [WEST, EAST]);
  });

  it('an alias re-pointed away from a route --prune deletes in another zone: the alias zone first', () => {
    applyRoutes(
      store,
      entries(`routes:
  - { psarn: "${W}:old", targets: ["${L}:old"] }
  - { psarn: "${W}:new", targets: ["${L}:new"] }
  - { psarn: "${E}:alias", alias: "${W}:old" }
`),
      OPTIONS,
    );
    const yaml = `routes:
  - { psarn: "${W}:new", targets: ["${L}:new2"] }
  - { psarn: "${E}:alias", alias: "${W}:new" }
`;
    const p = plan(yaml, true);
    assert.deepEqual(
      p.items.map((i) => `${i.action} ${i.zone === WEST ? 'west' : 'east'} ${i.path}`),
      ['change west new', 'change east alias', 'delete west old'],
    );
    // File order is west then east; west deletes `old`, which east's alias points at until east's UPDATE.
    assert.deepEqual(zoneOrder(p, store, NS), [EAST, WEST]);
  });
});

describe('remote apply: the UPDATEs of a zone', () => {
  it('one message with every change, the zone pinned by its SOA as read (absent for a new zone)', () => {
    const yaml = `routes:
  - { psarn: "${E}:a", targets: ["${L}:a"] }
  - { psarn: "${E}:b", alias: "${E}:a" }
`;
    const fresh = zoneUpdates(zoneRead(EAST), plan(yaml).items, plan(yaml), store, NS, id);
    assert.equal(fresh.length, 1);
    const first = fresh[0]!.message.prerequisites![0]!;
    assert.deepEqual([first.name, first.type, first.klass], [EAST, Type.SOA, Class.NONE], 'no zone yet');
    applyRoutes(store, entries(yaml), OPTIONS);
    const changed = `routes:
  - { psarn: "${E}:a", targets: ["${L}:a2"] }
  - { psarn: "${E}:b", alias: "${E}:a" }
  - { psarn: "${E}:c", targets: ["${L}:c"] }
`;
    const p = plan(changed);
    const [update] = zoneUpdates(zoneRead(EAST), p.items, p, store, NS, id);
    const parsed = parseUpdate(encodeUpdate(update!.message));
    assert.equal(parsed.kind, 'update');
    if (parsed.kind !== 'update') return;
    const soa = parsed.update.prerequisites[0]!;
    assert.equal(soa.type, Type.SOA);
    assert.equal(soa.klass, Class.IN, 'value dependent: the SOA RDATA as read, serial included');
    assert.equal(soa.rdata.readUInt32BE(soa.rdata.length - 20), store.zone(EAST)!.serial);
    // Every delete before any add (a CNAME shares its name with nothing).
    const kinds = parsed.update.updates.map((u) => (u.klass === Class.ANY ? 'delete' : 'add'));
    assert.deepEqual(
      kinds,
      [...kinds].sort((a, b) => (a === b ? 0 : a === 'delete' ? -1 : 1)),
    );
    assert.ok(parsed.update.updates.some((u) => u.name === routeName(EAST, 'c')));
  });

  it('too big for one message: several, each within 64 KiB with its TSIG, routes before the aliases into them', () => {
    const aliases = [`  - { psarn: "${E}:z2", alias: "${E}:z1" }\n`, `  - { psarn: "${E}:z1", alias: "${E}:r399" }\n`];
    const routes = Array.from(
      { length: 400 },
      (_, i) =>
        `  - { psarn: "${E}:r${i}", targets: ["${L}:function-number-${i}-primary", "${L}:function-number-${i}-backup@20"] }\n`,
    );
    const yaml = `routes:\n${aliases.join('')}${routes.join('')}`;
    const p = plan(yaml);
    const updates = zoneUpdates(zoneRead(EAST), p.items, p, store, NS, id);
    assert.ok(updates.length >= 3, `${updates.length} messages`);
    for (const [i, u] of updates.entries()) {
      assert.ok(encodeUpdate(u.message).length <= MAX_UPDATE_BYTES, `message ${i} fits`);
      assert.equal(
        u.message.prerequisites!.filter((r) => r.type === Type.SOA).length,
        i === 0 ? 1 : 0,
        'SOA pinned once',
      );
    }
    assert.deepEqual(
      updates.flatMap((u) => u.items.map((i) => i.path)).sort(),
      p.items.map((i) => i.path).sort(),
      'every route once',
    );
    // Written in that order, each message passes the store's own alias checks (what psarnd runs).
    for (const u of updates) {
      store.editRoutes(
        EAST,
        u.items.map((i) => ({ path: i.path, make: () => i.spec })),
        PARAMS,
      );
    }
    assert.equal(planApply(store, entries(yaml), OPTIONS).items.length, 0);
  });
});

describe('remote apply: the reader', () => {
  it('a zone not read yet: no route, and noted (every zone for a listing of all) for the next round', () => {
    const reader = new RemoteApplyReader({} as RemoteSession, NS);
    assert.equal(reader.getRoute(EAST, 'a'), undefined);
    assert.deepEqual([...reader.listRoutes(WEST)], []);
    assert.deepEqual(reader.takeMissing(), [EAST, WEST]);
    assert.equal(reader.takeMissing(), undefined, 'taken');
    assert.deepEqual([...reader.listRoutes()], []);
    reader.getRoute(EAST, 'a');
    assert.equal(reader.takeMissing(), 'all');
    assert.deepEqual([...reader.operations()], []);
  });
});
