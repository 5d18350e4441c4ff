/**
 * The remote CLI against a real psarnd (docs/cli.md#remote, issue 10): every remote read and
 * write prints what the local command prints on a copy of the same database, and leaves the
 * server's zone as the local command leaves the copy (their exports are byte-equal). A missing
 * or wrong key, or a key outside update.allow, is one line, exit 1, nothing changed; an
 * unreachable or silent server is one line naming it, in bounded time; a change made between the
 * read and the UPDATE fails the UPDATE's prerequisites and is reported.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { MainOptions } from '../../src/cli/main.js';
import { type Run, run, seedTwins } from '../helpers/cli-main.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const P = 'arn:aws:psarn:us-east-1:123456789012';
const Q1 = 'arn:aws:sqs:us-east-1:123456789012:q1';
const Q2 = 'arn:aws:sqs:us-east-1:123456789012:q2';
const ALLOWED = randomBytes(32).toString('base64');
const OTHER = randomBytes(32).toString('base64');
const SEED = `$ORIGIN ${Z}
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 40 3600 600 86400 30
@ 3600 IN NS ns.psarn.internal.
_epoch 5 IN TXT "epoch=3"
created.orders 300 IN URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:orders-v1"
created.orders 300 IN URI 10 10 "arn:aws:lambda:us-east-1:123456789012:function:orders-v2"
created.orders 300 IN TXT "v=psarn1" "policy=weighted" "epoch=3"
_meta.created.orders 300 IN TXT "team=orders"
audit.orders 120 IN URI 10 1 "${Q1}"
audit.orders 120 IN TXT "v=psarn1" "policy=fanout" "epoch=3"
latest.orders 60 IN CNAME created.orders
`;

describe('psarn --server against psarnd: same output as the local command', () => {
  let d: RunningDaemon;
  let dir: string;
  let copy: string;
  let server: string;
  const local = (...argv: string[]) => run(argv, { PSARN_DB: copy }, dir);
  const remote = (argv: string[], env: Record<string, string> = {}, options: MainOptions = {}) =>
    run(argv, { PSARN_SERVER: server, PSARN_KEY: `hmac-sha256:writer:${ALLOWED}`, ...env }, dir, options);

  /** Runs argv remotely, then locally on the copy; both must print the same and exit alike. */
  async function same(...argv: string[]): Promise<Run> {
    const r = await remote(argv);
    const l = await local(...argv);
    assert.deepEqual(r, l, `psarn ${argv.join(' ')}`);
    return r;
  }

  /** As `same`, for JSON output: the local one without the serial and time DNS does not carry. */
  async function sameJson(...argv: string[]): Promise<void> {
    const r = await remote(argv);
    const l = await local(...argv);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(l.status, 0, l.stderr);
    const strip = (v: Record<string, unknown>) => {
      const { serial: _s, updatedAt: _u, ...rest } = v;
      return rest;
    };
    const want = (JSON.parse(l.stdout) as Record<string, unknown>[]).map(strip);
    assert.ok(want.length > 0);
    assert.deepEqual(JSON.parse(r.stdout), want, `psarn ${argv.join(' ')}`);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psarn-remote-'));
    const db = join(dir, 'server.db');
    copy = join(dir, 'copy.db');
    writeFileSync(join(dir, 'seed.zone'), SEED);
    await seedTwins(dir, 'seed.zone', db, copy);
    d = await startPsarnd({
      db,
      demoRoutes: '',
      env: {
        PSARN_TSIG_KEYS: `writer:${ALLOWED},reader:${OTHER}`,
        PSARN_UPDATE_ALLOW: 'writer',
        PSARN_TRANSFER_ALLOW: 'writer,reader',
      },
    });
    server = `127.0.0.1:${d.dns.port}`;
  });
  after(async () => {
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads: route list (all, a zone, a prefix, --json), zone export, the catalog', async () => {
    const list = await same('route', 'list');
    assert.match(list.stdout, /orders\/latest {2}alias -> .*orders\/created/);
    await same('route', 'list', Z);
    await sameJson('route', 'list', `${P}:orders`, '--json');
    const exported = await same('zone', 'export', Z);
    assert.match(exported.stdout, /^; psarn zone 123456789012\.us-east-1\.aws\.psarn\.internal\. serial 40 epoch 3$/m);
    assert.match(exported.stdout, /^_meta\.created\.orders\.\S+\t300\tIN\tTXT\t"team=orders"$/m);
    await same('zone', 'export', 'catalog.psarn.internal');
    // -o: written through a temporary file renamed into place, as the local export.
    const r = await remote(['zone', 'export', Z, '-o', 'remote.zone']);
    assert.equal(r.status, 0, r.stderr);
    await local('zone', 'export', Z, '-o', 'local.zone');
    assert.equal(readFileSync(join(dir, 'remote.zone'), 'utf8'), readFileSync(join(dir, 'local.zone'), 'utf8'));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('route get: the route, its metadata and epoch; without the serial and time DNS does not carry', async () => {
    const r = await remote(['route', 'get', `${P}:orders/created`, '--json']);
    const l = await local('route', 'get', `${P}:orders/created`, '--json');
    assert.equal(r.status, 0, r.stderr);
    const { serial, updatedAt, ...want } = JSON.parse(l.stdout) as Record<string, unknown>;
    assert.equal(typeof serial, 'number');
    assert.equal(typeof updatedAt, 'string');
    assert.deepEqual(JSON.parse(r.stdout), want);
    assert.deepEqual((want as { metadata: unknown }).metadata, { team: 'orders' });
    const text = await remote(['route', 'get', `${P}:orders/latest`]);
    const localText = await local('route', 'get', `${P}:orders/latest`);
    const withoutBookkeeping = localText.stdout
      .split('\n')
      .filter((l) => !/^(serial|updated):/.test(l))
      .map((l) => l.replace(/^(\S+:)\s+/, '$1 '));
    assert.deepEqual(
      text.stdout.split('\n').map((l) => l.replace(/^(\S+:)\s+/, '$1 ')),
      withoutBookkeeping,
    );
  });

  it('writes: set, no change, ttl/policy/meta, weight, alias, a new zone, delete, flush: same output, same zone after', async () => {
    const created = await same(
      'route',
      'set',
      `${P}:svc/new`,
      '--target',
      `${Q1}=3`,
      '--target',
      `${Q2}=1@20`,
      '--meta',
      'team=a',
    );
    assert.match(created.stdout, /^created .*svc\/new \(zone \S+ serial 41\)$/m);
    assert.match(
      (await same('route', 'set', `${P}:svc/new`, '--target', `${Q1}=3`, '--target', `${Q2}=1@20`)).stdout,
      /^no change to /,
    );
    await same(
      'route',
      'set',
      `${P}:svc/new`,
      '--ttl',
      '60',
      '--policy',
      'fanout',
      '--meta',
      'tier=1',
      '--meta',
      'team-',
    );
    await same('route', 'weight', `${P}:svc/new`, `${Q2}=7@5`);
    await same('route', 'set', `${P}:orders/created`, '--clear-meta', '--meta', 'owner=ops');
    await same('route', 'alias', `${P}:svc/alias`, `${P}:svc/new`, '--ttl', '30');
    await same('route', 'set', `${P}:svc/alias`, '--target', Q1);
    const zone = await same(
      'route',
      'set',
      'arn:aws:psarn:eu-west-1:210987654321:pay/charge',
      '--target',
      'https://pay.example.com/c',
    );
    assert.match(zone.stdout, /^created zone 210987654321\.eu-west-1\.aws\.psarn\.internal\.$/m);
    await same('route', 'delete', `${P}:orders/latest`);
    const flushed = await same('flush', Z);
    assert.match(flushed.stdout, /^flushed \S+: epoch 3 → 4 \(serial \d+\)$/m);
    // Errors the local command gives before its store opens, given alike.
    const weight = await same('route', 'weight', `${P}:svc/new`, 'arn:aws:sqs:us-east-1:123456789012:nope=1');
    assert.equal(weight.status, 2);
    const missing = await same('route', 'set', `${P}:svc/none`);
    assert.equal(missing.status, 2);
    // Refused by the server's alias checks as by the store's: exit 2, one line, nothing written.
    for (const argv of [
      ['route', 'alias', `${P}:svc/a1`, `${P}:svc/nowhere`],
      ['route', 'alias', `${P}:svc/new`, `${P}:svc/alias2`],
    ]) {
      const r = await remote(argv);
      const l = await local(...argv);
      assert.equal(l.status, 2, l.stderr);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^psarn: server ${server} refused route '[^']+': [^\n]+\n$`));
    }
    // The server's zones now hold what the local commands wrote into the copy, record for record.
    await same('zone', 'export', Z);
    await same('zone', 'export', '210987654321.eu-west-1.aws.psarn.internal');
    await sameJson('route', 'list', '--json');
  });

  it('a route that is not there: exit 1, one line naming the server', async () => {
    for (const argv of [
      ['route', 'get', `${P}:svc/none`],
      ['route', 'delete', `${P}:svc/none`],
    ]) {
      const r = await remote(argv);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^psarn: route '${P}:svc/none' not found on server ${server}; [^\\n]+\\n$`));
    }
  });

  it('unsigned, a wrong secret, a key outside update.allow: one line, exit 1, nothing changed', async () => {
    const before = await remote(['zone', 'export', Z]);
    const set = ['route', 'set', `${P}:orders/created`, '--target', Q2];
    const cases: [Record<string, string>, RegExp][] = [
      [
        { PSARN_KEY: '' },
        /refused the UPDATE of route '.*': REFUSED \(EDE 18: .*\); sign it: give the key with PSARN_KEY or --key-file FILE$/,
      ],
      [{ PSARN_KEY: `writer:${OTHER}` }, /refused a query of .*: NOTAUTH, TSIG BADSIG \(the secret is wrong\)$/],
      [
        { PSARN_KEY: `nobody:${OTHER}` },
        /refused a query of .*: NOTAUTH, TSIG BADKEY \(the server has no key of that name and algorithm\)$/,
      ],
      [
        { PSARN_KEY: `reader:${OTHER}` },
        /refused the UPDATE of route '.*': REFUSED \(EDE 18: key reader may not UPDATE: it is not in update.allow\)$/,
      ],
    ];
    for (const [env, message] of cases) {
      const r = await remote(set, env);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^psarn: server ${server} ${message.source.replace(/\$$/, '')}\n$`));
      assert.ok(!r.stderr.includes(OTHER.slice(0, 10)) && !r.stderr.includes(ALLOWED.slice(0, 10)), 'no secret');
    }
    assert.deepEqual(await remote(['zone', 'export', Z]), before, 'nothing changed');
  });

  it('a change on the server between the read and the UPDATE: refused by the prerequisites, reported, nothing overwritten', async () => {
    const name = `${P}:orders/audit`;
    const r = await remote(
      ['route', 'weight', name, `${Q1}=9`],
      {},
      {
        remote: {
          afterRead: async () => {
            await cliOn(d, 'route', 'set', name, '--target', `${Q1}=5`, '--target', Q2);
          },
        },
      },
    );
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `psarn: route '${name}' changed on the server meanwhile; run the command again\n`);
    // Read from the server's database itself: psarnd serves a local write after its next poll.
    const now = await cliOn(d, 'route', 'get', name, '--json');
    assert.deepEqual(
      (JSON.parse(now.stdout) as { targets: { target: string; weight: number }[] }).targets.map(
        (t) => `${t.target}=${t.weight}`,
      ),
      [`${Q1}=5`, `${Q2}=1`],
      'the concurrent change stands',
    );
  });

  it('psarnd serves _meta.<route> TXT, and a metadata change at once', async () => {
    const name = `${P}:orders/created`;
    assert.equal((await remote(['route', 'set', name, '--meta', 'owner=ops2'])).status, 0);
    const dig = await run(
      ['dig', `_meta.created.orders.${Z}`, 'TXT', '+short'],
      { PSARN_SERVER: server, PSARN_KEY: `writer:${ALLOWED}` },
      dir,
    );
    assert.equal(dig.status, 0, dig.stderr);
    assert.equal(dig.stdout, '"owner=ops2"\n');
  });

  it('dig with --server and --key: the query signed, the reply verified', async () => {
    const ok = await run(
      ['dig', `${P}:orders/audit`, '+short'],
      { PSARN_SERVER: server, PSARN_KEY: `writer:${ALLOWED}` },
      dir,
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /"arn:aws:sqs/);
  });

  it('through a psarnd secondary: the same reads; a write refused, naming the primary', async () => {
    const secondary = await startPsarnd({
      db: join(dir, 'secondary.db'),
      demoRoutes: '',
      env: {
        PSARN_TSIG_KEYS: `writer:${ALLOWED}`,
        PSARN_TRANSFER_ALLOW: 'writer',
        PSARN_UPDATE_ALLOW: 'writer',
        PSARN_SECONDARY_PRIMARY: server,
        PSARN_SECONDARY_KEY: 'writer',
        PSARN_SECONDARY_ZONES: 'catalog',
      },
    });
    try {
      const at = `127.0.0.1:${secondary.dns.port}`;
      const viaPrimary = await remote(['route', 'list', '--json']);
      // The secondary transfers the catalog, then each zone: poll (20 ms, 10 s at most) until it lists what the primary does.
      let viaSecondary = await remote(['route', 'list', '--json'], { PSARN_SERVER: at });
      for (let i = 0; i < 500 && viaSecondary.stdout !== viaPrimary.stdout; i++) {
        await new Promise((r) => setTimeout(r, 20));
        viaSecondary = await remote(['route', 'list', '--json'], { PSARN_SERVER: at });
      }
      assert.equal(viaSecondary.stdout, viaPrimary.stdout, viaSecondary.stderr);
      assert.deepEqual(await remote(['zone', 'export', Z], { PSARN_SERVER: at }), await remote(['zone', 'export', Z]));
      const write = await remote(['route', 'set', `${P}:orders/created`, '--target', Q2], { PSARN_SERVER: at });
      assert.equal(write.status, 1);
      assert.equal(write.stdout, '');
      assert.match(
        write.stderr,
        new RegExp(
          `^psarn: server ${at} refused the UPDATE of route '[^']+': REFUSED \\(EDE 18: [^\\n]*${server}[^\\n]*\\)\\n$`,
        ),
      );
    } finally {
      await secondary.stop();
    }
  });

  it('resolve with --server: the server when no @HOST is given', async () => {
    const r = await run(['resolve', `${P}:orders/audit`, '--json'], { PSARN_SERVER: server }, dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { policy: string }).policy, 'fanout');
  });
});

