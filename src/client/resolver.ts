/**
 * Resolving psARNs to routes with a local cache (docs/design.md#records-at-a-routes-name and #the-epoch-override and #client-library): a DNS stub over UDP and
 * TCP to several servers with per-try timeout, retry and failover; LRU cache entries that live
 * for the answer's TTL (clamped); negative caching from the SOA (RFC 2308); single-flight;
 * serve-stale (RFC 8767); and the lazy epoch check of §4 — no timers, so it works in a frozen
 * Lambda.
 *
 * Decisions where the design is silent:
 * - A route answer carries its zone's epoch, so it counts as a reading of `_epoch`: an answer
 *   under a grown epoch drops the zone's older entries at once, and `_epoch` is only asked when
 *   a fresh cached entry is about to be served and its zone was not read for `epochTtl`.
 * - A failed `_epoch` read is retried after `staleRefreshMs` (RFC 8767 §5's failure recheck
 *   timer), not on every call: with every server down, calls must not each wait for timeouts.
 * - Negative answers are not served stale: once expired, no answer is ERR_NO_SERVER.
 * - A reply that matches the query but does not decode is ERR_BAD_ANSWER, after the other
 *   servers were asked and none answered usably; like REFUSED, it is not answered from stale.
 * - For an alias whose target is in another zone, the entry follows the target zone's epoch.
 * - Through a secondary (docs/design.md#clients-against-secondaries): a URI answer without the
 *   route TXT is followed by a TXT query for the final name; a CNAME chain the server stopped
 *   short is continued from its last name, MAX_CNAME_CHAIN in all.
 */
import { nameToPsarn, psarnToName, zoneName } from '../psarn/name.js';
import { formatPsarn, parsePsarn } from '../psarn/psarn.js';
import { EPOCH_LABEL } from '../psarn/txt.js';
import { MAX_CNAME_CHAIN, Type } from '../wire/types.js';
import { DnsClient, type DnsOutcome } from './dns-client.js';
import { PsarnClientError } from './errors.js';
import type { ResolvedOptions, ResolverOptions } from './resolver-options.js';
import { resolveOptions } from './resolver-options.js';

import type { CacheEntry } from './route-cache.js';
import { RouteCache } from './route-cache.js';
import { clampTtl, readEpoch, readRoute, readRouteTxt } from './route-reader.js';
import { formatServer, type ServerAddress } from './transport.js';
import type { Route } from './types.js';

export type { ResolverOptions } from './resolver-options.js';

interface Parsed {
  /** Canonical psARN text. */
  psarn: string;
  name: string;
  zone: string;
}

export type CacheState = 'fresh' | 'stale' | 'expired' | 'negative' | 'absent';

/**
 * @example
 * const resolver = new RouteResolver({ servers: ['127.0.0.1:8053'] });
 * const route = await resolver.resolve('arn:aws:psarn:us-east-1:123456789012:orders/created');
 * route.targets; // [{ target: 'arn:aws:lambda:...:orders-created-v1', priority: 10, weight: 90 }, ...]
 */
export class RouteResolver {
  readonly #o: ResolvedOptions;
  readonly #dns: DnsClient;
  readonly #cache: RouteCache;
  readonly #inflight = new Map<string, Promise<Route>>();
  readonly #epochReads = new Map<string, Promise<void>>();
  /** psARN text as given -> parsed, so a hit does not re-run the grammar. Bounded. */
  readonly #parsed = new Map<string, Parsed>();

