/**
 * A secondary's AXFR of a big zone (docs/design.md#transfers-in): a real psarnd primary holding
 * the bench zone (bench/zonefile.ts, N routes of two targets), and in a child process of its own
 * the transfer engine (TransferClient.refresh) into a fresh database file, timed, with that
 * child's peak RSS (/usr/bin/time) and user/system CPU. Not part of `npm run bench` (yet).
 *
 *   node dist/bench/xfr-in.js [ROUTES=1000000] [DIR=/tmp/psarn-xfr-in-bench] [:memory:]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { TransferClient } from '../src/secondary/transfer-client.js';
import { Store } from '../src/store/store.js';
import { makeTsigKey } from '../src/wire/tsig.js';
import { entryArgs, projectRoot } from './paths.js';
import { childEnv } from './proc.js';
import { writeZoneFile, ZONE } from './zonefile.js';

const PARAMS = {
  soaTtl: 3600,
  mname: 'ns.psarn.internal.',
  rname: 'hostmaster.psarn.internal.',
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum: 30,
  nsTtl: 3600,
  nameservers: ['ns.psarn.internal.'],
};

/** The child: one AXFR into `db`, printed as JSON. */
async function child(port: number, secret: string, db: string): Promise<void> {
  const store = Store.open(db);
  const client = new TransferClient({
    store,
    primary: { address: { host: '127.0.0.1', port }, key: makeTsigKey('transfer-key', 'hmac-sha256', secret) },
    namespace: 'psarn.internal.',
    params: PARAMS,
    timeoutMs: 3_600_000,
  });
  const started = performance.now();
  const outcome = await client.refresh(ZONE);
  const ms = performance.now() - started;
  store.close();
  process.stdout.write(`${JSON.stringify({ ms, outcome, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

async function main(): Promise<void> {
  const routes = Number(process.argv[2] ?? 1_000_000);
  const dir = process.argv[3] ?? '/tmp/psarn-xfr-in-bench';
  const memory = process.argv[4] === ':memory:';
  mkdirSync(dir, { recursive: true });
  const zoneFile = join(dir, `bench-${routes}.zone`);
  const primaryDb = join(dir, `primary-${routes}.db`);
  const sizeFile = `${primaryDb}.size`;
  const cli = entryArgs('cli');
  // The primary's database is made once and reused (the import takes a while).
  if (!existsSync(primaryDb) || !existsSync(sizeFile) || readFileSync(sizeFile, 'utf8') !== String(routes)) {
    rmSync(primaryDb, { force: true });
    process.stderr.write(`writing and importing ${routes} routes into ${primaryDb}\n`);
    writeZoneFile(zoneFile, routes);
    execFileSync(process.execPath, [...cli, 'db', 'init', '--db', primaryDb], { cwd: projectRoot, env: childEnv() });
    execFileSync(process.execPath, [...cli, 'zone', 'import', zoneFile, '--db', primaryDb], {
      cwd: projectRoot,
      env: childEnv(),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    writeFileSync(sizeFile, String(routes));
  }
  const secret = randomBytes(32).toString('base64');
  const primary = spawn(
    process.execPath,
    [...entryArgs('server'), '--db', primaryDb, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0'],
    {
      cwd: projectRoot,
      env: childEnv({
        PSARN_TSIG_KEYS: `transfer-key:${secret}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_ROUTE_INDEX: 'false',
        PSARN_NSID: 'false',
      }),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buffered = '';
      primary.stdout!.setEncoding('utf8').on('data', (s: string) => {
        buffered += s;
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          nl = buffered.indexOf('\n');
          const entry = JSON.parse(line) as { msg?: string; dns?: { port: number } };
          if (entry.msg === 'psarnd serving') resolve(entry.dns!.port);
        }
      });
      primary.once('exit', (code) => reject(new Error(`psarnd exited with ${code}`)));
    });
    const db = memory ? ':memory:' : join(dir, 'secondary.db');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (!memory) rmSync(f, { force: true });
    const self = fileURLToPath(import.meta.url);
    const out = spawnSync(
      '/usr/bin/time',
      ['-f', 'TIME %e %U %S %M', process.execPath, self, '--child', String(port), secret, db],
      {
        cwd: projectRoot,
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      },
    );
    const time = /TIME (\S+) (\S+) (\S+) (\d+)/.exec(out.stderr);
    if (out.status !== 0 || time === null) throw new Error(out.stdout + out.stderr);
    const result = JSON.parse(out.stdout) as {
      ms: number;
      outcome: { routes: number; bytes: number; messages: number };
    };
    const [, , user, sys, rssKb] = time;
    const size = memory ? 0 : statSync(db).size;
    process.stdout.write(
      `AXFR of ${routes} routes into ${memory ? ':memory:' : 'a file'}: ${(result.ms / 1000).toFixed(1)} s, ` +
        `${result.outcome.messages} messages, ${(result.outcome.bytes / 1e6).toFixed(0)} MB; secondary user ${user} s, ` +
        `sys ${sys} s, peak RSS ${Math.round(Number(rssKb) / 1024)} MiB${memory ? '' : `; database ${(size / 1e6).toFixed(0)} MB`}\n`,
    );
  } finally {
    primary.kill('SIGTERM');
  }
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), process.argv[4]!, process.argv[5]!);
} else {
  await main();
}
