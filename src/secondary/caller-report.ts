/**
 * A secondary psarnd's caller reports (docs/design.md#caller-reports-from-secondaries): every
 * callers.reportEvery it reads its own callers table's rows (reporter '') seen since its last
 * report and sends them to its primary as signed DNS UPDATEs over TCP, one zone at a time, each
 * message a TXT RR at `_callers.<zone>` (src/map/report-codec.ts). The primary stores them under
 * the key's name. A primary that refuses (Knot, BIND, a psarnd without the key in
 * transfer.allow) or cannot be reached costs a log line (rate-limited) and a counter: the
 * secondary keeps serving and tries again at the next interval, from the same point, so the
 * latest state of every row arrives once the primary takes reports again.
 *
 * A row carries the secondary's own totals (its table's lookups), which the primary stores as
 * they come, the newer row winning: a report is idempotent, so a round reads back an overlap
 * (rows written up to persistEvery after their lastSeen) without counting anything twice, and
 * nothing is kept in memory but the watermark (the last round the primary took whole).
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { type ReportRow, relativeName, reportableRow, reportRecords } from '../map/report-codec.js';
import { parseZoneName } from '../psarn/name.js';
import type { CallerRow } from '../store/callers.js';
import { type LineLog, type SendMessage, type SentResult, sendReport, tcpSend } from './caller-report-send.js';
import type { SecondaryTimers } from './secondary.js';
import type { Primary } from './types.js';

export interface CallerReporterOptions {
  /** The secondary's own rows (reporter '') last seen after `since` (Store.callerRowsSeenSince). */
  rowsSince: (since: number) => CallerRow[];
  /** True when the local copy has `zone` (rows of names in no zone served are not reported). */
  hasZone: (zone: string) => boolean;
  namespace: string;
  primary: Primary;
  /** callers.reportEveryMs. */
  everyMs: number;
  /** callers.persistEveryMs: a row's lastSeen can be this much older than its write (overlap). */
  persistEveryMs: number;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Where refusals and failures are logged: a rate-limited log (the daemon's: once an hour). */
  problems?: LineLog;
  metrics?: { callerReport(direction: 'sent', result: SentResult, rows: number): void };
  /** Ms since the epoch (rows' times are the local wall clock). Default Date.now. */
  now?: () => number;
  timers?: SecondaryTimers;
  send?: SendMessage;
  /** Message IDs (RFC 5452 §9.2: random). Default crypto.randomInt. */
  randomId?: () => number;
  /** Ms for one message's exchange. Default 10 s. */
  timeoutMs?: number;
}

/** What one round did. */
export interface RoundResult {
  messages: number;
  rows: number;
  /** The round ended early (a refusal, no answer): the watermark stays for the next one. */
  stopped: boolean;
}

