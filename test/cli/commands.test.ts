import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const LATEST = 'arn:aws:psarn:us-east-1:123456789012:orders/latest';
const AUDIT = 'arn:aws:psarn:us-east-1:123456789012:orders/audit';
const L1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';
const L2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v2';
const HOOK = 'https://hooks.example.com/orders?x=1';

async function seed(s: Sandbox): Promise<void> {
  await s.ok(['db', 'init']);
  await s.ok([
    'route',
    'set',
    P,
    '--target',
    `${L1}=90`,
    '--target',
    `${L2}=10`,
    '--target',
    `${HOOK}=1@20`,
    '--meta',
    'team=orders',
  ]);
  await s.ok(['route', 'alias', LATEST, P, '--ttl', '60']);
  await s.ok([
    'route',
    'set',
    AUDIT,
    '--policy',
    'fanout',
    '--ttl',
    '30',
    '--target',
    'arn:aws:sqs:us-east-1:123456789012:audit',
  ]);
}

/** Everything a write could change: the routes and the zone serial and epoch. */
async function snapshot(s: Sandbox): Promise<string> {
  return (await s.ok(['route', 'list', '--json'])) + (await s.ok(['zone', 'export', ZONE]));
}

describe('psarn commands (in-process, temp database)', () => {
  const s = new Sandbox();
  before(() => seed(s));
  after(() => s.cleanup());

  it('route set of a new route prints the psARN, zone, serial and everything it set', async () => {
    const out = await s.ok(['route', 'set', 'arn:aws:psarn:us-east-1:123456789012:Payments/Charge', '--target', L1]);
    const serial = /serial (\d+)\)/.exec(out)?.[1];
    assert.equal(
      out,
      `created arn:aws:psarn:us-east-1:123456789012:payments/charge (zone ${ZONE} serial ${serial})\n` +
        '  ttl (none) → 300\n' +
        '  policy (none) → weighted\n' +
        `  target ${L1}: (none) → weight 1, priority 10\n`,
    );
  });

  it('route set replaces the targets and keeps the TTL, policy and metadata it was not given', async () => {
    const p = 'arn:aws:psarn:us-east-1:123456789012:tmp/replace';
    await s.ok([
      'route',
      'set',
      p,
      '--target',
      L1,
      '--target',
      L2,
      '--ttl',
      '10',
      '--meta',
      'a=1',
      '--policy',
      'fanout',
    ]);
    await s.ok(['route', 'set', p, '--target', `${L2}=5@3`]);
    const route = JSON.parse(await s.ok(['route', 'get', p, '--json']));
    assert.equal(route.ttl, 10);
    assert.equal(route.policy, 'fanout');
    assert.deepEqual(route.metadata, { a: '1' });
    assert.deepEqual(route.targets, [{ target: L2, weight: 5, priority: 3, share: '100%' }]);
  });

  it('route get prints a readable block with shares', async () => {
    const out = await s.ok(['route', 'get', P]);
    assert.match(out, /^psARN: +arn:aws:psarn:us-east-1:123456789012:orders\/created$/m);
    assert.match(out, new RegExp(`^name: +created\\.orders\\.${ZONE.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(out, /^policy: +weighted$/m);
    assert.match(out, /^ttl: +300$/m);
    assert.match(out, /^updated: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m);
    assert.match(out, /^meta team: +orders$/m);
    assert.match(out, new RegExp(`^  10 +90 +90% +${L1}$`, 'm'));
    assert.match(out, new RegExp(`^  10 +10 +10% +${L2}$`, 'm'));
    assert.match(out, /^ {2}20 +1 +failover +https:\/\/hooks\.example\.com\/orders\?x=1$/m);
  });

  it('route get --json of an alias names the target psARN', async () => {
    const route = JSON.parse(await s.ok(['route', 'get', LATEST, '--json']));
    assert.deepEqual(route.alias, { psarn: P, name: `created.orders.${ZONE}` });
    assert.equal(route.ttl, 60);
    assert.deepEqual(route.targets, []);
    assert.match(await s.ok(['route', 'get', LATEST]), new RegExp(`^alias: +${P} \\(created\\.orders\\.`, 'm'));
  });

  it('route list prints one line per route, filtered by psARN prefix or zone', async () => {
    const all = await s.ok(['route', 'list']);
    assert.ok(all.includes(`${AUDIT}  fanout  ttl 30  1 target\n`), all);
    assert.ok(all.includes(`${P}  weighted  ttl 300  3 targets\n`));
    assert.ok(all.includes(`${LATEST}  alias -> ${P}  ttl 60\n`));
    const orders = await s.ok(['route', 'list', 'arn:aws:psarn:us-east-1:123456789012:orders']);
    assert.equal(orders.trim().split('\n').length, 3);
    assert.equal(await s.ok(['route', 'list', P]), `${P}  weighted  ttl 300  3 targets\n`);
    assert.equal(await s.ok(['route', 'list', ZONE.slice(0, -1)]), await s.ok(['route', 'list', ZONE]));
    const json = JSON.parse(await s.ok(['route', 'list', 'arn:aws:psarn:us-east-1:123456789012:orders', '--json']));
    assert.deepEqual(
      json.map((r: { psarn: string }) => r.psarn),
      [AUDIT, P, LATEST],
    );
    assert.deepEqual(
      JSON.parse(await s.ok(['route', 'list', 'arn:aws:psarn:us-east-1:123456789012:none', '--json'])),
      [],
    );
  });

  it('flush bumps the epoch and the serial', async () => {
    const before = await s.ok(['zone', 'export', ZONE]);
    const m = /epoch (\d+)/.exec(before)!;
    const out = await s.ok(['flush', P]);
    const got = /^flushed (\S+): epoch (\d+) → (\d+) \(serial (\d+)\)\n$/.exec(out);
    assert.ok(got, out);
    assert.equal(got[1], ZONE);
    assert.equal(Number(got[2]), Number(m[1]));
    assert.equal(Number(got[3]), Number(m[1]) + 1);
    assert.match(
      await s.ok(['zone', 'export', ZONE]),
      new RegExp(`_epoch\\.${ZONE.replaceAll('.', '\\.')}\\s+\\d+\\s+IN\\s+TXT\\s+"epoch=${got[3]}"`),
    );
    assert.match(await s.ok(['flush', ZONE]), new RegExp(`epoch ${got[3]} → ${Number(got[3]) + 1} `));
  });

  it('route delete removes the route', async () => {
    const p = 'arn:aws:psarn:us-east-1:123456789012:tmp/delete-me';
    await s.ok(['route', 'set', p, '--target', L1]);
    assert.match(
      await s.ok(['route', 'delete', p]),
      new RegExp(
        '^deleted arn:aws:psarn:us-east-1:123456789012:tmp/delete-me \\(zone .* serial \\d+\\)\\n' +
          '  ttl 300 → \\(none\\)\\n  policy weighted → \\(none\\)\\n' +
          `  target ${L1}: weight 1, priority 10 → \\(none\\)\\n$`,
      ),
    );
    const r = await s.run(['route', 'get', p]);
    assert.equal(r.status, 1);
  });

  it('zone export --output writes the file; export -> import into a fresh db -> export is the identity', async () => {
    const file = s.path('orders.zone');
    assert.equal(await s.ok(['zone', 'export', P, '--output', 'orders.zone']), '');
    const text = readFileSync(file, 'utf8');
    assert.equal(text, await s.ok(['zone', 'export', ZONE]));
    assert.match(text, /\$ORIGIN /);

    const fresh = new Sandbox();
    try {
      await fresh.ok(['db', 'init']);
      const out = await fresh.ok(['zone', 'import', file]);
      assert.match(
        out,
        new RegExp(
          `^created zone ${ZONE.replaceAll('.', '\\.')}\\nimported \\d+ routes into ${ZONE.replaceAll('.', '\\.')} \\(serial \\d+\\) in \\d+ ms\\n$`,
        ),
      );
      assert.equal(await fresh.ok(['zone', 'export', ZONE]), text);
      assert.equal(await fresh.ok(['route', 'list']), await s.ok(['route', 'list']));
    } finally {
      fresh.cleanup();
    }
  });

  it('help, --help and --version print to stdout and exit 0', async () => {
    assert.match(await s.ok(['help']), /route set +create a route, or change one/);
    assert.match(await s.ok(['help']), /route weight +change the weight/);
    assert.match(await s.ok(['help', 'route', 'set']), /To reset: --ttl default/);
    assert.match(await s.ok(['--help']), /Usage: psarn <command>/);
    assert.match(await s.ok(['help', 'dig']), /^Usage: psarn dig <psARN\|name>/);
    assert.match(await s.ok(['route', 'set', '--help']), /--target T/);
    assert.match(await s.ok(['--version']), /^psarn \d+\.\d+\.\d+/);
  });

  it('--db and PSARN_DB both choose the database; --db wins', async () => {
    const other = s.path('other.db');
    assert.match(await s.ok(['db', 'init', '--db', other]), /^created database /);
    assert.ok(existsSync(other));
    assert.equal(await s.ok(['route', 'list', '--db', other]), '');
    assert.notEqual(await s.ok(['route', 'list']), '');
  });

  it('--config reads the namespace and defaultTtl from a file', async () => {
    const cfg = s.path('psarn.yaml');
    writeFileSync(cfg, 'namespace: routes.example.\ndefaultTtl: 42\n');
    const db = s.path('ns.db');
    await s.ok(['db', 'init', '--db', db, '--config', cfg]);
    const out = await s.ok(['route', 'set', P, '--target', L1, '--db', db, '--config', cfg]);
    assert.match(out, /\(zone 123456789012\.us-east-1\.aws\.routes\.example\. serial \d+\)/);
    const route = JSON.parse(await s.ok(['route', 'get', P, '--json', '--db', db, '--config', cfg]));
    assert.equal(route.ttl, 42);
    assert.equal(route.name, 'created.orders.123456789012.us-east-1.aws.routes.example.');
  });
});

describe('psarn bad input: one line on stderr, exit status, database unchanged', () => {
  const s = new Sandbox();
  let baseline = '';
  before(async () => {
    await seed(s);
    baseline = await snapshot(s);
  });
  after(() => s.cleanup());

  const cases: [string, string[], number, RegExp][] = [
    [
      'malformed psARN',
      ['route', 'set', 'arn:aws:psarn:us-east-1:12345:orders', '--target', L1],
      2,
      /invalid psARN 'arn:aws:psarn:us-east-1:12345:orders'/,
    ],
    [
      'malformed ARN target',
      ['route', 'set', P, '--target', 'arn:aws:lambda:us-east-1'],
      2,
      /invalid target 'arn:aws:lambda:us-east-1'/,
    ],
    ['malformed URL target', ['route', 'set', P, '--target', 'https://'], 2, /invalid target 'https:\/\/'/],
    [
      'second target bad',
      ['route', 'set', P, '--target', L1, '--target', 'ftp://x/y'],
      2,
      /invalid target 'ftp:\/\/x\/y'/,
    ],
    ['weight 70000', ['route', 'set', P, '--target', `${L1}=70000`], 2, /weight 70000 is out of range/],
    ['priority -1', ['route', 'set', P, '--target', `${L1}=1@-1`], 2, /'=1@-1' is not a weight/],
    ['TTL 172801', ['route', 'set', P, '--target', L1, '--ttl', '172801'], 2, /invalid --ttl '172801'/],
    ['unknown flag', ['route', 'set', P, '--target', L1, '--weight', '5'], 2, /unknown flag '--weight'/],
    ['unknown command', ['rout', 'list'], 2, /unknown command 'rout'/],
    [
      'alias to itself',
      ['route', 'alias', P, P.toUpperCase().replace('ARN:AWS:PSARN', 'arn:aws:psarn')],
      2,
      /cannot alias .* to itself/,
    ],
    ['bad zone for flush', ['flush', 'example.com'], 2, /invalid zone 'example\.com'/],
    ['flush of a missing zone', ['flush', 'arn:aws:psarn:us-east-1:999999999999:x'], 1, /not found/],
    [
      'delete of a missing route',
      ['route', 'delete', 'arn:aws:psarn:us-east-1:123456789012:orders/missing'],
      1,
      /route 'arn:aws:psarn:us-east-1:123456789012:orders\/missing' not found/,
    ],
    ['delete in a missing zone', ['route', 'delete', 'arn:aws:psarn:eu-west-1:123456789012:orders/x'], 1, /not found/],
    ['get of a missing route', ['route', 'get', 'arn:aws:psarn:us-east-1:123456789012:orders/missing'], 1, /not found/],
    [
      'export of a missing zone',
      ['zone', 'export', '999999999999.us-east-1.aws.psarn.internal'],
      1,
      /zone '999999999999\.us-east-1\.aws\.psarn\.internal\.' not found/,
    ],
    ['import of a missing file', ['zone', 'import', 'nope.zone'], 1, /cannot read zone file 'nope\.zone'/],
    ['bad config file', ['route', 'list', '--config', 'missing.yaml'], 1, /missing\.yaml/],
  ];
  for (const [title, argv, status, pattern] of cases) {
    it(title, async () => {
      const r = await s.run(argv);
      assert.equal(r.status, status, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^psarn: [^\n]+\n$/);
      assert.match(r.stderr, pattern);
      assert.equal(await snapshot(s), baseline);
    });
  }

  it('an import with a bad line names it and changes nothing', async () => {
    const file = s.path('bad.zone');
    writeFileSync(
      file,
      `$ORIGIN ${ZONE}\n$TTL 300\ncreated.orders 300 IN URI 10 1 "${L2}"\nbad.orders 300 IN A 192.0.2.1\n`,
    );
    const r = await s.run(['zone', 'import', file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^psarn: [^\n]*bad\.zone:4[^\n]*\n$/);
    assert.equal(await snapshot(s), baseline);
  });

  // Issue 8, defect 5.1: these were accepted, then every URI query for them was SERVFAIL.
  it('route set with 1,100 targets is refused: its answer does not fit in a DNS message', async () => {
    const targets = Array.from({ length: 1100 }, (_, i) => ['--target', `${L1}-${i}`]).flat();
    const r = await s.run(['route', 'set', P, ...targets]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^psarn: invalid route 'orders\/created' in zone [^\n]*\n$/);
    assert.match(r.stderr, /its answer would take \d+ bytes \(1100 targets, \d+ bytes of URI and TXT records\)/);
    assert.match(r.stderr, /at most 63117 bytes/);
    assert.equal(await snapshot(s), baseline);
  });

  it('zone import of a route with 5,000 targets is refused and changes nothing', async () => {
    const file = s.path('huge.zone');
    const uris = Array.from({ length: 5000 }, (_, i) => `audit.orders 300 IN URI 10 1 "${L2}-${i}"`);
    writeFileSync(file, `$ORIGIN ${ZONE}\n$TTL 300\n${uris.join('\n')}\n`);
    const r = await s.run(['zone', 'import', file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^psarn: [^\n]*'orders\/audit'[^\n]*\(5000 targets[^\n]*\n$/);
    assert.equal(await snapshot(s), baseline);
  });

  it('a missing database is an error and is not created', async () => {
    const missing = s.path('missing.db');
    for (const argv of [
      ['route', 'list'],
      ['route', 'set', P, '--target', L1],
      ['flush', P],
      ['zone', 'export', ZONE],
    ]) {
      const r = await s.run([...argv, '--db', missing]);
      assert.equal(r.status, 1, argv.join(' '));
      assert.match(r.stderr, /^psarn: [^\n]*missing\.db[^\n]*\n$/);
      assert.ok(!existsSync(missing));
    }
  });
});
