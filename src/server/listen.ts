/** Binding listeners and reading back the address they got (port 0 picks one). */
import { createSocket } from 'node:dgram';
import { createServer, isIPv6, type Server } from 'node:net';
import type { HostPort } from '../config/config.js';

export async function listenOn(server: Server, at: HostPort): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error(`listener on ${at.host}:${at.port} has no address`);
  return { host: bound.address, port: bound.port };
}

/** Ports tried for `host:0` before giving up; each try fails only if another process holds the TCP twin. */
export const PAIR_ATTEMPTS = 32;

/**
 * DNS over UDP and TCP on one port: UDP binds first (port 0 lets the kernel pick one), then TCP
 * on the port UDP got. The kernel picks a UDP port without looking at TCP, so with port 0 the
 * TCP twin may be taken (EADDRINUSE): the UDP socket is then closed and another port tried, up
 * to `attempts` times. A fixed port is tried once: its owner must free it.
 * @throws the TCP bind's error (EADDRINUSE after the last attempt), with the UDP socket closed.
 */
export async function listenPair<U extends { readonly address: HostPort; close(): Promise<void> }, T>(
  at: HostPort,
  bind: { udp: (at: HostPort) => Promise<U>; tcp: (at: HostPort) => Promise<T> },
  attempts = PAIR_ATTEMPTS,
): Promise<{ udp: U; tcp: T }> {
  for (let attempt = 1; ; attempt++) {
    const udp = await bind.udp(at);
    try {
      return { udp, tcp: await bind.tcp({ host: at.host, port: udp.address.port }) };
    } catch (error) {
      await udp.close();
      const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!taken || at.port !== 0 || attempt >= attempts) throw error;
    }
  }
}

/**
 * A port free on `host` for both UDP and TCP right now (a pair bound as listenPair does, then
 * closed): the cluster primary picks one for workers that each bind it later.
 */
export async function freeDnsPort(host: string): Promise<number> {
  const { udp, tcp } = await listenPair(
    { host, port: 0 },
    {
      udp: async (at) => {
        const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(at.port, at.host, () => resolve());
        });
        return {
          address: { host, port: socket.address().port },
          close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
        };
      },
      tcp: async (at) => {
        const server = createServer();
        await listenOn(server, at);
        return server;
      },
    },
  );
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  await udp.close();
  return udp.address.port;
}
