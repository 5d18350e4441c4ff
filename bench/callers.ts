/**
 * The caller map's figures (docs/design.md#the-caller-map, docs/performance.md#the-caller-map):
 *
 * (a) Cost of the caller option on psarnd's hot path: UDP saturation and CPU per query at a fixed
 *     rate, the same query mix with and without EDNS option 65001, alternating in rounds. The
 *     queries are pre-built binary files (dnsperf -B: 2-byte length + message) so the only
 *     difference between the two files is the option: the same names in the same order, the
 *     same OPT (UDP size 1232), ids rewritten by dnsperf. dnsperf's own `-E code:hex` would send
 *     one caller only; here each query names one of CALLERS callers, so the map holds tens of
 *     thousands of pairs as it would in production.
 * (b) Memory of the map: CallerMap at the default bounds (10k callers, 100k pairs) fed random
 *     pairs from 10k callers × 10k psARN names, each name and id a fresh string as the handler
 *     makes one per query; heap after GC, bytes per pair, pairs and callers kept, record() ns.
 *
 * `node dist/bench/callers.js` runs both alone; `npm run bench` runs them (BENCH_CALLERS=0 skips).
 * Prints figures, asserts nothing.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CallerMap } from '../src/map/caller-map.js';
import { callerOption } from '../src/wire/caller.js';
import { encodeQuery } from '../src/wire/message.js';
import { Type } from '../src/wire/types.js';
import { parseDnsperf } from './dnsperf.js';
import { cpuSeconds, psarnCli, runTimed, startPsarnd, which } from './proc.js';
import { fmt, formatTable, machine, median, type Row, section } from './table.js';
import { mulberry32, routeDnsName, writeZoneFile } from './zonefile.js';

const ROUTES = 10_000;
/** Queries per file: each (route, caller) pair of the file is one pair of the map. */
const QUERIES = 50_000;
const CALLERS = 1000;
const SECONDS = Number(process.env.BENCH_CALLERS_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_CALLERS_ROUNDS ?? 2);
const RATE = 20_000;

type Say = (text: string) => void;

/** The two query files: the same URI questions, with and without a caller option. */
function writeQueryFiles(dir: string): { plain: string; caller: string } {
  const random = mulberry32(12);
  const plain = join(dir, 'queries-plain.bin');
  const caller = join(dir, 'queries-caller.bin');
  const fds = { plain: openSync(plain, 'w'), caller: openSync(caller, 'w') };
  const options = Array.from({ length: CALLERS }, (_, i) => [callerOption(`orders-handler-${i}`)]);
  try {
    for (let i = 0; i < QUERIES; i++) {
      const name = routeDnsName(Math.floor(random() * ROUTES));
      const who = options[Math.floor(random() * CALLERS)]!;
      for (const [fd, edns] of [
        [fds.plain, { udpSize: 1232 }],
        [fds.caller, { udpSize: 1232, options: who }],
      ] as const) {
        const query = encodeQuery({ id: 0, name, qtype: Type.URI, edns });
        const length = Buffer.alloc(2);
        length.writeUInt16BE(query.length);
        writeSync(fd, Buffer.concat([length, query]));
      }
    }
  } finally {
    closeSync(fds.plain);
    closeSync(fds.caller);
  }
  return { plain, caller };
}

async function dnsperf(
  bin: string,
  port: number,
  file: string,
  rate?: number,
): Promise<ReturnType<typeof parseDnsperf>> {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-B', '-l', String(SECONDS), '-c', '4', '-q', '200'];
  if (rate !== undefined) args.push('-Q', String(rate));
  const result = await runTimed(bin, args, { timeoutMs: (SECONDS + 30) * 1000 });
  return parseDnsperf(result.stdout + result.stderr);
}

/** (a): psarnd with and without the option, alternating. */
export async function measureOptionCost(dir: string, say: Say): Promise<Row[]> {
  const bin = which('dnsperf');
  if (bin === undefined) {
    return [{ figure: 'caller option cost', value: 'skipped', unit: '', notes: 'dnsperf not found on PATH' }];
  }
  const db = join(dir, 'callers.db');
  const zoneFile = join(dir, 'callers.zone');
  say(`callers: ${fmt(ROUTES)} routes, two query files of ${fmt(QUERIES)} URI questions (${fmt(CALLERS)} callers)`);
  writeZoneFile(zoneFile, ROUTES);
  await psarnCli(db, ['db', 'init']);
  await psarnCli(db, ['zone', 'import', zoneFile], 300_000);
  const files = writeQueryFiles(dir);
  const daemon = await startPsarnd(db);
  try {
    await daemon.indexBuilt(1, 120_000);
    // Warm both paths once: the answer cache and the map (its pairs exist from here on).
    for (const file of [files.plain, files.caller]) await dnsperf(bin, daemon.dns.port, file);
    const results: Record<'plain' | 'caller', { qps: number[]; cpu: number[] }> = {
      plain: { qps: [], cpu: [] },
      caller: { qps: [], cpu: [] },
    };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ['plain', 'caller'] as const) {
        say(`callers: round ${round}: ${kind}: UDP saturation, then CPU at ${fmt(RATE)} qps, ${SECONDS} s each`);
        const sat = await dnsperf(bin, daemon.dns.port, files[kind]);
        const before = cpuSeconds(daemon.pid);
        const fixed = await dnsperf(bin, daemon.dns.port, files[kind], RATE);
        const used = cpuSeconds(daemon.pid) - before;
        results[kind].qps.push(sat.qps);
        results[kind].cpu.push((used * 1e6) / Math.max(1, fixed.completed));
      }
    }
    const how = `dnsperf -B -l ${SECONDS} -c 4 -q 200 over ${fmt(QUERIES)} pre-built queries (EDNS, UDP size 1232), ${ROUNDS} rounds alternating; CPU: utime+stime of psarnd / completed at -Q ${fmt(RATE)}`;
    const q = { plain: median(results.plain.qps), caller: median(results.caller.qps) };
    const c = { plain: median(results.plain.cpu), caller: median(results.caller.cpu) };
    return [
      {
        figure: 'UDP saturation, no caller option',
        value: fmt(q.plain),
        unit: 'qps',
        notes: `rounds ${results.plain.qps.map((v) => fmt(v)).join(', ')}; ${how}`,
      },
      {
        figure: 'UDP saturation, caller option',
        value: fmt(q.caller),
        unit: 'qps',
        notes: `rounds ${results.caller.qps.map((v) => fmt(v)).join(', ')}; each query one of ${fmt(CALLERS)} caller ids`,
      },
      {
        figure: 'UDP saturation ratio, option / none',
        value: fmt(q.caller / q.plain, 3),
        unit: '×',
        notes: 'higher is better; 1.0 = no cost',
      },
      {
        figure: `CPU per query @ ${fmt(RATE / 1000)}k qps, no caller option`,
        value: fmt(c.plain, 2),
        unit: 'µs',
        notes: `rounds ${results.plain.cpu.map((v) => fmt(v, 2)).join(', ')}`,
      },
      {
        figure: `CPU per query @ ${fmt(RATE / 1000)}k qps, caller option`,
        value: fmt(c.caller, 2),
        unit: 'µs',
        notes: `rounds ${results.caller.cpu.map((v) => fmt(v, 2)).join(', ')}; difference ${fmt(c.caller - c.plain, 2)} µs per query`,
      },
    ];
  } finally {
    await daemon.stop();
  }
}

