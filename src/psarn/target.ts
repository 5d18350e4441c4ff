/**
 * Route targets (docs/design.md#records-at-a-routes-name and #cli-names): an AWS ARN or an https:// URL, stored byte-exact in a URI
 * RR (RFC 7553 §4.4), plus the CLI form `<ARN|URL>[=WEIGHT[@PRIORITY]]`.
 *
 * Targets travel as RFC 1035 character data and are printed inside quotes in zone files and
 * dig output, so whitespace, quotes, backslashes and control characters are refused rather
 * than escaped: a URL can percent-encode them (RFC 3986 §2.1), and no ARN needs them.
 */
import { ECHO_LONG, echo, PsarnBaseError, quote } from '../errors.js';

export const MAX_TARGET_BYTES = 2000;
export const MAX_WEIGHT = 65535;
export const DEFAULT_WEIGHT = 1;
export const DEFAULT_PRIORITY = 10;

export class TargetError extends PsarnBaseError {
  readonly code = 'ERR_INVALID_TARGET';
  /** The offending text as given. */
  readonly input: string;
  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TargetError';
    this.input = input;
  }
}

const ARN_FORM = 'an ARN has 6 parts arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE';

function fail(input: string, problem: string, cause?: unknown): never {
  throw new TargetError(input, `invalid target ${quote(input, ECHO_LONG)}: ${problem}`, cause ? { cause } : undefined);
}

/**
 * Checks a target string: an ARN `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` (region may be
 * empty, account empty or 12 digits, as AWS allows) or an `https://` URL with a host.
 * @throws TargetError ERR_INVALID_TARGET
 * @example validateTarget('arn:aws:sqs:us-east-1:123456789012:orders-audit') // ok
 */
export function validateTarget(target: string): void {
  // `zone import` checks 2M targets for 1M routes: the common valid ARN takes one scan.
  if (!isPlainArn(target)) checkTarget(target);
}

/** validateTarget without its fast path: the checks that name the problem. Exported for the differential test. */
export function checkTarget(target: string): void {
  if (typeof target !== 'string') fail(String(target), 'is not a string');
  if (target === '') fail(target, 'is empty; give an ARN (arn:...) or an https:// URL');
  const bytes = Buffer.byteLength(target, 'utf8');
  if (bytes > MAX_TARGET_BYTES) fail(target, `is ${bytes} bytes; the limit is ${MAX_TARGET_BYTES}`);
  const bad = /[\s"'`\\\u0000-\u001f\u007f-\u009f]/u.exec(target);
  if (bad) {
    const c = bad[0];
    const code = c.charCodeAt(0);
    const name =
      code < 0x20 || (code >= 0x7f && code <= 0x9f) ? 'a control character' : /\s/.test(c) ? 'whitespace' : `'${c}'`;
    fail(
      target,
      `has ${name} at position ${bad.index + 1}; targets may not contain whitespace, quotes, backslashes or control characters (percent-encode them in a URL)`,
    );
  }
  if (target.startsWith('arn:')) {
    validateArn(target);
  } else if (/^https:\/\//i.test(target)) {
    validateUrl(target);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    fail(target, `uses ${echo(target.slice(0, target.indexOf(':')))}://; only https:// URLs are allowed`);
  } else {
    fail(target, 'is neither an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) nor an https:// URL');
  }
}

/**
 * True for an ARN that validateTarget accepts, checked in one pass over its characters: printable
 * ASCII only (so its length is its byte count), none of `"'\``, and the fields of validateArn.
 * False says nothing: validateTarget then runs the checks that name the problem. Takes the text,
 * or bytes [start, end) of a file (zone import checks 2M targets before it makes their strings).
 */
export function isPlainArn(target: string | Uint8Array, start = 0, end = target?.length ?? 0): boolean {
  if (typeof target !== 'string' && !(target instanceof Uint8Array)) return false;
  if (end - start > MAX_TARGET_BYTES || end - start < 4) return false;
  // "arn:"
  if (at(target, start) !== 97 || at(target, start + 1) !== 114 || at(target, start + 2) !== 110) return false;
  if (at(target, start + 3) !== 58) return false;
  // partition [a-z][a-z0-9-]{0,62}, service [a-z0-9-]{1,63}, region [a-z0-9-]{0,63}
  let i = arnField(target, start + 4, end, true, 1);
  i = i < 0 ? i : arnField(target, i, end, false, 1);
  i = i < 0 ? i : arnField(target, i, end, false, 0);
  if (i < 0) return false;
  // account: empty or 12 digits
  const account = i;
  for (; i < end && at(target, i) !== 58; i++) {
    const c = at(target, i);
    if (c < 48 || c > 57) return false;
  }
  if (i === end || (i !== account && i - account !== 12)) return false;
  // resource: not empty; printable ASCII without quotes, backquote or backslash
  if (++i === end) return false;
  for (; i < end; i++) {
    const c = at(target, i);
    if (c <= 32 || c >= 127 || c === 34 || c === 39 || c === 92 || c === 96) return false;
  }
  return true;
}

/** Character (string) or byte (Uint8Array) i. */
function at(target: string | Uint8Array, i: number): number {
  return typeof target === 'string' ? target.charCodeAt(i) : target[i]!;
}

/** The index after the ':' that ends a field of [a-z0-9-] (a letter first when `letterFirst`) of min..63 characters, or -1. */
function arnField(target: string | Uint8Array, start: number, end: number, letterFirst: boolean, min: number): number {
  let i = start;
  for (; i < end; i++) {
    const c = at(target, i);
    if (c === 58 /* : */) break;
    if (c >= 97 && c <= 122) continue;
    if ((c === 45 || (c >= 48 && c <= 57)) && !(letterFirst && i === start)) continue;
    return -1;
  }
  const length = i - start;
  return i === end || length < min || length > 63 ? -1 : i + 1;
}

function validateArn(target: string): void {
  const parts = target.split(':');
  if (parts.length < 6) fail(target, ARN_FORM);
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  const resource = parts.slice(5).join(':');
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(partition)) {
    fail(target, `partition ${quote(partition)} is invalid; use lowercase letters, digits or - (e.g. aws)`);
  }
  if (!/^[a-z0-9-]{1,63}$/.test(service)) {
    fail(target, `service ${quote(service)} is invalid; use lowercase letters, digits or - (e.g. lambda)`);
  }
  if (!/^[a-z0-9-]{0,63}$/.test(region)) {
    fail(
      target,
      `region ${quote(region)} is invalid; use lowercase letters, digits or - (e.g. us-east-1), or leave it empty`,
    );
  }
  if (account !== '' && !/^[0-9]{12}$/.test(account)) {
    fail(target, `account ${quote(account)} is invalid; use the 12-digit account id or leave it empty`);
  }
  if (resource === '') fail(target, `resource is empty; ${ARN_FORM}`);
}

