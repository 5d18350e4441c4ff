/**
 * The renderers against the real tools (docs/design.md#the-graph): the DOT text through
 * Graphviz's `dot -Tsvg`, with every node found by its title and no two ids merged; the Mermaid
 * text through Mermaid's own parser and renderer in headless Chromium, with the hostile labels
 * shown as written. Both over a graph with hostile caller ids, a rollout, a hold, a dangling
 * alias and two zones. The SVGs are kept as CI artifacts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { dotId, renderDot } from '../../src/map/dot.js';
import { mermaidLabel, renderMermaid } from '../../src/map/mermaid.js';
import type { Graph, GraphNode } from '../../src/map/types.js';
import { artifactsDir, launchChromium } from '../helpers/browser.js';
import { projectRoot } from '../helpers/daemon.js';
import { skipUnlessTool } from '../helpers/tools.js';
import { ZONE, ZONE2 } from '../store/helpers.js';

const A = 'arn:aws:psarn:us-east-1:123456789012';
const B = 'arn:aws:psarn:eu-west-1:210987654321';
const L = (n: string) => `arn:aws:lambda:us-east-1:123456789012:function:${n}`;

/** Caller ids an attacker might send: DOT and Mermaid syntax, escapes, entities, control and bidi characters. */
const HOSTILE = [
  'a"b',
  'ends\\',
  'quote\\"in',
  '\\N and \\G',
  'x"];\n"y" -> "z',
  'x -->|pwn| y',
  '#quot;#35;',
  '[]{}()<>|`',
  'end',
  'subgraph',
  '<img src=x onerror=alert(1)>',
  'line\u2028sep\u0007bell',
  '\u202eevil',
  'δοκιμή ✓',
];

function fixture(): Graph {
  const route = (psarn: string, zone: string, extra: Partial<GraphNode> = {}): GraphNode => ({
    id: `psarn:${psarn}`,
    kind: 'route',
    label: psarn,
    zone,
    policy: 'weighted',
    ttl: 300,
    serial: 7,
    ...extra,
  });
  const nodes: GraphNode[] = [
    ...HOSTILE.map((c): GraphNode => ({ id: `caller:${c}`, kind: 'caller', label: c, lastSeen: 1 })),
    { id: 'caller:checkout', kind: 'caller', label: 'checkout', lastSeen: 2 },
    route(`${A}:orders/created`, ZONE, {
      rollout: { id: 3, status: 'running', step: '25%', to: L('v2'), gate: 'sum(rate(errors{fn="v2"}[5m])) > 0' },
    }),
    route(`${A}:payments/charge`, ZONE, {
      policy: 'fanout',
      hold: { id: 4, queue: 'arn:aws:sqs:us-east-1:123456789012:parked' },
    }),
    { id: `psarn:${A}:orders/latest`, kind: 'alias', label: `${A}:orders/latest`, zone: ZONE, ttl: 60, serial: 5 },
    { id: `psarn:${A}:orders/gone`, kind: 'route', label: `${A}:orders/gone`, zone: ZONE, missing: true },
    route(`${B}:billing/invoice`, ZONE2),
    { id: `target:${L('v1')}`, kind: 'target', label: L('v1') },
    { id: `target:${L('v2')}`, kind: 'target', label: L('v2') },
    { id: `target:${L('backup')}`, kind: 'target', label: L('backup') },
    {
      id: 'target:arn:aws:sqs:us-east-1:123456789012:parked',
      kind: 'target',
      label: 'arn:aws:sqs:us-east-1:123456789012:parked',
    },
    { id: 'target:https://b.example.com/x?token=…', kind: 'target', label: 'https://b.example.com/x?token=…' },
  ];
  const created = `psarn:${A}:orders/created`;
  return {
    generatedAt: 0,
    nodes: nodes.sort((a, b) => (a.id < b.id ? -1 : 1)),
    edges: [
      ...HOSTILE.map((c) => ({ from: `caller:${c}`, to: created, kind: 'calls' as const, lookups: 1, lastSeen: 1 })),
      { from: 'caller:checkout', to: `psarn:${A}:orders/latest`, kind: 'calls', lookups: 12, lastSeen: 2 },
      {
        from: created,
        to: `target:${L('v1')}`,
        kind: 'routes',
        weight: 7500,
        priority: 10,
        share: 0.75,
        role: 'primary',
      },
      {
        from: created,
        to: `target:${L('v2')}`,
        kind: 'routes',
        weight: 2500,
        priority: 10,
        share: 0.25,
        role: 'primary',
      },
      {
        from: created,
        to: `target:${L('backup')}`,
        kind: 'routes',
        weight: 1,
        priority: 20,
        share: 0,
        role: 'failover',
      },
      {
        from: `psarn:${A}:payments/charge`,
        to: 'target:arn:aws:sqs:us-east-1:123456789012:parked',
        kind: 'routes',
        weight: 1,
        priority: 10,
        share: 1,
        role: 'primary',
      },
      {
        from: `psarn:${B}:billing/invoice`,
        to: 'target:https://b.example.com/x?token=…',
        kind: 'routes',
        weight: 0,
        priority: 10,
        share: 0,
        role: 'drained',
      },
      { from: `psarn:${A}:orders/latest`, to: created, kind: 'alias' },
      { from: `psarn:${A}:orders/latest`, to: `psarn:${A}:orders/gone`, kind: 'alias' },
    ],
  };
}

