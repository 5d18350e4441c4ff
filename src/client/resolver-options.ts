/**
 * Validation of RouteResolver options, once, at construction (undici style): every bad value is
 * ERR_INVALID_OPTION naming the option, the value and what to write instead.
 */
import { isIPv6 } from 'node:net';
import { DEFAULT_NAMESPACE, normalizeNamespace } from '../psarn/name.js';
import { callerProblem, MAX_CALLER_LENGTH } from '../wire/caller.js';
import { PsarnClientError } from './errors.js';
import type { ClientMetrics } from './metrics.js';
import type { HostLookup } from './server-lookup.js';
import { systemCaller, systemClock } from './system.js';
import type { exchange, ServerAddress } from './transport.js';
import type { Clock, Random } from './types.js';

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
  /** For tests: replaces the network exchange (a fake server returning decoded messages). */
  exchange?: typeof exchange;
  /**
   * The addresses of a server given by host name, in the order to try them. Default: node:dns
   * lookup, both families (server-lookup.ts). IP literals are never looked up.
   */
  lookup?: HostLookup;
  /**
   * The caller id every query carries (EDNS option 65001), so psarnd can tell who fetched which
   * route at which serial (docs/design.md#the-caller-map): 1-128 characters of visible ASCII
   * (a function name, a host name, an ARN). Default: env AWS_LAMBDA_FUNCTION_NAME, else the
   * host name (one too long is cut to 128 characters; one with other characters sends none).
   * `false` sends none.
   */
  caller?: string | false;
}

/** RFC 2181 §8: a TTL is at most 2^31 - 1 seconds. */
const MAX_TTL = 2 ** 31 - 1;

export interface ResolvedOptions {
  servers: ServerAddress[];
  timeoutMs: number;
  tries: number;
  minTtl: number;
  maxTtl: number;
  maxStale: number;
  staleRefreshMs: number;
  epochTtl: number;
  maxEntries: number;
  namespace: string;
  now: Clock;
  random: Random | undefined;
  metrics: ClientMetrics | undefined;
  exchange: typeof exchange | undefined;
  lookup: HostLookup | undefined;
  /** The caller id sent with every query, or undefined for none. */
  caller: string | undefined;
}

function invalid(option: string, value: unknown, what: string): PsarnClientError {
  let shown: string;
  try {
    shown = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  return new PsarnClientError('ERR_INVALID_OPTION', `invalid option ${option}: ${shown}; ${what}`);
}

function number(
  option: string,
  value: unknown,
  fallback: number,
  { min, max, integer }: { min: number; max: number; integer: boolean },
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(option, value, `use ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  if (integer && !Number.isInteger(value)) throw invalid(option, value, `use an integer from ${min} to ${max}`);
  return value;
}

function fn<T>(option: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalid(option, typeof value, 'pass a function');
  return value as T;
}

/**
 * `127.0.0.1:8053`, `localhost:53`, `[::1]:8053`, or `{ host, port }`.
 * @throws PsarnClientError ERR_INVALID_OPTION
 */
export function parseServer(value: string | ServerAddress, index: number): ServerAddress {
  const option = `servers[${index}]`;
  const hint = "write 'HOST:PORT', IPv6 as '[::1]:8053', or { host, port }";
  let host: unknown;
  let port: unknown;
  if (typeof value === 'string') {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
    if (m === null) throw invalid(option, value, hint);
    host = m[1] ?? m[2];
    port = Number(m[3]);
    if (m[1] !== undefined && !isIPv6(m[1])) throw invalid(option, value, hint);
  } else if (value !== null && typeof value === 'object') {
    ({ host, port } = value);
  } else {
    throw invalid(option, value, hint);
  }
  if (typeof host !== 'string' || host === '' || /\s/.test(host)) throw invalid(option, value, hint);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(option, value, 'the port must be 1-65535');
  }
  return { host, port };
}

/**
 * The caller id to send: the option as given (checked: a bad one is ERR_INVALID_OPTION), none for
 * `false`, else the system's (cut to MAX_CALLER_LENGTH; none when it has other characters: a
 * default must never stop a client from starting).
 * @throws PsarnClientError ERR_INVALID_OPTION
 */
export function resolveCaller(value: unknown, system: () => string = systemCaller): string | undefined {
  if (value === false) return undefined;
  if (value === undefined) {
    const id = system().slice(0, MAX_CALLER_LENGTH);
    return callerProblem(Buffer.from(id, 'utf8')) === undefined ? id : undefined;
  }
  const rule = `use 1-${MAX_CALLER_LENGTH} characters of visible ASCII (letters, digits, punctuation; no spaces), e.g. a function or host name, or false to send none`;
  if (typeof value !== 'string') throw invalid('caller', typeof value, rule);
  const problem = callerProblem(Buffer.from(value, 'utf8'));
  if (problem === undefined) return value;
  const shown = value.length > 40 ? `${value.slice(0, 40)}… (${value.length} characters)` : value;
  const why = {
    empty: 'it is empty',
    too_long: `it is over ${MAX_CALLER_LENGTH} bytes`,
    bad_bytes: 'it has a character outside visible ASCII',
  }[problem];
  throw invalid('caller', shown, `${why}; ${rule}`);
}

export function resolveOptions(options: ResolverOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalid('options', options, 'pass an object');
  const rawServers = options.servers ?? ['127.0.0.1:8053'];
  if (!Array.isArray(rawServers) || rawServers.length === 0) {
    throw invalid('servers', rawServers, "give at least one server, e.g. ['127.0.0.1:8053']");
  }
  const servers = rawServers.map(parseServer);
  const ttl = { min: 0, max: MAX_TTL, integer: true };
  const minTtl = number('minTtl', options.minTtl, 0, ttl);
  const maxTtl = number('maxTtl', options.maxTtl, 172800, ttl);
  if (minTtl > maxTtl) throw invalid('maxTtl', maxTtl, `it must be at least minTtl (${minTtl})`);
  let namespace: string;
  try {
    namespace = normalizeNamespace(options.namespace ?? DEFAULT_NAMESPACE);
  } catch (err) {
    throw invalid('namespace', options.namespace, (err as Error).message);
  }
  const metrics = options.metrics;
  if (metrics !== undefined && (metrics === null || typeof metrics !== 'object' || !('lookups' in metrics))) {
    throw invalid('metrics', typeof metrics, 'pass a ClientMetrics');
  }
  return {
    servers,
    timeoutMs: number('timeoutMs', options.timeoutMs, 500, { min: 1, max: 600000, integer: false }),
    tries: number('tries', options.tries, 2, { min: 1, max: 10, integer: true }),
    minTtl,
    maxTtl,
    maxStale: number('maxStale', options.maxStale, 86400, ttl),
    staleRefreshMs: number('staleRefreshMs', options.staleRefreshMs, 30000, { min: 0, max: MAX_TTL, integer: false }),
    epochTtl: number('epochTtl', options.epochTtl, 5, { min: 0.001, max: 86400, integer: false }),
    maxEntries: number('maxEntries', options.maxEntries, 10000, { min: 1, max: 10_000_000, integer: true }),
    namespace,
    now: fn<Clock>('now', options.now) ?? systemClock,
    random: fn<Random>('random', options.random),
    metrics,
    exchange: fn<typeof exchange>('exchange', options.exchange),
    lookup: fn<HostLookup>('lookup', options.lookup),
    caller: resolveCaller(options.caller),
  };
}
