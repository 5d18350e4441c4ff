/**
 * Routes files: the demo routes (docs/design.md#demo-routes) and the input of `psarn apply`
 * (docs/design.md#apply).
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
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ECHO_LONG, echo, echoValue, PsarnBaseError, quote } from '../errors.js';
import { psarnToName, zoneName } from '../psarn/name.js';
import type { Psarn } from '../psarn/psarn.js';
import { formatPsarn, isPsarn, PsarnError, parsePsarn } from '../psarn/psarn.js';
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
  /** 1-based line of the entry in its file: every later error about it names it. */
  line: number;
  /** 1-based line of each target (empty for an alias), for the targets policy's errors. */
  targetLines: number[];
  /** 1-based line of an alias's `alias:`, for the errors about where it points. */
  aliasLine?: number;
}

/**
 * A routes file that cannot be used. The message reads `FILE:LINE: PSARN: what`, as a compiler
 * names a source line (the psARN is left out when the error is not about one route).
 */
export class RoutesFileError extends PsarnBaseError {
  readonly code = 'ERR_ROUTES_FILE';
  /** Where in the file, e.g. 'routes[2].targets[0].weight', or '' for the file as a whole. */
  readonly key: string;
  /** 1-based line of the error, when known. */
  readonly line: number | undefined;
  /** The route's psARN (or `routes[i]` when its psARN is what is wrong), when the error is about one. */
  readonly route: string | undefined;
  constructor(key: string, message: string, options?: { cause?: unknown; line?: number; route?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RoutesFileError';
    this.key = key;
    this.line = options?.line;
    this.route = options?.route;
  }
}

/**
 * The error about `route` (its psARN text, or undefined for the file as a whole) at `line`
 * (undefined when no line of the file is at fault: a route `psarn apply --prune` would delete).
 * `file` is already echoed.
 */
export function routesFileError(
  file: string,
  at: { line?: number | undefined; route?: string | undefined; key?: string },
  detail: string,
  cause?: unknown,
): RoutesFileError {
  const route = at.route === undefined ? '' : `${at.route}: `;
  const line = at.line === undefined ? '' : `:${at.line}`;
  return new RoutesFileError(at.key ?? '', `${file}${line}: ${route}${detail}`, {
    ...(at.line === undefined ? {} : { line: at.line }),
    ...(at.route === undefined ? {} : { route: at.route }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** `is out of range 0..65535` for a number past a bound, `must be an integer from 0 to 65535` for anything else. */
const OUT_OF_RANGE = 'is out of range';

function int(min: number, max: number) {
  const error = (issue: { code?: string; input?: unknown }) =>
    (issue.code === 'too_big' || issue.code === 'too_small') && Number.isInteger(issue.input)
      ? `${OUT_OF_RANGE} ${min}..${max}`
      : `must be an integer from ${min} to ${max}`;
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
  // Each target is checked on its own (targetOf): a union would only say "must be a target".
  targets: z
    .array(z.unknown(), { error: 'must be a list of targets' })
    .min(1, { error: 'must list at least one target' }),
});
const aliasRoute = z.strictObject({ ...common, alias: psarnText });
const fileSchema = z.strictObject(
  { routes: z.array(z.unknown(), { error: 'must be a list of routes' }) },
  { error: 'must be a mapping with a routes: list' },
);

type Step = string | number;

/**
 * Line numbers of the parsed document: the line of the node at a path of keys and indexes (the
 * deepest node that exists: a missing key is reported at its mapping), or of the key itself.
 */
function lineFinder(doc: Document, counter: LineCounter) {
  return (path: readonly Step[], ofKey = false): number => {
    let node: unknown = doc.contents;
    let line = 1;
    const lineOf = (n: unknown) => {
      const range = (n as { range?: [number, number, number] } | null)?.range;
      if (range) line = counter.linePos(range[0]).line;
    };
    lineOf(node);
    for (const [i, step] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === step);
        if (pair === undefined) break;
        const last = i === path.length - 1;
        // A key with no value (`psarn:`) has a null scalar, or nothing: then its key's line.
        node = (ofKey && last) || pair.value === null ? pair.key : pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        node = node.items[step];
        if (node === undefined) break;
      } else {
        break;
      }
      lineOf(node);
    }
    return line;
  };
}

/**
 * Parses the text of a routes file. `name` only names the source in errors.
 * @throws RoutesFileError `NAME:LINE: PSARN: what`, e.g.
 *   `routes.yaml:12: arn:aws:psarn:us-east-1:123456789012:orders/created: targets[0].weight 70000 is out of range 0..65535`
 */
export function parseRoutesYaml(text: string, name = '<routes>'): RouteEntry[] {
  const file = echo(name, ECHO_LONG);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const reason = echo(error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), ECHO_LONG);
    throw new RoutesFileError(
      '',
      `${file}${at ? `:${at.line}:${at.col}` : ''}: YAML syntax error: ${reason}; fix the file`,
      {
        cause: error,
        ...(at ? { line: at.line } : {}),
      },
    );
  }
  const lineAt = lineFinder(doc, counter);
  const data: unknown = doc.toJS();
  const top = fileSchema.safeParse(data);
  if (!top.success) throw issueError(file, top.error.issues, data, [], undefined, lineAt);
  const entries: RouteEntry[] = [];
  const seen = new Map<string, number>();
  top.data.routes.forEach((raw, i) => {
    const at: Step[] = ['routes', i];
    const line = lineAt(at);
    // Until its psARN is known to be one, the entry is named by its place in the list.
    const text = (raw as { psarn?: unknown } | null)?.psarn;
    let route = typeof text === 'string' && isPsarn(text) ? formatPsarn(parsePsarn(text)) : `routes[${i}]`;
    const fail = (rel: Step[], detail: string, cause?: unknown): never => {
      throw routesFileError(
        file,
        { line: lineAt([...at, ...rel]), route, key: keyText([...at, ...rel]) },
        detail,
        cause,
      );
    };
    const isAlias = raw !== null && typeof raw === 'object' && 'alias' in raw;
    if (isAlias && 'targets' in raw) fail([], 'has both alias and targets; a route is one or the other');
    const parsed = (isAlias ? aliasRoute : targetRoute).safeParse(raw);
    if (!parsed.success) throw issueError(file, parsed.error.issues, raw, at, route, lineAt);
    const psarn = psarnOf(parsed.data.psarn, 'psarn', fail);
    const key = formatPsarn(psarn);
    route = key;
    const earlier = seen.get(key);
    if (earlier !== undefined) fail(['psarn'], `repeats the route of line ${earlier}; keep one`);
    seen.set(key, line);
    const { ttl, metadata } = parsed.data;
    let spec: RouteEntry['spec'];
    let targetLines: number[] = [];
    let aliasLine: number | undefined;
    if ('alias' in parsed.data) {
      aliasLine = lineAt([...at, 'alias']);
      const alias = psarnOf(parsed.data.alias, 'alias', fail);
      if (formatPsarn(alias) === key)
        fail(['alias'], 'alias points to the route itself; an alias must name another psARN');
      spec = { alias };
    } else {
      const targets = parsed.data.targets.map((t, j) => {
        if (typeof t === 'string') return targetOf(t, ['targets', j], fail);
        const object = targetObject.safeParse(t);
        if (!object.success) throw issueError(file, object.error.issues, t, [...at, 'targets', j], route, lineAt);
        return targetOf(object.data, ['targets', j], fail);
      });
      targetLines = targets.map((_, j) => lineAt([...at, 'targets', j]));
      spec = { policy: parsed.data.policy ?? 'weighted', targets };
    }
    entries.push({
      psarn,
      ...(ttl === undefined ? {} : { ttl }),
      ...(metadata ? { metadata } : {}),
      spec,
      line,
      targetLines,
      ...(aliasLine === undefined ? {} : { aliasLine }),
    });
  });
  return entries;
}

