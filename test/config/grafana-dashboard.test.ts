/**
 * config/grafana-dashboard.json (docs/design.md#grafana-dashboard) names only metrics psarnd and
 * psarn-client register, shows every psarnd metric family, and imports cleanly: its datasource
 * is the `${DS_PROMETHEUS}` input, panel ids are unique and panels do not overlap.
 * The metric names are read from the real registries, so renaming a metric breaks this test
 * rather than leaving a panel that silently shows "No data".
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { ClientMetrics } from '../../src/client/metrics.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { projectRoot } from '../helpers/daemon.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const execFileAsync = promisify(execFile);
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  panels: Panel[];
  templating?: { list: { name: string; type: string; datasource?: { uid?: string }; query?: unknown }[] };
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's import placeholder, not a JS template
const DATASOURCE_UID = '${DS_PROMETHEUS}';

/** PromQL words that are not metric names (functions are recognised by the `(` after them). */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: label matchers (`{…}`), ranges (`[…]`), strings,
 * `$variables`, by/without/on/ignoring label lists and function names are stripped; what is left
 * of the identifiers are metric names, as written (histogram suffixes kept).
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] !== undefined) continue; // a function or aggregation
    if (KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.push(m[1]!);
  }
  return names;
}

/** Every PromQL expression of a dashboard: panel targets (rows' nested panels too) and variable queries. */
function expressions(dashboard: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.expr !== undefined) out.push({ where: `panel "${panel.title}"`, expr: target.expr });
    }
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q === undefined) continue;
    // label_values(metric{…}, label): the metric is what must exist.
    const inner = /^label_values\((.*),\s*\w+\)$/.exec(q.trim());
    out.push({ where: `variable $${v.name}`, expr: inner === null ? q : inner[1]! });
  }
  return out;
}

function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Family name → prom-client type, from the registries' getMetricsAsJSON(). */
async function families(...registries: Registry[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const registry of registries) {
    for (const m of await registry.getMetricsAsJSON()) out.set(m.name, String(m.type));
  }
  return out;
}

/** The family a series name belongs to (`x_bucket`, `x_sum`, `x_count` of a histogram `x`), or undefined. */
function familyOf(name: string, known: Map<string, string>): string | undefined {
  if (known.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m === null) return undefined;
  const type = known.get(m[1]!);
  if (type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')) return m[1];
  return undefined;
}

/** The names a dashboard uses that no registry provides, with where they are used. */
function unknownMetrics(dashboard: Dashboard, known: Map<string, string>): string[] {
  const out: string[] = [];
  for (const { where, expr } of expressions(dashboard)) {
    for (const name of metricNames(expr)) {
      if (familyOf(name, known) === undefined) out.push(`${name} (${where})`);
    }
  }
  return out;
}

function usedFamilies(dashboard: Dashboard, known: Map<string, string>): Set<string> {
  const used = new Set<string>();
  for (const { where, expr } of expressions(dashboard)) {
    if (where.startsWith('variable')) continue; // a variable shows nothing: a panel must
    for (const name of metricNames(expr)) {
      const family = familyOf(name, known);
      if (family !== undefined) used.add(family);
    }
  }
  return used;
}

/** psarnd's registry as the daemon builds it (default process_/nodejs_ metrics included), and the client's. */
function registries(): { daemon: Registry; client: Registry } {
  const daemon = new Registry();
  new DaemonMetrics({ registry: daemon });
  const client = new Registry();
  new ClientMetrics(client);
  return { daemon, client };
}

const dashboard = JSON.parse(readFileSync(join(projectRoot, 'config/grafana-dashboard.json'), 'utf8')) as Dashboard;

describe('metricNames (the PromQL reader)', () => {
  it('keeps metric names, drops functions, matchers, ranges, variables and by/without lists', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, proto) (rate(psarn_dns_request_duration_seconds_bucket{job=~"$job",rcode="NOERROR"}[$__rate_interval])))',
      ),
      ['psarn_dns_request_duration_seconds_bucket'],
    );
    assert.deepEqual(
      metricNames('sum without (instance) (a_total{x="by (y)"}) / on (zone) group_left b offset 5m > bool 1e-9'),
      ['a_total', 'b'],
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JS template
    assert.deepEqual(metricNames('time() - max by (zone) (c_seconds{zone=~"${zone}"})'), ['c_seconds']);
  });
});

describe('the dashboard checks', () => {
  it('report a misspelt metric, and a histogram suffix on a counter', async () => {
    const { daemon, client } = registries();
    const known = await families(daemon, client);
    const fake: Dashboard = {
      schemaVersion: 39,
      panels: [
        {
          id: 1,
          type: 'timeseries',
          title: 'typo',
          gridPos: { x: 0, y: 0, w: 12, h: 8 },
          targets: [
            { expr: 'sum(rate(psarn_dns_reqeusts_total{job=~"$job"}[$__rate_interval]))' },
            { expr: 'rate(psarn_dns_requests_total_bucket[5m])' },
            { expr: 'rate(psarn_dns_request_duration_seconds_count[5m])' },
          ],
        },
      ],
    };
    assert.deepEqual(unknownMetrics(fake, known), [
      'psarn_dns_reqeusts_total (panel "typo")',
      'psarn_dns_requests_total_bucket (panel "typo")',
    ]);
  });
});

