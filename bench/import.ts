/**
 * `psarn zone import` alone, timed the way `npm run bench` times it (spawn to exit of the real
 * CLI into a fresh database after `psarn db init`), with the child's user and system CPU time
 * from /usr/bin/time: on a shared machine the wall time moves with the other load, the CPU time
 * much less. Writes the zone file once (bench/zonefile.ts, the bench's own data set) and reuses
 * it across runs and invocations.
 *
 *   node dist/bench/import.js [ROUTES=1000000] [RUNS=3] [DIR=/tmp/psarn-import-bench]
 *   env BENCH_IMPORT_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile each import
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { entryArgs, projectRoot } from './paths.js';
import { childEnv } from './proc.js';
import { writeZoneFile } from './zonefile.js';

const routes = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 3);
const dir = process.argv[4] ?? '/tmp/psarn-import-bench';
const nodeArgs = (process.env.BENCH_IMPORT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

mkdirSync(dir, { recursive: true });
const zoneFile = join(dir, `bench-${routes}.zone`);
// The size is the file's fingerprint: a half-written file from a killed run is rewritten.
const sizeFile = `${zoneFile}.size`;
if (
  !existsSync(zoneFile) ||
  !existsSync(sizeFile) ||
  readFileSync(sizeFile, 'utf8') !== String(statSync(zoneFile).size)
) {
  process.stderr.write(`writing ${routes} routes to ${zoneFile}\n`);
  writeZoneFile(zoneFile, routes);
  writeFileSync(sizeFile, String(statSync(zoneFile).size));
}

const cli = entryArgs('cli');
for (let run = 1; run <= runs; run++) {
  const db = join(dir, 'psarn.db');
  for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
  execFileSync(process.execPath, [...cli, 'db', 'init', '--db', db], { cwd: projectRoot, env: childEnv() });
  // In the OS file cache, as after the bench writes it: a cold read from this machine's disk
  // alone can take longer than the whole import.
  void readFileSync(zoneFile);
  const started = performance.now();
  const out = spawnSync(
    '/usr/bin/time',
    ['-f', 'TIME %e %U %S %M', process.execPath, ...nodeArgs, ...cli, 'zone', 'import', zoneFile, '--db', db],
    { cwd: projectRoot, env: childEnv(), encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const ms = performance.now() - started;
  const time = /TIME (\S+) (\S+) (\S+) (\d+)/.exec(out.stderr);
  if (out.status !== 0 || time === null) {
    process.stderr.write(out.stdout + out.stderr);
    process.exit(1);
  }
  const [, , user, sys, rssKb] = time;
  process.stdout.write(
    `run ${run}: wall ${(ms / 1000).toFixed(2)} s, user ${user} s, sys ${sys} s, ` +
      `cpu ${(Number(user) + Number(sys)).toFixed(2)} s, max RSS ${Math.round(Number(rssKb) / 1024)} MiB; ${out.stdout.trim()}\n`,
  );
}
