/**
 * HTTP side: /metrics (Prometheus text), /health (liveness), /ready (zones loaded, listeners
 * up, and the store answering reads).
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { HostPort } from '../config/config.js';
import { listenOn } from './listen.js';

export interface HttpListener {
  readonly address: HostPort;
  close(): Promise<void>;
}

export async function listenHttp(
  at: HostPort,
  options: {
    /** The Prometheus text: a registry's, or the cluster's sum over its workers. */
    metrics: () => Promise<string>;
    contentType: string;
    ready: () => boolean;
    /**
     * False while the store fails reads (a damaged file): /ready then answers 503, so a load
     * balancer or orchestrator stops sending queries that would all be SERVFAIL. Default: healthy.
     */
    storeHealthy?: () => boolean;
    log: Logger;
  },
): Promise<HttpListener> {
  const server: Server = createServer((req, res) => {
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
      res
        .writeHead(status === 'ready' ? 200 : 503, { 'content-type': 'application/json' })
        .end(`{"status":"${status}"}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
    }
  });
  server.on('error', (error) => options.log.error({ err: error }, 'http server error'));
  const address = await listenOn(server, at);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
