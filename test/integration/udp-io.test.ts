/**
 * Both UDP carriers (config udpIo): the native recvmmsg batcher and node:dgram give the same
 * bytes for the same questions, answer a burst bigger than one batch, and say in the log which
 * carrier serves. The batcher is required in CI (Linux, built by npm ci); elsewhere its half
 * skips when the addon is not built.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { loadUdpBatch } from '../../src/server/udp-batch.js';
import { encodeQuery } from '../../src/wire/message.js';
import { Type } from '../../src/wire/types.js';
import { type HostPort, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { udpRaw } from '../helpers/dns.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const QUESTIONS: [string, number][] = [
  [`created.orders.${Z}`, Type.URI],
  [`CREATED.Orders.${Z}`, Type.URI],
  [`created.orders.${Z}`, Type.TXT],
  [`created.orders.${Z}`, Type.A],
  [`nothing.here.${Z}`, Type.URI],
  [Z, Type.SOA],
  [`_epoch.${Z}`, Type.TXT],
  ['example.com.', Type.A],
];

/**
 * Sends `count` queries from one socket, keeping `window` unanswered at most; resolves with the
 * IDs answered, bounded by timeoutMs. The window stays under what this client's 208 KiB receive
 * buffer holds when replies arrive a whole batch at once (sendmmsg): past ~100 in flight the
 * kernel drops replies at the client, not at psarnd.
 */
function burst(server: HostPort, count: number, window = 48, timeoutMs = 5000): Promise<Set<number>> {
  const socket = createSocket('udp4');
  const answered = new Set<number>();
  let sent = 0;
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(done, timeoutMs);
    const fill = (): void => {
      while (sent < count && sent - answered.size < window) {
        sent++;
        socket.send(encodeQuery({ id: sent, name: `created.orders.${Z}`, qtype: Type.URI }), server.port, server.host);
      }
    };
    socket.on('message', (msg) => {
      answered.add(msg.readUInt16BE(0));
      if (answered.size === count) done();
      else fill();
    });
    socket.bind(0, '127.0.0.1', fill);
  });
}

const native = loadUdpBatch();
const skipNative =
  !native.ok && process.env.CI !== 'true' ? `native UDP batcher not available: ${native.reason}` : false;

describe('udpIo carriers', () => {
  const daemons = new Map<string, RunningDaemon>();
  before(async () => {
    daemons.set('dgram', await startPsarnd({ env: { PSARN_UDP_IO: 'dgram' } }));
    if (!skipNative) daemons.set('recvmmsg', await startPsarnd({ env: { PSARN_UDP_IO: 'recvmmsg' } }));
  });
  after(async () => {
    for (const d of daemons.values()) await d.stop();
  });

  for (const io of ['dgram', 'recvmmsg']) {
    it(`${io}: logs the carrier and answers 500 queries, 48 in flight`, {
      skip: io === 'recvmmsg' && skipNative,
    }, async () => {
      const d = daemons.get(io)!;
      const serving = d.logs.find((l) => l.msg === 'psarnd serving');
      assert.equal(serving?.udp, io);
      const answered = await burst(d.dns, 500);
      assert.equal(answered.size, 500);
    });
  }

  it('recvmmsg and dgram reply with the same bytes', { skip: skipNative }, async () => {
    const a = daemons.get('dgram')!;
    const b = daemons.get('recvmmsg')!;
    let id = 100;
    for (const [name, qtype] of QUESTIONS) {
      for (const edns of [false, { udpSize: 1232, do: true }] as const) {
        const bytes = encodeQuery({ id: id++, name, qtype, edns });
        const [ra, rb] = [await udpRaw(a.dns, bytes), await udpRaw(b.dns, bytes)];
        assert.ok(ra !== undefined && rb !== undefined, `${name}/${qtype}: no reply`);
        assert.deepEqual(rb, ra, `${name}/${qtype} edns=${edns !== false}`);
      }
    }
  });
});
