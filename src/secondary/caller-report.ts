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
 * What is in memory: the watermark (reports resume from the last round the primary took whole)
 * and, per row sent, the lookups and lastSeen sent (so a row is sent again only when it changed,
 * with the lookups since), bounded by callers.maxEntries, least recently sent forgotten first.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { HostPort } from '../config/config.js';
import { type ReportRow, relativeName, reportableRow, reportRecords } from '../map/report-codec.js';
import { parseZoneName } from '../psarn/name.js';
import type { CallerRow } from '../store/callers.js';
import { type DecodedMessage, decodeMessage } from '../wire/message.js';
import { rcodeName } from '../wire/mnemonics.js';
import { signMessageMac, verifyMessage } from '../wire/tsig.js';
import { Rcode } from '../wire/types.js';
import { encodeUpdate, type UpdateRecordSpec } from '../wire/update.js';
import { tcpStream } from './exchange.js';
import type { SecondaryTimers } from './secondary.js';
import type { Primary } from './types.js';

/** Sends one message over TCP and resolves with its reply (TcpExchange by default; a fake in tests). */
export type SendMessage = (to: HostPort, message: Buffer, signal: AbortSignal) => Promise<Buffer>;

/** The outcome of one report message, as psarn_callers_reports_total{direction="sent"} counts it. */
export type SentResult = 'ok' | 'refused' | 'notauth' | 'formerr' | 'servfail' | 'error';

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
  /** Rows remembered as sent (callers.maxEntries). */
  maxTracked: number;
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

/** A log that takes warnings as fields and a constant message (a RateLimitedLog keys on the message). */
export interface LineLog {
  warn(fields: Record<string, unknown>, message: string): void;
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

/** What is remembered of a row sent. */
interface Sent {
  serial: number;
  lastSeen: number;
  lookups: number;
}

export class CallerReporter {
  readonly #o: CallerReporterOptions;
  readonly #now: () => number;
  readonly #timers: SecondaryTimers;
  readonly #send: SendMessage;
  readonly #randomId: () => number;
  readonly #problems: LineLog;
  readonly #sent = new Map<string, Sent>();
  /** callers.* as of the start or the last reload. */
  #timing: Pick<CallerReporterOptions, 'everyMs' | 'persistEveryMs' | 'maxTracked'>;
  /** Rows last seen after this were not all taken by the primary yet; undefined before the first round. */
  #since: number | undefined;
  /** A row not remembered as sent and first seen before this had its lookups reported before a restart. */
  #baseline = 0;
  #timer: unknown;
  #running: Promise<RoundResult> | undefined;
  readonly #abort = new AbortController();
  #closed = false;

