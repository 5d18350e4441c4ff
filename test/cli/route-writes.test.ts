/**
 * The route writes of issue 9, end to end in-process: `route set` keeps what it was not told,
 * every write prints what changed, `route weight`, typos that must not change the database, a
 * new zone said out loud, and aliases that cannot loop or dangle.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { routeDiff, routePsarn } from '../../src/cli/format.js';
import { Sandbox } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const A = 'arn:aws:psarn:us-east-1:123456789012';
const P = `${A}:orders/created`;
const L1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';
const L2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v2';
const L3 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v3';
/** The report's route: a 90/10 canary with a 1 h TTL and metadata. */
const CANARY = [
  'route',
  'set',
  P,
  '--target',
  `${L1}=90`,
  '--target',
  `${L2}=10`,
  '--ttl',
  '3600',
  '--meta',
  'team=orders',
];

async function get(
  s: Sandbox,
  psarn: string,
): Promise<{
  ttl: number;
  policy?: string;
  metadata: object;
  targets: unknown[];
  serial: number;
  alias?: { psarn: string };
}> {
  return JSON.parse(await s.ok(['route', 'get', psarn, '--json']));
}

/** Everything a write could change: the routes, and the zones' serials and epochs. */
async function snapshot(s: Sandbox): Promise<string> {
  return (await s.ok(['route', 'list', '--json'])) + (await s.ok(['zone', 'export', ZONE]));
}

/** Runs a command that must fail with `status` and one stderr line matching `pattern`, and change nothing. */
async function refused(s: Sandbox, argv: string[], status: number, pattern: RegExp): Promise<string> {
  const baseline = await snapshot(s);
  const r = await s.run(argv);
  assert.equal(r.status, status, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^psarn: [^\n]+\n$/);
  assert.match(r.stderr, pattern);
  assert.equal(await snapshot(s), baseline, 'the database did not change');
  return r.stderr;
}

describe('route set keeps what it was not told (issue 9)', () => {
  const s = new Sandbox();
  before(() => s.ok(['db', 'init']));
  after(() => s.cleanup());

  it("the report's case: shifting the canary weights keeps TTL 3600 and the metadata", async () => {
    await s.ok(CANARY);
    const out = await s.ok(['route', 'set', P, '--target', `${L1}=50`, '--target', `${L2}=50`]);
    const route = await get(s, P);
    assert.equal(route.ttl, 3600);
    assert.deepEqual(route.metadata, { team: 'orders' });
    assert.equal(
      out,
      `updated ${P} (zone ${ZONE} serial ${route.serial})\n` +
        `  target ${L1}: weight 90 → 50\n` +
        `  target ${L2}: weight 10 → 50\n`,
    );
  });

  it('without --target an existing route keeps its targets: only the flags given change', async () => {
    const out = await s.ok(['route', 'set', P, '--ttl', '60', '--policy', 'fanout', '--meta', 'env=prod']);
    const route = await get(s, P);
    assert.equal(route.targets.length, 2);
    assert.equal(
      out,
      `updated ${P} (zone ${ZONE} serial ${route.serial})\n` +
        '  ttl 3600 → 60\n' +
        '  policy weighted → fanout\n' +
        '  metadata env: (none) → prod\n',
    );
  });

  it('resets: --ttl default, --policy weighted, --meta KEY- removes a key, --clear-meta all', async () => {
    const out = await s.ok(['route', 'set', P, '--ttl', 'default', '--policy', 'weighted', '--meta', 'team-']);
    assert.match(out, /^ {2}ttl 60 → 300$/m);
    assert.match(out, /^ {2}policy fanout → weighted$/m);
    assert.match(out, /^ {2}metadata team: orders → \(none\)$/m);
    assert.deepEqual((await get(s, P)).metadata, { env: 'prod' });
    const cleared = await s.ok(['route', 'set', P, '--clear-meta', '--meta', 'owner=ops']);
    assert.match(cleared, /^ {2}metadata env: prod → \(none\)\n {2}metadata owner: \(none\) → ops\n$/m);
    assert.deepEqual((await get(s, P)).metadata, { owner: 'ops' });
  });

  it('a write that changes nothing says so and keeps the serial (no journal row, nothing for psarnd)', async () => {
    const { serial } = await get(s, P);
    const exported = await s.ok(['zone', 'export', ZONE]);
    const out = await s.ok(['route', 'set', P, '--target', `${L1}=50`, '--target', `${L2}=50`]);
    assert.equal(out, `no change to ${P} (zone ${ZONE} serial ${serial})\n`);
    assert.equal(await s.ok(['zone', 'export', ZONE]), exported);
  });

  it('targets added, removed, given a new priority, or put in another order each show', async () => {
    const out = await s.ok(['route', 'set', P, '--target', `${L2}=50@20`, '--target', `${L3}=5`]);
    assert.match(out, new RegExp(`^  target ${L2}: priority 10 → 20$`, 'm'));
    assert.match(out, new RegExp(`^  target ${L3}: \\(none\\) → weight 5, priority 10$`, 'm'));
    assert.match(out, new RegExp(`^  target ${L1}: weight 50, priority 10 → \\(none\\)$`, 'm'));
    const reordered = await s.ok(['route', 'set', P, '--target', `${L3}=5`, '--target', `${L2}=50@20`]);
    assert.match(reordered, new RegExp(`^  target order: now ${L3}, ${L2}$`, 'm'));
  });

  it('route set over an alias turns it into a route with targets, keeping its TTL', async () => {
    const latest = `${A}:orders/latest`;
    await s.ok(['route', 'alias', latest, P, '--ttl', '45']);
    const out = await s.ok(['route', 'set', latest, '--target', L1]);
    assert.match(out, new RegExp(`^  alias ${P} → \\(none\\)$`, 'm'));
    assert.match(out, /^ {2}policy \(none\) → weighted$/m);
    const route = await get(s, latest);
    assert.equal(route.ttl, 45);
    assert.equal(route.alias, undefined);
  });

  it('without --target, a new route or an alias is a usage error, and nothing is written', async () => {
    await refused(
      s,
      ['route', 'set', `${A}:orders/none`, '--ttl', '5'],
      2,
      /missing --target: route '.*orders\/none' does not exist yet/,
    );
    await s.ok(['route', 'alias', `${A}:orders/alias2`, P]);
    await refused(s, ['route', 'set', `${A}:orders/alias2`, '--ttl', '5'], 2, /is an alias; give --target to turn it/);
  });
});

