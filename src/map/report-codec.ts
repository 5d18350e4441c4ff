/**
 * Caller reports (docs/design.md#caller-reports-from-secondaries): how a secondary psarnd sends
 * the callers it saw to its primary. A report is a signed DNS UPDATE of one zone whose update
 * section is ONE TXT RR (class IN, TTL 0) at `_callers.<zone>`, in the form of the remote
 * operations' control records (src/ops/control.ts): `v=psarn1`, `op=report`, then JSON in
 * ≤255-byte strings:
 *
 *     {"rows":[[caller, name, serial, firstSeen, lastSeen, lookups], ...]}
 *
 * `name` relative to the zone, without its trailing dot ('' is the apex): `created.orders`,
 * `_epoch`. Tuples rather than objects and relative names: a row costs ~60 bytes, not ~200, so a
 * report of 100k changed rows is ~300 messages, not ~1000. Non-ASCII is escaped (`\uXXXX`).
 *
 * The decoder is the primary's gate: everything in it came from the network. It checks every row
 * and throws ReportError (answered FORMERR) on the first bad one, so a report is stored whole or
 * not at all.
 */
import { PsarnBaseError } from '../errors.js';
import { ControlError, decodeControl, encodeControl } from '../ops/control.js';
import { callerProblem, MAX_CALLER_LENGTH } from '../wire/caller.js';
import { Class, Type } from '../wire/types.js';
import { txtRdata, type UpdateRecordSpec } from '../wire/update.js';

/** The first label of a report's owner name: `_callers.<zone>`. */
export const REPORT_LABEL = '_callers';
/** The verb of a report. */
export const REPORT_VERB = 'report';

/** Largest serial (RFC 1982: 32 bits) and per-report lookup count. */
const MAX_U32 = 0xffff_ffff;
/** Largest time, ms since the epoch (ECMAScript's Date range). */
const MAX_TIME = 8.64e15;
/** A stored name is at most 255 characters (the callers table's CHECK). */
const MAX_NAME = 255;

/**
 * JSON bytes per report message. With the TXT length octets (1 per 255), the zone, the TSIG and
 * the header, a message stays under 33 KB: well within TCP DNS's 65535 (RFC 1035 §4.2.2) and
 * small enough that one bad row costs little to resend.
 */
export const REPORT_JSON_BYTES = 32_000;

/** One row of a report: the secondary's caller map entry as its table holds it, lookups the total. */
export interface ReportRow {
  caller: string;
  /** Absolute, lowercase, trailing dot: inside the report's zone. */
  name: string;
  serial: number;
  firstSeen: number;
  lastSeen: number;
  /** Lookups since the last report of this row (the primary adds them). */
  lookups: number;
}

/** A report the primary cannot read: FORMERR, with this text in an EDE. */
export class ReportError extends PsarnBaseError {
  readonly code = 'ERR_CALLER_REPORT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportError';
  }
}

/** `_callers.<zone>`. */
export function reportName(zone: string): string {
  return `${REPORT_LABEL}.${zone}`;
}

/** `name` relative to `zone` ('' for the apex); undefined when it is not in the zone. */
export function relativeName(name: string, zone: string): string | undefined {
  if (name === zone) return '';
  return name.endsWith(`.${zone}`) ? name.slice(0, -zone.length - 1) : undefined;
}

function tuple(row: ReportRow, zone: string): unknown[] {
  return [row.caller, relativeName(row.name, zone), row.serial, row.firstSeen, row.lastSeen, row.lookups];
}

/**
 * Splits `rows` (all inside `zone`) into the update RRs of report messages, each with at most
 * `maxBytes` of JSON. A row alone over the limit cannot be (a caller ≤128 bytes, a name ≤255).
 */
export function reportRecords(
  zone: string,
  rows: readonly ReportRow[],
  maxBytes: number = REPORT_JSON_BYTES,
): { record: UpdateRecordSpec; rows: number }[] {
  const out: { record: UpdateRecordSpec; rows: number }[] = [];
  let batch: unknown[][] = [];
  // `{"rows":[` and `]}` around the tuples.
  const frame = 11;
  let bytes = frame;
  const flush = () => {
    if (batch.length === 0) return;
    out.push({ record: recordOf(zone, batch), rows: batch.length });
    batch = [];
    bytes = frame;
  };
  for (const row of rows) {
    const value = tuple(row, zone);
    // Its length is its byte count once non-ASCII is escaped; +1 for the comma.
    const size = asciiJson(value).length + 1;
    if (batch.length > 0 && bytes + size > maxBytes) flush();
    batch.push(value);
    bytes += size;
  }
  flush();
  return out;
}

