/**
 * Child processes of the bench: every one bounded by a timeout and killed on the way out.
 * Wall times come from performance.now() around spawn and exit.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, appendFileSync, constants, readdirSync, readFileSync } from 'node:fs';
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

export interface IndexBuilt {
  at: number;
  routes: number;
  seconds: number;
}

export interface RunningPsarnd {
  proc: ChildProcess;
  pid: number;
  dns: HostPort;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  /** The UDP carrier psarnd logged ('recvmmsg' or 'dgram'; for --workers, the first worker's). */
  udpIo: string | undefined;
  /**
   * Resolves once `count` "route index built" lines were logged (one per DNS process: 1, or the
   * number of workers), with performance.now() of the last and its routes and build seconds;
   * undefined after timeoutMs.
   */
  indexBuilt(count: number, timeoutMs: number): Promise<IndexBuilt | undefined>;
  /** Sends SIGTERM, then SIGKILL after a grace time; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Spawns psarnd on the database at 127.0.0.1 port 0 and resolves once it logged "psarnd serving".
 * `extraArgs` go after the bench's own flags (e.g. `--workers 2`; a repeated flag such as
 * `--listen` wins over the bench's, as parseArgs keeps the last); `env` is added to childEnv's.
 */
export async function startPsarnd(
  db: string,
  timeoutMs = 60_000,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningPsarnd> {
  const spawnedAt = performance.now();
  // The node flags psarnd's shebang, `npm start` and the Dockerfile use (src/server/main.ts).
  const proc = spawn(
    process.execPath,
    [
      '--max-semi-space-size=4',
      ...entryArgs('server'),
      '--db',
      db,
      '--listen',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      ...extraArgs,
    ],
    { cwd: projectRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
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
  let udpIo: string | undefined;
  const builds: IndexBuilt[] = [];
  const buildWaiters = new Set<() => void>();
  try {
    const dns = await new Promise<HostPort>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`psarnd did not log "psarnd serving" in ${timeoutMs} ms`)),
        timeoutMs,
      );
      let buffered = '';
      // BENCH_PSARND_LOG=FILE keeps psarnd's log lines (every psarnd of the run, appended).
      const logFile = process.env.BENCH_PSARND_LOG;
      proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
        if (logFile) appendFileSync(logFile, s);
        buffered += s;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          let entry: { msg?: unknown; dns?: HostPort; udp?: string; routes?: number; seconds?: number };
          try {
            entry = JSON.parse(line) as typeof entry;
          } catch {
            continue;
          }
          if (entry.udp !== undefined) udpIo ??= entry.udp;
          if (entry.msg === 'route index built') {
            builds.push({
              at: performance.now(),
              routes: entry.routes ?? Number.NaN,
              seconds: entry.seconds ?? Number.NaN,
            });
            for (const wake of buildWaiters) wake();
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
    const indexBuilt = (count: number, timeoutMs: number): Promise<IndexBuilt | undefined> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (builds.length < count) return;
          finish(builds[count - 1]);
        };
        const finish = (result: IndexBuilt | undefined): void => {
          clearTimeout(timer);
          buildWaiters.delete(check);
          resolve(result);
        };
        const timer = setTimeout(() => finish(undefined), timeoutMs);
        buildWaiters.add(check);
        check();
      });
    return {
      proc,
      pid: proc.pid!,
      dns,
      spawnedAt,
      stop,
      get udpIo() {
        return udpIo;
      },
      indexBuilt,
    };
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

/** Whether psarnd's --help lists a flag (e.g. `--workers`, which arrives with the cluster mode). */
export async function psarndHasFlag(flag: string): Promise<boolean> {
  try {
    const result = await runTimed(process.execPath, [...entryArgs('server'), '--help'], { timeoutMs: 30_000 });
    return new RegExp(`(^|\\s)${flag}(\\s|=|$)`, 'm').test(result.stdout + result.stderr);
  } catch {
    return false;
  }
}

/** Fields after the command name of /proc/PID/stat (rest[0] is field 3, state), or undefined. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process that exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** The command name of a process (/proc/PID/comm), or undefined. */
export function procComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Live child processes of `pid` (field 4 of /proc/N/stat is the parent), like `pgrep -P PID`. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields !== undefined && Number(fields[1]) === pid && fields[0] !== 'Z') children.push(Number(entry));
  }
  return children.sort((a, b) => a - b);
}

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/PID/stat times (getconf CLK_TCK; 100 on Linux when getconf fails). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  const rest = statFields(pid);
  if (rest === undefined) return 0;
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond();
}
