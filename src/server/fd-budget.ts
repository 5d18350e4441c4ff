/**
 * Connection caps under the process's open-files limit (RLIMIT_NOFILE). Every DNS TCP and HTTP
 * connection holds a descriptor; past the limit accept() fails with EMFILE and nothing new gets
 * in, not even a probe of /health. So the configured caps are clamped, when they must be, so
 * that TCP + HTTP + the process's own descriptors stay below the limit.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * Descriptors psarnd holds besides connections: stdio, the database with its -wal and -shm
 * (twice while a route index worker builds), the listening and UDP sockets, libuv's epoll,
 * eventfds and pipes (27 counted at rest in /proc/<pid>/fd), with room to spare.
 */
export const FD_RESERVE = 64;

/**
 * The soft open-files limit, from /proc/self/limits (what `ulimit -n` shows); undefined where
 * that file does not exist (not Linux) or the limit is unlimited.
 */
export function openFilesLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  // "Max open files            1024                 1048576              files"
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export interface ConnectionCaps {
  /** DNS over TCP connections (config tcp.maxConnections); 0 when this process serves none. */
  tcp: number;
  /** HTTP connections; 0 when this process serves no HTTP (a cluster worker). */
  http: number;
}

/** The caps to use, and the most TCP may be raised to by a reload (Infinity when the limit is unknown). */
export interface FittedCaps extends ConnectionCaps {
  tcpCeiling: number;
}

/**
 * The caps to use under `fdLimit` (undefined: unknown, no clamp). HTTP keeps its small cap
 * while the limit allows, since /health and /metrics must stay reachable; TCP gets the rest.
 */
export function capsWithin(wanted: ConnectionCaps, fdLimit: number | undefined): FittedCaps {
  if (fdLimit === undefined) return { ...wanted, tcpCeiling: Number.POSITIVE_INFINITY };
  const room = Math.max(2, fdLimit - FD_RESERVE);
  const fits = wanted.tcp + wanted.http <= room;
  const http = fits || wanted.http === 0 ? wanted.http : Math.min(wanted.http, Math.max(1, Math.floor(room / 8)));
  const tcpCeiling = Math.max(1, room - http);
  return { tcp: Math.min(wanted.tcp, tcpCeiling), http, tcpCeiling };
}

/** capsWithin the limit read from /proc/self/limits, with a warning when a cap was lowered. */
export function connectionCaps(
  wanted: ConnectionCaps,
  log: Logger,
  fdLimit: number | undefined = openFilesLimit(),
): FittedCaps {
  const caps = capsWithin(wanted, fdLimit);
  if (caps.tcp !== wanted.tcp || caps.http !== wanted.http) {
    log.warn(
      { fdLimit, reserve: FD_RESERVE, configured: wanted, caps: { tcp: caps.tcp, http: caps.http } },
      `connection caps lowered to fit the open-files limit of ${fdLimit}: raise it (ulimit -n) or lower tcp.maxConnections`,
    );
  }
  return caps;
}