function validateUrl(target: string): void {
  let url: URL;
  try {
    url = new URL(target);
  } catch (err) {
    fail(target, 'is not a valid URL; write https://HOST[:PORT]/PATH', err);
  }
  if (url.protocol !== 'https:') fail(target, 'is not an https:// URL');
  if (url.hostname === '') fail(target, 'has no host; write https://HOST[:PORT]/PATH');
  // Targets are published in DNS: a password in one would be readable by anyone who can query.
  if (url.username !== '' || url.password !== '') {
    fail(target, 'has user or password information; targets are public in DNS, so pass credentials another way');
  }
}

/** "70000" -> problem text, or undefined when the digits are a valid 0..65535 value. */
function rangeProblem(what: string, digits: string): string | undefined {
  const n = Number(digits);
  return n <= MAX_WEIGHT ? undefined : `${what} ${digits} is out of range; use an integer from 0 to ${MAX_WEIGHT}`;
}

/** A target with its weight and priority (the store's TargetSpec has the same shape). */
export interface TargetSpec {
  target: string;
  weight: number;
  priority: number;
}

/** `psarn route weight`'s form: the weight is given, the priority only when `@P` is. */
export interface TargetWeight {
  target: string;
  weight: number;
  priority?: number;
}

const WEIGHT_SPEC = /^(\d+)(?:@(\d+))?$/;
const WEIGHT_FORM = `=WEIGHT or =WEIGHT@PRIORITY with integers from 0 to ${MAX_WEIGHT}`;