describe('config/grafana-dashboard.json', () => {
  it('names only metrics that psarnd or psarn-client register', async () => {
    const { daemon, client } = registries();
    const known = await families(daemon, client);
    assert.deepEqual(unknownMetrics(dashboard, known), []);
    assert.ok(expressions(dashboard).length > 30, 'the reader found the expressions');
  });

  it('shows every psarnd and psarn-client metric family in a panel (the process_/nodejs_ defaults: a few)', async () => {
    const { daemon, client } = registries();
    const known = await families(daemon, client);
    const used = usedFamilies(dashboard, known);
    // The default process_/nodejs_ metrics are Node's, not psarn's: the dashboard shows CPU,
    // memory and event loop lag, and leaves the rest to a Node.js dashboard.
    const own = [...known.keys()].filter((name) => name.startsWith('psarn_'));
    assert.ok(own.length >= 40, `psarnd and client families found: ${own.length}`);
    assert.deepEqual(
      own.filter((name) => !used.has(name)),
      [],
    );
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes']) assert.ok(used.has(name), name);
  });

  it('imports with a Prometheus datasource chosen at import (the DS_PROMETHEUS input)', () => {
    assert.ok(dashboard.schemaVersion >= 36, 'schemaVersion');
    assert.deepEqual(
      dashboard.__inputs?.map((i) => [i.name, i.type, i.pluginId]),
      [['DS_PROMETHEUS', 'datasource', 'prometheus']],
    );
    const refs: string[] = [];
    for (const panel of allPanels(dashboard)) {
      if (panel.type === 'row') continue;
      refs.push(`${panel.title}: ${panel.datasource?.uid}`);
      for (const target of panel.targets ?? []) refs.push(`${panel.title}: ${target.datasource?.uid}`);
    }
    for (const v of dashboard.templating?.list ?? []) {
      if (v.type === 'query') refs.push(`$${v.name}: ${v.datasource?.uid}`);
    }
    assert.ok(refs.length > 30);
    assert.deepEqual(
      refs.filter((r) => !r.endsWith(`: ${DATASOURCE_UID}`)),
      [],
    );
    // No datasource named by a fixed uid anywhere (one from the author's Grafana would not import).
    const uids = [...JSON.stringify(dashboard).matchAll(/"uid":\s*"([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(
      uids.filter((u) => u !== DATASOURCE_UID && u !== '-- Grafana --' && u !== 'psarn-overview'),
      [],
    );
  });

  it('has variables for job and instance that the panels filter on', () => {
    const names = dashboard.templating?.list.map((v) => v.name) ?? [];
    for (const name of ['job', 'instance', 'client_job']) assert.ok(names.includes(name), name);
    for (const { where, expr } of expressions(dashboard)) {
      if (where.startsWith('variable')) continue;
      assert.match(expr, /job=~"\$(?:client_)?job"/, `${where}: ${expr}`);
    }
  });

  it('has unique panel ids and panels that do not overlap within the 24-column grid', () => {
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(',')}`);
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(Number.isInteger(x) && Number.isInteger(y) && w > 0 && h > 0, p.title);
      assert.ok(x >= 0 && x + w <= 24, `${p.title} leaves the grid`);
    }
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        const a = panels[i]!.gridPos;
        const b = panels[j]!.gridPos;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        assert.ok(!overlap, `"${panels[i]!.title}" overlaps "${panels[j]!.title}"`);
      }
    }
  });

  it("parses as PromQL: promtool (Debian's prometheus package) accepts every panel expression", async (t) => {
    if (!skipUnlessTool(t, 'promtool')) return;
    // Grafana's variables replaced by values Prometheus accepts; each expression a recording rule.
    const rules = expressions(dashboard)
      .filter(({ where }) => !where.startsWith('variable'))
      .map(({ expr }, i) => {
        const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replace(/\$\w+/g, 'x');
        return `  - record: dashboard:expr${i}\n    expr: ${JSON.stringify(promql)}\n`;
      });
    const dir = mkdtempSync(join(tmpdir(), 'psarn-dashboard-'));
    dirs.push(dir);
    const file = join(dir, 'rules.yml');
    writeFileSync(file, `groups:\n- name: dashboard\n  rules:\n${rules.join('')}`);
    const { stdout } = await execFileAsync(toolPath('promtool')!, ['check', 'rules', file], { timeout: 60_000 });
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('sets a unit on every panel that has queries', () => {
    for (const p of allPanels(dashboard)) {
      if (p.type === 'row') continue;
      const unit = (p as unknown as { fieldConfig?: { defaults?: { unit?: string } } }).fieldConfig?.defaults?.unit;
      assert.ok(typeof unit === 'string' && unit.length > 0, `${p.title} has a unit`);
    }
  });
});