describe('route weight (issue 9)', () => {
  const s = new Sandbox();
  before(async () => {
    await s.ok(['db', 'init']);
    await s.ok([...CANARY, '--target', `${L3}=1@20`]);
    await s.ok(['route', 'alias', `${A}:orders/latest`, P]);
  });
  after(() => s.cleanup());

  it('changes only the targets named (weight, and priority with @P) and prints it', async () => {
    const out = await s.ok(['route', 'weight', P, `${L1}=80`, `${L3}=0@30`]);
    const route = await get(s, P);
    assert.equal(
      out,
      `updated ${P} (zone ${ZONE} serial ${route.serial})\n` +
        `  target ${L1}: weight 90 → 80\n` +
        `  target ${L3}: weight 1 → 0, priority 20 → 30\n`,
    );
    assert.deepEqual(route.targets, [
      { target: L1, weight: 80, priority: 10, share: '88.9%' },
      { target: L2, weight: 10, priority: 10, share: '11.1%' },
      { target: L3, weight: 0, priority: 30, share: 'failover' },
    ]);
    assert.equal(route.ttl, 3600);
    assert.deepEqual(route.metadata, { team: 'orders' });
  });

  it('the same weights again: no change', async () => {
    assert.match(await s.ok(['route', 'weight', P, `${L1}=80`]), /^no change to /);
  });

  it('a target not on the route, an alias, a missing route: exit 2, one line, nothing changed', async () => {
    const other = 'arn:aws:lambda:us-east-1:123456789012:function:elsewhere';
    const line = await refused(
      s,
      ['route', 'weight', P, `${L1}=1`, `${other}=5`],
      2,
      /target '.*:elsewhere' is not on route/,
    );
    assert.match(line, new RegExp(`its targets: ${L1}, ${L2}, ${L3}\\)`));
    await refused(
      s,
      ['route', 'weight', `${A}:orders/latest`, `${L1}=5`],
      2,
      /is an alias of .*orders\/created, which has the targets/,
    );
    await refused(
      s,
      ['route', 'weight', `${A}:orders/nope`, `${L1}=5`],
      2,
      /route '.*orders\/nope' not found in .*'psarn route set' creates it/,
    );
    await refused(s, ['route', 'weight', `arn:aws:psarn:eu-west-1:123456789012:x`, `${L1}=5`], 2, /not found/);
  });
});

