/**
 * `psarn apply`'s plan and write (src/ops/apply.ts) over a real store: what the plan says, that
 * a plan writes nothing, that the write is one transaction across zones (a failure in the middle
 * leaves every zone as it was), idempotence, the scope of prune, aliases checked on the result
 * of the whole plan, and routes an active rollout or hold owns.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseRoutesYaml, RoutesFileError } from '../../src/config/routes-file.js';
import { type ApplyWriteOptions, applyRoutes, planApply } from '../../src/ops/apply.js';
import { Store } from '../../src/store/store.js';
import { type EditOptions, type RouteEdit, StoreError, type ZoneParams } from '../../src/store/types.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';

const A = 'arn:aws:psarn:us-east-1:123456789012';
const W = 'arn:aws:psarn:us-west-2:123456789012';
const WEST = '123456789012.us-west-2.aws.psarn.internal.';
const L = 'arn:aws:lambda:us-east-1:123456789012:function';
const OPTIONS: ApplyWriteOptions = {
  file: 'r.yaml',
  defaultTtl: 300,
  namespace: 'psarn.internal.',
  params: PARAMS,
  actor: 'user:alice',
};

let store: Store;
beforeEach(() => {
  store = Store.open(':memory:');
});
afterEach(() => store.close());

const file = (yaml: string) => parseRoutesYaml(yaml, 'r.yaml');
const apply = (yaml: string, extra: Partial<ApplyWriteOptions> = {}) =>
  applyRoutes(store, file(yaml), { ...OPTIONS, ...extra });
const plan = (yaml: string, prune = false) => planApply(store, file(yaml), { ...OPTIONS, prune });

/** Everything a write could change: each zone's serial and epoch, its routes, its journal. */
function snapshot(): string {
  return JSON.stringify(
    store.zones().map((z) => ({
      zone: z.name,
      serial: z.serial,
      epoch: z.epoch,
      routes: [...store.listRoutes(z.name)],
      journal: store.journal(z.name),
    })),
  );
}

const TWO_ZONES = `
routes:
  - psarn: ${A}:orders/created
    ttl: 60
    targets: ["${L}:v1=90", "${L}:v2=10"]
  - psarn: ${A}:orders/latest
    alias: ${A}:orders/created
  - psarn: ${W}:orders/created
    policy: fanout
    targets: ["${L}:w"]
`;

describe('planApply', () => {
  it('an empty database: every route is an add, in file order, with the route it will be', () => {
    const p = plan(TWO_ZONES);
    assert.deepEqual(
      p.items.map((i) => [i.action, i.psarn, i.line, i.before]),
      [
        ['add', `${A}:orders/created`, 3, undefined],
        ['add', `${A}:orders/latest`, 6, undefined],
        ['add', `${W}:orders/created`, 8, undefined],
      ],
    );
    assert.deepEqual([p.add, p.change, p.delete, p.unchanged], [3, 0, 0, 0]);
    assert.deepEqual(p.zones, [ZONE, WEST]);
    const created = p.items[0]!.after!;
    assert.equal(created.ttl, 60);
    assert.equal(created.policy, 'weighted');
    assert.deepEqual(created.targets, [
      { target: `${L}:v1`, weight: 90, priority: 10 },
      { target: `${L}:v2`, weight: 10, priority: 10 },
    ]);
    // ttl absent: the config's defaultTtl, as psarnd loads the demo routes.
    assert.equal(p.items[1]!.after!.ttl, 300);
    assert.equal(p.items[1]!.after!.alias, `created.orders.${ZONE}`);
  });

  it('writes nothing (a dry run)', () => {
    apply(`routes:\n  - { psarn: "${A}:x", targets: ["${L}:x"] }\n`);
    const before = snapshot();
    const p = plan(TWO_ZONES, true);
    assert.equal(p.items.length, 4);
    assert.equal(snapshot(), before);
  });

  it('changes: only routes that differ, the stored route before and the file route after', () => {
    apply(TWO_ZONES);
    store.setRoute(
      ZONE,
      'orders/created',
      { policy: 'weighted', ttl: 60, targets: [{ target: `${L}:v1`, weight: 50, priority: 10 }], metadata: { a: 'b' } },
      PARAMS,
    );
    const p = plan(TWO_ZONES);
    assert.deepEqual(
      p.items.map((i) => [i.action, i.psarn, i.line]),
      [['change', `${A}:orders/created`, 3]],
    );
    assert.deepEqual([p.add, p.change, p.delete, p.unchanged], [0, 1, 0, 2]);
    const [item] = p.items;
    assert.deepEqual(item!.before!.targets, [{ target: `${L}:v1`, weight: 50, priority: 10 }]);
    assert.deepEqual(item!.after!.targets.length, 2);
    // metadata absent from the file: none (the file is the truth for the routes it lists).
    assert.deepEqual(item!.before!.metadata, { a: 'b' });
    assert.deepEqual(item!.after!.metadata, {});
  });

  it('a route the store would refuse is an error at its line, before anything is written', () => {
    assert.throws(
      () =>
        plan(
          `routes:\n  - psarn: ${A}:a\n    targets: [${L}:f]\n  - psarn: ${A}:b\n    targets: ["${L}:g=5", "${L}:g=5"]\n`,
        ),
      (err: unknown) =>
        err instanceof RoutesFileError &&
        err.line === 4 &&
        err.message ===
          `r.yaml:4: ${A}:b: target 2 '${L}:g' repeats an earlier target with the same weight and priority`,
    );
  });
});

