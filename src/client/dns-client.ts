/**
 * A DNS stub over several servers (RFC 1035 §4.2.1, RFC 1536 §1): each server gets `tries`
 * UDP sends with a per-try timeout (TCP on TC) through `exchange()`; the first server that
 * answers wins and the next query starts with it, so a dead first server costs its timeouts
 * once, not on every query. SERVFAIL counts as no answer and fails over (RFC 8767 §4 treats it
 * like a timeout); any other rcode is an answer for the caller to judge.
 *
 * A malformed reply (it matches the query but its records do not decode) fails over too: the
 * servers are replicas, another one may be sound, and asking it costs one round trip, not a
 * timeout. When no server gives a usable answer and one gave a malformed reply, the outcome
 * carries it as `malformed`: the caller reports a bad answer, not "no server answered".
 */
import { randomInt } from 'node:crypto';
import { callerOption } from '../wire/caller.js';
import type { DecodedMessage } from '../wire/message.js';
import { encodeQuery } from '../wire/message.js';
import { Rcode } from '../wire/types.js';
import { PsarnClientError } from './errors.js';
import type { ClientMetrics } from './metrics.js';
import { type Endpoint, type HostLookup, ServerEndpoints } from './server-lookup.js';
import type { ServerAddress } from './transport.js';
import { formatServer, matchReply, exchange as realExchange, TransportError } from './transport.js';
import type { Clock, Random } from './types.js';
import { UdpChannel, type UdpChannelOptions } from './udp-channel.js';

export interface DnsClientOptions {
  servers: ServerAddress[];
  timeoutMs: number;
  tries: number;
  random?: Random | undefined;
  metrics?: ClientMetrics | undefined;
  /** For tests: a fake server function instead of sockets. */
  exchange?: typeof realExchange | undefined;
  /** Clock for the UDP sockets' age (they are replaced after a while). Default Date.now. */
  now?: Clock | undefined;
  /** The UDP socket pool of each server (sizes and lifetimes); defaults in UdpChannel. */
  udp?: Omit<UdpChannelOptions, 'now'> | undefined;
  /** Addresses of servers given by host name (server-lookup.ts). Default node:dns lookup. */
  lookup?: HostLookup | undefined;
  /** The caller id every query carries (EDNS option 65001, docs/design.md#the-caller-map); none when undefined. */
  caller?: string | undefined;
}

export type DnsOutcome =
  | { ok: true; message: DecodedMessage; server: ServerAddress }
  | {
      ok: false;
      tried: ServerAddress[];
      cause: Error;
      /** The first malformed reply (ERR_DNS_MALFORMED), when a server gave one. */
      malformed?: TransportError;
      /** When no server's host name could be looked up: the first ERR_SERVER_LOOKUP. */
      unresolved?: PsarnClientError;
    };

const REASON = { ERR_DNS_TIMEOUT: 'timeout', ERR_DNS_CONNECT: 'connect', ERR_DNS_MALFORMED: 'answer' } as const;

export class DnsClient {
  readonly #servers: ServerAddress[];
  readonly #timeoutMs: number;
  readonly #tries: number;
  readonly #random: Random | undefined;
  readonly #metrics: ClientMetrics | undefined;
  readonly #exchange: typeof realExchange;
  /** Index of the server that answered last: the next query starts there. */
  #start = 0;
  #sent = 0;
  /** Each server's addresses with one long-lived UDP channel each (index-aligned with #servers). */
  readonly #endpoints: ServerEndpoints<UdpChannel>[];
  /** The OPT of every query: the caller option, encoded once; or no option at all. */
  readonly #edns: { options: Buffer[] } | undefined;

  constructor(options: DnsClientOptions) {
    this.#servers = options.servers;
    this.#timeoutMs = options.timeoutMs;
    this.#tries = options.tries;
    this.#random = options.random;
    this.#metrics = options.metrics;
    this.#exchange = options.exchange ?? realExchange;
    this.#edns = options.caller === undefined ? undefined : { options: [callerOption(options.caller)] };
    const udp: UdpChannelOptions = { ...options.udp, ...(options.now ? { now: options.now } : {}) };
    this.#endpoints = this.#servers.map(
      (server) =>
        new ServerEndpoints(server, {
          lookup: options.lookup,
          now: options.now,
          open: (address) => new UdpChannel(address, matchReply, udp),
          close: (channel) => channel.close(),
        }),
    );
  }

  /** Closes the UDP channels (they are unref'd, so this is only needed for a tidy shutdown). */
  close(): void {
    for (const endpoints of this.#endpoints) endpoints.close();
  }

  /** Exchanges sent (one per server asked). */
  get sent(): number {
    return this.#sent;
  }

  /** The server the next query goes to first. */
  get preferred(): ServerAddress {
    return this.#servers[this.#start]!;
  }

  /**
   * Asks `name` `qtype` of each server in turn (each address of a server given by host name, in
   * order) until one answers. Never throws for network or lookup failures.
   */
  async query(name: string, qtype: number): Promise<DnsOutcome> {
    const tried: ServerAddress[] = [];
    let cause: Error = new Error('no servers');
    let malformed: TransportError | undefined;
    let unresolved: PsarnClientError | undefined;
    let lookups = 0;
    const n = this.#servers.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#start + i) % n;
      const server = this.#servers[index]!;
      const endpoints = this.#endpoints[index]!;
      tried.push(server);
      let list: Endpoint<UdpChannel>[];
      try {
        const got = endpoints.endpoints();
        list = Array.isArray(got) ? got : await got;
      } catch (err) {
        if (!(err instanceof PsarnClientError && err.code === 'ERR_SERVER_LOOKUP')) throw err;
        this.#metrics?.dnsErrors.inc({ reason: 'lookup' });
        unresolved ??= err;
        lookups++;
        cause = err;
        continue;
      }
      let replied = false;
      for (const { address, channel } of list) {
        // RFC 5452 §9.2: an unpredictable id per query.
        const id = this.#nextId();
        const query = encodeQuery({ id, name, qtype, ...(this.#edns !== undefined ? { edns: this.#edns } : {}) });
        this.#sent++;
        try {
          const result = await this.#exchange(address, query, {
            timeoutMs: this.#timeoutMs,
            tries: this.#tries,
            channel,
            question: { id, name: name.toLowerCase(), qtype },
          });
          replied = true;
          this.#metrics?.dnsDuration.observe({ transport: result.transport }, result.rttMs / 1000);
          if (result.message.rcode === Rcode.SERVFAIL) {
            this.#metrics?.dnsErrors.inc({ reason: 'answer' });
            cause = new Error(`${formatServer(address)} answered SERVFAIL for ${name}`);
            continue;
          }
          this.#start = index;
          endpoints.answered(address);
          return { ok: true, message: result.message, server: address };
        } catch (err) {
          if (!(err instanceof TransportError)) throw err;
          this.#metrics?.dnsErrors.inc({ reason: REASON[err.code] });
          if (err.code === 'ERR_DNS_MALFORMED') {
            replied = true;
            malformed ??= err;
          }
          cause = err;
        }
      }
      if (!replied) endpoints.failed();
    }
    const out: Extract<DnsOutcome, { ok: false }> = { ok: false, tried, cause };
    if (malformed !== undefined) out.malformed = malformed;
    if (unresolved !== undefined && lookups === n) out.unresolved = unresolved;
    return out;
  }

  #nextId(): number {
    if (this.#random === undefined) return randomInt(1, 65536);
    return Math.min(65535, 1 + Math.floor(this.#random() * 65535));
  }
}
