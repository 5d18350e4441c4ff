/**
 * `psarn --server … apply` against a real psarnd (docs/design.md#apply, remote part): the plan
 * and the result printed exactly as the local apply prints them on a copy of the same database,
 * and the routes left the same; a second apply "No changes." with no serial bumped; --prune;
 * --dry-run writing nothing; two zones with an alias from the first in the file into a route
 * the second creates; a zone too big for one UPDATE; a change on the server between the read
 * and the UPDATEs refused by their prerequisites (nothing written, or the zones written named);
 * a psarnd secondary refusing, naming its primary; routes a hold or a rollout owns refused as
 * the local apply refuses them (read from psarnd's control names), nothing written.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MainOptions } from '../../src/cli/main.js';
import { type Run, run, seedTwins } from '../helpers/cli-main.js';
import { cliOn, projectRoot, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';

const EAST = '123456789012.us-east-1.aws.psarn.internal.';
const WEST = '123456789012.us-west-2.aws.psarn.internal.';
const E = 'arn:aws:psarn:us-east-1:123456789012';
const W = 'arn:aws:psarn:us-west-2:123456789012';
const L = 'arn:aws:lambda:us-east-1:123456789012:function';
const KEY = randomBytes(32).toString('base64');
/** A key of transfer.allow only: what a review (`--dry-run`) runs with. */
const REVIEW = randomBytes(32).toString('base64');
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:held';

/** The time an apply took is the one thing that differs between two runs. */
const timeless = (r: Run): Run => ({ ...r, stdout: r.stdout.replace(/ in \d+ ms\.$/m, ' in <n> ms.') });

/** Waits (20 ms steps, 10 s at most) for psarnd's log lines to arrive through its pipe. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A zone's SOA serial, read by a remote zone export. */
const serialIn = (exported: string) => Number(/^; psarn zone \S+ serial (\d+) /m.exec(exported)?.[1]);

