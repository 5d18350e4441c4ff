/**
 * Throughput and cost of DNS servers under dnsperf, side by side. Servers are plain
 * {name, port, pid}: psarnd, and the reference servers (Knot, PowerDNS from anchors.sh) are more
 * entries in the same loop. Each server is warmed once, then measured in rounds that alternate
 * between the servers (round 1: every server in order, round 2: the same order, ...), so a slow
 * patch of the machine does not land on one server only.
 */
import { type CpuPerQuery, cpuPerQuery, type DnsperfStats, dnsperfArgs, runDnsperf } from './dnsperf.js';
import { fmt, median, type Row } from './table.js';

export interface BenchServer {
  name: string;
  /** DNS port on 127.0.0.1, UDP and TCP. */
  port: number;
  /** The serving process, for its CPU time. */
  pid: number;
  /** For a server of several processes: every pid whose CPU time counts (read at each measurement). */
  cpuPids?: () => number[];
}

export const SATURATION_SECONDS = 10;
export const CPU_RATE = 20_000;
export const CPU_SECONDS = 10;
/** Rows saying why a figure is missing. */
export function skippedRows(figures: string[], why: string): Row[] {
  return figures.map((figure) => ({ figure, value: 'skipped', unit: '', notes: why }));
}

function say(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** The dnsperf command line of a saturation run, with PORT and QUERYFILE for the variable parts. */
function commandOf(tcp: boolean): string {
  const args = dnsperfArgs({ port: 0, queryFile: 'QUERYFILE', seconds: SATURATION_SECONDS, tcp });
  return `dnsperf ${args.join(' ').replace('-p 0', '-p PORT')}`;
}

/** One saturation run over UDP or TCP. */
export function saturation(dnsperf: string, port: number, queryFile: string, tcp: boolean): Promise<DnsperfStats> {
  return runDnsperf(dnsperf, { port, queryFile, seconds: SATURATION_SECONDS, tcp });
}

/**
 * Warms a server before its first measurement: one pass over every name of the query file over
 * UDP (`-n 1`). For psarnd this is the cold-cache rate (answers built from SQLite).
 */
export async function warmServer(dnsperf: string, server: BenchServer, queryFile: string): Promise<Row> {
  say(`${server.name}: warm-up, one pass through the query file over UDP`);
  const cold = await runDnsperf(dnsperf, { port: server.port, queryFile, seconds: 120, passes: 1 });
  return {
    figure: `warm-up pass: ${server.name}`,
    value: fmt(cold.qps),
    unit: 'qps',
    notes: `dnsperf -s 127.0.0.1 -p PORT -d QUERYFILE -l 120 -c 4 -q 200 -n 1: every name once, caches cold; ${fmt(cold.completed)} of ${fmt(cold.sent)} answered, avg latency ${fmt(cold.avgLatencyMs, 2)} ms`,
  };
}

export interface RoundResult {
  udp: DnsperfStats;
  tcp: DnsperfStats;
  cpu: CpuPerQuery;
}

/** One round on one server: UDP saturation, TCP saturation, CPU per query at CPU_RATE offered. */
export async function measureRound(
  dnsperf: string,
  server: BenchServer,
  queryFile: string,
  round: number,
): Promise<RoundResult> {
  say(`round ${round}: ${server.name}: UDP saturation, ${SATURATION_SECONDS} s`);
  const udp = await saturation(dnsperf, server.port, queryFile, false);
  say(`round ${round}: ${server.name}: TCP saturation, ${SATURATION_SECONDS} s`);
  const tcp = await saturation(dnsperf, server.port, queryFile, true);
  say(`round ${round}: ${server.name}: CPU per query at ${fmt(CPU_RATE)} qps offered, ${CPU_SECONDS} s`);
  const cpu = await cpuPerQuery(dnsperf, server, { queryFile, rate: CPU_RATE, seconds: CPU_SECONDS });
  say(
    `round ${round}: ${server.name}: UDP ${fmt(udp.qps)} qps, TCP ${fmt(tcp.qps)} qps, ${fmt(cpu.cpuUsPerQuery, 1)} µs/query`,
  );
  return { udp, tcp, cpu };
}

/** The per-server summary of its rounds (median; for two rounds that is their mean). */
export interface ServerSummary {
  udp: number;
  tcp: number;
  cpu: number;
}

export function summarize(rounds: readonly RoundResult[]): ServerSummary {
  return {
    udp: median(rounds.map((r) => r.udp.qps)),
    tcp: median(rounds.map((r) => r.tcp.qps)),
    cpu: median(rounds.map((r) => r.cpu.cpuUsPerQuery)),
  };
}

type Metric = 'udp' | 'tcp' | 'cpu';

/**
 * A bound on psarnd / reference: `goal` is where the issue wants it; `target`, when there is one,
 * the bound it must at least meet on the way (issue 8 states the Knot bounds as goals only).
 */
export interface Target {
  target?: number;
  goal: number;
  higherIsBetter: boolean;
}

/**
 * The bounds per reference server, for psarnd as it runs by default (one process):
 * against PowerDNS-gsqlite3 the targets and goals of the first issues, against Knot DNS (one
 * worker) the goals of issue 8. TCP has none.
 */
export const TARGETS: Readonly<Record<string, Partial<Record<Metric, Target>>>> = {
  'pdns-gsqlite3': {
    udp: { target: 0.7, goal: 1.0, higherIsBetter: true },
    cpu: { target: 1.5, goal: 1.0, higherIsBetter: false },
  },
  knot: {
    udp: { goal: 1.0, higherIsBetter: true },
    cpu: { goal: 1.0, higherIsBetter: false },
  },
};

/**
 * The verdict of a ratio against its bounds: "target ≥ 0.7×, goal ≥ 1.0×: meets target and
 * goal" / "…: meets target, not yet the goal" / "…: MISSES TARGET"; with a goal only,
 * "goal ≥ 1.0×: meets goal" / "…: MISSES GOAL". The upper-case words are what to grep for.
 */
export function verdict(value: number, t: Target): string {
  if (!Number.isFinite(value)) return 'n/a';
  const ok = (bound: number) => (t.higherIsBetter ? value >= bound : value <= bound);
  const op = t.higherIsBetter ? '≥' : '≤';
  const goal = `goal ${op} ${t.goal.toFixed(1)}×`;
  if (t.target === undefined) return `${goal}: ${ok(t.goal) ? 'meets goal' : 'MISSES GOAL'}`;
  const bounds = `target ${op} ${t.target.toFixed(1)}×, ${goal}`;
  if (ok(t.goal)) return `${bounds}: meets target and goal`;
  if (ok(t.target)) return `${bounds}: meets target, not yet the goal`;
  return `${bounds}: MISSES TARGET`;
}

/**
 * The side-by-side rows: per metric, each server's median over the rounds (with every round's
 * value in the notes), then each psarnd variant's ratio to each reference, with the targets.
 */
export function sideBySideRows(options: {
  /** Server names in table order, psarnd variants first. */
  order: readonly string[];
  psarnds: readonly string[];
  references: readonly string[];
  results: ReadonlyMap<string, readonly RoundResult[]>;
  skipped: ReadonlyMap<string, string>;
  /** Gets the ratio rows that carry a bound (one-process psarnd only), skipped ones included. */
  bounded?: Row[];
}): Row[] {
  const { order, psarnds, references, results, skipped, bounded } = options;
  const summaries = new Map([...results].map(([name, rounds]) => [name, summarize(rounds)]));
  const rows: Row[] = [];
  const metrics: { key: Metric; title: string; unit: string; digits: number; how: (r: RoundResult) => string }[] = [
    {
      key: 'udp',
      title: 'UDP saturation',
      unit: 'qps',
      digits: 0,
      how: (r) => `lost ${fmt(r.udp.lost)}, ${fmt(r.udp.avgLatencyMs, 2)} ms`,
    },
    {
      key: 'tcp',
      title: 'TCP saturation',
      unit: 'qps',
      digits: 0,
      how: (r) => `lost ${fmt(r.tcp.lost)}, ${fmt(r.tcp.avgLatencyMs, 2)} ms`,
    },
    {
      key: 'cpu',
      title: `CPU per query @ ${fmt(CPU_RATE / 1000)}k qps`,
      unit: 'µs',
      digits: 1,
      how: (r) => `${fmt(r.cpu.qps)} qps answered, lost ${fmt(r.cpu.lost)}`,
    },
  ];
  for (const m of metrics) {
    for (const name of order) {
      const rounds = results.get(name);
      if (rounds === undefined || rounds.length === 0) {
        rows.push({
          figure: `${m.title}: ${name}`,
          value: 'skipped',
          unit: '',
          notes: `skipped: ${skipped.get(name) ?? 'not measured'}`,
        });
        continue;
      }
      const values = rounds.map((r) => (m.key === 'cpu' ? r.cpu.cpuUsPerQuery : r[m.key].qps));
      const perRound = rounds.map((r, i) => `r${i + 1} ${fmt(values[i]!, m.digits)} (${m.how(r)})`).join('; ');
      const command = m.key === 'cpu' ? rounds[0]!.cpu.how.replace(/ \(.*not found\)/, '') : commandOf(m.key === 'tcp');
      rows.push({
        figure: `${m.title}: ${name}`,
        value: fmt(median(values), m.digits),
        unit: m.unit,
        notes: `median of ${rounds.length} round${rounds.length === 1 ? '' : 's'}: ${perRound}; ${command}`,
      });
    }
    for (const p of psarnds) {
      for (const ref of references) {
        const a = summaries.get(p)?.[m.key];
        const b = summaries.get(ref)?.[m.key];
        const figure = `${m.key.toUpperCase()} ratio ${p} / ${ref}`;
        const target = TARGETS[ref]?.[m.key];
        const isBounded = target !== undefined && p === psarnds[0];
        if (a === undefined || b === undefined) {
          const why = [p, ref]
            .filter((n) => !summaries.has(n))
            .map((n) => `${n} not measured`)
            .join(', ');
          const row = {
            figure,
            value: 'skipped',
            unit: '',
            notes: `skipped: ${why} (the reason is in its rows above)`,
          };
          rows.push(row);
          if (isBounded) bounded?.push(row);
          continue;
        }
        const ratio = a / b;
        const better = m.key === 'cpu' ? 'lower is better' : 'higher is better';
        let notes: string;
        if (TARGETS[ref] === undefined) notes = `${better}; no target against ${ref}`;
        else if (target === undefined) notes = `${better}; reported, no target`;
        else notes = `${better}; ${verdict(ratio, target)}`;
        if (p !== psarnds[0]) {
          notes +=
            ' (psarnd uses more than one process, the references one worker thread; the targets are for psarnd as it runs by default, one process, and apply here only for comparison)';
        }
        const row = { figure, value: fmt(ratio, 2), unit: '×', notes };
        rows.push(row);
        if (isBounded) bounded?.push(row);
      }
    }
  }
  return rows;
}
