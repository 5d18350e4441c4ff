/**
 * A secondary's conversations with its primary (docs/design.md#transfers-in): one query over UDP
 * with its reply, and one query over TCP with a stream of replies (a zone transfer, RFC 5936 §4:
 * 2-byte length framing, RFC 1035 §4.2.2). Only carrying: the caller decides what the messages
 * mean, message by message, so that a zone of any size streams through in constant memory.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { HostPort } from '../config/config.js';
import { Flag, Hdr, u16At } from '../wire/cursor.js';
import { WireError } from '../wire/errors.js';
import { FrameDecoder, frame } from '../wire/tcp.js';
import { TransferError } from './errors.js';

export interface ExchangeOptions {
  /** Whole exchange, ms. */
  timeoutMs: number;
  /** Longest wait between two reads of a stream, ms (TCP only). */
  idleMs?: number;
  signal?: AbortSignal | undefined;
  /** Names the primary and zone in errors: "primary 10.0.0.5:53, zone z." */
  what: string;
}

/** The parts of a reply's header checked before anything else (RFC 5936 §2.2: the query's ID, QR set). */
function matches(reply: Buffer, id: number): boolean {
  return reply.length >= Hdr.SIZE && u16At(reply, Hdr.ID) === id && (u16At(reply, Hdr.FLAGS) & Flag.QR) !== 0;
}

function aborted(options: ExchangeOptions): TransferError {
  return new TransferError('ERR_XFR_TIMEOUT', `${options.what}: aborted`, { cause: options.signal?.reason });
}

/**
 * Sends `query` over UDP and resolves with the first datagram from `to` that answers its ID
 * (others are ignored: RFC 5452 §9.1).
 * @throws TransferError ERR_XFR_TIMEOUT, ERR_XFR_CONNECT
 */
export function udpExchange(to: HostPort, query: Buffer, options: ExchangeOptions): Promise<Buffer> {
  const id = u16At(query, Hdr.ID);
  return new Promise((resolve, reject) => {
    const socket = createSocket(to.host.includes(':') ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | undefined, reply?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const onAbort = () => finish(aborted(options));
    const timer = setTimeout(
      () => finish(new TransferError('ERR_XFR_TIMEOUT', `${options.what}: no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    if (options.signal?.aborted) return finish(aborted(options));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) =>
      finish(new TransferError('ERR_XFR_CONNECT', `${options.what}: ${err.message}`, { cause: err })),
    );
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== to.port || !matches(msg, id)) return;
      finish(undefined, msg);
    });
    socket.send(query, to.port, to.host);
  });
}

/** What the caller does with each message of a TCP stream: true once the last one has come. */
export type OnMessage = (message: Buffer, index: number) => boolean;

export interface StreamResult {
  bytes: number;
  messages: number;
}

/**
 * Sends `query` over a new TCP connection and hands each reply to `onMessage`, in order, as it
 * arrives (nothing is kept after the call), until it returns true; then closes the connection.
 * A message with another ID is an error (RFC 5936 §2.2). `onMessage` may throw: the connection is
 * closed and the error passed on.
 * @throws TransferError ERR_XFR_CONNECT, ERR_XFR_TIMEOUT (overall or idle), ERR_XFR_MALFORMED
 *   (bad framing, a foreign message, the connection closed before the last message)
 */
export function tcpStream(
  to: HostPort,
  query: Buffer,
  onMessage: OnMessage,
  options: ExchangeOptions,
): Promise<StreamResult> {
  const id = u16At(query, Hdr.ID);
  const idleMs = options.idleMs ?? options.timeoutMs;
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    const socket = connect({ host: to.host, port: to.port, noDelay: true });
    let bytes = 0;
    let messages = 0;
    let done = false;
    const finish = (err: Error | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(idle);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve({ bytes, messages });
    };
    const onAbort = () => finish(aborted(options));
    const timer = setTimeout(
      () => finish(new TransferError('ERR_XFR_TIMEOUT', `${options.what}: not done within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    let idle = setTimeout(() => undefined, 0);
    const stillAlive = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => finish(new TransferError('ERR_XFR_TIMEOUT', `${options.what}: nothing received for ${idleMs} ms`)),
        idleMs,
      );
    };
    stillAlive();
    if (options.signal?.aborted) return finish(aborted(options));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => socket.write(frame(query)));
    socket.on('error', (err) => {
      const code = messages === 0 && bytes === 0 ? 'ERR_XFR_CONNECT' : 'ERR_XFR_MALFORMED';
      finish(new TransferError(code, `${options.what}: ${err.message}`, { cause: err }));
    });
    socket.on('close', () =>
      finish(
        new TransferError(
          'ERR_XFR_MALFORMED',
          `${options.what}: the connection closed after ${messages} messages, before the transfer's end`,
        ),
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      stillAlive();
      bytes += chunk.length;
      try {
        for (const message of decoder.push(chunk)) {
          if (!matches(message, id)) {
            throw new TransferError(
              'ERR_XFR_MALFORMED',
              `${options.what}: message ${messages + 1} does not answer the query (ID or QR)`,
            );
          }
          const last = onMessage(message, messages++);
          if (last) return finish(undefined);
        }
      } catch (err) {
        // The framing's WireError is a malformed stream; what onMessage throws is its own to name.
        finish(
          err instanceof WireError
            ? new TransferError('ERR_XFR_MALFORMED', `${options.what}: ${err.message}`, { cause: err })
            : (err as Error),
        );
      }
    });
  });
}
