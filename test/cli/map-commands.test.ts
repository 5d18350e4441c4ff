/**
 * `psarn route callers` and `psarn graph` (docs/design.md#change-confirmation, #the-graph): in
 * process with an injected wall clock, the confirmation view before and after a `route set` and
 * after a `flush`; then through the real CLI process, each format of `psarn graph` (DOT piped
 * into Graphviz) and `route callers --json`.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { routeCallers } from '../../src/map/confirm.js';
import type { Graph, RouteCallers } from '../../src/map/types.js';
import type { CallerRow } from '../../src/store/callers.js';
import { Store } from '../../src/store/index.js';
import { entryArgs, projectRoot } from '../helpers/daemon.js';
import { skipUnlessTool } from '../helpers/tools.js';
import { Sandbox } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const A = 'arn:aws:psarn:us-east-1:123456789012';
const P = `${A}:orders/created`;
const NAME = `created.orders.${ZONE}`;
const L = 'arn:aws:lambda:us-east-1:123456789012:function';
const iso = (ms: number) => new Date(ms).toISOString();

function saveCallers(db: string, rows: CallerRow[]): void {
  const store = Store.open(db, { create: false });
  try {
    store.saveCallers(rows);
  } finally {
    store.close();
  }
}

const seen = (caller: string, serial: number, lastSeen: number, reporter = ''): CallerRow => ({
  caller,
  name: NAME,
  reporter,
  serial,
  firstSeen: lastSeen,
  lastSeen,
  lookups: 1,
});

/** The serial of a write, from its output's last line (`serial N`), or from route get. */
async function serialOf(s: Sandbox): Promise<number> {
  return (JSON.parse(await s.ok(['route', 'get', P, '--json'])) as { serial: number }).serial;
}

describe('psarn route callers', () => {
  const s = new Sandbox();
  after(() => s.cleanup());
  const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
  const at = (wallClock: number, ...extra: string[]) =>
    s.run(['route', 'callers', P, ...extra], { wallClock: () => wallClock });

  it('shows who has the current serial, before and after a route set', async () => {
    await s.ok(['db', 'init']);
    await s.ok(['route', 'set', P, '--target', `${L}:v1`, '--ttl', '300']);
    const s1 = await serialOf(s);
    saveCallers(s.db, [seen('billing', s1, T0), seen('checkout', s1, T0, 'secondary-1'), seen('checkout', s1, T0 - 5)]);
    let r = await at(T0 + 1000);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      `${P}: route serial ${s1}, current serial ${s1}, ttl 300s`,
      'CALLER    SERIAL  LAST SEEN (UTC)           STATUS   VIA',
      `billing   ${s1}       ${iso(T0)}  current  this psarnd`,
      `checkout  ${s1}       ${iso(T0)}  current  this psarnd, secondary-1`,
      `2 of 2 callers have serial ${s1}`,
    ]);

    await s.ok(['route', 'set', P, '--target', `${L}:v2`, '--ttl', '60']);
    const s2 = await serialOf(s);
    r = await at(T0 + 2000);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `${P}: route serial ${s2}, current serial ${s2}, ttl 60s`);
    // They keep what they fetched for the TTL it had (300 s), not the new one.
    assert.match(lines[2]!, new RegExp(`^billing +${s1} +${iso(T0)} +old until ${iso(T0 + 300_000)} +this psarnd$`));
    assert.equal(lines.at(-1), `0 of 2 callers have serial ${s2}`);
    r = await at(T0 + 300_001);
    assert.match(r.stdout, /^billing .* old, expired — refetches on its next call +this psarnd$/m);
  });

  it('after a flush: the current serial is the flush, old answers end at the flush plus epochTtl', async () => {
    await s.ok(['flush', P]);
    const store = Store.open(s.db, { create: false });
    const flush = store.journal(ZONE).at(-1)!;
    const before = store.getRoute(ZONE, 'orders/created')!.serial;
    store.close();
    assert.equal(flush.op, 'flush');
    // A caller that fetched just before the flush, and one that fetched the flush's serial.
    saveCallers(s.db, [seen('billing', before, flush.at - 1000), seen('fresh', flush.serial, flush.at + 500)]);
    let r = await at(flush.at + 1000);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(
      lines[0],
      `${P}: route serial ${before}, current serial ${flush.serial} (a flush, hold or release of the zone came after the change), ttl 60s`,
    );
    assert.match(
      r.stdout,
      new RegExp(`^billing +${before} +\\S+ +old until ${iso(flush.at + 5000)} +this psarnd$`, 'm'),
    );
    assert.match(r.stdout, new RegExp(`^fresh +${flush.serial} +\\S+ +current +this psarnd$`, 'm'));
    assert.equal(lines.at(-1), `1 of 3 callers has serial ${flush.serial}`);
    r = await at(flush.at + 5001);
    assert.match(r.stdout, /^billing .* old, expired — refetches on its next call +this psarnd$/m);

    // --json is routeCallers itself.
    r = await at(flush.at + 1000, '--json');
    const json = JSON.parse(r.stdout) as RouteCallers;
    const lib = Store.open(s.db, { create: false });
    try {
      assert.deepEqual(json, routeCallers(lib, P, { epochTtl: 5, namespace: 'psarn.internal.' }));
    } finally {
      lib.close();
    }
    assert.equal(json.currentSerial, flush.serial);
  });

  it('prints an untrusted caller id on one line, escaped', async () => {
    saveCallers(s.db, [seen('evil\n\u001b[31mred', 1, T0)]);
    const r = await at(T0);
    assert.ok(!r.stdout.includes('\u001b'));
    assert.match(r.stdout, /^evil\\x0a\\x1b\[31mred +1 /m);
  });

  it('a route with no caller seen yet, and a missing route (exit 1)', async () => {
    await s.ok(['route', 'set', `${A}:quiet/one`, '--target', `${L}:q`]);
    let r = await s.run(['route', 'callers', `${A}:quiet/one`]);
    assert.match(r.stdout, /^no caller of this route seen yet/m);
    assert.match(r.stdout, /^0 of 0 callers have serial \d+$/m);
    r = await s.run(['route', 'callers', `${A}:quiet/two`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^psarn: route 'arn:aws:psarn:us-east-1:123456789012:quiet\/two' not found in /);
  });
});

