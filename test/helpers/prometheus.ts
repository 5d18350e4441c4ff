/**
 * The real Prometheus (Debian's `prometheus`, /usr/bin/prometheus) for the metric-gate tests
 * (docs/design.md#rollout-gates): on 127.0.0.1 at a free port, scraping the given targets every
 * second, its TSDB in a temp folder. Callers check `skipUnlessTool(t, 'prometheus')` first
 * (test/helpers/tools.ts): skipped on a laptop without it, a failure in CI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from './tools.js';

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  /** http://127.0.0.1:PORT, what `--prometheus` takes. */
  url: string;
  port: number;
  proc: ChildProcess;
  stderr(): string;
  /** An instant query's vector; throws with Prometheus' message when it answers an error. */
  query(promql: string): Promise<PromSeries[]>;
  /**
   * Polls `promql` (every 200 ms, up to `timeoutMs`, default 60 s: the machine may be loaded)
   * until its vector is non-empty and `accept` says yes; returns it. Waits for real scrapes, not
   * for time: an assertion never depends on how long it took.
   */
  waitFor(promql: string, accept?: (result: PromSeries[]) => boolean, timeoutMs?: number): Promise<PromSeries[]>;
  /** SIGTERM (SIGKILL 10 s later), then removes the temp folder. Idempotent. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** `host:port` of each /metrics to scrape (job `psarn-test`). */
  targets: string[];
  /** Default 1 s: a gate test sees a change within a couple of seconds. */
  scrapeIntervalSeconds?: number;
  /** Until /-/ready answers 200. Default 60 s. */
  readyTimeoutMs?: number;
  /** Where each try's port comes from (default: a port free a moment ago); tests of the retry. */
  port?: () => Promise<number>;
}

const STOP_GRACE_MS = 10_000;
const BIND_TRIES = 5;

/** Prometheus' config: one job scraping `targets` at the interval (scrape timeout = interval). */
export function prometheusConfig(targets: string[], intervalSeconds: number): string {
  return [
    'global:',
    `  scrape_interval: ${intervalSeconds}s`,
    `  scrape_timeout: ${intervalSeconds}s`,
    `  evaluation_interval: ${intervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: psarn-test',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
}

/**
 * Starts Prometheus and waits for /-/ready. A port taken between our probe and its bind (another
 * test's port 0) is retried on a new port; any other failed start kills it, removes its folder
 * and throws with its log.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = toolPath('prometheus');
  if (binary === undefined) throw new Error('prometheus is not installed (test/helpers/tools.ts skipUnlessTool first)');
  let lastError: unknown;
  for (let attempt = 0; attempt < BIND_TRIES; attempt++) {
    try {
      return await startOnce(binary, await (options.port ?? freePort)(), options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof BindError)) throw error;
    }
  }
  throw lastError;
}

class BindError extends Error {}

async function startOnce(binary: string, port: number, options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options.targets, options.scrapeIntervalSeconds ?? 1));
  const proc = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', () => resolve(null)); // spawn failed: no 'exit' follows
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) proc.kill('SIGTERM');
      const kill = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, exited, options.readyTimeoutMs ?? 60_000, () => stderr);
  } catch (error) {
    await stop();
    if (/address already in use/.test(stderr)) throw new BindError(`port ${port} taken`, { cause: error });
    throw error;
  }
  const query = async (promql: string): Promise<PromSeries[]> => {
    const res = await fetch(`${url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: promql }).toString(),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: PromSeries[] };
    };
    if (body.status !== 'success') throw new Error(`Prometheus: ${body.error ?? res.status} for ${promql}`);
    if (body.data?.resultType !== 'vector')
      throw new Error(`Prometheus: ${promql} is a ${body.data?.resultType}, not a vector`);
    return body.data.result;
  };
  const waitFor = async (
    promql: string,
    accept: (result: PromSeries[]) => boolean = () => true,
    timeoutMs = 60_000,
  ): Promise<PromSeries[]> => {
    const deadline = Date.now() + timeoutMs;
    let last: PromSeries[] = [];
    while (Date.now() < deadline) {
      last = await query(promql);
      if (last.length > 0 && accept(last)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`Prometheus: ${promql} not satisfied within ${timeoutMs} ms; last ${JSON.stringify(last)}`);
  };
  return { url, port, proc, stderr: () => stderr, query, waitFor, stop };
}

async function waitReady(
  url: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  let done: number | null | undefined;
  let hasExited = false;
  void exited.then((code) => {
    hasExited = true;
    done = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited) throw new Error(`prometheus exited with ${done} before it was ready; stderr: ${stderr()}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus was not ready within ${timeoutMs} ms; stderr: ${stderr()}`);
}

/** A port free a moment ago on 127.0.0.1 (Prometheus takes no port 0: it cannot tell us which it got). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
