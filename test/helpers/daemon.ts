/**
 * Starts the real psarnd as a child process on 127.0.0.1 with port 0 and learns its ports from
 * its JSON log line "psarnd serving". Works from the compiled tests (dist/test) and under tsx.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface HostPort {
  host: string;
  port: number;
}

const underTsx = import.meta.url.endsWith('.ts');
/** The repository root (or dist/ for compiled tests: dist/src mirrors src). */
const base = fileURLToPath(new URL('../../', import.meta.url));
export const projectRoot = underTsx ? base : join(base, '..');

/** argv to run one of our entry points ('server' or 'cli') with node. */
export function entryArgs(entry: 'server' | 'cli'): string[] {
  return underTsx ? ['--import', 'tsx', join(base, 'src', entry, 'main.ts')] : [join(base, 'src', entry, 'main.js')];
}

const execFileAsync = promisify(execFile);

/** Runs the psarn CLI on a running daemon's database; resolves with its output, rejects on a non-zero exit. */
export function cliOn(d: { db: string }, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, [...entryArgs('cli'), ...args, '--db', d.db], { cwd: projectRoot });
}

export interface RunningDaemon {
  dns: HostPort;
  http: HostPort;
  db: string;
  proc: ChildProcess;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Sends the signal (SIGKILL if it has not exited 10 s later) and resolves with the exit code. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The temp dir (removed by stop unless keepDir). */
  dir: string;
}

export interface StartOptions {
  db?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Demo routes file, or '' for none. Default: the project's config/demo-routes.yaml. */
  demoRoutes?: string;
  cwd?: string;
  timeoutMs?: number;
  /** Runs psarnd under this open-files limit (`ulimit -n`, through /bin/sh). */
  fdLimit?: number;
  /**
   * As a user's shell runs it: none of this process's PSARN_* variables, no PSARN_CONFIG and no
   * PSARN_DEMO_ROUTES (psarnd then reads `cwd`'s config/psarnd.yaml, or none); `env` still applies.
   */
  bare?: boolean;
  /** node's arguments before psarnd's flags (default: entryArgs('server')), e.g. those of `npm start`. */
  command?: string[];
  /** Called with each log line as it arrives, those before "psarnd serving" included. */
  onLog?: (entry: Record<string, unknown>, proc: ChildProcess) => void;
}

/** psarnd processes this test file started that have not exited. */
const live = new Set<ChildProcess>();

/** How many psarnd processes started here are still running (a test can check it leaks none). */
export function liveDaemons(): number {
  return live.size;
}

/** How long stop() waits after its signal before SIGKILL: a daemon that hangs must not hang the suite. */
const STOP_GRACE_MS = 10_000;

/**
 * Starts psarnd and waits for "psarnd serving". When it does not get there (exit, timeout), the
 * process is killed and its temp dir removed before the error is thrown: a failed start leaves
 * nothing running that would keep the test runner waiting.
 */
export async function startPsarnd(options: StartOptions = {}): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'psarnd-test-'));
  const db = options.db ?? join(dir, 'psarn.db');
  const env: Record<string, string> = options.bare
    ? {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSARN_'))),
        PSARN_LOG_LEVEL: 'info',
        ...options.env,
      }
    : {
        ...(process.env as Record<string, string>),
        PSARN_CONFIG: join(projectRoot, 'config', 'psarnd.yaml'),
        PSARN_DEMO_ROUTES: options.demoRoutes ?? join(projectRoot, 'config', 'demo-routes.yaml'),
        PSARN_LOG_LEVEL: 'info',
        ...options.env,
      };
  const argv = [
    ...(options.command ?? entryArgs('server')),
    '--db',
    db,
    '--listen',
    '127.0.0.1:0',
    '--http',
    '127.0.0.1:0',
    ...(options.args ?? []),
  ];
  const spawnOptions: SpawnOptions = { cwd: options.cwd ?? projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] };
  // `exec` keeps one process: the pid (and the signals stop() sends) are node's.
  const proc: ChildProcess =
    options.fdLimit === undefined
      ? spawn(process.execPath, argv, spawnOptions)
      : spawn(
          '/bin/sh',
          ['-c', `ulimit -n ${options.fdLimit} && exec "$0" "$@"`, process.execPath, ...argv],
          spawnOptions,
        );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  let buffered = '';
  live.add(proc);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    }),
  );
  let stopping: Promise<number | null> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const kill = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      const code = await exited;
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
      return code;
    })();
    return stopping;
  };
  let timer: NodeJS.Timeout | undefined;
  const serving = new Promise<Record<string, unknown>>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`psarnd did not start in time; stderr: ${stderr}`)),
      options.timeoutMs ?? 15000,
    );
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      buffered += s;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          options.onLog?.(entry, proc);
          if (entry.msg === 'psarnd serving') resolve(entry);
        } catch {
          // not JSON: ignore
        }
      }
    });
    exited.then((code) => reject(new Error(`psarnd exited with ${code} before serving; stderr: ${stderr}`)));
  });
  let entry: Record<string, unknown>;
  try {
    entry = await serving;
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    dns: entry.dns as HostPort,
    http: entry.http as HostPort,
    db,
    proc,
    logs,
    dir,
    stderr: () => stderr,
    stop,
  };
}

/** Something a test starts and must stop: a daemon (stop) or a fake server (close). */
type Stoppable = { stop(): Promise<unknown> } | { close(): Promise<unknown> };

/**
 * Starts several things at once, like Promise.all; when one start fails, the others are
 * stopped (once they have started) before the first error is thrown. With a bare Promise.all
 * a failed start left the other daemon running, unassigned, and `npm test` waited on it.
 * @example [d, off] = await startAll([startPsarnd(), startPsarnd({ env })]);
 */
export async function startAll<T extends readonly Stoppable[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed === undefined) return settled.map((r) => (r as PromiseFulfilledResult<Stoppable>).value) as unknown as T;
  await Promise.allSettled(settled.flatMap((r) => (r.status === 'fulfilled' ? [stopOne(r.value)] : [])));
  throw failed.reason;
}

function stopOne(s: Stoppable): Promise<unknown> {
  return 'stop' in s ? s.stop() : s.close();
}
