/**
 * The resolver's UDP to one server: a small pool of long-lived connected sockets, shared by
 * concurrent queries and demultiplexed by id and question. Opening a socket per query costs
 * more than the round trip itself on loopback; a pool amortises it and still moves ports often.
 *
 * - Source ports (RFC 5452 §9.2): each socket is bound to port 0, and the kernel picks the port
 *   at random in its ephemeral range (Linux and the BSDs randomise UDP ephemeral ports). Each
 *   query goes out on one of `sockets` sockets picked at random, and a socket is retired after
 *   `maxQueries` queries or `maxAgeMs` of age, whichever comes first, and replaced by a new one
 *   on a new random port. So an off-path attacker must guess the port as well as the 16-bit id,
 *   and a port learned (or found by a side channel such as SAD DNS) is useful for a bounded
 *   number of queries and time. The age is checked when a query picks the socket: no timers.
 *   The replacement is opened one query ahead, so queries do not wait for its connect.
 * - A reply counts only on the socket its query went out on, and only when it matches a pending
 *   query's id, name and type (RFC 5452 §9.1); anything else is ignored.
 * - A retired socket stays open until its pending queries are answered or time out, then closes.
 * - Sockets are unref'd: an idle channel never keeps a process, or a frozen Lambda, alive.
 *   Pending queries keep it alive through their timers.
 * - A socket error (ICMP port unreachable on a connected socket: ECONNREFUSED) fails that
 *   socket's pending queries at once; the next query that picks its slot opens a fresh socket.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ReplyMatch, ServerAddress } from './transport.js';

export interface Question {
  id: number;
  /** Lowercase, as the caller asked it. */
  name: string;
  qtype: number;
}

/** Receives the reply (well-formed or malformed) that matched the query. */
export type OnReply = (buf: Buffer, match: ReplyMatch) => void;

interface Pending {
  question: Question;
  resolve: OnReply;
  reject: (err: Error) => void;
}

export interface UdpChannelOptions {
  /** Sockets open at once, each on its own random port. Default 4. */
  sockets?: number;
  /** A socket is replaced after carrying this many queries (tries count). Default 64. */
  maxQueries?: number;
  /** ... or once it is this old, ms. Default 10000. */
  maxAgeMs?: number;
  /** Clock for maxAgeMs, ms. Default Date.now. */
  now?: () => number;
  /** Picks the socket of a query in [0, n). Default crypto.randomInt. */
  pick?: (n: number) => number;
}

/** One socket of the pool: its own pending queries, so replies are matched per port. */
interface Port {
  socket: Socket;
  ready: Promise<Socket>;
  connected: boolean;
  closed: boolean;
  openedAt: number;
  used: number;
  pending: Map<number, Pending[]>;
}

export class UdpChannel {
  readonly server: ServerAddress;
  readonly #accept: (buf: Buffer, question: Question) => ReplyMatch | undefined;
  readonly #size: number;
  readonly #maxQueries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #pick: (n: number) => number;
  readonly #slots: (Port | undefined)[];
  /** Per slot, the socket that replaces the current one (opened a query ahead). */
  readonly #next: (Port | undefined)[];
  /** Retired sockets that still carry pending queries. */
  readonly #draining = new Set<Port>();
  #opened = 0;

