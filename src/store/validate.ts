/**
 * Checks every value before it reaches SQL, so a bad write fails with a message that names the
 * input and touches nothing. The CHECK constraints in schema.ts are the second line of defence.
 */
import { echoValue, quote } from '../errors.js';
import { TXT_VERSION } from '../psarn/txt.js';
import { MAX_CNAME_CHAIN } from '../wire/types.js';
import type { Policy, RouteSpec, TargetSpec, ZoneParams } from './types.js';
import { StoreError } from './types.js';

export const MAX_TTL = 172800;
export const MAX_SEGMENTS = 8;

// What one answer may hold. A route whose answer cannot be sent in one DNS message would be
// SERVFAIL for every query, so it is refused when written. The sizes are those the one
// route-record encoder (src/zone/route-wire.ts) writes; the store cannot import it (store sits
// below zone), so test/store/answer-size.test.ts encodes real answers, through both the store
// path and the route index, and checks them against these figures.
/** A DNS message carries at most 65535 bytes: the TCP length prefix is 16 bits (RFC 1035 §4.2.2). */
const MAX_MESSAGE = 65535;
/** Header (RFC 1035 §4.1.1), question type and class (§4.1.2), an RR's type, class, TTL and rdlength (§4.1.3). */
const HEADER = 12;
const QUESTION_FIXED = 4;
const RR_FIXED = 10;
/** Every owner in a route's answer is the question name or a name written before it: a pointer (RFC 1035 §4.1.4). */
const POINTER = 2;
/** URI priority and weight before the target (RFC 7553 §4.5). */
const URI_FIXED = 4;
/** The OPT RR of a reply to an EDNS query, without options (RFC 6891 §6.1.2). */
const OPT = 11;
/** The longest name on the wire (RFC 1035 §3.1). */
const MAX_NAME_WIRE = 255;
/**
 * Aliases followed before a route's records are reached: the answer function's chain limit. A
 * query for an alias gets the CNAME chain and then the route's records in one message, so room
 * for the longest chain is kept for every route: an alias can be written after the route, in
 * another zone, and must not make the route unanswerable.
 */
export const MAX_ALIAS_CHAIN = MAX_CNAME_CHAIN;
/** The epoch is a safe integer (a flush bumps it), so its TXT string is sized at its widest. */
const MAX_EPOCH_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

/**
 * The most a target route's URI and TXT records may take (63117 bytes): a whole message less
 * the header, the longest question name, an OPT, and a chain of MAX_ALIAS_CHAIN CNAMEs whose
 * owners are pointers and whose targets are uncompressed longest names.
 */
export const MAX_ROUTE_RECORDS =
  MAX_MESSAGE -
  HEADER -
  (MAX_NAME_WIRE + QUESTION_FIXED) -
  MAX_ALIAS_CHAIN * (POINTER + RR_FIXED + MAX_NAME_WIRE) -
  OPT;

/** A URI RR of a route's answer before its target: owner pointer, fixed fields, priority, weight. */
const URI_RR_FIXED = POINTER + RR_FIXED + URI_FIXED;

/** Bytes of one URI RR of a route's answer: the fixed part and the target in UTF-8. */
export function uriRecordSize(target: string): number {
  return URI_RR_FIXED + Buffer.byteLength(target, 'utf8');
}

/** Bytes of a route's TXT RR (`"v=psarn1" "policy=<p>" "epoch=<n>"`, src/zone/records.ts), each string after its length octet. */
export function routeTxtSize(policy: Policy, epochDigits = MAX_EPOCH_DIGITS): number {
  const strings = 1 + TXT_VERSION.length + 1 + 'policy='.length + policy.length + 1 + 'epoch='.length + epochDigits;
  return POINTER + RR_FIXED + strings;
}

/**
 * Bytes of the records answering URI or ANY at a target route (the URI set and the TXT), as
 * the encoder writes them after the question; the epoch at its widest unless `epochDigits` is
 * given.
 */
export function routeRecordsSize(policy: Policy, targets: readonly TargetSpec[], epochDigits?: number): number {
  let size = routeTxtSize(policy, epochDigits);
  for (const t of targets) size += uriRecordSize(t.target);
  return size;
}

