/**
 * Thousands of mutated and malformed packets at the real daemon over UDP and TCP: it keeps
 * answering, every reply is a well-formed DNS message, and no packet hits an internal error.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query, tcpRaw } from '../helpers/dns.js';
import { prng } from '../wire/build.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';

function seeds(): Buffer[] {
  const names = [`created.orders.${Z}`, `latest.orders.${Z}`, `orders.${Z}`, `_epoch.${Z}`, Z, 'example.com.'];
  const out: Buffer[] = [];
  for (const name of names) {
    for (const qtype of [Type.URI, Type.TXT, Type.SOA, Type.ANY, Type.A]) {
      out.push(encodeQuery({ id: 1, name, qtype }));
      out.push(encodeQuery({ id: 2, name, qtype, edns: false }));
      out.push(encodeQuery({ id: 3, name, qtype, edns: { udpSize: 4096, do: true } }));
    }
  }
  // A query with a compressed answer RR pointing at the question, to exercise pointer checks.
  const q = encodeQuery({ id: 4, name: `created.orders.${Z}`, qtype: Type.URI, edns: false });
  const rr = Buffer.from([0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
  const withAnswer = Buffer.concat([q, rr]);
  withAnswer.writeUInt16BE(1, 6);
  out.push(withAnswer);
  return out;
}

function mutate(base: Buffer, rand: () => number): Buffer {
  let b = Buffer.from(base);
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const pick = rand();
    const at = Math.floor(rand() * Math.max(1, b.length));
    if (pick < 0.35 && b.length > 0) b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
    else if (pick < 0.5 && b.length > 0) b[at] = Math.floor(rand() * 256);
    else if (pick < 0.6) b = b.subarray(0, at);
    else if (pick < 0.7)
      b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), b.subarray(at)]);
    else if (pick < 0.8 && b.length >= 12) b.writeUInt16BE(Math.floor(rand() * 4), 4 + 2 * Math.floor(rand() * 4));
    else if (pick < 0.9 && b.length > 13) b[12 + Math.floor(rand() * (b.length - 12))] = 0xc0 | Math.floor(rand() * 64);
    else
      b = Buffer.concat([
        b,
        Buffer.from(Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 256))),
      ]);
  }
  // Mostly keep QR clear so the daemon parses further instead of dropping.
  if (b.length > 2 && rand() < 0.9) b[2] = b[2]! & 0x7f;
  return b;
}

function wellFormed(reply: Buffer): void {
  const m = decodeMessage(reply);
  assert.equal(m.qr, true);
  assert.ok(m.question.length <= 1);
}

describe('malformed and mutated packets', () => {
  let d: RunningDaemon;
  before(async () => {
    d = await startPsarnd();
  });
  after(async () => {
    await d?.stop();
  });

  it('UDP: 5000 mutated packets; every reply is well-formed and the daemon keeps answering', async () => {
    const rand = prng(0x5eed);
    const base = seeds();
    const socket = createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    let sent = 0;
    for (let batch = 0; batch < 50; batch++) {
      for (let i = 0; i < 100; i++) {
        socket.send(mutate(base[Math.floor(rand() * base.length)]!, rand), d.dns.port, d.dns.host);
        sent++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 300));
    socket.close();
    assert.equal(sent, 5000);
    assert.ok(replies.length > 1000, `only ${replies.length} replies`);
    for (const reply of replies) wellFormed(reply);
    assert.equal((await query(d.dns, `created.orders.${Z}`, Type.URI)).rcode, Rcode.NOERROR);
  });

  it('TCP: mutated messages on a few connections; replies are well-formed', async () => {
    const rand = prng(0xfeed);
    const base = seeds();
    for (let c = 0; c < 20; c++) {
      const messages = Array.from({ length: 25 }, () => mutate(base[Math.floor(rand() * base.length)]!, rand));
      const replies = await tcpRaw(d.dns, messages, messages.length, 500);
      for (const reply of replies) wellFormed(reply);
    }
    // Garbage framing: a length prefix promising more than is sent, then close.
    await tcpRaw(d.dns, [], 1, 200);
    assert.equal((await query(d.dns, `created.orders.${Z}`, Type.URI, { tcp: true })).rcode, Rcode.NOERROR);
  });

  it('no packet caused an internal error', async () => {
    const text = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
    assert.doesNotMatch(text, /psarn_dns_internal_errors_total\{[^}]*\} [1-9]/);
    assert.match(text, /psarn_dns_malformed_total\{proto="udp",reason="formerr"\} [1-9]/);
  });
});
