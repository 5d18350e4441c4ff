/**
 * TSIG against the real daemon with the real tools (issue 10): `dig -y` and `kdig -y` get signed
 * replies that they verify; a wrong secret is BADSIG, an unknown key BADKEY; a query signed with
 * an old time (our own encoder, clock injected) is BADTIME, signed, with the server's time. No
 * secret reaches the log or the metrics. Skipped locally without dig/kdig, failing in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { encodeQuery } from '../../src/wire/message.js';
import { findTsig, makeTsigKey, readTsig, signMessageMac, TsigError, verifyMessage } from '../../src/wire/tsig.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { udpRaw } from '../helpers/dns.js';
import { skipUnlessTool } from '../helpers/tools.js';

const run = promisify(execFile);
const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal';
const S256 = randomBytes(32).toString('base64');
const S512 = randomBytes(64).toString('base64');
const WRONG = randomBytes(32).toString('base64');
const key256 = makeTsigKey('transfer-key', 'hmac-sha256', S256);

describe('TSIG with dig and kdig against psarnd', () => {
  let d: RunningDaemon;
  const dig = async (...args: string[]) =>
    (await run('dig', [`@${d.dns.host}`, '-p', String(d.dns.port), '+time=2', '+tries=1', ...args])).stdout;
  const kdig = async (...args: string[]) =>
    (await run('kdig', [`@${d.dns.host}`, '-p', String(d.dns.port), '+time=2', '+retry=0', ...args])).stdout;

  before(async () => {
    d = await startPsarnd({
      env: { PSARN_TSIG_KEYS: `transfer-key:${S256},hmac-sha512:big-key:${S512}`, PSARN_LOG_LEVEL: 'debug' },
    });
  });
  after(async () => {
    await d?.stop();
  });

  for (const tcp of [false, true]) {
    it(`dig -y hmac-sha256 gets the route, signed, and verifies it (${tcp ? 'TCP' : 'UDP'})`, async (t) => {
      if (!skipUnlessTool(t, 'dig')) return;
      const out = await dig(...(tcp ? ['+tcp'] : []), '-y', `hmac-sha256:transfer-key:${S256}`, NAME, 'URI');
      assert.match(out, /status: NOERROR/);
      assert.match(out, /ANSWER: 2,/);
      assert.match(out, /transfer-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/);
      assert.doesNotMatch(out, /Couldn't verify|could not be validated|tsig verify failure/i);
    });
  }

  it('kdig -y hmac-sha512 gets the route, signed, and verifies it', async (t) => {
    if (!skipUnlessTool(t, 'kdig')) return;
    const out = await kdig('-y', `hmac-sha512:big-key:${S512}`, NAME, 'URI');
    assert.match(out, /status: NOERROR/);
    assert.match(out, /big-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha512\. \d+ 300 64 /);
    assert.doesNotMatch(out, /WARNING|failed to verify/i);
  });

  it('a wrong secret is NOTAUTH + BADSIG, unsigned (dig and kdig say so)', async (t) => {
    if (!skipUnlessTool(t, 'dig') || !skipUnlessTool(t, 'kdig')) return;
    const out = await dig('-y', `hmac-sha256:transfer-key:${WRONG}`, NAME, 'URI');
    assert.match(out, /status: NOTAUTH/);
    assert.match(out, /ANSWER: 0,/);
    assert.match(out, /TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG 0/);
    assert.match(await kdig('-y', `hmac-sha256:transfer-key:${WRONG}`, NAME, 'URI'), /status: BADSIG/);
  });

  it('an unknown key, or a known name with another algorithm, is NOTAUTH + BADKEY', async (t) => {
    if (!skipUnlessTool(t, 'dig') || !skipUnlessTool(t, 'kdig')) return;
    const out = await dig('-y', `hmac-sha256:nobody:${S256}`, NAME, 'URI');
    assert.match(out, /status: NOTAUTH/);
    assert.match(out, /nobody\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/);
    assert.match(await kdig('-y', `hmac-sha512:transfer-key:${S512}`, NAME, 'URI'), /status: BADKEY/);
  });

  it('a replayed query (signed 10 minutes ago) is NOTAUTH + BADTIME, signed, with the server time', async () => {
    const tenMinutesAgo = Date.now() - 600_000;
    const { message, mac } = signMessageMac(
      encodeQuery({ id: 77, name: `${NAME}.`, qtype: Type.URI, edns: {} }),
      key256,
      { now: () => tenMinutesAgo },
    );
    const reply = await udpRaw(d.dns, message);
    assert.ok(reply);
    assert.equal(reply.readUInt16BE(2) & 0xf, Rcode.NOTAUTH);
    assert.equal(reply.readUInt16BE(6), 0, 'no answer');
    const tsig = readTsig(reply, findTsig(reply)).record;
    assert.equal(tsig.error, TsigError.BADTIME);
    assert.equal(tsig.timeSigned, Math.floor(tenMinutesAgo / 1000), "the client's time");
    const serverTime = tsig.otherData.readUIntBE(0, 6);
    assert.ok(Math.abs(serverTime - Date.now() / 1000) < 30, `server time ${serverTime}`);
    // Signed over our request MAC: the MAC verifies, and the result is the peer's BADTIME.
    const checked = verifyMessage(reply, new Map([[key256.name, key256]]), { requestMac: mac });
    assert.equal(checked.status === 'peer-error' && checked.error, TsigError.BADTIME);
  });

  it('unsigned queries are answered as before, unsigned', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const out = await dig(NAME, 'URI');
    assert.match(out, /status: NOERROR/);
    assert.doesNotMatch(out, /TSIG/);
  });

  it('counts outcomes by result and configured key; no secret in the metrics or the log', async () => {
    const text = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
    assert.match(text, /psarn_dns_tsig_verifications_total\{result="badtime",key="transfer-key"\} [1-9]/);
    assert.match(text, /psarn_dns_responses_total\{proto="udp",rcode="NOTAUTH"\} [1-9]/);
    const all = `${text}\n${JSON.stringify(d.logs)}\n${d.stderr()}`;
    for (const secret of [S256, S512, WRONG]) assert.ok(!all.includes(secret), 'a secret was printed');
    assert.doesNotMatch(text, /nobody/, 'an unknown key name is never a label');
  });
});
