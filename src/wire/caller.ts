/**
 * The caller option (docs/design.md#the-caller-map): EDNS(0) option 65001, of the Local /
 * Experimental Use range 65001-65534 (RFC 6891 §9), whose data is the caller's name. The client
 * library and `psarn dig +caller=` send it; psarnd reads it (query.ts) and records who asked
 * for which name. One rule for both sides, so a name the client accepts is a name psarnd keeps.
 */

/** The option code. */
export const CALLER_OPTION = 65001;

/** The longest caller id (bytes): a Lambda function ARN with a qualifier, a pod or host name fit. */
export const MAX_CALLER_LENGTH = 128;

/** Why a caller option was ignored (psarn_callers_ignored_total{reason}): a fixed set, never the id. */
export type CallerIgnored = 'empty' | 'too_long' | 'bad_bytes' | 'duplicate';

/**
 * Why `data[start, end)` is not a caller id, or undefined when it is one: 1 to MAX_CALLER_LENGTH bytes of
 * visible ASCII (0x21-0x7e), so an id never needs escaping in a log line, a graph label or a
 * table cell.
 */
export function callerProblem(
  data: Uint8Array,
  start = 0,
  end = data.length,
): Exclude<CallerIgnored, 'duplicate'> | undefined {
  if (end <= start) return 'empty';
  if (end - start > MAX_CALLER_LENGTH) return 'too_long';
  for (let i = start; i < end; i++) {
    const b = data[i]!;
    if (b < 0x21 || b > 0x7e) return 'bad_bytes';
  }
  return undefined;
}

/** The option as it goes into an OPT's rdata: code, length, the id's bytes. Check it with callerProblem first. */
export function callerOption(id: string): Buffer {
  const data = Buffer.from(id, 'latin1');
  const out = Buffer.allocUnsafe(4 + data.length);
  out.writeUInt16BE(CALLER_OPTION, 0);
  out.writeUInt16BE(data.length, 2);
  data.copy(out, 4);
  return out;
}
