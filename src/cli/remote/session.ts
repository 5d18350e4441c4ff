/**
 * One TCP connection to the remote server (docs/cli.md#remote), for every message of one command:
 * the reads, the UPDATE and the zone transfers. TCP, not UDP: a transfer needs it (RFC 5936 §4.2),
 * an UPDATE with a few targets and a TSIG may not fit in 512 bytes, and one connection carries
 * the reads pipelined (RFC 7766 §6.2.1). Every request is signed with the key when there is one,
 * and every reply must then be signed over the request's MAC (RFC 8945 §5.3), the messages of a
 * transfer in one chain (§5.3.1); a reply that is not is an error, never data.
 *
 * Time is bounded: the lookup and the connect, then each reply (each message of a transfer), wait
 * at most `timeoutMs`; the error names the server.
 */
import { randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { PsarnClientError } from '../../client/errors.js';
import { type HostLookup, lookupServer } from '../../client/server-lookup.js';
import type { ServerAddress } from '../../client/transport.js';
import { printable } from '../../errors.js';
import { Hdr } from '../../wire/cursor.js';
import { type DecodedMessage, decodeMessage, encodeQuery, rcodeName } from '../../wire/message.js';
import { EdnsOption } from '../../wire/query.js';
import { FrameDecoder, frame } from '../../wire/tcp.js';
import {
  signMessageMac,
  TsigError,
  TsigStreamVerifier,
  type TsigVerifyResult,
  verifyMessage,
} from '../../wire/tsig.js';
import { Rcode, Type } from '../../wire/types.js';
import { CliError, oneLine } from '../errors.js';
import type { RemoteTarget } from './target.js';

/** How long a remote command waits for the connection, and then for each reply, by default. */
export const REMOTE_TIMEOUT_MS = 5000;

export interface SessionOptions {
  timeoutMs?: number;
  /** Addresses of a host name (default: node:dns, both families). */
  lookup?: HostLookup;
  /** Wall clock, ms, for TSIG's time signed (default Date.now). */
  now?: () => number;
  /** Message ids (default crypto.randomInt). */
  randomId?: () => number;
  /**
   * Called by a write between its read and its UPDATE: the seam where a test makes the
   * concurrent change that the UPDATE's prerequisites must catch.
   */
  afterRead?: () => Promise<void> | void;
}

/** A reply, decoded, with its bytes. */
export interface RemoteReply {
  bytes: Buffer;
  message: DecodedMessage;
}

type Resolved = Required<Pick<SessionOptions, 'timeoutMs' | 'now' | 'randomId'>>;

type Waiter = { onMessage(bytes: Buffer): void; fail(err: Error): void; timer?: NodeJS.Timeout };

/** The TSIG error names of RFC 8945 §3, for messages. */
const TSIG_ERROR_NAMES: Record<number, string> = {
  [TsigError.BADSIG]: 'BADSIG (the secret is wrong)',
  [TsigError.BADKEY]: 'BADKEY (the server has no key of that name and algorithm)',
  [TsigError.BADTIME]: "BADTIME (this machine's clock and the server's differ by more than 300 s)",
  [TsigError.BADTRUNC]: 'BADTRUNC',
};

export class RemoteSession {
  readonly target: RemoteTarget;
  readonly #socket: Socket;
  readonly #options: Resolved;
  readonly #waiters = new Map<number, Waiter>();
  #closed: Error | undefined;

  private constructor(target: RemoteTarget, socket: Socket, options: Resolved) {
    this.target = target;
    this.#socket = socket;
    this.#options = options;
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        this.#fail(this.#error(`sent a bad TCP frame (${oneLine((err as Error).message)})`, err));
        return;
      }
      for (const m of messages) {
        // A view of the chunk: copied, since a transfer's verifier keeps unsigned messages.
        const bytes = Buffer.from(m);
        this.#waiters.get(bytes.readUInt16BE(Hdr.ID))?.onMessage(bytes);
      }
    });
    socket.on('error', (err) =>
      this.#fail(this.#error(`connection failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, err)),
    );
    socket.on('close', () => this.#fail(this.#error('closed the connection before it answered')));
  }

  /**
   * Looks the server up and connects, trying each address in turn.
   * @throws CliError ERR_RUNTIME naming the server
   */
  static async open(target: RemoteTarget, options: SessionOptions = {}): Promise<RemoteSession> {
    const timeoutMs = options.timeoutMs ?? REMOTE_TIMEOUT_MS;
    let addresses: ServerAddress[];
    try {
      addresses = await lookupServer(target.server, options.lookup);
    } catch (err) {
      const cause = err instanceof PsarnClientError ? err.cause : err;
      const why = (cause as NodeJS.ErrnoException)?.code ?? oneLine(String((cause as Error)?.message ?? cause));
      throw new CliError(
        'ERR_RUNTIME',
        `cannot look up server ${target.label}: ${why}; check --server (or PSARN_SERVER), or give an IP address`,
        { cause: err },
      );
    }
    let last: unknown;
    for (const address of addresses) {
      try {
        const socket = await connectTo(address, timeoutMs);
        return new RemoteSession(target, socket, {
          timeoutMs,
          now: options.now ?? Date.now,
          randomId: options.randomId ?? (() => randomInt(0, 65536)),
        });
      } catch (err) {
        last = err;
      }
    }
    const code = (last as NodeJS.ErrnoException)?.code ?? oneLine(String((last as Error)?.message));
    throw new CliError(
      'ERR_RUNTIME',
      `cannot reach server ${target.label} over TCP: ${code}; is psarnd running there? (check --server or PSARN_SERVER)`,
      { cause: last },
    );
  }

  close(): void {
    this.#closed ??= new Error('closed');
    this.#socket.destroy();
  }

  /** A new message id, unused on this connection. */
  id(): number {
    for (;;) {
      const id = this.#options.randomId();
      if (!this.#waiters.has(id)) return id;
    }
  }

  /** A signed (with the key) or plain query of `name` `qtype`, and its verified reply. */
  query(name: string, qtype: number): Promise<RemoteReply> {
    return this.exchange(encodeQuery({ id: this.id(), name, qtype, edns: { udpSize: 65535 } }));
  }

  /**
   * Sends `message` (unsigned; its id from `id()`), signed when there is a key, and returns the
   * one reply, verified.
   * @throws CliError ERR_RUNTIME on no reply in time, a closed connection, or a reply not signed by the key
   */
  exchange(message: Buffer): Promise<RemoteReply> {
    const { signed, mac } = this.#sign(message);
    const id = message.readUInt16BE(Hdr.ID);
    return new Promise<RemoteReply>((resolve, reject) => {
      const waiter: Waiter = {
        onMessage: (bytes) => {
          this.#done(id);
          try {
            this.#verify(bytes, mac, undefined, true);
            resolve({ bytes, message: this.#decode(bytes) });
          } catch (err) {
            reject(err);
          }
        },
        fail: (err) => {
          this.#done(id);
          reject(err);
        },
      };
      this.#start(id, waiter, signed);
    });
  }

  /**
   * A zone transfer (AXFR, RFC 5936) of `zone`: its messages in order, each verified; the
   * records between the first SOA and the SOA that ends it (RFC 5936 §2.2), without that last SOA.
   * @throws CliError ERR_RUNTIME naming the server and the zone (REFUSED, NOTAUTH, ...)
   */
  async *transfer(zone: string): AsyncGenerator<DecodedMessage['answer']> {
    const id = this.id();
    const { signed, mac } = this.#sign(encodeQuery({ id, name: zone, qtype: Type.AXFR, edns: false }));
    const verifier =
      this.target.key === undefined || mac === undefined
        ? undefined
        : new TsigStreamVerifier(this.target.key, mac, { now: this.#options.now });
    const queue: Buffer[] = [];
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const waiter: Waiter = {
      onMessage: (bytes) => {
        queue.push(bytes);
        this.#arm(id, waiter);
        wake?.();
      },
      fail: (err) => {
        failure = err;
        wake?.();
      },
    };
    this.#start(id, waiter, signed);
    let soas = 0;
    let first = true;
    try {
      for (;;) {
        if (queue.length === 0 && failure === undefined) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        const bytes = queue.shift();
        if (bytes === undefined) throw failure!;
        this.#verify(bytes, mac, verifier, first);
        const message = this.#decode(bytes);
        if (message.rcode !== 0) throw this.#refusal(message, bytes, `a transfer of ${zone}`);
        const records = message.answer;
        if (first && records[0]?.type !== 'SOA')
          throw this.#error(`answered a transfer of ${zone} without its SOA first`);
        first = false;
        const out: DecodedMessage['answer'] = [];
        for (const rr of records) {
          if (rr.type === 'SOA' && ++soas === 2) {
            if (verifier !== undefined && !verifier.end())
              throw this.#error(`did not sign the last message of the transfer of ${zone}`);
            if (out.length > 0) yield out;
            return;
          }
          out.push(rr);
        }
        yield out;
      }
    } finally {
      this.#done(id);
    }
  }

  /** The error of a reply with a bad rcode: REFUSED, NOTAUTH (with the TSIG error when there is one), ... */
  #refusal(message: DecodedMessage, bytes: Buffer, what: string): CliError {
    const tsigError = tsigErrorOf(bytes);
    const why =
      tsigError === undefined
        ? rcodeName(message.rcode)
        : `${rcodeName(message.rcode)}, TSIG ${TSIG_ERROR_NAMES[tsigError] ?? tsigError}`;
    const ede = edeOf(message);
    const edeShown = ede === undefined ? '' : ` (EDE ${ede.code}${ede.text === '' ? '' : `: ${ede.text}`})`;
    // The hint only where the key may be why (no EDE, or 18 Prohibited, RFC 8914 §4.19), and
    // where the server did not say it already (psarnd's UPDATE refusals name update.allow).
    const keyMayBeWhy = ede === undefined || ede.code === 18;
    const hint =
      keyMayBeWhy && (this.target.key === undefined || !ede?.text) ? this.#hint(message.rcode, tsigError) : '';
    return this.#error(`refused ${what}: ${why}${edeShown}${hint}`);
  }

  /** What to do about a refusal. */
  #hint(rcode: number, tsigError: number | undefined): string {
    if (rcode !== Rcode.REFUSED && rcode !== Rcode.NOTAUTH) return '';
    if (this.target.key === undefined) return '; sign it: give the key with PSARN_KEY or --key-file FILE';
    if (tsigError !== undefined) return '';
    return `; is key '${this.target.key.name.slice(0, -1)}' allowed there (update.allow, transfer.allow)?`;
  }

  /** The error of a reply to `what` (a query, an UPDATE) whose rcode is not NOERROR/NXDOMAIN. */
  refused(reply: RemoteReply, what: string): CliError {
    return this.#refusal(reply.message, reply.bytes, what);
  }

  #start(id: number, waiter: Waiter, bytes: Buffer): void {
    if (this.#closed !== undefined) {
      waiter.fail(this.#closed);
      return;
    }
    this.#waiters.set(id, waiter);
    this.#arm(id, waiter);
    this.#socket.write(frame(bytes));
  }

  /** (Re)starts the wait for the next message of `id`. */
  #arm(id: number, waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.timer = setTimeout(() => {
      this.#waiters.delete(id);
      waiter.fail(this.#error(`did not answer within ${this.#options.timeoutMs / 1000} s`));
    }, this.#options.timeoutMs);
  }

  #done(id: number): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#waiters.delete(id);
  }

  #fail(err: Error): void {
    if (this.#closed !== undefined) return;
    this.#closed = err;
    for (const [id, waiter] of [...this.#waiters]) {
      this.#done(id);
      waiter.fail(err);
    }
  }

  #sign(message: Buffer): { signed: Buffer; mac?: Buffer } {
    const key = this.target.key;
    if (key === undefined) return { signed: message };
    const { message: signed, mac } = signMessageMac(message, key, { now: this.#options.now });
    return { signed, mac };
  }

  /**
   * With a key, the reply must be signed by it over our MAC (RFC 8945 §5.3). An unsigned error
   * reply carrying BADKEY/BADSIG (§5.3.2) is passed through for its rcode to be reported.
   */
  #verify(bytes: Buffer, mac: Buffer | undefined, stream: TsigStreamVerifier | undefined, first: boolean): void {
    const key = this.target.key;
    if (key === undefined || mac === undefined) return;
    const result: TsigVerifyResult = stream
      ? stream.verify(bytes)
      : verifyMessage(bytes, new Map([[key.name, key]]), { requestMac: mac, now: this.#options.now });
    if (result.status === 'ok' || result.status === 'peer-error') return;
    // A later message of a transfer may be unsigned (the verifier counts them; the last must be signed).
    if (result.status === 'unsigned' && !first) return;
    if (result.status === 'unsigned' && (bytes[3]! & 0x0f) !== 0) return; // an unsigned refusal: its rcode tells
    const name = key.name.slice(0, -1);
    throw this.#error(
      `sent a reply that is not signed with key '${name}' (${result.status}); is it the right server and key?`,
    );
  }

  #decode(bytes: Buffer): DecodedMessage {
    try {
      return decodeMessage(bytes);
    } catch (err) {
      throw this.#error(`sent a malformed reply (${oneLine((err as Error).message)})`, err);
    }
  }

  #error(what: string, cause?: unknown): CliError {
    return new CliError(
      'ERR_RUNTIME',
      `server ${this.target.label} ${what}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** A reply's Extended DNS Error (RFC 8914): its info-code and EXTRA-TEXT (escaped, cut), if any. */
export function edeOf(message: DecodedMessage): { code: number; text: string } | undefined {
  const option = message.edns?.options.find((o) => o.code === EdnsOption.EDE);
  if (option === undefined || option.data.length < 2) return undefined;
  return { code: option.data.readUInt16BE(0), text: printable(option.data.subarray(2).toString('utf8')).slice(0, 300) };
}

/** The TSIG error field of a reply, when it has a TSIG with one. */
function tsigErrorOf(bytes: Buffer): number | undefined {
  const result = verifyMessage(bytes, () => undefined, { requestMac: Buffer.alloc(0) });
  return result.status === 'peer-error' ? result.error : undefined;
}

function connectTo(address: ServerAddress, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('timed out'), { code: `no connection within ${timeoutMs / 1000} s` }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}
