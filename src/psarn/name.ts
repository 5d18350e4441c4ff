/**
 * psARN <-> DNS name mapping (docs/design.md#dns-names-and-zones). Pure, total, reversible:
 *   arn:aws:psarn:us-east-1:123456789012:orders/created
 *     <-> created.orders.123456789012.us-east-1.aws.psarn.internal.
 * Names are absolute, lowercase, with a trailing dot. Errors are PsarnError.
 */
import { ECHO_LONG, quote } from '../errors.js';
import type { Psarn } from './psarn.js';
import {
  accountProblem,
  formatPsarn,
  MAX_SEGMENT_LENGTH,
  MAX_SEGMENTS,
  PsarnError,
  parsePsarn,
  partitionProblem,
  regionProblem,
  segmentProblem,
  splitPsarn,
} from './psarn.js';

export const DEFAULT_NAMESPACE = 'psarn.internal.';

/** RFC 1035 §2.3.4: 255 octets on the wire = 253 characters of text without the final dot. */
export const MAX_NAME_LENGTH = 253;
/** Leaves room under the namespace for 8 segments of a psARN plus the zone labels. */
export const MAX_NAMESPACE_LENGTH = 200;

/** The zone part of a psARN: one zone per account, region and partition. */
export interface ZoneKey {
  partition: string;
  region: string;
  account: string;
}

/** Why `ns` is not a namespace, or undefined. Labels are LDH (RFC 1123 §2.1). */
export function namespaceProblem(ns: string): string | undefined {
  const body = ns.endsWith('.') ? ns.slice(0, -1) : ns;
  if (body === '') return 'is empty; use a domain such as psarn.internal.';
  if (body.length > MAX_NAMESPACE_LENGTH) {
    return `is ${body.length} characters; use at most ${MAX_NAMESPACE_LENGTH} so routes fit in 253`;
  }
  const labels = body.split('.');
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === '') return `label ${i + 1} is empty; remove the extra '.'`;
    if (label.length > MAX_SEGMENT_LENGTH) return `label ${i + 1} is ${label.length} characters; use at most 63`;
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(label)) {
      return `label ${i + 1} ${quote(label)} is invalid; use letters, digits and inner hyphens`;
    }
  }
  return undefined;
}

// The namespace is normalised on every mapping call; one remembered value keeps that free.
let lastNs = DEFAULT_NAMESPACE;
let lastNsNormal = DEFAULT_NAMESPACE;

/**
 * Validates and canonicalises a namespace suffix: lowercase, trailing dot added, labels
 * LDH (letters, digits, hyphen) 1..63 bytes, total <= 200 so that routes fit.
 * @throws PsarnError ERR_INVALID_NAME
 * @example normalizeNamespace('Corp.Example') // 'corp.example.'
 */
export function normalizeNamespace(namespace: string): string {
  if (namespace === lastNs) return lastNsNormal;
  const problem = typeof namespace === 'string' ? namespaceProblem(namespace) : 'is not a string';
  if (problem) {
    throw new PsarnError(
      'ERR_INVALID_NAME',
      String(namespace),
      `invalid namespace ${quote(String(namespace), ECHO_LONG)}: ${problem}`,
    );
  }
  const normal = `${namespace.endsWith('.') ? namespace.slice(0, -1) : namespace}.`.toLowerCase();
  lastNs = namespace;
  lastNsNormal = normal;
  return normal;
}

/**
 * The DNS name of a psARN (a Psarn or its text).
 * @throws PsarnError ERR_INVALID_PSARN (bad psARN) or ERR_INVALID_NAME (name > 253 characters
 *   without the final dot, i.e. > 255 octets on the wire)
 * @example psarnToName('arn:aws:psarn:us-east-1:123456789012:orders/created')
 *   // 'created.orders.123456789012.us-east-1.aws.psarn.internal.'
 */
export function psarnToName(psarn: Psarn | string, namespace: string = DEFAULT_NAMESPACE): string {
  // An object is re-parsed from its text: a hand-built Psarn gets the same checks as a string.
  const p = parsePsarn(typeof psarn === 'string' ? psarn : formatPsarn(psarn));
  const ns = normalizeNamespace(namespace);
  const name = routeName(`${p.account}.${p.region}.${p.partition}.${ns}`, p.path);
  if (name.length - 1 > MAX_NAME_LENGTH) {
    const text = typeof psarn === 'string' ? psarn : formatPsarn(p);
    throw new PsarnError(
      'ERR_INVALID_NAME',
      text,
      `invalid psARN ${quote(text, ECHO_LONG)}: its DNS name is ${name.length - 1} characters, over the limit of ${MAX_NAME_LENGTH}; shorten the path`,
    );
  }
  return name;
}

/** Lowercase, without the final dot; rejects the empty name and names too long. */
function relativeToNamespace(name: string, ns: string, fail: (problem: string) => never, what: string): string[] {
  if (typeof name !== 'string') fail('is not a string');
  const body = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  if (body.length > MAX_NAME_LENGTH) fail(`is ${body.length} characters; a DNS name has at most ${MAX_NAME_LENGTH}`);
  const suffix = `.${ns.slice(0, -1)}`;
  if (!body.endsWith(suffix)) fail(`is not under the namespace ${ns}; write ${what}.${ns}`);
  const rest = body.slice(0, -suffix.length);
  return rest === '' ? [] : rest.split('.');
}

