/**
 * Replay throughput (docs/performance.md#replay): `psarn release --replay`'s loop (runReplay, the
 * code the CLI runs) draining a hold queue of BENCH_REPLAY_MESSAGES (default 5000) messages
 * through the client library into a Lambda function, against the SQS and Lambda stand-ins of
 * test/helpers/fake-sqs.ts on 127.0.0.1 and a real psarnd answering the route.
 *
 * The stand-ins run in a child process (this file with the argument `fake`), so that
 * process.cpuUsage() of this process is the replaying client's own CPU: the SQS and Lambda SDK
 * calls, the DNS lookups, the loop. Prints messages a second and CPU µs per replayed message.
 * `node dist/bench/replay.js` runs it alone; bench/run.ts runs it unless BENCH_REPLAY=0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runReplay } from '../src/ops/replay-run.js';
import { startFakeSqs } from '../test/helpers/fake-sqs.js';
import { psarnCli, startPsarnd } from './proc.js';
import { fmt, formatTable, machine, type Row, section } from './table.js';

const PSARN = 'arn:aws:psarn:us-east-1:123456789012:bench/replay';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:bench-hold';
const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:bench';
const DEFAULT_MESSAGES = 5000;

/** The stand-ins in this process, for the parent: prints the URL, then serves until killed. */
async function serveFake(): Promise<void> {
  const fake = await startFakeSqs({ maxWaitMs: 200 });
  fake.createQueue(QUEUE);
  process.stdout.write(`${fake.url}\n`);
}

function startFakeChild(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), 'fake'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('\n')) resolve({ url: out.trim(), proc });
    });
    proc.once('exit', (code) => reject(new Error(`fake SQS exited with ${code}`)));
  });
}

async function seed(url: string, count: number, config: Record<string, unknown>): Promise<void> {
  const sdk = await import('@aws-sdk/client-sqs');
  const client = new sdk.SQSClient({ ...config, useQueueUrlAsEndpoint: false } as never);
  const queueUrl = `${url}/123456789012/bench-hold`;
  const batches: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 10) {
    const entries = Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
      Id: String(j),
      MessageBody: JSON.stringify({ orderId: i + j, amount: 42.5, items: ['a', 'b'] }),
    }));
    batches.push(client.send(new sdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));
    if (batches.length >= 20) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
  client.destroy();
}

/** The replay rows: throughput and client CPU per message. */
export async function benchReplay(say: (s: string) => void = () => {}): Promise<Row[]> {
  const messages = Number(process.env.BENCH_REPLAY_MESSAGES ?? DEFAULT_MESSAGES);
  const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-replay-'));
  const db = join(dir, 'psarn.db');
  let fake: { url: string; proc: ChildProcess } | undefined;
  let daemon: Awaited<ReturnType<typeof startPsarnd>> | undefined;
  try {
    say(`replay: ${messages} messages through psarnd, the SQS and Lambda stand-ins`);
    await psarnCli(db, ['db', 'init']);
    await psarnCli(db, ['route', 'set', PSARN, '--target', FUNCTION]);
    await psarnCli(db, ['hold', PSARN, '--queue', QUEUE]);
    fake = await startFakeChild();
    daemon = await startPsarnd(db);
    const config = {
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret' },
      maxAttempts: 1,
    };
    await seed(fake.url, messages, config);
    await psarnCli(db, ['release', PSARN]);
    // Loaded before the measure: a replay pays this once (about 0.2 s), not per message.
    await import('@aws-sdk/client-lambda');
    const clock = { now: () => performance.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const result = await runReplay({
      psarn: PSARN,
      queue: QUEUE,
      servers: [daemon.dns],
      namespace: 'psarn.internal.',
      epochTtl: 5,
      clock,
      awsClientConfig: config,
    });
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuUs = (used.user + used.system) / Math.max(1, result.replayed);
    if (result.replayed !== messages)
      throw new Error(`replayed ${result.replayed} of ${messages}: ${JSON.stringify(result)}`);
    const notes = `${messages} messages, 4 receive loops of 10, no --rate; node dist/bench/replay.js`;
    return [
      section('replay (psarn release --replay, bench/replay.ts)'),
      { figure: 'replay throughput', value: fmt(result.replayed / seconds), unit: 'msg/s', notes },
      {
        figure: 'replay wall time',
        value: fmt(seconds, 2),
        unit: 's',
        notes: 'first receive to the empty receive that ends it (one 2 s long poll capped at 0.2 s by the stand-in)',
      },
      {
        figure: 'client CPU per replayed message',
        value: fmt(cpuUs),
        unit: 'µs',
        notes: 'process.cpuUsage of the replaying process: receive, DNS, Lambda Invoke, delete (stand-ins in a child)',
      },
    ];
  } finally {
    await daemon?.stop();
    fake?.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const entry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (entry && process.argv[2] === 'fake') {
  await serveFake();
} else if (entry) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const rows = await benchReplay((s) => process.stderr.write(`bench: ${s}\n`));
  process.stdout.write(`${formatTable(rows)}\n\n${machine()}\n`);
}
