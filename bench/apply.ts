/**
 * `psarn apply` of a routes file of N routes (default 10,000; docs/performance.md#psarn-apply):
 * the real CLI, spawn to exit, on a database `psarn db init` made:
 *   1. `psarn apply --dry-run` on the empty database: the plan (read, parse, check, plan);
 *   2. `psarn apply`: the same plan, written in one transaction;
 *   3. `psarn apply` again: "No changes." (every route read and compared, nothing written);
 * plus, in-process, where the time goes: parsing the YAML, planning, writing, planning again.
 * Part of `npm run bench` (env BENCH_APPLY=0 skips it); alone:
 *
 *   node dist/bench/apply.js [ROUTES=10000]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { defaultConfig, zoneParams } from '../src/config/config.js';
import { parseRoutesYaml } from '../src/config/routes-file.js';
import { applyRoutes, planApply } from '../src/ops/apply.js';
import { Store } from '../src/store/store.js';
import { projectRoot } from './paths.js';
import { psarnCli } from './proc.js';
import { fmt, formatTable, machine, type Row, section } from './table.js';

const ACCOUNT = '123456789012';
const PARAMS = zoneParams(defaultConfig(projectRoot));

/**
 * A routes file of `routes` routes in one zone: nine in ten a weighted canary of two Lambda
 * targets, one in ten an alias to the route before it (aliases are the part that walks chains).
 */
export function routesFile(routes: number): string {
  const lines = ['routes:'];
  for (let i = 0; i < routes; i++) {
    const psarn = `arn:aws:psarn:us-east-1:${ACCOUNT}:bench/r${i}`;
    if (i % 10 === 9) {
      lines.push(`  - psarn: ${psarn}`, `    alias: arn:aws:psarn:us-east-1:${ACCOUNT}:bench/r${i - 1}`);
      continue;
    }
    const fn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:bench-${i}`;
    lines.push(
      `  - psarn: ${psarn}`,
      '    ttl: 60',
      '    targets:',
      `      - { target: ${fn}-v1, weight: 90 }`,
      `      - { target: ${fn}-v2, weight: 10 }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Where the time goes, in-process (ms): parsing the file, planning, writing, planning again. */
function measureInProcess(text: string, db: string): { parse: number; plan: number; apply: number; again: number } {
  const time = <T>(fn: () => T): [T, number] => {
    const started = performance.now();
    const result = fn();
    return [result, performance.now() - started];
  };
  const [entries, parse] = time(() => parseRoutesYaml(text, 'routes.yaml'));
  const store = Store.open(db);
  try {
    const options = { file: 'routes.yaml', defaultTtl: 300, namespace: 'psarn.internal.', params: PARAMS };
    const [, plan] = time(() => store.read(() => planApply(store, entries, options)));
    const [, apply] = time(() => applyRoutes(store, entries, options));
    const [result, again] = time(() => applyRoutes(store, entries, options));
    if (result.serials.length !== 0) throw new Error('the second in-process apply wrote something');
    return { parse, plan, apply, again };
  } finally {
    store.close();
  }
}

/** The rows of the apply figures; `dir` is a scratch folder (a subfolder is made and removed). */
export async function measureApply(parent: string, routes = 10_000): Promise<Row[]> {
  const dir = mkdtempSync(join(parent, 'apply-'));
  try {
    const file = join(dir, 'routes.yaml');
    const db = join(dir, 'psarn.db');
    writeFileSync(file, routesFile(routes));
    await psarnCli(db, ['db', 'init']);
    const text = readFileSync(file, 'utf8');
    const inProcess = measureInProcess(text, join(dir, 'in-process.db'));

    const expect = (out: string, pattern: RegExp, what: string) => {
      if (!pattern.test(out)) throw new Error(`psarn apply (${what}) did not print ${pattern}: ${out.slice(-300)}`);
    };
    const plan = await psarnCli(db, ['apply', file, '--dry-run'], 600_000);
    expect(plan.stdout, new RegExp(`\\nPlan: ${routes} to add, 0 to change, 0 to delete\\.\\n`), 'dry run');
    const applied = await psarnCli(db, ['apply', file], 600_000);
    expect(applied.stdout, new RegExp(`\\nApplied: ${routes} added, 0 changed, 0 deleted in 1 zone `), 'apply');
    const again = await psarnCli(db, ['apply', file], 600_000);
    expect(again.stdout, /^No changes\./, 'second apply');
    const size = `${fmt(text.length / 1024)} KiB file`;
    const n = fmt(routes);
    return [
      section(`psarn apply: ${n} routes`),
      {
        figure: `psarn apply --dry-run, ${n} routes (plan)`,
        value: fmt(plan.ms),
        unit: 'ms',
        notes: `CLI spawn to exit, empty database; ${size}`,
      },
      {
        figure: `psarn apply, ${n} routes into an empty database`,
        value: fmt(applied.ms),
        unit: 'ms',
        notes: 'CLI spawn to exit; one transaction, one serial bump',
      },
      {
        figure: `psarn apply again, ${n} routes (No changes.)`,
        value: fmt(again.ms),
        unit: 'ms',
        notes: 'CLI spawn to exit; every route read and compared, nothing written',
      },
      {
        figure: `  in-process: parse the YAML (${n} routes)`,
        value: fmt(inProcess.parse),
        unit: 'ms',
        notes: 'parseRoutesYaml (the yaml package, then the checks and line numbers)',
      },
      {
        figure: `  in-process: plan on the empty database`,
        value: fmt(inProcess.plan),
        unit: 'ms',
        notes: 'planApply over the parsed file',
      },
      {
        figure: `  in-process: plan and write (one transaction)`,
        value: fmt(inProcess.apply),
        unit: 'ms',
        notes: 'applyRoutes into the empty database',
      },
      {
        figure: `  in-process: plan again (no changes)`,
        value: fmt(inProcess.again),
        unit: 'ms',
        notes: 'applyRoutes a second time: reads and compares only',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const routes = Number(process.argv[2] ?? 10_000);
  const parent = mkdtempSync(join(tmpdir(), 'psarn-apply-bench-'));
  try {
    const rows = await measureApply(parent, routes);
    process.stdout.write(`\n${formatTable(rows)}\n\n${machine()}\n`);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}
