/**
 * UDP in batches through the native `udp_batch` addon (src/native/udp_batch.c): one recvmmsg takes
 * up to 64 datagrams, one JS call handles them all, one sendmmsg sends the replies. Linux only;
 * where the addon is not built or does not load, `loadUdpBatch()` says why and the daemon keeps
 * the node:dgram listener. Carries bytes; decides nothing.
 */
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP, isIPv6 } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Why the batched UDP path is not available (for a log line), e.g. "not Linux (darwin)". */
export type UdpIoReason = string;

export interface BatchUdpStats {
  /** Datagrams taken from the socket, truncated ones included. */
  received: number;
  /** Replies the kernel accepted. */
  sent: number;
  /** Replies dropped: send buffer full (EAGAIN/ENOBUFS), unreachable peer, or a reply over 64 KiB. */
  sendErrors: number;
  /** Datagrams dropped for being over 4096 bytes, which no DNS query is. */
  truncated: number;
}

export interface BatchUdpSocket {
  readonly address: { host: string; port: number };
  stats(): BatchUdpStats;
  /** Stops reading and closes the socket; resolves once the port is free. Safe to call twice. */
  close(): Promise<void>;
}

export interface BatchUdpOptions {
  /** SO_REUSEPORT: every process of a node:cluster binds the same port and the kernel spreads datagrams. */
  reusePort?: boolean;
  /** A throwing onPacket, or a failed receive; the socket keeps serving. Default: process.emitWarning. */
  onError?: (error: unknown) => void;
}

/** The addon's exports (see js_open and friends in udp_batch.c). */
interface NativeConfig {
  host: string;
  port: number;
  ipv6: boolean;
  reusePort: boolean;
  input: Buffer;
  inLens: Int32Array;
  output: Buffer;
  outLens: Int32Array;
  stats: Float64Array;
  onBatch: (count: number) => void;
  onError: (error: unknown, code?: string, syscall?: string) => void;
}
declare const nativeHandle: unique symbol;
type NativeHandle = { readonly [nativeHandle]: true };
interface NativeBinding {
  readonly available: boolean;
  readonly BATCH: number;
  readonly SLOT_IN: number;
  readonly SLOT_OUT: number;
  readonly STATS: number;
  open(config: NativeConfig): NativeHandle;
  address(handle: NativeHandle): [string, number];
  close(handle: NativeHandle, done: () => void): boolean;
}

const ADDON = join('src', 'native', 'build', 'Release', 'udp_batch.node');
let loaded: { ok: true; binding: NativeBinding } | { ok: false; reason: UdpIoReason } | undefined;

/** The folder with psarn's package.json, walking up from this module (dist/src/server or src/server). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'psarn') return dir;
      } catch {
        // Not ours or unreadable: keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function load(): NonNullable<typeof loaded> {
  if (loaded !== undefined) return loaded;
  loaded = (() => {
    if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
    const root = packageRoot();
    if (root === undefined) return { ok: false, reason: 'psarn package.json not found above this module' };
    const file = join(root, ADDON);
    if (!existsSync(file)) return { ok: false, reason: `${file} not built (run npm run build:native)` };
    try {
      const binding = createRequire(import.meta.url)(file) as NativeBinding;
      if (binding.available !== true) return { ok: false, reason: `${file} has no batched UDP on this system` };
      return { ok: true, binding };
    } catch (error) {
      return { ok: false, reason: `${file} failed to load: ${(error as Error).message}` };
    }
  })();
  return loaded;
}

/**
 * Loads the addon once; `{ ok: false, reason }` when not Linux, not built, or it fails to load.
 * @example
 * const udp = loadUdpBatch();
 * if (!udp.ok) log.info({ reason: udp.reason }, 'UDP through node:dgram');
 */
export function loadUdpBatch(): { ok: true } | { ok: false; reason: UdpIoReason } {
  const result = load();
  return result.ok ? { ok: true } : { ok: false, reason: result.reason };
}

/** An errno error shaped like Node's: "bind EADDRINUSE 127.0.0.1:53" with code, errno, syscall, address, port. */
function errnoError(cause: unknown, host: string, port: number): Error {
  const c = cause as NodeJS.ErrnoException;
  if (typeof c?.code !== 'string' || typeof c.syscall !== 'string') return cause as Error;
  const error: NodeJS.ErrnoException = new Error(`${c.syscall} ${c.code} ${host}:${port}`, { cause });
  return Object.assign(error, { code: c.code, errno: c.errno, syscall: c.syscall, address: host, port });
}

