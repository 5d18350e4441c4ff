/**
 * `psarn apply` end to end in-process: the plan as printed (add, change with old → new, delete
 * with --prune, the summary), --dry-run writing nothing, the demo routes onto an empty database
 * and then "No changes." with no serial bumped, exit codes and messages naming file, line and
 * route, a failure inside SQLite in the middle of a multi-zone apply, routes an operation owns,
 * and a secondary's database.
 */
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { projectRoot } from '../helpers/daemon.js';
import { Sandbox } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const WEST = '123456789012.us-west-2.aws.psarn.internal.';
const A = 'arn:aws:psarn:us-east-1:123456789012';
const W = 'arn:aws:psarn:us-west-2:123456789012';
const L = 'arn:aws:lambda:us-east-1:123456789012:function';

/** Everything a write could change: routes, and each zone's serial and epoch (zone export). */
async function snapshot(s: Sandbox): Promise<string> {
  const zones = JSON.parse(await s.ok(['route', 'list', '--json'])) as { zone: string }[];
  let text = JSON.stringify(zones);
  for (const zone of new Set(zones.map((z) => z.zone))) text += await s.ok(['zone', 'export', zone]);
  return text;
}

async function serialOf(s: Sandbox, zone: string): Promise<number> {
  const soa = (await s.ok(['zone', 'export', zone])).split('\n').find((l) => /\tSOA\t/.test(l))!;
  return Number(soa.split(/\s+/).at(-5));
}

