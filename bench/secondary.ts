/**
 * Change on the primary to served by a psarnd secondary (issue 10, docs/design.md#secondary-mode):
 * a primary psarnd with BENCH_ROUTES routes (default 10,000) and a psarnd secondary following its
 * catalog, TSIG-signed, NOTIFY from the primary. Each of BENCH_CHANGES changes (default 100) is a
 * real `psarn route set` on the primary's database; the sample is the time from the CLI's exit to
 * the first answer of the secondary with the new targets (bench/changes.ts, the same measure as
 * a local change). Prints p50, p99 and max; the same measure against the primary itself for
 * comparison (BENCH_LOCAL_CHANGES, default 20). Run: `node dist/bench/secondary.js`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { measureChangeLatency } from './changes.js';
import { freePort } from './knot.js';
import { entryArgs, projectRoot } from './paths.js';
import { targetKey, UdpProbe } from './probe.js';
import { childEnv, type HostPort, psarnCli } from './proc.js';
import { fmt, formatTable, machine, percentile, type Row, section } from './table.js';
import { importedTargets, routeDnsName, writeZoneFile } from './zonefile.js';

const DEFAULT_ROUTES = 10_000;
const DEFAULT_CHANGES = 100;
const DEFAULT_LOCAL_CHANGES = 20;
const CHANGE_DEADLINE_MS = 10_000;
const START_DEADLINE_MS = 60_000;

interface Spawned {
  dns: HostPort;
  stop(): Promise<void>;
}

/** psarnd on `db` with `env`, resolved once it logged "psarnd serving". */
async function spawnPsarnd(db: string, listen: string, env: Record<string, string>): Promise<Spawned> {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--max-semi-space-size=4', ...entryArgs('server'), '--db', db, '--listen', listen, '--http', '127.0.0.1:0'],
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
  try {
    const dns = await new Promise<HostPort>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('psarnd did not start in time')), START_DEADLINE_MS);
      let buffered = '';
      proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
        buffered += s;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          try {
            const entry = JSON.parse(line) as { msg?: string; dns?: HostPort };
            if (entry.msg === 'psarnd serving' && entry.dns !== undefined) {
              clearTimeout(timer);
              resolve(entry.dns);
            }
          } catch {
            // not JSON
          }
        }
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`psarnd exited before serving: ${stderr.trim()}`));
      });
    });
    return { dns, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The figures: the secondary's change-to-served latency, and the primary's for comparison. */
export async function measureSecondary(): Promise<Row[]> {
  const routes = Number(process.env.BENCH_ROUTES ?? DEFAULT_ROUTES);
  const changes = Number(process.env.BENCH_CHANGES ?? DEFAULT_CHANGES);
  const localChanges = Number(process.env.BENCH_LOCAL_CHANGES ?? DEFAULT_LOCAL_CHANGES);
  const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-secondary-'));
  const secret = randomBytes(32).toString('base64');
  const keys = { PSARN_TSIG_KEYS: `transfer-key:${secret}` };
  const spawned: Spawned[] = [];
  const rows: Row[] = [section(`${fmt(routes)} routes: change on the primary to served by a psarnd secondary`)];
  try {
    const primaryDb = join(dir, 'primary.db');
    const zoneFile = join(dir, 'zone.txt');
    writeZoneFile(zoneFile, routes);
    await psarnCli(primaryDb, ['db', 'init']);
    await psarnCli(primaryDb, ['zone', 'import', zoneFile]);
    const secondaryPort = await freePort();
    const primary = await spawnPsarnd(primaryDb, '127.0.0.1:0', {
      ...keys,
      PSARN_TRANSFER_ALLOW: 'transfer-key',
      PSARN_NOTIFY: `127.0.0.1:${secondaryPort} key transfer-key`,
    });
    spawned.push(primary);
    const started = performance.now();
    const secondary = await spawnPsarnd(join(dir, 'secondary.db'), `127.0.0.1:${secondaryPort}`, {
      ...keys,
      PSARN_SECONDARY_PRIMARY: `127.0.0.1:${primary.dns.port}`,
      PSARN_SECONDARY_KEY: 'transfer-key',
      PSARN_SECONDARY_ZONES: 'catalog',
    });
    spawned.push(secondary);
    // The initial transfer (catalog, then the zone by AXFR): spawn to the last route served.
    const probe = new UdpProbe(secondary.dns);
    const last = routes - 1;
    const firstServed = await probe.waitFor(routeDnsName(last), targetKey(importedTargets(last)), {
      maxTries: 1_000_000,
      deadline: performance.now() + START_DEADLINE_MS,
      timeoutMs: 250,
    });
    probe.close();
    rows.push({
      figure: 'secondary: spawn to the whole zone served',
      value: firstServed === undefined ? 'n/a' : fmt(firstServed - started),
      unit: 'ms',
      notes: `psarnd start, catalog AXFR, zone AXFR of ${fmt(routes)} routes, applied; TSIG`,
    });
    const remote = await measureChangeLatency(primaryDb, secondary.dns, {
      route: 1,
      changes,
      deadlineMs: CHANGE_DEADLINE_MS,
    });
    const local = await measureChangeLatency(primaryDb, primary.dns, {
      route: 2,
      changes: localChanges,
      deadlineMs: CHANGE_DEADLINE_MS,
    });
    const note = (n: number, missed: number) =>
      `${n} × psarn route set on the primary, CLI exit to first right answer${missed > 0 ? `; ${missed} missed` : ''}`;
    for (const [who, result, n] of [
      ['psarnd secondary', remote, changes],
      ['primary itself', local, localChanges],
    ] as const) {
      for (const p of [50, 99] as const) {
        rows.push({
          figure: `change to served, ${who}, p${p}`,
          value: fmt(percentile(result.samples, p), 1),
          unit: 'ms',
          notes: p === 50 ? note(n, result.missed) : who === 'psarnd secondary' ? 'goal ≤ 1000 ms p99' : '',
        });
      }
      rows.push({
        figure: `change to served, ${who}, max`,
        value: fmt(Math.max(...result.samples), 1),
        unit: 'ms',
        notes: `one psarn route set: ${fmt(result.cliMs)} ms`,
      });
    }
    return rows;
  } finally {
    for (const s of spawned.reverse()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await measureSecondary();
  process.stdout.write(`${machine()}\n\n${formatTable(rows)}\n`);
}