describe('psarn --server: a server that is not there, or does not answer', () => {
  let silent: Server;
  let deadPort: number;
  const held = new Set<Socket>();
  before(async () => {
    // Takes connections and never answers; they are closed in `after`.
    silent = createServer((socket) => held.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    deadPort = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
  });

  it('refused connection: one line naming the server, exit 1, at once', async () => {
    const t0 = performance.now();
    const r = await run(['route', 'list', '--server', `127.0.0.1:${deadPort}`], {}, tmpdir());
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `psarn: cannot reach server 127.0.0.1:${deadPort} over TCP: ECONNREFUSED; is psarnd running there? (check --server or PSARN_SERVER)\n`,
    );
    assert.ok(performance.now() - t0 < 5000);
  });

  it('a server that accepts and never answers: one line after the timeout', async () => {
    const port = (silent.address() as { port: number }).port;
    const r = await run(['route', 'get', `${P}:orders/created`, '--server', `127.0.0.1:${port}`], {}, tmpdir(), {
      remote: { timeoutMs: 200 },
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `psarn: server 127.0.0.1:${port} did not answer within 0.2 s\n`);
  });

  it('a host name that does not resolve: one line naming it', async () => {
    const r = await run(['route', 'list', '--server', 'psarnd.invalid:53'], {}, tmpdir(), {
      remote: { lookup: async () => Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' })) },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^psarn: cannot look up server psarnd\.invalid:53: ENOTFOUND; check --server/);
  });
});
