/**
 * The resolver's UDP channel: a small pool of sockets for many queries, each socket retired
 * after a bounded number of queries or time (RFC 5452 §9.2), strict matching per socket, fast
 * failure.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { exchange, matchReply } from '../../src/client/transport.js';
import { UdpChannel, type UdpChannelOptions } from '../../src/client/udp-channel.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Type } from '../../src/wire/types.js';

const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';

type Answer = (reply: Buffer, rinfo: RemoteInfo, send: (b: Buffer, port: number) => void) => void;

/**
 * A UDP server on 127.0.0.1 that answers every query (QR set, same id), counts queries per
 * source port, and lets a test decide where (and whether) each reply goes.
 */
async function echoServer(options: { wrongIdFirst?: boolean; answer?: Answer } = {}) {
  const socket = createSocket('udp4');
  const perPort = new Map<number, number>();
  socket.on('message', (msg, rinfo) => {
    perPort.set(rinfo.port, (perPort.get(rinfo.port) ?? 0) + 1);
    const reply = Buffer.from(msg);
    reply[2] = reply[2]! | 0x80;
    const send = (b: Buffer, port: number) => socket.send(b, port, rinfo.address);
    if (options.wrongIdFirst) {
      const forged = Buffer.from(reply);
      forged.writeUInt16BE((reply.readUInt16BE(0) + 1) & 0xffff, 0);
      send(forged, rinfo.port);
    }
    if (options.answer) options.answer(reply, rinfo, send);
    else send(reply, rinfo.port);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, perPort, close: () => socket.close() };
}

function ask(channel: UdpChannel, id: number, timeoutMs = 1000) {
  return exchange(channel.server, encodeQuery({ id, name: NAME, qtype: Type.URI }), {
    channel,
    question: { id, name: NAME, qtype: Type.URI },
    timeoutMs,
    tries: 1,
  });
}

describe('UdpChannel', () => {
  const cleanup: (() => void)[] = [];
  after(() => {
    for (const c of cleanup) c();
  });
  async function setup(options: UdpChannelOptions = {}, server: Parameters<typeof echoServer>[0] = {}) {
    const s = await echoServer(server);
    const channel = new UdpChannel({ host: '127.0.0.1', port: s.port }, matchReply, options);
    cleanup.push(
      () => channel.close(),
      () => s.close(),
    );
    return { server: s, channel };
  }

  it('carries concurrent queries over one socket, each reply to its own query', async () => {
    const { server, channel } = await setup({ sockets: 1 });
    const ids = Array.from({ length: 50 }, (_, i) => 1000 + i);
    const results = await Promise.all(ids.map((id) => ask(channel, id)));
    assert.deepEqual(
      results.map((r) => r.message.id),
      ids,
    );
    assert.equal(server.perPort.size, 1, 'one source port');
  });

  it('ignores a reply with a wrong id and takes the matching one', async () => {
    const { channel } = await setup({}, { wrongIdFirst: true });
    const result = await ask(channel, 4242);
    assert.equal(decodeMessage(result.reply).id, 4242);
  });

  it('by default no source port carries more than 64 queries, spread over several ports', async () => {
    const { server, channel } = await setup();
    for (let id = 1; id <= 300; id++) await ask(channel, id);
    const counts = [...server.perPort.values()];
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      300,
    );
    assert.ok(Math.max(...counts) <= 64, `queries per port: ${counts.join(', ')}`);
    assert.ok(server.perPort.size >= 5, `ports used: ${server.perPort.size}`);
    // Replacements are opened one query ahead: up to one per slot has not carried a query yet.
    assert.ok(channel.opened - server.perPort.size >= 0 && channel.opened - server.perPort.size <= 4);
  });

  it('retires a socket after maxQueries queries: a new source port', async () => {
    const { server, channel } = await setup({ sockets: 1, maxQueries: 5 });
    for (let id = 1; id <= 12; id++) await ask(channel, id);
    assert.deepEqual([...server.perPort.values()], [5, 5, 2]);
  });

  it('retires a socket once maxAgeMs old (injected clock), however few queries it carried', async () => {
    let now = 1_000_000;
    const { server, channel } = await setup({ sockets: 1, maxQueries: 1000, maxAgeMs: 10_000, now: () => now });
    for (let id = 1; id <= 3; id++) await ask(channel, id);
    now += 9_999;
    await ask(channel, 4);
    assert.equal(channel.opened, 1);
    now += 1;
    // The query that finds it too old opens the replacement and still goes out on the old
    // socket while that one connects; the next goes out on the new port.
    await ask(channel, 5);
    assert.equal(channel.opened, 2);
    await ask(channel, 6);
    assert.deepEqual([...server.perPort.values()], [5, 1]);
  });

  it('opens the replacement one query ahead, so a retirement costs no query a connect', async () => {
    const { server, channel } = await setup({ sockets: 1, maxQueries: 3 });
    await ask(channel, 1);
    await ask(channel, 2);
    assert.equal(channel.opened, 2, 'opened after the second of three queries');
    await ask(channel, 3);
    await ask(channel, 4);
    assert.deepEqual([...server.perPort.values()], [3, 1]);
  });

  it('a retired socket still takes the reply to its pending query, then closes', async () => {
    // The server holds the first reply until the second query (on a new socket) arrived.
    let held: { reply: Buffer; port: number } | undefined;
    const answer: Answer = (reply, rinfo, send) => {
      if (held === undefined) {
        held = { reply, port: rinfo.port };
        return;
      }
      send(reply, rinfo.port);
      send(held.reply, held.port);
    };
    const { server, channel } = await setup({ sockets: 1, maxQueries: 1 }, { answer });
    const [a, b] = await Promise.all([ask(channel, 1), ask(channel, 2)]);
    assert.equal(a.message.id, 1);
    assert.equal(b.message.id, 2);
    assert.equal(server.perPort.size, 2);
    assert.equal(channel.opened, 3, 'the two used, and the next one opened ahead');
  });

  it('a reply counts only on the socket its query went out on', async () => {
    // Two sockets, used in turn; the server answers the second query to the first one's port.
    let first: number | undefined;
    const answer: Answer = (reply, rinfo, send) => {
      first ??= rinfo.port;
      send(reply, first);
    };
    let turn = 0;
    const { channel } = await setup({ sockets: 2, pick: () => turn++ % 2 }, { answer });
    assert.equal((await ask(channel, 1)).message.id, 1);
    await assert.rejects(ask(channel, 2, 300), { code: 'ERR_DNS_TIMEOUT' });
  });

  it('fails at once when nothing listens (ECONNREFUSED), then works again', async () => {
    const server = await echoServer();
    const port = server.port;
    server.close();
    const channel = new UdpChannel({ host: '127.0.0.1', port }, matchReply, { sockets: 1 });
    cleanup.push(() => channel.close());
    const started = performance.now();
    await assert.rejects(ask(channel, 7), { code: 'ERR_DNS_CONNECT' });
    assert.ok(performance.now() - started < 900, 'before the 1 s timeout');
    assert.equal(channel.opened, 1);
    await assert.rejects(ask(channel, 8), { code: 'ERR_DNS_CONNECT' });
    assert.equal(channel.opened, 2, 'the failed socket was replaced');
  });

  it('a host name that does not resolve fails the query with ERR_DNS_CONNECT, no uncaught throw (issue 9)', async () => {
    const channel = new UdpChannel({ host: 'nohost.invalid', port: 8053 }, matchReply, { sockets: 1 });
    cleanup.push(() => channel.close());
    await assert.rejects(ask(channel, 9, 5000), { code: 'ERR_DNS_CONNECT' });
  });

  it('validates its options', () => {
    const server = { host: '127.0.0.1', port: 53 };
    assert.throws(() => new UdpChannel(server, matchReply, { sockets: 0 }), RangeError);
    assert.throws(() => new UdpChannel(server, matchReply, { maxQueries: 0 }), RangeError);
  });
});
