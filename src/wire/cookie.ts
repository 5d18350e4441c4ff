/**
 * DNS Cookies as a server (RFC 7873), with the interoperable server cookie of RFC 9018:
 * Version (1) | Reserved (3, zero) | Timestamp (4, seconds, serial arithmetic) | Hash (8), the
 * hash being SipHash-2-4 over Client Cookie | Version | Reserved | Timestamp | Client-IP under a
 * 16-byte server secret (RFC 9018 §4.4). Pure: the clock and the secret are arguments.
 * docs/design.md#edns-options
 */
import { isIPv4 } from 'node:net';
import { siphash24 } from './siphash.js';

/** EDNS option code of COOKIE (RFC 7873 §4). */
export const COOKIE_OPTION = 10;
/** RFC 7873 §4: the client cookie is 8 bytes; a server cookie 8 to 32. */
export const CLIENT_COOKIE_SIZE = 8;
const SERVER_COOKIE_MIN = 8;
const SERVER_COOKIE_MAX = 32;
/** Our server cookies (RFC 9018 §4): 16 bytes. */
export const SERVER_COOKIE_SIZE = 16;
/** The server secret is a SipHash key (RFC 9018 §4.4). */
export const COOKIE_SECRET_SIZE = 16;
const VERSION = 1;
/** RFC 9018 §4.3: a cookie from more than an hour ago, or more than 5 minutes ahead, is not valid. */
const MAX_AGE = 3600;
const MAX_AHEAD = 300;
/** RFC 9018 §4.3: past half an hour, a valid cookie is replaced by a fresh one. */
const RENEW_AGE = 1800;

/** What a query's COOKIE option holds: the client cookie and, when sent, the server cookie. */
export interface CookieOption {
  client: Uint8Array;
  server: Uint8Array | undefined;
}

/**
 * The client and server cookie of a COOKIE option's data, or undefined when its length is not
 * 8 (client only) or 16 to 40 (RFC 7873 §5.2.2: the server answers FORMERR).
 */
export function parseCookieOption(data: Uint8Array): CookieOption | undefined {
  const n = data.length;
  if (n === CLIENT_COOKIE_SIZE) return { client: data, server: undefined };
  if (n < CLIENT_COOKIE_SIZE + SERVER_COOKIE_MIN || n > CLIENT_COOKIE_SIZE + SERVER_COOKIE_MAX) return undefined;
  return { client: data.subarray(0, CLIENT_COOKIE_SIZE), server: data.subarray(CLIENT_COOKIE_SIZE) };
}

/** The hash input: client cookie 8 | version 1 | reserved 3 | timestamp 4 | client IP 4 or 16. */
const input = Buffer.alloc(CLIENT_COOKIE_SIZE + 8 + 16);

/**
 * Our server cookie for `client` (8 bytes) from `clientIp` (4 or 16 bytes; empty when the
 * carrier does not know it) at `timestamp` (seconds since the epoch, mod 2^32), written into
 * `out` at `offset` (16 bytes).
 */
export function writeServerCookie(
  client: Uint8Array,
  clientIp: Uint8Array,
  secret: Uint8Array,
  timestamp: number,
  out: Uint8Array,
  offset: number,
): void {
  build(client, clientIp, secret, VERSION, 0, timestamp, out, offset);
}

/**
 * Writes version | reserved | timestamp | SipHash-2-4(client | those 8 bytes | clientIp) into
 * `out` at `offset`. Byte loops rather than subarray and set: a view costs more than 8 bytes.
 */
function build(
  client: Uint8Array,
  clientIp: Uint8Array,
  secret: Uint8Array,
  version: number,
  reserved: number,
  timestamp: number,
  out: Uint8Array,
  offset: number,
): void {
  for (let i = 0; i < CLIENT_COOKIE_SIZE; i++) input[i] = client[i]!;
  input[8] = version;
  input[9] = reserved >>> 16;
  input[10] = reserved >>> 8;
  input[11] = reserved;
  input[12] = timestamp >>> 24;
  input[13] = timestamp >>> 16;
  input[14] = timestamp >>> 8;
  input[15] = timestamp;
  for (let i = 0; i < clientIp.length; i++) input[16 + i] = clientIp[i]!;
  for (let i = 0; i < 8; i++) out[offset + i] = input[8 + i]!;
  siphash24(secret, input, out, offset + 8, 16 + clientIp.length);
}

export type ServerCookieCheck = 'valid' | 'renew' | 'invalid';

/**
 * Whether `server` is a cookie we gave `client` at `clientIp` with `secret` and is still
 * current at `now` (seconds): 'valid'; valid but over half an hour old: 'renew'; anything else
 * (another size or version, a hash that does not match, too old, ahead of our clock): 'invalid'.
 * The hash is compared in full before the answer is known (no early exit that would time it).
 */
export function checkServerCookie(
  client: Uint8Array,
  server: Uint8Array,
  clientIp: Uint8Array,
  secret: Uint8Array,
  now: number,
): ServerCookieCheck {
  if (server.length !== SERVER_COOKIE_SIZE || server[0] !== VERSION) return 'invalid';
  const timestamp = ((server[4]! << 24) | (server[5]! << 16) | (server[6]! << 8) | server[7]!) >>> 0;
  // RFC 1982 serial arithmetic: the age as a signed 32-bit difference.
  const age = ((now >>> 0) - timestamp) | 0;
  // The reserved bytes are hashed as received (RFC 9018 §4.2): ours are 0, so others fail.
  const reserved = (server[1]! << 16) | (server[2]! << 8) | server[3]!;
  build(client, clientIp, secret, server[0]!, reserved, timestamp, scratch, 0);
  let diff = 0;
  for (let i = 0; i < SERVER_COOKIE_SIZE; i++) diff |= scratch[i]! ^ server[i]!;
  if (diff !== 0 || age > MAX_AGE || age < -MAX_AHEAD) return 'invalid';
  return age > RENEW_AGE ? 'renew' : 'valid';
}

const scratch = Buffer.alloc(SERVER_COOKIE_SIZE);

/**
 * A requester's address as a carrier knows it: text (node:dgram, TCP), or bytes built on demand
 * (the native UDP carrier's DatagramPeer).
 */
export type PeerAddress = string | { bytes(): Uint8Array };

const NO_ADDRESS = new Uint8Array(0);
let lastText = '';
let lastBytes: Uint8Array = NO_ADDRESS;

/**
 * The address bytes RFC 9018 §4.4 hashes: 4 for IPv4 (an IPv4-mapped IPv6 address of a
 * dual-stack socket included, so a client's cookie does not depend on the socket's family),
 * 16 for IPv6; empty for undefined or text that is not an address. The last one is remembered:
 * a resolver sends many queries in a row.
 */
export function addressBytes(address: PeerAddress | undefined): Uint8Array {
  if (address === undefined) return NO_ADDRESS;
  if (typeof address !== 'string') return address.bytes();
  if (address === lastText) return lastBytes;
  const bytes = parseAddress(address);
  lastText = address;
  lastBytes = bytes;
  return bytes;
}

function parseAddress(text: string): Uint8Array {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) return parseAddress(mapped[1]!);
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  const zone = text.indexOf('%');
  const body = zone < 0 ? text : text.slice(0, zone);
  const halves = body.split('::');
  if (halves.length > 2) return NO_ADDRESS;
  const words = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const w of part.split(':')) {
      if (isIPv4(w)) {
        const [a, b, c, d] = w.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-f]{1,4}$/i.test(w)) out.push(Number.parseInt(w, 16));
      else return undefined;
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (head === undefined || tail === undefined) return NO_ADDRESS;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return NO_ADDRESS;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
