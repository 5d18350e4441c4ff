/**
 * `npm run bench`: a first benchmark of psarnd. Prints figures, asserts nothing.
 *   1. import time of N routes (env BENCH_ROUTES, default 100000) with the real CLI
 *   2. psarnd start to first correct answer on that database, and its RSS
 *   3. saturation qps over UDP and TCP (dnsperf) and server CPU per query at 20k qps
 *   2b. client: cached resolve + pick per second, uncached resolve round trip p50/p99
 *   4. change-to-served latency of 30 `psarn route set` under ~20k qps of background load
 * Everything runs on 127.0.0.1; every child is killed on the way out, also on error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { measureChangeLatency } from './changes.js';
import { measureClient } from './client.js';
import { startLoad } from './dnsperf.js';
import { targetKey, UdpProbe } from './probe.js';
import { procStatusKiB, psarnCli, startPsarnd, which } from './proc.js';
import { type BenchServer, CPU_RATE, measureServer, skippedRows } from './servers.js';
import { fmt, formatTable, machine, percentile, type Row } from './table.js';
import { importedTargets, routeDnsName, routePsarn, writeQueryFile, writeZoneFile } from './zonefile.js';

const DEFAULT_ROUTES = 100_000;
const CHANGES = 30;
/** A change not served within this long counts as missed (DESIGN.md §5 promises 1 s). */
const CHANGE_DEADLINE_MS = 10_000;
const START_DEADLINE_MS = 120_000;
/**
 * Queries in flight of the background load. With -q 200, dnsperf can offer at most 200 per
 * latency period: after each change the answer cache of the zone is cold and latency rises, so
 * 20k qps would not even be offered. 2000 keeps the offered rate near 20k.
 */
const LOAD_OUTSTANDING = 2000;

function routeCount(): number {
  const raw = process.env.BENCH_ROUTES;
  if (raw === undefined || raw === '') return DEFAULT_ROUTES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) {
    throw new Error(`BENCH_ROUTES='${raw}' is not a route count; use an integer from 1 to 10000000`);
  }
  return n;
}

