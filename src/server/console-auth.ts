/**
 * Who may read the web console's data (docs/design.md#web-console): with config `httpToken`, a
 * request under /api/ needs `Authorization: Bearer <token>` (RFC 6750 §2.1); without one, psarnd
 * serves HTTP on a loopback address only, and refuses to start elsewhere.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError, type HostPort } from '../config/config.js';

/**
 * True for an address only this host reaches: 127.0.0.0/8, ::1 (and ::ffff:127.x, the IPv4
 * loopback mapped into IPv6) and `localhost` (RFC 6761 §6.3: it resolves to loopback only).
 * 0.0.0.0 and :: bind every interface: not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) {
    if (h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

/**
 * Refuses an HTTP address beyond loopback without a token: the console and its API would show
 * every route, caller id and operation to the network (docs/design.md#web-console).
 * @throws ConfigError (key `httpToken`), which psarnd prints as its one line and exits 1
 */
export function checkHttpExposure(http: HostPort, token: string | undefined): void {
  if (token !== undefined || isLoopbackHost(http.host)) return;
  throw new ConfigError(
    'httpToken',
    `config http: ${http.host}:${http.port} is not a loopback address and no httpToken is set; set httpToken (env PSARN_HTTP_TOKEN, e.g. $(openssl rand -hex 32)) or serve http on 127.0.0.1`,
  );
}

/** The realm psarnd names in WWW-Authenticate (RFC 6750 §3). */
export const BEARER_CHALLENGE = 'Bearer realm="psarn"';

/**
 * A check of `Authorization` headers against one token, in constant time: both sides are hashed
 * first (SHA-256), so the comparison takes the same time whatever the header's length and
 * wherever it differs; the token itself is kept only as its digest.
 */
export class BearerCheck {
  readonly #digest: Buffer;
  constructor(token: string) {
    this.#digest = sha256(token);
  }

  /** True when `header` is `Bearer <the token>` (the scheme is case-insensitive: RFC 7235 §2.1). */
  matches(header: string | undefined): boolean {
    const m = /^bearer +(\S+) *$/i.exec(header ?? '');
    // Compared even without a match, so a malformed header takes the time of a wrong token.
    const equal = timingSafeEqual(sha256(m?.[1] ?? ''), this.#digest);
    return m !== null && equal;
  }
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
