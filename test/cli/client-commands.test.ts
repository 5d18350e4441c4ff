/**
 * `psarn resolve` and `psarn invoke`: argument parsing (pure), then end to end against the real
 * psarnd (demo routes) — resolve in-process, invoke as a child process whose AWS SDK is pointed
 * at a fake AWS on 127.0.0.1 through AWS_ENDPOINT_URL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type PayloadArg, parseArgv, parsePayloadArg } from '../../src/cli/args.js';
import { pickSticky } from '../../src/client/sticky.js';
import { type FakeAws, startFakeAws } from '../client/invokers/fake-aws.js';
import { entryArgs, type RunningDaemon, startAll, startPsarnd } from '../helpers/daemon.js';
import { type RunResult, Sandbox, usage } from './helpers.js';

const ACCOUNT = 'arn:aws:psarn:us-east-1:123456789012';
const CREATED = `${ACCOUNT}:orders/created`;
const LATEST = `${ACCOUNT}:orders/latest`;
const AUDIT = `${ACCOUNT}:orders/audit`;
const CHARGE = `${ACCOUNT}:payments/charge`;
const V1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1';
const V2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2';
const PAY = 'arn:aws:lambda:us-east-1:123456789012:function:payments-charge';
const PAY_BACKUP = 'arn:aws:lambda:us-east-1:123456789012:function:payments-charge-backup';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:orders-audit';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:orders-audit';
const psarn = { partition: 'aws', region: 'us-east-1', account: '123456789012', path: ['orders', 'created'] };

describe('parseArgv: resolve and invoke', () => {
  const accepted: [string[], unknown][] = [
    [['resolve', CREATED], { kind: 'resolve', psarn, json: false }],
    [
      ['resolve', '@127.0.0.1:9053', CREATED.toUpperCase().replace('ARN:AWS:PSARN', 'arn:aws:psarn'), '--json'],
      { kind: 'resolve', psarn, server: { host: '127.0.0.1', port: 9053 }, json: true },
    ],
    [['resolve', CREATED, '@[::1]:53'], { kind: 'resolve', psarn, server: { host: '::1', port: 53 }, json: false }],
    [['resolve', CREATED, '@localhost'], { kind: 'resolve', psarn, server: { host: 'localhost' }, json: false }],
    [['invoke', CREATED], { kind: 'invoke', psarn, payload: { json: {} }, event: false, json: false }],
    [
      ['invoke', CREATED, '--payload', '{"id":42,"items":[1,2]}', '--event', '@127.0.0.1:1', '--json'],
      {
        kind: 'invoke',
        psarn,
        server: { host: '127.0.0.1', port: 1 },
        payload: { json: { id: 42, items: [1, 2] } },
        event: true,
        json: true,
      },
    ],
    [
      ['invoke', '--payload=@events/order.json', CREATED],
      { kind: 'invoke', psarn, payload: { file: 'events/order.json' }, event: false, json: false },
    ],
    [
      ['invoke', CREATED, '--payload', '"text"'],
      { kind: 'invoke', psarn, payload: { json: 'text' }, event: false, json: false },
    ],
    [
      ['invoke', CREATED, '--payload', 'null'],
      { kind: 'invoke', psarn, payload: { json: null }, event: false, json: false },
    ],
    [
      ['invoke', CREATED, '--sticky-key', 'tenant 42'],
      { kind: 'invoke', psarn, payload: { json: {} }, event: false, json: false, stickyKey: 'tenant 42' },
    ],
  ];
  for (const [argv, command] of accepted) {
    it(`accepts ${argv.join(' ')}`, () => {
      assert.deepEqual(parseArgv(argv), { global: {}, command });
    });
  }

  const rejected: [string[], RegExp][] = [
    [['resolve'], /^missing <psARN> for 'psarn resolve'; usage: psarn resolve <psARN>/],
    [['invoke'], /^missing <psARN> for 'psarn invoke'/],
    [['resolve', CREATED, LATEST], new RegExp(`^unexpected argument '${LATEST}' for 'psarn resolve'`)],
    [['resolve', CREATED, '@a:1', '@b:2'], /^unexpected second server '@b:2'/],
    [['resolve', CREATED, '@127.0.0.1:99999'], /^invalid server '@127\.0\.0\.1:99999': port '99999' is not 1-65535/],
    [['resolve', 'arn:aws:psarn:us-east-1:12345:orders'], /^invalid psARN .*account '12345' is invalid/],
    [['resolve', CREATED, '--payload', '{}'], /^unknown flag '--payload' for 'psarn resolve'/],
    [['invoke', CREATED, '--payload', '{id:1}'], /^invalid --payload '\{id:1\}': not JSON \(.+\); give JSON text/],
    [['invoke', CREATED, '--payload', '@'], /^invalid --payload '@': give a file after @/],
    [['invoke', CREATED, '--payload'], /^missing value for --payload in 'psarn invoke'/],
    [['invoke', CREATED, '--events'], /^unknown flag '--events' for 'psarn invoke'/],
    [['invoke', CREATED, '--sticky-key', ''], /^empty value for --sticky-key in 'psarn invoke'/],
  ];
  for (const [argv, message] of rejected) {
    it(`rejects ${argv.join(' ')}`, () => {
      assert.match(usage(argv).message, message);
    });
  }

  it('parsePayloadArg: @FILE names a file, anything else is JSON', () => {
    const table: [string, PayloadArg][] = [
      ['{}', { json: {} }],
      ['[1,"a"]', { json: [1, 'a'] }],
      ['42', { json: 42 }],
      ['@x.json', { file: 'x.json' }],
      ['@/abs/path with space', { file: '/abs/path with space' }],
    ];
    for (const [input, expected] of table) assert.deepEqual(parsePayloadArg(input), expected, input);
    assert.throws(() => parsePayloadArg('not json'), /invalid --payload 'not json': not JSON/);
  });
});

/** A UDP and TCP port on 127.0.0.1 with nothing listening (bound, then closed). */
async function deadPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('psarn resolve and invoke against psarnd', () => {
  let d: RunningDaemon;
  let fake: FakeAws;
  let at = '';
  const s = new Sandbox();

  before(async () => {
    [d, fake] = await startAll([startPsarnd(), startFakeAws()]);
    at = `@${d.dns.host}:${d.dns.port}`;
  });
  after(async () => {
    await Promise.all([d?.stop(), fake?.close()]);
    s.cleanup();
  });

  /** Runs the CLI as a child process with the AWS SDK pointed at the fake. */
  function cli(args: string[]): Promise<RunResult> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !k.startsWith('AWS_') && !k.startsWith('PSARN_')) env[k] = v;
    }
    Object.assign(env, {
      AWS_ENDPOINT_URL: fake.url,
      AWS_ACCESS_KEY_ID: 'AKIDFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      PSARN_DB: s.db,
    });
    return new Promise((resolve, reject) => {
      // Run in the sandbox folder (relative --payload files, no config file); `--import tsx` must
      // then be resolved from here, not from that folder.
      const node = entryArgs('cli').map((arg) => (arg === 'tsx' ? import.meta.resolve('tsx') : arg));
      const child = spawn(process.execPath, [...node, ...args], { cwd: s.dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    });
  }

  describe('resolve', () => {
    it('shows the weighted 90/10 route with shares, cache state and queries', async () => {
      const before = Date.now();
      const r = await s.run(['resolve', CREATED, at]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const lines = r.stdout.split('\n');
      assert.deepEqual(lines.slice(0, 3), [
        `psARN:    ${CREATED}`,
        'name:     created.orders.123456789012.us-east-1.aws.psarn.internal.',
        'policy:   weighted',
      ]);
      assert.match(r.stdout, /^ttl: {6}300$/m);
      assert.match(r.stdout, /^epoch: {4}\d+$/m);
      assert.match(r.stdout, /^stale: {4}false$/m);
      assert.match(r.stdout, /^cache: {4}fresh$/m);
      assert.match(r.stdout, /^queries: {2}[1-9]\d*$/m);
      assert.match(r.stdout, new RegExp(`^server: {3}127\\.0\\.0\\.1#${d.dns.port}$`, 'm'));
      const expires = Date.parse(/^expires: {2}(\S+)$/m.exec(r.stdout)?.[1] ?? '');
      assert.ok(expires >= before + 299_000 && expires <= Date.now() + 300_000, `expires ${expires}`);
      assert.ok(
        r.stdout.endsWith(
          [
            'targets:',
            '  priority  weight  share  target',
            `  10        90      90%    ${V1}`,
            `  10        10      10%    ${V2}`,
            '',
          ].join('\n'),
        ),
        r.stdout,
      );
    });

    it('shows fanout targets at 100% each and a failover group', async () => {
      const audit = await s.run(['resolve', AUDIT, at]);
      assert.equal(audit.status, 0, audit.stderr);
      assert.match(audit.stdout, /^policy: {3}fanout$/m);
      assert.ok(audit.stdout.includes(`  10        1       100%   ${QUEUE}\n  10        1       100%   ${TOPIC}\n`));
      const charge = await s.run(['resolve', CHARGE, at]);
      assert.equal(charge.status, 0, charge.stderr);
      assert.ok(
        charge.stdout.includes(`  10        1       100%      ${PAY}\n  20        1       failover  ${PAY_BACKUP}\n`),
      );
    });

    it('resolves an alias to its target route, under the asked psARN', async () => {
      const r = await s.run(['resolve', LATEST, at, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const route = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(route.psarn, LATEST);
      assert.equal(route.name, 'latest.orders.123456789012.us-east-1.aws.psarn.internal.');
      assert.deepEqual(route.targets, [
        { target: V1, priority: 10, weight: 90 },
        { target: V2, priority: 10, weight: 10 },
      ]);
    });

    it('--json prints the Route object plus cache and queries', async () => {
      const r = await s.run(['resolve', CREATED, at, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(out).sort(), [
        'cache',
        'epoch',
        'expiresAt',
        'name',
        'policy',
        'psarn',
        'queries',
        'stale',
        'targets',
        'ttl',
      ]);
      assert.equal(out.psarn, CREATED);
      assert.equal(out.policy, 'weighted');
      assert.equal(out.ttl, 300);
      assert.equal(out.stale, false);
      assert.equal(out.cache, 'fresh');
      assert.ok(Number.isInteger(out.queries) && (out.queries as number) >= 1);
      assert.ok(Number.isInteger(out.epoch) && (out.epoch as number) >= 1);
      assert.ok(typeof out.expiresAt === 'number' && out.expiresAt > Date.now());
    });

    it('a route that does not exist: ERR_ROUTE_NOT_FOUND, exit 1', async () => {
      const missing = `${ACCOUNT}:orders/missing`;
      const r = await s.run(['resolve', missing, at]);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^psarn: route not found \(ERR_ROUTE_NOT_FOUND\): .*NXDOMAIN.*\n$/);
      assert.ok(r.stderr.includes(missing));
    });

    it('a bad psARN: exit 2, nothing asked', async () => {
      const r = await s.run(['resolve', 'arn:aws:psarn:us-east-1:123456789012:orders/bad.name', at]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^psarn: invalid psARN .*\n$/);
      assert.equal(r.stdout, '');
    });

    it('@localhost:PORT is looked up (issue 9)', async () => {
      const r = await s.run(['resolve', CREATED, `@localhost:${d.dns.port}`]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`\\nserver: +localhost#${d.dns.port}\\n`));
    });

    it('a server name that does not resolve: ERR_SERVER_LOOKUP naming it, one line, exit 1 (issue 9)', async () => {
      const r = await s.run(['resolve', CREATED, '@nohost.invalid']);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^psarn: server not found \(ERR_SERVER_LOOKUP\): cannot look up server 'nohost\.invalid': [A-Z_]+; check the host name in @HOST\[:PORT\] \(default: config listen\), or give an IP address\n$/,
      );
    });

    it('a dead server: ERR_NO_SERVER naming it, exit 1, in bounded time', async () => {
      const port = await deadPort();
      const started = Date.now();
      const r = await s.run(['resolve', CREATED, `@127.0.0.1:${port}`]);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        new RegExp(
          `^psarn: no server answered \\(ERR_NO_SERVER\\): 127\\.0\\.0\\.1#${port} did not answer for ${CREATED}: .*; is psarnd running there\\? \\(see @HOST\\[:PORT\\]\\)\\n$`,
        ),
      );
    });
  });

  describe('invoke', () => {
    it('sends the payload to the Lambda function the weighted pick chose', async () => {
      fake.reset();
      const r = await cli(['invoke', CREATED, '--payload', '{"id":42}', at]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fake.requests.length, 1);
      const req = fake.last('lambda');
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url);
      assert.ok(m, req.url);
      const fn = decodeURIComponent(m[1]!);
      assert.ok(fn === V1 || fn === V2, fn);
      assert.equal(req.raw, '{"id":42}');
      assert.equal(req.headers['x-amz-invocation-type'], 'RequestResponse');
      assert.equal(
        r.stdout,
        `ok     lambda  ${fn}  (status 200)\ndelivered: 1 of 1 target accepted the event (policy weighted, stale false)\n`,
      );
    });

    it('--sticky-key sends every event of a key to the target pickSticky names', async () => {
      const targets = [
        { target: V1, priority: 10, weight: 90 },
        { target: V2, priority: 10, weight: 10 },
      ];
      // Two keys that land on different targets, so the test sees the key decide, not the 90/10 odds.
      const keys = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
      const onV2 = keys.find((k) => pickSticky(targets, k) === 1)!;
      const onV1 = keys.find((k) => pickSticky(targets, k) === 0)!;
      assert.ok(onV1 && onV2, 'fixture: one key on each target');
      for (const [key, want] of [
        [onV2, V2],
        [onV1, V1],
      ] as const) {
        fake.reset();
        for (let i = 0; i < 3; i++) assert.equal((await cli(['invoke', CREATED, '--sticky-key', key, at])).status, 0);
        const fns = fake.requests.map((r) => decodeURIComponent(/functions\/([^/]+)\//.exec(r.url)![1]!));
        assert.deepEqual(fns, [want, want, want], key);
      }
    });

    it('--event invokes asynchronously; the default payload is {}', async () => {
      fake.reset();
      const r = await cli(['invoke', CHARGE, '--event', at]);
      assert.equal(r.status, 0, r.stderr);
      const req = fake.last('lambda');
      assert.equal(req.headers['x-amz-invocation-type'], 'Event');
      assert.equal(decodeURIComponent(/functions\/([^/]+)\//.exec(req.url)![1]!), PAY);
      assert.equal(req.raw, '{}');
      assert.match(r.stdout, new RegExp(`^ok {5}lambda {2}${PAY} {2}\\(status 202\\)\\n`));
    });

    it('--payload @FILE: JSON when it parses, else the text as it is', async () => {
      writeFileSync(s.path('event.json'), '{"order": {"id": 7}}\n');
      writeFileSync(s.path('event.txt'), 'plain text, not JSON');
      fake.reset();
      assert.equal((await cli(['invoke', CHARGE, '--payload', '@event.json', at])).status, 0);
      assert.equal(fake.last('lambda').raw, '{"order":{"id":7}}');
      fake.reset();
      assert.equal((await cli(['invoke', CHARGE, '--payload', `@${s.path('event.txt')}`, at])).status, 0);
      assert.equal(fake.last('lambda').raw, 'plain text, not JSON');
    });

    it('fanout reaches the SQS queue and the SNS topic; --json prints the result', async () => {
      fake.reset();
      const r = await cli(['invoke', AUDIT, '--payload', '{"audit":true}', at, '--json']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(fake.requests.map((q) => `${q.service} ${q.operation}`).sort(), [
        'sns Publish',
        'sqs SendMessage',
      ]);
      assert.equal((fake.last('sqs').body as { MessageBody: string }).MessageBody, '{"audit":true}');
      assert.equal((fake.last('sns').body as { Message: string }).Message, '{"audit":true}');
      const out = JSON.parse(r.stdout) as {
        psarn: string;
        policy: string;
        stale: boolean;
        delivered: boolean;
        outcomes: { target: string; service: string; ok: boolean; response: { id?: string } }[];
      };
      assert.equal(out.psarn, AUDIT);
      assert.equal(out.policy, 'fanout');
      assert.equal(out.stale, false);
      assert.equal(out.delivered, true);
      assert.deepEqual(
        out.outcomes.map((o) => [o.target, o.service, o.ok]),
        [
          [QUEUE, 'sqs', true],
          [TOPIC, 'sns', true],
        ],
      );
      assert.match(out.outcomes[0]!.response.id ?? '', /^msg-\d+$/);
      assert.match(out.outcomes[1]!.response.id ?? '', /^sns-\d+$/);
    });

    it('every call failing: each failure printed, exit 1, ERR_ALL_TARGETS_FAILED', async () => {
      fake.reset();
      fake.respond('lambda', () => ({ status: 500, body: '{"message":"boom"}' }));
      try {
        const r = await cli(['invoke', CHARGE, at]);
        assert.equal(r.status, 1, r.stderr);
        const lines = r.stdout.split('\n');
        assert.match(lines[0]!, new RegExp(`^error {2}lambda {2}${PAY} {2}\\S.*`));
        assert.match(lines[1]!, new RegExp(`^error {2}lambda {2}${PAY_BACKUP} {2}\\S.*`));
        assert.equal(lines[2], 'not delivered: 0 of 2 targets accepted the event (policy weighted, stale false)');
        assert.equal(lines.length, 4);
        assert.match(r.stderr, /^psarn: not delivered to .* \(ERR_ALL_TARGETS_FAILED\): .*\n$/);
        // Failover: the primary was tried before the backup, each with the SDK's retries.
        const fns = fake.requests.map((q) => decodeURIComponent(/functions\/([^/]+)\//.exec(q.url)![1]!));
        assert.equal(fns[0], PAY);
        assert.equal(fns.at(-1), PAY_BACKUP);
        assert.ok(fns.includes(PAY) && fns.includes(PAY_BACKUP));
      } finally {
        fake.reset();
      }
    });

    it('bad input: invalid --payload and an unreadable file exit 2 and send nothing', async () => {
      fake.reset();
      const bad = await s.run(['invoke', CREATED, '--payload', '{oops', at]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^psarn: invalid --payload '\{oops': not JSON/);
      const missing = await s.run(['invoke', CREATED, '--payload', '@nope.json', at]);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /^psarn: cannot read --payload file 'nope\.json': ENOENT\n$/);
      assert.equal(fake.requests.length, 0);
    });
  });
});
