/**
 * `psarn route get|list` (docs/design.md#cli-names), and what the route writes share
 * (route-write.ts): a psARN's zone and path, the targets policy check. Inputs are validated
 * before the store opens.
 */
import { parseZoneArg, psarnToName, zoneName } from '../../psarn/name.js';
import type { Psarn } from '../../psarn/psarn.js';
import { formatPsarn, isPsarn, parsePsarn } from '../../psarn/psarn.js';
import { TargetPolicyError, TargetRules } from '../../psarn/target-policy.js';
import type { Command } from '../args.js';
import type { Context } from '../context.js';
import { CliError, oneLine, usageError } from '../errors.js';
import { formatRouteBlock, formatRouteLine, routeView } from '../format.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

/** Zone and path of a psARN under the configured namespace; its DNS name must fit (253). */
export function locate(psarn: Psarn, namespace: string): { zone: string; path: string; name: string; text: string } {
  try {
    return {
      zone: zoneName(psarn, namespace),
      path: psarn.path.join('/'),
      name: psarnToName(psarn, namespace),
      text: formatPsarn(psarn),
    };
  } catch (err) {
    throw usageError(oneLine((err as Error).message), err);
  }
}

/** Warning lines printed per write at most; the rest are counted. */
export const MAX_WARNINGS = 5;

/**
 * Checks targets against the config's `targets` policy before anything is written (route set,
 * zone import): call `check` per target, then `done`. Warnings (credential-like query
 * parameters) go to stderr, at most five lines, then a count.
 * @throws CliError from `refuse` with the policy's reason
 */
export function targetChecker(
  ctx: Context,
  refuse: (err: TargetPolicyError) => CliError,
): { check(target: string): void; done(): void } {
  const rules = new TargetRules(ctx.config.targets);
  let warned = 0;
  return {
    check(target) {
      let warnings: readonly string[];
      try {
        warnings = rules.check(target);
      } catch (err) {
        if (err instanceof TargetPolicyError) throw refuse(err);
        throw err;
      }
      for (const w of warnings) if (warned++ < MAX_WARNINGS) ctx.io.stderr.write(`psarn: warning: ${w}\n`);
    },
    done() {
      if (warned <= MAX_WARNINGS) return;
      ctx.io.stderr.write(`psarn: warning: ${warned - MAX_WARNINGS} more targets look like they carry credentials\n`);
    },
  };
}

export function notFound(what: string, err?: unknown): CliError {
  return new CliError('ERR_NOT_FOUND', what, err === undefined ? undefined : { cause: err });
}

export function routeGet(cmd: Of<'route get'>, ctx: Context): void {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const store = ctx.openStore();
  try {
    const { route, zone } = store.read(() => ({ route: store.getRoute(at.zone, at.path), zone: store.zone(at.zone) }));
    if (route === undefined) {
      throw notFound(`route '${at.text}' not found in ${ctx.config.db}; 'psarn route list' shows the routes`);
    }
    const view = routeView(route, ctx.config.namespace, zone?.epoch);
    ctx.io.stdout.write(cmd.json ? `${JSON.stringify(view, null, 2)}\n` : formatRouteBlock(view));
  } finally {
    store.close();
  }
}

/** `[<prefix psARN or zone>]` -> the zone and path prefix to list. */
export function listScope(scope: string | undefined, namespace: string): { zone?: string; prefix?: string } {
  if (scope === undefined) return {};
  if (isPsarn(scope)) {
    const at = locate(parsePsarn(scope), namespace);
    return { zone: at.zone, prefix: at.path };
  }
  try {
    return { zone: parseZoneArg(scope, namespace) };
  } catch (err) {
    throw usageError(oneLine((err as Error).message), err);
  }
}

export function routeList(cmd: Of<'route list'>, ctx: Context): void {
  const ns = ctx.config.namespace;
  const { zone, prefix } = listScope(cmd.scope, ns);
  const store = ctx.openStore();
  try {
    store.read(() => {
      if (zone !== undefined && store.zone(zone) === undefined) {
        throw notFound(`zone '${zone}' not found in ${ctx.config.db}; 'psarn route list' shows all routes`);
      }
      const out = ctx.io.stdout;
      let n = 0;
      if (cmd.json) out.write('[');
      for (const route of store.listRoutes(zone, prefix)) {
        if (cmd.json) out.write(`${n === 0 ? '\n' : ',\n'}  ${JSON.stringify(routeView(route, ns))}`);
        else out.write(formatRouteLine(route, ns));
        n++;
      }
      if (cmd.json) out.write(n === 0 ? ']\n' : '\n]\n');
    });
  } finally {
    store.close();
  }
}
