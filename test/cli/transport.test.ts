import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Socket as NetSocket, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exchange, TransportError } from '../../src/client/transport.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';

const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';
const URI = 256;
const TXT = 16;

/** A hand-made reply: header, the question echoed, one TXT answer carrying `text`. */
function reply(
  query: Buffer,
  opts: { id?: number; tc?: boolean; qtype?: number; name?: string; text?: string } = {},
): Buffer {
  const q = decodeMessage(query);
  const name = opts.name ?? q.question[0]!.name;
  const labels = name.replace(/\.$/, '').split('.');
  const qname = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(opts.id ?? q.id, 0);
  header.writeUInt16BE(0x8400 | (opts.tc ? 0x0200 : 0), 2); // QR AA (TC)
  header.writeUInt16BE(1, 4);
  const text = opts.text;
  header.writeUInt16BE(text === undefined ? 0 : 1, 6);
  const question = Buffer.concat([qname, Buffer.from([0, 0, 0, 0])]);
  question.writeUInt16BE(opts.qtype ?? q.question[0]!.qtype, qname.length);
  question.writeUInt16BE(1, qname.length + 2);
  const parts = [header, question];
  if (text !== undefined) {
    const rr = Buffer.alloc(10);
    rr.writeUInt16BE(TXT, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt32BE(60, 4);
    rr.writeUInt16BE(text.length + 1, 8);
    parts.push(Buffer.from([0xc0, 12]), rr, Buffer.from([text.length]), Buffer.from(text));
  }
  return Buffer.concat(parts);
}

/** A reply to `query` whose one TXT string claims more bytes than its rdata holds. */
function malformedTxt(query: Buffer): Buffer {
  const bad = reply(query, { text: 'ok' });
  bad[bad.length - 3] = 9; // the string's length byte: 9 > the 2 bytes left
  return bad;
}

type UdpBehaviour = (query: Buffer, send: (b: Buffer) => void, count: number) => void;

/** A fake DNS server on 127.0.0.1 (UDP and TCP on the same port) whose behaviour each test sets. */
class FakeServer {
  udp: Socket = createSocket('udp4');
  tcp: Server;
  port = 0;
  udpCount = 0;
  tcpCount = 0;
  onUdp: UdpBehaviour = () => {};
  onTcp: (query: Buffer, conn: NetSocket) => void = () => {};
  constructor() {
    this.udp.on('message', (buf: Buffer, rinfo: RemoteInfo) => {
      this.udpCount++;
      this.onUdp(buf, (b) => this.udp.send(b, rinfo.port, rinfo.address), this.udpCount);
    });
    this.tcp = createServer((conn) => {
      const decoder = new FrameDecoder();
      conn.on('data', (chunk) => {
        for (const m of decoder.push(chunk)) {
          this.tcpCount++;
          this.onTcp(m, conn);
        }
      });
      conn.on('error', () => {});
    });
  }
  async start(): Promise<void> {
    // Bind TCP on a free port, then UDP on the same number.
    for (;;) {
      await new Promise<void>((r) => this.tcp.listen(0, '127.0.0.1', r));
      const port = (this.tcp.address() as { port: number }).port;
      const ok = await new Promise<boolean>((r) => {
        this.udp.once('error', () => r(false));
        this.udp.bind(port, '127.0.0.1', () => r(true));
      });
      if (ok) {
        this.port = port;
        return;
      }
      await new Promise<void>((r) => this.tcp.close(() => r()));
      this.udp = createSocket('udp4');
    }
  }
  reset(): void {
    this.udpCount = 0;
    this.tcpCount = 0;
    this.onUdp = () => {};
    this.onTcp = () => {};
  }
  async stop(): Promise<void> {
    this.udp.close();
    await new Promise<void>((r) => this.tcp.close(() => r()));
  }
}

describe('exchange', () => {
  const fake = new FakeServer();
  let server: { host: string; port: number };
  before(async () => {
    await fake.start();
    server = { host: '127.0.0.1', port: fake.port };
  });
  after(() => fake.stop());

  const query = (qtype = URI) => encodeQuery({ id: 4242, name: NAME, qtype });

  it('returns a matching UDP reply', async () => {
    fake.reset();
    fake.onUdp = (q, send) => send(reply(q, { text: 'ok' }));
    const r = await exchange(server, query(), { timeoutMs: 2000 });
    assert.equal(r.transport, 'udp');
    assert.equal(r.message.id, 4242);
    assert.deepEqual(
      r.message.answer.map((a) => ('strings' in a ? a.strings : [])),
      [['ok']],
    );
    assert.equal(r.reply.length, r.message.size);
    assert.ok(r.rttMs >= 0);
  });

  it('ignores replies with a wrong id, name or type, and junk, then accepts the right one', async () => {
    fake.reset();
    fake.onUdp = (q, send) => {
      send(Buffer.from('junk'));
      send(reply(q, { id: 1, text: 'wrong id' }));
      send(reply(q, { name: 'other.example.', text: 'wrong name' }));
      send(reply(q, { qtype: TXT, text: 'wrong type' }));
      send(q); // the query itself: QR clear
      send(reply(q, { name: NAME.toUpperCase(), text: 'right' }));
    };
    const r = await exchange(server, query(), { timeoutMs: 2000 });
    assert.deepEqual(
      r.message.answer.map((a) => ('strings' in a ? a.strings[0] : '')),
      ['right'],
    );
  });

  it('repeats over TCP when the UDP reply is truncated', async () => {
    fake.reset();
    fake.onUdp = (q, send) => send(reply(q, { tc: true }));
    fake.onTcp = (q, conn) => {
      conn.write(frame(reply(q, { id: 7, text: 'wrong id over tcp' })));
      conn.write(frame(reply(q, { text: 'over tcp' })));
    };
    const r = await exchange(server, query(), { timeoutMs: 2000 });
    assert.equal(r.transport, 'tcp');
    assert.equal(r.message.tc, false);
    assert.deepEqual(
      r.message.answer.map((a) => ('strings' in a ? a.strings[0] : '')),
      ['over tcp'],
    );
    assert.equal(fake.udpCount, 1);
    assert.equal(fake.tcpCount, 1);
  });

  it('a matching reply whose TXT does not decode is ERR_DNS_MALFORMED at once, not a timeout', async () => {
    fake.reset();
    fake.onUdp = (q, send) => {
      const bad = reply(q, { id: 9, text: 'ok' });
      bad[bad.length - 3] = 9; // another id's garbage: ignored, not a bad answer
      send(bad);
      send(malformedTxt(q));
    };
    const started = performance.now();
    await assert.rejects(exchange(server, query(), { timeoutMs: 2000, tries: 3 }), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'ERR_DNS_MALFORMED');
      assert.match(
        err.message,
        new RegExp(`malformed reply from 127\\.0\\.0\\.1#${fake.port} over UDP to ${NAME} URI: .*TXT string`),
      );
      assert.equal((err.cause as { code?: string }).code, 'ERR_DNS_WIRE');
      return true;
    });
    assert.ok(performance.now() - started < 1500, 'before the first timeout');
    assert.equal(fake.udpCount, 1);
  });

  it('a malformed reply with TC set is truncated: asks over TCP', async () => {
    fake.reset();
    fake.onUdp = (q, send) => {
      const bad = malformedTxt(q);
      bad.writeUInt16BE(bad.readUInt16BE(2) | 0x0200, 2);
      send(bad);
    };
    fake.onTcp = (q, conn) => conn.write(frame(reply(q, { text: 'over tcp' })));
    const r = await exchange(server, query(), { timeoutMs: 2000 });
    assert.equal(r.transport, 'tcp');
    assert.equal(fake.tcpCount, 1);
  });

  it('a malformed reply over TCP is ERR_DNS_MALFORMED', async () => {
    fake.reset();
    fake.onTcp = (q, conn) => conn.write(frame(malformedTxt(q)));
    await assert.rejects(exchange(server, query(), { tcp: true, timeoutMs: 2000, tries: 2 }), {
      code: 'ERR_DNS_MALFORMED',
      message: /over TCP/,
    });
    assert.equal(fake.tcpCount, 1);
  });

  it('asks over TCP directly with tcp: true', async () => {
    fake.reset();
    fake.onTcp = (q, conn) => conn.write(frame(reply(q, { text: 'tcp only' })));
    const r = await exchange(server, query(), { tcp: true, timeoutMs: 2000 });
    assert.equal(r.transport, 'tcp');
    assert.equal(fake.udpCount, 0);
  });

  it('retries UDP after a silent try', async () => {
    fake.reset();
    fake.onUdp = (q, send, n) => {
      if (n === 2) send(reply(q, { text: 'second' }));
    };
    const r = await exchange(server, query(), { timeoutMs: 100, tries: 3 });
    assert.deepEqual(
      r.message.answer.map((a) => ('strings' in a ? a.strings[0] : '')),
      ['second'],
    );
    assert.equal(fake.udpCount, 2);
  });

  it('times out with ERR_DNS_TIMEOUT naming the server after all tries', async () => {
    fake.reset();
    await assert.rejects(exchange(server, query(), { timeoutMs: 50, tries: 2 }), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'ERR_DNS_TIMEOUT');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1#${fake.port} over UDP after 2 tries`));
      return true;
    });
    assert.equal(fake.udpCount, 2);
  });

  it('reports ERR_DNS_CONNECT when TCP closes without a reply', async () => {
    fake.reset();
    fake.onTcp = (_q, conn) => conn.end();
    await assert.rejects(exchange(server, query(), { tcp: true, timeoutMs: 2000 }), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'ERR_DNS_CONNECT');
      assert.match(err.message, /over TCP/);
      return true;
    });
  });

  it('reports ERR_DNS_CONNECT when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(exchange({ host: '127.0.0.1', port }, query(), { tcp: true, timeoutMs: 1000, tries: 1 }), {
      code: 'ERR_DNS_CONNECT',
    });
    // UDP: the port unreachable comes back as ECONNREFUSED on the connected socket.
    await assert.rejects(
      exchange({ host: '127.0.0.1', port }, query(), { timeoutMs: 1000, tries: 1 }),
      (err: unknown) => {
        assert.ok(err instanceof TransportError);
        assert.ok(err.code === 'ERR_DNS_CONNECT' || err.code === 'ERR_DNS_TIMEOUT');
        return true;
      },
    );
  });

  it('a host name that does not resolve is ERR_DNS_CONNECT, not an uncaught ERR_SOCKET_BAD_PORT (issue 9)', async () => {
    // RFC 6761 §6.4: .invalid never resolves. dgram reports the failed lookup to connect's callback.
    for (const tcp of [false, true]) {
      await assert.rejects(
        exchange({ host: 'nohost.invalid', port: 8053 }, query(), { tcp, timeoutMs: 5000, tries: 1 }),
        (err: unknown) => {
          assert.ok(err instanceof TransportError, String(err));
          assert.equal(err.code, 'ERR_DNS_CONNECT');
          assert.match(err.message, /^communications error to nohost\.invalid#8053 over (UDP|TCP): /);
          return true;
        },
      );
    }
  });

  it('validates its options', async () => {
    await assert.rejects(exchange(server, query(), { tries: 0 }), RangeError);
    await assert.rejects(exchange(server, query(), { timeoutMs: 0 }), RangeError);
  });
});
