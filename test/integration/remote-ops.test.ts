/**
 * `rollout …`, `hold` and `release` with --server against a real psarnd
 * (docs/design.md#remote-operations): each prints what the local command prints on a copy of the
 * same database (up to the times and the actor, which differ by nature: key:writer vs user:…),
 * with the local command's exit code except a refusal the local command calls a usage error
 * (exit 2 there, 1 remotely: documented), and leaves the server's zone as the local command
 * leaves the copy. A rollout started remotely is then stepped by psarnd; a remote hold and
 * release bump the epoch callers follow. One `nsupdate -y` starts a rollout: a control record is
 * plain DNS.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { Type } from '../../src/wire/types.js';
import { type Run, run, seedTwins } from '../helpers/cli-main.js';
import { entryArgs, projectRoot, type RunningDaemon, startAll, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';
import { type FakeSqs, startFakeSqs } from '../helpers/fake-sqs.js';
import { skipUnlessTool } from '../helpers/tools.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const P = 'arn:aws:psarn:us-east-1:123456789012';
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const Q1 = 'arn:aws:sqs:us-east-1:123456789012:q1';
const HELD = 'arn:aws:sqs:us-east-1:123456789012:held';
const WRITER = randomBytes(32).toString('base64');
const READER = randomBytes(32).toString('base64');
const SEED = `$ORIGIN ${Z}
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 40 3600 600 86400 30
@ 3600 IN NS ns.psarn.internal.
_epoch 5 IN TXT "epoch=3"
created.orders 300 IN URI 10 1 "${FN}orders-v1"
created.orders 300 IN TXT "v=psarn1" "policy=weighted"
_meta.created.orders 300 IN TXT "team=orders"
paid.orders 300 IN URI 10 1 "${FN}paid-v1"
paid.orders 300 IN TXT "v=psarn1" "policy=weighted"
stepped.orders 300 IN URI 10 1 "${FN}stepped-v1"
stepped.orders 300 IN TXT "v=psarn1" "policy=weighted"
nsupdate.orders 300 IN URI 10 1 "${FN}ns-v1"
nsupdate.orders 300 IN TXT "v=psarn1" "policy=weighted"
audit.orders 120 IN URI 10 1 "${Q1}"
audit.orders 120 IN TXT "v=psarn1" "policy=fanout"
latest.orders 60 IN CNAME created.orders
`;

/** What differs by nature between the two: the times (two clocks), the actor. */
function norm(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
    .replace(/\(in [^)]*\)/g, '(in <left>)')
    .replace(/"(createdAt|updatedAt|releasedAt|dueAt)": \d+/g, '"$1": <ms>')
    .replace(/key:writer|user:[A-Za-z0-9._-]+/g, '<actor>');
}

