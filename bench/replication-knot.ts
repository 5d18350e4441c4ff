/**
 * knotd for the replication figures (bench/replication.ts): a primary loaded from a zone file and
 * a secondary of one zone, both with the bench's TSIG key, on free ports of 127.0.0.1, spawned by
 * us so their pids (VmHWM) and logs are ours; and the reader of Knot's transfer log lines, which
 * carry Knot's own measure of each transfer (RFC 5936 AXFR, RFC 1995 IXFR): seconds, messages and
 * bytes. The catalog-driven secondary of the change figures is test/helpers/knot.ts's, the one
 * the integration tests run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { which } from './proc.js';

/** The TSIG key's name in every config of the bench (psarnd's and Knot's). */
export const KEY_NAME = 'transfer-key';

/** The `server:` and `database:` sections: one UDP, TCP and background worker, as anchors.sh runs Knot. */
function serverSection(port: number, storage: string): string[] {
  return [
    'server:',
    `    listen: 127.0.0.1@${port}`,
    `    rundir: ${storage}`,
    '    background-workers: 1',
    '    udp-workers: 1',
    '    tcp-workers: 1',
    'database:',
    `    storage: ${storage}`,
    'key:',
    `  - id: ${KEY_NAME}`,
    '    algorithm: hmac-sha256',
    '    secret: SECRET',
    'log:',
    '  - target: stderr',
    '    any: info',
  ];
}

/**
 * A Knot primary of `zone` loaded from `zoneFile`, transfers allowed with the key; no journal and
 * no zone-file flush (like anchors.sh), so it serves what it loaded.
 */
export function knotPrimaryConfig(c: {
  port: number;
  storage: string;
  zone: string;
  zoneFile: string;
  secret: string;
  /**
   * A secondary's port: the zone takes signed DNS UPDATEs (RFC 2136), keeps its changes in its
   * journal (for IXFR) and NOTIFYs that secondary, as a Knot primary that ops change would.
   */
  notifyPort?: number;
}): string {
  const dynamic = c.notifyPort !== undefined;
  return [
    ...serverSection(c.port, c.storage),
    ...(dynamic
      ? ['remote:', '  - id: secondary', `    address: 127.0.0.1@${c.notifyPort}`, `    key: ${KEY_NAME}`]
      : []),
    'acl:',
    '  - id: transfer',
    '    address: 127.0.0.1',
    `    key: ${KEY_NAME}`,
    `    action: ${dynamic ? '[transfer, update]' : 'transfer'}`,
    'zone:',
    `  - domain: ${c.zone.replace(/\.$/, '')}`,
    `    file: ${c.zoneFile}`,
    `    storage: ${c.storage}`,
    '    acl: transfer',
    ...(dynamic ? ['    notify: secondary', '    journal-content: changes'] : ['    journal-content: none']),
    '    zonefile-sync: -1',
    '',
  ]
    .join('\n')
    .replace('SECRET', c.secret);
}

/**
 * A Knot secondary of one zone from a primary at `primaryPort` (psarnd or Knot), NOTIFY accepted
 * with the key. Knot's defaults otherwise (its journal keeps changes, the zone file is written
 * after a transfer), the same for both primaries.
 */
export function knotZoneSecondaryConfig(c: {
  port: number;
  storage: string;
  zone: string;
  primaryPort: number;
  secret: string;
}): string {
  return [
    ...serverSection(c.port, c.storage),
    'remote:',
    '  - id: primary',
    `    address: 127.0.0.1@${c.primaryPort}`,
    `    key: ${KEY_NAME}`,
    'acl:',
    '  - id: notify-from-primary',
    '    address: 127.0.0.1',
    `    key: ${KEY_NAME}`,
    '    action: notify',
    'zone:',
    `  - domain: ${c.zone.replace(/\.$/, '')}`,
    '    master: primary',
    '    acl: notify-from-primary',
    `    storage: ${c.storage}`,
    '',
  ]
    .join('\n')
    .replace('SECRET', c.secret);
}

/** One transfer as Knot logs it when it finishes. */
export interface KnotTransfer {
  kind: 'AXFR' | 'IXFR';
  seconds: number;
  messages: number;
  bytes: number;
  /** The whole log line. */
  line: string;
}

/**
 * The incoming transfers of `zone` Knot logged as finished, in order, e.g. `[z.] AXFR, incoming,
 * remote 127.0.0.1@5300, finished, 0.52 seconds, 3 messages, 1234567 bytes` (Knot 3.x). An IXFR
 * that the primary answered with a whole zone (AXFR-style) counts as 'AXFR'.
 */
export function knotTransfers(log: string, zone: string): KnotTransfer[] {
  const name = zone.endsWith('.') ? zone : `${zone}.`;
  const out: KnotTransfer[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes(`[${name}] `)) continue;
    const m = /\] (AXFR|IXFR), incoming, [^\n]*finished, ([\d.]+) seconds, (\d+) messages, (\d+) bytes/.exec(line);
    if (m === null) continue;
    const kind = m[1] === 'IXFR' && !/AXFR-style/.test(line) ? 'IXFR' : 'AXFR';
    out.push({ kind, seconds: Number(m[2]), messages: Number(m[3]), bytes: Number(m[4]), line });
  }
  return out;
}

export interface RunningKnot {
  proc: ChildProcess;
  pid: number;
  port: number;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  /** Everything knotd wrote so far. */
  log(): string;
  /** Waits (bounded by `ms`) until `test` holds for the log; returns whether it did. */
  until(test: (log: string) => boolean, ms: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** Writes `config` (knot.conf) into `dir` and spawns knotd on it; resolves once it logged "server started". */
export async function startKnot(options: {
  dir: string;
  port: number;
  config: string;
  track?: (proc: ChildProcess) => void;
  startMs?: number;
}): Promise<RunningKnot> {
  const knotd = which('knotd');
  if (knotd === undefined) throw new Error('knotd not on PATH');
  mkdirSync(options.dir, { recursive: true });
  const configPath = join(options.dir, 'knot.conf');
  writeFileSync(configPath, options.config, { mode: 0o600 });
  const spawnedAt = performance.now();
  const proc = spawn(knotd, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  options.track?.(proc);
  let text = '';
  const wakers = new Set<() => void>();
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    text += s;
    for (const wake of wakers) wake();
  });
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  let kept = false;
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  exited.then(() => {
    for (const wake of wakers) wake();
  });
  const until = (test: (log: string) => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (test(text)) finish(true);
        else if (gone()) finish(false);
      };
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        wakers.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(test(text)), ms);
      wakers.add(check);
      check();
    });
  const stop = async (): Promise<void> => {
    // BENCH_KNOT_LOG=FILE keeps knotd's log lines (every knotd of the part, appended).
    const logFile = process.env.BENCH_KNOT_LOG;
    if (logFile && !kept) {
      kept = true;
      appendFileSync(logFile, `==== ${configPath}\n${text}`);
    }
    if (gone()) return;
    proc.kill('SIGTERM');
    const grace = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(grace);
  };
  if (!(await until((log) => /server started/.test(log), options.startMs ?? 15_000))) {
    await stop();
    throw new Error(`knotd did not start: ${text.trim().split('\n').slice(-3).join(' / ').slice(0, 400)}`);
  }
  return { proc, pid: proc.pid!, port: options.port, spawnedAt, log: () => text, until, stop };
}