  constructor(options: CallerReporterOptions) {
    this.#o = options;
    this.#timing = { everyMs: options.everyMs, persistEveryMs: options.persistEveryMs, maxTracked: options.maxTracked };
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

  /** Takes callers.reportEvery, persistEvery and maxEntries (SIGHUP): from the round after the next. */
  configure(timing: Pick<CallerReporterOptions, 'everyMs' | 'persistEveryMs' | 'maxTracked'>): void {
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
   * One round: the rows seen since the watermark (minus persistEvery, the write's lag) that
   * changed since they were sent, by zone, in messages of ≤32 KB. On the first round the
   * watermark is two intervals back: what a restart may not have sent; their lookups were
   * counted before, so only rows first seen since then bring theirs.
   */
  async report(): Promise<RoundResult> {
    const now = this.#now();
    if (this.#since === undefined) {
      this.#since = now - 2 * this.#timing.everyMs;
      this.#baseline = this.#since;
    }
    const byZone = this.#changed(this.#o.rowsSince(this.#since - this.#timing.persistEveryMs - 1000));
    const result: RoundResult = { messages: 0, rows: 0, stopped: false };
    for (const [zone, rows] of byZone) {
      let done = 0;
      for (const batch of reportRecords(
        zone,
        rows.map((r) => r.row),
      )) {
        if (this.#closed) return { ...result, stopped: true };
        const outcome = await this.#exchange(zone, batch.record, batch.rows);
        result.messages++;
        this.#o.metrics?.callerReport('sent', outcome, outcome === 'ok' ? batch.rows : 0);
        if (outcome === 'notauth') break;
        if (outcome === 'ok' || outcome === 'formerr') {
          // Sent: remembered. A batch the primary cannot read would get the same answer again.
          for (const { key, row, total } of rows.slice(done, done + batch.rows)) this.#remember(key, row, total);
          done += batch.rows;
          if (outcome === 'ok') result.rows += batch.rows;
          continue;
        }
        return { ...result, stopped: true };
      }
    }
    this.#since = now;
    if (result.rows > 0) this.#o.log.debug({ rows: result.rows, messages: result.messages }, 'callers reported');
    return result;
  }

  /** The rows to send, by zone: reportable, in a zone served, changed since sent; lookups since sent. */
  #changed(rows: readonly CallerRow[]): Map<string, { key: string; row: ReportRow; total: number }[]> {
    const out = new Map<string, { key: string; row: ReportRow; total: number }[]>();
    const zones = new Map<string, string | undefined>();
    for (const row of rows) {
      const zone = this.#zoneOf(row.name, zones);
      if (zone === undefined || relativeName(row.name, zone) === undefined) continue;
      const key = `${row.caller}\n${row.name}`;
      const sent = this.#sent.get(key);
      if (
        sent !== undefined &&
        sent.lastSeen === row.lastSeen &&
        sent.lookups === row.lookups &&
        sent.serial === row.serial
      ) {
        continue;
      }
      const lookups =
        sent !== undefined
          ? row.lookups >= sent.lookups
            ? row.lookups - sent.lookups
            : row.lookups
          : row.firstSeen > this.#baseline
            ? row.lookups
            : 0;
      const report: ReportRow = { ...row, lookups: Math.min(lookups, 0xffff_ffff) };
      if (!reportableRow(report, zone)) continue;
      let list = out.get(zone);
      if (list === undefined) {
        list = [];
        out.set(zone, list);
      }
      list.push({ key, row: report, total: row.lookups });
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

  #remember(key: string, row: ReportRow, total: number): void {
    this.#sent.delete(key);
    this.#sent.set(key, { serial: row.serial, lastSeen: row.lastSeen, lookups: total });
    while (this.#sent.size > Math.max(1, this.#timing.maxTracked)) {
      this.#sent.delete(this.#sent.keys().next().value!);
    }
  }

  /** Sends one report message and classifies the answer; problems are logged (rate-limited). */
  async #exchange(zone: string, record: UpdateRecordSpec, rows: number): Promise<SentResult> {
    const { primary } = this.#o;
    const at = hostPort(primary.address);
    const key = primary.key;
    if (key === undefined) return 'refused';
    const message = encodeUpdate({ id: this.#randomId(), zone, updates: [record] });
    const signed = signMessageMac(message, key, { now: this.#now });
    let bytes: Buffer;
    try {
      bytes = await this.#send(primary.address, signed.message, this.#abort.signal);
    } catch (err) {
      if (this.#closed) return 'error';
      this.#problems.warn(
        { primary: at, zone, reason: (err as Error).message },
        'caller report not sent: no answer from the primary; will retry every callers.reportEvery',
      );
      return 'error';
    }
    const verified = verifyMessage(bytes, new Map([[key.name, key]]), { requestMac: signed.mac, now: this.#now });
    let reply: DecodedMessage;
    try {
      reply = decodeMessage(bytes);
    } catch (err) {
      this.#problems.warn(
        { primary: at, zone, reason: (err as Error).message },
        'caller report: the primary answered a malformed message',
      );
      return 'error';
    }
    const ede = edeText(reply);
    if (verified.status !== 'ok') {
      // Knot and BIND answer an UPDATE their ACL does not allow this way (NOTAUTH with a TSIG
      // error, or REFUSED unsigned): the whole round stops, not just this zone.
      this.#problems.warn(
        {
          primary: at,
          zone,
          rcode: rcodeName(reply.rcode),
          tsig: verified.status === 'peer-error' ? `peer-error ${verified.error}` : verified.status,
          ...(ede ? { ede } : {}),
        },
        "caller report refused: the primary's answer does not verify with secondary.key (a primary that is not psarnd refuses UPDATEs so); will retry every callers.reportEvery",
      );
      return 'refused';
    }
    switch (reply.rcode) {
      case Rcode.NOERROR:
        return 'ok';
      case Rcode.NOTAUTH:
      case Rcode.NOTZONE:
        this.#o.log.debug(
          { primary: at, zone, ...(ede ? { ede } : {}) },
          'caller report: the primary has no such zone',
        );
        return 'notauth';
      case Rcode.FORMERR:
        this.#problems.warn(
          { primary: at, zone, rows, ...(ede ? { ede } : {}) },
          'caller report: the primary could not read it (FORMERR); those rows are dropped',
        );
        return 'formerr';
      case Rcode.SERVFAIL:
        this.#problems.warn(
          { primary: at, zone, ...(ede ? { ede } : {}) },
          'caller report: the primary failed to store it (SERVFAIL); will retry',
        );
        return 'servfail';
      default:
        this.#problems.warn(
          { primary: at, zone, rcode: rcodeName(reply.rcode), ...(ede ? { ede } : {}) },
          'caller report refused by the primary; will retry every callers.reportEvery',
        );
        return 'refused';
    }
  }
}

/** The EXTRA-TEXT of a reply's first EDE (RFC 8914), or undefined. */
function edeText(reply: DecodedMessage): string | undefined {
  const option = reply.edns?.options.find((o) => o.code === 15);
  return option === undefined
    ? undefined
    : `${option.data.readUInt16BE(0)}: ${option.data.subarray(2).toString('utf8')}`;
}

function hostPort(at: HostPort): string {
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}

/** One message over a new TCP connection (RFC 7766 framing), its first reply. */
export function tcpSend(timeoutMs: number): SendMessage {
  return async (to, message, signal) => {
    let reply: Buffer | undefined;
    await tcpStream(
      to,
      message,
      (m) => {
        reply = m;
        return true;
      },
      { timeoutMs, signal, what: `caller report to primary ${hostPort(to)}` },
    );
    return reply!;
  };
}
