/**
 * The web console end to end (docs/design.md#web-console): a real psarnd with the demo routes,
 * headless Chromium (test/helpers/browser.ts) through the login page with the token, the routes
 * and the graph's nodes read from the page, a real `psarn route set` and a caller save showing
 * up without a reload, the callers view of a route, a screenshot, and not one request that
 * leaves psarnd. Then the same page on loopback without a token: no login.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { psarnToName } from '../../src/psarn/name.js';
import { Store } from '../../src/store/store.js';
import { artifactsDir, launchChromium } from '../helpers/browser.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { type FakeSqs, startFakeSqs } from '../helpers/fake-sqs.js';

const TOKEN = 'e2e-console-token-0123456789abcdef';
const ACCOUNT = 'arn:aws:psarn:us-east-1:123456789012';
const DEMO = ['orders/created', 'orders/audit', 'payments/charge', 'orders/latest'].map((p) => `${ACCOUNT}:${p}`);
const TARGETS = [
  'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1',
  'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2',
  'arn:aws:sqs:us-east-1:123456789012:orders-audit',
  'arn:aws:sns:us-east-1:123456789012:orders-audit',
  'arn:aws:lambda:us-east-1:123456789012:function:payments-charge',
  'arn:aws:lambda:us-east-1:123456789012:function:payments-charge-backup',
];
const NEW = `${ACCOUNT}:invoices/sent`;
const NEW_TARGET = 'arn:aws:lambda:us-east-1:123456789012:function:invoices-sent';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:payments-held';
/** A caller id as hostile as caller ids may be: markup that must stay text. */
const CALLER = '<img src=x onerror=alert(1)>billing';

/** Bounded waits for a page that polls every second, generous for a loaded machine. */
const WAIT_MS = 20_000;

/**
 * The page's globals as the functions below use them in the browser: the tests compile without
 * DOM types, and strings to evaluate would fail (the console's CSP forbids eval, as it should).
 * Each function is sent to the page as its source: it may use nothing from this module.
 */
interface PageGlobals {
  document: {
    getElementById(id: string): { dataset: Record<string, string | undefined>; textContent: string | null } | null;
  };
  sessionStorage: { getItem(key: string): string | null };
  psarnTestMarker?: number;
}

/** The ids of the nodes cytoscape draws (mirrored by the page in #graph's data-nodes). */
async function graphNodes(page: Page): Promise<string[]> {
  return JSON.parse((await page.getAttribute('#graph', 'data-nodes')) ?? '[]') as string[];
}

async function waitForNode(page: Page, id: string): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const g = globalThis as unknown as PageGlobals;
      return (JSON.parse(g.document.getElementById('graph')?.dataset.nodes ?? '[]') as string[]).includes(want);
    },
    id,
    { timeout: WAIT_MS },
  );
}