/**
 * The psARN of a DNS name (case-insensitive, trailing dot optional).
 * @throws PsarnError ERR_INVALID_NAME naming what is wrong ("not under namespace", "label 2 ...")
 * @example nameToPsarn('Created.Orders.123456789012.us-east-1.aws.psarn.internal').path // ['orders', 'created']
 */
export function nameToPsarn(name: string, namespace: string = DEFAULT_NAMESPACE): Psarn {
  const ns = normalizeNamespace(namespace);
  const fail = (problem: string): never => {
    throw new PsarnError(
      'ERR_INVALID_NAME',
      String(name),
      `invalid name ${quote(String(name), ECHO_LONG)}: ${problem}`,
    );
  };
  const what = 'SEGMENT...ACCOUNT.REGION.PARTITION';
  const labels = relativeToNamespace(name, ns, fail, what);
  const n = labels.length;
  if (n < 4) fail(`has ${n} label${n === 1 ? '' : 's'} before the namespace, needs at least 4: ${what}.${ns}`);
  if (n - 3 > MAX_SEGMENTS) fail(`has ${n - 3} path labels; a psARN has at most ${MAX_SEGMENTS}`);
  for (let i = 0; i < n - 3; i++) {
    const problem = segmentProblem(labels[i]!, '.');
    if (problem) fail(`label ${i + 1} ${problem}`);
  }
  const [account, region, partition] = labels.slice(n - 3);
  const problem =
    withLabel('account', accountProblem(account!)) ??
    withLabel('region', regionProblem(region!, partition)) ??
    withLabel('partition', partitionProblem(partition!));
  if (problem) fail(problem);
  return { partition: partition!, region: region!, account: account!, path: labels.slice(0, n - 3).reverse() };
}

function withLabel(field: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : `${field} label ${problem}`;
}

/**
 * The zone name of a psARN or ZoneKey: `<account>.<region>.<partition>.<namespace>`.
 * @example zoneName('arn:aws:psarn:us-east-1:123456789012:orders/created') // '123456789012.us-east-1.aws.psarn.internal.'
 */
export function zoneName(of: Psarn | ZoneKey | string, namespace: string = DEFAULT_NAMESPACE): string {
  const ns = normalizeNamespace(namespace);
  let key: ZoneKey;
  if (typeof of === 'string') {
    key = parsePsarn(of);
  } else {
    const problem =
      withLabel('partition', partitionProblem(of.partition)) ??
      withLabel('region', regionProblem(of.region, of.partition)) ??
      withLabel('account', accountProblem(of.account));
    if (problem) {
      const text = `${of.account}.${of.region}.${of.partition}.${ns}`;
      throw new PsarnError('ERR_INVALID_ZONE', text, `invalid zone ${quote(text, ECHO_LONG)}: ${problem}`);
    }
    key = of;
  }
  return `${key.account}.${key.region}.${key.partition}.${ns}`.toLowerCase();
}

/**
 * Parses a zone name (`123456789012.us-east-1.aws.psarn.internal`, trailing dot optional,
 * case-insensitive) into its key.
 * @throws PsarnError ERR_INVALID_ZONE
 */
export function parseZoneName(name: string, namespace: string = DEFAULT_NAMESPACE): ZoneKey {
  const ns = normalizeNamespace(namespace);
  return zoneKeyOf(name, ns, (problem) => {
    throw new PsarnError(
      'ERR_INVALID_ZONE',
      String(name),
      `invalid zone ${quote(String(name), ECHO_LONG)}: ${problem}`,
    );
  });
}

function zoneKeyOf(name: string, ns: string, fail: (problem: string) => never): ZoneKey {
  const what = 'ACCOUNT.REGION.PARTITION';
  const labels = relativeToNamespace(name, ns, fail, what);
  if (labels.length !== 3) {
    fail(
      `has ${labels.length} label${labels.length === 1 ? '' : 's'} before the namespace, needs 3: ${what}.${ns} (e.g. 123456789012.us-east-1.aws.${ns})`,
    );
  }
  const [account, region, partition] = labels as [string, string, string];
  const problem =
    withLabel('account', accountProblem(account)) ??
    withLabel('region', regionProblem(region, partition)) ??
    withLabel('partition', partitionProblem(partition));
  if (problem) fail(problem);
  return { partition, region, account };
}

/**
 * A CLI `<zone>` argument: a zone's DNS name or any psARN inside it; returns the canonical zone
 * name. A psARN with an empty path (`arn:aws:psarn:us-east-1:123456789012:`) names the zone too.
 * @throws PsarnError ERR_INVALID_ZONE naming both accepted forms.
 * @example parseZoneArg('arn:aws:psarn:us-east-1:123456789012:orders') // '123456789012.us-east-1.aws.psarn.internal.'
 */
