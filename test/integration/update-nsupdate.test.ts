/**
 * DNS UPDATE against the real psarnd with the real `nsupdate -y` (RFC 2136, docs/design.md#dns-update,
 * issue 10): a route added (URI + TXT), its weights changed, an alias (CNAME) added, the zone
 * flushed (`update delete _epoch.<zone> TXT`), the routes deleted. After each, `psarn route get`
 * and a DNS query see it at once (the daemon picks its own write up), a secondary's socket gets
 * the NOTIFY, and the journal row says `key:update-key`. Unsigned, another key, a bad secret and a
 * replayed (old) signature change nothing; a replayed AXFR gets no zone. Skipped locally without
 * nsupdate, failing in CI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Store } from '../../src/store/store.js';
import { Flag, Hdr } from '../../src/wire/cursor.js';
import { type DecodedMessage, decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { findTsig, makeTsigKey, readTsig, signMessageMac, TsigError } from '../../src/wire/tsig.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { addRecord, encodeUpdate } from '../../src/wire/update.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query, tcpRaw, udpRaw } from '../helpers/dns.js';
import { skipUnlessTool } from '../helpers/tools.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const SECRET = randomBytes(32).toString('base64');
const OTHER = randomBytes(32).toString('base64');
const updateKey = makeTsigKey('update-key', 'hmac-sha256', SECRET);
const CREATED = `created.orders.${Z}`;
const LATEST = `latest.orders.${Z}`;
const PSARN = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const ALIAS = 'arn:aws:psarn:us-east-1:123456789012:orders/latest';
const V1 = 'arn:aws:lambda:us-east-1:123456789012:function:v1';
const V2 = 'arn:aws:lambda:us-east-1:123456789012:function:v2';

describe('nsupdate -y against psarnd', () => {
  const secondary = createSocket('udp4');
  const notifies: DecodedMessage[] = [];
  let waiters: (() => void)[] = [];
  let d: RunningDaemon | undefined;

  before(async () => {
    secondary.bind(0, '127.0.0.1');
    await once(secondary, 'listening');
    secondary.on('message', (bytes, from) => {
      notifies.push(decodeMessage(bytes));
      const reply = Buffer.from(bytes);
      reply.writeUInt16BE(bytes.readUInt16BE(Hdr.FLAGS) | Flag.QR, Hdr.FLAGS);
      secondary.send(reply, from.port, from.address);
      for (const wake of waiters) wake();
      waiters = [];
    });
    d = await startPsarnd({
      demoRoutes: '',
      env: {
        PSARN_TSIG_KEYS: `update-key:${SECRET},other-key:${OTHER}`,
        PSARN_UPDATE_ALLOW: 'update-key',
        PSARN_NOTIFY: `127.0.0.1:${secondary.address().port}`,
      },
    });
  });
  after(async () => {
    await d?.stop();
    secondary.close();
  });

  /** Runs nsupdate with `lines` for the zone, signed with `key` (nsupdate's -y form) unless null; `-v`: over TCP. */
  async function nsupdate(lines: string[], key: string | null = `hmac-sha256:update-key:${SECRET}`, tcp = false) {
    const args = ['-t', '5', ...(tcp ? ['-v'] : []), ...(key === null ? [] : ['-y', key])];
    const child = spawn('nsupdate', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdin.end([`server ${d!.dns.host} ${d!.dns.port}`, `zone ${Z}`, ...lines, 'send', ''].join('\n'));
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    return { code, out };
  }

  const serial = async (): Promise<number | undefined> => {
    const reply = await query(d!.dns, Z, Type.SOA);
    return (reply.answer[0] as { serial?: number } | undefined)?.serial;
  };

  /** The NOTIFY for the zone with `serial`, waiting at most 2 s. */
  async function notifyWith(wanted: number): Promise<DecodedMessage | undefined> {
    const deadline = performance.now() + 2000;
    for (;;) {
      const hit = notifies.find(
        (m) => m.question[0]?.name === Z && (m.answer[0] as { serial?: number } | undefined)?.serial === wanted,
      );
      if (hit !== undefined) return hit;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The last journal row of the zone, read from the daemon's database. */
  function lastJournal() {
    const store = Store.open(d!.db, { readonly: true, create: false });
    try {
      return store.journal(Z).at(-1);
    } finally {
      store.close();
    }
  }

  /** After a change: served at once by DNS, NOTIFYed, journaled by the key. */
  async function applied(before: number | undefined): Promise<number> {
    const now = await serial();
    assert.ok(now !== undefined && now !== before, `serial ${before} -> ${now}: not served at once`);
    assert.ok(await notifyWith(now), `no NOTIFY with serial ${now}`);
    assert.equal(lastJournal()?.actor, 'key:update-key');
    return now;
  }

  it('adds a route (URI + TXT): a new zone, served at once, NOTIFYed, journaled by the key', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const run = await nsupdate([
      `update add ${CREATED} 300 URI 10 90 "${V1}"`,
      `update add ${CREATED} 300 URI 10 10 "${V2}"`,
      `update add ${CREATED} 300 TXT "v=psarn1" "policy=fanout"`,
    ]);
    assert.equal(run.code, 0, run.out);
    await applied(undefined);
    const uri = await query(d!.dns, CREATED, Type.URI);
    assert.deepEqual(
      uri.answer.map((r) => (r as { weight?: number }).weight),
      [90, 10],
    );
    const { stdout } = await cliOn(d!, 'route', 'get', PSARN);
    assert.match(stdout, /policy: +fanout/);
    assert.match(stdout, new RegExp(`10 +90 .*${V1}`));
  });

  it('changes the weights over TCP (nsupdate -v): delete each URI RR, add it back, one message', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const from = await serial();
    const run = await nsupdate(
      [
        `update delete ${CREATED} URI 10 90 "${V1}"`,
        `update delete ${CREATED} URI 10 10 "${V2}"`,
        `update add ${CREATED} 300 URI 10 50 "${V1}"`,
        `update add ${CREATED} 300 URI 10 50 "${V2}"`,
      ],
      undefined,
      true,
    );
    assert.equal(run.code, 0, run.out);
    assert.equal(await applied(from), (from ?? 0) + 1, 'one serial for the message');
    const { stdout } = await cliOn(d!, 'route', 'get', PSARN);
    assert.match(stdout, new RegExp(`10 +50 .*${V1}`));
    assert.match(stdout, new RegExp(`10 +50 .*${V2}`));
  });

  it('adds an alias (CNAME)', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const from = await serial();
    const run = await nsupdate([`update add ${LATEST} 60 CNAME ${CREATED}`]);
    assert.equal(run.code, 0, run.out);
    await applied(from);
    const { stdout } = await cliOn(d!, 'route', 'get', ALIAS);
    assert.match(stdout, new RegExp(PSARN));
    const answer = await query(d!.dns, LATEST, Type.URI);
    assert.equal(answer.answer[0]?.type, 'CNAME');
  });

  it('flushes: update delete _epoch.<zone> TXT bumps the epoch', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const epochOf = async () => {
      const reply = await query(d!.dns, `_epoch.${Z}`, Type.TXT);
      return (reply.answer[0] as { strings?: string[] } | undefined)?.strings?.[0];
    };
    const before = await epochOf();
    const from = await serial();
    const run = await nsupdate([`update delete _epoch.${Z} TXT`]);
    assert.equal(run.code, 0, run.out);
    await applied(from);
    assert.equal(await epochOf(), `epoch=${Number(before?.slice(6)) + 1}`);
    assert.equal(lastJournal()?.op, 'flush');
  });

  it('unsigned, another key, a bad secret: refused, nothing changed', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const from = await serial();
    const add = [`update add ${CREATED} 300 URI 20 1 "${V2}-backup"`];
    const unsigned = await nsupdate(add, null);
    assert.notEqual(unsigned.code, 0);
    assert.match(unsigned.out, /update failed: REFUSED/);
    const other = await nsupdate(add, `hmac-sha256:other-key:${OTHER}`);
    assert.match(other.out, /update failed: REFUSED/);
    const bad = await nsupdate(add, `hmac-sha256:update-key:${OTHER}`);
    assert.match(bad.out, /NOTAUTH\(BADSIG\)/);
    assert.equal(await serial(), from);
    const { stdout } = await cliOn(d!, 'route', 'get', PSARN);
    assert.doesNotMatch(stdout, /backup/);
  });

  it('a replayed UPDATE (signed 301 s ago) is NOTAUTH + BADTIME; nothing changed', async () => {
    const from = await serial();
    const old = Date.now() - 301_000;
    const bytes = encodeUpdate({
      id: 77,
      zone: Z,
      updates: [addRecord({ name: CREATED, ttl: 300, type: 'URI', priority: 20, weight: 1, target: `${V2}-replay` })],
    });
    const { message } = signMessageMac(bytes, updateKey, { now: () => old });
    for (const reply of [await udpRaw(d!.dns, message), (await tcpRaw(d!.dns, [message]))[0]]) {
      assert.ok(reply);
      assert.equal(decodeMessage(reply).rcode, Rcode.NOTAUTH);
      assert.equal(readTsig(reply, findTsig(reply)).record.error, TsigError.BADTIME);
    }
    assert.equal(await serial(), from);
  });

  it('a replayed AXFR (signed 301 s ago) is NOTAUTH + BADTIME, no zone data', async () => {
    const old = Date.now() - 301_000;
    const { message } = signMessageMac(encodeQuery({ id: 5, name: Z, qtype: Type.AXFR }), updateKey, {
      now: () => old,
    });
    const replies = await tcpRaw(d!.dns, [message], 2, 500);
    assert.equal(replies.length, 1);
    const reply = decodeMessage(replies[0]!);
    assert.equal(reply.rcode, Rcode.NOTAUTH);
    assert.equal(reply.answer.length, 0);
    assert.equal(readTsig(replies[0]!, findTsig(replies[0]!)).record.error, TsigError.BADTIME);
  });

  it('deletes the alias and the route in one message', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const from = await serial();
    const run = await nsupdate([`update delete ${LATEST}`, `update delete ${CREATED}`]);
    assert.equal(run.code, 0, run.out);
    await applied(from);
    await assert.rejects(cliOn(d!, 'route', 'get', PSARN), /not found/);
    assert.equal((await query(d!.dns, CREATED, Type.URI)).rcode, Rcode.NXDOMAIN);
  });

  it('counts them in psarn_dns_updates_total', async (t) => {
    if (!skipUnlessTool(t, 'nsupdate')) return;
    const text = await (await fetch(`http://${d!.http.host}:${d!.http.port}/metrics`)).text();
    assert.match(text, /psarn_dns_updates_total\{result="ok"\} 5/);
    assert.match(text, /psarn_dns_updates_total\{result="refused"\} 2/);
    assert.match(text, /psarn_dns_updates_total\{result="notauth"\} [3-9]/);
    // nsupdate -v sent its UPDATE over TCP (every other NOERROR here came over UDP).
    assert.match(text, /psarn_dns_responses_total\{proto="tcp",rcode="NOERROR"\} 1\n/);
    assert.doesNotMatch(text + JSON.stringify(d!.logs), new RegExp(SECRET.slice(0, 20).replace(/[+/]/g, '.')));
  });
});
