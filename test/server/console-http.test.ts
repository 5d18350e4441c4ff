/**
 * The console on psarnd's HTTP port (src/server/console-http.ts, console-auth.ts), in-process on
 * 127.0.0.1 port 0: the token on /api/ (401 without it or with a wrong one, 200 with it), the
 * probes and /metrics open, the static page with its CSP and content types, no token in any log
 * line, and the refusal to serve beyond loopback without a token.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { type Config, ConfigError, defaultConfig } from '../../src/config/config.js';
import { BearerCheck, checkHttpExposure, isLoopbackHost } from '../../src/server/console-auth.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { entryArgs, projectRoot } from '../helpers/daemon.js';
import { tempDir } from '../store/helpers.js';

const TOKEN = 'console-test-token-0123456789abcdef';
const tmp = tempDir();
after(tmp.cleanup);

function config(db: string, httpToken: string | undefined): Config {
  return {
    ...defaultConfig(projectRoot),
    db,
    listen: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    demoRoutes: join(projectRoot, 'config', 'demo-routes.yaml'),
    routeIndex: false,
    udpIo: 'dgram',
    httpToken,
  };
}

function logger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => lines.push(s) }), lines };
}

describe('isLoopbackHost', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['::ffff:10.0.0.1', false],
    ['example.com', false],
    ['localhost.example.com', false],
  ];
  for (const [host, loopback] of cases) it(`${host} → ${loopback}`, () => assert.equal(isLoopbackHost(host), loopback));

  it('refuses a non-loopback http without a token, naming the key and the fix', () => {
    assert.throws(
      () => checkHttpExposure({ host: '0.0.0.0', port: 9153 }, undefined),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.key === 'httpToken' &&
        /0\.0\.0\.0:9153 is not a loopback address/.test(err.message) &&
        /PSARN_HTTP_TOKEN/.test(err.message),
    );
    checkHttpExposure({ host: '0.0.0.0', port: 9153 }, TOKEN);
    checkHttpExposure({ host: '127.0.0.1', port: 9153 }, undefined);
  });
});

describe('BearerCheck', () => {
  const check = new BearerCheck(TOKEN);
  it('takes exactly `Bearer <token>`, the scheme in any case', () => {
    assert.equal(check.matches(`Bearer ${TOKEN}`), true);
    assert.equal(check.matches(`bearer ${TOKEN}`), true);
    for (const bad of [
      undefined,
      '',
      TOKEN,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      `Bearer ${TOKEN} extra`,
      'Bearer',
    ]) {
      assert.equal(check.matches(bad), false, String(bad));
    }
  });
});

describe('psarnd with httpToken', () => {
  let d: Daemon | undefined;
  const { log, lines } = logger();
  let base = '';
  before(async () => {
    d = await startDaemon(config(tmp.file('token.db'), TOKEN), { log });
    base = `http://${d.http!.host}:${d.http!.port}`;
  });
  after(async () => {
    await d?.close();
  });

  it('answers /api/ 401 with a Bearer challenge without a token or with a wrong one, 200 with it', async () => {
    const none = await fetch(`${base}/api/v1/zones`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="psarn"');
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'ERR_UNAUTHORIZED');
    const wrong = await fetch(`${base}/api/v1/zones`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="psarn", error="invalid_token"');
    await wrong.body?.cancel();
    const basic = await fetch(`${base}/api/v1/zones`, { headers: { authorization: `Basic ${btoa(`u:${TOKEN}`)}` } });
    assert.equal(basic.status, 401);
    await basic.body?.cancel();
    const ok = await fetch(`${base}/api/v1/zones`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    assert.match(ok.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await ok.json()) as { zones: { name: string; routes: number }[] };
    assert.deepEqual(
      body.zones.map((z) => [z.name, z.routes]),
      [['123456789012.us-east-1.aws.psarn.internal.', 4]],
    );
    // Any path under /api/ needs it, an unknown one too.
    assert.equal((await fetch(`${base}/api/v2/anything`)).status, 401);
  });

  it('keeps /metrics, /health and /ready open', async () => {
    for (const path of ['/metrics', '/health', '/ready']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
  });

  it('serves the page (no data in it) with a strict CSP, its assets with their types and ETags', async () => {
    // With a token the page needs it too: without, 401 with the challenge, and the page as the
    // body (it asks for the token); with it, 200. The scripts under /console/ are public code.
    const challenged = await fetch(`${base}/`);
    assert.equal(challenged.status, 401);
    assert.equal(challenged.headers.get('www-authenticate'), 'Bearer realm="psarn"');
    assert.match(await challenged.text(), /<script type="module" src="\/console\/app\.js"><\/script>/);
    const wrongPage = await fetch(`${base}/index.html`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrongPage.status, 401);
    await wrongPage.body?.cancel();
    const page = await fetch(`${base}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/console\/app\.js"><\/script>/);
    assert.doesNotMatch(html, /orders|arn:aws/, 'the page carries no data');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from elsewhere');
    const js = await fetch(`${base}/console/app.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const etag = js.headers.get('etag')!;
    await js.body?.cancel();
    // fetch asks for gzip: the bundle comes compressed, and as it is to a client that does not.
    assert.equal(js.headers.get('content-encoding'), 'gzip');
    const plain = await fetch(`${base}/console/app.js`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('content-encoding'), null);
    assert.match(await plain.text(), /cytoscape|Cytoscape/);
    const again = await fetch(`${base}/console/app.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const css = await fetch(`${base}/console/app.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    await css.body?.cancel();
    for (const path of ['/console/nope.js', '/console/../package.json', '/console/%2e%2e/package.json']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
  });

  it('refuses other methods', async () => {
    const res = await fetch(`${base}/api/v1/zones`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 405);
    await res.body?.cancel();
  });

  it('writes the token in no log line', () => {
    assert.ok(lines.length > 3, 'psarnd logged');
    const leaked = lines.filter((l) => l.includes(TOKEN) || l.includes(TOKEN.slice(0, 16)));
    assert.deepEqual(leaked, []);
  });
});

describe('psarnd without httpToken', () => {
  it('serves everything on loopback without a token', async () => {
    const d = await startDaemon(config(tmp.file('open.db'), undefined), { log: pino({ level: 'silent' }) });
    try {
      const res = await fetch(`http://${d.http!.host}:${d.http!.port}/api/v1/zones`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      await d.close();
    }
  });

  it('refuses to start with http on 0.0.0.0, before binding anything or creating the database', async () => {
    const db = tmp.file('refused.db');
    await assert.rejects(
      startDaemon({ ...config(db, undefined), http: { host: '0.0.0.0', port: 0 } }, { log: pino({ level: 'silent' }) }),
      (err: unknown) => err instanceof ConfigError && err.key === 'httpToken',
    );
    assert.equal(existsSync(db), false);
  });

  it('psarnd --http 0.0.0.0:0 without PSARN_HTTP_TOKEN exits 1 with one line on stderr', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSARN_')));
    const proc = spawn(
      process.execPath,
      [...entryArgs('server'), '--db', tmp.file('cli-refused.db'), '--listen', '127.0.0.1:0', '--http', '0.0.0.0:0'],
      { cwd: tmp.dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    proc.stdout.resume();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      'psarnd: config http: 0.0.0.0:0 is not a loopback address and no httpToken is set; set httpToken (env PSARN_HTTP_TOKEN, e.g. $(openssl rand -hex 32)) or serve http on 127.0.0.1\n',
    );
  });
});