export function parseZoneArg(input: string, namespace: string = DEFAULT_NAMESPACE): string {
  const ns = normalizeNamespace(namespace);
  const forms = `give a zone name like 123456789012.us-east-1.aws.${ns} or a psARN inside the zone`;
  const fail = (problem: string): never => {
    throw new PsarnError(
      'ERR_INVALID_ZONE',
      String(input),
      `invalid zone ${quote(String(input), ECHO_LONG)}: ${problem}; ${forms}`,
    );
  };
  if (typeof input !== 'string') fail('is not a string');
  if (/^arn:/i.test(input)) {
    const parts = splitPsarn(input, (problem) => fail(`psARN ${problem.replace(/; write arn:.*$/, '')}`));
    if (parts[5] !== '') {
      try {
        parsePsarn(input);
      } catch (err) {
        fail((err as PsarnError).message.replace(/^invalid psARN '.*?': /s, 'psARN '));
      }
    }
    return `${parts[4]}.${parts[3]}.${parts[1]}.${ns}`.toLowerCase();
  }
  const key = zoneKeyOf(input, ns, (problem) =>
    fail(`zone name ${problem.replace(/(; write | \(e\.g\. \d{12}).*$/, '')}`),
  );
  return `${key.account}.${key.region}.${key.partition}.${ns}`;
}

function isSegmentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || (c >= 65 && c <= 90);
}

/**
 * The DNS name of a route: its path's segments reversed, under the zone apex. The one mapping
 * from a path to a name: psarnToName, the answer function, `zone export` and the route index
 * (routePathWire) all go through here. `path` is 'orders/created' or its segments.
 * @example routeName('123456789012.us-east-1.aws.psarn.internal.', 'orders/created')
 *   // 'created.orders.123456789012.us-east-1.aws.psarn.internal.'
 */
export function routeName(apex: string, path: string | readonly string[]): string {
  return `${pathLabels(path).join('.')}.${apex}`;
}

/** A route path's labels, leftmost first: 'orders/created' -> ['created', 'orders']. */
function pathLabels(path: string | readonly string[]): string[] {
  return (typeof path === 'string' ? path.split('/') : [...path]).reverse();
}

/**
 * Writes a route path's labels in wire form (length octet, bytes; no root label) into `out` at
 * 0. @returns their length, or -1 when a label is empty, over 63 bytes, or the labels would
 * leave fewer than `room` bytes of a 255-octet name (RFC 1035 §3.1).
 */
export function routePathWire(path: string, out: Buffer, room: number): number {
  // The segments from the last to the first, without splitting (the index's build does this 1M times).
  let p = 0;
  let end = path.length;
  while (end >= 0) {
    const start = path.lastIndexOf('/', end - 1) + 1;
    const bytes = end - start;
    if (bytes === 0 || bytes > 63 || p + 1 + bytes + room > 255) return -1;
    out[p] = bytes;
    out.write(path.slice(start, end), p + 1, bytes, 'latin1');
    p += 1 + bytes;
    end = start - 1;
  }
  return p;
}

/**
 * Splits a DNS name inside a zone into the route path it maps to, or undefined when the
 * labels cannot be a route path (a label outside the segment grammar, too deep, or the apex).
 * `relativeLabels` are the labels below the zone apex, leftmost first, already lowercase:
 * ['created', 'orders'] -> ['orders', 'created']. On the query path: one array, no regex,
 * never throws.
 */
export function labelsToPath(relativeLabels: readonly string[]): string[] | undefined {
  const n = relativeLabels.length;
  if (n === 0 || n > MAX_SEGMENTS) return undefined;
  const path = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    let label = relativeLabels[i];
    if (typeof label !== 'string' || label.length === 0 || label.length > MAX_SEGMENT_LENGTH) return undefined;
    const first = label.charCodeAt(0);
    if (first === 45 || first === 95) return undefined;
    let upper = false;
    for (let j = 0; j < label.length; j++) {
      const c = label.charCodeAt(j);
      if (!isSegmentChar(c)) return undefined;
      if (c >= 65 && c <= 90) upper = true;
    }
    if (upper) label = label.toLowerCase();
    path[n - 1 - i] = label;
  }
  return path;
}

/**
 * The psARN of a route of a zone (a stored route, an operation). A zone the grammar no longer
 * takes (a region such as `useast1` written before the AWS region rule) is still shown, from its
 * labels, so listing never fails.
 */
export function routePsarn(route: { zone: string; path: string }, namespace: string): string {
  try {
    const key = parseZoneName(route.zone, namespace);
    return formatPsarn({ ...key, path: route.path.split('/') });
  } catch {
    const [account, region, partition] = route.zone.split('.');
    return `arn:${partition}:psarn:${region}:${account}:${route.path}`;
  }
}

/** An alias target (a DNS name) as a psARN, or the name itself when it is not one. */
export function aliasPsarn(alias: string, namespace: string): string {
  try {
    return formatPsarn(nameToPsarn(alias, namespace));
  } catch {
    return alias;
  }
}