/** A route in the shape it is written: one of policy/alias set, metadata already JSON. */
export interface CheckedRoute {
  ttl: number;
  policy: Policy | null;
  alias: string | null;
  targets: TargetSpec[];
  metadata: Record<string, string>;
  metadataJson: string;
}

// A psARN path segment (docs/design.md#psarn-grammar), canonical lowercase. A leading '_' is reserved for
// names such as `_epoch`, so no route may take one.
const SEGMENT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// Absolute DNS names as psarn writes them: lowercase labels of letters, digits, '-' and '_'.
const NAME = /^(?:[a-z0-9_-]{1,63}\.)+$/;
// The longest absolute name in text form: 253 characters plus the final dot (255 octets on the wire).
const MAX_NAME = 254;

const isUint = (n: unknown, max: number): n is number =>
  Number.isInteger(n) && (n as number) >= 0 && (n as number) <= max;

export function checkZoneName(zone: string): void {
  if (typeof zone !== 'string' || zone.length > MAX_NAME || !NAME.test(zone)) {
    throw new StoreError(
      'ERR_INVALID_ZONE',
      `invalid zone name ${echoValue(zone)}: use an absolute lowercase name such as '123456789012.us-east-1.aws.psarn.internal.'`,
    );
  }
}

/**
 * True for a path checkPath accepts, in one pass (a zone import checks 1M paths; split and a
 * regular expression per segment cost ~0.4 s of it). False says nothing: checkPath then finds
 * and names the problem.
 */
function isPlainPath(path: string): boolean {
  if (typeof path !== 'string') return false;
  const n = path.length;
  let segments = 1;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 47 : path.charCodeAt(i);
    if (c === 47 /* / */) {
      const length = i - start;
      if (length < 1 || length > 63 || (i < n && ++segments > MAX_SEGMENTS)) return false;
      start = i + 1;
    } else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || ((c === 45 || c === 95) && i > start))) return false;
  }
  return true;
}

export function checkPath(zone: string, path: string): void {
  if (isPlainPath(path)) return;
  const segments = typeof path === 'string' ? path.split('/') : [];
  const bad = segments.findIndex((s) => !SEGMENT.test(s));
  if (segments.length === 0 || segments.length > MAX_SEGMENTS || bad >= 0) {
    const why =
      segments.length > MAX_SEGMENTS
        ? `it has ${segments.length} segments, at most ${MAX_SEGMENTS} are allowed`
        : `segment ${bad + 1} must be 1 to 63 lowercase letters, digits, '-' or '_', not starting with '-' or '_'`;
    throw new StoreError('ERR_INVALID_ROUTE', `invalid route path ${echoValue(path)} in zone ${zone}: ${why}`);
  }
}