describe('psarn --server … apply against psarnd: what the local apply does', () => {
  let d: RunningDaemon;
  let dir: string;
  let copy: string;
  let server: string;
  const local = (...argv: string[]) => run(argv, { PSARN_DB: copy }, dir);
  const remote = (argv: string[], env: Record<string, string> = {}, options: MainOptions = {}) =>
    run(argv, { PSARN_SERVER: server, PSARN_KEY: `hmac-sha256:ci:${KEY}`, ...env }, dir, options);
  const file = (name: string, text: string) => writeFileSync(join(dir, name), text);

  /** Runs argv remotely, then locally on the copy: same output, same status; then the same routes. */
  async function same(...argv: string[]): Promise<Run> {
    const r = timeless(await remote(argv));
    const l = timeless(await local(...argv));
    assert.deepEqual(r, l, `psarn ${argv.join(' ')}`);
    await sameRoutes();
    return r;
  }

  async function sameRoutes(): Promise<void> {
    const r = await remote(['route', 'list', '--json']);
    const l = await local('route', 'list', '--json');
    assert.equal(r.status, 0, r.stderr);
    const strip = (text: string) =>
      (JSON.parse(text) as Record<string, unknown>[]).map(({ serial: _s, updatedAt: _u, ...rest }) => rest);
    assert.deepEqual(strip(r.stdout), strip(l.stdout), 'the server has the routes the local copy has');
  }

  async function serialOf(zone: string): Promise<number> {
    const r = await remote(['zone', 'export', zone]);
    assert.equal(r.status, 0, r.stderr);
    return serialIn(r.stdout);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psarn-remote-apply-'));
    const db = join(dir, 'server.db');
    copy = join(dir, 'copy.db');
    // Both zones exist first, so the SOA parameters (the CLI's config here, psarnd's there) are the same.
    file(
      'seed.zone',
      [EAST, WEST]
        .map(
          (z) =>
            `$ORIGIN ${z}\n@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 10 3600 600 86400 30\n@ 3600 IN NS ns.psarn.internal.\n`,
        )
        .join(''),
    );
    await seedTwins(dir, 'seed.zone', db, copy);
    copyFileSync(join(projectRoot, 'config', 'demo-routes.yaml'), join(dir, 'demo-routes.yaml'));
    d = await startPsarnd({
      db,
      demoRoutes: '',
      env: {
        PSARN_TSIG_KEYS: `ci:${KEY},review:${REVIEW}`,
        PSARN_UPDATE_ALLOW: 'ci',
        PSARN_TRANSFER_ALLOW: 'ci,review',
      },
    });
    server = `127.0.0.1:${d.dns.port}`;
  });
  after(async () => {
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the demo routes: the plan and "Applied" as the local apply; then "No changes." and no serial bumped', async () => {
    const dry = await same('apply', 'demo-routes.yaml', '--dry-run');
    assert.match(dry.stdout, /^Plan: 4 to add, 0 to change, 0 to delete\.\nDry run: nothing written/m);
    assert.equal(await serialOf(EAST), 10, '--dry-run wrote nothing');
    const first = await same('apply', 'demo-routes.yaml');
    assert.equal(first.status, 0, first.stderr);
    assert.match(
      first.stdout,
      new RegExp(`^Applied: 4 added, 0 changed, 0 deleted in 1 zone \\(${EAST} serial 11\\) in <n> ms\\.$`, 'm'),
    );
    assert.equal(await serialOf(EAST), 11);
    const again = await same('apply', 'demo-routes.yaml');
    assert.equal(again.stdout, 'No changes. The database matches demo-routes.yaml (4 routes).\n');
    assert.equal(await serialOf(EAST), 11, 'no serial bumped');
    // --json: the same object (serials included: one UPDATE per zone, one bump, as one transaction).
    await same('apply', 'demo-routes.yaml', '--json');
  });

  it('changes and --prune: the same plan (old → new, deletes), the same routes after', async () => {
    file(
      'changed.yaml',
      `routes:
  - psarn: ${E}:orders/created
    ttl: 60
    metadata: { team: orders }
    targets: ["${L}:orders-created-v1=50", "${L}:orders-created-v2=50"]
  - psarn: ${E}:orders/latest
    alias: ${E}:orders/created
`,
    );
    const dry = await same('apply', 'changed.yaml', '--prune', '--dry-run');
    assert.match(dry.stdout, /^Plan: 0 to add, 1 to change, 2 to delete\./m);
    assert.equal(await serialOf(EAST), 11, '--dry-run wrote nothing');
    const r = await same('apply', 'changed.yaml', '--prune');
    assert.match(r.stdout, /^~ arn:aws:psarn:us-east-1:123456789012:orders\/created \(line 2\)$/m);
    assert.match(r.stdout, /^- arn:aws:psarn:us-east-1:123456789012:payments\/charge$/m);
    assert.match(r.stdout, /in 1 zone \(123456789012\.us-east-1\.aws\.psarn\.internal\. serial 12\)/);
    assert.equal(
      (await same('apply', 'changed.yaml', '--prune')).stdout,
      'No changes. The database matches changed.yaml (2 routes).\n',
    );
  });

  it('two zones: an alias in the first (file order) into a route the second creates; one UPDATE each, targets first', async () => {
    file(
      'two.yaml',
      `routes:
  - psarn: ${E}:orders/west
    alias: ${W}:orders/created
  - psarn: ${W}:orders/created
    targets: ["${L}:orders-west"]
  - psarn: ${W}:orders/next
    alias: ${E}:orders/created
`,
    );
    const r = await same('apply', 'two.yaml');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Plan: 3 to add, 0 to change, 0 to delete\.$/m);
    // Each zone's serial moved once, as in the local transaction, and is shown in plan order.
    assert.match(r.stdout, new RegExp(`in 2 zones \\(${EAST} serial 13, ${WEST} serial 11\\)`));
    // West (the alias's target) was written first: psarnd would refuse east's alias before it.
    const applied = () => d.logs.filter((l) => l.msg === 'UPDATE applied').map((l) => l.zone);
    await until(() => applied().at(-1) === EAST);
    assert.deepEqual(applied().slice(-2), [WEST, EAST]);
    assert.equal(await serialOf(EAST), 13);
    assert.equal(await serialOf(WEST), 11);
    // An alias into a zone the file does not name: that zone is read too, and the alias checked there.
    file('into-west.yaml', `routes:\n  - { psarn: "${E}:orders/to-west", alias: "${W}:orders/created" }\n`);
    const into = await same('apply', 'into-west.yaml');
    assert.match(into.stdout, /^Plan: 1 to add, 0 to change, 0 to delete\.$/m);
    file('dangling.yaml', `routes:\n  - { psarn: "${E}:orders/to-none", alias: "${W}:orders/none" }\n`);
    const dangling = await same('apply', 'dangling.yaml');
    assert.equal(dangling.status, 2);
    assert.match(dangling.stderr, /which is not a route \(not in the file, nor in the database\)/);
  });

  it('routes a hold or a rollout owns: refused with the local message, nothing written, --dry-run too', async () => {
    /** The operation on the server (psarnd runs it) and on the copy, in the same order: the same ids. */
    const both = async (...argv: string[]) => {
      for (const r of [await remote(argv), await local(...argv)])
        assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
    };
    file('spare.yaml', `routes:\n  - psarn: ${W}:orders/spare\n    targets: ["${L}:spare"]\n`);
    assert.equal((await same('apply', 'spare.yaml')).status, 0);
    await both('hold', `${E}:orders/created`, '--queue', QUEUE);
    await both(
      'rollout',
      'start',
      `${W}:orders/created`,
      '--to',
      `${L}:orders-west-v2`,
      '--steps',
      '10,50',
      '--every',
      '1h',
    );
    await both('hold', `${W}:orders/spare`, '--queue', QUEUE);
    // Changes both owned routes, leaves one alias as it is, adds one.
    file(
      'owned.yaml',
      `routes:
  - psarn: ${E}:orders/created
    targets: ["${L}:orders-created-v3"]
  - psarn: ${W}:orders/created
    targets: ["${L}:orders-west-v3"]
  - psarn: ${W}:orders/next
    alias: ${E}:orders/created
  - psarn: ${E}:orders/fresh
    targets: ["${L}:fresh"]
`,
    );
    const serials = async () => [await serialOf(EAST), await serialOf(WEST)];
    const before = await serials();
    const end = (kind: string, psarn: string) =>
      kind === 'rollout' ? `psarn rollout promote|abort ${psarn}` : `psarn release ${psarn}`;
    const owned = (id: number, kind: string, status: string, psarn: string) =>
      `${psarn} has ${kind} ${id} ${status} (end it first: ${end(kind, psarn)})`;
    const refused = (...owners: string[]) =>
      `psarn: cannot apply: ${owners.join('; ')}; apply changes no route an operation owns, so nothing was written\n`;
    const r = await same('apply', 'owned.yaml');
    assert.deepEqual(r, {
      status: 1,
      stdout: '',
      stderr: refused(
        owned(1, 'hold', 'held', `${E}:orders/created`),
        owned(2, 'rollout', 'running', `${W}:orders/created`),
      ),
    });
    // --prune deletes the held spare route: a delete is refused as a change is.
    const pruned = await same('apply', 'owned.yaml', '--prune');
    assert.equal(pruned.status, 1);
    assert.ok(
      pruned.stderr.includes(`; ${owned(3, 'hold', 'held', `${W}:orders/spare`)}; apply changes`),
      pruned.stderr,
    );
    assert.equal(pruned.stdout, '');
    await same('apply', 'owned.yaml', '--json');
    // A review prints the plan and fails the same way; a key of transfer.allow only may read the state.
    const dry = await same('apply', 'owned.yaml', '--dry-run');
    assert.equal(dry.status, 1);
    assert.match(dry.stdout, /^Plan: 1 to add, 2 to change, 0 to delete\.\nDry run: nothing written/m);
    assert.equal(dry.stderr, r.stderr);
    const review = await remote(['apply', 'owned.yaml', '--dry-run'], { PSARN_KEY: `hmac-sha256:review:${REVIEW}` });
    assert.deepEqual(review, dry);
    await same('apply', 'owned.yaml', '--dry-run', '--json');
    assert.deepEqual(await serials(), before, 'no UPDATE was sent');
    // A hold pauses the route's rollout: the older of the two is named, as locally.
    await both('hold', `${W}:orders/created`, '--queue', QUEUE);
    const held = await serials();
    const paused = await same('apply', 'owned.yaml');
    assert.match(paused.stderr, new RegExp(`${W}:orders/created has rollout 2 paused`));
    assert.deepEqual(await serials(), held, 'no UPDATE was sent');
    // Ended: the same file applies (the later tests start from routes no operation owns).
    await both('release', `${W}:orders/created`);
    await both('rollout', 'abort', `${W}:orders/created`);
    await both('release', `${W}:orders/spare`);
    await both('release', `${E}:orders/created`);
    await sameRoutes();
    file('fresh.yaml', `routes:\n  - psarn: ${E}:orders/fresh\n    targets: ["${L}:fresh"]\n`);
    assert.equal((await same('apply', 'fresh.yaml')).status, 0);
  });

  it('a bad file: exit 2, the local message, before connecting', async () => {
    file('bad.yaml', `routes:\n  - psarn: ${E}:orders/x\n    targets: ["${L}:x=70000"]\n`);
    const r = await remote(['apply', 'bad.yaml'], { PSARN_SERVER: '127.0.0.1:1' });
    const l = await local('apply', 'bad.yaml');
    assert.equal(r.status, 2);
    assert.deepEqual(r, l);
  });

  it('a change on the server between the read and the UPDATE: refused by the prerequisites, nothing written', async () => {
    file('east.yaml', `routes:\n  - psarn: ${E}:orders/created\n    targets: ["${L}:orders-created-v3"]\n`);
    const r = await remote(
      ['apply', 'east.yaml'],
      {},
      {
        remote: {
          afterRead: async () => void (await cliOn(d, 'route', 'set', `${E}:orders/other`, '--target', `${L}:x`)),
        },
      },
    );
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `psarn: zone ${EAST} changed on the server meanwhile; nothing was written; run the apply again\n`,
    );
    assert.match(r.stdout, /^Plan: 0 to add, 1 to change, 0 to delete\.$/m, 'the plan was printed');
    assert.doesNotMatch(r.stdout, /^Applied/m);
    // The concurrent write is in the server's database (psarnd serves it at its next poll); apply's is not.
    const now = await cliOn(d, 'route', 'get', `${E}:orders/created`, '--json');
    assert.doesNotMatch(now.stdout, /orders-created-v3/);
    // Run again: it applies.
    let again = await remote(['apply', 'east.yaml']);
    for (let i = 0; i < 100 && again.status !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // psarnd picks up the CLI's write at its next poll
      again = await remote(['apply', 'east.yaml']);
    }
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^Applied: 0 added, 1 changed/m);
  });

  it('a change in the second zone meanwhile: the first zone written, the second not; both named; a re-run finishes', async () => {
    file(
      'both.yaml',
      `routes:
  - psarn: ${E}:pay/a
    targets: ["${L}:pay-a"]
  - psarn: ${W}:pay/b
    targets: ["${L}:pay-b"]
`,
    );
    const r = await remote(
      ['apply', 'both.yaml'],
      {},
      {
        remote: { afterRead: async () => void (await cliOn(d, 'route', 'set', `${W}:pay/c`, '--target', `${L}:x`)) },
      },
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^psarn: zone ${WEST.replaceAll('.', '\\.')} changed on the server meanwhile; written: ${EAST.replaceAll('.', '\\.')} \\(serial \\d+\\); not written: ${WEST.replaceAll('.', '\\.')}; the same apply run again writes what is left\\n$`,
      ),
    );
    let again = await remote(['apply', 'both.yaml']);
    for (let i = 0; i < 100 && again.status !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await remote(['apply', 'both.yaml']);
    }
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^\+ arn:aws:psarn:us-west-2:123456789012:pay\/b \(line 4\)$/m);
    assert.match(again.stdout, /^Plan: 1 to add, 0 to change, 0 to delete\.$/m, 'only what was left');
  });

  it('a zone whose changes do not fit in one UPDATE: several, each passing psarnd checks; the routes as the file says', async () => {
    const routes = Array.from(
      { length: 400 },
      (_, i) =>
        `  - psarn: ${E}:bulk/r${i}\n    targets: ["${L}:bulk-function-number-${i}-primary", "${L}:bulk-function-number-${i}-secondary@20"]\n`,
    );
    // Aliases first in the file, into routes later in it: the split must write the targets first.
    const aliases = Array.from(
      { length: 20 },
      (_, i) => `  - psarn: ${E}:bulk/alias${i}\n    alias: ${E}:bulk/r${399 - i}\n`,
    );
    file('bulk.yaml', `routes:\n${aliases.join('')}${routes.join('')}`);
    const updates = () => d.logs.filter((l) => l.msg === 'UPDATE applied' && l.zone === EAST).length;
    const sent = updates();
    const r = await remote(['apply', 'bulk.yaml']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Plan: 420 to add, 0 to change, 0 to delete\.$/m);
    // ~500 bytes a route: more than one 64 KiB message.
    await until(() => updates() - sent >= 3);
    assert.ok(updates() - sent >= 3, `${updates() - sent} UPDATEs`);
    const again = await remote(['apply', 'bulk.yaml']);
    assert.equal(again.stdout, 'No changes. The database matches bulk.yaml (420 routes).\n');
    const got = await remote(['route', 'get', `${E}:bulk/alias5`]);
    assert.match(got.stdout, /bulk\/r394/);
  });

  it('against a psarnd secondary: refused, naming the primary (or, for a change, that it shows no operations), nothing written', async () => {
    const secondary = await startPsarnd({
      db: join(dir, 'secondary.db'),
      demoRoutes: '',
      env: {
        PSARN_TSIG_KEYS: `ci:${KEY}`,
        PSARN_TRANSFER_ALLOW: 'ci',
        PSARN_UPDATE_ALLOW: 'ci',
        PSARN_SECONDARY_PRIMARY: server,
        PSARN_SECONDARY_KEY: 'ci',
        PSARN_SECONDARY_ZONES: 'catalog',
      },
    });
    try {
      const at = `127.0.0.1:${secondary.dns.port}`;
      file('new.yaml', `routes:\n  - psarn: ${E}:orders/secondary\n    targets: ["${L}:s"]\n`);
      const r = await remote(['apply', 'new.yaml'], { PSARN_SERVER: at });
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `^psarn: server ${at} refused the UPDATE of zone ${EAST.replaceAll('.', '\\.')}: REFUSED \\(EDE 18: [^\\n]*${server}[^\\n]*\\); nothing was written\\n$`,
        ),
      );
      // --json: the object still, saying nothing was written and which zones were not.
      const json = await remote(['apply', 'new.yaml', '--json'], { PSARN_SERVER: at });
      assert.equal(json.status, 1);
      const out = JSON.parse(json.stdout) as {
        applied: boolean;
        add: number;
        serials: unknown[];
        notApplied: string[];
      };
      assert.deepEqual([out.applied, out.add, out.serials, out.notApplied], [false, 1, [], [EAST]]);
      const got = await remote(['route', 'get', `${E}:orders/secondary`]);
      assert.equal(got.status, 1, 'not on the primary');
      // A change: the secondary shows no operations, so a review plans with a warning and a write stops first.
      file('fresh-v2.yaml', `routes:\n  - psarn: ${E}:orders/fresh\n    targets: ["${L}:fresh-v2"]\n`);
      let dry = await remote(['apply', 'fresh-v2.yaml', '--dry-run'], { PSARN_SERVER: at });
      for (let i = 0; i < 200 && !/^Plan: 0 to add, 1 to change/m.test(dry.stdout); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50)); // the secondary transfers the zone in
        dry = await remote(['apply', 'fresh-v2.yaml', '--dry-run'], { PSARN_SERVER: at });
      }
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, /^Plan: 0 to add, 1 to change, 0 to delete\.$/m);
      const unseen = `server ${at} shows no rollout or hold state at _rollout.${EAST} TXT (is it a secondary, or the key in neither update.allow nor transfer.allow?)`;
      assert.equal(dry.stderr, `psarn: warning: ${unseen}; this plan does not check them\n`);
      const write = await remote(['apply', 'fresh-v2.yaml'], { PSARN_SERVER: at });
      assert.deepEqual(write, {
        status: 1,
        stdout: '',
        stderr: `psarn: ${unseen}; apply checks that no rollout or hold owns a route it changes: point --server at the primary psarnd; nothing was written\n`,
      });
    } finally {
      await secondary.stop();
    }
  });
});
