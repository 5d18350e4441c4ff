/**
 * UDP in batches through the native `udp_batch` addon (src/native/udp_batch.c): one recvmmsg takes
 * up to 64 datagrams, one JS call handles them all, one sendmmsg sends the replies. Linux only;
 * where the addon is not built or does not load, `loadUdpBatch()` says why and the daemon keeps
 * the node:dgram listener. Carries bytes; decides nothing.
 */
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP, isIPv6 } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Why the batched UDP path is not available (for a log line), e.g. "not Linux (darwin)". */
export type UdpIoReason = string;

/** The addon's counters, by the names its STAT export gives them (stat_names in udp_batch.c). */
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

/**
 * Writes the reply to `message` into `out` at `offset` and returns its length; a length of 0 or
 * less (-1 by convention) sends nothing. `out` has SLOT_OUT (65536) bytes from `offset` for it;
 * a longer length is dropped and counted as a send error. Bytes of `out` outside
 * `[offset, offset + length)` are not the writer's.
 */
export type ReplyWriter = (message: Buffer, out: Buffer, offset: number, peer: DatagramPeer) => number;

/**
 * Who sent the datagram being answered (DNS server cookies hash it, RFC 9018 §4.4): one object
 * per socket, valid only during the writer's call; `bytes()` builds the view only when asked, so
 * a query that needs no address pays nothing. 4 bytes (IPv4, IPv4-mapped included) or 16; empty
 * from an addon built before it reported peers.
 */
export interface DatagramPeer {
  bytes(): Uint8Array;
}

/** Bytes per peer slot in the addon's peers buffer: the address length (0, 4 or 16), then the address. */
const PEER_SLOT = 17;

/**
 * What answers a datagram: a function returning a new Buffer (copied into the send slot; simple,
 * for tests and tools), or `{ writeInto }` writing the reply into the send slot itself (the
 * daemon: no Buffer per reply and no copy).
 */
export type PacketHandler = ((message: Buffer) => Buffer | undefined) | { writeInto: ReplyWriter };

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
  /** BATCH * PEER_SLOT bytes the addon fills with each datagram's source address. */
  peers: Buffer;
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
  /** Counter name -> its slot in the stats Float64Array. */
  readonly STAT: Readonly<Record<string, unknown>>;
  open(config: NativeConfig): NativeHandle;
  address(handle: NativeHandle): [string, number];
  close(handle: NativeHandle, done: () => void): boolean;
}

/** The counter names this module reads; the addon's STAT must name exactly these. */
const STAT_NAMES = ['received', 'sent', 'sendErrors', 'truncated'] as const satisfies readonly (keyof BatchUdpStats)[];
type StatSlots = Readonly<Record<keyof BatchUdpStats, number>>;

/**
 * Where the addon is, relative to this module, for each folder this module runs from: node-gyp
 * builds it in src/native/build/Release, and this module is either tsc's output in
 * dist/src/server/ (the daemon, the tests, the Dockerfile's /app/dist/src/server) or the source in
 * src/server/ (run directly). A short fixed list, first hit wins, every path inside the package:
 * no walking up the tree, so neither a stray package.json nor a copy of psarn inside another
 * package can change which file loads.
 */
const LAYOUTS: readonly (readonly [moduleDir: string, addon: string])[] = [
  ['/dist/src/server/', '../../../src/native/build/Release/udp_batch.node'],
  ['/dist/src/server/', '../native/build/Release/udp_batch.node'], // an addon copied beside dist/src
  ['/src/server/', '../native/build/Release/udp_batch.node'],
];

/** The absolute paths tried for the addon, in order, for this module's URL (or another, in tests). */
export function addonCandidates(moduleUrl: string | URL = import.meta.url): string[] {
  const here = new URL('.', moduleUrl);
  const paths = LAYOUTS.filter(([dir]) => here.pathname.endsWith(dir)).map(([, addon]) => new URL(addon, here));
  return [...new Set(paths.map((url) => fileURLToPath(url)))];
}

/**
 * The addon's counter slots by name, or why they cannot be used: every name of BatchUdpStats must
 * map to its own slot below `count`, and the addon must have no counter this module does not read.
 */
