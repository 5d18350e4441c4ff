/**
 * The TCP listener on a real socket (127.0.0.1, port 0) with an idle timeout far longer than
 * any test: a frame that is not a query must close the connection at once, and be counted
 * (issue 8, defect 5.5: such frames refreshed the idle timer, so the peer held the connection
 * forever). Every wait is bounded by an event or a short deadline, never by the idle timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { listenTcp, type TcpListener } from '../../src/server/tcp-listener.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { ZONE as Z, zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';

const ZONE = `
${zoneHead(Z)}
created.orders 300 IN URI 10 1 "arn:aws:lambda:us-east-1:123456789012:function:v1"
`;
/** Far past any test: a connection closed within a test was closed for what it sent. */
const IDLE_MS = 600_000;
const WITHIN_MS = 5000;

function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('TCP listener: frames that are not queries close the connection', () => {
  let tcp: TcpListener;
  let metrics: DaemonMetrics;
  const sockets: Socket[] = [];

  before(async () => {
    metrics = new DaemonMetrics({ defaultMetrics: false });
    const log = pino({ level: 'silent' });
    const handler = new QueryHandler({
      view: new MemoryView(ZONE),
      cache: new AnswerCache(),
      metrics,
      log,
      udpPayloadSize: 1232,
    });
    tcp = await listenTcp({ host: '127.0.0.1', port: 0 }, handler, {
      idleTimeoutMs: IDLE_MS,
      maxConnections: 100,
      metrics,
      log,
    });
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await tcp?.close(0);
  });

  async function open(): Promise<Socket> {
    const s = connect(tcp.address.port, tcp.address.host);
    sockets.push(s);
    s.on('error', () => {});
    await once(s, 'connect');
    return s;
  }

  async function dropped(): Promise<number> {
    const metric = metrics.registry.getSingleMetric('psarn_dns_malformed_total');
    const values = (await metric!.get()).values;
    return values.find((v) => v.labels.proto === 'tcp' && v.labels.reason === 'dropped')?.value ?? 0;
  }

  const query = encodeQuery({ id: 5, name: `created.orders.${Z}`, qtype: Type.URI });
  const response = Buffer.from(query);
  response[2] = response[2]! | 0x80; // QR=1

  const cases: [string, Buffer][] = [
    ['a length-0 frame', Buffer.from([0, 0])],
    ['a frame shorter than a header (11 bytes)', frame(Buffer.alloc(11))],
    ['a response (QR=1)', frame(response)],
    ['a response after an answered query in the same write', Buffer.concat([frame(query), frame(response)])],
  ];
  for (const [title, bytes] of cases) {
    it(`${title}: closed at once and counted`, async () => {
      const before = await dropped();
      const s = await open();
      s.write(bytes);
      assert.equal(await closedWithin(s, WITHIN_MS), true, 'closed long before the idle timeout');
      assert.equal(await dropped(), before + 1);
    });
  }

  it('a query is answered and the connection stays open for the next one', async () => {
    const s = await open();
    const decoder = new FrameDecoder();
    for (let i = 0; i < 3; i++) {
      s.write(frame(query));
      let replies: Buffer[] = [];
      while (replies.length === 0) replies = decoder.push((await once(s, 'data'))[0] as Buffer);
      assert.equal(decodeMessage(replies[0]!).rcode, Rcode.NOERROR);
    }
    assert.equal(s.destroyed, false);
    assert.equal(tcp.connections >= 1, true);
  });
});

describe('TCP listener: the fd-limit ceiling holds across a reload', () => {
  it('configure() above the ceiling keeps the ceiling, says so, and evicts at it', async (t) => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const handler = new QueryHandler({
      view: new MemoryView(ZONE),
      cache: new AnswerCache(),
      metrics,
      log,
      udpPayloadSize: 1232,
    });
    const tcp = await listenTcp({ host: '127.0.0.1', port: 0 }, handler, {
      idleTimeoutMs: IDLE_MS,
      maxConnections: 2,
      maxConnectionsCeiling: 2,
      metrics,
      log,
    });
    const sockets: Socket[] = [];
    t.after(async () => {
      for (const s of sockets) s.destroy();
      await tcp.close(0);
    });
    tcp.configure({ idleTimeoutMs: IDLE_MS, maxConnections: 50 });
    assert.equal(lines.length, 1);
    assert.deepEqual(
      { ...JSON.parse(lines[0]!), time: 0, pid: 0, hostname: '' },
      {
        level: 40,
        time: 0,
        pid: 0,
        hostname: '',
        configured: 50,
        cap: 2,
        msg: 'tcp.maxConnections is above what the open-files limit allows; using the lower cap',
      },
    );
    for (let i = 0; i < 3; i++) {
      const s = connect(tcp.address.port, tcp.address.host);
      s.on('error', () => {});
      s.resume();
      sockets.push(s);
      await once(s, 'connect');
      // Registered before the next one, so the first is the idlest.
      while (tcp.connections < Math.min(i + 1, 2)) await new Promise((r) => setImmediate(r));
    }
    assert.equal(await closedWithin(sockets[0]!, WITHIN_MS), true, 'evicted at the ceiling of 2');
    assert.equal(tcp.connections, 2);
  });
});
