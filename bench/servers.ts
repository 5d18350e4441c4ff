/**
 * Throughput and cost of one DNS server under dnsperf. Servers are plain {name, port, pid}, so
 * reference servers (Knot, PowerDNS from anchors.sh) are more entries in the same loop.
 */
import { cpuPerQuery, dnsperfArgs, runDnsperf } from './dnsperf.js';
import { fmt, type Row } from './table.js';

export interface BenchServer {
  name: string;
  /** DNS port on 127.0.0.1, UDP and TCP. */
  port: number;
  /** The serving process, for its CPU time. */
  pid: number;
}

export const SATURATION_SECONDS = 10;
export const CPU_RATE = 20_000;
export const CPU_SECONDS = 10;

/** Rows saying why a figure is missing. */
export function skippedRows(figures: string[], why: string): Row[] {
  return figures.map((figure) => ({ figure, value: 'skipped', unit: '', notes: why }));
}

/** Saturation qps over UDP and TCP, then server CPU per query at CPU_RATE offered. */
export async function measureServer(dnsperf: string, server: BenchServer, queryFile: string): Promise<Row[]> {
  const rows: Row[] = [];
  // One pass through the query file first: every name once, with the server's answer cache
  // empty, so the saturation runs below compare UDP and TCP with a warm cache.
  process.stderr.write(`bench: ${server.name}: one cold pass through the query file over UDP\n`);
  const cold = await runDnsperf(dnsperf, { port: server.port, queryFile, seconds: 120, passes: 1 });
  rows.push({
    figure: `${server.name} UDP, cold cache, one pass`,
    value: fmt(cold.qps),
    unit: 'qps',
    notes: `dnsperf ... -n 1: every route once, answers read from SQLite; ${fmt(cold.completed)} of ${fmt(cold.sent)} answered, avg latency ${fmt(cold.avgLatencyMs, 2)} ms`,
  });
  for (const tcp of [false, true]) {
    const proto = tcp ? 'TCP' : 'UDP';
    process.stderr.write(`bench: ${server.name}: dnsperf ${proto} saturation, ${SATURATION_SECONDS} s\n`);
    const options = { port: server.port, queryFile, seconds: SATURATION_SECONDS, tcp };
    const stats = await runDnsperf(dnsperf, options);
    const command = `dnsperf ${dnsperfArgs({ ...options, port: 0, queryFile: 'QUERYFILE' })
      .join(' ')
      .replace('-p 0', '-p PORT')}`;
    rows.push({
      figure: `${server.name} ${proto} saturation`,
      value: fmt(stats.qps),
      unit: 'qps',
      notes: `${command}; ${fmt(stats.completed)} of ${fmt(stats.sent)} answered, avg latency ${fmt(stats.avgLatencyMs, 2)} ms`,
    });
  }
  process.stderr.write(`bench: ${server.name}: server CPU per query at ${CPU_RATE} qps offered, ${CPU_SECONDS} s\n`);
  const cpu = await cpuPerQuery(dnsperf, server, { queryFile, rate: CPU_RATE, seconds: CPU_SECONDS });
  rows.push({
    figure: `${server.name} CPU per query @ ${fmt(CPU_RATE / 1000)}k qps offered`,
    value: fmt(cpu.cpuUsPerQuery, 1),
    unit: 'µs',
    notes: `${cpu.how}; achieved ${fmt(cpu.qps)} qps, ${fmt(cpu.lost)} lost, avg latency ${fmt(cpu.avgLatencyMs, 2)} ms`,
  });
  return rows;
}
