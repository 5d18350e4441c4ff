/**
 * Checks every value before it reaches SQL, so a bad write fails with a message that names the
 * input and touches nothing. The CHECK constraints in schema.ts are the second line of defence.
 */
import type { Policy, RouteSpec, TargetSpec, ZoneParams } from './types.js';
import { StoreError } from './types.js';

export const MAX_TTL = 172800;
export const MAX_SEGMENTS = 8;

/** A route in the shape it is written: one of policy/alias set, metadata already JSON. */
export interface CheckedRoute {
  ttl: number;
  policy: Policy | null;
  alias: string | null;
  targets: TargetSpec[];
  metadata: Record<string, string>;
  metadataJson: string;
}

// A psARN path segment (DESIGN.md §2), canonical lowercase. A leading '_' is reserved for
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
      `invalid zone name '${zone}': use an absolute lowercase name such as '123456789012.us-east-1.aws.psarn.internal.'`,
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
    throw new StoreError('ERR_INVALID_ROUTE', `invalid route path '${path}' in zone ${zone}: ${why}`);
  }
}

/** @throws StoreError ERR_INVALID_ROUTE naming the route and the bad field. */
export function checkRoute(zone: string, path: string, spec: RouteSpec): CheckedRoute {
  checkPath(zone, path);
  const fail = (why: string) => new StoreError('ERR_INVALID_ROUTE', `invalid route '${path}' in zone ${zone}: ${why}`);
  if (spec === null || typeof spec !== 'object') throw fail('the route is not an object');
  if (!isUint(spec.ttl, MAX_TTL)) throw fail(`ttl ${spec.ttl} must be an integer from 0 to ${MAX_TTL}`);
  const metadata = spec.metadata ?? {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw fail(`metadata '${k}' must be a string`);
  }
  const metadataJson = JSON.stringify(metadata);
  const hasAlias = 'alias' in spec && spec.alias !== undefined;
  const hasTargets = 'targets' in spec && spec.targets !== undefined;
  if (hasAlias === hasTargets) throw fail('give either an alias or targets, not both or neither');
  if (hasAlias) {
    const alias = typeof spec.alias === 'string' ? spec.alias.toLowerCase() : '';
    if (alias.length > MAX_NAME || !NAME.test(alias)) {
      throw fail(`alias '${spec.alias}' must be an absolute DNS name ending in '.'`);
    }
    return { ttl: spec.ttl, policy: null, alias, targets: [], metadata, metadataJson };
  }
  const { policy, targets } = spec as { policy: unknown; targets: unknown };
  if (policy !== 'weighted' && policy !== 'fanout') throw fail(`policy '${policy}' must be weighted or fanout`);
  if (!Array.isArray(targets) || targets.length === 0) throw fail('a route needs at least one target');
  // Few targets (the usual case, 2M of them in a 1M-route import): a scan finds a repeat
  // faster than hashing a key per target; many: a set, so the check stays linear.
  const seen = targets.length > 16 ? new Set<string>() : undefined;
  const checked: TargetSpec[] = [];
  for (const [i, t] of (targets as TargetSpec[]).entries()) {
    const n = `target ${i + 1}`;
    if (typeof t?.target !== 'string' || t.target.length === 0) throw fail(`${n} must be a non-empty string`);
    if (!isUint(t.weight, 65535)) throw fail(`${n} weight ${t.weight} must be an integer from 0 to 65535`);
    if (!isUint(t.priority, 65535)) throw fail(`${n} priority ${t.priority} must be an integer from 0 to 65535`);
    // Identical URI RRs are one RR in DNS (RFC 2181 §5), so a duplicate would not survive export.
    const key = seen && `${t.priority} ${t.weight} ${t.target}`;
    const repeats = key
      ? seen!.has(key)
      : checked.some((c) => c.target === t.target && c.weight === t.weight && c.priority === t.priority);
    if (repeats) throw fail(`${n} '${t.target}' repeats an earlier target with the same weight and priority`);
    if (key) seen!.add(key);
    checked.push({ target: t.target, weight: t.weight, priority: t.priority });
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
    if (!isUint(p[key], max)) throw fail(`${key} ${p[key]} must be an integer from 0 to ${max}`);
  }
  const absolute = (s: unknown) => typeof s === 'string' && s.endsWith('.') && s.length <= MAX_NAME && !/\s/.test(s);
  if (!absolute(p.mname)) throw fail(`mname '${p.mname}' must be an absolute name`);
  if (!absolute(p.rname)) throw fail(`rname '${p.rname}' must be an absolute name`);
  if (!Array.isArray(p.nameservers) || p.nameservers.length === 0) throw fail('give at least one nameserver');
  for (const ns of p.nameservers) if (!absolute(ns)) throw fail(`nameserver '${ns}' must be an absolute name`);
}
