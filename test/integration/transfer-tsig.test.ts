/**
 * Signed zone transfers out of the real psarnd (docs/design.md#transfers, issue 10): a key of
 * `transfer.allow` gets the zone with `kdig -y` and `dig -y`, every message signed and verified
 * by the tool, named-checkzone accepts it; unsigned, another key, an unknown key and an old time
 * are refused and change nothing; `dig -y IXFR=N` after one `psarn route set` is the condensed
 * difference, signed. Skipped locally without the tools, failing in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Ede } from '../../src/wire/response.js';
import { findTsig, makeTsigKey, readTsig, signMessageMac, TsigError, verifyMessage } from '../../src/wire/tsig.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { encodeIxfrQuery } from '../../src/zonefile/transfer.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { tcpRaw, udpRaw } from '../helpers/dns.js';
import { skipUnlessTool } from '../helpers/tools.js';

const run = promisify(execFile);
const Z = '123456789012.us-east-1.aws.psarn.internal';
const ALLOWED = randomBytes(32).toString('base64');
const OTHER = randomBytes(32).toString('base64');
const allowedKey = makeTsigKey('transfer-key', 'hmac-sha256', ALLOWED);
const otherKey = makeTsigKey('other-key', 'hmac-sha256', OTHER);
const PSARN = 'arn:aws:psarn:us-east-1:123456789012:tsig/ixfr';
const TARGET = 'arn:aws:sqs:us-east-1:123456789012:ixfr-queue';

/** The EDE info codes of a reply's OPT (RFC 8914). */
function edeCodes(reply: Buffer): number[] {
  const options = decodeMessage(reply).edns?.options ?? [];
  return options.filter((o) => o.code === 15).map((o) => o.data.readUInt16BE(0));
}

