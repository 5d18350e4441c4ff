/**
 * DNS over UDP: receive, hand to the handler, send the reply. Carries bytes; decides nothing.
 * Two carriers: the native recvmmsg/sendmmsg batcher (src/server/udp-batch.ts, Linux) when it is
 * built, and node:dgram everywhere else (config `udpIo`).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort, UdpIo } from '../config/config.js';
import type { MessageHandler } from './late-handler.js';
import { type DatagramPeer, listenUdpBatch, loadUdpBatch } from './udp-batch.js';

export interface UdpListener {
  readonly address: HostPort;
  /** The carrier in use. */
  readonly io: 'recvmmsg' | 'dgram';
  /** Datagrams dropped by the carrier (always 0 on node:dgram, which reports send errors as events). */
  drops(): { sendFailed: number; oversized: number };
  close(): Promise<void>;
}

export interface UdpListenOptions {
  /** Default 'auto': recvmmsg when the addon loads, else dgram (logged once with the reason). */
  io?: UdpIo;
  /** SO_REUSEPORT on the recvmmsg socket: each cluster worker binds the port itself. */
  reusePort?: boolean;
}

export async function listenUdp(
  at: HostPort,
  handler: MessageHandler,
  log: Logger,
  options: UdpListenOptions = {},
): Promise<UdpListener> {
  const io = options.io ?? 'auto';
  if (io !== 'dgram') {
    const native = loadUdpBatch();
    if (native.ok) return listenBatched(at, handler, log, options.reusePort === true);
    if (io === 'recvmmsg')
      throw new Error(`udpIo is recvmmsg, but the native UDP batcher is unavailable: ${native.reason}`);
    log.info({ reason: native.reason }, 'native UDP batching unavailable; serving UDP with node:dgram');
  }
  return listenDgram(at, handler, log);
}

async function listenBatched(
  at: HostPort,
  handler: MessageHandler,
  log: Logger,
  reusePort: boolean,
): Promise<UdpListener> {
  // The reply is written straight into the send slot: no Buffer per reply, no copy.
  const writeInto = (message: Buffer, out: Buffer, offset: number, peer: DatagramPeer) =>
    handler.handleInto(message, 'udp', out, offset, peer);
  const socket = await listenUdpBatch(
    at,
    { writeInto },
    {
      reusePort,
      onError: (error) => log.warn({ err: error }, 'udp socket error'),
    },
  );
  return {
    address: socket.address,
    io: 'recvmmsg',
    drops: () => {
      const { sendErrors, truncated } = socket.stats();
      return { sendFailed: sendErrors, oversized: truncated };
    },
    close: () => socket.close(),
  };
}

async function listenDgram(at: HostPort, handler: MessageHandler, log: Logger): Promise<UdpListener> {
  const socket: Socket = createSocket({ type: isIPv6(at.host) ? 'udp6' : 'udp4', reuseAddr: false });
  socket.on('message', (message, rinfo) => {
    // The address binds a server cookie to the client (RFC 9018 §4.4).
    const reply = handler.handle(message, 'udp', rinfo.address);
    if (reply === undefined) return;
    // No callback: Node then skips a nextTick per datagram; a failed send is an 'error' event.
    socket.send(reply, rinfo.port, rinfo.address);
  });
  socket.on('error', (error) => log.warn({ err: error }, 'udp socket error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(at.port, at.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const bound = socket.address();
  return {
    address: { host: bound.address, port: bound.port },
    io: 'dgram',
    drops: () => ({ sendFailed: 0, oversized: 0 }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