  constructor(options: ResolverOptions = {}) {
    this.#o = resolveOptions(options);
    const { servers, timeoutMs, tries, random, metrics } = this.#o;
    this.#dns = new DnsClient({
      servers,
      timeoutMs,
      tries,
      random,
      metrics,
      exchange: this.#o.exchange,
      now: this.#o.now,
      lookup: this.#o.lookup,
      caller: this.#o.caller,
    });
    this.#cache = new RouteCache(this.#o.maxEntries);
  }

  /**
   * The route of a psARN: from the cache while fresh, else from a server (concurrent misses for
   * one name share one query), else stale (RFC 8767) up to maxStale.
   * @throws PsarnClientError ERR_INVALID_PSARN, ERR_ROUTE_NOT_FOUND, ERR_NO_SERVER, ERR_SERVER_LOOKUP,
   *   ERR_BAD_ANSWER
   */
  async resolve(psarn: string): Promise<Route> {
    const p = this.#parse(psarn);
    const now = this.#o.now();
    let entry = this.#cache.peek(p.name);
    if (entry !== undefined && now < entry.expiresAt) {
      const zone = this.#cache.peekZone(entry.zone);
      if (zone !== undefined && now - zone.checkedAt >= this.#o.epochTtl * 1000 && now >= zone.retryAfter) {
        await this.#readEpoch(entry.zone);
      }
      entry = this.#cache.get(p.name);
      if (entry !== undefined && now < entry.expiresAt) return this.#fromCache(entry, p, false);
    }
    // RFC 8767 §5: a refresh failed a moment ago; answer stale at once instead of waiting again.
    if (entry?.kind === 'route' && now < entry.retryAfter && now < this.#staleUntil(entry)) {
      return this.#fromCache(entry, p, true);
    }
    let route: Route;
    try {
      route = await this.#fetchShared(p);
    } catch (err) {
      if (err instanceof PsarnClientError && err.code === 'ERR_ROUTE_NOT_FOUND') this.#count('negative');
      throw err;
    }
    this.#count(route.stale ? 'stale' : 'miss');
    return route;
  }

  /** How many DNS queries this resolver has sent (for tests and the CLI). */
  get queries(): number {
    return this.#dns.sent;
  }

  /** Cache state of a psARN for `psarn resolve`: 'fresh' | 'stale' | 'expired' | 'negative' | 'absent'. */
  cacheState(psarn: string): CacheState {
    const entry = this.#cache.peek(this.#parse(psarn).name);
    if (entry === undefined) return 'absent';
    const now = this.#o.now();
    if (now < entry.expiresAt) return entry.kind === 'negative' ? 'negative' : 'fresh';
    return entry.kind === 'route' && now < this.#staleUntil(entry) ? 'stale' : 'expired';
  }

  #parse(psarn: string): Parsed {
    const known = this.#parsed.get(psarn);
    if (known !== undefined) return known;
    let parsed: Parsed;
    try {
      const p = parsePsarn(psarn);
      parsed = { psarn: formatPsarn(p), name: psarnToName(p, this.#o.namespace), zone: zoneName(p, this.#o.namespace) };
    } catch (err) {
      throw new PsarnClientError('ERR_INVALID_PSARN', (err as Error).message, { cause: err, psarn: String(psarn) });
    }
    if (this.#parsed.size >= this.#o.maxEntries) this.#parsed.clear();
    this.#parsed.set(psarn, parsed);
    return parsed;
  }

  #staleUntil(entry: CacheEntry): number {
    return entry.expiresAt + this.#o.maxStale * 1000;
  }

  #count(outcome: 'hit' | 'miss' | 'stale' | 'negative'): void {
    this.#o.metrics?.lookups.inc({ outcome });
  }

  #fromCache(entry: CacheEntry, p: Parsed, stale: boolean): Route {
    if (entry.kind === 'negative') {
      this.#count('negative');
      throw notFound(p, entry.rcode);
    }
    this.#count(stale ? 'stale' : 'hit');
    if (!stale) return entry.route;
    entry.staleRoute ??= freezeRoute({ ...entry.route, stale: true });
    return entry.staleRoute;
  }

  /** Single-flight (docs/design.md#client-library): concurrent misses for one name share one query. */
  #fetchShared(p: Parsed): Promise<Route> {
    let pending = this.#inflight.get(p.name);
    if (pending === undefined) {
      pending = this.#fetch(p).finally(() => this.#inflight.delete(p.name));
      this.#inflight.set(p.name, pending);
    }
    return pending;
  }

  async #fetch(p: Parsed): Promise<Route> {
    // A secondary (Knot) may stop a CNAME chain short: go on from the last name, bounded by
    // MAX_CNAME_CHAIN in all (docs/design.md#clients-against-secondaries).
    let name = p.name;
    let steps = 0;
    let chainTtl = Number.POSITIVE_INFINITY;
    const seen = new Set([name]);
    for (;;) {
      const out = await this.#dns.query(name, Type.URI);
      const now = this.#o.now();
      if (!out.ok) return this.#failed(p, out, now);
      const read = readRoute(out.message, name, this.#o, MAX_CNAME_CHAIN - steps);
      switch (read.kind) {
        case 'chain':
          if (seen.has(read.next)) throw this.#bad(p, out.server, name, `CNAME loop at ${read.next}`);
          seen.add(read.next);
          steps += read.steps;
          chainTtl = Math.min(chainTtl, read.ttl);
          name = read.next;
          continue;
        case 'servfail':
          return this.#noAnswer(p, { ok: false, tried: [out.server], cause: new Error('SERVFAIL') }, now);
        case 'bad':
          throw this.#bad(p, out.server, name, read.reason);
        case 'negative': {
          const zone = read.zone ?? p.zone;
          const ttl = Math.min(read.ttl, clampTtl(chainTtl, this.#o));
          const entry: CacheEntry = {
            kind: 'negative',
            rcode: read.rcode,
            zone,
            epoch: this.#cache.peekZone(zone)?.epoch,
            expiresAt: now + ttl * 1000,
            retryAfter: 0,
          };
          if (ttl > 0) this.#cache.set(p.name, entry, now);
          else this.#cache.delete(p.name);
          throw notFound(p, read.rcode);
        }
        case 'route': {
          let { policy, epoch } = read;
          let ttl = Math.min(read.ttl, clampTtl(chainTtl, this.#o));
          if (!read.txt) {
            // A secondary serves the URIs without the route's TXT: ask for it, inside this
            // single-flight fetch, so the entry holds the same policy and epoch as from psarnd.
            const got = await this.#dns.query(read.finalName, Type.TXT);
            if (!got.ok) return this.#failed(p, got, this.#o.now());
            const t = readRouteTxt(got.message, read.finalName);
            if (t.kind === 'bad') throw this.#bad(p, got.server, read.finalName, t.reason);
            policy = t.policy;
            epoch = t.epoch;
            ttl = Math.min(ttl, clampTtl(t.ttl, this.#o));
          }
          return this.#store(p, read.finalName, policy, epoch, ttl, read.targets, this.#o.now());
        }
      }
    }
  }

  #store(
    p: Parsed,
    finalName: string,
    policy: Route['policy'],
    epoch: number,
    ttl: number,
    targets: Route['targets'],
    now: number,
  ): Route {
    const zone = finalName === p.name ? p.zone : zoneOfName(finalName, this.#o.namespace, p.zone);
    this.#learnEpoch(zone, epoch, now, false);
    const route: Route = freezeRoute({
      psarn: p.psarn,
      name: p.name,
      policy,
      ttl,
      expiresAt: now + ttl * 1000,
      epoch,
      stale: false,
      targets,
    });
    // TTL 0: use once, never cache (RFC 1035 §3.2.1).
    if (ttl > 0)
      this.#cache.set(p.name, { kind: 'route', route, zone, epoch, expiresAt: route.expiresAt, retryAfter: 0 }, now);
    else this.#cache.delete(p.name);
    return route;
  }

  #bad(p: Parsed, server: ServerAddress, name: string, reason: string): PsarnClientError {
    this.#o.metrics?.dnsErrors.inc({ reason: 'answer' });
    return new PsarnClientError(
      'ERR_BAD_ANSWER',
      `${formatServer(server)} gave no usable answer for psARN '${p.psarn}' (${name}): ${reason}`,
      { psarn: p.psarn },
    );
  }

  /** No usable reply: a malformed one is a bad answer, not a missing server; else stale or fail. */
  #failed(p: Parsed, out: DnsOutcome & { ok: false }, now: number): Route {
    if (out.malformed !== undefined) {
      throw new PsarnClientError(
        'ERR_BAD_ANSWER',
        `${formatServer(out.malformed.server)} gave no usable answer for psARN '${p.psarn}': ${out.malformed.message}`,
        { cause: out.malformed, psarn: p.psarn },
      );
    }
    return this.#noAnswer(p, out, now);
  }

  /** No server answered (timeouts, connect errors, SERVFAIL): serve stale or fail (RFC 8767 §4). */
  #noAnswer(p: Parsed, out: DnsOutcome & { ok: false }, now: number): Route {
    const entry = this.#cache.peek(p.name);
    if (entry?.kind === 'route' && now < this.#staleUntil(entry)) {
      entry.retryAfter = now + this.#o.staleRefreshMs;
      entry.staleRoute ??= freezeRoute({ ...entry.route, stale: true });
      return entry.staleRoute;
    }
    if (entry !== undefined && now >= entry.expiresAt) this.#cache.delete(p.name);
    if (out.unresolved !== undefined) {
      throw new PsarnClientError(
        'ERR_SERVER_LOOKUP',
        `no server could be asked for psARN '${p.psarn}': ${out.unresolved.message} (servers option)`,
        { cause: out.unresolved.cause, psarn: p.psarn },
      );
    }
    const tried = out.tried.map(formatServer).join(', ');
    throw new PsarnClientError(
      'ERR_NO_SERVER',
      `no server answered for psARN '${p.psarn}' (${p.name} URI); tried ${tried}: ${out.cause.message}. Check that psarnd runs and the servers option`,
      { cause: out.cause, psarn: p.psarn },
    );
  }

  /** Re-reads `_epoch.<zone>` (docs/design.md#the-epoch-override); single-flight per zone; never throws for the network. */
  #readEpoch(zone: string): Promise<void> {
    let pending = this.#epochReads.get(zone);
    if (pending === undefined) {
      pending = (async () => {
        const out = await this.#dns.query(`${EPOCH_LABEL}.${zone}`, Type.TXT);
        const now = this.#o.now();
        const state = this.#cache.zone(zone, now);
        if (!out.ok && out.malformed !== undefined) {
          state.checkedAt = now; // a bad answer, as below (counted by the DNS client)
          return;
        }
        if (!out.ok) {
          state.retryAfter = now + this.#o.staleRefreshMs;
          return;
        }
        const read = readEpoch(out.message);
        if (read.kind === 'bad') {
          this.#o.metrics?.dnsErrors.inc({ reason: 'answer' });
          state.checkedAt = now;
          return;
        }
        this.#learnEpoch(zone, read.epoch, now, true);
      })().finally(() => this.#epochReads.delete(zone));
      this.#epochReads.set(zone, pending);
    }
    return pending;
  }

  #learnEpoch(zone: string, epoch: number, now: number, force: boolean): void {
    if (this.#cache.learnEpoch(zone, epoch, now, force) > 0) this.#o.metrics?.epochFlushes.inc();
  }
}

/**
 * Routes are handed out frozen, the same object to every caller while the cache holds it: a hit
 * costs no copy, and no caller can change what the others see.
 */
function freezeRoute(route: Route): Route {
  for (const t of route.targets) Object.freeze(t);
  Object.freeze(route.targets);
  return Object.freeze(route);
}

function notFound(p: Parsed, rcode: 'NXDOMAIN' | 'NODATA'): PsarnClientError {
  const why = rcode === 'NXDOMAIN' ? 'the name does not exist (NXDOMAIN)' : 'the name has no URI records (NODATA)';
  return new PsarnClientError(
    'ERR_ROUTE_NOT_FOUND',
    `no route for psARN '${p.psarn}' (${p.name}): ${why}; create it with psarn route set`,
    { psarn: p.psarn },
  );
}

/** The zone of a route name (an alias target), or `fallback` when the name is not a psARN name. */
function zoneOfName(name: string, namespace: string, fallback: string): string {
  try {
    return zoneName(nameToPsarn(name, namespace), namespace);
  } catch {
    return fallback;
  }
}
