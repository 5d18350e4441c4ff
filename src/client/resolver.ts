/**
 * Resolving psARNs to routes with a local cache (DESIGN.md §3, §4, §7): a DNS stub over UDP and
 * TCP to several servers with per-try timeout, retry and failover; lru-cache entries that live
 * for the answer's TTL (clamped); negative caching from the SOA (RFC 2308); single-flight;
 * serve-stale (RFC 8767); and the lazy epoch check of §4 — no timers, so it works in a frozen
 * Lambda.
 */

import type { ClientMetrics } from './metrics.js';
import type { ServerAddress } from './transport.js';
import type { Clock, Random, Route } from './types.js';

export interface ResolverOptions {
  /** "host:port" strings or addresses, tried in order (failover). Default ['127.0.0.1:8053']. */
  servers?: (string | ServerAddress)[];
  /** Per try per server, ms. Default 500. */
  timeoutMs?: number;
  /** Tries per server before failing over to the next. Default 2. */
  tries?: number;
  /** Clamp of the answer TTL, seconds. Defaults 0 and 172800. */
  minTtl?: number;
  maxTtl?: number;
  /** How long past expiry a route may be served stale when no server answers, seconds. Default 86400. */
  maxStale?: number;
  /** After a failed refresh, serve stale without asking again for this long, ms. Default 30000 (RFC 8767 §5). */
  staleRefreshMs?: number;
  /** How often a zone's epoch is re-read, seconds. Default 5 (the server's epochTtl). */
  epochTtl?: number;
  /** Cached routes at most. Default 10000. */
  maxEntries?: number;
  /** DNS namespace of psARN names. Default 'psarn.internal.'. */
  namespace?: string;
  now?: Clock;
  /** For query ids (and nothing else). Default crypto-strength random ids. */
  random?: Random;
  metrics?: ClientMetrics;
}

export class RouteResolver {
  constructor(_options: ResolverOptions = {}) {
    throw new Error('not implemented');
  }

  /**
   * The route of a psARN: from the cache while fresh, else from a server (concurrent misses for
   * one name share one query), else stale (RFC 8767) up to maxStale.
   * @throws PsarnClientError ERR_INVALID_PSARN, ERR_ROUTE_NOT_FOUND, ERR_NO_SERVER, ERR_BAD_ANSWER
   */
  resolve(_psarn: string): Promise<Route> {
    throw new Error('not implemented');
  }

  /** How many DNS queries this resolver has sent (for tests and the CLI). */
  get queries(): number {
    throw new Error('not implemented');
  }

  /** Cache state of a psARN for `psarn resolve`: 'fresh' | 'stale' | 'expired' | 'negative' | 'absent'. */
  cacheState(_psarn: string): 'fresh' | 'stale' | 'expired' | 'negative' | 'absent' {
    throw new Error('not implemented');
  }
}
