/**
 * HTTP side: /metrics (Prometheus text), /health (liveness), /ready (zones loaded, listeners
 * up, and the store answering reads), and the web console at / with its JSON API under /api/
 * (console-http.ts; docs/design.md#web-console). Its clients are a scraper and a few probes, so connections
 * are capped and short-lived: a request must arrive whole within a few seconds, an idle
 * keep-alive connection is closed soon, and at the cap the connection idle longest is closed to
 * admit a new one, so idle or slow peers cannot hold every descriptor and keep /health from
 * answering.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config/config.js';
import type { ConsoleHttp } from './console-http.js';
import { listenOn } from './listen.js';

/** Zone names /ready lists per reason at most (the counts say how many in all). */
const READY_NAMES_SHOWN = 20;

/** Default cap: a scraper and probes need a handful; see fd-budget.ts for the clamp to the fd limit. */
export const HTTP_MAX_CONNECTIONS = 64;

export interface HttpLimits {
  /** Open connections at most (default HTTP_MAX_CONNECTIONS). */
  maxConnections?: number;
  /** Time to receive a request's headers, from its first byte or the connection's start (default 5000). */
  headersTimeoutMs?: number;
  /** Time to receive a whole request (default 10000; at least headersTimeoutMs). */
  requestTimeoutMs?: number;
  /** Time an idle keep-alive connection stays open after a response (default 5000). */
  keepAliveTimeoutMs?: number;
  /** How often the two request deadlines are checked (Node's connectionsCheckingInterval; default 1000). */
  checkIntervalMs?: number;
}

export interface HttpListener {
  readonly address: HostPort;
  /** Open connections. */
  readonly connections: number;
  close(): Promise<void>;
}

interface Conn {
  /** A request is being answered: never evicted then. */
  busy: boolean;
  /** When it connected or last finished a response. */
  lastActive: number;
}

export async function listenHttp(
  at: HostPort,
  options: HttpLimits & {
    /** The Prometheus text: a registry's, or the cluster's sum over its workers. */
    metrics: () => Promise<string>;
    contentType: string;
    ready: () => boolean;
    /**
     * False while the store fails reads (a damaged file): /ready then answers 503, so a load
     * balancer or orchestrator stops sending queries that would all be SERVFAIL. Default: healthy.
     */
    storeHealthy?: () => boolean;
    /**
     * A secondary's zones that have no copy yet or are past expire (docs/design.md#secondary-mode):
     * /ready answers 503 naming them until both lists are empty. Absent on a primary.
     */
    secondary?: () => { missing: string[]; expired: string[] };
    /** The web console and its API (`/`, `/console/`, `/api/`); absent: those paths are 404. */
    console?: ConsoleHttp;
    log: Logger;
    now?: () => number;
  },
): Promise<HttpListener> {
  const now = options.now ?? (() => performance.now());
  const maxConnections = options.maxConnections ?? HTTP_MAX_CONNECTIONS;
  const headersTimeout = options.headersTimeoutMs ?? 5000;
  const conns = new Map<Socket, Conn>();

  // Node checks the two request deadlines every checkIntervalMs; the keep-alive one is a socket timeout.
  const limits = {
    headersTimeout,
    requestTimeout: Math.max(options.requestTimeoutMs ?? 10_000, headersTimeout),
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000,
    connectionsCheckingInterval: options.checkIntervalMs ?? 1000,
  };
  const server: Server = createServer(limits, (req, res) => {
    const conn = conns.get(req.socket);
    if (conn !== undefined) {
      conn.busy = true;
      res.once('close', () => {
        conn.busy = false;
        conn.lastActive = now();
      });
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.contentType }).end(text),
        (error: unknown) => {
          options.log.error({ err: error }, 'metrics collection failed');
          res.writeHead(500).end();
        },
      );
    } else if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
    } else if (path === '/ready') {
      const status = !options.ready() ? 'starting' : options.storeHealthy?.() === false ? 'store failing' : 'ready';
      const body: Record<string, unknown> = { status };
      const unready = status === 'ready' ? options.secondary?.() : undefined;
      if (unready !== undefined && (unready.missing.length > 0 || unready.expired.length > 0)) {
        body.status = 'zones not transferred';
        // A catalog may list thousands: the counts, and the first names of each list.
        for (const [name, zones] of Object.entries(unready)) {
          if (zones.length === 0) continue;
          body[name] = zones.slice(0, READY_NAMES_SHOWN);
          body[`${name}Count`] = zones.length;
        }
      }
      res
        .writeHead(body.status === 'ready' ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(body)}\n`);
    } else if (options.console?.handle(path, req, res) !== true) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
    }
  });

  /** Closes the connection idle longest (no request in progress); false when every one is busy. */
  const evictIdlest = (): boolean => {
    let idlest: [Socket, Conn] | undefined;
    for (const entry of conns) {
      if (!entry[1].busy && (idlest === undefined || entry[1].lastActive < idlest[1].lastActive)) idlest = entry;
    }
    if (idlest === undefined) return false;
    conns.delete(idlest[0]);
    idlest[0].destroy();
    return true;
  };

  // After Node's own 'connection' listener (added by createServer), so a socket destroyed here
  // is one Node already tracks and cleans up.
  server.on('connection', (socket: Socket) => {
    if (conns.size >= maxConnections && !evictIdlest()) {
      options.log.debug('http connection cap reached with every connection busy; refusing one');
      socket.destroy();
      return;
    }
    conns.set(socket, { busy: false, lastActive: now() });
    socket.once('close', () => conns.delete(socket));
  });
  const address = await listenOn(server, at);
  server.on('error', (error) => options.log.error({ err: error }, 'http server error'));
  return {
    address,
    get connections() {
      return conns.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
