/**
 * The remote CLI's reads against a Knot DNS secondary of psarnd (docs/cli.md#remote): Knot serves
 * the zone as plain data (its own RRset order, no route TXT in additional), psarnd serves the same
 * records (`_meta` TXT included, docs/design.md#remote-cli). `route get`, `route list` and `zone
 * export` through Knot give what they give through psarnd, targets and records compared as sets
 * (RFC 2181 §5: an RRset has no order). Skipped locally without knotd, failing in CI.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import { main } from '../../src/cli/main.js';
import { Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil } from '../helpers/dns.js';
import { knotSecondaryConfig, stopKnot } from '../helpers/knot.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const SECRET = randomBytes(32).toString('base64');
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const CREATED = 'arn:aws:psarn:us-east-1:123456789012:orders/created';

async function remote(server: string, ...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { PSARN_SERVER: server, PSARN_KEY: `hmac-sha256:transfer-key:${SECRET}` },
    cwd: tmpdir(),
  });
  return { status, stdout, stderr };
}

/** Record lines of a zone file, sorted (the head's comments left out). */
const records = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(';') && !l.startsWith('$'))
    .sort();

describe('psarn --server against a Knot secondary of psarnd: the same routes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-remote-knot-'));
  let d: RunningDaemon | undefined;
  let knot: ChildProcess | undefined;
  let log = '';
  after(async () => {
    await stopKnot(knot);
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('route get, route list and zone export read through Knot as through psarnd', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    const knotPort = await freePort();
    d = await startPsarnd({
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_NOTIFY: `127.0.0.1:${knotPort} key transfer-key`,
      },
    });
    await cliOn(d, 'route', 'set', CREATED, '--meta', 'team=orders', '--meta', 'tier=1');
    const storage = join(dir, 'knot');
    mkdirSync(storage);
    // The secondary lets the key transfer its zones out too (what route list and zone export read).
    const config = knotSecondaryConfig({ port: knotPort, primaryPort: d.dns.port, dir: storage, secret: SECRET })
      .replace('acl:\n', 'acl:\n  - id: transfer-out\n    key: transfer-key\n    action: transfer\n')
      .replaceAll('    acl: notify-from-psarnd', '    acl: [notify-from-psarnd, transfer-out]');
    writeFileSync(join(dir, 'knot.conf'), config);
    knot = spawn(toolPath('knotd')!, ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
      log += s;
    });
    // Knot serves the zone once its AXFR is done: poll (10 ms, 10 s at most) for the metadata.
    const knotAt = { host: '127.0.0.1', port: knotPort };
    const metaName = `_meta.created.orders.${Z}`;
    const served =
      (await askUntil(knotAt, metaName, (m) => m.answer.length === 2, 10_000, { qtype: Type.TXT })).reply?.answer
        .length === 2;
    assert.ok(served, `Knot does not serve the metadata:\n${log.slice(-1500)}`);

    const psarnd = `127.0.0.1:${d.dns.port}`;
    const secondary = `127.0.0.1:${knotPort}`;
    for (const psarn of [
      CREATED,
      'arn:aws:psarn:us-east-1:123456789012:orders/audit',
      'arn:aws:psarn:us-east-1:123456789012:orders/latest',
    ]) {
      const want = await remote(psarnd, 'route', 'get', psarn, '--json');
      const got = await remote(secondary, 'route', 'get', psarn, '--json');
      assert.equal(got.status, 0, got.stderr);
      const sortTargets = (text: string) => {
        const v = JSON.parse(text) as { targets: { target: string }[] };
        return { ...v, targets: [...v.targets].sort((a, b) => (a.target < b.target ? -1 : 1)) };
      };
      assert.deepEqual(sortTargets(got.stdout), sortTargets(want.stdout), psarn);
    }
    assert.match((await remote(secondary, 'route', 'get', CREATED)).stdout, /^meta team: +orders$/m);
    const list = await remote(secondary, 'route', 'list');
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout, (await remote(psarnd, 'route', 'list')).stdout);
    const exported = await remote(secondary, 'zone', 'export', Z);
    assert.equal(exported.status, 0, exported.stderr);
    assert.deepEqual(records(exported.stdout), records((await remote(psarnd, 'zone', 'export', Z)).stdout));
  });
});
