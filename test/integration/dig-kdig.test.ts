/**
 * dig and kdig against the real daemon: what ops people will actually type. Includes the
 * RFC 8906 §8 checks (dig command lines as the RFC gives them) over UDP and TCP, and TC on
 * an answer larger than the requester's UDP size. Skipped locally without dig/kdig, failing in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Type } from '../../src/wire/types.js';
import { cliOn, entryArgs, projectRoot, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';
import { skipUnlessTool } from '../helpers/tools.js';

const run = promisify(execFile);
const Z = '123456789012.us-east-1.aws.psarn.internal';
const CREATED = `created.orders.${Z}`;
const BIG = `big.fleet.${Z}`;
/** A second zone, imported: a chain of 9 CNAMEs, a loop, and a route that fits 512 bytes only without its TXT. */
const Z2 = '210987654321.eu-west-1.aws.psarn.internal';
const Z2_FILE = [
  `$ORIGIN ${Z2}.`,
  '@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 1 3600 600 86400 30',
  '@ 3600 IN NS ns.psarn.internal.',
  'end.chain 60 IN URI 10 1 "arn:aws:lambda:eu-west-1:210987654321:function:end"',
  ...Array.from({ length: 9 }, (_, i) => `c${i}.chain 60 IN CNAME ${i === 8 ? 'end' : `c${i + 1}`}.chain`),
  'a.loop 60 IN CNAME b.loop',
  'b.loop 60 IN CNAME a.loop',
  // Five URI records of 84 bytes: 420 bytes; with the 45-byte route TXT the reply passes 512.
  ...Array.from(
    { length: 5 },
    (_, i) => `fit.fleet 300 IN URI 10 1 "arn:aws:lambda:eu-west-1:210987654321:function:fit-member-with-pad-${i}"`,
  ),
].join('\n');

interface Dig {
  status: string;
  flags: string[];
  text: string;
}