function recordOf(zone: string, rows: unknown[][]): UpdateRecordSpec {
  return {
    name: reportName(zone),
    type: Type.TXT,
    klass: Class.IN,
    ttl: 0,
    // ascii: every non-ASCII character escaped, so no 255-byte piece splits a UTF-8 sequence.
    rdata: txtRdata(encodeControl(REPORT_VERB, { rows }, { ascii: true })),
  };
}

/** JSON with every non-ASCII character escaped: its length is its byte count. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export interface DecodeReportOptions {
  /** Ms since the epoch: a lastSeen past it is clamped to it (a secondary's clock ahead). */
  now: number;
}

/**
 * The rows of a report's TXT strings, for `zone` (lowercase, trailing dot). Every row is checked:
 * a caller id of 1–128 visible ASCII bytes; a name in the zone (labels of 1–63 visible ASCII
 * characters, no '.', at most 255 characters in all; lowercased); serial and lookups integers of
 * 0–2^32-1; times integers of 0–8.64e15. A lastSeen after `now` is clamped to `now`, a firstSeen
 * after lastSeen to lastSeen.
 * @throws ReportError naming the first problem (the row's index)
 */
export function decodeReport(zone: string, strings: readonly Uint8Array[], options: DecodeReportOptions): ReportRow[] {
  let request: { verb: string; args: Record<string, unknown> };
  try {
    request = decodeControl(strings);
  } catch (err) {
    if (err instanceof ControlError)
      throw new ReportError(err.message.replace('control record', 'report'), { cause: err });
    throw err;
  }
  if (request.verb !== REPORT_VERB) throw new ReportError(`a report is op=${REPORT_VERB}, not op=${request.verb}`);
  const rows = request.args.rows;
  if (!Array.isArray(rows)) throw new ReportError('a report is {"rows": [...]}');
  return rows.map((row, i) => checkRow(row, i, zone, options.now));
}

/** True when `row` (in `zone`) passes the primary's checks: a secondary sends only these. */
export function reportableRow(row: ReportRow, zone: string): boolean {
  const relative = relativeName(row.name, zone);
  if (relative === undefined) return false;
  try {
    checkRow(tuple(row, zone), 0, zone, Number.POSITIVE_INFINITY);
    return true;
  } catch (err) {
    if (err instanceof ReportError) return false;
    throw err;
  }
}

function checkRow(row: unknown, i: number, zone: string, now: number): ReportRow {
  const bad = (what: string) => new ReportError(`report row ${i}: ${what}`);
  if (!Array.isArray(row) || row.length !== 6) {
    throw bad('is [caller, name, serial, firstSeen, lastSeen, lookups]');
  }
  const [caller, relative, serial, firstSeen, lastSeen, lookups] = row as unknown[];
  // The rule psarnd applies to the option itself (src/wire/caller.ts): a report keeps no id a query could not.
  if (typeof caller !== 'string' || callerProblem(Buffer.from(caller, 'utf8')) !== undefined) {
    throw bad(`the caller is 1-${MAX_CALLER_LENGTH} visible ASCII characters`);
  }
  if (typeof relative !== 'string') throw bad('the name is a string');
  const name = relative === '' ? zone : `${relative.toLowerCase()}.${zone}`;
  if (
    relative !== '' &&
    (name.length > MAX_NAME || !relative.split('.').every((label) => /^[\x21-\x2d\x2f-\x7e]{1,63}$/.test(label)))
  ) {
    throw bad(`the name is labels of 1-63 visible ASCII characters in zone ${zone}, ${MAX_NAME} characters at most`);
  }
  const integer = (v: unknown, max: number, what: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`${what} is an integer 0-${max}`);
    return v;
  };
  const last = Math.min(integer(lastSeen, MAX_TIME, 'lastSeen'), now);
  return {
    caller,
    name,
    serial: integer(serial, MAX_U32, 'the serial'),
    firstSeen: Math.min(integer(firstSeen, MAX_TIME, 'firstSeen'), last),
    lastSeen: last,
    lookups: integer(lookups, MAX_U32, 'lookups'),
  };
}
