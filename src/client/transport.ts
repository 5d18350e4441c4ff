/**
 * One DNS exchange with one server (RFC 1035 §4.2): UDP with a per-try timeout and retries,
 * then TCP (2-byte length framing, RFC 7766 §8) when the reply has TC set. Used by `psarn dig`
 * and by the client library.
 *
 * Every datagram and frame is hostile: a reply is considered only when it has QR set and its
 * id, question name (case-insensitive) and type match the query (RFC 5452 §9.1); any other
 * packet is ignored, never trusted. A matching reply whose records do not decode is a bad answer
 * from that server, reported at once (ERR_DNS_MALFORMED) instead of waiting out every try: the
 * server did answer, and asking it again would get the same bytes. Only when its TC bit is set
 * is it taken as truncated, and TCP asked (RFC 2181 §9: a truncated message may be cut anywhere).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6, type Socket as NetSocket, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { PsarnBaseError } from '../errors.js';
import { Cursor, Flag, Hdr, u16At } from '../wire/cursor.js';
import { WireError } from '../wire/errors.js';
import type { DecodedMessage } from '../wire/message.js';
import { decodeMessage, typeName } from '../wire/message.js';
import { presentName, readName } from '../wire/name.js';
import { FrameDecoder, frame } from '../wire/tcp.js';
import type { Question, UdpChannel } from './udp-channel.js';

export interface ServerAddress {
  host: string;
  port: number;
}

export interface ExchangeOptions {
  /** Skip UDP and ask over TCP. Default false. */
  tcp?: boolean;
  /** Per try, in ms: how long to wait for a matching reply. Default 2000. */
  timeoutMs?: number;
  /** UDP sends before giving up (TCP connects once per try as well). Default 3. */
  tries?: number;
  /** Monotonic ms clock for the round-trip time. Default performance.now. */
  now?: () => number;
  /** Send UDP through this long-lived channel (the resolver's) instead of a socket per query. */
  channel?: UdpChannel;
  /** The query's id and question, when the caller has them: saves decoding the query again. */
  question?: Question;
}

export interface ExchangeResult {
  reply: Buffer;
  message: DecodedMessage;
  /** Round trip of the exchange that produced the reply (after a TC retry: the TCP one). */
  rttMs: number;
  transport: 'udp' | 'tcp';
}

/**
 * ERR_DNS_TIMEOUT: no matching reply in any try. ERR_DNS_CONNECT: refused, unreachable, or the
 * TCP connection closed without a reply. ERR_DNS_MALFORMED: the server's reply matched the
 * query but its records do not decode (the WireError is the cause).
 */
export type TransportErrorCode = 'ERR_DNS_TIMEOUT' | 'ERR_DNS_CONNECT' | 'ERR_DNS_MALFORMED';

export class TransportError extends PsarnBaseError {
  readonly code: TransportErrorCode;
  readonly server: ServerAddress;
  constructor(code: TransportErrorCode, server: ServerAddress, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
    this.server = server;
  }
}

/** `127.0.0.1#8053`, dig's way of writing a server. */
export function formatServer(server: ServerAddress): string {
  return `${server.host}#${server.port}`;
}

type Expect = Question;

/** What a datagram or frame is to the query it may answer (see matchReply). */
export type ReplyMatch =
  | { kind: 'reply'; message: DecodedMessage }
  /** Header and question answer the query, the rest does not decode. */
  | { kind: 'malformed'; tc: boolean; error: WireError };

/** A malformed reply with TC set: go to TCP as for any truncated reply. */
const TRUNCATED = 'truncated';

/** How long to wait for each try, how many tries, and the clock for the round-trip time. */
interface Attempts {
  timeoutMs: number;
  tries: number;
  now: () => number;
}

/**
 * Sends `query` (a whole DNS message) to `server` and resolves with the first matching reply.
 * @throws TransportError ERR_DNS_TIMEOUT (no matching reply in any try), ERR_DNS_CONNECT
 *   (refused, unreachable, or the TCP connection closed without a reply) or ERR_DNS_MALFORMED
 *   (a matching reply that does not decode)
 * @example
 *   const q = encodeQuery({ id: randomInt(65536), name: 'created.orders.123456789012.us-east-1.aws.psarn.internal.', qtype: Type.URI });
 *   const { message } = await exchange({ host: '127.0.0.1', port: 8053 }, q);
 */
