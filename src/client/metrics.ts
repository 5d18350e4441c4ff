/**
 * Client metrics on a prom-client registry the caller passes in (docs/design.md#client-library). Labels come from
 * small fixed sets, never a psARN; the one exception is the invocation counter's `target`, which
 * a rollout's metric gate needs (docs/design.md#rollout-gates): the targets of the routes a
 * process invokes, an https target reduced to its origin and path, at most MAX_TARGET_LABELS.
 *
 * prom-client is an optional peer dependency, required here only when a registry is passed: a
 * caller without metrics never loads it (about 50 ms of a Lambda cold start;
 * docs/design.md#two-packages). It is CommonJS, so `require` loads it synchronously inside the
 * client's constructor.
 */
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import { PsarnClientError } from './errors.js';

/**
 * What the client needs of a registry: a prom-client `Registry`. Structural, so the public types
 * do not name prom-client and a caller without it still type-checks.
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}

type PromClient = typeof import('prom-client');

/**
 * The few metric methods the client calls, so ClientMetrics' declared types (reachable from the
 * public ones through the resolver options) do not import prom-client either.
 */
export interface CounterLike<L extends string> {
  inc(labels: Partial<Record<L, string>>): void;
  inc(): void;
  labels(...values: string[]): { inc(value?: number): void };
}
export interface HistogramLike<L extends string> {
  observe(labels: Partial<Record<L, string>>, value: number): void;
  labels(...values: string[]): { startTimer(): () => void };
}

function loadPromClient(): PromClient {
  try {
    return createRequire(import.meta.url)('prom-client') as PromClient;
  } catch (error) {
    throw new PsarnClientError(
      'ERR_INVALID_OPTION',
      'registry: prom-client is not installed where psarn-client can load it (npm install prom-client)',
      { cause: error },
    );
  }
}

export type CacheOutcome = 'hit' | 'miss' | 'stale' | 'negative';

/**
 * Distinct `target` label values one client counts under their own name; later ones count as
 * `other`. A process invokes the targets of the routes it uses (a rollout has two), so 100 is far
 * above real use and still bounds a misconfiguration (targets with ids in their path) to 200
 * series a process (docs/design.md#rollout-gates).
 */
export const MAX_TARGET_LABELS = 100;
/** The label value for targets past MAX_TARGET_LABELS. */
export const OTHER_TARGET = 'other';
const MAX_LABEL_LENGTH = 256;

/**
 * A target as a label value: an ARN as written; a URL's origin and path only, since its query
 * and userinfo can hold secrets (tokens, signatures, passwords) and its query varies.
 */
export function targetLabel(target: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return `${url.origin}${url.pathname}`.slice(0, MAX_LABEL_LENGTH);
    } catch {
      return 'invalid-url'; // it may still hold userinfo: never print it
    }
  }
  return target.slice(0, MAX_LABEL_LENGTH);
}

export class ClientMetrics {
  readonly lookups: CounterLike<'outcome'>;
  readonly dnsDuration: HistogramLike<'transport'>;
  readonly dnsErrors: CounterLike<'reason'>;
  readonly epochFlushes: CounterLike<never>;
  readonly invocations: CounterLike<'service' | 'target' | 'outcome'>;
  readonly invokeDuration: HistogramLike<'service'>;
  /** Target string → label value, for the first MAX_TARGET_LABELS targets seen. */
  readonly #targets = new Map<string, string>();

  constructor(registry: MetricsRegistry) {
    const { Counter, Histogram } = loadPromClient();
    const registers = [registry as unknown as Registry];
    this.lookups = new Counter({
      name: 'psarn_client_lookups_total',
      help: 'Route lookups by cache outcome: hit, miss (asked a server), stale (served past TTL), negative.',
      labelNames: ['outcome'],
      registers,
    });
    this.dnsDuration = new Histogram({
      name: 'psarn_client_dns_request_duration_seconds',
      help: 'Round trip of DNS queries to psarnd.',
      labelNames: ['transport'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers,
    });
    this.dnsErrors = new Counter({
      name: 'psarn_client_dns_errors_total',
      help: 'DNS exchanges that failed, by reason: timeout, connect, answer, lookup (a server host name).',
      labelNames: ['reason'],
      registers,
    });
    this.epochFlushes = new Counter({
      name: 'psarn_client_epoch_flushes_total',
      help: 'Zones whose cached routes were dropped because their epoch grew (psarn flush).',
      registers,
    });
    this.invocations = new Counter({
      name: 'psarn_client_invocations_total',
      help: 'Target invocations by service (lambda, sqs, sns, events, states, https, ...), target (an ARN, a URL without query) and outcome (ok, error).',
      labelNames: ['service', 'target', 'outcome'],
      registers,
    });
    this.invokeDuration = new Histogram({
      name: 'psarn_client_invocation_duration_seconds',
      help: 'Time one target invocation took.',
      labelNames: ['service'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
  }

  /** Counts one invocation of `target` (docs/design.md#rollout-gates). */
  invoked(service: string, target: string, outcome: 'ok' | 'error'): void {
    let label = this.#targets.get(target);
    if (label === undefined) {
      if (this.#targets.size >= MAX_TARGET_LABELS) label = OTHER_TARGET;
      else {
        label = targetLabel(target);
        this.#targets.set(target, label);
        // Both outcomes start at 0 with the target's first invocation: a series that appears
        // with its first error would hide that error from increase()/rate(), which need two
        // samples (docs/design.md#rollout-gates).
        this.invocations.labels(service, label, 'ok').inc(0);
        this.invocations.labels(service, label, 'error').inc(0);
      }
    }
    this.invocations.labels(service, label, outcome).inc();
  }
}