describe('psarn --server rollout/hold/release against psarnd: as the local commands', () => {
  let d: RunningDaemon;
  let dir: string;
  let copy: string;
  let server: string;
  const local = (...argv: string[]) => run(argv, { PSARN_DB: copy, USER: 'tester' }, dir);
  const remote = (argv: string[], env: Record<string, string> = {}) =>
    run(argv, { PSARN_SERVER: server, PSARN_KEY: `hmac-sha256:writer:${WRITER}`, ...env }, dir);

  /** Runs argv remotely, then locally on the copy: the same output; the exit code as said. */
  async function same(argv: string[], status = 0, localStatus = status): Promise<Run> {
    const r = await remote(argv);
    const l = await local(...argv);
    assert.equal(l.status, localStatus, `local psarn ${argv.join(' ')}: ${l.stderr}`);
    assert.equal(r.status, status, `remote psarn ${argv.join(' ')}: ${r.stderr}`);
    assert.equal(norm(r.stdout), norm(l.stdout), `stdout of psarn ${argv.join(' ')}`);
    assert.equal(norm(r.stderr), norm(l.stderr), `stderr of psarn ${argv.join(' ')}`);
    return r;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psarn-remote-ops-'));
    const db = join(dir, 'server.db');
    copy = join(dir, 'copy.db');
    writeFileSync(join(dir, 'seed.zone'), SEED);
    await seedTwins(dir, 'seed.zone', db, copy);
    d = await startPsarnd({
      db,
      demoRoutes: '',
      env: {
        PSARN_TSIG_KEYS: `writer:${WRITER},reader:${READER}`,
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

  it('rollout start|status|pause|resume|promote|abort: same output, same zone after', async () => {
    const C = `${P}:orders/created`;
    assert.equal((await same(['rollout', 'status'])).stdout, 'no rollout in progress\n');
    const started = await same(['rollout', 'start', C, '--to', `${FN}orders-v2`, '--steps', '10,50', '--every', '1h']);
    assert.match(started.stdout, /^started rollout #1 of .* to .*orders-v2: 10% 50% 100% every 1h/);
    assert.match(started.stdout, /^updated .*orders\/created \(zone \S+ serial 41\)$/m);
    await same(['rollout', 'status', C]);
    await same(['rollout', 'status', C, '--json']);
    await same(['rollout', 'status']);
    await same(['rollout', 'status', '--json']);
    // Refused by the operation: the local command's words; exit 2 locally (a usage error), 1 remotely.
    const twice = await same(['rollout', 'start', C, '--to', `${FN}orders-v3`], 1, 2);
    assert.match(twice.stderr, /^psarn: rollout on '.*' refused: it already has rollout #1 \(running\)/);
    await same(['rollout', 'pause', C]);
    await same(['rollout', 'pause', C], 1, 2);
    await same(['rollout', 'status', C]);
    await same(['rollout', 'resume', C]);
    const promoted = await same(['rollout', 'promote', C]);
    assert.match(promoted.stdout, /^promoted rollout #1 .*\n.*\n {2}/);
    await same(['rollout', 'start', `${P}:orders/paid`, '--to', `${FN}paid-v2`, '--preset', 'canary10-15m']);
    await same(['rollout', 'abort', `${P}:orders/paid`]);
    await same(['rollout', 'status', `${P}:orders/paid`, '--json']);
    // No rollout; no route; an alias: exit 1 both for the missing ones.
    await same(['rollout', 'pause', `${P}:orders/paid`], 1);
    // The one message that names where it looked: the database, or the server.
    const none = await remote(['rollout', 'status', `${P}:orders/none`]);
    assert.equal(none.status, 1);
    assert.equal(none.stderr, `psarn: no rollout of '${P}:orders/none' on server ${server}\n`);
    await same(['rollout', 'start', `${P}:orders/none`, '--to', `${FN}x`], 1);
    await same(['rollout', 'start', `${P}:orders/latest`, '--to', `${FN}x`], 1, 2);
    // Usage errors before anything is sent: exit 2 alike.
    await same(['rollout', 'start', C, '--to', `${FN}x`, '--steps', '50,10'], 2);
    await same(['zone', 'export', Z]);
  });

  it('hold and release: same output, same zone after, a paused rollout named', async () => {
    const A = `${P}:orders/audit`;
    const held = await same(['hold', A, '--queue', HELD]);
    assert.match(held.stdout, /^held .* in .*:held \(hold #\d+, zone \S+ serial \d+, epoch 3 → 4\)$/m);
    await same(['hold', A, '--queue', HELD], 1);
    await same(['release', A]);
    await same(['release', A], 1);
    await same(['hold', A, '--queue', 'arn:aws:sqs:us-east-1:1:q'], 2);
    await same(['hold', `${P}:orders/latest`, '--queue', HELD], 1, 2);
    // A running rollout is paused by the hold and stays paused after the release.
    const C = `${P}:orders/created`;
    await same(['rollout', 'start', C, '--to', `${FN}orders-v3`, '--steps', '50', '--every', '1h']);
    const json = await same(['hold', C, '--queue', HELD, '--json']);
    assert.equal(JSON.parse(json.stdout).pausedRollout.status, 'paused');
    const released = await same(['release', C]);
    assert.match(released.stdout, /stays paused: 'psarn rollout resume/);
    await same(['rollout', 'abort', C]);
    await same(['zone', 'export', Z]);
  });

  it('a rollout started remotely is stepped by psarnd; a remote hold and release bump the epoch callers follow', async () => {
    const S = `${P}:orders/stepped`;
    const start = await remote(['rollout', 'start', S, '--to', `${FN}stepped-v2`, '--steps', '50', '--every', '1s']);
    assert.equal(start.status, 0, start.stderr);
    const deadline = performance.now() + 30_000;
    let status = '';
    while (performance.now() < deadline) {
      const r = await remote(['rollout', 'status', S, '--json']);
      status = (JSON.parse(r.stdout) as { status: string }).status;
      if (status === 'done') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 'done', 'psarnd took the last step');
    const epoch = async () => {
      const m = await query(d.dns, `_epoch.${Z}`, Type.TXT);
      return (m.answer[0] as { strings?: string[] } | undefined)?.strings?.join('');
    };
    const before = await epoch();
    assert.equal((await remote(['hold', S, '--queue', HELD])).status, 0);
    const heldEpoch = await epoch();
    assert.notEqual(heldEpoch, before, 'served at once with the epoch bumped');
    const uri = await query(d.dns, `stepped.orders.${Z}`, Type.URI);
    assert.deepEqual(
      uri.answer.map((r) => (r as { target?: string }).target),
      [HELD],
    );
    assert.equal((await remote(['release', S])).status, 0);
    assert.notEqual(await epoch(), heldEpoch);
  });

  it('a refused key or no key: one line naming the server, exit 1, nothing changed', async () => {
    const argv = ['rollout', 'start', `${P}:orders/paid`, '--to', `${FN}paid-v3`];
    const unsigned = await remote(argv, { PSARN_KEY: '' });
    assert.equal(unsigned.status, 1);
    assert.match(
      unsigned.stderr,
      /^psarn: server \S+ refused the rollout start of '.*': REFUSED \(EDE 18: UPDATE needs a TSIG/,
    );
    const reader = await remote(argv, { PSARN_KEY: `reader:${READER}` });
    assert.equal(reader.status, 1);
    assert.match(reader.stderr, /key reader may not UPDATE: it is not in update\.allow/);
    // The reader may read the state (transfer.allow).
    const status = await remote(['rollout', 'status', `${P}:orders/paid`, '--json'], { PSARN_KEY: `reader:${READER}` });
    assert.equal(status.status, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).status, 'aborted');
  });

  it('nsupdate -y starts a rollout with a control record: plain DNS', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const name = `nsupdate.orders.${Z}`;
    const json = JSON.stringify({ to: `${FN}ns-v2`, steps: [50, 100], everyMs: 3_600_000 }).replaceAll('"', '\\"');
    const child = spawn('nsupdate', ['-t', '5', '-y', `hmac-sha256:writer:${WRITER}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdin.end(
      [
        `server ${d.dns.host} ${d.dns.port}`,
        `zone ${Z}`,
        `update add _rollout.${name} 0 TXT "v=psarn1" "op=start" "${json}"`,
        'send',
        '',
      ].join('\n'),
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 0, out);
    const status = await remote(['rollout', 'status', `${P}:orders/nsupdate`, '--json']);
    const view = JSON.parse(status.stdout) as { status: string; percent: number; startedBy: string };
    assert.deepEqual([view.status, view.percent, view.startedBy], ['running', 50, 'key:writer']);
  });
});

describe('psarn --server release --replay: the queue read from the hold state, the route resolved at the server', () => {
  let d: RunningDaemon | undefined;
  let fake: FakeSqs | undefined;
  const key = randomBytes(32).toString('base64');
  const ROUTE = `${P}:replay/remote`;
  const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:remote-hold';
  const FUNCTION = `${FN}replayed`;

  before(async () => {
    [d, fake] = await startAll([
      startPsarnd({ demoRoutes: '', env: { PSARN_TSIG_KEYS: `writer:${key}`, PSARN_UPDATE_ALLOW: 'writer' } }),
      startFakeSqs({ maxWaitMs: 100 }),
    ]);
  });
  after(async () => {
    await d?.stop();
    await fake?.close();
  });

  /** The CLI as a child (the SDK reads AWS_ENDPOINT_URL from its environment), with --server and --key. */
  async function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PSARN_')) env[k] = v;
    Object.assign(env, {
      PSARN_SERVER: `${d!.dns.host}:${d!.dns.port}`,
      PSARN_KEY: `writer:${key}`,
      AWS_ENDPOINT_URL: fake!.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_MAX_ATTEMPTS: '1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    });
    const child = spawn(process.execPath, [...entryArgs('cli'), ...args], { cwd: projectRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [status] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    return { status, stdout, stderr };
  }

  it('releases by UPDATE, then replays every message through the restored route', async () => {
    assert.equal((await cli('route', 'set', ROUTE, '--target', FUNCTION)).status, 0);
    const held = await cli('hold', ROUTE, '--queue', QUEUE);
    assert.equal(held.status, 0, held.stderr);
    fake!.createQueue(QUEUE);
    const sent = Array.from({ length: 20 }, (_, n) => JSON.stringify({ n }));
    fake!.send(QUEUE, sent);
    const run = await cli('release', ROUTE, '--replay', '--json');
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { replayed: number; failed: number; queue: string };
    assert.deepEqual([result.replayed, result.failed, result.queue], [20, 0, QUEUE]);
    assert.deepEqual(
      fake!.lambdaCalls
        .filter((c) => c.function.endsWith(':replayed'))
        .map((c) => c.body)
        .sort(),
      [...sent].sort(),
    );
    // Again: released already, so what is left in the queue of the last hold (nothing) is replayed.
    const again = await cli('release', ROUTE, '--replay', '--json');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /was released already \(hold #\d+\); replaying what is left in .*remote-hold/);
    assert.equal((JSON.parse(again.stdout) as { received: number }).received, 0);
  });
});