  constructor(
    server: ServerAddress,
    accept: (buf: Buffer, question: Question) => ReplyMatch | undefined,
    options: UdpChannelOptions = {},
  ) {
    this.server = server;
    this.#accept = accept;
    this.#size = options.sockets ?? 4;
    this.#maxQueries = options.maxQueries ?? 64;
    this.#maxAgeMs = options.maxAgeMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#pick = options.pick ?? ((n) => (n === 1 ? 0 : randomInt(n)));
    if (!Number.isInteger(this.#size) || this.#size < 1)
      throw new RangeError(`sockets must be >= 1, got ${this.#size}`);
    if (!Number.isInteger(this.#maxQueries) || this.#maxQueries < 1) {
      throw new RangeError(`maxQueries must be >= 1, got ${this.#maxQueries}`);
    }
    this.#slots = new Array(this.#size).fill(undefined);
    this.#next = new Array(this.#size).fill(undefined);
  }

  /** Sockets opened so far (for tests and figures). */
  get opened(): number {
    return this.#opened;
  }

  /**
   * Sends once on a socket of the pool; `onReply` gets the matching reply, or is never called
   * (the caller times out and calls cancel); `onError` gets a socket error.
   */
  send(query: Buffer, question: Question, onReply: OnReply, onError: (err: Error) => void): void {
    const i = this.#pick(this.#size);
    const port = this.#take(i);
    port.used++;
    // One query before the socket is due, open its replacement, so that the query that finds it
    // retired does not wait for a connect (the next one is usually connected by then).
    if (port.used >= this.#maxQueries - 1 && this.#next[i] === undefined) this.#next[i] = this.#open();
    const list = port.pending.get(question.id);
    if (list === undefined) port.pending.set(question.id, [{ question, resolve: onReply, reject: onError }]);
    else if (!list.some((p) => p.resolve === onReply)) list.push({ question, resolve: onReply, reject: onError });
    if (port.connected) this.#write(port, query);
    else
      port.ready.then(
        () => this.#write(port, query),
        () => {},
      ); // #fail rejects the pending
  }

  /** Forgets a query (answered, failed or timed out) on every socket it went out on. */
  cancel(question: Question, onReply: OnReply): void {
    for (const port of this.#slots) if (port !== undefined) forget(port, question, onReply);
    for (const port of this.#draining) {
      forget(port, question, onReply);
      if (port.pending.size === 0) this.#close(port);
    }
  }

  close(): void {
    for (const port of [...this.#slots, ...this.#next, ...this.#draining]) if (port !== undefined) this.#close(port);
  }

  /**
   * The socket of slot `i` for the next query. A socket past maxQueries or maxAgeMs is retired
   * and replaced by the slot's next socket; until that one is connected, a socket retired only
   * for its age keeps carrying queries (maxQueries still bounds it), so no query waits for a
   * connect. A socket never carries more than maxQueries queries.
   */
  #take(i: number): Port {
    const port = this.#slots[i];
    if (port === undefined) {
      const next = this.#next[i] ?? this.#open();
      this.#next[i] = undefined;
      this.#slots[i] = next;
      return next;
    }
    if (port.used < this.#maxQueries && this.#now() - port.openedAt < this.#maxAgeMs) return port;
    let next = this.#next[i];
    if (next === undefined) {
      next = this.#open();
      this.#next[i] = next;
    }
    if (!next.connected && port.used < this.#maxQueries) return port;
    this.#next[i] = undefined;
    this.#slots[i] = next;
    if (port.pending.size === 0) this.#close(port);
    else this.#draining.add(port);
    return next;
  }

  #open(): Port {
    this.#opened++;
    const socket = createSocket(isIPv6(this.server.host) ? 'udp6' : 'udp4');
    const port: Port = {
      socket,
      ready: undefined as unknown as Promise<Socket>,
      connected: false,
      closed: false,
      openedAt: this.#now(),
      used: 0,
      pending: new Map(),
    };
    port.ready = new Promise<Socket>((resolve, reject) => {
      socket.once('error', reject);
      // Port 0: the kernel picks a random ephemeral port at bind (RFC 6056 §3.3).
      // A failed connect (a host name that does not resolve) comes to this callback, not as
      // an 'error' event: the socket is then unconnected and cannot send.
      socket.connect(this.server.port, this.server.host, (err?: Error) => {
        socket.off('error', reject);
        if (err) return reject(err);
        socket.on('error', (err) => this.#fail(port, err));
        socket.unref();
        port.connected = true;
        resolve(socket);
      });
    });
    port.ready.catch((err: Error) => this.#fail(port, err));
    socket.on('message', (buf) => this.#onMessage(port, buf));
    return port;
  }

  #write(port: Port, query: Buffer): void {
    if (port.closed) return;
    port.socket.send(query, (err) => {
      if (err) this.#fail(port, err);
    });
  }

  #onMessage(port: Port, buf: Buffer): void {
    if (buf.length < 2) return;
    const list = port.pending.get(buf.readUInt16BE(0));
    if (list === undefined) return;
    for (const pending of list) {
      const match = this.#accept(buf, pending.question);
      if (match !== undefined) {
        pending.resolve(buf, match);
        return;
      }
    }
  }

  #close(port: Port): void {
    this.#draining.delete(port);
    const i = this.#slots.indexOf(port);
    if (i >= 0) this.#slots[i] = undefined;
    const j = this.#next.indexOf(port);
    if (j >= 0) this.#next[j] = undefined;
    if (port.closed) return;
    port.closed = true;
    port.socket.close();
  }

  #fail(port: Port, err: Error): void {
    if (port.closed) return;
    const pending = [...port.pending.values()].flat();
    port.pending.clear();
    this.#close(port);
    for (const p of pending) p.reject(err);
  }
}

function forget(port: Port, question: Question, onReply: OnReply): void {
  const list = port.pending.get(question.id);
  if (list === undefined) return;
  const rest = list.filter((p) => p.resolve !== onReply);
  if (rest.length === 0) port.pending.delete(question.id);
  else port.pending.set(question.id, rest);
}
