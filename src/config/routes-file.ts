/**
 * Routes files: the demo routes (docs/design.md#demo-routes) and the input of the future `psarn apply`.
 *
 * ```yaml
 * routes:
 *   - psarn: arn:aws:psarn:us-east-1:123456789012:orders/created
 *     policy: weighted            # or fanout; default weighted
 *     ttl: 300                    # optional, 0..172800; default: config defaultTtl
 *     targets:                    # at least one
 *       - { target: arn:aws:lambda:us-east-1:123456789012:function:f, weight: 90, priority: 10 }
 *       - arn:aws:lambda:us-east-1:123456789012:function:g=10   # the CLI form works too
 *   - psarn: arn:aws:psarn:us-east-1:123456789012:orders/latest
 *     alias: arn:aws:psarn:us-east-1:123456789012:orders/created
 * ```
 * weight defaults to 1 and priority to 10, as on the command line.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ECHO_LONG, echo, echoValue, PsarnBaseError, quote } from '../errors.js';
import { psarnToName, zoneName } from '../psarn/name.js';
import type { Psarn } from '../psarn/psarn.js';
import { formatPsarn, PsarnError, parsePsarn } from '../psarn/psarn.js';
import { DEFAULT_PRIORITY, DEFAULT_WEIGHT, parseTargetArg, TargetError, validateTarget } from '../psarn/target.js';
import { type TargetPolicy, TargetPolicyError, TargetRules } from '../psarn/target-policy.js';
import type { Policy, RouteSpec, TargetSpec } from '../store/types.js';

/** One route of a routes file; `ttl` undefined means the config's defaultTtl. */
export interface RouteEntry {
  psarn: Psarn;
  ttl?: number;
  metadata?: Record<string, string>;
  /** A target route (URI + TXT records) or an alias (CNAME) to another psARN. */
  spec: { policy: Policy; targets: TargetSpec[] } | { alias: Psarn };
}

export class RoutesFileError extends PsarnBaseError {
  readonly code = 'ERR_ROUTES_FILE';
  /** Where in the file, e.g. 'routes[2].targets[0].weight', or '' for the file as a whole. */
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoutesFileError';
    this.key = key;
  }
}