describe('web console in Chromium', () => {
  let browser: Browser | undefined;
  let d: RunningDaemon | undefined;
  let open: RunningDaemon | undefined;
  let sqs: FakeSqs | undefined;
  after(async () => {
    await browser?.close();
    await d?.stop();
    await open?.stop();
    await sqs?.close();
  });

  it('logs in with the token, shows the demo routes and graph, and a route set without a reload', async (t) => {
    browser = await launchChromium(t);
    if (browser === undefined) return;
    // The held queue's depth comes from SQS through the SDK's default configuration: here the
    // stand-in, named by the environment as an operator would name a local endpoint.
    sqs = await startFakeSqs();
    sqs.createQueue(QUEUE);
    sqs.send(QUEUE, ['m1', 'm2', 'm3']);
    d = await startPsarnd({
      env: {
        PSARN_HTTP_TOKEN: TOKEN,
        AWS_ENDPOINT_URL_SQS: sqs.url,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
      },
    });
    const base = `http://${d.http.host}:${d.http.port}`;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    const requests: string[] = [];
    const problems: string[] = [];
    let navigations = 0;
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      // Chromium reports each refused API read (the wrong token below) as a console error.
      if (/status of 401/.test(m.text())) return;
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });

    // The navigation carries no Bearer header: 401 with the challenge, and the page renders anyway.
    const first = await page.goto(`${base}/`);
    assert.equal(first?.status(), 401);
    await page.waitForSelector('#login:not([hidden])', { timeout: WAIT_MS });
    // A wrong token first: refused, still on the login page.
    await page.fill('#token', 'not-the-token-0123456789');
    await page.click('#login button[type=submit]');
    await page.waitForFunction(
      () => {
        const g = globalThis as unknown as PageGlobals;
        return g.document.getElementById('login-error')?.textContent?.includes('refused') === true;
      },
      undefined,
      { timeout: WAIT_MS },
    );
    await page.fill('#token', TOKEN);
    await page.click('#login button[type=submit]');
    for (const psarn of DEMO) await page.waitForSelector(`tr[data-psarn="${psarn}"]`, { timeout: WAIT_MS });

    // The graph: every demo psARN and target (a test reads cytoscape's nodes from data-nodes).
    await waitForNode(page, `psarn:${DEMO[0]}`);
    const nodes = await graphNodes(page);
    for (const psarn of DEMO) assert.ok(nodes.includes(`psarn:${psarn}`), `${psarn} in ${nodes.join(' ')}`);
    for (const target of TARGETS) assert.ok(nodes.includes(`target:${target}`), `${target} in ${nodes.join(' ')}`);
    // Weights as bars: orders/created's v1 gets 90%.
    const created = await page.textContent(`tr[data-psarn="${DEMO[0]}"]`);
    assert.match(created ?? '', /90%/);
    assert.match(created ?? '', /10%/);

    // A marker the page keeps only while it is not reloaded.
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).psarnTestMarker = 42;
    });
    await cliOn(d, 'route', 'set', NEW, '--target', NEW_TARGET, '--ttl', '30');
    await page.waitForSelector(`tr[data-psarn="${NEW}"]`, { timeout: WAIT_MS });
    await waitForNode(page, `target:${NEW_TARGET}`);

    // A caller saved to the map (as psarnd saves its in-memory map) shows in the graph and in
    // the route's callers view, as text.
    const store = Store.open(d.db, { create: false });
    try {
      const serial = store.zone('123456789012.us-east-1.aws.psarn.internal.')!.serial;
      const now = Date.now();
      store.saveCallers([
        {
          caller: CALLER,
          name: psarnToName(DEMO[0]!),
          reporter: '',
          serial,
          firstSeen: now,
          lastSeen: now,
          lookups: 3,
        },
      ]);
    } finally {
      store.close();
    }
    await waitForNode(page, `caller:${CALLER}`);
    await page.click(`button.route-link[data-psarn="${DEMO[0]}"]`);
    await page.waitForSelector('table.callers', { timeout: WAIT_MS });
    const callers = await page.textContent('#callers');
    assert.ok(callers?.includes(CALLER), callers ?? '');
    assert.match(callers ?? '', /current/);
    assert.equal(await page.locator('#callers img').count(), 0, 'a caller id is text, never markup');

    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).psarnTestMarker), 42);
    assert.equal(navigations, 1, 'one navigation: the first');
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('psarn.httpToken')),
      TOKEN,
    );

    // A rollout and a hold, as the operations panel shows them: step and gate, queue depth.
    await cliOn(d, 'rollout', 'start', DEMO[0]!, '--to', NEW_TARGET, '--steps', '10,50,100', '--every', '1h');
    await cliOn(d, 'hold', DEMO[2]!, '--queue', QUEUE);
    await page.waitForSelector('table.rollouts', { timeout: WAIT_MS });
    await page.waitForFunction(
      () => {
        const g = globalThis as unknown as PageGlobals;
        return /3 \(\+0 in flight\)/.test(g.document.getElementById('operations')?.textContent ?? '');
      },
      undefined,
      { timeout: WAIT_MS },
    );
    const ops = (await page.textContent('#operations')) ?? '';
    assert.match(ops, /1\/3: 10%/);
    assert.ok(ops.includes(QUEUE), ops);
    await waitForNode(page, `target:${QUEUE}`);

    mkdirSync(artifactsDir(), { recursive: true });
    await page.screenshot({ path: join(artifactsDir(), 'console.png'), fullPage: true });

    const outside = requests.filter((url) => !url.startsWith(`${base}/`));
    assert.deepEqual(outside, [], 'no request leaves psarnd');
    assert.ok(
      requests.every((url) => !url.includes(TOKEN)),
      'the token is in no URL',
    );
    assert.deepEqual(problems, [], 'no console error (a CSP violation would be one)');
    const logged = d.logs.map((l) => JSON.stringify(l)).join('\n') + d.stderr();
    assert.equal(logged.includes(TOKEN), false, 'the token is in no log line');
  });

  it('opens without a login on loopback when no token is set', async (t) => {
    browser ??= await launchChromium(t);
    if (browser === undefined) return;
    open = await startPsarnd();
    const page = await browser.newPage();
    await page.goto(`http://${open.http.host}:${open.http.port}/`);
    await page.waitForSelector(`tr[data-psarn="${DEMO[0]}"]`, { timeout: WAIT_MS });
    assert.equal(await page.isHidden('#login'), true);
    await page.close();
  });
});
