/**
 * `psarn route history` and `psarn route revert` in-process (docs/design.md#history-and-revert):
 * what a history line says for each kind of change, the JSON, revert by default and with --to,
 * to a serial where the route did not exist, across a pruned journal, refused while a rollout or
 * a hold is active, on a secondary's copy, against the targets policy, and who a revert is
 * journaled as.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { PARAMS } from '../helpers/fixtures.js';
import { Sandbox } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const A = 'arn:aws:psarn:us-east-1:123456789012';
const P = `${A}:orders/created`;
const L = 'arn:aws:lambda:us-east-1:123456789012:function';
const V1 = `${L}:orders-v1`;
const V2 = `${L}:orders-v2`;
const V3 = `${L}:orders-v3`;
const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

/** A sandbox whose OS user is `user`. */
function sandbox(user = 'alice'): Sandbox {
  const s = new Sandbox();
  s.env.USER = user;
  return s;
}

/** The history lines without the header, as [serial, who, change] (the time checked by shape). */
async function lines(s: Sandbox, psarn = P): Promise<string[][]> {
  const out = await s.ok(['route', 'history', psarn]);
  // A first line `# older changes are pruned: …` when they are.
  const rows = out
    .trimEnd()
    .split('\n')
    .filter((row) => !row.startsWith('# '));
  assert.match(rows[0]!, /^SERIAL +TIME +WHO +CHANGE$/);
  return rows.slice(1).map((row) => {
    const m = new RegExp(`^(\\d+) +(${TIME}) +(\\S+) +(.*)$`).exec(row);
    assert.ok(m, `a history line: ${row}`);
    return [m[1]!, m[3]!, m[4]!];
  });
}

async function targetsOf(s: Sandbox, psarn = P): Promise<string> {
  const route = JSON.parse(await s.ok(['route', 'get', psarn, '--json'])) as {
    targets: { target: string; weight: number }[];
  };
  return route.targets.map((t) => `${t.target.split(':').at(-1)}=${t.weight}`).join(' ');
}

