/**
 * The route writes: `psarn route set|weight|alias|delete` (docs/cli.md#psarn-route-set). Each
 * builds the new route from the stored one inside the store's write transaction
 * (`Store.updateRoute`), so it keeps what it was not told whatever another writer does, and
 * prints what changed, old → new (docs/cli.md#what-a-write-prints).
 */
import { zoneParams } from '../../config/config.js';
import { ECHO_LONG, quote } from '../../errors.js';
import type { ImportResult } from '../../store/import.js';
import type { Store } from '../../store/store.js';
import {
  type AliasRouteSpec,
  type RouteChange,
  type RouteSpec,
  type StoredRoute,
  StoreError,
  type TargetRouteSpec,
  type WriteOptions,
} from '../../store/types.js';
import { MAX_CNAME_CHAIN } from '../../wire/types.js';
import type { Command } from '../args.js';
import { type Context, localActor } from '../context.js';
import { stderrLine, usageError } from '../errors.js';
import { aliasPsarn, formatChange } from '../format.js';
import { locate, MAX_WARNINGS, notFound, targetChecker } from './route.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

/**
 * `zone import` reports broken alias chains and imports all the same, as other DNS servers load
 * such zones (docs/design.md#alias-checks): one warning line each, MAX_WARNINGS at most, then a count.
 */
export function warnAliasProblems(ctx: Context, results: readonly ImportResult[]): void {
  const ns = ctx.config.namespace;
  const show = (names: readonly string[]) => names.map((n) => aliasPsarn(n, ns)).join(' → ');
  let warned = 0;
  let total = 0;
  for (const { aliasProblems } of results) {
    total += aliasProblems.count;
    for (const p of aliasProblems.problems) {
      if (warned >= MAX_WARNINGS) break;
      warned++;
      const what =
        p.kind === 'loop'
          ? 'is in a loop'
          : p.kind === 'chain'
            ? `is a chain of more than ${MAX_CNAME_CHAIN} aliases (a DNS answer follows at most ${MAX_CNAME_CHAIN})`
            : 'points at no route';
      // Names from a file: one escaped line, cut like an error's (a chain of 10 names of 253 octets).
      ctx.io.stderr.write(
        `psarn: warning: ${stderrLine(`alias ${aliasPsarn(p.alias, ns)} ${what}: ${show(p.chain)}`)}\n`,
      );
    }
  }
  if (total > warned) ctx.io.stderr.write(`psarn: warning: ${total - warned} more aliases with a broken chain\n`);
}

/** How the store names routes in its messages: as psARNs. */
function writeOptions(ctx: Context, force = false): WriteOptions {
  const ns = ctx.config.namespace;
  return { force, show: (name) => aliasPsarn(name, ns), actor: localActor(ctx.io.env) };
}

/**
 * A refused alias write as a usage error (exit 2: the command as given can never succeed
 * against this database; nothing was written), with what to do.
 */
export function aliasRefusal(err: unknown): unknown {
  if (!(err instanceof StoreError)) return err;
  switch (err.code) {
    case 'ERR_ALIAS_LOOP':
    case 'ERR_ALIAS_CHAIN':
      return usageError(err.message, err);
    case 'ERR_ALIAS_DANGLING':
      return usageError(
        `${err.message}; create it first with 'psarn route set', or pass --force to write the alias anyway`,
        err,
      );
    case 'ERR_ROUTE_ALIASED':
      return usageError(`${err.message}; re-point or delete the aliases first, or pass --force`, err);
    default:
      return err;
  }
}

/** Writes through the store, prints what changed (and any aliases a forced write left pointing at nothing). */
function write(ctx: Context, fn: (store: Store) => RouteChange): void {
  const store = ctx.openStore('write');
  let change: RouteChange;
  try {
    change = fn(store);
  } catch (err) {
    throw aliasRefusal(err);
  } finally {
    store.close();
  }
  printChange(ctx, change);
}

/** What a route write prints: the change, old → new, and a warning for aliases left pointing at nothing. */
export function printChange(ctx: Context, change: RouteChange): void {
  const ns = ctx.config.namespace;
  ctx.io.stdout.write(formatChange(change, ns));
  if (change.dangling) {
    const { names, count } = change.dangling;
    const shown = names.map((n) => aliasPsarn(n, ns)).join(', ');
    const more = count > names.length ? ` and ${count - names.length} more` : '';
    ctx.io.stderr.write(
      `psarn: warning: ${count} alias${count === 1 ? '' : 'es'} now point${count === 1 ? 's' : ''} at nothing: ${shown}${more}\n`,
    );
  }
}

/**
 * The route `route set` writes, from the stored one (docs/cli.md#psarn-route-set): `--target`
 * replaces the targets (given none, the route keeps its own); the TTL, policy and metadata stay
 * unless a flag changes them. A new route gets `defaultTtl`, `weighted` and no metadata. Pure.
 * @throws CliError ERR_USAGE when no target is given for a route that has none
 */
export function routeSetSpec(
  cmd: Of<'route set'>,
  before: StoredRoute | undefined,
  at: { text: string },
  defaultTtl: number,
): TargetRouteSpec {
  let targets = cmd.targets;
  if (targets.length === 0) {
    if (before === undefined) {
      throw usageError(
        `missing --target: route '${at.text}' does not exist yet; give at least one --target <ARN|URL>[=WEIGHT[@PRIORITY]]`,
      );
    }
    if (before.alias !== undefined) {
      throw usageError(
        `missing --target: route '${at.text}' is an alias; give --target to turn it into a route with targets, or change the alias with 'psarn route alias'`,
      );
    }
    targets = before.targets;
  }
  const metadata: Record<string, string> = cmd.meta.clear ? {} : { ...before?.metadata };
  for (const key of cmd.meta.remove) delete metadata[key];
  Object.assign(metadata, cmd.meta.set);
  return {
    policy: cmd.policy ?? before?.policy ?? 'weighted',
    ttl: cmd.ttl === 'default' ? defaultTtl : (cmd.ttl ?? before?.ttl ?? defaultTtl),
    targets,
    metadata,
  };
}

