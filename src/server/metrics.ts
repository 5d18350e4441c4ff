/**
 * Prometheus metrics of psarnd. Names follow CoreDNS (`coredns_dns_requests_total` ->
 * `psarn_dns_requests_total`): snake_case, `psarn_` prefix, counters end in `_total`, durations
 * in `_seconds`; label values come from small fixed sets, never from the query name.
 * The per-query metrics are hot-metrics series (an add per query); the rest are prom-client's.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SecondaryMetrics, ZoneStatus } from '../secondary/secondary.js';
import type { CallerIgnored } from '../wire/caller.js';
import { Rcode, Type } from '../wire/types.js';
import { type CounterSeries, type HistogramSeries, HotCounter, HotHistogram } from './hot-metrics.js';
import type { NotifyMetrics, NotifyResult } from './notify.js';
import type { TransferMetrics, TransferResult } from './transfer.js';

export type Proto = 'udp' | 'tcp';

/** The result label of psarn_callers_reports_total. */
export type CallerReportResult = 'ok' | 'refused' | 'notauth' | 'formerr' | 'servfail' | 'error';

/** qtype label values; anything else counts as "other" so a peer cannot grow the series. */
const QTYPE_LABELS = new Map<number, string>(
  (['A', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'AAAA', 'SRV', 'IXFR', 'AXFR', 'ANY', 'URI'] as const).map(
    (name) => [Type[name], name],
  ),
);

/** rcode label values: the rcodes psarnd sends (anything else would be a bug: "other"). */
const RCODE_LABELS = new Map<number, string>(
  (
    [
      'NOERROR',
      'FORMERR',
      'SERVFAIL',
      'NXDOMAIN',
      'NOTIMP',
      'REFUSED',
      'YXDOMAIN',
      'YXRRSET',
      'NXRRSET',
      'NOTAUTH',
      'NOTZONE',
      'BADVERS',
    ] as const
  ).map((name) => [Rcode[name], name]),
);

/** The series one transport's queries touch, bound once. */
interface ProtoSeries {
  duration: HistogramSeries;
  truncated: CounterSeries;
  dropped: CounterSeries;
  formerr: CounterSeries;
  internalErrors: CounterSeries;
  /** By qtype / rcode number. */
  requests: Map<number, CounterSeries>;
  responses: Map<number, CounterSeries>;
}

/**
 * The daemon's metrics. The query path counts through the methods (`dropped(proto)`,
 * `cacheHit()`, ...), each an add to a series bound at construction: no label hashing and no
 * prom-client call per query.
 */
