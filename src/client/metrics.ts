/**
 * Client metrics on a prom-client registry the caller passes in (docs/design.md#client-library). Labels come from
 * small fixed sets: never a psARN or an ARN.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export type CacheOutcome = 'hit' | 'miss' | 'stale' | 'negative';

export class ClientMetrics {
  readonly lookups: Counter<'outcome'>;
  readonly dnsDuration: Histogram<'transport'>;
  readonly dnsErrors: Counter<'reason'>;
  readonly epochFlushes: Counter;
  readonly invocations: Counter<'service' | 'outcome'>;
  readonly invokeDuration: Histogram<'service'>;

  constructor(registry: Registry) {
    const registers = [registry];
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
      help: 'Target invocations by service (lambda, sqs, sns, events, states, https, ...) and outcome (ok, error).',
      labelNames: ['service', 'outcome'],
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
}
