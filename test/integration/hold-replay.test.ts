/**
 * Hold and replay end to end (docs/design.md#hold-and-release): the real psarnd, the real
 * `psarn` CLI as a child process, @aws-sdk/client-sqs and client-lambda talking to the SQS and
 * Lambda stand-ins of test/helpers/fake-sqs.ts (AWS_ENDPOINT_URL). Thousands of messages with
 * injected failures; a SIGKILL of the replay mid-way then a second run (nothing lost, duplicates
 * only for messages invoked but not deleted when the first run died); a caller holding a route
 * cached for 48 h follows the hold within epochTtl.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { PsarnClient } from '../../src/client/client.js';
import { cliOn, entryArgs, projectRoot, type RunningDaemon, startAll, startPsarnd } from '../helpers/daemon.js';
import { type FakeSqs, startFakeSqs } from '../helpers/fake-sqs.js';

const ACCOUNT = '123456789012';
const FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders`;
const psarnOf = (name: string) => `arn:aws:psarn:us-east-1:${ACCOUNT}:replay/${name}`;
const queueOf = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}-hold`;
const N = 3000;

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Bodies as the SQS invoker encodes an object payload (JSON.stringify). */
const bodies = (tag: string) => Array.from({ length: N }, (_, n) => JSON.stringify({ tag, n, note: 'é ✓' }));