export class DaemonMetrics implements NotifyMetrics, SecondaryMetrics, TransferMetrics {
  readonly registry: Registry;
  readonly requests: HotCounter<'proto' | 'qtype'>;
  readonly responses: HotCounter<'proto' | 'rcode'>;
  readonly requestDuration: HotHistogram<'proto'>;
  readonly truncations: HotCounter<'proto'>;
  readonly malformed: HotCounter<'proto' | 'reason'>;
  readonly internalErrors: HotCounter<'proto'>;
  readonly cacheHits: HotCounter;
  readonly cacheMisses: HotCounter;
  readonly cacheEntries: Gauge;
  /** The answer cache's size, read into psarn_answer_cache_entries when scraped (the daemon sets it). */
  cacheSize: (() => number) | undefined;
  readonly indexHits: HotCounter;
  readonly indexRoutes: Gauge;
  readonly indexBytes: Gauge;
  readonly indexBuilds: Counter;
  readonly indexBuildSeconds: Gauge;
  readonly zoneSerial: Gauge<'zone'>;
  readonly zoneEpoch: Gauge<'zone'>;
  readonly zones: Gauge;
  readonly tcpConnections: Gauge;
  readonly tcpEvicted: Counter;
  readonly udpDropped: Counter<'reason'>;
  /** What the UDP carrier dropped so far (the native carrier counts; node:dgram does not). */
  udpDrops: () => { sendFailed: number; oversized: number } = () => ({ sendFailed: 0, oversized: 0 });
  readonly changesApplied: Counter;
  readonly tsigVerifications: Counter<'result' | 'key'>;
  readonly updates: Counter<'result'>;
  readonly callerReports: Counter<'direction' | 'result'>;
  readonly callerReportRows: Counter<'direction'>;
  readonly notifySent: Counter<'peer' | 'result'>;
  readonly transfers: Counter<'type' | 'result'>;
  readonly transferMessages: Counter<'type'>;
  readonly transferBytes: Counter<'type'>;
  readonly edeSent: HotCounter<'code'>;
  readonly notifyPendingGauge: Gauge;
  /** A secondary's zones, read when scraped (the daemon sets it in secondary mode). */
  secondaryStatus: (() => ZoneStatus[]) | undefined;
  /** Milliseconds since the epoch, for the secondary's ages (default Date.now). */
  wallClock: () => number = Date.now;
  readonly secondarySerial: Gauge<'zone'>;
  readonly secondaryLastRefresh: Gauge<'zone'>;
  readonly secondaryLag: Gauge<'zone'>;
  readonly secondaryExpired: Gauge<'zone'>;
  readonly secondaryRefreshes: Counter<'zone' | 'kind' | 'result'>;
  /** Rollouts by status, read when scraped (the daemon sets it where the driver runs: docs/design.md#rollouts). */
  rolloutCounts: (() => Partial<Record<'running' | 'paused', number>>) | undefined;
  readonly rollouts: Gauge<'status'>;
  readonly rolloutSteps: Counter<'result'>;
  /**
   * The caller map (docs/design.md#the-caller-map), read when scraped (the daemon sets it).
   * Caller ids are never a label: only counts.
   */
  callerMap: { readonly size: number; readonly callers: number } | undefined;
  readonly callersEntries: Gauge;
  readonly callersIds: Gauge;
  readonly callersEvicted: Counter;
  readonly callersIgnored: Counter<'reason'>;
  readonly callersPersistSeconds: Histogram;
  readonly callersPersistFailures: Counter;
  readonly #udp: ProtoSeries;
  readonly #tcp: ProtoSeries;
  /** Ready-answer cache outcomes, for either transport. */
  readonly #hit: CounterSeries;
  readonly #miss: CounterSeries;
  /** Answers written from the route index. */
  readonly #indexHit: CounterSeries;
  /** EDE series by info code (the few codes psarnd sends), bound at first use. */
  readonly #ede = new Map<number, CounterSeries>();

