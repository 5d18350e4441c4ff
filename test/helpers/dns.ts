/** Minimal DNS exchange for tests: raw bytes over UDP or TCP to 127.0.0.1, bounded by a timeout. */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { type DecodedMessage, decodeMessage, encodeQuery, type QueryOptions } from '../../src/wire/message.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';
import type { HostPort } from './daemon.js';

/** Sends raw bytes over UDP; resolves with the reply bytes, or undefined after timeoutMs. */
export function udpRaw(server: HostPort, bytes: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, timeoutMs);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(bytes, server.port, server.host);
  });
}

/** Sends raw messages over one TCP connection; resolves with the replies (in order) once `expect` arrived or timeout. */
export function tcpRaw(
  server: HostPort,
  messages: Buffer[],
  expect = messages.length,
  timeoutMs = 2000,
): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const replies: Buffer[] = [];
    const decoder = new FrameDecoder();
    const socket = connect(server.port, server.host);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(replies);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.write(Buffer.concat(messages.map(frame))));
    socket.on('data', (chunk) => {
      replies.push(...decoder.push(chunk));
      if (replies.length >= expect) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

let nextId = 1;

/** One query with our own codec; decodes the reply. */
export async function query(
  server: HostPort,
  name: string,
  qtype: number,
  options: Partial<QueryOptions> & { tcp?: boolean } = {},
): Promise<DecodedMessage> {
  const id = nextId++ & 0xffff || 1;
  const bytes = encodeQuery({ id, name, qtype, ...options });
  const reply = options.tcp ? (await tcpRaw(server, [bytes]))[0] : await udpRaw(server, bytes);
  if (reply === undefined) throw new Error(`no reply for ${name}/${qtype}`);
  return decodeMessage(reply);
}

/**
 * Asks `name` (URI, no EDNS unless given) every `everyMs` until `done` holds or `ms` pass; a
 * query without an answer is asked again. Returns the last reply and how long it took.
 */
export async function askUntil(
  at: HostPort,
  name: string,
  done: (m: DecodedMessage) => boolean,
  ms: number,
  options: Partial<QueryOptions> & { qtype?: number; everyMs?: number } = {},
): Promise<{ reply: DecodedMessage | undefined; ms: number }> {
  const { qtype = 256, everyMs = 10, ...rest } = options;
  const started = performance.now();
  let reply: DecodedMessage | undefined;
  while (performance.now() - started < ms) {
    try {
      reply = await query(at, name, qtype, { edns: false, ...rest });
      if (done(reply)) break;
    } catch {
      // no answer yet: ask again
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return { reply, ms: performance.now() - started };
}
