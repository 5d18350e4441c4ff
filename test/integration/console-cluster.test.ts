/**
 * The console API of psarnd with `workers: 2` (node:cluster): the primary serves HTTP and reads
 * the database the workers serve on a connection of its own (docs/design.md#web-console), with
 * the token; a CLI write shows in it. And the primary refuses 0.0.0.0 without a token as a
 * single process does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliOn, entryArgs, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';

const TOKEN = 'cluster-console-token-0123456789';
const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const NEW = 'arn:aws:psarn:us-east-1:123456789012:cluster/added';

describe('console API under workers: 2', () => {
  let d: RunningDaemon | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'psarn-console-cluster-'));
  after(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the primary with the token, and sees a CLI write', async () => {
    d = await startPsarnd({ args: ['--workers', '2'], env: { PSARN_HTTP_TOKEN: TOKEN }, timeoutMs: 60_000 });
    const base = `http://${d.http.host}:${d.http.port}`;
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const denied = await fetch(`${base}/api/v1/zones`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const zones = await get('/api/v1/zones');
    assert.equal(zones.status, 200);
    assert.deepEqual(
      (zones.body.zones as { name: string; routes: number }[]).map((z) => [z.name, z.routes]),
      [[ZONE, 4]],
    );
    const before = (await get('/api/v1/version')).body;
    await cliOn(d, 'route', 'set', NEW, '--target', 'arn:aws:sqs:us-east-1:123456789012:added');
    const afterSet = (await get('/api/v1/version')).body;
    assert.notEqual(afterSet.routes, before.routes);
    const routes = await get(`/api/v1/routes?zone=${encodeURIComponent(ZONE)}`);
    assert.ok((routes.body.routes as { psarn: string }[]).some((r) => r.psarn === NEW));
    const graph = await get(`/api/v1/graph?zone=${encodeURIComponent(ZONE)}`);
    assert.ok((graph.body.nodes as { id: string }[]).some((n) => n.id === `psarn:${NEW}`));
  });

  it('refuses http on 0.0.0.0 without a token: exit 1, one line, no worker forked', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSARN_')));
    const proc = spawn(
      process.execPath,
      [
        ...entryArgs('server'),
        '--db',
        join(dir, 'p.db'),
        '--listen',
        '127.0.0.1:0',
        '--http',
        '0.0.0.0:0',
        '--workers',
        '2',
      ],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
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
    assert.match(stderr, /^psarnd: config http: 0\.0\.0\.0:0 is not a loopback address and no httpToken is set; .*\n$/);
  });
});
