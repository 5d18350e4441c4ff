/**
 * The real psarnd on 127.0.0.1 with port 0, queried with the project's own codec over UDP and
 * TCP: records, flags and RCODEs of docs/design.md#records-at-a-routes-name and #protocol-details, metrics, health, lifecycle.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query, tcpRaw, udpRaw } from '../helpers/dns.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const CREATED = `created.orders.${Z}`;

describe('psarnd over UDP and TCP', () => {
  let d: RunningDaemon;
  before(async () => {
    d = await startPsarnd();
  });
  after(async () => {
    await d?.stop();
  });

  for (const tcp of [false, true]) {
    const proto = tcp ? 'TCP' : 'UDP';
    it(`${proto}: URI answers the demo canary 90/10 with the TXT in additional, AA set`, async () => {
      const m = await query(d.dns, CREATED, Type.URI, { tcp });
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.equal(m.aa, true);
      assert.equal(m.ra, false);
      assert.deepEqual(m.answer.map((r) => ('weight' in r ? `${r.priority} ${r.weight} ${r.target}` : '')).sort(), [
        '10 10 arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2',
        '10 90 arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1',
      ]);
      assert.equal(m.additional.length, 1);
      const txt = m.additional[0]!;
      assert.equal(txt.type, 'TXT');
      assert.deepEqual('strings' in txt ? txt.strings : [], ['v=psarn1', 'policy=weighted', 'epoch=1']);
      assert.equal(m.edns?.udpSize, 1232);
    });

    it(`${proto}: NXDOMAIN, NODATA, ENT and REFUSED`, async () => {
      const nx = await query(d.dns, `missing.orders.${Z}`, Type.URI, { tcp });
      assert.equal(nx.rcode, Rcode.NXDOMAIN);
      assert.equal(nx.aa, true);
      assert.equal(nx.authority[0]?.type, 'SOA');
      assert.equal(nx.authority[0]?.ttl, 30);
      const nodata = await query(d.dns, CREATED, Type.A, { tcp });
      assert.equal(nodata.rcode, Rcode.NOERROR);
      assert.equal(nodata.answer.length, 0);
      assert.equal(nodata.authority[0]?.type, 'SOA');
      const ent = await query(d.dns, `orders.${Z}`, Type.URI, { tcp });
      assert.equal(ent.rcode, Rcode.NOERROR);
      assert.equal(ent.answer.length, 0);
      const refused = await query(d.dns, 'www.example.com.', Type.A, { tcp });
      assert.equal(refused.rcode, Rcode.REFUSED);
      assert.equal(refused.aa, false);
    });
  }

  it('echoes the question case (0x20) in the question and the answer owners', async () => {
    const name = `CrEaTeD.OrDeRs.${Z.toUpperCase()}`;
    const bytes = encodeQuery({ id: 4242, name, qtype: Type.URI });
    const reply = await udpRaw(d.dns, bytes);
    assert.ok(reply);
    const m = decodeMessage(reply);
    assert.equal(m.id, 4242);
    assert.equal(m.question[0]?.name.replace(/\.$/, ''), name.replace(/\.$/, ''));
    // Answer owners are compression pointers to the question, so they carry its case on the wire.
    assert.ok(reply.subarray(12).includes(Buffer.from('CrEaTeD', 'latin1')));
    assert.equal(m.answer.length, 2);
  });

  it('follows the demo alias orders/latest', async () => {
    const m = await query(d.dns, `latest.orders.${Z}`, Type.URI);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.deepEqual(
      m.answer.map((r) => r.type),
      ['CNAME', 'URI', 'URI'],
    );
  });

  it('answers _epoch TXT with the epoch TTL', async () => {
    const m = await query(d.dns, `_epoch.${Z}`, Type.TXT);
    assert.equal(m.answer[0]?.ttl, 5);
    assert.deepEqual(m.answer[0] && 'strings' in m.answer[0] ? m.answer[0].strings : [], ['epoch=1']);
  });

  it('answers FORMERR, NOTIMP, BADVERS and REFUSED per RFC 8906', async () => {
    const good = encodeQuery({ id: 7, name: CREATED, qtype: Type.URI, edns: false });
    const two = Buffer.from(good);
    two.writeUInt16BE(2, 4); // QDCOUNT 2
    const formerr = decodeMessage((await udpRaw(d.dns, two))!);
    assert.equal(formerr.rcode, Rcode.FORMERR);
    assert.equal(formerr.id, 7);

    const status = Buffer.from(good);
    status[2] = (status[2]! & 0x87) | (2 << 3); // opcode STATUS
    assert.equal(decodeMessage((await udpRaw(d.dns, status))!).rcode, Rcode.NOTIMP);
    // UPDATE is implemented (docs/design.md#dns-update): unsigned, it is REFUSED.
    const update = Buffer.from(good);
    update[2] = (update[2]! & 0x87) | (5 << 3); // opcode UPDATE
    assert.equal(decodeMessage((await udpRaw(d.dns, update))!).rcode, Rcode.REFUSED);

    const v1 = encodeQuery({ id: 8, name: CREATED, qtype: Type.URI, edns: { version: 1 } });
    const badvers = decodeMessage((await udpRaw(d.dns, v1))!);
    assert.equal(badvers.rcode, Rcode.BADVERS);
    assert.equal(badvers.edns?.version, 0);
    assert.equal(badvers.answer.length, 0);

    const chaos = encodeQuery({ id: 9, name: CREATED, qtype: Type.TXT, qclass: 3 });
    assert.equal(decodeMessage((await udpRaw(d.dns, chaos))!).rcode, Rcode.REFUSED);
  });

  it('drops a packet shorter than a header and one with QR set, and keeps serving', async () => {
    assert.equal(await udpRaw(d.dns, Buffer.from([1, 2, 3]), 300), undefined);
    const qr = encodeQuery({ id: 10, name: CREATED, qtype: Type.URI });
    qr[2] = qr[2]! | 0x80;
    assert.equal(await udpRaw(d.dns, qr, 300), undefined);
    assert.equal((await query(d.dns, CREATED, Type.URI)).rcode, Rcode.NOERROR);
  });

  it('pipelines several queries on one TCP connection, replies in order', async () => {
    const ids = [101, 102, 103, 104, 105];
    const names = [CREATED, `audit.orders.${Z}`, `charge.payments.${Z}`, `nope.${Z}`, CREATED];
    const replies = await tcpRaw(
      d.dns,
      ids.map((id, i) => encodeQuery({ id, name: names[i]!, qtype: Type.URI })),
    );
    assert.deepEqual(
      replies.map((r) => decodeMessage(r).id),
      ids,
    );
    assert.equal(decodeMessage(replies[3]!).rcode, Rcode.NXDOMAIN);
  });

  it('serves /metrics, /health and /ready', async () => {
    const base = `http://${d.http.host}:${d.http.port}`;
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 200);
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /psarn_dns_requests_total\{proto="udp",qtype="URI"\} \d+/);
    assert.match(text, /psarn_dns_responses_total\{proto="udp",rcode="NXDOMAIN"\} \d+/);
    assert.match(text, /psarn_dns_request_duration_seconds_bucket/);
    assert.match(text, /psarn_zone_serial\{zone="123456789012\.us-east-1\.aws\.psarn\.internal\."\} \d+/);
    assert.match(text, /psarn_dns_malformed_total\{proto="udp",reason="dropped"\} [1-9]/);
    // Never the query name as a label.
    assert.doesNotMatch(text, /created\.orders/);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  });
});

describe('psarnd lifecycle', () => {
  it('reloads its config on SIGHUP and drains on SIGTERM with exit code 0', async (t) => {
    const d = await startPsarnd();
    t.after(() => d.stop()); // when an assertion fails first (stop is idempotent)
    d.proc.kill('SIGHUP');
    for (let i = 0; i < 50 && !d.logs.some((l) => l.msg === 'config reloaded'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(d.logs.some((l) => l.msg === 'config reloaded'));
    assert.equal((await query(d.dns, CREATED, Type.URI)).rcode, Rcode.NOERROR);
    assert.equal(await d.stop('SIGTERM'), 0);
    assert.ok(d.logs.some((l) => l.msg === 'psarnd stopped'));
  });

  it('writes JSON log lines only', async () => {
    const d = await startPsarnd();
    await d.stop();
    assert.ok(d.logs.length >= 3);
    for (const line of d.logs) assert.equal(typeof line.level, 'number');
  });
});