function parseDig(text: string): Dig {
  const status = /status: ([A-Z0-9]+)/.exec(text)?.[1] ?? '';
  const flags = (/;; flags: ([a-z ]*);/i.exec(text)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  return { status, flags, text };
}

describe('dig and kdig', () => {
  let d: RunningDaemon;
  const dig = async (...args: string[]) =>
    parseDig((await run('dig', [`@${d.dns.host}`, '-p', String(d.dns.port), '+time=2', '+tries=1', ...args])).stdout);
  const kdig = async (...args: string[]) =>
    (await run('kdig', [`@${d.dns.host}`, '-p', String(d.dns.port), '+time=2', '+retry=0', ...args])).stdout;

  before(async () => {
    d = await startPsarnd();
    // A route whose URI set is larger than 1232 bytes: 40 targets.
    const targets = Array.from({ length: 40 }, (_, i) => [
      '--target',
      `arn:aws:lambda:us-east-1:123456789012:function:fleet-member-with-a-long-name-${i}`,
    ]).flat();
    await run(
      process.execPath,
      [...entryArgs('cli'), 'route', 'set', 'arn:aws:psarn:us-east-1:123456789012:fleet/big', ...targets, '--db', d.db],
      {
        cwd: projectRoot,
      },
    );
    const file = join(d.dir, 'z2.zone');
    writeFileSync(file, `${Z2_FILE}\n`);
    await cliOn(d, 'zone', 'import', file);
    for (let i = 0; i < 100 && (await query(d.dns, BIG, Type.TXT)).answer.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 100 && (await query(d.dns, `${Z2}.`, Type.SOA)).answer.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  after(async () => {
    await d?.stop();
  });

  for (const transport of ['+notcp', '+tcp']) {
    it(`dig ${transport}: URI with the TXT in additional, flags qr aa`, async (t) => {
      if (!skipUnlessTool(t, 'dig')) return;
      const r = await dig(transport, '+norec', CREATED, 'URI');
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(r.flags, ['qr', 'aa']);
      assert.match(r.text, /ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 2/);
      assert.match(r.text, /IN\s+URI\s+10 90 "arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1"/);
      assert.match(r.text, /IN\s+TXT\s+"v=psarn1" "policy=weighted" "epoch=1"/);
      assert.match(r.text, /EDNS: version: 0, flags:; udp: 1232/);
    });

    it(`dig ${transport}: NXDOMAIN and REFUSED`, async (t) => {
      if (!skipUnlessTool(t, 'dig')) return;
      const nx = await dig(transport, `nope.${Z}`, 'URI');
      assert.equal(nx.status, 'NXDOMAIN');
      assert.ok(nx.flags.includes('aa'));
      assert.match(
        nx.text,
        /AUTHORITY SECTION:\n\S+\s+30\s+IN\s+SOA\s+ns\.psarn\.internal\. hostmaster\.psarn\.internal\./,
      );
      const refused = await dig(transport, 'example.com', 'A');
      assert.equal(refused.status, 'REFUSED');
      assert.ok(!refused.flags.includes('aa'));
      assert.ok(!refused.flags.includes('ra'));
    });
  }

  // RFC 8906 §8.1 and §8.2: the expectations as the RFC words them.
  it('RFC 8906 §8.1.1 no EDNS: NOERROR, SOA, aa, no OPT', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+noedns', 'soa', Z);
    assert.equal(r.status, 'NOERROR');
    assert.ok(r.flags.includes('aa'));
    assert.match(r.text, /IN\s+SOA\s/);
    assert.doesNotMatch(r.text, /OPT PSEUDOSECTION/);
  });
  it('RFC 8906 §8.1.2 EDNS 0: OPT version 0', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+edns=0', 'soa', Z);
    assert.equal(r.status, 'NOERROR');
    assert.match(r.text, /EDNS: version: 0/);
  });
  it('RFC 8906 §8.1.3 unknown EDNS flag: not echoed', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+edns=0', '+noednsneg', '+ednsflags=0x80', 'soa', Z);
    assert.equal(r.status, 'NOERROR');
    assert.match(r.text, /EDNS: version: 0, flags:; udp/);
    assert.doesNotMatch(r.text, /MBZ/);
  });
  it('RFC 8906 §8.1.4 unknown EDNS option: ignored, not echoed', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+edns=0', '+noednsneg', '+ednsopt=100', 'soa', Z);
    assert.equal(r.status, 'NOERROR');
    assert.match(r.text, /IN\s+SOA\s/);
    assert.doesNotMatch(r.text, /OPT=100/);
  });
  it('RFC 8906 §8.1.5/8.1.6 unknown EDNS version: BADVERS, OPT version 0, no SOA', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    for (const extra of [[], ['+ednsopt=100']]) {
      const r = await dig('+norec', '+edns=1', '+noednsneg', '+nsid', ...extra, 'soa', Z);
      assert.equal(r.status, 'BADVERS');
      assert.match(r.text, /EDNS: version: 0/);
      assert.match(r.text, /ANSWER: 0, AUTHORITY: 0/);
    }
  });
  it('RFC 8906 §8.1.7 DO=1: answers, DO echoed', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+dnssec', 'soa', Z);
    assert.equal(r.status, 'NOERROR');
    assert.match(r.text, /EDNS: version: 0, flags: do;/);
  });
  it('RFC 8906 §8.2.1 unknown type: NODATA', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+noedns', 'type1000', Z);
    assert.equal(r.status, 'NOERROR');
    assert.match(r.text, /ANSWER: 0/);
    assert.ok(r.flags.includes('aa'));
  });
  it('RFC 8906 §3.1.2 unknown opcode: NOTIMP without aa', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+noedns', '+opcode=15', 'soa', Z);
    assert.equal(r.status, 'NOTIMP');
    assert.ok(!r.flags.includes('aa'));
    assert.match(r.text, /ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0/);
  });

  it('unknown opcode with EDNS: NOTIMP with the question and an OPT (RFC 6891 §7), as Knot', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+opcode=2', CREATED, 'URI');
    assert.equal(r.status, 'NOTIMP');
    assert.match(r.text, /QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1/);
    assert.match(r.text, /EDNS: version: 0, flags:; udp: 1232/);
    assert.match(r.text, /^;created\.orders\.\S+\s+IN\s+URI$/m);
    assert.doesNotMatch(r.text, /noedns|WARNING/i);
  });
  it('no question (dig +header-only) with EDNS: FORMERR with an OPT (RFC 6891 §7)', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+header-only', CREATED);
    assert.equal(r.status, 'FORMERR');
    assert.match(r.text, /QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1/);
    assert.match(r.text, /EDNS: version: 0, flags:; udp: 1232/);
  });
  it('QTYPE 0: NOTIMP with the question and OPT, as Knot', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', CREATED, 'TYPE0');
    assert.equal(r.status, 'NOTIMP');
    assert.deepEqual(r.flags, ['qr']);
    assert.match(r.text, /QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1/);
  });
  it('RRSIG and NSEC at an alias: NODATA at the alias (RFC 4035 §2.5), as Knot', async (t) => {
    if (!skipUnlessTool(t, 'kdig')) return;
    for (const type of ['RRSIG', 'NSEC']) {
      const out = await kdig('+norec', `latest.orders.${Z}`, type);
      assert.match(out, /status: NOERROR/);
      assert.match(out, /Flags: qr aa;/);
      assert.match(out, /ANSWER: 0; AUTHORITY: 1;/);
      assert.doesNotMatch(out, /CNAME/);
    }
  });
  it('a CNAME chain over 8, and a loop: NOERROR, aa, the chain so far (RFC 1034 §4.3.2), as Knot', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const chain = await dig('+norec', `c0.chain.${Z2}`, 'URI');
    assert.equal(chain.status, 'NOERROR');
    assert.deepEqual(chain.flags, ['qr', 'aa']);
    assert.match(chain.text, /ANSWER: 8, AUTHORITY: 0,/);
    assert.match(chain.text, /^c7\.chain\.\S+\s+60\s+IN\s+CNAME\s+c8\.chain\./m);
    const loop = await dig('+norec', `a.loop.${Z2}`, 'URI');
    assert.equal(loop.status, 'NOERROR');
    assert.deepEqual(loop.flags, ['qr', 'aa']);
    assert.match(loop.text, /ANSWER: 2, AUTHORITY: 0,/);
  });
  it('a URI set that fits only without its additional TXT: sent without it, no TC (RFC 2181 §9)', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    // +nocookie: dig sends a client cookie by default, and the 28 bytes of our COOKIE reply are
    // what would not fit (next test).
    for (const edns of ['+noedns', '+bufsize=512']) {
      const r = await dig('+norec', '+ignore', '+nocookie', edns, `fit.fleet.${Z2}`, 'URI');
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(r.flags, ['qr', 'aa'], edns);
      assert.match(r.text, new RegExp(`ANSWER: 5, AUTHORITY: 0, ADDITIONAL: ${edns === '+noedns' ? 0 : 1}`), edns);
      assert.doesNotMatch(r.text, /\sTXT\s/);
    }
    const tcp = await dig('+tcp', `fit.fleet.${Z2}`, 'URI');
    assert.match(tcp.text, /ANSWER: 5, AUTHORITY: 0, ADDITIONAL: 2/);
  });

  it('a COOKIE reply is kept, and the answer that no longer fits beside it is TC, as Knot does (issue 10)', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const r = await dig('+norec', '+ignore', '+cookie', '+bufsize=512', `fit.fleet.${Z2}`, 'URI');
    assert.deepEqual(r.flags, ['qr', 'aa', 'tc']);
    assert.match(r.text, /ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1/);
    assert.match(r.text, /; COOKIE: [0-9a-f]{48} \(good\)/);
  });

  it('an answer over the UDP size is truncated (TC) and served over TCP', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const udp = await dig('+ignore', '+noedns', BIG, 'URI');
    assert.ok(udp.flags.includes('tc'), udp.text);
    assert.match(udp.text, /ANSWER: 0/);
    const over1232 = await dig('+ignore', '+bufsize=1232', BIG, 'URI');
    assert.ok(over1232.flags.includes('tc'));
    const tcp = await dig('+tcp', BIG, 'URI');
    assert.equal(tcp.status, 'NOERROR');
    assert.match(tcp.text, /ANSWER: 40,/);
    // dig without +ignore retries over TCP by itself, as resolvers do.
    const retried = await dig(BIG, 'URI');
    assert.match(retried.text, /ANSWER: 40,/);
  });

  it('kdig over UDP and TCP shows the same records', async (t) => {
    if (!skipUnlessTool(t, 'kdig')) return;
    const udp = await kdig('+notcp', CREATED, 'URI');
    const tcp = await kdig('+tcp', CREATED, 'URI');
    for (const out of [udp, tcp]) {
      assert.match(out, /status: NOERROR/);
      assert.match(out, /Flags: qr aa( rd)?;/);
      assert.match(out, /URI\s+10 10 "arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2"/);
    }
    assert.match(tcp, /\(TCP\)/);
    const alias = await kdig(`latest.orders.${Z}`, 'URI');
    assert.match(alias, /CNAME\s+created\.orders\./);
  });

  it('dig with 0x20-style mixed case gets the case echoed', async (t) => {
    if (!skipUnlessTool(t, 'dig')) return;
    const out = (await dig(`CrEaTeD.oRdErS.${Z}`, 'URI')).text;
    assert.match(out, /^;CrEaTeD\.oRdErS\./m);
    assert.match(out, /^CrEaTeD\.oRdErS\.\S+\s+300\s+IN\s+URI/m);
  });
});