describe('signed zone transfers (TSIG) with kdig and dig', () => {
  let d: RunningDaemon;
  const tool = async (name: string, ...args: string[]) =>
    (await run(name, [`@${d.dns.host}`, '-p', String(d.dns.port), ...args], { maxBuffer: 64 << 20 })).stdout;
  const serial = async (): Promise<number> => {
    const out = await tool('dig', '+short', Z, 'SOA');
    return Number(out.trim().split(/\s+/)[2]);
  };

  before(async () => {
    d = await startPsarnd({
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${ALLOWED},other-key:${OTHER}`,
        PSARN_TRANSFER_ALLOW: 'transfer-key',
      },
    });
  });
  after(async () => {
    await d?.stop();
  });

  it('kdig -y AXFR gets the whole zone, every message verified; named-checkzone accepts it', async (t) => {
    if (!skipUnlessTool(t, 'kdig') || !skipUnlessTool(t, 'named-checkzone')) return;
    const out = await tool('kdig', '-y', `hmac-sha256:transfer-key:${ALLOWED}`, '-t', 'AXFR', Z);
    assert.doesNotMatch(out, /^;; (WARNING|ERROR)/m, out);
    const records = out.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !/\sTSIG\s/.test(l));
    const soas = records.filter((l) => /\sSOA\s/.test(l));
    assert.equal(soas.length, 2, 'SOA first and last');
    assert.ok(records.length > 10, out);
    assert.match(out, /transfer-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\./);
    const file = join(d.dir, 'axfr.zone');
    writeFileSync(file, `${records.slice(0, -1).join('\n')}\n`);
    const { stdout } = await run('named-checkzone', [Z, file]);
    assert.match(stdout, /OK/);
  });

  it('dig -y AXFR gets it too, and verifies it', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const out = await tool('dig', '-y', `hmac-sha256:transfer-key:${ALLOWED}`, Z, 'AXFR');
    assert.doesNotMatch(out, /^;.*(failed|Couldn't verify|verify failure)/im, out);
    assert.match(out, /XFR size: \d+ records/);
  });

  it('unsigned AXFR is REFUSED with EDE 18 Prohibited, and changes nothing', async () => {
    const before = await serial();
    const [reply] = await tcpRaw(d.dns, [encodeQuery({ id: 1, name: `${Z}.`, qtype: Type.AXFR, edns: {} })]);
    assert.ok(reply);
    assert.equal(decodeMessage(reply).rcode, Rcode.REFUSED);
    assert.deepEqual(edeCodes(reply), [Ede.PROHIBITED]);
    assert.equal(findTsig(reply), -1, 'unsigned');
    assert.equal(await serial(), before);
  });

  it('a valid key not in transfer.allow is REFUSED, signed; kdig with it gets no zone', async (t) => {
    const { message, mac } = signMessageMac(
      encodeQuery({ id: 2, name: `${Z}.`, qtype: Type.AXFR, edns: {} }),
      otherKey,
    );
    const [reply] = await tcpRaw(d.dns, [message]);
    assert.ok(reply);
    assert.equal(decodeMessage(reply).rcode, Rcode.REFUSED);
    assert.equal(decodeMessage(reply).answer.length, 0);
    const checked = verifyMessage(reply, new Map([[otherKey.name, otherKey]]), { requestMac: mac });
    assert.equal(checked.status, 'ok', 'signed over our request MAC');
    if (!skipUnlessTool(t, 'kdig')) return;
    await assert.rejects(tool('kdig', '-y', `hmac-sha256:other-key:${OTHER}`, '-t', 'AXFR', Z), (err: Error) => {
      assert.match(err.message, /server replied with error 'REFUSED'/);
      assert.doesNotMatch(err.message, /TSIG|verif/i, 'the refusal verifies');
      return true;
    });
  });

  it('a wrong secret is NOTAUTH + BADSIG and an unknown key NOTAUTH + BADKEY', async () => {
    for (const [key, error] of [
      [makeTsigKey('transfer-key', 'hmac-sha256', OTHER), TsigError.BADSIG],
      [makeTsigKey('nobody', 'hmac-sha256', ALLOWED), TsigError.BADKEY],
    ] as const) {
      const { message } = signMessageMac(encodeQuery({ id: 3, name: `${Z}.`, qtype: Type.AXFR }), key);
      const [reply] = await tcpRaw(d.dns, [message]);
      assert.ok(reply);
      assert.equal(decodeMessage(reply).rcode, Rcode.NOTAUTH);
      assert.equal(readTsig(reply, findTsig(reply)).record.error, error);
    }
  });

  it('a replayed AXFR (signed 10 minutes ago) is NOTAUTH + BADTIME, no zone', async () => {
    const old = Date.now() - 600_000;
    const { message } = signMessageMac(encodeQuery({ id: 4, name: `${Z}.`, qtype: Type.AXFR }), allowedKey, {
      now: () => old,
    });
    const replies = await tcpRaw(d.dns, [message], 2, 500);
    assert.equal(replies.length, 1);
    assert.equal(decodeMessage(replies[0]!).rcode, Rcode.NOTAUTH);
    assert.equal(decodeMessage(replies[0]!).answer.length, 0);
    assert.equal(readTsig(replies[0]!, findTsig(replies[0]!)).record.error, TsigError.BADTIME);
  });

  it('dig -y IXFR=N after one route set is the condensed difference, signed', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const from = await serial();
    await cliOn(d, 'route', 'set', PSARN, '--target', TARGET);
    let to = from;
    for (let i = 0; i < 100 && to === from; i++) {
      await new Promise((r) => setTimeout(r, 20));
      to = await serial();
    }
    assert.notEqual(to, from);
    const out = await tool('dig', '+tcp', '-y', `hmac-sha256:transfer-key:${ALLOWED}`, Z, `IXFR=${from}`);
    assert.doesNotMatch(out, /^;.*(failed|Couldn't verify|verify failure)/im, out);
    const records = out.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !/\sTSIG\s/.test(l));
    const soaSerials = records.filter((l) => /\sSOA\s/.test(l)).map((l) => Number(l.split(/\s+/)[6]));
    // RFC 1995 §4: new SOA, old SOA, deletions, new SOA, additions, new SOA.
    assert.deepEqual(soaSerials, [to, from, to, to]);
    assert.ok(
      records.some((l) => l.includes(TARGET)),
      out,
    );
    assert.ok(records.length < 12, `condensed, not the whole zone:\n${out}`);
    assert.match(out, /transfer-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\./);

    // Over UDP the difference is one reply, signed over the request MAC (RFC 8945 §5.3).
    const { message, mac } = signMessageMac(encodeIxfrQuery(`${Z}.`, from, 9), allowedKey);
    const reply = await udpRaw(d.dns, message);
    assert.ok(reply);
    const decoded = decodeMessage(reply);
    assert.equal(decoded.rcode, Rcode.NOERROR);
    assert.ok(decoded.answer.length > 4 && decoded.answer.length < 12, `${decoded.answer.length} records`);
    const checked = verifyMessage(reply, new Map([[allowedKey.name, allowedKey]]), { requestMac: mac });
    assert.equal(checked.status, 'ok');
    // The same over UDP unsigned: REFUSED, Prohibited.
    const refused = await udpRaw(d.dns, encodeIxfrQuery(`${Z}.`, from, 10));
    assert.equal(decodeMessage(refused!).rcode, Rcode.REFUSED);
  });

  it('the catalog zone transfers under the same ACL: kdig -y AXFR, IXFR falls back to AXFR', async (t) => {
    if (!skipUnlessTool(t, 'kdig') || !skipUnlessTool(t, 'named-checkzone')) return;
    const CAT = 'catalog.psarn.internal';
    const out = await tool('kdig', '-y', `hmac-sha256:transfer-key:${ALLOWED}`, '-t', 'AXFR', CAT);
    assert.doesNotMatch(out, /^;; (WARNING|ERROR)/m, out);
    const records = out.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !/\sTSIG\s/.test(l));
    assert.equal(records.filter((l) => /\sSOA\s/.test(l)).length, 2);
    assert.ok(
      records.some((l) => /^version\.catalog\.psarn\.internal\.\s+0\s+IN\s+TXT\s+"2"/.test(l)),
      out,
    );
    assert.ok(
      records.some((l) => new RegExp(`\\sPTR\\s+${Z.replaceAll('.', '\\.')}\\.`).test(l)),
      out,
    );
    const file = join(d.dir, 'catalog.zone');
    writeFileSync(file, `${records.slice(0, -1).join('\n')}\n`);
    assert.match((await run('named-checkzone', [CAT, file])).stdout, /OK/);
    // IXFR from an old serial: the whole catalog in AXFR form (it has no journal).
    const ixfr = await tool('kdig', '-y', `hmac-sha256:transfer-key:${ALLOWED}`, `IXFR=0`, CAT);
    assert.doesNotMatch(ixfr, /^;; (WARNING|ERROR)/m, ixfr);
    const ixfrRecords = ixfr.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !/\sTSIG\s/.test(l));
    assert.deepEqual(ixfrRecords, records);
    // Unsigned: REFUSED.
    const [reply] = await tcpRaw(d.dns, [encodeQuery({ id: 5, name: `${CAT}.`, qtype: Type.AXFR })]);
    assert.equal(decodeMessage(reply!).rcode, Rcode.REFUSED);
  });
});