describe('typos do not change the database (issue 9)', () => {
  const s = new Sandbox();
  before(async () => {
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', L1]);
  });
  after(() => s.cleanup());

  it('a weight that is not a number is refused, not stored in the target', async () => {
    await refused(
      s,
      ['route', 'set', P, '--target', `${L1}=abc`],
      2,
      /'=abc' is not a weight; write =WEIGHT or =WEIGHT@PRIORITY/,
    );
    await refused(s, ['route', 'set', P, '--target', `${L1}=9O`], 2, /'=9O' is not a weight/);
  });

  it('a URL whose query ends in =digits is refused as ambiguous; its explicit form is taken', async () => {
    await refused(
      s,
      ['route', 'set', P, '--target', 'https://h.example.com/in?n=5'],
      2,
      /could be the value of the query parameter 'n' or a weight; write 'https:\/\/h\.example\.com\/in\?n=5=1'/,
    );
    await s.ok(['route', 'set', P, '--target', 'https://h.example.com/in?n=5=1']);
    assert.deepEqual((await get(s, P)).targets, [
      { target: 'https://h.example.com/in?n=5', weight: 1, priority: 10, share: '100%' },
    ]);
  });

  it('a --target given twice is a usage error naming it (it exited 1 with "(StoreError)")', async () => {
    await refused(
      s,
      ['route', 'set', P, '--target', L1, '--target', L1],
      2,
      new RegExp(`--target '${L1}' is given twice`),
    );
    await refused(s, ['route', 'set', P, '--target', `${L1}=1`, '--target', `${L1}=2@20`], 2, /is given twice/);
  });

  it("arn:aws:psarn:useast1:… is refused with the region's AWS form, and no zone is created", async () => {
    await refused(
      s,
      ['route', 'set', 'arn:aws:psarn:useast1:123456789012:orders/x', '--target', L1],
      2,
      /region 'useast1' is not an AWS region name in partition 'aws'; did you mean us-east-1\?/,
    );
    assert.equal((await s.ok(['route', 'list', '--json'])).includes('useast1'), false);
  });

  it('a write that creates a zone says so first, so a typo in the account shows', async () => {
    const out = await s.ok(['route', 'set', 'arn:aws:psarn:us-east-1:123456789021:orders/created', '--target', L1]);
    assert.match(
      out,
      /^created zone 123456789021\.us-east-1\.aws\.psarn\.internal\.\ncreated arn:aws:psarn:us-east-1:123456789021:orders\/created /,
    );
    const again = await s.ok(['route', 'set', 'arn:aws:psarn:us-east-1:123456789021:orders/other', '--target', L1]);
    assert.doesNotMatch(again, /created zone/);
  });
});

