/**
 * bench/knot.ts: Knot configured as anchors.sh configures it, on a free port; the load timed to
 * the first right answer; knotd stopped afterwards whatever the outcome.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, knotConfig, measureKnotLoad } from '../../bench/knot.js';
import { targetKey } from '../../bench/probe.js';
import { isAlive } from '../../bench/proc.js';
import { importedTargets, routeDnsName, writeZoneFile, ZONE } from '../../bench/zonefile.js';
import { skipUnlessTool } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-knot-'));
const spawned: ChildProcess[] = [];
after(() => {
  // Each test's knotd is stopped by measureKnotLoad; this only catches a failure of that.
  for (const proc of spawned) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const ROUTES = 20;
const zoneFile = join(dir, 'bench.zone');
writeZoneFile(zoneFile, ROUTES);

describe('knotConfig', () => {
  it("is anchors.sh's configuration on the given port and directory", () => {
    const text = knotConfig({ port: 40123, dir: '/d', origin: ZONE, zoneFile: '/z.zone' });
    assert.match(text, /^ {4}listen: 127\.0\.0\.1@40123$/m);
    for (const worker of ['background-workers', 'udp-workers', 'tcp-workers']) {
      assert.match(text, new RegExp(`^ {4}${worker}: 1$`, 'm'));
    }
    // The domain without its final dot, as anchors.sh writes it; the zone file as given.
    assert.match(text, new RegExp(`^ {2}- domain: ${ZONE.slice(0, -1).replaceAll('.', '\\.')}$`, 'm'));
    assert.match(text, /^ {4}file: \/z\.zone$/m);
    assert.match(text, /^ {4}journal-content: none$/m);
    assert.match(text, /^ {4}zonefile-sync: -1$/m);
    assert.match(text, /^ {4}rundir: \/d\/knot$/m);
  });
});

describe('freePort', () => {
  it('gives a port that UDP and TCP can both bind on 127.0.0.1', async () => {
    const port = await freePort();
    const udp = createSocket('udp4');
    const tcp = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', resolve);
      });
    } finally {
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });
});

describe('measureKnotLoad', () => {
  it('times knotd from spawn to the right answer, then stops it', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    const route = ROUTES - 1;
    const tracked: ChildProcess[] = [];
    const result = await measureKnotLoad({
      zoneFile,
      origin: ZONE,
      dir: join(dir, 'ok'),
      name: routeDnsName(route),
      expected: targetKey(importedTargets(route)),
      deadlineMs: 60_000,
      track: (proc) => {
        tracked.push(proc);
        spawned.push(proc);
      },
    });
    assert.ok(result.ok, `not loaded: ${result.ok ? '' : result.why}`);
    assert.ok(result.load.ms > 0 && result.load.ms < 60_000, `ms ${result.load.ms}`);
    assert.equal(tracked.length, 1);
    assert.equal(tracked[0]!.pid, result.load.pid);
    assert.equal(isAlive(result.load.pid), false, 'knotd still running after the measurement');
  });

  it('gives up at the deadline with the reason when the answer never comes right, and stops knotd', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    const tracked: ChildProcess[] = [];
    const result = await measureKnotLoad({
      zoneFile,
      origin: ZONE,
      dir: join(dir, 'wrong'),
      name: routeDnsName(0),
      expected: 'a target set no route has',
      deadlineMs: 1000,
      track: (proc) => {
        tracked.push(proc);
        spawned.push(proc);
      },
    });
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.why, /did not answer .* right within 1 s/);
    assert.equal(tracked.length, 1);
    assert.equal(isAlive(tracked[0]!.pid!), false, 'knotd still running after giving up');
  });
});