  constructor(options: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requests = new HotCounter({
      name: 'psarn_dns_requests_total',
      help: 'DNS requests received, by transport and query type.',
      labelNames: ['proto', 'qtype'],
      registers,
    });
    this.responses = new HotCounter({
      name: 'psarn_dns_responses_total',
      help: 'DNS responses sent, by transport and RCODE.',
      labelNames: ['proto', 'rcode'],
      registers,
    });
    this.requestDuration = new HotHistogram({
      name: 'psarn_dns_request_duration_seconds',
      help: 'Time from receiving a DNS request to handing its reply to the socket.',
      labelNames: ['proto'],
      buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1],
      registers,
    });
    this.truncations = new HotCounter({
      name: 'psarn_dns_truncated_total',
      help: 'Responses sent with TC set because they exceeded the UDP payload size.',
      labelNames: ['proto'],
      registers,
    });
    this.malformed = new HotCounter({
      name: 'psarn_dns_malformed_total',
      help: 'Requests that were malformed: dropped, or answered FORMERR.',
      labelNames: ['proto', 'reason'],
      registers,
    });
    this.internalErrors = new HotCounter({
      name: 'psarn_dns_internal_errors_total',
      help: 'Requests answered SERVFAIL because of an internal error (a bug); see the log.',
      labelNames: ['proto'],
      registers,
    });
    this.cacheHits = new HotCounter({
      name: 'psarn_answer_cache_hits_total',
      help: 'Requests answered from ready wire answers.',
      labelNames: [],
      registers,
    });
    this.cacheMisses = new HotCounter({
      name: 'psarn_answer_cache_misses_total',
      help: 'Requests answered by reading the store.',
      labelNames: [],
      registers,
    });
    const self = this;
    this.cacheEntries = new Gauge({
      name: 'psarn_answer_cache_entries',
      help: 'Ready wire answers held.',
      registers,
      // Read when scraped: nothing on the query path keeps it.
      collect() {
        if (self.cacheSize !== undefined) this.set(self.cacheSize());
      },
    });
    this.indexHits = new HotCounter({
      name: 'psarn_route_index_hits_total',
      help: 'Requests answered from the route index (URI, TXT, ANY of a target route), before the cache.',
      labelNames: [],
      registers,
    });
    this.indexRoutes = new Gauge({
      name: 'psarn_route_index_routes',
      help: 'Routes in the route index; 0 until its first build is done.',
      aggregator: 'max',
      registers,
    });
    this.indexBytes = new Gauge({
      name: 'psarn_route_index_bytes',
      help: 'Memory held by the route index (arena and table).',
      registers,
    });
    this.indexBuilds = new Counter({
      name: 'psarn_route_index_builds_total',
      help: 'Route index builds adopted (start, imports, new zones).',
      registers,
    });
    this.indexBuildSeconds = new Gauge({
      name: 'psarn_route_index_build_seconds',
      help: 'Duration of the last route index build.',
      aggregator: 'max',
      registers,
    });
    this.zoneSerial = new Gauge({
      name: 'psarn_zone_serial',
      help: 'SOA serial of each zone.',
      labelNames: ['zone'],
      aggregator: 'max',
      registers,
    });
    this.zoneEpoch = new Gauge({
      name: 'psarn_zone_epoch',
      help: 'Emergency-override epoch of each zone.',
      labelNames: ['zone'],
      aggregator: 'max',
      registers,
    });
    this.zones = new Gauge({ name: 'psarn_zones', help: 'Zones served.', aggregator: 'max', registers });
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
    const metrics = this;
    const seen = { sendFailed: 0, oversized: 0 };
    this.udpDropped = new Counter({
      name: 'psarn_dns_udp_dropped_total',
      help: 'UDP datagrams the native carrier dropped: replies the kernel refused (send_failed), queries over 4096 bytes (oversized).',
      labelNames: ['reason'],
      registers,
      // Read from the carrier's counters at scrape time, like the hot series.
      collect() {
        const now = metrics.udpDrops();
        this.inc({ reason: 'send_failed' }, now.sendFailed - seen.sendFailed);
        this.inc({ reason: 'oversized' }, now.oversized - seen.oversized);
        seen.sendFailed = now.sendFailed;
        seen.oversized = now.oversized;
      },
    });
    this.changesApplied = new Counter({
      name: 'psarn_zone_changes_total',
      help: 'Zone changes picked up from the store.',
      registers,
    });
    this.tsigVerifications = new Counter({
      name: 'psarn_dns_tsig_verifications_total',
      help: 'Signed requests by TSIG outcome (ok, badkey, badsig, badtrunc, badtime, formerr) and configured key name ("" when the key is unknown).',
      labelNames: ['result', 'key'],
      registers,
    });
    this.updates = new Counter({
      name: 'psarn_dns_updates_total',
      help: 'DNS UPDATE messages by outcome: ok (applied), refused (unsigned, key not allowed, a secondary, outside the route model), prereq (a prerequisite failed), notauth (not our zone, a name outside it, a TSIG that failed), formerr, servfail (the database locked by another writer).',
      labelNames: ['result'],
      registers,
    });
    // Caller reports (docs/design.md#caller-reports-from-secondaries): never by reporter or zone.
    this.callerReports = new Counter({
      name: 'psarn_callers_reports_total',
      help: "Caller report messages (a secondary's callers sent to its primary, one signed UPDATE per zone and batch) by direction (sent: by this secondary; received: by this primary) and result: ok, refused (the peer or this server refused it: a key not in transfer.allow, a secondary, a primary that is not psarnd, the map off), notauth (a zone the primary does not have; received: also a TSIG that failed), formerr, servfail, error (sent: no answer, a connection failure, a malformed answer).",
      labelNames: ['direction', 'result'],
      registers,
    });
    this.callerReportRows = new Counter({
      name: 'psarn_callers_report_rows_total',
      help: 'Caller map rows in caller reports accepted by the primary, by direction (sent: by this secondary; received: stored by this primary).',
      labelNames: ['direction'],
      registers,
    });
    // By peer (a configured entry: an address, or a name for all its addresses; a few) and result, never by zone: an account per zone makes
    // zones unbounded in number (docs/design.md#notify).
    this.notifySent = new Counter({
      name: 'psarn_notify_sent_total',
      help: 'NOTIFY messages to secondaries by outcome: acked, rejected (answered with an error), retried (sent again), failed (never answered, given up), superseded (replaced by a newer serial), unresolved (a notify host name resolved to no address, at a change).',
      labelNames: ['peer', 'result'],
      registers,
    });
    // Transfers out (docs/design.md#transfer-metrics): by the request's type and outcome, never
    // by zone or peer (a catalog of many zones, or any address, would grow the series).
    this.transfers = new Counter({
      name: 'psarn_dns_transfers_total',
      help: 'Zone transfer requests served out, by requested type (axfr, ixfr: an IXFR answered in AXFR form or with the SOA alone counts as ixfr) and result: ok (every message sent), refused (the ACL: no key allowed it), notauth (not our zone, or a TSIG that failed), error (FORMERR, NOTIMP, SERVFAIL, or the stream stopped before its end).',
      labelNames: ['type', 'result'],
      registers,
    });
    this.transferMessages = new Counter({
      name: 'psarn_dns_transfer_messages_total',
      help: 'DNS messages sent in answer to AXFR and IXFR requests (refusals included), by requested type.',
      labelNames: ['type'],
      registers,
    });
    this.transferBytes = new Counter({
      name: 'psarn_dns_transfer_bytes_total',
      help: 'Bytes of the messages sent in answer to AXFR and IXFR requests (without the TCP length prefix), by requested type.',
      labelNames: ['type'],
      registers,
    });
    this.edeSent = new HotCounter({
      name: 'psarn_dns_ede_total',
      help: 'Extended DNS Errors (RFC 8914) put in replies, by INFO-CODE (e.g. 18 Prohibited, 20 Not Authoritative, 22 No Reachable Authority).',
      labelNames: ['code'],
      registers,
    });
    this.rollouts = new Gauge({
      name: 'psarn_rollouts',
      help: 'Rollouts in progress by status (running, paused), in the primary that drives them.',
      labelNames: ['status'],
      aggregator: 'max',
      registers,
      collect() {
        const counts = self.rolloutCounts?.();
        if (counts === undefined) return;
        for (const status of ['running', 'paused'] as const) this.set({ status }, counts[status] ?? 0);
      },
    });
    this.rolloutSteps = new Counter({
      name: 'psarn_rollout_steps_total',
      help: "Due rollout steps psarnd handled, by result: applied (a step written), aborted (the gate fired: the route restored), paused (the route was changed by someone else), gate_error (the gate could not be evaluated: paused), held (the route is held: the step waits). The CLI's writes (start's first step, promote, abort) are not counted.",
      labelNames: ['result'],
      registers,
    });
    this.notifyPendingGauge = new Gauge({
      name: 'psarn_notify_pending',
      help: 'NOTIFYs (one per zone and secondary) waiting to be sent or answered.',
      registers,
    });
    // A secondary's zones (docs/design.md#secondary-mode), labelled by zone as psarn_zone_serial
    // is: set from the scheduler's state when scraped, so a zone dropped from the catalog goes.
    const secondaryGauge = (name: string, help: string, value: (zone: ZoneStatus, now: number) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['zone'],
        aggregator: 'max',
        registers,
        collect() {
          const status = metrics.secondaryStatus?.();
          if (status === undefined) return;
          this.reset();
          const now = metrics.wallClock();
          for (const zone of status) {
            const v = value(zone, now);
            if (v !== undefined) this.set({ zone: zone.zone }, v);
          }
        },
      });
    this.secondarySerial = secondaryGauge(
      'psarn_secondary_serial',
      "SOA serial of a secondary's local copy of each zone (the catalog: the primary's catalog serial last read).",
      (z) => z.serial,
    );
    this.secondaryLastRefresh = secondaryGauge(
      'psarn_secondary_last_refresh_timestamp_seconds',
      'When each zone last refreshed or passed an SOA check against the primary (Unix time).',
      (z) => (z.lastSuccess === undefined ? undefined : z.lastSuccess / 1000),
    );
    this.secondaryLag = secondaryGauge(
      'psarn_secondary_lag_seconds',
      'Seconds since a primary serial newer than the local copy was seen (NOTIFY or SOA) and not yet applied; 0 when current.',
      (z, now) => (z.pending === undefined ? 0 : Math.max(0, (now - z.pending.since) / 1000)),
    );
    this.secondaryExpired = secondaryGauge(
      'psarn_secondary_expired',
      '1 when the local copy of a zone is past its SOA expire (answered SERVFAIL), else 0.',
      (z) => (z.expired ? 1 : 0),
    );
    this.secondaryRefreshes = new Counter({
      name: 'psarn_secondary_refresh_total',
      help: 'Refreshes of a secondary by zone, kind (ixfr, axfr, current: the SOA check found it current) and result.',
      labelNames: ['zone', 'kind', 'result'],
      registers,
    });
    this.callersEntries = new Gauge({
      name: 'psarn_callers_entries',
      help: '(caller, name) pairs held in the caller map (bounded by callers.maxEntries).',
      registers,
      collect() {
        if (self.callerMap !== undefined) this.set(self.callerMap.size);
      },
    });
    this.callersIds = new Gauge({
      name: 'psarn_callers_ids',
      help: 'Caller ids held in the caller map (bounded by callers.maxCallers).',
      registers,
      collect() {
        if (self.callerMap !== undefined) this.set(self.callerMap.callers);
      },
    });
    this.callersEvicted = new Counter({
      name: 'psarn_callers_evicted_total',
      help: '(caller, name) pairs evicted from the caller map, least recently seen first, to stay within its bounds.',
      registers,
    });
    this.callersIgnored = new Counter({
      name: 'psarn_callers_ignored_total',
      help: 'Caller options (EDNS 65001) ignored, by reason: empty, too_long (over 128 bytes), bad_bytes (not visible ASCII), duplicate (a second one in a query).',
      labelNames: ['reason'],
      registers,
    });
    this.callersPersistSeconds = new Histogram({
      name: 'psarn_callers_persist_seconds',
      help: 'Time to write the caller map changes of one persist to the database (all its chunks).',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.callersPersistFailures = new Counter({
      name: 'psarn_callers_persist_failures_total',
      help: 'Caller map persists that failed (the store was busy or failing); retried at the next one.',
      registers,
    });
    this.#hit = this.cacheHits.series();
    this.#miss = this.cacheMisses.series();
    this.#indexHit = this.indexHits.series();
    this.#udp = this.#bind('udp');
    this.#tcp = this.#bind('tcp');
  }

  #bind(proto: Proto): ProtoSeries {
    return {
      duration: this.requestDuration.series({ proto }),
      truncated: this.truncations.series({ proto }),
      dropped: this.malformed.series({ proto, reason: 'dropped' }),
      formerr: this.malformed.series({ proto, reason: 'formerr' }),
      internalErrors: this.internalErrors.series({ proto }),
      requests: new Map(),
      responses: new Map(),
    };
  }

  #proto(proto: Proto): ProtoSeries {
    return proto === 'udp' ? this.#udp : this.#tcp;
  }

  /** A query received, by qtype. */
  request(proto: Proto, qtype: number): void {
    const bound = this.#proto(proto);
    let series = bound.requests.get(qtype);
    if (series === undefined) {
      series = this.requests.series({ proto, qtype: QTYPE_LABELS.get(qtype) ?? 'other' });
      bound.requests.set(qtype, series);
    }
    series.value++;
  }

  /** A reply sent, by rcode. */
  response(proto: Proto, rcode: number): void {
    const bound = this.#proto(proto);
    let series = bound.responses.get(rcode);
    if (series === undefined) {
      series = this.responses.series({ proto, rcode: RCODE_LABELS.get(rcode) ?? 'other' });
      bound.responses.set(rcode, series);
    }
    series.value++;
  }

  /** Time from a request in to its reply out, in seconds. */
  observeDuration(proto: Proto, seconds: number): void {
    this.requestDuration.observe(this.#proto(proto).duration, seconds);
  }

  /** A message dropped without reply (too short for a header, or a response). */
  dropped(proto: Proto): void {
    this.#proto(proto).dropped.value++;
  }

  /** A malformed query answered FORMERR. */
  formerr(proto: Proto): void {
    this.#proto(proto).formerr.value++;
  }

  /** A reply sent with TC set. */
  truncated(proto: Proto): void {
    this.#proto(proto).truncated.value++;
  }

  /** A bug caught while answering, replied SERVFAIL. */
  internalError(proto: Proto): void {
    this.#proto(proto).internalErrors.value++;
  }

  cacheHit(): void {
    this.#hit.value++;
  }

  cacheMiss(): void {
    this.#miss.value++;
  }

  /**
   * A signed request verified. `key` is a configured key's name (a bounded set, from config);
   * the name a request claims for an unknown key is never a label (a peer would grow the series).
   */
  tsig(result: string, key: string | undefined): void {
    this.tsigVerifications.inc({ result, key: key === undefined ? '' : key.replace(/\.$/, '') });
  }

  /** What became of a DNS UPDATE (src/server/update.ts). */
  update(result: 'ok' | 'refused' | 'prereq' | 'notauth' | 'formerr' | 'servfail'): void {
    this.updates.inc({ result });
  }

  /** A caller report message sent (by a secondary) or received (by a primary), and its rows when accepted. */
  callerReport(direction: 'sent' | 'received', result: CallerReportResult, rows: number): void {
    this.callerReports.inc({ direction, result });
    if (rows > 0) this.callerReportRows.inc({ direction }, rows);
  }

  /** What became of one transfer request (src/server/transfer.ts), counted once when it ends. */
  transfer(type: 'axfr' | 'ixfr', result: TransferResult): void {
    this.transfers.inc({ type, result });
  }

  /** One message of a transfer's reply sent (or handed to the socket). */
  transferMessage(type: 'axfr' | 'ixfr', bytes: number): void {
    this.transferMessages.inc({ type });
    this.transferBytes.inc({ type }, bytes);
  }

  /** An EDE option with INFO-CODE `code` put in a reply (src/server/handler.ts #replyOptions). */
  ede(code: number): void {
    let series = this.#ede.get(code);
    if (series === undefined) {
      series = this.edeSent.series({ code: String(code) });
      this.#ede.set(code, series);
    }
    series.value++;
  }

  /** An answer written from the route index. */
  indexHit(): void {
    this.#indexHit.value++;
  }

  /** What became of a NOTIFY to a secondary (src/server/notify.ts). */
  notifyResult(peer: string, result: NotifyResult): void {
    this.notifySent.inc({ peer, result });
  }

  notifyPending(count: number): void {
    this.notifyPendingGauge.set(count);
  }

  /** One refresh of a secondary's zone (src/secondary/secondary.ts). */
  secondaryRefresh(zone: string, kind: 'ixfr' | 'axfr' | 'current', result: 'ok' | 'error'): void {
    this.secondaryRefreshes.inc({ zone, kind, result });
  }

  /** What psarnd's rollout driver did with a due step (src/ops/rollout-driver.ts). */
  rolloutStep(result: 'applied' | 'aborted' | 'paused' | 'gate_error' | 'held'): void {
    this.rolloutSteps.inc({ result });
  }

  /** A caller option ignored (the query is answered all the same). */
  callerIgnored(reason: CallerIgnored): void {
    this.callersIgnored.inc({ reason });
  }

  /** A zone dropped from a secondary's copy: its refresh counts go with it. */
  secondaryDropped(zone: string): void {
    for (const kind of ['ixfr', 'axfr', 'current'])
      for (const result of ['ok', 'error']) this.secondaryRefreshes.remove({ zone, kind, result });
  }
}
