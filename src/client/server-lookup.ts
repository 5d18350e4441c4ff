/**
 * Servers given by host name (`psarnd:8053` in a compose network, `localhost:8053`): their
 * addresses, looked up the way dig looks up `@server` — both address families, tried in the
 * order the system resolver gives them — and cached (docs/design.md#client-library).
 *
 * - An IP literal is never looked up: a Lambda cold start with `servers: ['10.0.0.53:8053']`
 *   pays no lookup, not even a promise per query beyond the exchange's own.
 * - A host name is looked up lazily, on the first query (a constructor does no I/O), and
 *   concurrent queries share one lookup. The addresses are kept for LOOKUP_MAX_AGE_MS, then
 *   looked up again before the next query; the system resolver gives no TTL, and 60 s is what
 *   AWS advises for the JVM's DNS cache (networkaddress.cache.ttl), so a replaced container is
 *   found within a minute even while its old address still answers.
 * - When every address of a server failed (timeouts, refused), the next query looks the name
 *   up again first: a restarted sidecar usually comes back on a new address.
 * - A lookup that fails while addresses are known keeps them (for another LOOKUP_MAX_AGE_MS):
 *   a resolver hiccup must not take down a server that still answers.
 * - A first lookup that fails is PsarnClientError ERR_SERVER_LOOKUP naming the host, the
 *   system's error in `cause`; it is not remembered, so the next query looks up again.
 * - The address that answered last is asked first next time (as DnsClient does for servers):
 *   `localhost` giving ::1 first costs one refused datagram once, not on every query.
 */
import { isIP } from 'node:net';
import { ECHO_LONG, quote } from '../errors.js';
import { PsarnClientError } from './errors.js';
import type { ServerAddress } from './transport.js';
import type { Clock } from './types.js';

/** The addresses of a host name, in the order to try them. Rejects when it has none. */
export type HostLookup = (hostname: string) => Promise<readonly string[]>;

/** How long looked-up addresses are used before the name is looked up again, ms. */
export const LOOKUP_MAX_AGE_MS = 60_000;

/**
 * node:dns lookup (getaddrinfo: /etc/hosts, then DNS), both families, in the system's order.
 * node:dns is loaded on the first lookup: a caller with IP servers never loads it (~1 ms).
 */
export const systemLookup: HostLookup = async (hostname) => {
  const { lookup } = await import('node:dns');
  return new Promise((resolve, reject) => {
    lookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses.map((a) => a.address));
    });
  });
};

/**
 * The addresses of one server, looked up when its host is a name.
 * @throws PsarnClientError ERR_SERVER_LOOKUP naming the host; the lookup's error is the cause
 * @example await lookupServer({ host: 'localhost', port: 8053 }) // [{ host: '127.0.0.1', port: 8053 }]
 */
export async function lookupServer(server: ServerAddress, lookup: HostLookup = systemLookup): Promise<ServerAddress[]> {
  if (isIP(server.host) !== 0) return [server];
  let found: readonly string[];
  try {
    found = await lookup(server.host);
  } catch (err) {
    throw lookupError(server, err);
  }
  const addresses = [...new Set(found)].filter((a) => typeof a === 'string' && isIP(a) !== 0);
  if (addresses.length === 0) throw lookupError(server, new Error('no addresses'));
  return addresses.map((host) => ({ host, port: server.port }));
}

function lookupError(server: ServerAddress, err: unknown): PsarnClientError {
  const e = err as NodeJS.ErrnoException;
  const why = e?.code ?? (e?.message || String(err));
  return new PsarnClientError(
    'ERR_SERVER_LOOKUP',
    `cannot look up server ${quote(server.host, ECHO_LONG)}: ${why}; check the host name, or give an IP address`,
    { cause: err },
  );
}

/** One address of a server and what carries queries to it (the UDP channel). */
export interface Endpoint<C> {
  address: ServerAddress;
  channel: C;
}

export interface ServerEndpointsOptions<C> {
  lookup?: HostLookup | undefined;
  now?: Clock | undefined;
  /** Opens what carries queries to one address (opened lazily by the channel itself). */
  open: (address: ServerAddress) => C;
  /** Closes a channel whose address is gone after a new lookup. */
  close: (channel: C) => void;
}

/** The current addresses of one configured server, each with its channel. */
export class ServerEndpoints<C> {
  readonly server: ServerAddress;
  readonly #lookup: HostLookup;
  readonly #now: Clock;
  readonly #open: (address: ServerAddress) => C;
  readonly #close: (channel: C) => void;
  readonly #fixed: boolean;
  #endpoints: Endpoint<C>[] = [];
  #lookedUpAt = 0;
  #stale = false;
  #pending: Promise<Endpoint<C>[]> | undefined;
  #closed = false;

  constructor(server: ServerAddress, options: ServerEndpointsOptions<C>) {
    this.server = server;
    this.#lookup = options.lookup ?? systemLookup;
    this.#now = options.now ?? Date.now;
    this.#open = options.open;
    this.#close = options.close;
    this.#fixed = isIP(server.host) !== 0;
    if (this.#fixed) this.#endpoints = [{ address: server, channel: this.#open(server) }];
  }

  /**
   * The endpoints to try, in order: at once for an IP literal, else after a lookup when none is
   * known, they are older than LOOKUP_MAX_AGE_MS, or the last query failed on all of them.
   * @throws PsarnClientError ERR_SERVER_LOOKUP when the first lookup fails
   */
  endpoints(): Endpoint<C>[] | Promise<Endpoint<C>[]> {
    if (this.#fixed) return this.#endpoints;
    const known = this.#endpoints.length > 0;
    if (known && !this.#stale && this.#now() - this.#lookedUpAt < LOOKUP_MAX_AGE_MS) return this.#endpoints;
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** `address` answered: ask it first next time. */
  answered(address: ServerAddress): void {
    this.#endpoints = preferring(this.#endpoints, key(address));
  }

  /** No address answered at all: look the name up again before the next query. */
  failed(): void {
    if (!this.#fixed) this.#stale = true;
  }

  close(): void {
    this.#closed = true;
    for (const e of this.#endpoints) this.#close(e.channel);
    this.#endpoints = [];
  }

  async #refresh(): Promise<Endpoint<C>[]> {
    let addresses: ServerAddress[];
    try {
      addresses = await lookupServer(this.server, this.#lookup);
    } catch (err) {
      if (this.#endpoints.length === 0) throw err;
      // Keep what answered before; try the name again after another period, or the next failure.
      this.#lookedUpAt = this.#now();
      this.#stale = false;
      return this.#endpoints;
    }
    if (this.#closed) return [];
    const first = this.#endpoints[0];
    const before = new Map(this.#endpoints.map((e) => [key(e.address), e]));
    const next = addresses.map((address) => {
      const kept = before.get(key(address));
      before.delete(key(address));
      return kept ?? { address, channel: this.#open(address) };
    });
    for (const gone of before.values()) this.#close(gone.channel);
    // The address that answered last stays first when the name still has it.
    this.#endpoints = first === undefined ? next : preferring(next, key(first.address));
    this.#lookedUpAt = this.#now();
    this.#stale = false;
    return this.#endpoints;
  }
}

/** `list` with the endpoint of `first` (when there is one) moved to the front. */
function preferring<C>(list: Endpoint<C>[], first: string): Endpoint<C>[] {
  const i = list.findIndex((e) => key(e.address) === first);
  return i <= 0 ? list : [list[i]!, ...list.slice(0, i), ...list.slice(i + 1)];
}

function key(address: ServerAddress): string {
  return `${address.host}#${address.port}`;
}