async function resolveHost(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  // Like a node:dgram udp4 socket given a name: one IPv4 lookup (ENOTFOUND when there is none).
  return (await lookup(host, { family: 4 })).address;
}

/**
 * Binds host:port and calls onPacket for every datagram; a returned Buffer is sent back to the
 * sender. `message` is a view into a receive slot that the next batch overwrites: it is valid only
 * during the call, so copy what must outlive it (a returned Buffer is copied at once, so returning
 * a view of `message` is fine). Replies over 64 KiB are dropped and counted as send errors.
 * Bind errors reject with Node's errno codes (EADDRINUSE, EACCES, EADDRNOTAVAIL, ...).
 * @example
 * const socket = await listenUdpBatch({ host: '127.0.0.1', port: 0 }, (q) => handler.handle(q, 'udp'), {});
 * console.log(socket.address.port, socket.stats().received);
 * await socket.close();
 */
export async function listenUdpBatch(
  at: { host: string; port: number },
  onPacket: (message: Buffer) => Buffer | undefined,
  options: BatchUdpOptions,
): Promise<BatchUdpSocket> {
  const native = load();
  if (!native.ok) {
    throw Object.assign(new Error(`batched UDP unavailable: ${native.reason}; use the node:dgram listener`), {
      code: 'ERR_UDP_BATCH_UNAVAILABLE',
    });
  }
  if (!Number.isInteger(at.port) || at.port < 0 || at.port > 65535) {
    throw Object.assign(new RangeError(`invalid UDP port ${at.port}: use an integer 0..65535`), {
      code: 'ERR_SOCKET_BAD_PORT',
    });
  }
  const { BATCH, SLOT_IN, SLOT_OUT, STATS } = native.binding;
  const host = await resolveHost(at.host);
  const report = (error: unknown): void => {
    try {
      if (options.onError) options.onError(error);
      else process.emitWarning(error instanceof Error ? error : String(error), { code: 'PSARN_UDP_BATCH' });
    } catch {
      // An onError that throws must not take the socket (or the process) down with it.
    }
  };
  // Buffer.alloc gets zeroed pages from the allocator: untouched output slots cost no memory.
  const input = Buffer.alloc(BATCH * SLOT_IN);
  const output = Buffer.alloc(BATCH * SLOT_OUT);
  // Explicit ArrayBuffers: off-heap backing stores, so the pointers the addon keeps never move.
  const inLens = new Int32Array(new ArrayBuffer(BATCH * 4));
  const outLens = new Int32Array(new ArrayBuffer(BATCH * 4));
  const counters = new Float64Array(new ArrayBuffer(STATS * 8));
  const onBatch = (count: number): void => {
    for (let i = 0; i < count; i++) {
      outLens[i] = 0;
      const length = inLens[i]!;
      if (length < 0) continue; // over SLOT_IN: dropped, counted natively
      const start = i * SLOT_IN;
      let reply: Buffer | undefined;
      try {
        reply = onPacket(input.subarray(start, start + length));
      } catch (error) {
        report(error);
        continue;
      }
      if (reply === undefined) continue;
      if (reply.length > SLOT_OUT) {
        outLens[i] = SLOT_OUT + 1; // counted as a send error natively
        continue;
      }
      output.set(reply, i * SLOT_OUT);
      outLens[i] = reply.length;
    }
  };
  const onError = (error: unknown, code?: string, syscall?: string): void => {
    if (code === undefined) report(error);
    else report(Object.assign(new Error(`${syscall} ${code}`), { code, syscall }));
  };
  let handle: NativeHandle;
  try {
    handle = native.binding.open({
      host,
      port: at.port,
      ipv6: isIPv6(host),
      reusePort: options.reusePort === true,
      input,
      inLens,
      output,
      outLens,
      stats: counters,
      onBatch,
      onError,
    });
  } catch (error) {
    throw errnoError(error, at.host, at.port);
  }
  let bound: [string, number];
  try {
    bound = native.binding.address(handle);
  } catch (error) {
    await new Promise<void>((resolve) => native.binding.close(handle, resolve));
    throw error;
  }
  const [boundHost, boundPort] = bound;
  let closing: Promise<void> | undefined;
  return {
    address: { host: boundHost, port: boundPort },
    stats: () => ({ received: counters[0]!, sent: counters[1]!, sendErrors: counters[2]!, truncated: counters[3]! }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        native.binding.close(handle, resolve);
      });
      return closing;
    },
  };
}
