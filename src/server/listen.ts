/**
 * Binding listeners and reading back the address they got (port 0 picks one), and the one line
 * psarnd prints when it cannot bind. psarnd binds every socket before it touches the database
 * (docs/design.md#bind-before-the-store), so that line is all a taken port leaves behind.
 */
import { createSocket } from 'node:dgram';
import { createServer, isIPv6, type Server } from 'node:net';
import type { HostPort } from '../config/config.js';
import { PsarnBaseError } from '../errors.js';

/** What psarnd listens for, and the flag and config key that choose its address. */
const SERVICES = {
  dns: { shown: 'DNS', flag: '--listen', key: 'listen' },
  http: { shown: 'HTTP', flag: '--http', key: 'http' },
} as const;

/** Why a bind fails, in words, for the errno codes an operator meets. */
const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
  EAFNOSUPPORT: 'this machine does not support that address family',
};

/** HOST:PORT as a user writes it (`[::1]:53` for IPv6), the form of config `listen` and `http`. */
export function formatHostPort(at: HostPort): string {
  return `${isIPv6(at.host) ? `[${at.host}]` : at.host}:${at.port}`;
}

/**
 * psarnd could not bind one of its sockets: the message is the whole story in one line (which
 * service, address and protocol, why, and what to do); the bind error is the cause.
 */
export class ListenError extends PsarnBaseError {
  readonly code = 'ERR_LISTEN';
  readonly service: keyof typeof SERVICES;
  readonly address: HostPort;
  readonly proto: 'udp' | 'tcp';
  /** The errno code of the failed bind (EADDRINUSE, EACCES, ...), when it had one. */
  readonly errno: string | undefined;
  constructor(service: keyof typeof SERVICES, proto: 'udp' | 'tcp', at: HostPort, cause: unknown) {
    const { shown, flag, key } = SERVICES[service];
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    const reason =
      (errno !== undefined ? REASONS[errno] : undefined) ?? String((cause as Error)?.message ?? cause).split('\n')[0];
    const where = formatHostPort(at);
    super(
      `cannot listen for ${shown} on ${where} (${proto.toUpperCase()}): ${reason}${errno ? ` (${errno})` : ''}; ` +
        `stop whatever holds it or choose another address with ${flag} (config ${key})`,
      { cause },
    );
    this.name = 'ListenError';
    this.service = service;
    this.address = at;
    this.proto = proto;
    this.errno = errno;
  }
}

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
 * listenPair for psarnd's DNS sockets: a bind that fails is a ListenError naming the protocol
 * whose bind failed (UDP binds first, then TCP on its port).
 * @throws ListenError
 */
export async function listenDns<U extends { readonly address: HostPort; close(): Promise<void> }, T>(
  at: HostPort,
  bind: { udp: (at: HostPort) => Promise<U>; tcp: (at: HostPort) => Promise<T> },
): Promise<{ udp: U; tcp: T }> {
  let binding: 'udp' | 'tcp' = 'udp';
  try {
    return await listenPair(at, {
      udp: (where) => {
        binding = 'udp';
        return bind.udp(where);
      },
      tcp: (where) => {
        binding = 'tcp';
        return bind.tcp(where);
      },
    });
  } catch (error) {
    throw new ListenError('dns', binding, at, error);
  }
}

/**
 * A port free on `at.host` for both UDP and TCP right now (a pair bound as listenPair does, then
 * closed): the cluster primary picks one (`at.port` 0) for workers that each bind it later, or
 * finds out before it creates the database that the port it was given is taken.
 * @throws ListenError when `at.port` is taken (or cannot be bound for another reason).
 */
export async function freeDnsPort(at: HostPort): Promise<number> {
  const { host } = at;
  const { udp, tcp } = await listenDns(at, {
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
  });
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  await udp.close();
  return udp.address.port;
}