describe('psarn graph and route callers through the real CLI process', () => {
  const s = new Sandbox();
  const exec = promisify(execFile);
  const psarn = (...args: string[]) =>
    exec(process.execPath, [...entryArgs('cli'), ...args, '--db', s.db], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '' },
    });
  before(async () => {
    await s.ok(['db', 'init']);
    await s.ok(['apply', `${projectRoot}/config/demo-routes.yaml`]);
    const serial = await serialOf(s);
    saveCallers(s.db, [
      seen('checkout', serial, Date.now()),
      { ...seen('reporting', serial, Date.now()), name: `latest.orders.${ZONE}` },
      { ...seen('checkout', serial, Date.now()), name: `_epoch.${ZONE}` },
    ]);
  });
  after(() => s.cleanup());

  it('psarn graph | dot -Tsvg draws the callers, the routes and the targets', async (t) => {
    const { stdout } = await psarn('graph');
    assert.match(stdout, /^digraph psarn \{/);
    if (!skipUnlessTool(t, 'dot')) return;
    const svg = spawnSync('dot', ['-Tsvg'], { input: stdout, encoding: 'utf8', timeout: 60_000 });
    assert.equal(svg.status, 0, svg.stderr);
    const titles = [...svg.stdout.matchAll(/class="node">\s*<title>([^<]*)<\/title>/g)].map((m) =>
      m[1]!.replace(/&#45;/g, '-'),
    );
    for (const id of [
      'caller:checkout',
      'caller:reporting',
      `psarn:${P}`,
      `psarn:${A}:orders/latest`,
      `target:${L}:orders-created-v1`,
    ]) {
      assert.ok(titles.includes(id), `${id} in ${titles.join(', ')}`);
    }
    assert.ok(!titles.some((x) => x.includes('_epoch')));
  });

  it('--format json is the graph, --format mermaid a flowchart; a zone limits it', async () => {
    const g = JSON.parse((await psarn('graph', '--format', 'json')).stdout) as Graph;
    assert.deepEqual(
      g.edges.filter((e) => e.kind === 'calls').map((e) => [e.from, e.to]),
      [
        ['caller:checkout', `psarn:${P}`],
        ['caller:reporting', `psarn:${A}:orders/latest`],
      ],
    );
    assert.match((await psarn('graph', '--format', 'mermaid')).stdout, /^flowchart LR\n/);
    const one = JSON.parse((await psarn('graph', `${A}:payments`, '--format', 'json')).stdout) as Graph;
    assert.deepEqual(
      one.nodes.map((n) => n.id),
      [`psarn:${A}:payments/charge`, `target:${L}:payments-charge`, `target:${L}:payments-charge-backup`],
    );
  });

  it('route callers prints the view; --json the same data', async () => {
    const { stdout } = await psarn('route', 'callers', P);
    assert.match(stdout, /^checkout +\d+ +\S+ +current +this psarnd$/m);
    assert.match(stdout, /^1 of 1 caller has serial \d+$/m);
    const json = JSON.parse((await psarn('route', 'callers', P, '--json')).stdout) as RouteCallers;
    assert.deepEqual(
      json.callers.map((c) => [c.caller, c.current]),
      [['checkout', true]],
    );
  });
});
