/**
 * DNS over TCP (RFC 7766): 2-byte length framing, pipelining (replies in order, those to one
 * read written together as soon as they are answered), an idle timeout, and a connection cap. At the cap the connection
 * idle longest is closed to admit the new one (RFC 7766 §6.2.3: servers may close idle
 * connections under pressure), so idle connections cannot starve the service. A peer that does
 * not read its replies is paused, then dropped. A frame that is not a query (shorter than a
 * header, or a response) closes the connection at once: only answered queries are activity.
 * A zone transfer (handler.transfer) is many messages: they are written one at a time as the
 * socket drains (back-pressure), the connection reads nothing more meanwhile (queries that came
 * with it wait, then are answered in order), and a connection that closes ends the transfer.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config/config.js';
import { FrameDecoder, frame, frameAll } from '../wire/tcp.js';
import type { MessageHandler } from './late-handler.js';
import { listenOn } from './listen.js';
import type { DaemonMetrics } from './metrics.js';

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
}

/** Unsent reply bytes at which a connection stops reading, and at which it is dropped. */
const PAUSE_AT = 256 * 1024;
const DROP_AT = 4 * 1024 * 1024;

interface Conn {
  socket: Socket;
  lastActive: number;
  timer: NodeJS.Timeout;
  /** The zone transfer being written, if any. */
  transfer?: Iterator<Buffer>;
}

export interface TcpListener {
  readonly address: HostPort;
  readonly connections: number;
  /** New limits apply to new activity (SIGHUP). */
  configure(options: TcpOptions): void;
  /** Stops accepting, lets open connections finish what they have read, then closes them. */
  close(graceMs?: number): Promise<void>;
}

export async function listenTcp(
  at: HostPort,
  handler: MessageHandler,
  options: TcpOptions & {
    /** The most maxConnections may be, now and after a reload: what the fd limit allows (fd-budget.ts). */
    maxConnectionsCeiling?: number;
    metrics: DaemonMetrics;
    log: Logger;
    now?: () => number;
  },
): Promise<TcpListener> {
  const { metrics, log } = options;
  const now = options.now ?? (() => performance.now());
  const ceiling = options.maxConnectionsCeiling ?? Number.POSITIVE_INFINITY;
  // At start the daemon has already said so (fd-budget.ts connectionCaps); on reload we say it.
  const capped = (next: TcpOptions, warn: boolean): TcpOptions => {
    if (next.maxConnections <= ceiling) return { ...next };
    if (warn)
      log.warn(
        { configured: next.maxConnections, cap: ceiling },
        'tcp.maxConnections is above what the open-files limit allows; using the lower cap',
      );
    return { ...next, maxConnections: ceiling };
  };
  let limits = capped({ idleTimeoutMs: options.idleTimeoutMs, maxConnections: options.maxConnections }, false);
  const conns = new Set<Conn>();
  let closing = false;

  const drop = (conn: Conn): void => {
    clearTimeout(conn.timer);
    conn.socket.destroy();
  };

  const evictIdlest = (): boolean => {
    let idlest: Conn | undefined;
    for (const conn of conns) {
      if (conn.socket.writableLength > 0 || conn.transfer !== undefined) continue;
      if (idlest === undefined || conn.lastActive < idlest.lastActive) idlest = conn;
    }
    if (idlest === undefined) return false;
    metrics.tcpEvicted.inc();
    drop(idlest);
    conns.delete(idlest);
    return true;
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (conns.size >= limits.maxConnections && !evictIdlest()) {
      socket.destroy();
      return;
    }
    const decoder = new FrameDecoder();
    const conn: Conn = {
      socket,
      lastActive: now(),
      timer: setTimeout(() => drop(conn), limits.idleTimeoutMs),
    };
    conns.add(conn);
    metrics.tcpConnections.set(conns.size);
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    /** Messages read but not answered yet: those behind a zone transfer wait for it. */
    let pending: Buffer[] = [];

    /** Writes a transfer's messages as the socket drains; then answers what waited behind it. */
    const pump = (): void => {
      const it = conn.transfer!;
      try {
        for (;;) {
          if (socket.destroyed || socket.writableEnded) {
            conn.transfer = undefined;
            it.return?.();
            return;
          }
          const next = it.next();
          if (next.done) break;
          conn.lastActive = now();
          conn.timer.refresh();
          if (!socket.write(frame(next.value))) {
            socket.once('drain', pump);
            return;
          }
        }
      } catch (error) {
        log.error({ err: error }, 'zone transfer failed; closing the connection');
        conn.transfer = undefined;
        it.return?.();
        drop(conn);
        return;
      }
      conn.transfer = undefined;
      socket.resume();
      answer([]);
    };

    const answer = (messages: Buffer[]): void => {
      if (pending.length > 0) {
        messages = pending.concat(messages);
        pending = [];
      }
      const replies: Buffer[] = [];
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i]!;
        const stream = handler.transfer?.(message, peer);
        if (stream !== undefined) {
          // What came before it goes first, in order; what came after waits for its end.
          if (replies.length > 0) socket.write(replies.length === 1 ? frame(replies[0]!) : frameAll(replies));
          pending = messages.slice(i + 1);
          conn.transfer = stream[Symbol.iterator]();
          socket.pause();
          pump();
          return;
        }
        const reply = handler.handle(message, 'tcp', socket.remoteAddress);
        // A message the handler drops (a response, QR=1) is counted there. Only answered
        // queries are activity: a peer sending what we do not answer would otherwise hold the
        // connection forever, so it is closed at once.
        if (reply === undefined) {
          log.debug('tcp message dropped; closing');
          drop(conn);
          return;
        }
        replies.push(reply);
      }
      if (replies.length > 0) {
        conn.lastActive = now();
        conn.timer.refresh();
      }
      // The replies to everything this read brought, in order, in one write (one syscall, not one each).
      if (replies.length > 0 && !socket.destroyed)
        socket.write(replies.length === 1 ? frame(replies[0]!) : frameAll(replies));
      if (socket.writableLength > DROP_AT) drop(conn);
      else if (socket.writableLength > PAUSE_AT) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    };

    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        // A frame too short to hold a DNS header (0 included): not DNS, close at once.
        metrics.dropped('tcp');
        log.debug({ err: error }, 'tcp framing error; closing');
        drop(conn);
        return;
      }
      // A paused socket may still deliver what it had read: it waits behind the transfer.
      if (conn.transfer !== undefined) pending.push(...messages);
      else answer(messages);
    });
    socket.on('error', (error) => log.debug({ err: error }, 'tcp connection error'));
    socket.on('close', () => {
      // A closed connection ends its transfer: the zone's read and its store connection go.
      const transfer = conn.transfer;
      conn.transfer = undefined;
      transfer?.return?.();
      clearTimeout(conn.timer);
      conns.delete(conn);
      metrics.tcpConnections.set(conns.size);
    });
  });
  // After the bind: a failed bind (EADDRINUSE, which listenPair retries) is the caller's to report.
  const address = await listenOn(server, at);
  server.on('error', (error) => log.error({ err: error }, 'tcp server error'));
  return {
    address,
    get connections() {
      return conns.size;
    },
    configure(next: TcpOptions) {
      limits = capped(next, true);
    },
    async close(graceMs = 2000) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Replies are written as queries are read, so ending each connection flushes them.
      for (const conn of conns) {
        clearTimeout(conn.timer);
        conn.socket.end();
      }
      const deadline = setTimeout(() => {
        for (const conn of conns) conn.socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
    },
  };
}
