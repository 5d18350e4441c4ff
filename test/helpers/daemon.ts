/**
 * Starts the real psarnd as a child process on 127.0.0.1 with port 0 and learns its ports from
 * its JSON log line "psarnd serving". Works from the compiled tests (dist/test) and under tsx.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
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
  /** Sends the signal and resolves with the exit code. */
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
}

export async function startPsarnd(options: StartOptions = {}): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'psarnd-test-'));
  const db = options.db ?? join(dir, 'psarn.db');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PSARN_CONFIG: join(projectRoot, 'config', 'psarnd.yaml'),
    PSARN_DEMO_ROUTES: options.demoRoutes ?? join(projectRoot, 'config', 'demo-routes.yaml'),
    PSARN_LOG_LEVEL: 'info',
    ...options.env,
  };
  const proc = spawn(
    process.execPath,
    [...entryArgs('server'), '--db', db, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', ...(options.args ?? [])],
    { cwd: options.cwd ?? projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const serving = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
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
          if (entry.msg === 'psarnd serving') {
            clearTimeout(timer);
            resolve(entry);
          }
        } catch {
          // not JSON: ignore
        }
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`psarnd exited with ${code} before serving; stderr: ${stderr}`));
    });
  });
  const entry = await serving;
  return {
    dns: entry.dns as HostPort,
    http: entry.http as HostPort,
    db,
    proc,
    logs,
    dir,
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
