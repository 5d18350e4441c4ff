/**
 * A real Knot DNS as a secondary of psarnd (issue 10, docs/design.md#transfers): knotd holds the
 * TSIG key, takes psarnd's catalog zone with `catalog-role: interpret`, and transfers every
 * member zone from psarnd, signed; psarnd sends it signed NOTIFYs. Initial AXFR: Knot answers a
 * route's URI exactly as psarnd; a `psarn route set` is served by Knot within 2 s, and Knot's log
 * shows an IXFR; a zone created after Knot started is served by Knot too (the catalog's NOTIFY).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { cliOn, type HostPort, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';
import { knotSecondaryConfig, stopKnot } from '../helpers/knot.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const SECRET = randomBytes(32).toString('base64');
const CAT = 'catalog.psarn.internal';
const Z = '123456789012.us-east-1.aws.psarn.internal';
const LATER = '210987654321.eu-west-1.aws.psarn.internal';
const ROUTE = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';
const CHANGED = 'arn:aws:psarn:us-east-1:123456789012:knot/changed';
const CHANGED_NAME = 'changed.knot.123456789012.us-east-1.aws.psarn.internal.';
const LATER_PSARN = 'arn:aws:psarn:eu-west-1:210987654321:later';
const LATER_NAME = 'later.210987654321.eu-west-1.aws.psarn.internal.';

/** The answer section as sorted presentation-ish lines (the same for equal RRsets). */
const answerOf = (m: DecodedMessage): string[] => m.answer.map((rr) => JSON.stringify(rr)).sort();

describe('Knot DNS as a secondary of psarnd (TSIG, AXFR, NOTIFY, IXFR, catalog)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-secondary-knot-'));
  let d: RunningDaemon | undefined;
  let knot: ChildProcess | undefined;
  let knotAt: HostPort;
  let log = '';
  let wake: (() => void) | undefined;

  after(async () => {
    await stopKnot(knot);
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
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

  /** Polls Knot (every 10 ms, up to `ms`) until `done` holds for its answer; returns it and when. */
  const knotUntil = async (
    name: string,
    qtype: number,
    done: (m: DecodedMessage) => boolean,
    ms: number,
  ): Promise<{ reply: DecodedMessage | undefined; ms: number }> => {
    const started = performance.now();
    let reply: DecodedMessage | undefined;
    while (performance.now() - started < ms) {
      try {
        reply = await query(knotAt, name, qtype, { edns: false });
        if (done(reply)) return { reply, ms: performance.now() - started };
      } catch {
        // no answer yet (knotd busy): ask again
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return { reply, ms: performance.now() - started };
  };

  it('transfers every zone, then serves a route set within 2 s by IXFR, and a zone created later', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    const knotPort = await freePort();
    knotAt = { host: '127.0.0.1', port: knotPort };
    d = await startPsarnd({
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_NOTIFY: `127.0.0.1:${knotPort} key transfer-key`,
      },
    });
    const storage = join(dir, 'knot');
    mkdirSync(storage);
    const config = join(dir, 'knot.conf');
    writeFileSync(
      config,
      knotSecondaryConfig({ port: knotPort, primaryPort: d.dns.port, dir: storage, secret: SECRET, catalog: CAT }),
    );
    knot = spawn(toolPath('knotd')!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
      log += s;
      wake?.();
    });
    assert.ok(await logged(/server started/, 10_000), `knotd did not start: ${log}`);

    // Initial AXFR of the catalog, then of its member: Knot answers the route as psarnd does.
    const primary = await query(d.dns, ROUTE, Type.URI, { edns: false });
    assert.equal(primary.rcode, Rcode.NOERROR);
    const first = await knotUntil(ROUTE, Type.URI, (m) => m.rcode === Rcode.NOERROR && m.answer.length > 0, 10_000);
    assert.ok(first.reply?.rcode === Rcode.NOERROR, `Knot does not serve ${ROUTE}:\n${log.slice(-1500)}`);
    assert.deepEqual(answerOf(first.reply!), answerOf(primary));
    const zone = Z.replaceAll('.', '\\.');
    assert.match(log, new RegExp(`\\[${zone}\\.\\] AXFR, incoming, remote 127\\.0\\.0\\.1@\\d+[^\\n]*finished`));

    // A change on the primary: NOTIFY, then IXFR, served within 2 s.
    const cliStarted = performance.now();
    const { stdout } = await cliOn(d, 'route', 'set', CHANGED, '--target', 'arn:aws:sqs:us-east-1:123456789012:knot');
    const served = await knotUntil(CHANGED_NAME, Type.URI, (m) => m.rcode === Rcode.NOERROR, 2000);
    t.diagnostic(
      `route set -> served by Knot: ${served.ms.toFixed(0)} ms after the CLI returned, ${(performance.now() - cliStarted).toFixed(0)} ms after it started`,
    );
    assert.equal(served.reply?.rcode, Rcode.NOERROR, `Knot did not serve the change within 2 s:\n${log.slice(-1500)}`);
    assert.deepEqual(answerOf(served.reply!), answerOf(await query(d.dns, CHANGED_NAME, Type.URI, { edns: false })));
    const serial = Number(/\(zone \S+ serial (\d+)\)/.exec(stdout)?.[1]);
    assert.ok(serial > 1, stdout);
    assert.ok(
      await logged(new RegExp(`\\[${zone}\\.\\] IXFR, incoming, remote 127\\.0\\.0\\.1@\\d+[^\\n]*finished`), 2000),
      `Knot's log shows no IXFR:\n${log.slice(-1500)}`,
    );
    assert.doesNotMatch(log, new RegExp(`\\[${zone}\\.\\] IXFR[^\\n]*AXFR-style`));
    assert.match(log, new RegExp(`\\[${zone}\\.\\] [^\\n]*serial \\d+ -> ${serial}\\b`));

    // A zone created after Knot started: the catalog moves, its NOTIFY brings the new member.
    await cliOn(d, 'route', 'set', LATER_PSARN, '--target', 'https://later.example/');
    const later = await knotUntil(LATER_NAME, Type.URI, (m) => m.rcode === Rcode.NOERROR, 5000);
    t.diagnostic(`zone created -> served by Knot: ${later.ms.toFixed(0)} ms`);
    assert.equal(later.reply?.rcode, Rcode.NOERROR, `Knot did not pick up ${LATER}:\n${log.slice(-1500)}`);
    assert.match(log, new RegExp(`\\[${LATER.replaceAll('.', '\\.')}\\.\\] zone added from catalog`));
    if (process.env.PSARN_SHOW_KNOT_LOG === '1') t.diagnostic(log);
  });
});