describe('psarn apply', () => {
  const s = new Sandbox();
  before(() => s.ok(['db', 'init']));
  after(() => s.cleanup());

  it('applies the demo routes to an empty database, then a second apply prints "No changes." and bumps no serial', async () => {
    const demo = s.path('demo-routes.yaml');
    copyFileSync(join(projectRoot, 'config', 'demo-routes.yaml'), demo);
    const first = await s.run(['apply', 'demo-routes.yaml']);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stderr, '');
    const serial = await serialOf(s, ZONE);
    assert.equal(
      first.stdout.replace(/ in \d+ ms\.$/m, ' in <n> ms.'),
      `+ ${A}:orders/created (line 15)
    ttl 300
    policy weighted
    target ${L}:orders-created-v1: weight 90, priority 10
    target ${L}:orders-created-v2: weight 10, priority 10
+ ${A}:orders/audit (line 24)
    ttl 300
    policy fanout
    target arn:aws:sqs:us-east-1:123456789012:orders-audit: weight 1, priority 10
    target arn:aws:sns:us-east-1:123456789012:orders-audit: weight 1, priority 10
+ ${A}:payments/charge (line 31)
    ttl 300
    policy weighted
    target ${L}:payments-charge: weight 1, priority 10
    target ${L}:payments-charge-backup: weight 1, priority 20
+ ${A}:orders/latest (line 40)
    ttl 300
    alias ${A}:orders/created

Plan: 4 to add, 0 to change, 0 to delete.
Applied: 4 added, 0 changed, 0 deleted in 1 zone (${ZONE} serial ${serial}) in <n> ms.
`,
    );
    const baseline = await snapshot(s);
    for (const argv of [
      ['apply', 'demo-routes.yaml'],
      ['apply', 'demo-routes.yaml', '--dry-run'],
    ]) {
      const again = await s.run(argv);
      assert.equal(again.status, 0);
      assert.equal(again.stdout, 'No changes. The database matches demo-routes.yaml (4 routes).\n');
    }
    assert.equal(await serialOf(s, ZONE), serial);
    assert.equal(await snapshot(s), baseline);
    // The journal names who applied it.
    const store = Store.open(s.db, { create: false });
    try {
      assert.ok(
        store
          .journal(ZONE)
          .filter((j) => j.op === 'set')
          .every((j) => j.actor?.startsWith('user:')),
      );
    } finally {
      store.close();
    }
  });

  it('prints the plan like terraform: + add, ~ change old → new, - delete with --prune; --dry-run writes nothing', async () => {
    writeFileSync(
      s.path('routes.yaml'),
      `# reviewed in git
routes:
  - psarn: ${A}:orders/created
    ttl: 60
    metadata: { team: orders }
    targets:
      - ${L}:orders-created-v1=50
      - ${L}:orders-created-v3=50@5
  - psarn: ${A}:orders/latest
    alias: ${W}:orders/new
  - psarn: ${A}:orders/audit
    policy: fanout
    targets: [arn:aws:sqs:us-east-1:123456789012:orders-audit, arn:aws:sns:us-east-1:123456789012:orders-audit]
  - psarn: ${W}:orders/new
    targets: [${L}:x]
`,
    );
    const baseline = await snapshot(s);
    const dry = await s.run(['apply', 'routes.yaml', '--prune', '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    const plan = `~ ${A}:orders/created (line 3)
    ttl 300 → 60
    target ${L}:orders-created-v1: weight 90 → 50
    target ${L}:orders-created-v3: (none) → weight 50, priority 5
    target ${L}:orders-created-v2: weight 10, priority 10 → (none)
    metadata team: (none) → orders
~ ${A}:orders/latest (line 9)
    alias ${A}:orders/created → ${W}:orders/new
+ ${W}:orders/new (line 14)
    ttl 300
    policy weighted
    target ${L}:x: weight 1, priority 10
- ${A}:payments/charge
    ttl 300
    policy weighted
    target ${L}:payments-charge: weight 1, priority 10
    target ${L}:payments-charge-backup: weight 1, priority 20

Plan: 1 to add, 2 to change, 1 to delete.
`;
    assert.equal(dry.stdout, `${plan}Dry run: nothing written; run without --dry-run to apply.\n`);
    assert.equal(await snapshot(s), baseline, '--dry-run wrote nothing');
    // Without --prune: no delete.
    const noPrune = await s.run(['apply', 'routes.yaml', '--dry-run']);
    assert.match(noPrune.stdout, /\nPlan: 1 to add, 2 to change, 0 to delete\.\n/);
    assert.doesNotMatch(noPrune.stdout, /^- /m);

    const east = await serialOf(s, ZONE);
    const applied = await s.run(['apply', 'routes.yaml', '--prune']);
    assert.equal(applied.status, 0, applied.stderr);
    const west = await serialOf(s, WEST);
    assert.equal(
      applied.stdout.replace(/ in \d+ ms\.$/m, ' in <n> ms.'),
      `${plan}Applied: 1 added, 2 changed, 1 deleted in 2 zones (${ZONE} serial ${east + 1}, ${WEST} serial ${west}) in <n> ms.\n`,
    );
    const json = await s.run(['apply', 'routes.yaml', '--prune', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), {
      dryRun: false,
      applied: false,
      add: 0,
      change: 0,
      delete: 0,
      unchanged: 4,
      zones: [ZONE, WEST],
      items: [],
      serials: [],
    });
    assert.equal(await serialOf(s, ZONE), east + 1);
  });

  it('--json gives each item with its changes', async () => {
    writeFileSync(
      s.path('one.yaml'),
      `routes:\n  - { psarn: "${A}:orders/audit", ttl: 30, policy: fanout, targets: [arn:aws:sqs:us-east-1:123456789012:orders-audit, arn:aws:sns:us-east-1:123456789012:orders-audit] }\n`,
    );
    const r = await s.run(['apply', 'one.yaml', '--dry-run', '--json']);
    assert.deepEqual(JSON.parse(r.stdout).items, [
      {
        action: 'change',
        psarn: `${A}:orders/audit`,
        zone: ZONE,
        path: 'orders/audit',
        line: 2,
        changes: ['ttl 300 → 30'],
      },
    ]);
  });
});

describe('psarn apply refusals', () => {
  const s = new Sandbox();
  before(async () => {
    await s.ok(['db', 'init']);
    writeFileSync(
      s.path('base.yaml'),
      `routes:\n  - { psarn: "${A}:a", targets: ["${L}:a"] }\n  - { psarn: "${W}:b", targets: ["${L}:b"] }\n`,
    );
    await s.ok(['apply', 'base.yaml']);
  });
  after(() => s.cleanup());

  /** A command that must fail with `status`, one stderr line equal to `line`, nothing on stdout and nothing changed. */
  async function refused(argv: string[], status: number, line: string | RegExp): Promise<void> {
    const baseline = await snapshot(s);
    const r = await s.run(argv);
    assert.equal(r.status, status, r.stderr);
    assert.equal(r.stdout, '');
    if (typeof line === 'string') assert.equal(r.stderr, `psarn: ${line}\n`);
    else assert.match(r.stderr, line);
    assert.equal(await snapshot(s), baseline);
  }

  it('a bad file: exit 2, naming the file, the line and the route', async () => {
    writeFileSync(
      s.path('routes.yaml'),
      `routes:\n  - psarn: ${A}:a\n    targets: ["${L}:a"]\n  - psarn: ${A}:orders/created\n    targets:\n      - { target: "${L}:f", weight: 70000 }\n`,
    );
    await refused(
      ['apply', 'routes.yaml'],
      2,
      `routes.yaml:6: ${A}:orders/created: targets[0].weight 70000 is out of range 0..65535`,
    );
    writeFileSync(
      s.path('alias.yaml'),
      `routes:\n  - { psarn: "${A}:a", targets: ["${L}:a"] }\n  - { psarn: "${A}:c", alias: "${A}:nothing" }\n`,
    );
    await refused(
      ['apply', 'alias.yaml', '--dry-run'],
      2,
      `alias.yaml:3: ${A}:c: alias points at ${A}:nothing, which is not a route (not in the file, nor in the database)`,
    );
    writeFileSync(
      s.path('policy.yaml'),
      `routes:\n  - psarn: ${A}:a\n    targets:\n      - ${L}:a\n      - https://169.254.169.254/latest\n`,
    );
    await refused(
      ['apply', 'policy.yaml'],
      2,
      /^psarn: policy\.yaml:5: arn:aws:psarn:us-east-1:123456789012:a: targets\[1\] target '[^']+' is not allowed: /,
    );
    await refused(['apply', 'missing.yaml'], 1, 'routes file missing.yaml: cannot read it (ENOENT)');
    await refused(['apply'], 2, /^psarn: missing <routes\.yaml> for 'psarn apply'/);
    // apply runs over --server (test/integration/remote-apply.test.ts), but not on both at once.
    await refused(
      ['apply', 'base.yaml', '--server', '127.0.0.1:53', '--db', s.db],
      2,
      /^psarn: give --db FILE \(the local database\) or --server \(127\.0\.0\.1:53\), not both\n$/,
    );
  });

  it('a failure inside SQLite in the middle of a multi-zone apply: exit 1, every zone as it was', async () => {
    // A trigger in the second zone's write: the first zone's write has happened by then.
    const db = new Database(s.db);
    db.exec(
      `CREATE TRIGGER boom BEFORE INSERT ON routes WHEN NEW.path = 'boom' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    );
    db.close();
    try {
      writeFileSync(
        s.path('two.yaml'),
        `routes:\n  - { psarn: "${A}:a", ttl: 1, targets: ["${L}:a"] }\n  - { psarn: "${W}:boom", targets: ["${L}:b"] }\n`,
      );
      await refused(['apply', 'two.yaml'], 1, /^psarn: injected failure/);
    } finally {
      const again = new Database(s.db);
      again.exec('DROP TRIGGER boom');
      again.close();
    }
  });

  it('a route with an active rollout or hold: exit 1, naming it and what ends it, nothing written', async () => {
    const store = Store.open(s.db, { create: false });
    const saved = store.getRoute(ZONE, 'a')!;
    const op = store.insertOperation({ zone: ZONE, path: 'a', kind: 'hold', status: 'held', saved, state: {} });
    store.close();
    writeFileSync(
      s.path('held.yaml'),
      `routes:\n  - { psarn: "${A}:a", targets: ["${L}:a=2"] }\n  - { psarn: "${W}:b", ttl: 5, targets: ["${L}:b"] }\n`,
    );
    const reason = `cannot apply: ${A}:a has hold ${op.id} held (end it first: psarn release ${A}:a); apply changes no route an operation owns, so nothing was written`;
    await refused(['apply', 'held.yaml'], 1, reason);
    // --dry-run shows the plan, then fails the same way (a review must not pass a plan that cannot apply).
    const dry = await s.run(['apply', 'held.yaml', '--dry-run']);
    assert.equal(dry.status, 1);
    assert.match(dry.stdout, /^~ arn:aws:psarn:us-east-1:123456789012:a \(line 2\)\n/);
    assert.equal(dry.stderr, `psarn: ${reason}\n`);
    // The file as the store has the held route: nothing to change there, so no refusal.
    const r = await s.run(['apply', 'base.yaml']);
    assert.equal(r.status, 0, r.stderr);
  });

  it("a secondary's database: refused as the other writes are; --dry-run still plans", async () => {
    const store = Store.open(s.db, { create: false });
    store.putSetting('secondary.primary', '10.0.0.5:8053');
    store.close();
    try {
      writeFileSync(s.path('new.yaml'), `routes:\n  - { psarn: "${A}:new", targets: ["${L}:n"] }\n`);
      await refused(
        ['apply', 'new.yaml'],
        1,
        /^psarn: database .* is a secondary copy of 10\.0\.0\.5:8053; change routes on the primary/,
      );
      const dry = await s.run(['apply', 'new.yaml', '--dry-run']);
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, /^\+ arn:aws:psarn:us-east-1:123456789012:new \(line 2\)/);
    } finally {
      const again = Store.open(s.db, { create: false });
      again.putSetting('secondary.primary', undefined);
      again.close();
    }
  });
});