/** The text of an SVG element as XML escapes it. */
function unxml(s: string): string {
  return s.replace(/&(#\d+|#x[0-9a-f]+|quot|amp|lt|gt|apos);/gi, (_, e: string) => {
    const named: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
    if (e[0] !== '#') return named[e.toLowerCase()]!;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

/**
 * The node name Graphviz reads from a quoted id as dotId writes it: only `\"` is an escape in a
 * DOT string, so the name keeps the doubled backslashes and the `\xNN` of control characters.
 */
function dotName(id: string): string {
  return dotId(id)
    .slice(1, -1)
    .replace(/\\(["\\])/g, (m, c: string) => (c === '"' ? '"' : m));
}

function keep(name: string, text: string): void {
  mkdirSync(artifactsDir(), { recursive: true });
  writeFileSync(join(artifactsDir(), name), text);
}

describe('renderDot', () => {
  it('writes ids Graphviz reads back one for one: quoted, escaped, injective', () => {
    const ids = ['a\\', 'a\\\\', 'a"', 'a\\"', 'a\n', 'a\\x0a', 'a\u0000'];
    const written = ids.map(dotId);
    assert.equal(new Set(written).size, ids.length);
    for (const w of written) {
      assert.match(w, /^"(?:[^"\\\u0000-\u001f]|\\.)*"$/u, `${w} is one quoted DOT string`);
    }
  });

  it('renders with dot -Tsvg: every node by its title, every edge, a cluster per zone', (t) => {
    if (!skipUnlessTool(t, 'dot')) return;
    const g = fixture();
    const text = renderDot(g);
    assert.match(text, /^digraph psarn \{\n {2}rankdir=LR;/);
    const r = spawnSync('dot', ['-Tsvg'], { input: text, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warning from dot');
    keep('graph.svg', r.stdout);
    const titles = (cls: string) =>
      [...r.stdout.matchAll(new RegExp(`<g id="[^"]*" class="${cls}">\\s*<title>([^<]*)</title>`, 'g'))].map((m) =>
        unxml(m[1]!),
      );
    assert.deepEqual(titles('node').sort(), g.nodes.map((n) => dotName(n.id)).sort());
    assert.equal(titles('edge').length, g.edges.length);
    assert.deepEqual(titles('cluster').sort(), [`cluster_${ZONE2}`, `cluster_${ZONE}`].sort());
    // Labels: the hostile text shows as written, `\N` not replaced by the node's name.
    const texts = [...r.stdout.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => unxml(m[1]!));
    assert.ok(texts.includes('\\N and \\G'), 'the label \\N and \\G as written');
    assert.ok(texts.includes('a"b'));
    assert.ok(texts.includes('line\\u{2028}sep\\x07bell'), 'control and separator characters shown escaped');
    assert.ok(texts.includes('75%') && texts.includes('failover p20') && texts.includes('drained'));
    assert.ok(texts.some((s) => s.startsWith('rollout #3 running 25% → ')));
    assert.ok(texts.some((s) => s.startsWith('gate: sum(rate(errors{fn="v2"}[5m])) > 0')));
    assert.ok(texts.includes('hold #4 → arn:aws:sqs:us-east-1:123456789012:parked'));
  });

  it('colours rollouts and holds', () => {
    const text = renderDot(fixture());
    assert.match(text, /"psarn:[^"]*orders\/created" \[[^\]]*color="darkorange"/);
    assert.match(text, /"psarn:[^"]*payments\/charge" \[[^\]]*color="firebrick"/);
    assert.match(text, /"psarn:[^"]*orders\/latest" \[shape=box, style="rounded,dashed"/);
  });
});

describe('renderMermaid', () => {
  let browser: Browser | undefined;
  let page: Page | undefined;
  after(async () => {
    await browser?.close();
  });

  /** A page with Mermaid's browser build loaded, once. */
  async function mermaidPage(t: Parameters<typeof launchChromium>[0]): Promise<Page | undefined> {
    if (page !== undefined) return page;
    browser = await launchChromium(t);
    if (browser === undefined) return undefined;
    page = await browser.newPage();
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ path: join(projectRoot, 'node_modules/mermaid/dist/mermaid.min.js') });
    await page.evaluate(() => {
      (globalThis as unknown as { mermaid: { initialize(o: object): void } }).mermaid.initialize({
        startOnLoad: false,
        securityLevel: 'strict',
      });
    });
    return page;
  }

  /** Mermaid's verdict on `text`: 'ok', or the parser's message. */
  async function parse(p: Page, text: string): Promise<string> {
    return p.evaluate(async (t) => {
      try {
        await (globalThis as unknown as { mermaid: { parse(t: string): Promise<unknown> } }).mermaid.parse(t);
        return 'ok';
      } catch (err) {
        return String((err as Error).message ?? err);
      }
    }, text);
  }

  it('uses generated ids and entity-coded labels', () => {
    const text = renderMermaid(fixture());
    assert.match(text, /^flowchart LR\n/);
    for (const line of text.split('\n').slice(1)) {
      assert.match(line, /^( {2,4}(n\d+|subgraph z\d+|end|classDef|class |n\d+ -)|$)/, `line ${JSON.stringify(line)}`);
    }
    assert.equal(mermaidLabel(['a"b#c[d]']), '"a#34;b#35;c#91;d#93;"');
    assert.match(text, /classDef rollout /);
    assert.match(text, /classDef hold /);
    assert.match(text, /class n\d+ rollout/);
  });

  it('is accepted by the Mermaid parser, hostile ids included; a broken text is not', async (t) => {
    const p = await mermaidPage(t);
    if (p === undefined) return;
    assert.equal(await parse(p, renderMermaid(fixture())), 'ok');
    // The check can fail: an unescaped quote and an unclosed bracket are parse errors.
    assert.match(await parse(p, 'flowchart LR\n  n0["a"b"] --> n1'), /Parse error/);
    assert.match(await parse(p, 'flowchart LR\n  n0["a"] -->|"x"| n1["b"'), /Parse error/);
  });

  it('renders in the browser with each label as written and the marks as classes', async (t) => {
    const p = await mermaidPage(t);
    if (p === undefined) return;
    const g = fixture();
    const svg = await p.evaluate(async (text) => {
      const m = (globalThis as unknown as { mermaid: { render(id: string, t: string): Promise<{ svg: string }> } })
        .mermaid;
      return (await m.render('psarnGraph', text)).svg;
    }, renderMermaid(g));
    keep('graph-mermaid.svg', svg);
    const shown = await p.evaluate((s) => {
      // Browser code: the DOM types are not in this project's lib, so the few used are named here.
      interface El {
        innerHTML: string;
        textContent: string | null;
        getAttribute(name: string): string | null;
        querySelectorAll(q: string): ArrayLike<El>;
        append(e: El): void;
        remove(): void;
      }
      const doc = (globalThis as unknown as { document: { createElement(t: string): El; body: El } }).document;
      const box = doc.createElement('div');
      box.innerHTML = s;
      doc.body.append(box);
      const nodes = Array.from(box.querySelectorAll('g.node')).map((n) => ({
        text: n.textContent ?? '',
        classes: n.getAttribute('class') ?? '',
      }));
      const scripts = box.querySelectorAll('img, script').length;
      box.remove();
      return { nodes, scripts };
    }, svg);
    assert.equal(shown.nodes.length, g.nodes.length);
    assert.equal(shown.scripts, 0, 'no element made from a caller id');
    const texts = shown.nodes.map((n) => n.text.replace(/\s+/g, ' ').trim());
    for (const c of [
      'a"b',
      '[]{}()<>|`',
      '<img src=x onerror=alert(1)>',
      '#quot;#35;',
      'x -->|pwn| y',
      'δοκιμή ✓',
      'end',
    ]) {
      assert.ok(texts.includes(c), `caller ${JSON.stringify(c)} shown as written, in ${JSON.stringify(texts)}`);
    }
    const classesOf = (part: string) => shown.nodes.find((n) => n.text.includes(part))?.classes ?? '';
    assert.match(classesOf('orders/created'), /\brollout\b/);
    assert.match(classesOf('payments/charge'), /\bhold\b/);
    assert.match(classesOf('orders/gone'), /\bmissing\b/);
  });
});