/**
 * Splits the CLI form `<ARN|URL>=WEIGHT[@PRIORITY]` at its LAST `=` (docs/cli.md#arguments).
 * The rule never guesses silently:
 *
 * - What follows the last `=` must be `DIGITS` or `DIGITS@DIGITS`: a weight (and priority).
 *   Anything else is an error (`…:function:x=abc`, `…=`, `…=-1`), so a typo never becomes part
 *   of a stored target. ARNs of the invoked services hold no `=`; one that does (an S3 key
 *   `k=v`) is written with its weight after it: `arn:aws:s3:::b/k=v=1`.
 * - One exception keeps URLs whole: when that `=` is the first `=` of the URL's last query (or
 *   fragment) parameter, it belongs to the URL (`https://h/p?a=b`, `?x=`), and the target gets
 *   the default weight. If the value then is digits (`https://h/p?n=5`), the text is ambiguous
 *   (`n=5`, or `n` with weight 5) and refused: write `https://h/p?n=5=1`.
 * - `@` matters only inside the weight part: URLs with user information are refused anyway
 *   (validateTarget), and `@` elsewhere in a URL or ARN is part of the target.
 *
 * `weight: 'required'` (`psarn route weight`) takes the last `=` as the weight's whatever
 * precedes it, and returns the priority only when `@P` was given.
 */
function splitWeight(arg: string, required: boolean): { target: string; weight?: number; priority?: number } {
  const eq = arg.lastIndexOf('=');
  if (eq < 0) {
    if (required) fail(arg, `has no weight; write TARGET=WEIGHT[@PRIORITY], e.g. ${quote(`${arg}=50`, ECHO_LONG)}`);
    return { target: arg };
  }
  const target = arg.slice(0, eq);
  const suffix = arg.slice(eq + 1);
  const m = WEIGHT_SPEC.exec(suffix);
  const param = required ? undefined : queryParameterKey(target);
  if (param !== undefined) {
    if (m === null) return { target: arg };
    fail(
      arg,
      `'=${suffix}' could be the value of the query parameter ${quote(param)} or a weight; write ${quote(`${arg}=1`, ECHO_LONG)} to keep it in the URL (weight 1)`,
    );
  }
  if (m === null) {
    const keep = required
      ? ''
      : `; if '=${suffix}' is part of the target, give the weight after it: ${quote(`${arg}=1`, ECHO_LONG)}`;
    fail(arg, `'=${suffix}' is not a weight; write ${WEIGHT_FORM}${keep}`);
  }
  const problem = rangeProblem('weight', m[1]!) ?? (m[2] === undefined ? undefined : rangeProblem('priority', m[2]));
  if (problem) fail(arg, problem);
  return { target, weight: Number(m[1]), ...(m[2] === undefined ? {} : { priority: Number(m[2]) }) };
}

/**
 * The key of the query (or fragment) parameter that an `=` right after `before` would start
 * the value of, or undefined when that `=` is not the first of such a parameter (it is in an
 * ARN, in a URL's path, or after another `=` of the same parameter).
 */
function queryParameterKey(before: string): string | undefined {
  if (!/^https:\/\//i.test(before)) return undefined;
  const query = before.search(/[?#]/);
  if (query < 0) return undefined;
  const key = before.slice(Math.max(...['?', '&', ';', '#'].map((c) => before.lastIndexOf(c))) + 1);
  return key.includes('=') ? undefined : key;
}

/**
 * Parses the CLI form `<ARN|URL>[=WEIGHT[@PRIORITY]]` of `--target`; weight defaults to 1,
 * priority to 10. How the weight is split off: splitWeight above, and docs/cli.md#arguments.
 * @throws TargetError ERR_INVALID_TARGET
 * @example parseTargetArg('arn:aws:lambda:us-east-1:123456789012:function:f=90@20')
 *   // { target: 'arn:aws:lambda:us-east-1:123456789012:function:f', weight: 90, priority: 20 }
 */
export function parseTargetArg(arg: string): TargetSpec {
  if (typeof arg !== 'string') fail(String(arg), 'is not a string');
  const { target, weight = DEFAULT_WEIGHT, priority = DEFAULT_PRIORITY } = splitWeight(arg, false);
  validateTarget(target);
  return { target, weight, priority };
}

/**
 * Parses `psarn route weight`'s `<target>=<WEIGHT>[@PRIORITY]`: the weight is required, so the
 * last `=` always starts it; the priority is undefined when not given (the route's stays).
 * @throws TargetError ERR_INVALID_TARGET
 * @example parseTargetWeight('https://h.example/p?n=5=0') // { target: 'https://h.example/p?n=5', weight: 0 }
 */
export function parseTargetWeight(arg: string): TargetWeight {
  if (typeof arg !== 'string') fail(String(arg), 'is not a string');
  const { target, weight, priority } = splitWeight(arg, true);
  validateTarget(target);
  return { target, weight: weight!, ...(priority === undefined ? {} : { priority }) };
}
