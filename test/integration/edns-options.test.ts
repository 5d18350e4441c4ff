/**
 * "Which server answered, and why", as operators ask it: dig and kdig with +nsid, +cookie and
 * +expire against the real daemon, and the Extended DNS Error they print for a REFUSED
 * (docs/design.md#edns-options). Skipped locally without dig/kdig, failing in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { skipUnlessTool } from '../helpers/tools.js';

const run = promisify(execFile);
const Z = '123456789012.us-east-1.aws.psarn.internal';
const CREATED = `created.orders.${Z}`;

describe('EDNS options through dig and kdig', () => {
  let d: RunningDaemon | undefined;
  let plain: RunningDaemon | undefined;
  const dig = async (at: RunningDaemon, ...args: string[]) =>
    (await run('dig', [`@${at.dns.host}`, '-p', String(at.dns.port), '+time=2', '+tries=1', ...args])).stdout;
  const kdig = async (at: RunningDaemon, ...args: string[]) =>
    (await run('kdig', [`@${at.dns.host}`, '-p', String(at.dns.port), '+time=2', '+retry=0', ...args])).stdout;

  before(async () => {
    d = await startPsarnd({ env: { PSARN_NSID: 'sidecar-7' } });
    plain = await startPsarnd({ env: { PSARN_NSID: 'false' } });
  });
  after(async () => {
    await d?.stop();
    await plain?.stop();
  });

  it('dig +nsid and kdig +nsid name the server; with nsid off there is none', async (t) => {
    if (!skipUnlessTool(t, 'dig') || !skipUnlessTool(t, 'kdig')) return;
    assert.match(await dig(d!, '+nsid', CREATED, 'URI'), /; NSID: .* \("sidecar-7"\)/);
    assert.match(await kdig(d!, '+nsid', CREATED, 'URI'), /;; NSID: [0-9A-F]+ "sidecar-7"/);
    assert.doesNotMatch(await dig(plain!, '+nsid', CREATED, 'URI'), /NSID/);
  });

  it('dig and kdig show EDE 20 (Not Authoritative) with a REFUSED for a name outside every zone', async (t) => {
    if (!skipUnlessTool(t, 'dig') || !skipUnlessTool(t, 'kdig')) return;
    const text = await dig(d!, 'example.com', 'A');
    assert.match(text, /status: REFUSED/);
    assert.match(text, /; EDE: 20 \(Not Authoritative\)/);
    assert.match(await kdig(d!, '+edns', 'example.com', 'A'), /;; EDE: 20 \(Not Authoritative\)/);
    // The same over TCP, and none without EDNS (there is no OPT to carry it).
    assert.match(await dig(d!, '+tcp', 'example.com', 'A'), /; EDE: 20 \(Not Authoritative\)/);
    assert.doesNotMatch(await dig(d!, '+noedns', 'example.com', 'A'), /EDE/);
  });

  it('dig +expire gets the SOA expire with the SOA', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    assert.match(await dig(d!, '+expire', `${Z}.`, 'SOA'), /; EXPIRE: 86400 \(1 day\)/);
  });

  for (const transport of ['+notcp', '+tcp']) {
    it(`dig +cookie learns a server cookie, and the second query's is good (${transport})`, async (t) => {
      if (!skipUnlessTool(t, 'dig')) return;
      const first = await dig(d!, transport, '+cookie', CREATED, 'URI');
      const cookie = /; COOKIE: ([0-9a-f]{48}) \(good\)/.exec(first)?.[1];
      assert.ok(cookie, first);
      const second = await dig(d!, transport, `+cookie=${cookie}`, CREATED, 'URI');
      // A valid server cookie under half an hour old comes back as it went (RFC 9018 §4.3).
      assert.match(second, new RegExp(`; COOKIE: ${cookie} \\(good\\)`));
      assert.match(second, /status: NOERROR/);
    });
  }

  it('a server cookie learnt over UDP is valid over TCP: both carriers bind it to the same address', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const first = await dig(d!, '+cookie', CREATED, 'URI');
    const cookie = /; COOKIE: ([0-9a-f]{48}) \(good\)/.exec(first)?.[1];
    assert.ok(cookie, first);
    assert.match(await dig(d!, '+tcp', `+cookie=${cookie}`, CREATED, 'URI'), new RegExp(`; COOKIE: ${cookie} `));
  });

  it('a bad server cookie is still answered, with a fresh one; a malformed cookie is FORMERR', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const client = '0123456789abcdef';
    const bad = await dig(d!, `+cookie=${client}${'00'.repeat(16)}`, CREATED, 'URI');
    assert.match(bad, /status: NOERROR/);
    assert.match(bad, new RegExp(`; COOKIE: ${client}01000000[0-9a-f]{24} \\(good\\)`));
    assert.match(await dig(d!, '+cookie=0011', CREATED, 'URI'), /status: FORMERR/);
  });
});