export async function exchange(
  server: ServerAddress,
  query: Buffer,
  options: ExchangeOptions = {},
): Promise<ExchangeResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const tries = options.tries ?? 3;
  const now = options.now ?? (() => performance.now());
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  if (!Number.isInteger(tries) || tries < 1) throw new RangeError(`tries must be an integer >= 1, got ${tries}`);
  const expect = options.question ?? questionOf(query);
  const attempts: Attempts = { timeoutMs, tries, now };

  if (!options.tcp) {
    const udp = options.channel
      ? await channelExchange(options.channel, query, expect, attempts)
      : await udpExchange(server, query, expect, attempts);
    if (udp !== TRUNCATED && !udp.message.tc) return udp;
  }
  return tcpExchange(server, query, expect, attempts);
}

function questionOf(query: Buffer): Expect {
  const q = decodeMessage(query);
  const question = q.question[0];
  if (question === undefined) throw new RangeError('the query has no question');
  return { id: q.id, name: question.name.toLowerCase(), qtype: question.qtype };
}

/**
 * Whether `buf` answers the query `expect`: undefined when it does not (not a reply, another id
 * or question, too short: ignore it), else the decoded reply, or `malformed` when the header and
 * question match but the records do not decode.
 */
export function matchReply(buf: Buffer, expect: Expect): ReplyMatch | undefined {
  if (buf.length < Hdr.SIZE || u16At(buf, Hdr.ID) !== expect.id) return undefined;
  let message: DecodedMessage;
  try {
    message = decodeMessage(buf);
  } catch (err) {
    // Only now read the header and question alone: the common path decodes the bytes once.
    if (!answersQuestion(buf, expect)) return undefined;
    const error =
      err instanceof WireError ? err : new WireError(String((err as Error)?.message ?? err), -1, { cause: err });
    return { kind: 'malformed', tc: (u16At(buf, Hdr.FLAGS) & Flag.TC) !== 0, error };
  }
  const question = message.question[0];
  if (!message.qr || message.question.length !== 1 || question === undefined) return undefined;
  if (question.name.toLowerCase() !== expect.name || question.qtype !== expect.qtype) return undefined;
  return { kind: 'reply', message };
}

/** QR set, the query's id, one question with its name (case-insensitive) and type (RFC 5452 §9.1). */
function answersQuestion(buf: Buffer, expect: Expect): boolean {
  if (buf.length < Hdr.SIZE || u16At(buf, Hdr.ID) !== expect.id) return false;
  if ((u16At(buf, Hdr.FLAGS) & Flag.QR) === 0 || u16At(buf, Hdr.QDCOUNT) !== 1) return false;
  const labels: number[] = [];
  const cur = new Cursor(buf, Hdr.SIZE);
  try {
    readName(cur, labels);
    if (cur.u16('question type') !== expect.qtype) return false;
  } catch {
    return false;
  }
  return presentName(buf, labels, false).toLowerCase() === expect.name;
}

function connectError(server: ServerAddress, proto: string, err: unknown): TransportError {
  const reason = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
  return new TransportError(
    'ERR_DNS_CONNECT',
    server,
    `communications error to ${formatServer(server)} over ${proto}: ${reason}`,
    { cause: err },
  );
}

function timeoutError(server: ServerAddress, proto: string, tries: number, timeoutMs: number): TransportError {
  return new TransportError(
    'ERR_DNS_TIMEOUT',
    server,
    `no reply from ${formatServer(server)} over ${proto} after ${tries} ${tries === 1 ? 'try' : 'tries'} of ${timeoutMs} ms`,
  );
}

function malformedError(server: ServerAddress, proto: string, expect: Expect, error: WireError): TransportError {
  const at = error.offset >= 0 ? ` at byte ${error.offset}` : '';
  return new TransportError(
    'ERR_DNS_MALFORMED',
    server,
    `malformed reply from ${formatServer(server)} over ${proto} to ${expect.name} ${typeName(expect.qtype)}: ${error.message}${at}`,
    { cause: error },
  );
}