export function statSlots(stat: unknown, count: number): StatSlots | string {
  if (typeof stat !== 'object' || stat === null) return 'it exports no STAT counter names';
  const names = Object.keys(stat).sort();
  const wanted = [...STAT_NAMES].sort();
  if (names.join() !== wanted.join()) return `its counters are [${names}], this module reads [${wanted}]`;
  const slots = stat as Record<string, unknown>;
  const taken = new Set<unknown>();
  for (const name of STAT_NAMES) {
    const slot = slots[name];
    if (!Number.isInteger(slot) || (slot as number) < 0 || (slot as number) >= count || taken.has(slot)) {
      return `its counter ${name} has slot ${String(slot)} (want a distinct integer 0..${count - 1})`;
    }
    taken.add(slot);
  }
  return slots as StatSlots;
}

type Loaded = { ok: true; binding: NativeBinding; slots: StatSlots } | { ok: false; reason: UdpIoReason };
let loaded: Loaded | undefined;

function load(): Loaded {
  loaded ??= (() => {
    if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
    const candidates = addonCandidates();
    if (candidates.length === 0) {
      return { ok: false, reason: `${fileURLToPath(import.meta.url)} is not in src/server/ or dist/src/server/` };
    }
    const file = candidates.find((path) => existsSync(path));
    if (file === undefined) {
      return {
        ok: false,
        reason: `udp_batch.node not built (run npm run build:native); looked for ${candidates.join(', ')}`,
      };
    }
    let binding: NativeBinding;
    try {
      binding = createRequire(import.meta.url)(file) as NativeBinding;
    } catch (error) {
      return { ok: false, reason: `${file} failed to load: ${(error as Error).message}` };
    }
    if (binding.available !== true) return { ok: false, reason: `${file} has no batched UDP on this system` };
    const slots = statSlots(binding.STAT, binding.STATS);
    if (typeof slots === 'string') {
      return { ok: false, reason: `${file} is from another version: ${slots} (run npm run build:native)` };
    }
    return { ok: true, binding, slots };
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

/** A function returning a Buffer, as a ReplyWriter: the reply copied into the slot. */
function copyingWriter(onPacket: (message: Buffer) => Buffer | undefined, slotOut: number): ReplyWriter {
  return (message, out, offset) => {
    const reply = onPacket(message);
    if (reply === undefined) return -1;
    if (reply.length <= slotOut) out.set(reply, offset); // a longer one is counted, not sent
    return reply.length;
  };
}

/**
 * Binds host:port and answers every datagram with onPacket (see PacketHandler): a returned Buffer
 * is copied into the send slot, a `writeInto` writes there itself. `message` is a view into a
 * receive slot that the next batch overwrites: it is valid only during the call, so copy what must
 * outlive it (returning a view of `message` is fine: it is copied at once). Replies over 64 KiB are
 * dropped and counted as send errors. Bind errors reject with Node's errno codes (EADDRINUSE,
 * EACCES, EADDRNOTAVAIL, ...).
 * @example
 * const socket = await listenUdpBatch(
 *   { host: '127.0.0.1', port: 0 },
 *   { writeInto: (q, out, offset) => handler.handleInto(q, 'udp', out, offset) },
 *   {},
 * );
 * console.log(socket.address.port, socket.stats().received);
 * await socket.close();
 */
export async function listenUdpBatch(
  at: { host: string; port: number },
  onPacket: PacketHandler,
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
  const { slots } = native;
  const write = typeof onPacket === 'function' ? copyingWriter(onPacket, SLOT_OUT) : onPacket.writeInto;
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
  const peers = Buffer.alloc(BATCH * PEER_SLOT);
  const peer = {
    slot: 0,
    bytes(): Uint8Array {
      const at = this.slot * PEER_SLOT;
      return peers.subarray(at + 1, at + 1 + peers[at]!);
    },
  };
  const onBatch = (count: number): void => {
    for (let i = 0; i < count; i++) {
      peer.slot = i;
      outLens[i] = 0;
      const length = inLens[i]!;
      if (length < 0) continue; // over SLOT_IN: dropped, counted natively
      const start = i * SLOT_IN;
      let written: number;
      try {
        written = write(input.subarray(start, start + length), output, i * SLOT_OUT, peer);
      } catch (error) {
        report(error);
        continue;
      }
      // Longer than the slot: counted as a send error natively, nothing sent. (A writer that did
      // write that much overran into later slots, each rewritten or left unsent after this one.)
      if (written > 0) outLens[i] = written > SLOT_OUT ? SLOT_OUT + 1 : written;
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
      peers,
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
    stats: () => ({
      received: counters[slots.received]!,
      sent: counters[slots.sent]!,
      sendErrors: counters[slots.sendErrors]!,
      truncated: counters[slots.truncated]!,
    }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        native.binding.close(handle, resolve);
      });
      return closing;
    },
  };
}
