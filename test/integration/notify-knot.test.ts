/**
 * A real Knot DNS as a secondary of psarnd (docs/design.md#notify): after a `psarn route set`,
 * Knot logs the NOTIFY as accepted, for the new serial, and psarnd counts it answered. Knot then
 * tries a transfer, which this psarnd (no transfer.allow) refuses: only the NOTIFY is asserted here
 * (secondary-knot.test.ts runs the whole chain with a key).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { stopKnot } from '../helpers/knot.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const PSARN = 'arn:aws:psarn:us-east-1:123456789012:notify/knot';
const TARGET = 'arn:aws:sqs:us-east-1:123456789012:q1';

/** Knot as a secondary of `primaryPort` for Z, taking NOTIFY from 127.0.0.1, logging at info to stderr. */
function secondaryConfig(port: number, primaryPort: number, dir: string): string {
  return [
    'server:',
    `    listen: 127.0.0.1@${port}`,
    `    rundir: ${dir}`,
    '    background-workers: 1',
    '    udp-workers: 1',
    '    tcp-workers: 1',
    'database:',
    `    storage: ${dir}`,
    'remote:',
    '  - id: psarnd',
    `    address: 127.0.0.1@${primaryPort}`,
    'acl:',
    '  - id: notify-from-psarnd',
    '    address: 127.0.0.1',
    '    action: notify',
    'log:',
    '  - target: stderr',
    '    any: info',
    'zone:',
    `  - domain: ${Z.slice(0, -1)}`,
    '    master: psarnd',
    '    acl: notify-from-psarnd',
    `    storage: ${dir}`,
    '',
  ].join('\n');
}

describe('Knot as a secondary of psarnd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-notify-knot-'));
  let d: RunningDaemon | undefined;
  let knot: ChildProcess | undefined;
  after(async () => {
    await stopKnot(knot);
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the NOTIFY of a route set, for the new serial, within 2 s', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    const knotPort = await freePort();
    d = await startPsarnd({ env: { PSARN_NOTIFY: `127.0.0.1:${knotPort}` } });
    const storage = join(dir, 'knot');
    mkdirSync(storage);
    const config = join(dir, 'knot.conf');
    writeFileSync(config, secondaryConfig(knotPort, d.dns.port, storage));
    let log = '';
    let wake: (() => void) | undefined;
    knot = spawn(toolPath('knotd')!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
      log += s;
      wake?.();
    });
    /** Waits up to `ms` for a log line matching `pattern`. */
    const logged = async (pattern: RegExp, ms: number): Promise<RegExpExecArray | null> => {
      const deadline = performance.now() + ms;
      for (;;) {
        const hit = pattern.exec(log);
        if (hit !== null || performance.now() >= deadline || knot!.exitCode !== null) return hit;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - performance.now());
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    };
    assert.ok(await logged(/server started/, 10_000), `knotd did not start: ${log}`);

    const { stdout } = await cliOn(d, 'route', 'set', PSARN, '--target', TARGET);
    const serial = Number(/\(zone \S+ serial (\d+)\)/.exec(stdout)?.[1]);
    assert.ok(serial > 1, stdout);
    const zone = Z.replaceAll('.', '\\.');
    const accepted = await logged(
      new RegExp(`\\[${zone}\\] notify, incoming, remote 127\\.0\\.0\\.1@\\d+, serial ${serial}\\b`),
      2000,
    );
    assert.ok(accepted, `Knot did not log the NOTIFY for serial ${serial}:\n${log}`);
    // Knot answered it: psarnd counts it acknowledged.
    const peer = `127.0.0.1:${knotPort}`;
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
      if (new RegExp(`psarn_notify_sent_total\\{peer="${peer}",result="acked"\\} [1-9]`).test(text)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(text, new RegExp(`psarn_notify_sent_total\\{peer="${peer}",result="acked"\\} [1-9]`));
  });
});