function udpExchange(
  server: ServerAddress,
  query: Buffer,
  expect: Expect,
  { timeoutMs, tries, now }: Attempts,
): Promise<ExchangeResult | typeof TRUNCATED> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    let attempt = 0;
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (err: Error | undefined, result?: ExchangeResult | typeof TRUNCATED): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(result!);
    };
    const send = (): void => {
      attempt++;
      sentAt = now();
      socket.send(query, (err) => {
        if (err) finish(connectError(server, 'UDP', err));
      });
      timer = setTimeout(() => {
        if (attempt >= tries) finish(timeoutError(server, 'UDP', tries, timeoutMs));
        else send();
      }, timeoutMs);
    };
    // A connected socket only receives datagrams from the server, and learns of ICMP port
    // unreachable as ECONNREFUSED instead of waiting for every timeout.
    socket.on('error', (err) => finish(connectError(server, 'UDP', err)));
    socket.on('message', (buf) => {
      const match = matchReply(buf, expect);
      if (match === undefined) return;
      if (match.kind === 'reply')
        finish(undefined, { reply: buf, message: match.message, rttMs: now() - sentAt, transport: 'udp' });
      else if (match.tc) finish(undefined, TRUNCATED);
      else finish(malformedError(server, 'UDP', expect, match.error));
    });
    // A host name is looked up by connect; a failed lookup (or connect) comes to this callback,
    // not as an 'error' event, and sending on the unconnected socket would throw.
    socket.connect(server.port, server.host, (err?: Error) =>
      err ? finish(connectError(server, 'UDP', err)) : send(),
    );
  });
}

function channelExchange(
  channel: UdpChannel,
  query: Buffer,
  expect: Expect,
  { timeoutMs, tries, now }: Attempts,
): Promise<ExchangeResult | typeof TRUNCATED> {
  const server = channel.server;
  return new Promise((resolve, reject) => {
    let attempt = 0;
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    const onReply = (buf: Buffer, match: ReplyMatch): void => {
      clearTimeout(timer);
      channel.cancel(expect, onReply);
      if (match.kind === 'reply')
        resolve({ reply: buf, message: match.message, rttMs: now() - sentAt, transport: 'udp' });
      else if (match.tc) resolve(TRUNCATED);
      else reject(malformedError(server, 'UDP', expect, match.error));
    };
    const onError = (err: Error): void => {
      clearTimeout(timer);
      channel.cancel(expect, onReply);
      reject(connectError(server, 'UDP', err));
    };
    const send = (): void => {
      attempt++;
      sentAt = now();
      channel.send(query, expect, onReply, onError);
      timer = setTimeout(() => {
        if (attempt < tries) return send();
        channel.cancel(expect, onReply);
        reject(timeoutError(server, 'UDP', tries, timeoutMs));
      }, timeoutMs);
    };
    send();
  });
}

function tcpExchange(
  server: ServerAddress,
  query: Buffer,
  expect: Expect,
  { timeoutMs, tries, now }: Attempts,
): Promise<ExchangeResult> {
  const framed = frame(query);
  const once = (): Promise<ExchangeResult | 'timeout'> =>
    new Promise((resolve, reject) => {
      const sentAt = now();
      const decoder = new FrameDecoder();
      let done = false;
      const socket: NetSocket = tcpConnect({ host: server.host, port: server.port });
      const finish = (err: Error | undefined, result?: ExchangeResult | 'timeout'): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(result!);
      };
      const timer = setTimeout(() => finish(undefined, 'timeout'), timeoutMs);
      socket.on('connect', () => socket.write(framed));
      socket.on('error', (err) => finish(connectError(server, 'TCP', err)));
      socket.on('close', () =>
        finish(connectError(server, 'TCP', new Error('connection closed before a matching reply'))),
      );
      socket.on('data', (chunk: Buffer) => {
        let messages: Buffer[];
        try {
          messages = decoder.push(chunk);
        } catch (err) {
          finish(connectError(server, 'TCP', err));
          return;
        }
        for (const buf of messages) {
          const match = matchReply(buf, expect);
          if (match === undefined) continue;
          if (match.kind === 'reply') {
            finish(undefined, { reply: buf, message: match.message, rttMs: now() - sentAt, transport: 'tcp' });
          } else finish(malformedError(server, 'TCP', expect, match.error));
          return;
        }
      });
    });
  return (async () => {
    for (let i = 0; i < tries; i++) {
      const result = await once();
      if (result !== 'timeout') return result;
    }
    throw timeoutError(server, 'TCP', tries, timeoutMs);
  })();
}