const realTimers: SecondaryTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class CallerReporter {
  readonly #o: CallerReporterOptions;
  readonly #now: () => number;
  readonly #timers: SecondaryTimers;
  readonly #send: SendMessage;
  readonly #randomId: () => number;
  readonly #problems: LineLog;
  /** callers.* as of the start or the last reload. */
  #timing: Pick<CallerReporterOptions, 'everyMs' | 'persistEveryMs'>;
  /** Rows last seen after this were not all taken by the primary yet; undefined before the first round. */
  #since: number | undefined;
  #timer: unknown;
  #running: Promise<RoundResult> | undefined;
  readonly #abort = new AbortController();
  #closed = false;

  constructor(options: CallerReporterOptions) {
    this.#o = options;
    this.#timing = { everyMs: options.everyMs, persistEveryMs: options.persistEveryMs };
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? realTimers;
    this.#send = options.send ?? tcpSend(options.timeoutMs ?? 10_000);
    this.#randomId = options.randomId ?? (() => randomInt(0, 0x10000));
    this.#problems = options.problems ?? options.log;
  }

  /** Reports every everyMs, the first after one interval (the map has something to say by then). */
  start(): void {
    this.#schedule();
  }

  /** Takes callers.reportEvery and persistEvery (SIGHUP): from the round after the next. */
  configure(timing: Pick<CallerReporterOptions, 'everyMs' | 'persistEveryMs'>): void {
    this.#timing = { ...timing };
  }

  /** Stops the timer and aborts a round in flight. */
  close(): void {
    this.#closed = true;
    this.#timers.clearTimeout(this.#timer);
    this.#abort.abort(new Error('psarnd is stopping'));
  }

  /** Settles when a round in flight has ended (close() aborts it). */
  async settled(): Promise<void> {
    await this.#running?.catch(() => {});
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#running = this.report();
      void this.#running
        // A fault of the local store (locked, damaged): rate-limited as the refusals.
        .catch((err: unknown) => this.#problems.warn({ err }, 'caller report failed; will retry'))
        .finally(() => this.#schedule());
    }, this.#timing.everyMs);
  }

  /**
   * One round: the rows seen since the watermark (minus persistEvery, the write's lag, so a row
   * written late is not missed), by zone, in messages of ≤32 KB. On the first round the
   * watermark is two intervals back: what the process before a restart may not have sent.
   */
  async report(): Promise<RoundResult> {
    const now = this.#now();
    this.#since ??= now - 2 * this.#timing.everyMs;
    const byZone = this.#byZone(this.#o.rowsSince(this.#since - this.#timing.persistEveryMs - 1000));
    const result: RoundResult = { messages: 0, rows: 0, stopped: false };
    for (const [zone, rows] of byZone) {
      for (const batch of reportRecords(zone, rows)) {
        if (this.#closed) return { ...result, stopped: true };
        const outcome = await sendReport(zone, batch.record, {
          primary: this.#o.primary,
          send: this.#send,
          randomId: this.#randomId,
          now: this.#now,
          signal: this.#abort.signal,
          log: this.#o.log,
          problems: this.#problems,
          rows: batch.rows,
        });
        result.messages++;
        this.#o.metrics?.callerReport('sent', outcome, outcome === 'ok' ? batch.rows : 0);
        if (outcome === 'notauth') break;
        // A batch the primary cannot read (FORMERR) would get the same answer again: passed over.
        if (outcome === 'ok') result.rows += batch.rows;
        else if (outcome !== 'formerr') return { ...result, stopped: true };
      }
    }
    this.#since = now;
    if (result.rows > 0) this.#o.log.debug({ rows: result.rows, messages: result.messages }, 'callers reported');
    return result;
  }

  /** The rows to send, by zone: reportable, in a zone served; lookups are the row's total. */
  #byZone(rows: readonly CallerRow[]): Map<string, ReportRow[]> {
    const out = new Map<string, ReportRow[]>();
    const zones = new Map<string, string | undefined>();
    for (const row of rows) {
      const zone = this.#zoneOf(row.name, zones);
      if (zone === undefined || relativeName(row.name, zone) === undefined) continue;
      const { reporter: _, ...report } = row;
      report.lookups = Math.min(report.lookups, 0xffff_ffff);
      if (!reportableRow(report, zone)) continue;
      let list = out.get(zone);
      if (list === undefined) {
        list = [];
        out.set(zone, list);
      }
      list.push(report);
    }
    return out;
  }

  /** The zone of the namespace `name` is in, when the local copy has it. */
  #zoneOf(name: string, cache: Map<string, string | undefined>): string | undefined {
    const labels = name.split('.');
    // `<account>.<region>.<partition>.<namespace labels>.` and the root's empty label.
    const count = this.#o.namespace.split('.').filter((l) => l !== '').length + 4;
    if (labels.length < count) return undefined;
    const candidate = labels.slice(labels.length - count).join('.');
    if (cache.has(candidate)) return cache.get(candidate);
    let zone: string | undefined;
    try {
      parseZoneName(candidate, this.#o.namespace);
      zone = this.#o.hasZone(candidate) ? candidate : undefined;
    } catch {
      zone = undefined;
    }
    cache.set(candidate, zone);
    return zone;
  }
}