describe('applyRoutes', () => {
  it('applies the plan: one serial bump per zone touched, journaled as the actor', () => {
    const r = apply(TWO_ZONES);
    assert.deepEqual(r.serials, [
      { zone: ZONE, serial: store.zone(ZONE)!.serial },
      { zone: WEST, serial: store.zone(WEST)!.serial },
    ]);
    // A zone the apply creates is at serial 1 (its creation); the routes take one more, together.
    const journal = store.journal(ZONE).filter((j) => j.op === 'set');
    assert.deepEqual(
      journal.map((j) => [j.path, j.serial, j.actor]),
      [
        ['orders/created', store.zone(ZONE)!.serial, 'user:alice'],
        ['orders/latest', store.zone(ZONE)!.serial, 'user:alice'],
      ],
    );
    assert.equal(store.getRoute(ZONE, 'orders/latest')!.alias, `created.orders.${ZONE}`);
    assert.deepEqual(store.getRoute(WEST, 'orders/created')!.policy, 'fanout');
  });

  it('is idempotent: the second apply changes nothing and bumps no serial', () => {
    apply(TWO_ZONES);
    const before = snapshot();
    const again = apply(TWO_ZONES);
    assert.deepEqual(again.plan.items, []);
    assert.equal(again.plan.unchanged, 3);
    assert.deepEqual(again.serials, []);
    assert.equal(snapshot(), before);
  });

  it('a change bumps only the zones it touches', () => {
    apply(TWO_ZONES);
    const west = store.zone(WEST)!.serial;
    const east = store.zone(ZONE)!.serial;
    const r = apply(TWO_ZONES.replace('ttl: 60', 'ttl: 61'));
    assert.deepEqual(r.serials, [{ zone: ZONE, serial: east + 1 }]);
    assert.equal(store.zone(WEST)!.serial, west);
    assert.equal(store.getRoute(ZONE, 'orders/created')!.ttl, 61);
  });

  it('one transaction: a failure in the middle of a multi-zone apply leaves every zone as it was', () => {
    apply(TWO_ZONES);
    const before = snapshot();
    // The second zone's write happens, then fails: the first zone's write must be undone too.
    const real = store.editRoutes.bind(store);
    let calls = 0;
    store.editRoutes = (zone: string, edits: readonly RouteEdit[], params: ZoneParams, options?: EditOptions) => {
      const result = real(zone, edits, params, options);
      if (++calls === 2) throw new Error('injected: disk full');
      return result;
    };
    const changed = TWO_ZONES.replace('ttl: 60', 'ttl: 5').replace('policy: fanout', 'policy: weighted');
    assert.throws(() => applyRoutes(store, file(changed), OPTIONS), /injected: disk full/);
    assert.equal(calls, 2);
    assert.equal(snapshot(), before);
    // And a new zone the failed apply would have created is not there either.
    calls = 0;
    const more = `${changed}  - { psarn: "arn:aws:psarn:eu-west-1:123456789012:x", targets: ["${L}:x"] }\n`;
    assert.throws(() => applyRoutes(store, file(more), OPTIONS), /injected/);
    assert.equal(snapshot(), before);
    assert.equal(store.zone('123456789012.eu-west-1.aws.psarn.internal.'), undefined);
  });

  it('--prune deletes only the routes of the zones the file names, never other zones', () => {
    apply(`
routes:
  - { psarn: "${A}:keep", targets: ["${L}:k"] }
  - { psarn: "${A}:old", targets: ["${L}:o"] }
  - { psarn: "${W}:other", targets: ["${L}:w"] }
`);
    const p = plan(`routes:\n  - { psarn: "${A}:keep", targets: ["${L}:k"] }\n`, true);
    assert.deepEqual(
      p.items.map((i) => [i.action, i.psarn, i.line]),
      [['delete', `${A}:old`, undefined]],
    );
    // Without --prune nothing is deleted.
    assert.deepEqual(plan(`routes:\n  - { psarn: "${A}:keep", targets: ["${L}:k"] }\n`).items, []);
    const r = apply(`routes:\n  - { psarn: "${A}:keep", targets: ["${L}:k"] }\n`, { prune: true });
    assert.deepEqual(r.plan.delete, 1);
    assert.equal(store.getRoute(ZONE, 'old'), undefined);
    assert.ok(store.getRoute(WEST, 'other'), 'the zone the file does not name is untouched');
    // A file naming no zone prunes nothing.
    assert.deepEqual(plan('routes: []\n', true).items, []);
  });

  it('aliases are checked on the result of the whole plan: an alias to a route the same file creates, in another zone written later', () => {
    const r = apply(`
routes:
  - psarn: ${A}:latest
    alias: ${W}:new
  - psarn: ${W}:new
    targets: ["${L}:n"]
`);
    assert.deepEqual(
      r.serials.map((s) => s.zone),
      [ZONE, WEST],
    );
    assert.equal(store.getRoute(ZONE, 'latest')!.alias, `new.${WEST}`);
    // A chain through an alias the same file creates.
    apply(`routes:\n  - { psarn: "${A}:b", alias: "${A}:c" }\n  - { psarn: "${A}:c", alias: "${W}:new" }\n`);
    assert.equal(store.getRoute(ZONE, 'b')!.alias, `c.${ZONE}`);
  });

  it('refuses an alias to nothing, a loop, and a prune that would leave an alias outside the file dangling', () => {
    const before = snapshot();
    const refused = (yaml: string, message: string, prune = false) =>
      assert.throws(
        () => apply(yaml, { prune }),
        (err: unknown) => err instanceof RoutesFileError && err.message === message,
      );
    refused(
      `routes:\n  - { psarn: "${A}:a", targets: ["${L}:a"] }\n  - { psarn: "${A}:b", alias: "${A}:nothing" }\n`,
      `r.yaml:3: ${A}:b: alias points at ${A}:nothing, which is not a route (not in the file, nor in the database)`,
    );
    refused(
      `routes:\n  - { psarn: "${A}:a", alias: "${A}:b" }\n  - { psarn: "${A}:b", alias: "${A}:a" }\n`,
      `r.yaml:2: ${A}:a: alias would make a loop: ${A}:a → ${A}:b → ${A}:a`,
    );
    // The line is the alias's own, in a block mapping.
    refused(
      `routes:\n  - psarn: ${A}:d\n    ttl: 5\n    alias: ${A}:gone\n`,
      `r.yaml:4: ${A}:d: alias points at ${A}:gone, which is not a route (not in the file, nor in the database)`,
    );
    // A chain of 9 aliases: a DNS answer follows at most 8 CNAMEs.
    const chain = Array.from({ length: 9 }, (_, i) => `  - { psarn: "${A}:c${i}", alias: "${A}:c${i + 1}" }`);
    refused(
      `routes:\n${chain.join('\n')}\n  - { psarn: "${A}:c9", targets: ["${L}:c"] }\n`,
      `r.yaml:2: ${A}:c0: alias would make a chain of more than 8 aliases: ${Array.from({ length: 9 }, (_, i) => `${A}:c${i}`).join(' → ')} → …; a DNS answer follows at most 8 CNAMEs`,
    );
    assert.equal(snapshot(), before);
    apply(`routes:\n  - { psarn: "${A}:a", targets: ["${L}:a"] }\n`);
    apply(`routes:\n  - { psarn: "${W}:to-a", alias: "${A}:a" }\n`);
    refused(
      `routes:\n  - { psarn: "${A}:z", targets: ["${L}:z"] }\n`,
      `r.yaml: ${A}:a: --prune would delete this route, which alias ${W}:to-a (not in the file) points at; re-point or delete that alias, or list the route in the file`,
      true,
    );
    // In the file, re-pointed: fine.
    refused(
      `routes:\n  - { psarn: "${A}:z", targets: ["${L}:z"] }\n  - { psarn: "${W}:to-a", alias: "${A}:a" }\n`,
      `r.yaml:3: ${W}:to-a: alias points at ${A}:a, which is not a route (this apply deletes it)`,
      true,
    );
    apply(`routes:\n  - { psarn: "${A}:z", targets: ["${L}:z"] }\n  - { psarn: "${W}:to-a", alias: "${A}:z" }\n`, {
      prune: true,
    });
    assert.equal(store.getRoute(ZONE, 'a'), undefined);
  });

  it('refuses to change a route an active rollout or hold owns, naming it; an unchanged one is fine', () => {
    apply(TWO_ZONES);
    const saved = store.getRoute(ZONE, 'orders/created')!;
    const op = store.insertOperation({
      zone: ZONE,
      path: 'orders/created',
      kind: 'rollout',
      status: 'running',
      saved,
      state: {},
    });
    // The file as the store has it: no change, no refusal.
    assert.deepEqual(apply(TWO_ZONES).serials, []);
    const before = snapshot();
    const changed = TWO_ZONES.replace('ttl: 60', 'ttl: 5').replace('policy: fanout', 'policy: weighted');
    const p = plan(changed);
    assert.deepEqual(
      p.blocked.map((b) => [b.item.psarn, b.operation]),
      [[`${A}:orders/created`, { id: op.id, kind: 'rollout', status: 'running' }]],
    );
    assert.throws(
      () => apply(changed),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === 'ERR_OPERATION_CONFLICT' &&
        err.message ===
          `cannot apply: ${A}:orders/created has rollout ${op.id} running (end it first: psarn rollout promote|abort ${A}:orders/created); apply changes no route an operation owns, so nothing was written`,
    );
    assert.equal(snapshot(), before, 'the other zone was not written either');
    store.updateOperation(op.id, { status: 'aborted' });
    assert.equal(apply(changed).serials.length, 2);
  });
});