/** What a route write needs, local or remote (src/cli/remote/): where, and how to build the new route from the stored one. */
export interface WritePlan {
  at: ReturnType<typeof locate>;
  make: (before: StoredRoute | undefined) => RouteSpec;
  force: boolean;
}

/** `route set`: the targets checked against the config's policy (warnings printed), then the plan. */
export function routeSetPlan(cmd: Of<'route set'>, ctx: Context): WritePlan {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const checker = targetChecker(ctx, (err) => usageError(`${err.message} (config key targets)`, err));
  for (const t of cmd.targets) checker.check(t.target);
  checker.done();
  return { at, make: (before) => routeSetSpec(cmd, before, at, ctx.config.defaultTtl), force: false };
}

export function routeSet(cmd: Of<'route set'>, ctx: Context): void {
  localWrite(ctx, routeSetPlan(cmd, ctx));
}

/** Writes a plan into the local database. */
function localWrite(ctx: Context, plan: WritePlan): void {
  const params = zoneParams(ctx.config);
  write(ctx, (store) =>
    store.updateRoute(plan.at.zone, plan.at.path, plan.make, params, writeOptions(ctx, plan.force)),
  );
}

/**
 * The route `route weight` writes: the stored one with the named targets' weight (and priority
 * when given) changed, nothing else. Pure.
 * @throws CliError ERR_USAGE when the route is missing or an alias, or a target is not on it (once)
 */
export function routeWeightSpec(
  cmd: Of<'route weight'>,
  before: StoredRoute | undefined,
  at: { text: string },
  db: string,
  namespace: string,
): TargetRouteSpec {
  if (before === undefined) {
    throw usageError(`route '${at.text}' not found in ${db}; 'psarn route set' creates it`);
  }
  if (before.alias !== undefined || before.policy === undefined) {
    throw usageError(
      `route '${at.text}' is an alias of ${aliasPsarn(before.alias ?? '', namespace)}, which has the targets; change that route, or replace the alias with 'psarn route set'`,
    );
  }
  const targets = before.targets.map((t) => ({ ...t }));
  for (const change of cmd.changes) {
    const found = targets.filter((t) => t.target === change.target);
    if (found.length === 0) {
      const on = before.targets.map((t) => t.target);
      const list = on.slice(0, 5).join(', ') + (on.length > 5 ? ` and ${on.length - 5} more` : '');
      throw usageError(
        `target ${quote(change.target, ECHO_LONG)} is not on route '${at.text}' (its targets: ${list}); 'psarn route set' replaces the targets`,
      );
    }
    if (found.length > 1) {
      throw usageError(
        `target ${quote(change.target, ECHO_LONG)} is on route '${at.text}' ${found.length} times; give all its targets with 'psarn route set'`,
      );
    }
    found[0]!.weight = change.weight;
    if (change.priority !== undefined) found[0]!.priority = change.priority;
  }
  return { policy: before.policy, ttl: before.ttl, targets, metadata: before.metadata };
}

/** `route weight`; `where` names the database (or the server) in a not-found message. */
export function routeWeightPlan(cmd: Of<'route weight'>, ctx: Context, where: string): WritePlan {
  const at = locate(cmd.psarn, ctx.config.namespace);
  return { at, make: (before) => routeWeightSpec(cmd, before, at, where, ctx.config.namespace), force: false };
}

export function routeWeight(cmd: Of<'route weight'>, ctx: Context): void {
  localWrite(ctx, routeWeightPlan(cmd, ctx, ctx.config.db));
}

/** `route alias`: refused at once when it names itself. */
export function routeAliasPlan(cmd: Of<'route alias'>, ctx: Context): WritePlan {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const to = locate(cmd.target, ctx.config.namespace);
  if (at.name === to.name) {
    throw usageError(`cannot alias '${at.text}' to itself; give another <target psARN>`);
  }
  const defaultTtl = ctx.config.defaultTtl;
  // An alias written over a route keeps its TTL and metadata unless --ttl says otherwise.
  const make = (before: StoredRoute | undefined): AliasRouteSpec => ({
    ttl: cmd.ttl === 'default' ? defaultTtl : (cmd.ttl ?? before?.ttl ?? defaultTtl),
    alias: to.name,
    metadata: before?.metadata ?? {},
  });
  return { at, make, force: cmd.force };
}

export function routeAlias(cmd: Of<'route alias'>, ctx: Context): void {
  localWrite(ctx, routeAliasPlan(cmd, ctx));
}

export function routeDelete(cmd: Of<'route delete'>, ctx: Context): void {
  const at = locate(cmd.psarn, ctx.config.namespace);
  write(ctx, (store) => {
    try {
      return store.deleteRoute(at.zone, at.path, writeOptions(ctx, cmd.force));
    } catch (err) {
      if (err instanceof StoreError && (err.code === 'ERR_ROUTE_NOT_FOUND' || err.code === 'ERR_ZONE_NOT_FOUND')) {
        throw notFound(
          `route '${at.text}' not found in ${ctx.config.db}; nothing deleted ('psarn route list' shows the routes)`,
          err,
        );
      }
      throw err;
    }
  });
}
