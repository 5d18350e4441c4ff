/**
 * PsarnClient against a real Knot DNS secondary of psarnd (issue 10,
 * docs/design.md#clients-against-secondaries): Knot serves plain zone data (no route TXT in
 * additional) and follows fewer CNAMEs than psarnd; the client must still give the same
 * targets, policy and epoch as against psarnd, for a weighted route, a fanout route, an alias
 * and a chain of 8 aliases.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../bench/knot.js';
import { PsarnClient } from '../../src/client/client.js';
import type { RouteTarget } from '../../src/client/types.js';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil, query } from '../helpers/dns.js';
import { knotSecondaryConfig, stopKnot } from '../helpers/knot.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const SECRET = randomBytes(32).toString('base64');
const ACCOUNT = 'arn:aws:psarn:us-east-1:123456789012';
const CREATED = `${ACCOUNT}:orders/created`;
const AUDIT = `${ACCOUNT}:orders/audit`;
const LATEST = `${ACCOUNT}:orders/latest`;
/** chain/a0 -> chain/a1 -> ... -> chain/a7 -> orders/audit: 8 CNAMEs, psarnd's whole limit. */
const CHAIN = Array.from({ length: 8 }, (_, i) => `${ACCOUNT}:chain/a${i}`);
const LAST_NAME = 'a7.chain.123456789012.us-east-1.aws.psarn.internal.';

const sorted = (targets: readonly RouteTarget[]): RouteTarget[] =>
  [...targets].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));

describe('PsarnClient against a Knot secondary of psarnd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-client-knot-'));
  let d: RunningDaemon | undefined;
  let knot: ChildProcess | undefined;
  let log = '';

  after(async () => {
    await stopKnot(knot);
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves a weighted route, a fanout route, an alias and an 8-alias chain as psarnd does', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    const knotPort = await freePort();
    const knotAt = { host: '127.0.0.1', port: knotPort };
    d = await startPsarnd({
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
        PSARN_NOTIFY: `127.0.0.1:${knotPort} key transfer-key`,
      },
    });
    // Routes before Knot starts, so its first AXFR holds them all; the flush makes the epoch > 0.
    for (let i = CHAIN.length - 1; i >= 0; i--) await cliOn(d, 'route', 'alias', CHAIN[i]!, CHAIN[i + 1] ?? AUDIT);
    await cliOn(d, 'flush', CREATED);
    const storage = join(dir, 'knot');
    mkdirSync(storage);
    const config = join(dir, 'knot.conf');
    writeFileSync(
      config,
      knotSecondaryConfig({ port: knotPort, primaryPort: d.dns.port, dir: storage, secret: SECRET }),
    );
    knot = spawn(toolPath('knotd')!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr!.setEncoding('utf8').on('data', (s: string) => {
      log += s;
    });

    // Knot serves the zone once its AXFR is done: poll (10 ms, 10 s at most) for the last alias.
    const isAlias = (m: DecodedMessage) => m.answer.some((r) => r.type === 'CNAME');
    const last = await askUntil(knotAt, LAST_NAME, isAlias, 10_000, { qtype: Type.CNAME });
    const served = last.reply !== undefined && isAlias(last.reply);
    assert.ok(served, `Knot does not serve ${LAST_NAME}:\n${log.slice(-1500)}`);

    // What the client has to make up for: no route TXT in additional, and a chain stopped short.
    const plain = await query(knotAt, 'created.orders.123456789012.us-east-1.aws.psarn.internal.', Type.URI, {
      edns: false,
    });
    assert.ok(plain.answer.some((r) => r.type === 'URI'));
    assert.ok(!plain.additional.some((r) => r.type === 'TXT'), 'Knot sent the route TXT along');
    const short = await query(knotAt, 'a0.chain.123456789012.us-east-1.aws.psarn.internal.', Type.URI, { edns: false });
    const cnames = short.answer.filter((r) => r.type === 'CNAME').length;
    t.diagnostic(`Knot follows ${cnames} of the 8 CNAMEs in one reply`);
    assert.ok(!short.answer.some((r) => r.type === 'URI'), 'Knot followed the whole chain');

    const now = () => 1_700_000_000_000;
    const fromPsarnd = new PsarnClient({ servers: [`127.0.0.1:${d.dns.port}`], now, tries: 1, timeoutMs: 2000 });
    const fromKnot = new PsarnClient({ servers: [`127.0.0.1:${knotPort}`], now, tries: 1, timeoutMs: 2000 });
    for (const psarn of [CREATED, AUDIT, LATEST, CHAIN[0]!]) {
      const want = await fromPsarnd.resolve(psarn);
      const got = await fromKnot.resolve(psarn);
      // An RRset has no order (RFC 2181 §5): Knot sends the URIs in its own; compare as sets.
      assert.deepEqual({ ...got, targets: sorted(got.targets) }, { ...want, targets: sorted(want.targets) }, psarn);
    }
    const audit = await fromKnot.resolve(AUDIT);
    assert.equal(audit.policy, 'fanout');
    assert.ok((await fromKnot.resolve(CREATED)).epoch > 0);
    assert.equal((await fromKnot.resolve(CHAIN[0]!)).policy, 'fanout');
    // psarnd sends the TXT along and follows the whole chain: one query per route.
    assert.equal(fromPsarnd.resolver.queries, 4);
    t.diagnostic(`queries for 4 routes: psarnd ${fromPsarnd.resolver.queries}, Knot ${fromKnot.resolver.queries}`);
    assert.ok(fromKnot.resolver.queries >= 8, 'Knot sends no route TXT: at least one TXT query per route');
    // Served from the cache alike: no more queries.
    const before = fromKnot.resolver.queries;
    await fromKnot.resolve(CHAIN[0]!);
    assert.equal(fromKnot.resolver.queries, before);
  });
});
