/**
 * A long-lived connected UDP socket to one server, shared by concurrent queries and
 * demultiplexed by id and question. Opening a socket per query costs more than the round trip
 * itself on loopback; the resolver keeps one channel per server instead.
 *
 * - Replies are accepted only when they decode and match a pending query's id, name and type
 *   (RFC 5452 §9.1); anything else is ignored.
 * - The source port changes every `rotateAfter` queries (RFC 5452 §9.2 asks for port
 *   randomness; rotation keeps some of it at a fraction of the cost).
 * - The socket is unref'd: an idle channel never keeps a process, or a frozen Lambda, alive.
 *   Pending queries keep it alive through their timers.
 * - A socket error (ICMP port unreachable on a connected socket: ECONNREFUSED) fails the
 *   pending queries at once and the next query opens a fresh socket.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { DecodedMessage } from '../wire/message.js';
import type { ServerAddress } from './transport.js';

export interface Question {
  id: number;
  /** Lowercase, as decodeMessage reports question names lowercased by the caller. */
  name: string;
  qtype: number;
}

interface Pending {
  question: Question;
  resolve: (reply: { buf: Buffer; message: DecodedMessage }) => void;
  reject: (err: Error) => void;
}

export class UdpChannel {
  readonly server: ServerAddress;
  readonly #rotateAfter: number;
  readonly #accept: (buf: Buffer, question: Question) => DecodedMessage | undefined;
  #socket: Socket | undefined;
  #ready: Promise<Socket> | undefined;
  #used = 0;
  readonly #pending = new Map<number, Pending[]>();

  constructor(
    server: ServerAddress,
    accept: (buf: Buffer, question: Question) => DecodedMessage | undefined,
    options: { rotateAfter?: number } = {},
  ) {
    this.server = server;
    this.#accept = accept;
    this.#rotateAfter = options.rotateAfter ?? 1024;
  }

  /** Sends once; resolves with the matching reply, or never (the caller times out and calls cancel). */
  async send(
    query: Buffer,
    question: Question,
    onReply: Pending['resolve'],
    onError: Pending['reject'],
  ): Promise<void> {
    const socket = await this.#open();
    const list = this.#pending.get(question.id) ?? [];
    if (!list.some((p) => p.resolve === onReply)) list.push({ question, resolve: onReply, reject: onError });
    this.#pending.set(question.id, list);
    socket.send(query, (err) => {
      if (err) this.#fail(err);
    });
  }

  /** Forgets a query (answered or timed out). */
  cancel(question: Question, onReply: Pending['resolve']): void {
    const list = this.#pending.get(question.id);
    if (list === undefined) return;
    const rest = list.filter((p) => p.resolve !== onReply);
    if (rest.length === 0) this.#pending.delete(question.id);
    else this.#pending.set(question.id, rest);
    if (this.#pending.size === 0 && this.#used >= this.#rotateAfter) this.close();
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
    this.#ready = undefined;
    this.#used = 0;
  }

  #open(): Promise<Socket> {
    this.#used++;
    if (this.#ready !== undefined) return this.#ready;
    const socket = createSocket(isIPv6(this.server.host) ? 'udp6' : 'udp4');
    this.#ready = new Promise<Socket>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(this.server.port, this.server.host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.#fail(err, socket));
        socket.unref();
        resolve(socket);
      });
    });
    this.#ready.catch(() => this.close());
    socket.on('message', (buf) => this.#onMessage(buf));
    this.#socket = socket;
    return this.#ready;
  }

  #onMessage(buf: Buffer): void {
    if (buf.length < 2) return;
    const list = this.#pending.get(buf.readUInt16BE(0));
    if (list === undefined) return;
    for (const pending of list) {
      const message = this.#accept(buf, pending.question);
      if (message !== undefined) {
        pending.resolve({ buf, message });
        return;
      }
    }
  }

  #fail(err: Error, socket = this.#socket): void {
    if (socket !== this.#socket) return;
    const pending = [...this.#pending.values()].flat();
    this.#pending.clear();
    this.close();
    for (const p of pending) p.reject(err);
  }
}
