/**
 * Prometheus metrics of psarnd. Names follow CoreDNS (`coredns_dns_requests_total` ->
 * `psarn_dns_requests_total`): snake_case, `psarn_` prefix, counters end in `_total`, durations
 * in `_seconds`; label values come from small fixed sets, never from the query name.
 * Children are bound once per label set so the hot path only increments.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Proto = 'udp' | 'tcp';

/** qtype label values; anything else counts as "other" so a peer cannot grow the series. */
const QTYPE_LABELS: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  256: 'URI',
};

const RCODE_LABELS: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  16: 'BADVERS',
};

export class DaemonMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'proto' | 'qtype'>;
  readonly responses: Counter<'proto' | 'rcode'>;
  readonly duration: Histogram<'proto'>;
  readonly truncated: Counter<'proto'>;
  readonly malformed: Counter<'proto' | 'reason'>;
  readonly internalErrors: Counter<'proto'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly cacheEntries: Gauge;
  readonly zoneSerial: Gauge<'zone'>;
  readonly zoneEpoch: Gauge<'zone'>;
  readonly zones: Gauge;
  readonly tcpConnections: Gauge;
  readonly tcpEvicted: Counter;
  readonly changesApplied: Counter;
  readonly #requestChildren = new Map<string, Counter.Internal>();
  readonly #responseChildren = new Map<string, Counter.Internal>();

  constructor(options: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'psarn_dns_requests_total',
      help: 'DNS requests received, by transport and query type.',
      labelNames: ['proto', 'qtype'],
      registers,
    });
    this.responses = new Counter({
      name: 'psarn_dns_responses_total',
      help: 'DNS responses sent, by transport and RCODE.',
      labelNames: ['proto', 'rcode'],
      registers,
    });
    this.duration = new Histogram({
      name: 'psarn_dns_request_duration_seconds',
      help: 'Time from receiving a DNS request to handing its reply to the socket.',
      labelNames: ['proto'],
      buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1],
      registers,
    });
    this.truncated = new Counter({
      name: 'psarn_dns_truncated_total',
      help: 'Responses sent with TC set because they exceeded the UDP payload size.',
      labelNames: ['proto'],
      registers,
    });
    this.malformed = new Counter({
      name: 'psarn_dns_malformed_total',
      help: 'Requests that were malformed: dropped, or answered FORMERR.',
      labelNames: ['proto', 'reason'],
      registers,
    });
    this.internalErrors = new Counter({
      name: 'psarn_dns_internal_errors_total',
      help: 'Requests answered SERVFAIL because of an internal error (a bug); see the log.',
      labelNames: ['proto'],
      registers,
    });
    this.cacheHits = new Counter({
      name: 'psarn_answer_cache_hits_total',
      help: 'Requests answered from ready wire answers.',
      registers,
    });
    this.cacheMisses = new Counter({
      name: 'psarn_answer_cache_misses_total',
      help: 'Requests answered by reading the store.',
      registers,
    });
    this.cacheEntries = new Gauge({
      name: 'psarn_answer_cache_entries',
      help: 'Ready wire answers held.',
      registers,
    });
    this.zoneSerial = new Gauge({
      name: 'psarn_zone_serial',
      help: 'SOA serial of each zone.',
      labelNames: ['zone'],
      registers,
    });
    this.zoneEpoch = new Gauge({
      name: 'psarn_zone_epoch',
      help: 'Emergency-override epoch of each zone.',
      labelNames: ['zone'],
      registers,
    });
    this.zones = new Gauge({ name: 'psarn_zones', help: 'Zones served.', registers });
    this.tcpConnections = new Gauge({
      name: 'psarn_dns_tcp_connections',
      help: 'Open DNS TCP connections.',
      registers,
    });
    this.tcpEvicted = new Counter({
      name: 'psarn_dns_tcp_connections_evicted_total',
      help: 'Idle TCP connections closed to admit new ones at the connection cap.',
      registers,
    });
    this.changesApplied = new Counter({
      name: 'psarn_zone_changes_total',
      help: 'Zone changes picked up from the store.',
      registers,
    });
  }

  request(proto: Proto, qtype: number): void {
    const key = `${proto}/${qtype}`;
    let child = this.#requestChildren.get(key);
    if (child === undefined) {
      child = this.requests.labels(proto, QTYPE_LABELS[qtype] ?? 'other');
      this.#requestChildren.set(key, child);
    }
    child.inc();
  }

  response(proto: Proto, rcode: number): void {
    const key = `${proto}/${rcode}`;
    let child = this.#responseChildren.get(key);
    if (child === undefined) {
      child = this.responses.labels(proto, RCODE_LABELS[rcode] ?? 'other');
      this.#responseChildren.set(key, child);
    }
    child.inc();
  }
}
