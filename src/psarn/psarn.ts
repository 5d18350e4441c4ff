/**
 * The psARN grammar (docs/design.md#psarn-grammar). Pure and total: every input either parses to a canonical
 * (lowercase) Psarn or throws a PsarnError whose message names the input and what to do.
 *
 *   psARN     = "arn:" partition ":psarn:" region ":" account ":" path
 *   path      = segment *( "/" segment )                      ; 1 to 8 segments
 *   segment   = ( ALPHA / DIGIT ) 0*62( ALPHA / DIGIT / "-" / "_" )
 *   partition = [a-z][a-z0-9-]{0,30}    region = [a-z0-9-]{1,30}    account = 12 DIGIT
 *   ; in the partitions aws, aws-cn and aws-us-gov a region has AWS's form: [a-z]{2}(-[a-z]+)+-[0-9]+
 *
 * Letters are ASCII and case-insensitive; the canonical form is lowercase. A segment is a DNS
 * label (RFC 1035 §2.3.4: at most 63 octets), so the mapping to a name never truncates.
 */
import { ECHO_LONG, PsarnBaseError, quote } from '../errors.js';

/** A parsed psARN, canonical lowercase. */
export interface Psarn {
  partition: string;
  region: string;
  /** 12 digits. */
  account: string;
  /** 1 to 8 segments. */
  path: string[];
}

export type PsarnErrorCode = 'ERR_INVALID_PSARN' | 'ERR_INVALID_NAME' | 'ERR_INVALID_ZONE' | 'ERR_INVALID_TXT';

/** Thrown for any input outside the grammar. `input` is the offending text as given. */
export class PsarnError extends PsarnBaseError {
  readonly code: PsarnErrorCode;
  readonly input: string;
  constructor(code: PsarnErrorCode, input: string, message: string) {
    super(message);
    this.name = 'PsarnError';
    this.code = code;
    this.input = input;
  }
}

/**
 * The input inside an error message: `quote` (src/errors.ts) with room for a whole psARN. Kept
 * under this name for the grammar's neighbours (target rules, CLI commands).
 */
export const quoteInput = (input: string): string => quote(input, ECHO_LONG);

export const MAX_SEGMENTS = 8;
export const MAX_SEGMENT_LENGTH = 63;
const FORM = 'arn:PARTITION:psarn:REGION:ACCOUNT:PATH';

/** How a bad character is named in a message: '.', ' ' or control character \x1b. */
function describeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `control character ${quote(c).slice(1, -1)}`;
  return quote(c);
}

/** Why `s` is not a segment (or a label of a route name), or undefined when it is one. */
export function segmentProblem(s: string, separator = '/'): string | undefined {
  if (s.length === 0) return `is empty; remove the extra '${separator}'`;
  if (s.length > MAX_SEGMENT_LENGTH) return `is ${s.length} characters; use at most ${MAX_SEGMENT_LENGTH}`;
  const first = s[0]!;
  if (first === '_') return `starts with '_', which is reserved (e.g. _epoch); start with a letter or digit`;
  if (first === '-') return `starts with '-'; start with a letter or digit`;
  const bad = /[^A-Za-z0-9_-]/.exec(s);
  if (bad) return `has ${describeChar(String.fromCodePoint(s.codePointAt(bad.index)!))}; use letters, digits, - or _`;
  return undefined;
}

export function partitionProblem(s: string): string | undefined {
  if (/^[A-Za-z][A-Za-z0-9-]{0,30}$/.test(s)) return undefined;
  return `${s === '' ? 'is empty' : `${quote(s)} is invalid`}; use a letter then up to 30 letters, digits or - (e.g. aws)`;
}

/** The partitions whose regions have AWS's form (docs/design.md#psarn-grammar). */
export const AWS_PARTITIONS: readonly string[] = ['aws', 'aws-cn', 'aws-us-gov'];

/** AWS's region names: two letters, one or more words, a number (us-east-1, us-gov-west-1, ap-southeast-2). */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;

/**
 * Why `s` is not a region, or undefined. In the partitions aws, aws-cn and aws-us-gov a region
 * must have AWS's form, so a typo such as `useast1` is refused instead of creating a zone that
 * no caller will ever ask for; other partitions keep the looser rule (any 1 to 30 letters,
 * digits and -). Letters are case-insensitive, as everywhere in the grammar.
 */
