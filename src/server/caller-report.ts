/**
 * Caller reports at the primary (docs/design.md#caller-reports-from-secondaries): an UPDATE whose
 * update section holds an RR at `_callers.<zone>` carries a secondary's callers of that zone.
 * They are written to the callers table under reporter = the TSIG key's name, never stored as
 * records. The access rule (a key of transfer.allow, on a primary) is the UPDATE server's
 * (src/server/update.ts); this file reads, checks and writes a report.
 */
import { decodeReport, REPORT_LABEL, ReportError, type ReportRow } from '../map/report-codec.js';
import { parseZoneName } from '../psarn/name.js';
import type { Store } from '../store/store.js';
import { UpdateError } from '../update/errors.js';
import { Class, Rcode, Type } from '../wire/types.js';
import { type ParsedUpdate, txtStrings } from '../wire/update.js';

/** True when an UPDATE's update section holds an RR at a `_callers` name. */
export function hasReport(update: ParsedUpdate): boolean {
  return update.updates.some((rr) => rr.labels[0] === REPORT_LABEL);
}

const formerr = (text: string) => new UpdateError(Rcode.FORMERR, text);

/**
 * The rows of a report: exactly one update RR, TXT, class IN, TTL 0, at `_callers.<the UPDATE's
 * zone>`, no prerequisites, whose strings decode (src/map/report-codec.ts).
 * @throws UpdateError FORMERR naming the problem; NOTZONE for a name in another zone
 */
export function readReport(update: ParsedUpdate, now: number): ReportRow[] {
  if (update.updates.length !== 1 || update.prerequisites.length > 0) {
    throw formerr('a caller report is one TXT RR at _callers.<zone>, without prerequisites');
  }
  const rr = update.updates[0]!;
  if (rr.type !== Type.TXT || rr.klass !== Class.IN || rr.ttl !== 0) {
    throw formerr(`${rr.name}: a caller report is one TXT RR of class IN and TTL 0`);
  }
  const zoneLabels = update.labels;
  const n = rr.labels.length - zoneLabels.length;
  if (n < 1 || zoneLabels.some((l, i) => rr.labels[n + i] !== l)) {
    throw new UpdateError(Rcode.NOTZONE, `${rr.name} is not in zone ${update.zone}`);
  }
  if (n !== 1) throw formerr(`${rr.name}: a caller report is at _callers.<zone>, the zone's apex`);
  try {
    return decodeReport(update.zone, txtStrings(rr.rdata), { now });
  } catch (err) {
    if (err instanceof ReportError) throw formerr(`${rr.name}: ${err.message}`);
    throw err;
  }
}

export interface ReportContext {
  store: Store;
  namespace: string;
  /** The reporter: the key's name, lowercase, no trailing dot. */
  reporter: string;
  /** callers.maxEntries: rows one reporter may hold. */
  maxEntries: number;
  /** Trim the reporter's rows to maxEntries after writing (ReportTrims decides when). */
  trim: boolean;
}

/** What a stored report did. */
export interface ReportResult {
  rows: number;
  trimmed: number;
}

/**
 * Writes a report's rows under the reporter (one transaction: saveCallers), then, when asked,
 * deletes the reporter's least recent rows past maxEntries.
 * @throws UpdateError NOTAUTH for a zone this psarnd does not have (RFC 2136 §3.1.2), FORMERR as readReport
 */
export function storeReport(update: ParsedUpdate, context: ReportContext, now: number): ReportResult {
  try {
    parseZoneName(update.zone, context.namespace);
  } catch {
    throw new UpdateError(Rcode.NOTAUTH, `${update.zone} is not a zone of namespace ${context.namespace}`);
  }
  const rows = readReport(update, now);
  const { store, reporter } = context;
  if (store.zone(update.zone) === undefined) {
    throw new UpdateError(Rcode.NOTAUTH, `this server has no zone ${update.zone}`);
  }
  // A row carries the secondary's total lookups: a report sent again (the secondary reads back
  // an overlap each round) or late changes nothing it should not.
  store.saveCallers(
    rows.map((row) => ({ ...row, reporter })),
    [],
    { lookups: 'total' },
  );
  const trimmed = context.trim ? store.trimCallers(reporter, context.maxEntries) : 0;
  return { rows: rows.length, trimmed };
}

/**
 * When to trim a reporter's rows: counting them scans the table (its key starts with the caller),
 * so at most once per `everyMs` per reporter, and at its first report since the start. Between
 * two trims a reporter can exceed maxEntries by what it sends in `everyMs`.
 */
export class ReportTrims {
  readonly #everyMs: number;
  readonly #last = new Map<string, number>();

  constructor(everyMs: number) {
    this.#everyMs = everyMs;
  }

  /** True when `reporter` is due a trim at `now` (and then it is not, for everyMs). */
  due(reporter: string, now: number): boolean {
    const last = this.#last.get(reporter);
    if (last !== undefined && now - last < this.#everyMs && now >= last) return false;
    this.#last.set(reporter, now);
    return true;
  }
}
