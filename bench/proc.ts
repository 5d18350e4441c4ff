/**
 * Child processes of the bench: every one bounded by a timeout and killed on the way out.
 * Wall times come from performance.now() around spawn and exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configFile, entryArgs, projectRoot } from './paths.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
  /** performance.now() when the process exited. */
  exitedAt: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs: number;
  /** Signal to end the process with at the timeout (default SIGKILL). */
  timeoutSignal?: NodeJS.Signals;
}

/** The environment every child of ours gets: the project's config, no demo routes, info logs. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    PSARN_CONFIG: configFile,
    PSARN_DEMO_ROUTES: '',
    PSARN_LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Runs a command to its end (or kills it at the timeout) and times it. */
export function runTimed(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn(file, args, {
      cwd: projectRoot,
      env: options.env ?? childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    proc.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => proc.kill(options.timeoutSignal ?? 'SIGKILL'), options.timeoutMs);
    let exitedAt = 0;
    let code: number | null = null;
    proc.once('exit', (c) => {
      exitedAt = performance.now();
      code = c;
    });
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close' comes after the pipes drained, so stdout is complete.
    proc.once('close', () => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: exitedAt - started, exitedAt });
    });
  });
}

/** Runs the psarn CLI with `--db db`; throws with its stderr when it fails. */
export async function psarnCli(db: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  const result = await runTimed(process.execPath, [...entryArgs('cli'), ...args, '--db', db], { timeoutMs });
  if (result.code !== 0) {
    throw new Error(`psarn ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
  }
  return result;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface RunningPsarnd {
  proc: ChildProcess;
  pid: number;
  dns: HostPort;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  /** Sends SIGTERM, then SIGKILL after a grace time; resolves once it exited. */
  stop(): Promise<void>;
}

/** Spawns psarnd on the database at 127.0.0.1 port 0 and resolves once it logged "psarnd serving". */
export async function startPsarnd(db: string, timeoutMs = 60_000): Promise<RunningPsarnd> {
  const spawnedAt = performance.now();
  const proc = spawn(
    process.execPath,
    [...entryArgs('server'), '--db', db, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0'],
    { cwd: projectRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const grace = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(grace);
  };
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  try {
    const dns = await new Promise<HostPort>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`psarnd did not log "psarnd serving" in ${timeoutMs} ms`)),
        timeoutMs,
      );
      let buffered = '';
      proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
        buffered += s;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          let entry: { msg?: unknown; dns?: HostPort };
          try {
            entry = JSON.parse(line) as typeof entry;
          } catch {
            continue;
          }
          if (entry.msg === 'psarnd serving' && entry.dns !== undefined) {
            clearTimeout(timer);
            resolve(entry.dns);
          }
        }
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`psarnd exited before serving: ${stderr.trim()}`));
      });
    });
    return { proc, pid: proc.pid!, dns, spawnedAt, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A field of /proc/PID/status in KiB (VmRSS, VmHWM), or undefined off Linux. */
export function procStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
