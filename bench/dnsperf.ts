/**
 * dnsperf runs against one server (saturation, fixed rate in the background) and the shared
 * cpu-per-query script; their text output parsed into numbers.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpuSeconds, runTimed } from './proc.js';

export interface DnsperfStats {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  avgLatencyMs: number;
  /** Wall time of the run as dnsperf reports it. */
  runSeconds: number;
}

/** Reads dnsperf's "Statistics:" block; throws with the output when it has none. */
export function parseDnsperf(out: string): DnsperfStats {
  const num = (re: RegExp): number => {
    const m = re.exec(out);
    if (!m) throw new Error(`dnsperf output has no ${re.source}:\n${out.slice(-2000)}`);
    return Number(m[1]);
  };
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    runSeconds: num(/Run time \(s\):\s+([\d.]+)/),
  };
}

export interface DnsperfOptions {
  port: number;
  queryFile: string;
  seconds: number;
  clients?: number;
  outstanding?: number;
  tcp?: boolean;
  /** Offered rate (-Q); none means as fast as the server answers. */
  rate?: number;
  /** Passes through the query file (-n); the run ends at whichever of -l and -n comes first. */
  passes?: number;
}

export function dnsperfArgs(o: DnsperfOptions): string[] {
  return [
    ...['-s', '127.0.0.1', '-p', String(o.port), '-d', o.queryFile, '-l', String(o.seconds)],
    ...['-c', String(o.clients ?? 4), '-q', String(o.outstanding ?? 200)],
    ...(o.tcp ? ['-m', 'tcp'] : []),
    ...(o.rate !== undefined ? ['-Q', String(o.rate)] : []),
    ...(o.passes !== undefined ? ['-n', String(o.passes)] : []),
  ];
}

/** One dnsperf run to its time limit (killed 30 s past it). */
export async function runDnsperf(dnsperf: string, options: DnsperfOptions): Promise<DnsperfStats> {
  const args = dnsperfArgs(options);
  const result = await runTimed(dnsperf, args, {
    timeoutMs: (options.seconds + 30) * 1000,
    env: { ...process.env } as Record<string, string>,
  });
  return parseDnsperf(result.stdout + result.stderr);
}

export interface BackgroundLoad {
  /** Stops dnsperf with SIGINT (it then prints its statistics) and parses them. */
  stop(): Promise<DnsperfStats | undefined>;
}

/** dnsperf at a fixed rate in the background, for at most options.seconds. */
export function startLoad(dnsperf: string, options: DnsperfOptions): BackgroundLoad {
  const proc = spawn(dnsperf, dnsperfArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  proc.stderr.setEncoding('utf8').on('data', (s: string) => {
    out = (out + s).slice(-100_000);
  });
  const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  return {
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await closed;
      clearTimeout(kill);
      try {
        return parseDnsperf(out);
      } catch {
        return undefined;
      }
    },
  };
}

export interface CpuPerQuery {
  qps: number;
  completed: number;
  lost: number;
  avgLatencyMs: number;
  cpuUsPerQuery: number;
  /** The script that measured it, or the in-process equivalent. */
  how: string;
}

/** The shared script (DESIGN's bench kit); env BENCH_CPU_SCRIPT overrides its path. */
export const CPU_SCRIPT = process.env.BENCH_CPU_SCRIPT ?? '/work/shared/bench/cpu-per-query.sh';

/**
 * Offers `rate` qps for `seconds` and reports the server's CPU time (utime + stime from
 * /proc/PID/stat) per completed query. Runs cpu-per-query.sh when it is there and the server is
 * one process; for a server of several processes (`cpuPids`, e.g. psarnd --workers: the primary
 * and its workers) or without the script, does the same here (same dnsperf flags, same
 * arithmetic) with the CPU time summed over the processes.
 */
export async function cpuPerQuery(
  dnsperf: string,
  target: { pid: number; port: number; cpuPids?: () => number[] },
  options: { queryFile: string; rate: number; seconds: number },
): Promise<CpuPerQuery> {
  if (existsSync(CPU_SCRIPT) && target.cpuPids === undefined) {
    const args = [
      CPU_SCRIPT,
      String(target.pid),
      String(target.port),
      options.queryFile,
      String(options.rate),
      String(options.seconds),
    ];
    const result = await runTimed('bash', args, {
      timeoutMs: (options.seconds + 30) * 1000,
      env: { ...process.env } as Record<string, string>,
    });
    const fields = new Map([...result.stdout.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    const get = (key: string): number => {
      const v = Number(fields.get(key));
      if (!Number.isFinite(v)) throw new Error(`cpu-per-query.sh printed no ${key}: ${result.stdout}${result.stderr}`);
      return v;
    };
    return {
      qps: get('qps'),
      completed: get('completed'),
      lost: get('lost'),
      avgLatencyMs: get('avg_latency_s') * 1000,
      cpuUsPerQuery: get('server_cpu_us_per_query'),
      how: `bash ${CPU_SCRIPT} PID PORT QUERYFILE ${options.rate} ${options.seconds}`,
    };
  }
  const pids = target.cpuPids?.() ?? [target.pid];
  const before = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
  const stats = await runDnsperf(dnsperf, {
    port: target.port,
    queryFile: options.queryFile,
    seconds: options.seconds,
    rate: options.rate,
  });
  let used = 0;
  for (const [pid, start] of before) used += cpuSeconds(pid) - start;
  const how =
    target.cpuPids !== undefined
      ? `cpu-per-query.sh's formula over ${pids.length} processes (primary + workers, summed): dnsperf -l ${options.seconds} -c 4 -q 200 -Q ${options.rate}`
      : `in-process equivalent of cpu-per-query.sh (${CPU_SCRIPT} not found): dnsperf -l ${options.seconds} -c 4 -q 200 -Q ${options.rate}`;
  return {
    qps: stats.qps,
    completed: stats.completed,
    lost: stats.lost,
    avgLatencyMs: stats.avgLatencyMs,
    cpuUsPerQuery: stats.completed > 0 ? (used * 1e6) / stats.completed : Number.NaN,
    how,
  };
}