/** `routes[2].targets[0].weight` from its steps. */
function keyText(path: readonly Step[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
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
 * `psarn apply`), before anything is written.
 * @returns warning lines (credential-like query parameters), each naming the file, line and route
 * @throws RoutesFileError naming the file, the line and the route of the target the policy refuses
 */
export function checkRoutesPolicy(entries: readonly RouteEntry[], policy: TargetPolicy, file = '<routes>'): string[] {
  const rules = new TargetRules(policy);
  const name = echo(file, ECHO_LONG);
  const warnings: string[] = [];
  entries.forEach((entry, i) => {
    if (!('targets' in entry.spec)) return;
    const route = formatPsarn(entry.psarn);
    entry.spec.targets.forEach((t, j) => {
      const line = entry.targetLines[j] ?? entry.line;
      const rel = `targets[${j}]`;
      try {
        for (const w of rules.check(t.target)) warnings.push(`${name}:${line}: ${route}: ${rel}: ${w}`);
      } catch (err) {
        if (!(err instanceof TargetPolicyError)) throw err;
        throw routesFileError(name, { line, route, key: `routes[${i}].${rel}` }, `${rel} ${err.message}`, err);
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

type Fail = (rel: Step[], detail: string, cause?: unknown) => never;

function psarnOf(text: string, key: 'psarn' | 'alias', fail: Fail): Psarn {
  try {
    return parsePsarn(text);
  } catch (err) {
    if (!(err instanceof PsarnError)) throw err;
    return fail([key], `${key} is not a valid psARN: ${err.message.replace(/^invalid psARN /, '')}`, err);
  }
}

function targetOf(
  t: string | { target: string; weight?: number; priority?: number },
  at: Step[],
  fail: Fail,
): TargetSpec {
  try {
    if (typeof t === 'string') return parseTargetArg(t);
    validateTarget(t.target);
    return { target: t.target, weight: t.weight ?? DEFAULT_WEIGHT, priority: t.priority ?? DEFAULT_PRIORITY };
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    const rel = typeof t === 'string' ? at : [...at, 'target'];
    return fail(rel, `${keyText(rel)} is not a valid target: ${err.message.replace(/^invalid target /, '')}`, err);
  }
}

/**
 * The first schema issue (an unknown key first: a misspelt key explains the rest) as an error
 * at its line. `prefix` is where `data` sits in the file; `route` names the entry, if any.
 */
function issueError(
  file: string,
  issues: z.core.$ZodIssue[],
  data: unknown,
  prefix: Step[],
  route: string | undefined,
  lineAt: (path: readonly Step[], ofKey?: boolean) => number,
): RoutesFileError {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const rel = issue.path as Step[];
  const at = (path: Step[], ofKey = false) => ({
    line: lineAt([...prefix, ...path], ofKey),
    route,
    key: keyText([...prefix, ...path]),
  });
  if (issue.code === 'unrecognized_keys') {
    const path = [...rel, issue.keys[0]!];
    const shown = keyText([...(prefix.length >= 2 ? prefix.slice(2) : []), ...path]);
    return routesFileError(file, at(path, true), `unknown key ${quote(shown)}; check the spelling`);
  }
  const value = rel.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k], data);
  // Keys are shown from the route's entry on (`targets[0].weight`): its line and psARN say which route.
  const inRoute = prefix.length >= 2 ? prefix.slice(2) : [];
  const key = keyText([...inRoute, ...rel]) || (route === undefined ? 'the file' : 'the route');
  const detail = issue.message.startsWith(OUT_OF_RANGE)
    ? `${key} ${echoValue(value)} ${issue.message}`
    : `${key} ${issue.message} (got ${echoValue(value)})`;
  return routesFileError(file, at(rel), detail);
}