describe('psarn release --replay against the SQS and Lambda stand-ins', () => {
  let d: RunningDaemon | undefined;
  let fake: FakeSqs | undefined;
  const children = new Set<ChildProcess>();

  before(async () => {
    [d, fake] = await startAll([startPsarnd({ demoRoutes: '' }), startFakeSqs({ manualClock: true, maxWaitMs: 100 })]);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await d?.stop();
    await fake?.close();
  });

  /** `psarn release <psARN> --replay --json` as a child process, the SDK pointed at the stand-ins. */
  function replayChild(psarn: string, onSpawn?: (c: ChildProcess) => void): Promise<Run> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PSARN_')) env[k] = v;
    Object.assign(env, {
      AWS_ENDPOINT_URL: fake!.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_MAX_ATTEMPTS: '1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    });
    const argv = [
      ...entryArgs('cli'),
      'release',
      psarn,
      '--replay',
      '--json',
      '--dns',
      `${d!.dns.host}:${d!.dns.port}`,
      '--db',
      d!.db,
    ];
    const child = spawn(process.execPath, argv, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    return new Promise((resolve) =>
      child.once('close', (status, signal) => {
        children.delete(child);
        resolve({ status, signal, stdout, stderr });
      }),
    );
  }

  async function holdRoute(name: string): Promise<void> {
    await cliOn(d!, 'route', 'set', psarnOf(name), '--target', FUNCTION, '--ttl', '172800');
    await cliOn(d!, 'hold', psarnOf(name), '--queue', queueOf(name));
    fake!.createQueue(queueOf(name));
  }

  it('replays 3000 messages: every success deleted, every failure left, counts right, JSON-lines progress', async () => {
    await holdRoute('failures');
    const sent = bodies('failures');
    fake!.send(queueOf('failures'), sent);
    const failing = (body: string) => (JSON.parse(body) as { n: number }).n % 10 === 3;
    fake!.failLambda((body) => body.includes('"tag":"failures"') && failing(body));
    const first = fake!.lambdaCalls.length;
    const run = await replayChild(psarnOf('failures'));
    assert.equal(run.status, 1, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, number | string>;
    assert.equal(result.received, N);
    assert.equal(result.replayed, N * 0.9);
    assert.equal(result.failed, N * 0.1);
    assert.equal(result.redelivered, 0);
    assert.equal(result.notDeleted, 0);
    assert.equal(result.stopped, undefined);
    assert.equal(result.leftVisible, 0);
    assert.equal(result.leftInFlight, N * 0.1);
    // The queue holds exactly the failures; the function got every message once, byte for byte.
    assert.deepEqual(
      fake!
        .messages(queueOf('failures'))
        .map((m) => m.body)
        .sort(),
      sent.filter(failing).sort(),
    );
    const calls = fake!.lambdaCalls.slice(first);
    assert.equal(calls.length, N);
    assert.deepEqual(calls.map((c) => c.body).sort(), [...sent].sort());
    // Not a terminal: progress is JSON lines on stderr, then the one-line error.
    const lines = run.stderr.trimEnd().split('\n');
    const progress = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(progress.length >= 1);
    assert.ok(progress.every((p) => p.event === 'progress' && p.total === N));
    assert.deepEqual(progress.at(-1), {
      event: 'progress',
      received: N,
      replayed: N * 0.9,
      failed: N * 0.1,
      total: N,
      elapsedMs: progress.at(-1)!.elapsedMs,
    });
    assert.match(lines.at(-1)!, /^psarn: 300 messages failed and stay in .*; run 'psarn release .* --replay' again/);
    // The SQS calls the contract names: long polling, batches of 10, a visibility timeout.
    const receive = fake!.receives.at(-1)!;
    assert.equal(receive.MaxNumberOfMessages, 10);
    assert.ok(Number(receive.WaitTimeSeconds) > 0);
    assert.ok(Number(receive.VisibilityTimeout) >= 30);
    assert.ok((fake!.calls.get('DeleteMessageBatch') ?? 0) >= (N * 0.9) / 10);
    // The route is the saved one again.
    const route = JSON.parse((await cliOn(d!, 'route', 'get', psarnOf('failures'), '--json')).stdout) as {
      targets: { target: string }[];
    };
    assert.deepEqual(
      route.targets.map((t) => t.target),
      [FUNCTION],
    );
    fake!.failLambda(() => false);
  });

  it('a SIGKILL mid-way then a second run: nothing lost, duplicates only where at-least-once allows, counted', async () => {
    await holdRoute('kill');
    const sent = bodies('kill');
    fake!.send(queueOf('kill'), sent);
    const first = fake!.lambdaCalls.length;
    let child: ChildProcess | undefined;
    fake!.onLambda((_call, n) => {
      if (n - first === 1200) child?.kill('SIGKILL');
    });
    const killed = await replayChild(psarnOf('kill'), (c) => {
      child = c;
    });
    fake!.onLambda(undefined);
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const invokedFirst = new Set(
      fake!.lambdaCalls
        .slice(first)
        .filter((c) => c.ok)
        .map((c) => c.body),
    );
    const leftAfterKill = fake!.messages(queueOf('kill'));
    const left = new Set(leftAfterKill.map((m) => m.body));
    const received = leftAfterKill.filter((m) => m.receiveCount > 0).length;
    assert.ok(left.size > 0 && left.size < N, `the kill came mid-way (${left.size} left)`);
    // Deleted only after its invocation: every message gone from the queue was invoked.
    for (const body of sent) if (!left.has(body)) assert.ok(invokedFirst.has(body), `deleted, never invoked: ${body}`);
    // The killed run's messages in flight become visible after the visibility timeout.
    fake!.advance(12 * 3600_000);
    const second = fake!.lambdaCalls.length;
    const run = await replayChild(psarnOf('kill'));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /was released already \(hold #\d+\); replaying what is left in /);
    const result = JSON.parse(run.stdout) as Record<string, number>;
    assert.equal(result.replayed, left.size);
    assert.equal(result.failed, 0);
    assert.equal(result.redelivered, received, 'the messages the killed run had received');
    assert.equal(result.leftVisible + result.leftInFlight, 0);
    assert.deepEqual(fake!.messages(queueOf('kill')), []);
    // Nothing lost: every message reached the function; a duplicate is a message the killed run
    // invoked but had not deleted, and the second run counted it among the redelivered.
    const all = fake!.lambdaCalls.slice(first).map((c) => c.body);
    assert.deepEqual([...new Set(all)].sort(), [...sent].sort());
    const secondRun = fake!.lambdaCalls.slice(second).map((c) => c.body);
    const duplicates = secondRun.filter((b) => invokedFirst.has(b));
    for (const b of duplicates) assert.ok(left.has(b), `duplicate of a deleted message: ${b}`);
    assert.ok(duplicates.length <= result.redelivered!);
    assert.ok(duplicates.length <= 40, `at most the in-flight messages (4 loops of 10): ${duplicates.length}`);
    assert.equal(new Set(secondRun).size, secondRun.length, 'the second run invoked each message once');
  });

  it('a caller with the route cached for 48 h follows hold and release within epochTtl', async () => {
    const psarn = psarnOf('cached');
    await cliOn(d!, 'route', 'set', psarn, '--target', FUNCTION, '--ttl', '172800');
    let now = 1_000_000;
    const client = new PsarnClient({ servers: [d!.dns], epochTtl: 5, now: () => now });
    assert.deepEqual(
      (await client.resolve(psarn)).targets.map((t) => t.target),
      [FUNCTION],
    );
    /** Waits (bounded) until psarnd serves the change, as a fresh caller sees it. */
    const served = async (target: string) => {
      for (let i = 0; i < 200; i++) {
        const fresh = new PsarnClient({ servers: [d!.dns] });
        if ((await fresh.resolve(psarn)).targets[0]?.target === target) return;
        await delay(50);
      }
      assert.fail(`psarnd did not serve ${target}`);
    };
    await cliOn(d!, 'hold', psarn, '--queue', queueOf('cached'));
    await served(queueOf('cached'));
    assert.equal((await client.resolve(psarn)).targets[0]!.target, FUNCTION, 'cached until the epoch is re-read');
    now += 5_001;
    assert.deepEqual(
      (await client.resolve(psarn)).targets.map((t) => t.target),
      [queueOf('cached')],
    );
    await cliOn(d!, 'release', psarn);
    await served(FUNCTION);
    now += 5_001;
    assert.deepEqual(
      (await client.resolve(psarn)).targets.map((t) => t.target),
      [FUNCTION],
    );
  });
});
