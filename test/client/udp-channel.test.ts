/** The resolver's long-lived UDP channel: one socket for many queries, strict matching, fast failure. */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { acceptReply, exchange } from '../../src/client/transport.js';
import { UdpChannel } from '../../src/client/udp-channel.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Type } from '../../src/wire/types.js';

const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';

/** A UDP server on 127.0.0.1 that answers every query (QR set, same id) and records source ports. */
async function echoServer(options: { wrongIdFirst?: boolean } = {}) {
  const socket = createSocket('udp4');
  const ports = new Set<number>();
  socket.on('message', (msg, rinfo) => {
    ports.add(rinfo.port);
    const reply = Buffer.from(msg);
    reply[2] = reply[2]! | 0x80;
    if (options.wrongIdFirst) {
      const forged = Buffer.from(reply);
      forged.writeUInt16BE((reply.readUInt16BE(0) + 1) & 0xffff, 0);
      socket.send(forged, rinfo.port, rinfo.address);
    }
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, ports, close: () => socket.close() };
}

function ask(channel: UdpChannel, id: number) {
  return exchange(channel.server, encodeQuery({ id, name: NAME, qtype: Type.URI }), {
    channel,
    question: { id, name: NAME, qtype: Type.URI },
    timeoutMs: 1000,
    tries: 1,
  });
}

describe('UdpChannel', () => {
  it('carries concurrent queries over one socket, each reply to its own query', async () => {
    const server = await echoServer();
    const channel = new UdpChannel({ host: '127.0.0.1', port: server.port }, acceptReply);
    const ids = Array.from({ length: 50 }, (_, i) => 1000 + i);
    const results = await Promise.all(ids.map((id) => ask(channel, id)));
    assert.deepEqual(
      results.map((r) => r.message.id),
      ids,
    );
    assert.equal(server.ports.size, 1, 'one source port');
    channel.close();
    server.close();
  });

  it('ignores a reply with a wrong id and takes the matching one', async () => {
    const server = await echoServer({ wrongIdFirst: true });
    const channel = new UdpChannel({ host: '127.0.0.1', port: server.port }, acceptReply);
    const result = await ask(channel, 4242);
    assert.equal(decodeMessage(result.reply).id, 4242);
    channel.close();
    server.close();
  });

  it('moves to a new source port after rotateAfter queries', async () => {
    const server = await echoServer();
    const channel = new UdpChannel({ host: '127.0.0.1', port: server.port }, acceptReply, { rotateAfter: 5 });
    for (let id = 1; id <= 12; id++) await ask(channel, id);
    assert.ok(server.ports.size >= 2, `ports used: ${server.ports.size}`);
    channel.close();
    server.close();
  });

  it('fails at once when nothing listens (ECONNREFUSED), then works again', async () => {
    const server = await echoServer();
    const port = server.port;
    server.close();
    const channel = new UdpChannel({ host: '127.0.0.1', port }, acceptReply);
    const started = performance.now();
    await assert.rejects(ask(channel, 7), { code: 'ERR_DNS_CONNECT' });
    assert.ok(performance.now() - started < 900, 'before the 1 s timeout');
    channel.close();
  });
});
