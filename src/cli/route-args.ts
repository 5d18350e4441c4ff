/**
 * The arguments of the route writes — `route set`, `route weight`, `route alias`, `route
 * delete` — checked before any database is opened (docs/cli.md#psarn-route-set). Pure; args.ts
 * calls it from its command switch.
 */
import { quote } from '../errors.js';
import type { Psarn } from '../psarn/psarn.js';
import { parseTargetWeight, type TargetWeight } from '../psarn/target.js';
import type { Policy, TargetSpec } from '../store/types.js';
import { parseMeta, parsePolicy, parseTarget, parseTtl } from './args.js';
import { oneLine, usageError } from './errors.js';

/** `--ttl S`, or `--ttl default`: the config's defaultTtl. */
export type TtlArg = number | 'default';

/** What `--meta` and `--clear-meta` do to a route's metadata, in this order: clear, remove, set. */
export interface MetaChanges {
  clear: boolean;
  remove: string[];
  set: Record<string, string>;
}

export type RouteWriteCommand =
  | {
      kind: 'route set';
      psarn: Psarn;
      /** Empty: keep the route's targets. */
      targets: TargetSpec[];
      policy?: Policy;
      ttl?: TtlArg;
      meta: MetaChanges;
    }
  | { kind: 'route weight'; psarn: Psarn; changes: TargetWeight[] }
  | { kind: 'route alias'; psarn: Psarn; target: Psarn; ttl?: TtlArg; force: boolean }
  | { kind: 'route delete'; psarn: Psarn; force: boolean };

/** What args.ts lends: its psARN argument parser and its argument count check. */
export interface ArgHelpers {
  psarn(input: string): Psarn;
  expect(min: number, max: number, what: string): void;
}

/** `--ttl`: whole seconds, or `default` for the config's defaultTtl. */
export function parseTtlArg(input: string): TtlArg {
  return input === 'default' ? 'default' : parseTtl(input);
}

const META_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * `--meta KEY=VALUE` sets a key, `--meta KEY-` removes one (kubectl label's form), `--clear-meta`
 * removes every key first. A key named twice, in either form, is an error.
 */
export function parseMetaChanges(inputs: readonly string[], clear: boolean): MetaChanges {
  const removals = inputs.filter((i) => !i.includes('=') && i.endsWith('-'));
  const set = parseMeta(inputs.filter((i) => !removals.includes(i)));
  const remove: string[] = [];
  for (const input of removals) {
    const key = input.slice(0, -1);
    if (!META_KEY.test(key)) {
      throw usageError(
        `invalid --meta ${quote(input)}: write KEY- to remove a key, KEY of letters, digits, '.', '-' or '_' (at most 63)`,
      );
    }
    if (remove.includes(key) || Object.hasOwn(set, key)) {
      throw usageError(`invalid --meta ${quote(input)}: key ${quote(key)} is given twice`);
    }
    remove.push(key);
  }
  return { clear, remove, set };
}

/** Refuses a target given twice: each target is one URI record, with one weight and priority. */
function once<T extends { target: string }>(targets: T[], how: string): T[] {
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.target)) {
      throw usageError(`${how} ${quote(t.target)} is given twice; give each target once, with its weight and priority`);
    }
    seen.add(t.target);
  }
  return targets;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function targetWeight(input: string): TargetWeight {
  try {
    return parseTargetWeight(input);
  } catch (err) {
    throw usageError(oneLine((err as Error).message), err);
  }
}

/**
 * The command of a route write, from its positionals and flag values.
 * @throws CliError ERR_USAGE naming the input
 */
export function routeWriteCommand(
  name: RouteWriteCommand['kind'],
  rest: string[],
  v: Record<string, unknown>,
  h: ArgHelpers,
): RouteWriteCommand {
  const ttl = typeof v.ttl === 'string' ? { ttl: parseTtlArg(v.ttl) } : {};
  switch (name) {
    case 'route set': {
      h.expect(1, 1, '<psARN>');
      const psarn = h.psarn(rest[0]!);
      const targets = once(strings(v.target).map(parseTarget), '--target');
      const policy = typeof v.policy === 'string' ? { policy: parsePolicy(v.policy) } : {};
      const meta = parseMetaChanges(strings(v.meta), v['clear-meta'] === true);
      return { kind: name, psarn, targets, ...policy, ...ttl, meta };
    }
    case 'route weight': {
      h.expect(2, Number.POSITIVE_INFINITY, rest.length === 0 ? '<psARN> and <target>=<WEIGHT>' : '<target>=<WEIGHT>');
      const psarn = h.psarn(rest[0]!);
      return { kind: name, psarn, changes: once(rest.slice(1).map(targetWeight), 'target') };
    }
    case 'route alias': {
      h.expect(2, 2, rest.length === 0 ? '<psARN> and <target psARN>' : '<target psARN>');
      return { kind: name, psarn: h.psarn(rest[0]!), target: h.psarn(rest[1]!), ...ttl, force: v.force === true };
    }
    case 'route delete':
      h.expect(1, 1, '<psARN>');
      return { kind: name, psarn: h.psarn(rest[0]!), force: v.force === true };
  }
}