describe('aliases cannot loop or dangle (issue 9)', () => {
  const s = new Sandbox();
  const X = `${A}:x`;
  const Y = `${A}:y`;
  before(async () => {
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', L1]);
    await s.ok(['route', 'set', `${A}:orders/v2`, '--target', L2]);
  });
  after(() => s.cleanup());

  it('route alias a b, then route alias b a: the second is refused, naming both psARNs', async () => {
    await s.ok(['route', 'alias', X, P]);
    await s.ok(['route', 'alias', Y, X]);
    await refused(
      s,
      ['route', 'alias', X, Y],
      2,
      new RegExp(`alias ${X} → ${Y} would make a loop: ${X} → ${Y} → ${X}; an alias must end at a route with targets`),
    );
    await refused(s, ['route', 'alias', X, Y, '--force'], 2, /would make a loop/);
  });

  it('an alias to a route that does not exist is refused; --force writes it', async () => {
    const v9 = `${A}:orders/v9`;
    await refused(
      s,
      ['route', 'alias', `${A}:orders/next`, v9],
      2,
      new RegExp(`would point at ${v9}, which is not a route; create it first with 'psarn route set', or pass --force`),
    );
    const out = await s.ok(['route', 'alias', `${A}:orders/next`, v9, '--force']);
    assert.match(out, new RegExp(`^  alias \\(none\\) → ${v9}$`, 'm'));
  });

  it('deleting a route aliases point at is refused, naming them; --force deletes it and warns', async () => {
    const v3 = `${A}:orders/v3`;
    await s.ok(['route', 'set', v3, '--target', L3]);
    await s.ok(['route', 'alias', `${A}:a1`, v3]);
    await s.ok(['route', 'alias', `${A}:a2`, v3]);
    await refused(
      s,
      ['route', 'delete', v3],
      2,
      new RegExp(
        `route ${v3} is the target of 2 aliases \\(${A}:a1, ${A}:a2\\); deleting it would leave them pointing at nothing; re-point or delete the aliases first, or pass --force`,
      ),
    );
    const r = await s.run(['route', 'delete', v3, '--force']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^deleted ${v3} `));
    assert.equal(r.stderr, `psarn: warning: 2 aliases now point at nothing: ${A}:a1, ${A}:a2\n`);
  });

  it('turning a route aliases point at into an alias is refused unless forced', async () => {
    await refused(
      s,
      ['route', 'alias', P, `${A}:orders/v2`],
      2,
      /is the target of 1 alias \(.*:x\); it would answer as the new alias/,
    );
    const out = await s.ok(['route', 'alias', P, `${A}:orders/v2`, '--force']);
    assert.match(out, new RegExp(`^  target ${L1}: weight 1, priority 10 → \\(none\\)$`, 'm'));
    assert.match(out, new RegExp(`^  alias \\(none\\) → ${A}:orders/v2$`, 'm'));
  });

  it('a chain of more than 8 aliases is refused', async () => {
    await s.ok(['route', 'alias', `${A}:c1`, `${A}:orders/v2`]);
    for (let i = 2; i <= 8; i++) await s.ok(['route', 'alias', `${A}:c${i}`, `${A}:c${i - 1}`]);
    await refused(
      s,
      ['route', 'alias', `${A}:c9`, `${A}:c8`],
      2,
      /would make a chain of more than 8 aliases: .*c9 → .*c8 → .*; a DNS answer follows at most 8 CNAMEs/,
    );
  });

  it('zone import warns about broken alias chains, names them, and imports all the same', async () => {
    const file = s.path('aliases.zone');
    writeFileSync(
      file,
      [
        `$ORIGIN 210987654321.eu-west-1.aws.psarn.internal.`,
        '$TTL 300',
        'a.loop 60 IN CNAME b.loop',
        'b.loop 60 IN CNAME a.loop',
        'lost 60 IN CNAME nowhere',
        `ok 60 IN URI 10 1 "${L1}"`,
        '',
      ].join('\n'),
    );
    const r = await s.run(['zone', 'import', file]);
    assert.equal(r.status, 0, r.stderr);
    const B = 'arn:aws:psarn:eu-west-1:210987654321';
    assert.equal(
      r.stderr,
      `psarn: warning: alias ${B}:loop/a is in a loop: ${B}:loop/a → ${B}:loop/b → ${B}:loop/a\n` +
        `psarn: warning: alias ${B}:lost points at no route: ${B}:lost → ${B}:nowhere\n`,
    );
    assert.match(r.stdout, /^created zone 210987654321\.eu-west-1\.aws\.psarn\.internal\.\nimported 4 routes /);
  });

  it('zone import says "1 route" for one', async () => {
    const file = s.path('one.zone');
    writeFileSync(
      file,
      [`$ORIGIN 210987654321.eu-west-2.aws.psarn.internal.`, `one 60 IN URI 10 1 "${L1}"`, ''].join('\n'),
    );
    const r = await s.run(['zone', 'import', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\nimported 1 route into 210987654321\.eu-west-2\.aws\.psarn\.internal\. /);
  });
});

describe('flush prints the epoch old → new', () => {
  const s = new Sandbox();
  before(async () => {
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', L1]);
  });
  after(() => s.cleanup());

  it('epoch 1 → 2', async () => {
    assert.match(
      await s.ok(['flush', P]),
      new RegExp(`^flushed ${ZONE.replaceAll('.', '\\.')}: epoch 1 → 2 \\(serial \\d+\\)\\n$`),
    );
  });
});

describe('what a write prints, pure', () => {
  const base = {
    zone: ZONE,
    path: 'orders/created',
    ttl: 300,
    policy: 'weighted' as const,
    metadata: {},
    serial: 2,
    updatedAt: 0,
  };

  it('a zone of a region written before the AWS region rule is still shown (route list never fails)', () => {
    assert.equal(
      routePsarn({ zone: '123456789012.useast1.aws.psarn.internal.', path: 'a/b' }, 'psarn.internal.'),
      'arn:aws:psarn:useast1:123456789012:a/b',
    );
  });

  it('a target a zone file gave twice is matched occurrence by occurrence', () => {
    const t = (weight: number, priority: number) => ({ target: L1, weight, priority });
    assert.deepEqual(
      routeDiff(
        { ...base, targets: [t(1, 10), t(1, 20)] },
        { ...base, targets: [t(1, 10), t(5, 20)] },
        'psarn.internal.',
      ),
      [`target ${L1}: weight 1 → 5`],
    );
  });

  it('nothing changed: no lines', () => {
    const route = { ...base, targets: [{ target: L1, weight: 1, priority: 10 }], metadata: { a: '1', b: '2' } };
    assert.deepEqual(routeDiff(route, { ...route, metadata: { b: '2', a: '1' } }, 'psarn.internal.'), []);
  });
});

describe('local writes journal the OS user (docs/design.md#change-actors)', () => {
  const s = new Sandbox();
  after(() => s.cleanup());

  it('route set, flush and route delete record user:$USER', async () => {
    await s.ok(['db', 'init']);
    s.env.USER = 'alice';
    await s.ok(['route', 'set', P, '--target', `${L1}=1`]);
    await s.ok(['flush', P]);
    s.env.USER = 'bob';
    await s.ok(['route', 'delete', P]);
    const { Store } = await import('../../src/store/index.js');
    const store = Store.open(s.db, { create: false });
    try {
      assert.deepEqual(
        store.journal(ZONE).map((e) => [e.op, e.actor]),
        [
          ['create', 'user:alice'],
          ['set', 'user:alice'],
          ['flush', 'user:alice'],
          ['delete', 'user:bob'],
        ],
      );
    } finally {
      store.close();
    }
  });
});
