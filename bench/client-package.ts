/**
 * The caller's package (docs/design.md#two-packages): what psarn-client costs a Lambda before its
 * first call. Packs the tarball as a publish would, then, in a scratch app with nothing else:
 *   - install time and size: `npm install <tarball>` (no dependency, so no network);
 *   - bundle size: esbuild, minified, the AWS SDK external (what a function bundle carries);
 *   - import time: `await import('psarn-client')` in fresh node processes (median, p90).
 * With BENCH_INSTALL_FULL=1 it also packs psarn and times installing both tarballs (network:
 * psarn's own dependencies come from the registry, and better-sqlite3 compiles).
 * Runs inside `npm run bench`, or alone: `npm run build && node dist/bench/client-package.js`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { projectRoot } from './paths.js';
import { fmt, formatTable, percentile, type Row } from './table.js';

const run = promisify(execFile);
const IMPORT_RUNS = 21;

/** Kilobytes under `dir` as du counts them (blocks on disk, like the 76 MB). */
async function duKiB(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', dir]);
  return Number(stdout.split('\t')[0]);
}

async function pack(dir: string, workspace?: string): Promise<string> {
  const args = [
    'pack',
    '--pack-destination',
    dir,
    '--json',
    '--silent',
    ...(workspace ? ['--workspace', workspace] : []),
  ];
  const { stdout } = await run('npm', args, { cwd: projectRoot, maxBuffer: 64 << 20 });
  return join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
}

/** A scratch app with `specs` installed by npm; the install's wall time and node_modules size. */
async function install(dir: string, name: string, specs: string[]): Promise<{ app: string; ms: number; kib: number }> {
  const app = join(dir, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  const start = performance.now();
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    cwd: app,
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - start;
  return { app, ms, kib: await duKiB(join(app, 'node_modules')) };
}

/** Minified esbuild bundle of `import * from 'psarn-client'` with the AWS SDK external; bytes and gzipped bytes. */
async function bundleSize(app: string): Promise<{ bytes: number; gzip: number }> {
  const esbuild = await import('esbuild');
  writeFileSync(join(app, 'entry.mjs'), "export * from 'psarn-client';\n");
  const out = await esbuild.build({
    entryPoints: [join(app, 'entry.mjs')],
    absWorkingDir: app,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    external: ['@aws-sdk/*'],
    write: false,
    logLevel: 'error',
  });
  const bytes = out.outputFiles[0]!.contents;
  return { bytes: bytes.length, gzip: gzipSync(bytes).length };
}

/** `await import('psarn-client')` in fresh processes, ms. */
async function importTimes(app: string): Promise<number[]> {
  const script = "const t = performance.now(); await import('psarn-client'); console.log(performance.now() - t);";
  const samples: number[] = [];
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    samples.push(Number(stdout.trim()));
  }
  return samples;
}

export async function measureClientPackage(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-client-'));
  try {
    const tarball = await pack(dir, 'psarn-client');
    const client = await install(dir, 'client-app', [tarball]);
    const bundle = await bundleSize(client.app);
    const imports = await importTimes(client.app);
    const rows: Row[] = [
      {
        figure: 'psarn-client: tarball',
        value: fmt(statSync(tarball).size / 1024, 1),
        unit: 'KiB',
        notes: '`npm pack --workspace psarn-client` (one bundled module, .d.ts, README, LICENSE, docs)',
      },
      {
        figure: 'psarn-client: npm install',
        value: fmt(client.ms / 1000, 1),
        unit: 's',
        notes: `\`npm install <tarball>\` into an empty app; node_modules ${fmt(client.kib / 1024, 1)} MiB (du); before: psarn, 87 s and 76 MiB`,
      },
      {
        figure: 'psarn-client: bundle, minified',
        value: fmt(bundle.bytes / 1024, 1),
        unit: 'KiB',
        notes: `esbuild --bundle --minify, @aws-sdk/* external; ${fmt(bundle.gzip / 1024, 1)} KiB gzipped; goal ≤ 60 KB (before: 135–154 KB)`,
      },
      {
        figure: 'psarn-client: import, median',
        value: fmt(percentile(imports, 50), 1),
        unit: 'ms',
        notes: `await import('psarn-client') in ${IMPORT_RUNS} fresh node processes; p90 ${fmt(percentile(imports, 90), 1)} ms; goal ≤ 30 (before: 270–285)`,
      },
    ];
    if (process.env.BENCH_INSTALL_FULL === '1') {
      const psarn = await pack(dir);
      const full = await install(dir, 'psarn-app', [tarball, psarn]);
      rows.push({
        figure: 'psarn + psarn-client: npm install',
        value: fmt(full.ms / 1000, 1),
        unit: 's',
        notes: `both tarballs into an empty app (registry, better-sqlite3 compiled); node_modules ${fmt(full.kib / 1024, 1)} MiB`,
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${formatTable(await measureClientPackage())}\n`);
}