function say(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function bench(rows: Row[], dir: string, cleanups: (() => Promise<void>)[]): Promise<void> {
  const routes = routeCount();
  const db = join(dir, 'psarn.db');
  const zoneFile = join(dir, 'bench.zone');
  const queryFile = join(dir, 'queries.txt');

  // 1. Import.
  say(`writing ${fmt(routes)} routes to ${zoneFile} and a shuffled query file`);
  writeZoneFile(zoneFile, routes);
  writeQueryFile(queryFile, routes);
  await psarnCli(db, ['db', 'init']);
  say('psarn zone import');
  const imported = await psarnCli(db, ['zone', 'import', zoneFile], Math.max(300_000, routes * 10));
  const said = /imported (\d+) routes/.exec(imported.stdout);
  if (said?.[1] === undefined || Number(said[1]) !== routes) {
    throw new Error(`zone import did not report ${routes} routes: ${imported.stdout.trim()}`);
  }
  rows.push(
    {
      figure: `import ${fmt(routes)} routes`,
      value: fmt(imported.ms / 1000, 2),
      unit: 's',
      notes: 'wall time of `psarn zone import FILE --db DB` (a child process, after `psarn db init`)',
    },
    { figure: 'import rate', value: fmt(routes / (imported.ms / 1000)), unit: 'routes/s', notes: '' },
  );

  // 2. Start to first correct answer.
  const probeRoute = routes - 1;
  say('starting psarnd');
  const daemon = await startPsarnd(db, START_DEADLINE_MS);
  cleanups.push(daemon.stop);
  const probe = new UdpProbe(daemon.dns);
  let answeredAt: number | undefined;
  try {
    answeredAt = await probe.waitFor(routeDnsName(probeRoute), targetKey(importedTargets(probeRoute)), {
      maxTries: 100_000,
      deadline: daemon.spawnedAt + START_DEADLINE_MS,
      timeoutMs: 200,
    });
  } finally {
    probe.close();
  }
  if (answeredAt === undefined) throw new Error(`psarnd did not serve ${routeDnsName(probeRoute)} in time`);
  const rss = procStatusKiB(daemon.pid, 'VmRSS');
  rows.push(
    {
      figure: 'psarnd start to first correct answer',
      value: fmt(answeredAt - daemon.spawnedAt),
      unit: 'ms',
      notes: 'spawn of `psarnd --db DB --listen 127.0.0.1:0 --http 127.0.0.1:0` to a right URI answer (UDP)',
    },
    {
      figure: 'psarnd RSS after start',
      value: rss === undefined ? 'n/a' : fmt(rss / 1024, 1),
      unit: 'MiB',
      notes: `VmRSS of /proc/PID/status, ${fmt(routes)} routes loaded`,
    },
  );

  // Client figures, before any load: resolve through the client library's resolver.
  say('client resolve figures');
  rows.push(...(await measureClient(daemon.dns, routePsarn(probeRoute))));

  // 3. Throughput, one server after another.
  const dnsperf = which('dnsperf');
  const skipWhy = 'dnsperf not found on PATH; install it (apt-get install dnsperf) for this figure';
  const servers: BenchServer[] = [{ name: 'psarnd', port: daemon.dns.port, pid: daemon.pid }];
  for (const server of servers) {
    if (dnsperf === undefined) {
      say(`skipped ${server.name} throughput: ${skipWhy}`);
      rows.push(
        ...skippedRows(
          [
            `${server.name} UDP, cold cache, one pass`,
            `${server.name} UDP saturation`,
            `${server.name} TCP saturation`,
            `${server.name} CPU per query`,
          ],
          skipWhy,
        ),
      );
    } else {
      rows.push(...(await measureServer(dnsperf, server, queryFile)));
    }
  }

  // 4. Change-to-served latency under load.
  say(`${CHANGES} route changes with psarn route set${dnsperf ? `, under ${fmt(CPU_RATE)} qps offered` : ''}`);
  const load = dnsperf
    ? startLoad(dnsperf, {
        port: daemon.dns.port,
        queryFile,
        seconds: 600,
        rate: CPU_RATE,
        outstanding: LOAD_OUTSTANDING,
      })
    : undefined;
  if (load !== undefined) cleanups.push(async () => void (await load.stop()));
  const started = performance.now();
  let change: Awaited<ReturnType<typeof measureChangeLatency>>;
  let loadStats: Awaited<ReturnType<NonNullable<typeof load>['stop']>> | undefined;
  try {
    change = await measureChangeLatency(db, daemon.dns, {
      route: Math.floor(routes / 2),
      changes: CHANGES,
      deadlineMs: CHANGE_DEADLINE_MS,
    });
  } finally {
    loadStats = await load?.stop();
  }
  const loadNote =
    load === undefined
      ? `no background load (${skipWhy})`
      : loadStats === undefined
        ? 'background dnsperf printed no statistics'
        : `background dnsperf -Q ${CPU_RATE} -c 4 -q ${LOAD_OUTSTANDING} for ${fmt((performance.now() - started) / 1000, 0)} s: ` +
          `${fmt(loadStats.qps)} qps answered, avg latency ${fmt(loadStats.avgLatencyMs, 2)} ms, ${fmt(loadStats.lost)} lost`;
  const missed = change.missed > 0 ? `; ${change.missed} not served within ${CHANGE_DEADLINE_MS} ms` : '';
  rows.push(
    {
      figure: 'change to served, p50',
      value: fmt(percentile(change.samples, 50), 1),
      unit: 'ms',
      notes: `${CHANGES} x \`psarn route set\` of one route; from CLI exit to first right answer${missed}`,
    },
    {
      figure: 'change to served, p99',
      value: fmt(percentile(change.samples, 99), 1),
      unit: 'ms',
      notes: 'nearest rank',
    },
    { figure: 'change to served, max', value: fmt(Math.max(...change.samples), 1), unit: 'ms', notes: loadNote },
    {
      figure: 'psarn route set (one CLI process)',
      value: fmt(change.cliMs),
      unit: 'ms',
      notes: `mean wall time of the CLI process${load === undefined ? '' : ', under the same load'}`,
    },
  );
  const end = procStatusKiB(daemon.pid, 'VmRSS');
  const peak = procStatusKiB(daemon.pid, 'VmHWM');
  rows.push({
    figure: 'psarnd RSS at the end',
    value: end === undefined ? 'n/a' : fmt(end / 1024, 1),
    unit: 'MiB',
    notes:
      dnsperf === undefined ? 'VmRSS at the end of the run' : 'VmRSS after every route was queried (answer cache warm)',
  });
  rows.push({
    figure: 'psarnd peak RSS',
    value: peak === undefined ? 'n/a' : fmt(peak / 1024, 1),
    unit: 'MiB',
    notes: 'VmHWM of /proc/PID/status at the end of the run',
  });
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-'));
  const rows: Row[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let failure: unknown;
  try {
    await bench(rows, dir, cleanups);
  } catch (error) {
    failure = error;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        say(`cleanup failed: ${(error as Error).message}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\n${formatTable(rows)}\n\n${machine()}\n`);
  if (failure !== undefined) {
    process.stderr.write(`bench: failed: ${(failure as Error).stack ?? String(failure)}\n`);
    return 1;
  }
  return 0;
}

main().then((code) => process.exit(code));
