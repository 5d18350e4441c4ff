/**
 * The base of every psarn error, the one list of error codes, and how an error message shows
 * the input it complains about.
 *
 * Imports nothing: the client library, the psARN grammar and the wire codec all build on it,
 * and the client must stay light.
 *
 * Each family has its own subclass (PsarnError for the grammar, StoreError, ConfigError, ...);
 * every instance has a stable `code` from ERROR_CODES and, when it wraps another error, `cause`
 * (undici's habit). A code means one thing: two classes share a code only where the condition
 * is the same (an invalid psARN is ERR_INVALID_PSARN whether the grammar or the client says so).
 */

/**
 * Every code any psarn error carries, with what it means and the classes that raise it. The
 * client's codes (PsarnClientError, InvokerError) and the grammar's (PsarnError, TargetError)
 * are public API: never rename them. Adding a code here is how a new one is documented; the
 * type of `PsarnBaseError.code` makes an undocumented code a compile error.
 */
export const ERROR_CODES = {
  // The psARN grammar and the name mapping (public).
  ERR_INVALID_PSARN: { by: ['PsarnError', 'PsarnClientError'], meaning: 'the text is not a valid psARN' },
  ERR_INVALID_NAME: { by: ['PsarnError'], meaning: 'a DNS name is not a route name under the namespace' },
  ERR_INVALID_ZONE: {
    by: ['PsarnError', 'StoreError'],
    meaning: 'a zone name, or the SOA/NS parameters of a zone, are invalid',
  },
  ERR_INVALID_TXT: { by: ['PsarnError'], meaning: 'a route TXT has a known key with a bad value' },
  ERR_INVALID_TARGET: {
    by: ['TargetError', 'InvokerError'],
    meaning: 'a target is not an ARN or https:// URL, or not one the invoker can call',
  },
  // The client library (public).
  ERR_ROUTE_NOT_FOUND: { by: ['PsarnClientError', 'StoreError', 'HoldError'], meaning: 'no route at that psARN' },
  ERR_NO_SERVER: { by: ['PsarnClientError'], meaning: 'no DNS server answered and nothing stale was cached' },
  ERR_SERVER_LOOKUP: {
    by: ['PsarnClientError'],
    meaning: 'the host name of a server (servers option, @HOST) could not be looked up, and nothing stale was cached',
  },
  ERR_BAD_ANSWER: { by: ['PsarnClientError'], meaning: 'a DNS server answered something unusable' },
  ERR_ALL_TARGETS_FAILED: { by: ['PsarnClientError'], meaning: 'every target tried failed; see `failures`' },
  ERR_NO_INVOKER: { by: ['PsarnClientError'], meaning: 'no registered invoker handles a target' },
  ERR_INVALID_OPTION: { by: ['PsarnClientError'], meaning: 'a constructor or call option is invalid' },
  ERR_TARGET_FAILED: { by: ['InvokerError'], meaning: 'the call to a target did not complete' },
  ERR_TARGET_NOT_ALLOWED: {
    by: ['TargetPolicyError'],
    meaning: "a target the config's `targets` policy refuses (a private https host, an account not listed, ...)",
  },
  ERR_TARGET_REJECTED: { by: ['InvokerError'], meaning: 'the target answered but refused the event' },
  ERR_SDK_MISSING: {
    by: ['InvokerError'],
    meaning: "the AWS SDK client package of a target's service is not installed (an optional peer dependency)",
  },
  ERR_INVALID_PAYLOAD: {
    by: ['InvokerError'],
    meaning: 'the event cannot be sent to that kind of target (a dynamodb item must be an object); nothing was sent',
  },
  ERR_DNS_TIMEOUT: { by: ['TransportError'], meaning: 'no matching DNS reply within the timeout' },
  ERR_DNS_CONNECT: { by: ['TransportError'], meaning: 'the DNS server could not be reached' },
  ERR_DNS_MALFORMED: {
    by: ['TransportError'],
    meaning: 'the DNS reply matched the query but its records do not decode (the WireError is the cause)',
  },
  // The DNS codec.
  ERR_DNS_WIRE: { by: ['WireError'], meaning: 'a malformed DNS message or an unencodable value' },
  ERR_DNS_UPDATE: {
    by: ['UpdateError'],
    meaning:
      'a DNS UPDATE (RFC 2136) not applied: a prerequisite failed, or a change outside the route model; `rcode` says which',
  },
  // The store.
  ERR_DB_MISSING: { by: ['StoreError'], meaning: 'the database file does not exist' },
  ERR_DB_OPEN: { by: ['StoreError'], meaning: 'the database file cannot be opened' },
  ERR_DB_SCHEMA: { by: ['StoreError'], meaning: 'the database has a schema version this psarn cannot use' },
  ERR_DB_NOT_PSARN: {
    by: ['StoreError'],
    meaning: 'the file exists but is not a psarn database (empty, not SQLite, or without the schema)',
  },
  ERR_DB_CORRUPT: { by: ['StoreError'], meaning: 'the database file is damaged (SQLITE_CORRUPT, quick_check)' },
  ERR_DB_READ: { by: ['StoreError'], meaning: 'a read from the database failed' },
  ERR_DB_LOCKED: { by: ['StoreError'], meaning: 'another process held the write lock past the busy timeout' },
  ERR_ZONE_NOT_FOUND: { by: ['StoreError'], meaning: 'no zone of that name' },
  ERR_INVALID_ROUTE: { by: ['StoreError'], meaning: 'a route outside its limits (TTL, weights, targets)' },
  ERR_ALIAS_LOOP: { by: ['StoreError'], meaning: 'an alias write that would make a loop of aliases' },
  ERR_ALIAS_CHAIN: {
    by: ['StoreError'],
    meaning: 'an alias write that would make a chain of more aliases than a DNS answer follows (8)',
  },
  ERR_ALIAS_DANGLING: { by: ['StoreError'], meaning: 'an alias write whose target is not a route' },
  ERR_ROUTE_ALIASED: {
    by: ['StoreError'],
    meaning: 'deleting, or turning into an alias, a route that aliases point at',
  },
  ERR_JOURNAL_PRUNED: {
    by: ['StoreError'],
    meaning: "a serial older than the zone's oldest kept journal row (journal.keep, journal.maxAge)",
  },
  ERR_SERIAL_UNKNOWN: { by: ['StoreError'], meaning: 'a serial that no change of the zone produced' },
  ERR_HISTORY_GAP: {
    by: ['StoreError'],
    meaning: 'the journal does not record the route at that serial (zone imports on both sides of it)',
  },
  ERR_OPERATION_CONFLICT: {
    by: ['StoreError'],
    meaning: 'the route already has an active operation of that kind (a rollout, a hold)',
  },
  ERR_OPERATION_NOT_FOUND: { by: ['StoreError'], meaning: 'no such operation (rollout, hold)' },
  // A secondary's zone transfers in (src/secondary/).
  ERR_XFR_CONNECT: { by: ['TransferError'], meaning: 'the primary could not be reached for a SOA query or a transfer' },
  ERR_XFR_TIMEOUT: {
    by: ['TransferError'],
    meaning: 'the primary did not answer, or a transfer stalled or ran past its time limit',
  },
  ERR_XFR_TSIG: {
    by: ['TransferError'],
    meaning:
      "a reply from the primary is unsigned, badly signed, or carries a TSIG error (the key is not the primary's)",
  },
  ERR_XFR_RCODE: {
    by: ['TransferError'],
    meaning: 'the primary answered a SOA query or a transfer with an error rcode',
  },
  ERR_XFR_MALFORMED: {
    by: ['TransferError'],
    meaning: 'a reply from the primary does not parse, lacks the SOA, ends early, or its SOA serials disagree',
  },
  ERR_XFR_DATA: {
    by: ['TransferError'],
    meaning: 'the transferred zone (or catalog) does not make a valid psarn zone; nothing was applied',
  },
  // Files and command lines.
  ERR_CONFIG: { by: ['ConfigError'], meaning: 'a configuration value is invalid' },
  ERR_ROUTES_FILE: { by: ['RoutesFileError'], meaning: 'a routes file (demo routes, psarn apply) is invalid' },
  // The daemon.
  ERR_LISTEN: { by: ['ListenError'], meaning: 'psarnd cannot bind its DNS or HTTP address (in use, not allowed)' },
  ERR_ZONEFILE: { by: ['ZoneFileError'], meaning: 'a master (zone) file is invalid' },
  ERR_USAGE: { by: ['CliError'], meaning: 'bad input on the psarn command line (exit 2)' },
  ERR_OUTPUT_CLOSED: {
    by: ['OutputClosedError'],
    meaning: "the reader of psarn's output went away (`psarn route list | head -1`); the command ends quietly",
  },
  ERR_NOT_FOUND: { by: ['CliError'], meaning: 'the route or zone a psarn command names does not exist (exit 1)' },
  ERR_RUNTIME: { by: ['CliError'], meaning: 'a psarn command failed at run time (exit 1)' },
  // Hold and release (docs/design.md#hold-and-release).
  ERR_HOLD_INPUT: {
    by: ['HoldError'],
    meaning: 'a hold cannot be made as asked: not an SQS queue ARN, an alias, a queue the route already sends to',
  },
  ERR_HOLD_STATE: { by: ['HoldError'], meaning: 'the route is held already (hold), or is not held (release)' },
  ERR_HOLD_CHANGED: { by: ['HoldError'], meaning: 'the route was changed by hand while held; release refused' },
  ERR_REPLAY_QUEUE: { by: ['SqsSourceError'], meaning: 'an SQS call of the replay failed (receive, attributes)' },
  ERR_CONTROL_RECORD: {
    by: ['ControlError'],
    meaning: 'a control record (a remote operation request or state) that cannot be read',
  },
  ERR_CALLER_REPORT: {
    by: ['ReportError'],
    meaning: "a secondary's caller report that cannot be read (answered FORMERR)",
  },
} as const satisfies Record<string, { by: readonly string[]; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The base class of every psarn error: a stable `code`, `cause` when it wraps another error.
 * Subclasses set `name` and narrow `code` to their family's codes.
 * @example
 * try { parsePsarn(text) } catch (err) { if (err instanceof PsarnBaseError) console.log(err.code) }
 */
export abstract class PsarnBaseError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    // No `cause` property at all when there is none, rather than `cause: undefined`.
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** How many characters of an input a message shows by default. */
export const ECHO_MAX = 80;
/**
 * For inputs whose valid forms run past 80 characters and are worth seeing whole: psARNs, DNS
 * names (at most 253), targets, file paths.
 */
export const ECHO_LONG = 256;

/**
 * An input as an error message shows it: one printable line, at most `max` characters of it,
 * never a secret.
 * - Control characters (C0, DEL, C1) and bytes that are not UTF-8 (when given bytes) show as
 *   `\xNN`; line and paragraph separators, bidirectional overrides and lone surrogates as
 *   `\u{NNNN}`, so a message cannot break a log line or reorder a terminal.
 * - Past `max` characters, the rest is cut: `aaaa… (20000000 bytes)`.
 * - The password of a URL (`https://user:secret@host`) shows as `***`; a user without a
 *   password shows as `***` too, since tokens travel that way.
 * Cuts before it escapes, so a 20 MB input costs what 80 characters cost.
 * @example echo('https://u:pw@h/\u001b[31m') // "https://u:***@h/\\x1b[31m"
 */
export function echo(input: string | Uint8Array, max = ECHO_MAX): string {
  const { shown, cut, bytes } = shownPart(input, max);
  return cut ? `${shown}… (${bytes} bytes)` : shown;
}

/**
 * `text` with the characters `echo` escapes escaped, and nothing cut: for a whole message whose
 * parts are already bounded (names of at most 255 octets), so it stays one printable line.
 */
export function printable(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i)!;
    if (code > 0xffff) {
      i++;
      continue;
    }
    if (!unsafe(code)) continue;
    out += text.slice(from, i) + escapeCode(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * `echo(input)` in single quotes; the size of a cut input stays outside them:
 * `'aaaa…' (20000000 bytes)`.
 */
export function quote(input: string | Uint8Array, max = ECHO_MAX): string {
  const { shown, cut, bytes } = shownPart(input, max);
  return cut ? `'${shown}…' (${bytes} bytes)` : `'${shown}'`;
}

function shownPart(input: string | Uint8Array, max: number): { shown: string; cut: boolean; bytes: number } {
  const { head, cut, bytes } = typeof input === 'string' ? headOfString(input, max) : headOfBytes(input, max);
  return { shown: redact(head, cut), cut, bytes };
}

/**
 * A value of any type as a message shows it: strings quoted, others as bounded JSON (a huge
 * list is cut like a huge string, without serializing it whole).
 * @example echoValue([1, 'a']) // '[1,"a"]'
 */
export function echoValue(value: unknown, max = ECHO_MAX): string {
  if (typeof value === 'string') return quote(value, max);
  if (value === undefined) return 'nothing';
  const out: string[] = [];
  json(value, out, { left: max + 1 }, 0);
  const text = out.join('');
  if (text.length <= max) return echo(text, max);
  const size = Array.isArray(value) ? ` (${value.length} items)` : '';
  return `${redact(headOfString(text.slice(0, max), max).head, true)}…${size}`;
}

/** Appends a JSON rendering of `value` to `out` until `budget.left` characters are spent. */
function json(value: unknown, out: string[], budget: { left: number }, depth: number): void {
  const put = (s: string): void => {
    out.push(s);
    budget.left -= s.length;
  };
  if (budget.left <= 0) return;
  if (value !== null && typeof value === 'object' && depth > 8) {
    put('…');
    return;
  }
  if (value === null || typeof value !== 'object') {
    const s =
      typeof value === 'string'
        ? JSON.stringify(value.slice(0, budget.left))
        : typeof value === 'bigint'
          ? String(value)
          : String(JSON.stringify(value));
    put(s);
    return;
  }
  const array = Array.isArray(value);
  put(array ? '[' : '{');
  let first = true;
  for (const key in value) {
    if (budget.left <= 0) return;
    if (!Object.hasOwn(value, key)) continue;
    if (!first) put(',');
    first = false;
    if (!array) put(`${JSON.stringify(key.slice(0, budget.left))}:`);
    json((value as Record<string, unknown>)[key], out, budget, depth + 1);
  }
  put(array ? ']' : '}');
}

interface Head {
  /** The shown part, escaped. */
  head: string;
  /** True when `head` is not the whole input. */
  cut: boolean;
  /** UTF-8 length of the whole input. */
  bytes: number;
}

function escapeCode(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16).toUpperCase()}}`;
}

/** True for code points a message must not contain as themselves. */
function unsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    (code >= 0xd800 && code <= 0xdfff) // a lone surrogate (a paired one was read as one code point)
  );
}

function headOfString(input: string, max: number): Head {
  let head = '';
  let i = 0;
  let chars = 0;
  while (i < input.length && chars < max) {
    const code = input.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    head += unsafe(code) ? escapeCode(code) : input.slice(i, i + width);
    i += width;
    chars++;
  }
  const cut = i < input.length;
  return { head, cut, bytes: cut ? Buffer.byteLength(input, 'utf8') : 0 };
}

/** Like headOfString, for bytes: valid UTF-8 sequences are characters, any other byte is `\xNN`. */
function headOfBytes(input: Uint8Array, max: number): Head {
  let head = '';
  let i = 0;
  let chars = 0;
  while (i < input.length && chars < max) {
    const [code, width] = utf8At(input, i);
    head += code < 0 || unsafe(code) ? escapeCode(code < 0 ? input[i]! : code) : String.fromCodePoint(code);
    i += width;
    chars++;
  }
  return { head, cut: i < input.length, bytes: input.length };
}

/**
 * The offset of the first byte that is not part of a UTF-8 sequence (RFC 3629), or -1 when all
 * of `bytes` is UTF-8.
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    if (bytes[i]! < 0x80) {
      i++;
      continue;
    }
    const [code, width] = utf8At(bytes, i);
    if (code < 0) return i;
    i += width;
  }
  return -1;
}

/** The code point of the UTF-8 sequence at `i` and its length, or [-1, 1] for a byte that starts none. */
function utf8At(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i]!;
  if (b0 < 0x80) return [b0, 1];
  const n = b0 >= 0xf0 && b0 <= 0xf4 ? 4 : b0 >= 0xe0 ? (b0 <= 0xef ? 3 : 0) : b0 >= 0xc2 ? 2 : 0;
  if (n === 0 || i + n > b.length) return [-1, 1];
  let code = b0 & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const c = b[i + k]!;
    if ((c & 0xc0) !== 0x80) return [-1, 1];
    code = (code << 6) | (c & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 (RFC 3629 §3).
  const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return [-1, 1];
  return [code, n];
}

/** scheme://userinfo@ (RFC 3986 §3.2.1): userinfo ends at the first '@' before any '/', '?' or '#'. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)@/gi;
/** scheme://user: at the very end of a cut input, the '@' lost past the cut. */
const CUT_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#@]*$/i;

/** Masks URL credentials: `user:secret@` -> `user:***@`, `token@` -> `***@`. */
function redact(head: string, cut: boolean): string {
  if (!head.includes('://')) return head;
  let out = head.replace(USERINFO, (_, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    return `${scheme}${colon >= 0 ? `${info.slice(0, colon)}:***` : '***'}@`;
  });
  // The shown part may end inside a password whose '@' was cut off: mask what is shown of it.
  if (cut) out = out.replace(CUT_USERINFO, '$1:***');
  return out;
}