export function regionProblem(s: string, partition?: string): string | undefined {
  if (!/^[A-Za-z0-9-]{1,30}$/.test(s)) {
    return `${s === '' ? 'is empty' : `${quote(s)} is invalid`}; use 1 to 30 letters, digits or - (e.g. us-east-1)`;
  }
  const p = partition?.toLowerCase();
  if (p === undefined || !AWS_PARTITIONS.includes(p) || AWS_REGION.test(s.toLowerCase())) return undefined;
  const guess = regionGuess(s.toLowerCase());
  const hint = guess === undefined ? "use AWS's form, e.g. us-east-1 or ap-southeast-2" : `did you mean ${guess}?`;
  return `${quote(s)} is not an AWS region name in partition ${quote(p)}; ${hint}`;
}

/**
 * The AWS form of a region written without its hyphens (`useast1`, `us-east1`, `apsoutheast2`,
 * `usgovwest1`), or undefined when the letters are not a country code and a direction.
 */
function regionGuess(s: string): string | undefined {
  const m = /^([a-z]{2})(gov)?((?:north|south)?(?:east|west|central)|north|south)([0-9]+)$/.exec(s.replaceAll('-', ''));
  return m ? `${m[1]}-${m[2] ? 'gov-' : ''}${m[3]}-${m[4]}` : undefined;
}

export function accountProblem(s: string): string | undefined {
  if (/^[0-9]{12}$/.test(s)) return undefined;
  return `${s === '' ? 'is empty' : `${quote(s)} is invalid`}; use the 12-digit account id (e.g. 123456789012)`;
}

function fail(input: string, problem: string): never {
  throw new PsarnError('ERR_INVALID_PSARN', input, `invalid psARN ${quote(input, ECHO_LONG)}: ${problem}`);
}

/**
 * Splits and checks everything up to the path; shared with zone arguments, which may stop
 * after the account. Returns the raw (not yet lowercased) parts.
 */
export function splitPsarn(input: string, fail: (problem: string) => never): string[] {
  if (!/^arn:/i.test(input)) fail(`must start with 'arn:'; write ${FORM}`);
  const parts = input.split(':');
  // Name the service first: 'arn:aws:lambda:...' is better told "not a psARN" than "7 parts".
  if (parts.length >= 3 && parts[2]!.toLowerCase() !== 'psarn') {
    fail(`service is ${quote(parts[2]!)}, not 'psarn'; write ${FORM}`);
  }
  if (parts.length !== 6) {
    const hint = parts.length > 6 ? ' (separate path segments with /, not :)' : '';
    fail(`has ${parts.length} ':'-separated parts, needs 6: ${FORM}${hint}`);
  }
  const problem =
    withField('partition', partitionProblem(parts[1]!)) ??
    withField('region', regionProblem(parts[3]!, parts[1]!)) ??
    withField('account', accountProblem(parts[4]!));
  if (problem) fail(problem);
  return parts;
}

function withField(field: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : `${field} ${problem}`;
}

/**
 * Parses a psARN, e.g. `arn:aws:psarn:us-east-1:123456789012:orders/created`.
 * @throws PsarnError ERR_INVALID_PSARN, message like
 *   "invalid psARN 'x': segment 3 has '.'; use letters, digits, - or _"
 * @example parsePsarn('arn:aws:psarn:us-east-1:123456789012:Orders/Created').path // ['orders', 'created']
 */
export function parsePsarn(input: string): Psarn {
  if (typeof input !== 'string') fail(String(input), 'is not a string');
  const f = (problem: string): never => fail(input, problem);
  const parts = splitPsarn(input, f);
  const rawPath = parts[5]!;
  if (rawPath === '') fail(input, `path is empty; give 1 to ${MAX_SEGMENTS} segments separated by /`);
  const path = rawPath.split('/');
  if (path.length > MAX_SEGMENTS) fail(input, `path has ${path.length} segments; use at most ${MAX_SEGMENTS}`);
  for (let i = 0; i < path.length; i++) {
    const problem = segmentProblem(path[i]!);
    if (problem) fail(input, `segment ${i + 1} ${problem}`);
    path[i] = path[i]!.toLowerCase();
  }
  return {
    partition: parts[1]!.toLowerCase(),
    region: parts[3]!.toLowerCase(),
    account: parts[4]!,
    path,
  };
}

/** The canonical text of a psARN. `formatPsarn(parsePsarn(s)) === s.toLowerCase()` for valid s. */
export function formatPsarn(p: Psarn): string {
  return `arn:${p.partition}:psarn:${p.region}:${p.account}:${p.path.join('/')}`.toLowerCase();
}

/** True when the input is a valid psARN (never throws). */
export function isPsarn(input: string): boolean {
  try {
    parsePsarn(input);
    return true;
  } catch {
    return false;
  }
}