describe('psarn route history', () => {
  const s = sandbox();
  after(() => s.cleanup());

  it('one line per change: serial, time, who, what changed in words', async () => {
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', `${V1}=90`, '--target', `${V2}=10`]); // 1, 2
    await s.ok(['route', 'weight', P, `${V1}=50`, `${V2}=50`]); // 3
    await s.ok(['route', 'set', P, '--ttl', '60', '--meta', 'team=orders', '--policy', 'fanout']); // 4
    s.env.USER = 'bob';
    await s.ok(['flush', P]); // 5
    // A DNS UPDATE is journaled with its key's name (docs/design.md#change-actors).
    const store = Store.open(s.db);
    store.editRoutes(
      ZONE,
      [
        {
          path: 'orders/created',
          make: () => ({ policy: 'fanout', ttl: 60, targets: [{ target: V3, weight: 1, priority: 5 }], metadata: {} }),
        },
      ],
      PARAMS,
      { actor: 'key:ci-deploy' },
    ); // 6
    store.close();
    await s.ok(['route', 'set', `${A}:orders/other`, '--target', V1]); // 7: another route
    await s.ok(['route', 'alias', P, `${A}:orders/other`]); // 8
    await s.ok(['route', 'delete', P]); // 9
    await s.ok(['route', 'set', P, '--target', V1]); // 10
    // An import replaces the zone; the next write tells what it left.
    const file = s.path('z.zone');
    writeFileSync(
      file,
      [
        `$ORIGIN ${ZONE}`,
        '$TTL 300',
        `created.orders IN URI 10 7 "${V2}"`,
        `other.orders IN URI 10 1 "${V1}"`,
        '',
      ].join('\n'),
    );
    await s.ok(['zone', 'import', file]); // 11
    await s.ok(['route', 'weight', P, `${V2}=8`]); // 12
    assert.deepEqual(await lines(s), [
      ['1', 'user:alice', 'zone created'],
      ['2', 'user:alice', 'created  orders-v1=90 orders-v2=10, weighted, ttl 300'],
      ['3', 'user:alice', 'set  orders-v1=90 orders-v2=10 → orders-v1=50 orders-v2=50'],
      ['4', 'user:alice', 'set  policy weighted → fanout, ttl 300 → 60, meta +team=orders'],
      ['5', 'user:bob', "flush  epoch 1 → 2: every caller refetches the zone's routes"],
      ['6', 'key:ci-deploy', 'set  orders-v1=50 orders-v2=50 → orders-v3=1@5, meta -team'],
      ['8', 'user:bob', `set  orders-v3=1@5 → alias ${A}:orders/other`],
      ['9', 'user:bob', `deleted  (was alias ${A}:orders/other, ttl 60)`],
      ['10', 'user:bob', 'created  orders-v1=1, weighted, ttl 300'],
      ['11', 'user:bob', 'zone import  set  orders-v1=1 → orders-v2=7'],
      ['12', 'user:bob', 'set  orders-v2=7 → orders-v2=8'],
    ]);
    // --limit: the newest N, still oldest first.
    const limited = (await s.ok(['route', 'history', P, '--limit', '2'])).trimEnd().split('\n');
    assert.equal(limited.length, 3);
    assert.match(limited[1]!, /^11 /);
    assert.match(limited[2]!, /^12 /);
  });

  it('--json: the kept range and each change with before and after (null: no route)', async () => {
    const out = JSON.parse(await s.ok(['route', 'history', P, '--json', '--limit', '4'])) as Record<string, unknown>;
    assert.equal(out.psarn, P);
    assert.equal(out.zone, ZONE);
    assert.equal(out.path, 'orders/created');
    assert.equal(out.serial, 12);
    assert.equal(out.oldestSerial, 1);
    assert.equal(out.complete, true);
    assert.equal(out.exists, true);
    const entries = out.entries as Record<string, unknown>[];
    assert.deepEqual(
      entries.map((e) => [e.serial, e.op, e.change, e.actor]),
      [
        [9, 'delete', 'deleted', 'user:bob'],
        [10, 'set', 'created', 'user:bob'],
        [11, 'import', 'updated', 'user:bob'],
        [12, 'set', 'updated', 'user:bob'],
      ],
    );
    const [deleted, created] = entries;
    assert.match(deleted!.at as string, new RegExp(`^${TIME}$`));
    assert.deepEqual(deleted!.before, { ttl: 60, alias: `other.orders.${ZONE}`, targets: [], metadata: {} });
    assert.equal(deleted!.after, null);
    assert.equal(created!.before, null);
    assert.deepEqual(created!.after, {
      ttl: 300,
      policy: 'weighted',
      targets: [{ target: V1, weight: 1, priority: 10 }],
      metadata: {},
    });
    const flush = (JSON.parse(await s.ok(['route', 'history', P, '--json'])) as { entries: Record<string, unknown>[] })
      .entries[4]!;
    assert.deepEqual(flush, {
      serial: 5,
      at: flush.at,
      actor: 'user:bob',
      op: 'flush',
      change: 'flush',
      epoch: { before: 1, after: 2 },
    });
  });

  it('a deleted route still has its history; a route never written is not found (exit 1)', async () => {
    await s.ok(['route', 'delete', `${A}:orders/other`]);
    const out = await lines(s, `${A}:orders/other`);
    assert.deepEqual(out.at(-1), ['13', 'user:bob', 'deleted  (was orders-v1=1, weighted, ttl 300)']);
    const r = await s.run(['route', 'history', `${A}:orders/never`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^psarn: route '.*orders\/never' not found in .*, and no change of it in the journal/);
  });
});

describe('journal.maxAge in the CLI', () => {
  it('a CLI write prunes the rows older than PSARN_JOURNAL_MAX_AGE; history then says so', async () => {
    const s = sandbox();
    await s.ok(['db', 'init']);
    // Two changes written three hours ago (the store's clock injected), then one now.
    const past = Store.open(s.db, { now: () => Date.now() - 3 * 3_600_000 });
    past.setRoute(
      ZONE,
      'orders/created',
      { policy: 'weighted', ttl: 300, targets: [{ target: V1, weight: 1, priority: 10 }] },
      PARAMS,
    );
    past.close();
    s.env.PSARN_JOURNAL_MAX_AGE = '2h';
    await s.ok(['route', 'set', P, '--target', V2]);
    assert.deepEqual(
      (await lines(s)).map(([serial]) => serial),
      ['3'],
    );
    assert.match(
      await s.ok(['route', 'history', P]),
      /^# older changes are pruned: the journal of zone .* starts at serial 3\n/,
    );
    s.cleanup();
  });
});

describe('psarn route revert', () => {
  it('without --to: the route before its last change, printed like route set, journaled as the OS user', async () => {
    const s = sandbox();
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', `${V1}=90`, '--target', `${V2}=10`, '--ttl', '120']); // 2
    await s.ok(['route', 'weight', P, `${V1}=50`, `${V2}=50`]); // 3
    s.env.USER = 'bob';
    const out = await s.ok(['route', 'revert', P]);
    assert.match(out, new RegExp(`^reverting ${P} to before serial 3 \\(user:alice, ${TIME}\\)\n`));
    assert.equal(
      out.replace(/^reverting.*\n/, ''),
      `updated ${P} (zone ${ZONE} serial 4)\n` +
        `  target ${V1}: weight 50 → 90\n` +
        `  target ${V2}: weight 50 → 10\n`,
    );
    assert.equal(await targetsOf(s), 'orders-v1=90 orders-v2=10');
    assert.deepEqual((await lines(s)).at(-1), [
      '4',
      'user:bob',
      'set  orders-v1=50 orders-v2=50 → orders-v1=90 orders-v2=10',
    ]);
    // A second revert undoes the first.
    await s.ok(['route', 'revert', P]);
    assert.equal(await targetsOf(s), 'orders-v1=50 orders-v2=50');
    s.cleanup();
  });

  it('--to SERIAL: the route as it was right after that change, byte for byte; no change when it is so already', async () => {
    const s = sandbox();
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', `${V1}=90`, '--target', `${V2}=10`, '--meta', 'team=a']); // 2
    await s.ok(['route', 'set', P, '--target', V3, '--ttl', '30', '--policy', 'fanout', '--meta', 'team-']); // 3
    await s.ok(['route', 'alias', P, `${A}:orders/x`, '--force']); // 4
    const before = JSON.parse(await s.ok(['route', 'get', P, '--json'])) as Record<string, unknown>;
    const out = await s.ok(['route', 'revert', P, '--to', '2']);
    assert.match(out, /^reverting .* to serial 2\nupdated .* \(zone .* serial 5\)\n/);
    const now = JSON.parse(await s.ok(['route', 'get', P, '--json'])) as Record<string, unknown>;
    assert.deepEqual(
      { ttl: now.ttl, policy: now.policy, metadata: now.metadata, alias: now.alias },
      { ttl: 300, policy: 'weighted', metadata: { team: 'a' }, alias: undefined },
    );
    assert.equal(await targetsOf(s), 'orders-v1=90 orders-v2=10');
    assert.notDeepEqual(before, now);
    // Back to the alias, then again: nothing to write.
    await s.ok(['route', 'revert', P, '--to', '4', '--force']);
    const again = await s.ok(['route', 'revert', P, '--to', '4', '--force']);
    assert.match(again, /^reverting .* to serial 4\nno change to .* \(zone .* serial 6\)\n$/);
    s.cleanup();
  });

  it('to a serial where the route did not exist: deletes it', async () => {
    const s = sandbox();
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', `${A}:orders/other`, '--target', V1]); // 1, 2
    await s.ok(['route', 'set', P, '--target', V2]); // 3
    const out = await s.ok(['route', 'revert', P, '--to', '2']);
    assert.match(out, /^reverting .* to serial 2\ndeleted .*orders\/created \(zone .* serial 4\)\n/);
    const r = await s.run(['route', 'get', P]);
    assert.equal(r.status, 1);
    // Without --to, a created route's last change is its creation: revert deletes it, then re-creates it.
    await s.ok(['route', 'revert', P]);
    assert.equal(await targetsOf(s), 'orders-v2=1');
    s.cleanup();
  });

  it('across a pruned journal: exit 2 naming the oldest kept serial; nothing to revert: exit 1', async () => {
    const s = sandbox();
    s.env.PSARN_JOURNAL_KEEP = '3';
    await s.ok(['db', 'init']);
    for (let i = 0; i < 64; i++) await s.ok(['route', 'set', P, '--target', `${L}:f${i}`]);
    // Pruned at serial 64 to 62..64, then 65.
    const r = await s.run(['route', 'revert', P, '--to', '10']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^psarn: serial 10 of zone .* is pruned from the journal: the oldest kept is serial 62 \(config journal\.keep, journal\.maxAge\); 'psarn route history .*' lists the serials to revert to\n$/,
    );
    const h = await s.ok(['route', 'history', P]);
    assert.match(h, /^# older changes are pruned: the journal of zone .* starts at serial 62\nSERIAL/);
    // Another route whose changes are all pruned: nothing to revert.
    const store = Store.open(s.db);
    assert.equal(store.journal(ZONE)[0]!.serial, 62);
    store.close();
    const none = await s.run(['route', 'revert', `${A}:orders/never`]);
    assert.equal(none.status, 1);
    assert.match(
      none.stderr,
      /^psarn: nothing to revert: the journal of .* holds no change of route '.*orders\/never' \(it keeps serials 62 to 65\)\n$/,
    );
    s.cleanup();
  });

  it('refused while the route has an active rollout or hold (nothing written), and on a secondary copy', async () => {
    const s = sandbox();
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', V1]);
    await s.ok(['route', 'set', P, '--target', V2]);
    const store = Store.open(s.db);
    const saved = store.routeHistory(ZONE, 'orders/created')!.route!;
    const hold = store.insertOperation({
      zone: ZONE,
      path: 'orders/created',
      kind: 'hold',
      status: 'held',
      saved,
      state: {},
    });
    store.close();
    const held = await s.run(['route', 'revert', P]);
    assert.equal(held.status, 1);
    assert.equal(
      held.stderr,
      `psarn: route '${P}' is held (hold #${hold.id}); release it first with 'psarn release ${P}'; nothing reverted\n`,
    );
    const writer = Store.open(s.db);
    writer.updateOperation(hold.id, { status: 'released' });
    writer.insertOperation({
      zone: ZONE,
      path: 'orders/created',
      kind: 'rollout',
      status: 'paused',
      saved,
      state: {},
      actor: 'user:carol',
    });
    writer.close();
    const rolling = await s.run(['route', 'revert', P, '--to', '2']);
    assert.equal(rolling.status, 1);
    assert.match(
      rolling.stderr,
      /^psarn: route '.*' has a paused rollout \(#\d+, started by user:carol\); abort it first with 'psarn rollout abort .*', or let it finish; nothing reverted\n$/,
    );
    assert.equal(await targetsOf(s), 'orders-v2=1', 'nothing written');
    // A secondary's copy is its primary's: refused as every write is.
    const copy = Store.open(s.db);
    copy.putSetting('secondary.primary', '10.0.0.5:8053');
    copy.close();
    const secondary = await s.run(['route', 'revert', P]);
    assert.equal(secondary.status, 1);
    assert.match(secondary.stderr, /is a secondary copy of 10\.0\.0\.5:8053; change routes on the primary/);
    // Reading its history is fine there.
    assert.equal((await lines(s)).length, 3);
    s.cleanup();
  });

  it("checks the route put back against today's targets policy; an alias left dangling needs --force", async () => {
    const s = sandbox();
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', 'arn:aws:lambda:us-east-1:111111111111:function:old']); // 2
    await s.ok(['route', 'set', P, '--target', V1]); // 3
    s.env.PSARN_TARGETS_ACCOUNTS = '123456789012';
    const r = await s.run(['route', 'revert', P]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /111111111111.*\(config key targets\); the route at before serial 3 .* had it\n$/);
    delete s.env.PSARN_TARGETS_ACCOUNTS;
    // An alias now points at the route; reverting to before it existed would leave the alias dangling.
    await s.ok(['route', 'alias', `${A}:orders/alias`, P]); // 4
    const dangling = await s.run(['route', 'revert', P, '--to', '1']);
    assert.equal(dangling.status, 2);
    assert.match(
      dangling.stderr,
      /is the target of 1 alias .*; re-point or delete the aliases first, or pass --force\n$/,
    );
    assert.equal(await targetsOf(s), 'orders-v1=1');
    const forced = await s.run(['route', 'revert', P, '--to', '1', '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /^psarn: warning: 1 alias now points at nothing: .*orders\/alias\n$/);
    s.cleanup();
  });
});
