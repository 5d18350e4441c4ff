/**
 * The web console on psarnd's HTTP port (docs/design.md#web-console): the page at `/` and its
 * bundled assets under `/console/` (static files built by esbuild into dist/console, the same
 * bytes for everyone, carrying no data), and the JSON API under `/api/`, which needs
 * `Authorization: Bearer <httpToken>` when a token is configured. The page asks for the token
 * and sends it with each of its API reads: no cookie, so no ambient credential a cross-site
 * request could ride on.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import { type ApiReply, apiError, ConsoleApi } from './console-api.js';
import { BEARER_CHALLENGE, BearerCheck } from './console-auth.js';
import { QueueDepths } from './console-queue.js';

/**
 * Everything from psarnd itself, nothing inline, nothing elsewhere: the bundle holds every script
 * and style (cytoscape included), and the API is same-origin. Cytoscape draws on canvas and
 * styles its elements through the CSSOM, which CSP does not restrict.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers of every console and API answer. */
const COMMON = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  /**
   * The body gzipped, made at the first request that accepts it and kept (the bundle: 460 KB,
   * 150 KB gzipped; level 9 takes ~20 ms, which psarnd's start need not pay); null: gzip does
   * not save (a small file).
   */
  gzip?: Buffer | null;
  type: string;
  etag: string;
}

/**
 * Where the build puts the bundle: dist/console, beside dist/src (this module is
 * dist/src/server/console-http.js); under tsx (src/server/*.ts) the checkout's dist/console.
 */
export function consoleDir(): string {
  const underTsx = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(underTsx ? '../../dist/console/' : '../../console/', import.meta.url));
}

/** The bundle's files, read once at start (a few hundred KB), by their URL path. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const ext = /\.[a-z]+$/.exec(name)?.[0] ?? '';
    const type = TYPES[ext];
    if (type === undefined) continue;
    const body = readFileSync(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name === 'index.html' ? '/' : `/console/${name}`, { body, type, etag });
  }
  return assets;
}

/** The asset gzipped, made once; null when gzip does not save (under 1 KB, or no smaller). */
function gzipOf(asset: Asset): Buffer | null {
  if (asset.gzip === undefined) {
    const zipped = asset.body.length > 1024 ? gzipSync(asset.body, { level: 9 }) : null;
    asset.gzip = zipped !== null && zipped.length < asset.body.length ? zipped : null;
  }
  return asset.gzip;
}

export interface ConsoleHttpOptions {
  api: ConsoleApi;
  /** config httpToken: required on /api/ when set. */
  token: string | undefined;
  log: Logger;
  /** The bundle's folder (default consoleDir()). */
  dir?: string;
}

/** Serves `/`, `/console/*` and `/api/*`; `handle` says false for any other path. */
export class ConsoleHttp {
  readonly #api: ConsoleApi;
  readonly #check: BearerCheck | undefined;
  readonly #assets: Map<string, Asset>;
  readonly #log: Logger;

  constructor(options: ConsoleHttpOptions) {
    this.#api = options.api;
    this.#check = options.token === undefined ? undefined : new BearerCheck(options.token);
    this.#assets = loadAssets(options.dir ?? consoleDir());
    this.#log = options.log;
  }

  /** True when the bundle was found (a build without its console step serves a 503 at `/`). */
  get built(): boolean {
    return this.#assets.has('/');
  }

  handle(path: string, req: IncomingMessage, res: ServerResponse): boolean {
    if (path.startsWith('/api/') || path === '/api') {
      this.#serveApi(path, req, res);
      return true;
    }
    if (path === '/' || path === '/index.html' || path.startsWith('/console/')) {
      const page = path === '/index.html' ? '/' : path;
      // docs/design.md#web-console: with a token, the page itself needs it too (DESIGN §9), as
      // `curl` or a proxy sees it: without the Bearer header `/` answers 401 with its challenge.
      // Its body is still the page (no data in it), which a browser renders and which asks for
      // the token; the scripts under /console/ are code, public like any bundle.
      if (page === '/' && this.#check !== undefined && !this.#check.matches(req.headers.authorization)) {
        this.#serveAsset(page, req, res, 401, { 'www-authenticate': BEARER_CHALLENGE });
        return true;
      }
      this.#serveAsset(page, req, res);
      return true;
    }
    return false;
  }

  #serveAsset(
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
    status = 200,
    extra: Record<string, string> = {},
  ): void {
    const asset = this.#assets.get(path);
    if (asset === undefined) {
      const [status, message] =
        path === '/' ? [503, 'the web console is not built; run npm run build'] : [404, 'not found'];
      res.writeHead(status, { ...COMMON, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${message}\n`);
      return;
    }
    // Revalidated at each load (cheap: a 304), so an upgraded psarnd serves its new bundle at once.
    const headers = {
      ...COMMON,
      'content-type': asset.type,
      'cache-control': 'no-cache',
      etag: asset.etag,
      vary: 'accept-encoding',
      'content-security-policy': CONSOLE_CSP,
      ...extra,
    };
    if (status === 200 && req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gzipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? gzipOf(asset) : null;
    const body = gzipped ?? asset.body;
    res
      .writeHead(status, {
        ...headers,
        'content-length': body.length,
        ...(gzipped !== null ? { 'content-encoding': 'gzip' } : {}),
      })
      .end(body);
  }

  #serveApi(path: string, req: IncomingMessage, res: ServerResponse): void {
    const send = (reply: ApiReply, extra: Record<string, string> = {}): void => {
      const body = `${JSON.stringify(reply.body)}\n`;
      res
        .writeHead(reply.status, {
          ...COMMON,
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
          ...extra,
        })
        .end(body);
    };
    if (this.#check !== undefined && !this.#check.matches(req.headers.authorization)) {
      // RFC 6750 §3.1: invalid_token when a token came and was wrong; no error attribute when none came.
      const given = req.headers.authorization !== undefined;
      send(apiError(401, 'ERR_UNAUTHORIZED', given ? 'wrong token' : 'send Authorization: Bearer <httpToken>'), {
        'www-authenticate': given ? `${BEARER_CHALLENGE}, error="invalid_token"` : BEARER_CHALLENGE,
      });
      return;
    }
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    this.#api.handle(path, query).then(send, (error: unknown) => {
      this.#log.error({ err: error, path }, 'console API request failed');
      send(apiError(500, 'ERR_INTERNAL', 'internal error; see the psarnd log'));
    });
  }
}

/**
 * The console of a psarnd with `config`: its API reads `store` (undefined while starting), asks
 * SQS for the depth of held queues (console-queue.ts), and needs config httpToken when set.
 */
export function consoleHttp(
  config: Pick<Config, 'namespace' | 'httpToken'>,
  options: { log: Logger; store: () => Store | undefined; epochTtl: () => number; dir?: string },
): ConsoleHttp {
  const api = new ConsoleApi({
    store: options.store,
    namespace: config.namespace,
    epochTtl: options.epochTtl,
    depths: new QueueDepths(),
  });
  return new ConsoleHttp({
    api,
    token: config.httpToken,
    log: options.log,
    ...(options.dir === undefined ? {} : { dir: options.dir }),
  });
}