function int(min: number, max: number) {
  const error = `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const psarnText = z.string({ error: 'must be a psARN such as arn:aws:psarn:us-east-1:123456789012:orders/created' });
const targetObject = z.strictObject(
  {
    target: z.string({ error: 'must be an ARN or an https:// URL' }),
    weight: int(0, 65535).optional(),
    priority: int(0, 65535).optional(),
  },
  { error: 'must be a target: { target, weight?, priority? } or the text ARN=WEIGHT@PRIORITY' },
);
const common = {
  psarn: psarnText,
  ttl: int(0, 172800).optional(),
  metadata: z
    .record(z.string(), z.string({ error: 'must map names to strings' }), { error: 'must be a mapping' })
    .optional(),
};
const targetRoute = z.strictObject({
  ...common,
  policy: z.enum(['weighted', 'fanout'], { error: 'must be weighted or fanout' }).optional(),
  targets: z
    .array(z.union([z.string(), targetObject], { error: 'must be a target' }), { error: 'must be a list of targets' })
    .min(1, { error: 'must list at least one target' }),
});
const aliasRoute = z.strictObject({ ...common, alias: psarnText });
const fileSchema = z.strictObject(
  { routes: z.array(z.unknown(), { error: 'must be a list of routes' }) },
  { error: 'must be a mapping with a routes: list' },
);

/**
 * Parses the text of a routes file. `file` only names the source in errors.
 * @throws RoutesFileError naming the file, the entry and the key
 */
export function parseRoutesYaml(text: string, name = '<routes>'): RouteEntry[] {
  const file = echo(name, ECHO_LONG);
  const doc = parseDocument(text);
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const reason = echo(error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), ECHO_LONG);
    throw new RoutesFileError(
      '',
      `routes file ${file}${at ? `:${at.line}:${at.col}` : ''}: YAML syntax error: ${reason}; fix the file`,
      {
        cause: error,
      },
    );
  }
  const data: unknown = doc.toJS();
  const top = fileSchema.safeParse(data);
  if (!top.success) throw issueError(file, top.error.issues, data, '');
  const entries: RouteEntry[] = [];
  const seen = new Map<string, number>();
  top.data.routes.forEach((raw, i) => {
    const at = `routes[${i}]`;
    const fail = (key: string, message: string, cause?: unknown): never => {
      throw new RoutesFileError(key, `routes file ${file}: ${key} ${message}`, cause ? { cause } : undefined);
    };
    const isAlias = raw !== null && typeof raw === 'object' && 'alias' in raw;
    if (isAlias && 'targets' in raw) fail(at, 'has both alias and targets; a route is one or the other');
    const parsed = (isAlias ? aliasRoute : targetRoute).safeParse(raw);
    if (!parsed.success) throw issueError(file, parsed.error.issues, raw, at);
    const psarn = psarnOf(parsed.data.psarn, `${at}.psarn`, fail);
    const key = formatPsarn(psarn);
    const earlier = seen.get(key);
    if (earlier !== undefined) fail(`${at}.psarn`, `repeats the route of routes[${earlier}] (${key}); keep one`);
    seen.set(key, i);
    const { ttl, metadata } = parsed.data;
    let spec: RouteEntry['spec'];
    if ('alias' in parsed.data) {
      const alias = psarnOf(parsed.data.alias, `${at}.alias`, fail);
      if (formatPsarn(alias) === key)
        fail(`${at}.alias`, 'points to the route itself; an alias must name another psARN');
      spec = { alias };
    } else {
      const targets = parsed.data.targets.map((t, j) => targetOf(t, `${at}.targets[${j}]`, fail));
      spec = { policy: parsed.data.policy ?? 'weighted', targets };
    }
    entries.push({ psarn, ...(ttl === undefined ? {} : { ttl }), ...(metadata ? { metadata } : {}), spec });
  });
  return entries;
}

/**
 * Reads and parses a routes file.
 * @throws RoutesFileError (also when the file cannot be read)
 * @example loadRoutesFile('config/demo-routes.yaml').length // 4
 */
export function loadRoutesFile(path: string): RouteEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? echo((err as Error).message);
    throw new RoutesFileError('', `routes file ${echo(path, ECHO_LONG)}: cannot read it (${reason})`, { cause: err });
  }
  return parseRoutesYaml(text, path);
}

/**
 * Checks every target of `entries` against the config's `targets` policy (the demo routes, and
 * the future `psarn apply`), before anything is written.
 * @returns warning lines (credential-like query parameters), each naming the entry
 * @throws RoutesFileError naming the file and the target the policy refuses
 */
export function checkRoutesPolicy(entries: readonly RouteEntry[], policy: TargetPolicy, file = '<routes>'): string[] {
  const rules = new TargetRules(policy);
  const warnings: string[] = [];
  entries.forEach((entry, i) => {
    if (!('targets' in entry.spec)) return;
    entry.spec.targets.forEach((t, j) => {
      const key = `routes[${i}].targets[${j}]`;
      try {
        for (const w of rules.check(t.target)) warnings.push(`routes file ${file}: ${key}: ${w}`);
      } catch (err) {
        if (!(err instanceof TargetPolicyError)) throw err;
        throw new RoutesFileError(key, `routes file ${file}: ${key} ${err.message}`, { cause: err });
      }
    });
  });
  return warnings;
}

/**
 * The store's view of an entry: its zone, path and RouteSpec (an alias becomes an absolute DNS
 * name; a missing ttl becomes `defaultTtl`). For the demo loader and `psarn apply`.
 * @throws PsarnError ERR_INVALID_NAME when a name is too long under `namespace`
 */
export function toStoreRoute(
  entry: RouteEntry,
  options: { defaultTtl: number; namespace: string },
): { zone: string; path: string; spec: RouteSpec } {
  const ttl = entry.ttl ?? options.defaultTtl;
  const extra = entry.metadata ? { metadata: entry.metadata } : {};
  psarnToName(entry.psarn, options.namespace); // the route's own name must fit in 253 characters
  const spec: RouteSpec =
    'alias' in entry.spec
      ? { ttl, alias: psarnToName(entry.spec.alias, options.namespace), ...extra }
      : { ttl, policy: entry.spec.policy, targets: entry.spec.targets.map((t) => ({ ...t })), ...extra };
  return { zone: zoneName(entry.psarn, options.namespace), path: entry.psarn.path.join('/'), spec };
}

type Fail = (key: string, message: string, cause?: unknown) => never;

function psarnOf(text: string, key: string, fail: Fail): Psarn {
  try {
    return parsePsarn(text);
  } catch (err) {
    if (!(err instanceof PsarnError)) throw err;
    return fail(key, `is not a valid psARN: ${err.message.replace(/^invalid psARN /, '')}`, err);
  }
}

function targetOf(
  t: string | { target: string; weight?: number; priority?: number },
  key: string,
  fail: Fail,
): TargetSpec {
  try {
    if (typeof t === 'string') return parseTargetArg(t);
    validateTarget(t.target);
    return { target: t.target, weight: t.weight ?? DEFAULT_WEIGHT, priority: t.priority ?? DEFAULT_PRIORITY };
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    return fail(
      typeof t === 'string' ? key : `${key}.target`,
      `is not a valid target: ${err.message.replace(/^invalid target /, '')}`,
      err,
    );
  }
}

function issueError(file: string, issues: z.core.$ZodIssue[], data: unknown, prefix: string): RoutesFileError {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  const parent = `${prefix}${path}`.replace(/^\./, '');
  if (issue.code === 'unrecognized_keys') {
    const key = `${parent ? `${parent}.` : ''}${issue.keys[0]}`;
    return new RoutesFileError(key, `routes file ${file}: unknown key ${quote(key)}; check the spelling`);
  }
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k as PropertyKey], data);
  return new RoutesFileError(
    parent,
    `routes file ${file}: ${parent || 'the file'} ${issue.message} (got ${echoValue(value)})`,
  );
}
