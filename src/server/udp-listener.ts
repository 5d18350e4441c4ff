/** DNS over UDP: receive, hand to the handler, send the reply. Carries bytes; decides nothing. */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config/config.js';
import type { QueryHandler } from './handler.js';

export interface UdpListener {
  readonly address: HostPort;
  close(): Promise<void>;
}

export async function listenUdp(at: HostPort, handler: QueryHandler, log: Logger): Promise<UdpListener> {
  const socket: Socket = createSocket({ type: isIPv6(at.host) ? 'udp6' : 'udp4', reuseAddr: false });
  socket.on('message', (message, rinfo) => {
    const reply = handler.handle(message, 'udp');
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
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