/** @throws StoreError ERR_INVALID_ROUTE naming the route and the bad field. */
export function checkRoute(zone: string, path: string, spec: RouteSpec): CheckedRoute {
  checkPath(zone, path);
  const fail = (why: string) =>
    new StoreError('ERR_INVALID_ROUTE', `invalid route ${echoValue(path)} in zone ${zone}: ${why}`);
  if (spec === null || typeof spec !== 'object') throw fail('the route is not an object');
  if (!isUint(spec.ttl, MAX_TTL)) throw fail(`ttl ${echoValue(spec.ttl)} must be an integer from 0 to ${MAX_TTL}`);
  const metadata = spec.metadata ?? {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw fail(`metadata ${quote(k)} must be a string`);
  }
  const metadataJson = JSON.stringify(metadata);
  const hasAlias = 'alias' in spec && spec.alias !== undefined;
  const hasTargets = 'targets' in spec && spec.targets !== undefined;
  if (hasAlias === hasTargets) throw fail('give either an alias or targets, not both or neither');
  if (hasAlias) {
    const alias = typeof spec.alias === 'string' ? spec.alias.toLowerCase() : '';
    if (alias.length > MAX_NAME || !NAME.test(alias)) {
      throw fail(`alias ${echoValue(spec.alias)} must be an absolute DNS name ending in '.'`);
    }
    return { ttl: spec.ttl, policy: null, alias, targets: [], metadata, metadataJson };
  }
  const { policy, targets } = spec as { policy: unknown; targets: unknown };
  if (policy !== 'weighted' && policy !== 'fanout')
    throw fail(`policy ${echoValue(policy)} must be weighted or fanout`);
  if (!Array.isArray(targets) || targets.length === 0) throw fail('a route needs at least one target');
  // Few targets (the usual case, 2M of them in a 1M-route import): a scan finds a repeat
  // faster than hashing a key per target; many: a set, so the check stays linear.
  const seen = targets.length > 16 ? new Set<string>() : undefined;
  const checked: TargetSpec[] = [];
  // A bound first: UTF-8 takes at most 3 bytes per UTF-16 code unit, so only a route near the
  // limit pays for exact byte lengths (a 1M-route import checks every target).
  let bound = routeTxtSize(policy);
  for (const [i, t] of (targets as TargetSpec[]).entries()) {
    const n = `target ${i + 1}`;
    if (typeof t?.target !== 'string' || t.target.length === 0) throw fail(`${n} must be a non-empty string`);
    if (!isUint(t.weight, 65535)) throw fail(`${n} weight ${echoValue(t.weight)} must be an integer from 0 to 65535`);
    if (!isUint(t.priority, 65535))
      throw fail(`${n} priority ${echoValue(t.priority)} must be an integer from 0 to 65535`);
    // Identical URI RRs are one RR in DNS (RFC 2181 §5), so a duplicate would not survive export.
    const key = seen && `${t.priority} ${t.weight} ${t.target}`;
    const repeats = key
      ? seen!.has(key)
      : checked.some((c) => c.target === t.target && c.weight === t.weight && c.priority === t.priority);
    if (repeats) throw fail(`${n} ${quote(t.target)} repeats an earlier target with the same weight and priority`);
    if (key) seen!.add(key);
    checked.push({ target: t.target, weight: t.weight, priority: t.priority });
    bound += URI_RR_FIXED + 3 * t.target.length;
  }
  const size = bound > MAX_ROUTE_RECORDS ? routeRecordsSize(policy, checked) : 0;
  if (size > MAX_ROUTE_RECORDS) {
    // The whole reply to a URI query for the route's own name, with EDNS: what an operator can
    // compare with 65535. The route name on the wire is one octet longer than its dotted text.
    const nameWire = path.length + 1 + zone.length + 1;
    const message = HEADER + nameWire + QUESTION_FIXED + size + OPT;
    throw fail(
      `its answer would take ${message} bytes (${checked.length} targets, ${size} bytes of URI and TXT records); ` +
        `a route's records may take at most ${MAX_ROUTE_RECORDS} bytes, so that every answer leading to it, ` +
        `through up to ${MAX_ALIAS_CHAIN} aliases, fits in one ${MAX_MESSAGE}-byte DNS message: ` +
        'remove or shorten targets, or split the route',
    );
  }
  return { ttl: spec.ttl, policy, alias: null, targets: checked, metadata, metadataJson };
}

/** @throws StoreError ERR_INVALID_ZONE naming the zone and the bad parameter. */
export function checkParams(zone: string, p: ZoneParams): void {
  const fail = (why: string) =>
    new StoreError('ERR_INVALID_ZONE', `invalid SOA/NS parameters for zone ${zone}: ${why}`);
  const u32 = 4294967295;
  const i32 = 2147483647;
  const limits: [keyof ZoneParams, number][] = [
    ['soaTtl', i32],
    ['nsTtl', i32],
    ['refresh', u32],
    ['retry', u32],
    ['expire', u32],
    ['minimum', u32],
  ];
  for (const [key, max] of limits) {
    if (!isUint(p[key], max)) throw fail(`${key} ${echoValue(p[key])} must be an integer from 0 to ${max}`);
  }
  const absolute = (s: unknown) => typeof s === 'string' && s.endsWith('.') && s.length <= MAX_NAME && !/\s/.test(s);
  if (!absolute(p.mname)) throw fail(`mname ${echoValue(p.mname)} must be an absolute name`);
  if (!absolute(p.rname)) throw fail(`rname ${echoValue(p.rname)} must be an absolute name`);
  if (!Array.isArray(p.nameservers) || p.nameservers.length === 0) throw fail('give at least one nameserver');
  for (const ns of p.nameservers) if (!absolute(ns)) throw fail(`nameserver ${echoValue(ns)} must be an absolute name`);
}