/** A gc() without --expose-gc on the command line. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** (b): the map's memory at the default bounds under 10k callers × 10k names of random traffic. */
export function measureMapMemory(say: Say, lookups = 2_000_000): Row[] {
  const gc = gcFunction();
  const maxCallers = 10_000;
  const maxEntries = 100_000;
  const random = mulberry32(7);
  const pairs = new Uint32Array(lookups * 2);
  for (let i = 0; i < pairs.length; i++) pairs[i] = Math.floor(random() * 10_000);
  gc();
  const base = process.memoryUsage().heapUsed;
  const map = new CallerMap({ maxCallers, maxEntries, touchEveryMs: 5000 });
  say(`callers: feeding CallerMap ${fmt(lookups)} random pairs of 10k callers × 10k names`);
  const t0 = performance.now();
  for (let i = 0; i < lookups; i++) {
    // What the handler has per query: the caller id and the qname, new strings each time.
    const caller = `orders-handler-${pairs[2 * i]!}`;
    const name = routeDnsName(pairs[2 * i + 1]!);
    map.record(caller, name, 42);
    // The persister drains every 5 s; here every 100k lookups, without a database.
    if (i % 100_000 === 99_999) while (map.pending > 0) map.drain(500, () => {});
  }
  const ns = ((performance.now() - t0) * 1e6) / lookups;
  while (map.pending > 0) map.drain(500, () => {});
  // The steady state: lookups of pairs already held (what a cached client's traffic mostly is).
  const again: number[] = [];
  for (const e of map.entries()) again.push(Number(e.caller.slice(15)), Number(/^route(\d+)/.exec(e.name)![1]));
  const t1 = performance.now();
  for (let i = 0; i < again.length; i += 2) map.record(`orders-handler-${again[i]!}`, routeDnsName(again[i + 1]!), 42);
  const heldNs = ((performance.now() - t1) * 1e6) / (again.length / 2);
  again.length = 0;
  while (map.pending > 0) map.drain(500, () => {});
  gc();
  const used = process.memoryUsage().heapUsed - base;
  const held = map.size;
  // The map must still be alive here for the heap figure.
  const callers = map.callers;
  const evicted = map.evicted;
  return [
    {
      figure: 'caller map heap, default bounds',
      value: fmt(used / 2 ** 20, 1),
      unit: 'MiB',
      notes: `after GC, ${fmt(lookups)} lookups of random pairs from 10k callers × 10k psARN names; bounds maxCallers ${fmt(maxCallers)}, maxEntries ${fmt(maxEntries)}`,
    },
    {
      figure: 'caller map bytes per pair',
      value: fmt(used / Math.max(1, held)),
      unit: 'B',
      notes: 'heap / pairs held: the entry, its map slot, the name string (~60 chars) and a share of the caller',
    },
    { figure: 'caller map pairs held', value: fmt(held), unit: '', notes: `${fmt(evicted)} evicted on the way` },
    { figure: 'caller map callers held', value: fmt(callers), unit: '', notes: '' },
    {
      figure: 'CallerMap.record(), new pairs (churn)',
      value: fmt(ns, 0),
      unit: 'ns',
      notes:
        'per lookup, mean, eviction and draining included; random pairs of 10k × 10k, nearly all new: the worst case (an id flood)',
    },
    {
      figure: 'CallerMap.record(), pairs held',
      value: fmt(heldNs, 0),
      unit: 'ns',
      notes: 'per lookup, mean, once over every pair held: the steady state of cached callers',
    },
  ];
}

/** Both figures, for bench/run.ts. */
export async function benchCallers(say: Say): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-callers-'));
  try {
    const rows: Row[] = [section('caller map: the caller option on the hot path (psarnd, 10k routes)')];
    rows.push(...(await measureOptionCost(dir, say)));
    rows.push(section('caller map: memory at the default bounds'), ...measureMapMemory(say));
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const say: Say = (text) => process.stderr.write(`bench: ${text}\n`);
  benchCallers(say).then(
    (rows) => {
      process.stdout.write(`\n${formatTable(rows)}\n\n${machine()}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`bench: failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
