/**
 * `psarn apply <routes.yaml> [--dry-run] [--prune] [--json]` (docs/design.md#apply): the plan,
 * printed like `terraform plan`, then written in one transaction by src/ops/apply.ts.
 *
 * ```
 * + arn:aws:psarn:us-east-1:123456789012:orders/created (line 14)
 *     ttl (none) → 300
 *     target arn:aws:lambda:…:orders-v1: (none) → weight 90, priority 10
 * ~ arn:aws:psarn:us-east-1:123456789012:orders/audit (line 22)
 *     target arn:aws:sqs:…:orders-audit: weight 1 → 5
 * - arn:aws:psarn:us-east-1:123456789012:orders/old
 *     ...
 *
 * Plan: 1 to add, 1 to change, 1 to delete.
 * Applied: 1 added, 1 changed, 1 deleted in 1 zone (123456789012.us-east-1.aws.psarn.internal. serial 7) in 4 ms.
 * ```
 * Exit 0 applied or no changes, 2 a bad file (every error names the file, the line and the
 * route), 1 anything else (a route with an active rollout or hold, a database failure).
 */
import { resolve } from 'node:path';
import { zoneParams } from '../../config/config.js';
import { checkRoutesPolicy, loadRoutesFile, type RouteEntry, RoutesFileError } from '../../config/routes-file.js';
import { ECHO_LONG, echo } from '../../errors.js';
import { type ApplyPlan, applyRoutes, blockedError, type PlanItem, planApply } from '../../ops/apply.js';
import { StoreError } from '../../store/types.js';
import type { Command } from '../args.js';
import { type Context, localActor } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { routeDiff } from '../format.js';
import { MAX_WARNINGS } from './route.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

const SIGN = { add: '+', change: '~', delete: '-' } as const;

/** One item of the plan: its sign, psARN and line, then what changes, old → new, indented. */
export function formatPlanItem(item: PlanItem, namespace: string): string {
  const line = item.line === undefined ? '' : ` (line ${item.line})`;
  // A new or deleted route has only one side: its fields as they will be, or were.
  const side = (l: string) =>
    item.action === 'add' ? l.replace('(none) → ', '') : item.action === 'delete' ? l.replace(/ → \(none\)$/, '') : l;
  const diff = routeDiff(item.before, item.after, namespace).map((l) => `    ${side(l)}\n`);
  return `${SIGN[item.action]} ${item.psarn}${line}\n${diff.join('')}`;
}

/** `Plan: 2 to add, 1 to change, 0 to delete.`, terraform's words. */
export function planSummary(plan: Pick<ApplyPlan, 'add' | 'change' | 'delete'>): string {
  return `Plan: ${plan.add} to add, ${plan.change} to change, ${plan.delete} to delete.`;
}

/** The whole plan as printed; `No changes.` when there is nothing to do. */
export function formatPlan(plan: ApplyPlan, namespace: string, file: string): string {
  if (plan.items.length === 0) {
    const n = plan.unchanged;
    return `No changes. The database matches ${file} (${n} ${n === 1 ? 'route' : 'routes'}).\n`;
  }
  return `${plan.items.map((i) => formatPlanItem(i, namespace)).join('')}\n${planSummary(plan)}\n`;
}

/** The plan as `--json` prints it (without `dryRun`, `applied`, `serials`). */
export function planJson(plan: ApplyPlan, namespace: string) {
  return {
    add: plan.add,
    change: plan.change,
    delete: plan.delete,
    unchanged: plan.unchanged,
    zones: plan.zones,
    items: plan.items.map((i) => ({
      action: i.action,
      psarn: i.psarn,
      zone: i.zone,
      path: i.path,
      ...(i.line === undefined ? {} : { line: i.line }),
      changes: routeDiff(i.before, i.after, namespace),
    })),
  };
}

/** The file read and checked (grammar, limits, the targets policy) before any database is opened. */
export function readFile(cmd: Of<'apply'>, ctx: Context): RouteEntry[] {
  const path = resolve(ctx.io.cwd, cmd.file);
  try {
    const entries = loadRoutesFile(path);
    const warnings = checkRoutesPolicy(entries, ctx.config.targets, cmd.file);
    for (const w of warnings.slice(0, MAX_WARNINGS)) ctx.io.stderr.write(`psarn: warning: ${w}\n`);
    if (warnings.length > MAX_WARNINGS) {
      ctx.io.stderr.write(
        `psarn: warning: ${warnings.length - MAX_WARNINGS} more targets look like they carry credentials\n`,
      );
    }
    return entries;
  } catch (err) {
    throw fileError(err, cmd.file, path);
  }
}

/** A bad file is bad input (exit 2); messages name the file as the user typed it. */
export function fileError(err: unknown, shown: string, path: string): unknown {
  if (!(err instanceof RoutesFileError)) return err;
  // loadRoutesFile names the resolved path; the user typed `shown`.
  const message = err.message.split(echo(path, ECHO_LONG)).join(echo(shown, ECHO_LONG));
  return err.key === '' && err.line === undefined && /cannot read it/.test(message)
    ? new CliError('ERR_RUNTIME', message, { cause: err })
    : usageError(message, err);
}

/** A store refusal of the plan: alias loops and chains are bad input; a route an operation owns is not. */
function writeError(err: unknown): unknown {
  if (err instanceof StoreError && (err.code === 'ERR_ALIAS_LOOP' || err.code === 'ERR_ALIAS_CHAIN')) {
    return usageError(`${err.message}; nothing was written`, err);
  }
  if (err instanceof StoreError && err.code === 'ERR_OPERATION_CONFLICT') {
    return new CliError('ERR_RUNTIME', err.message, { cause: err });
  }
  return err;
}

/** What planApply needs of the command and the config (the local and the remote apply). */
export function planOptions(cmd: Of<'apply'>, ctx: Context) {
  return {
    file: echo(cmd.file, ECHO_LONG),
    defaultTtl: ctx.config.defaultTtl,
    namespace: ctx.config.namespace,
    prune: cmd.prune,
  };
}

/**
 * What `--dry-run` prints (the plan, or its JSON) and how it ends: a plan that cannot be applied
 * (a route an operation owns) fails the review too. The local and the remote apply.
 */
export function printDryRun(plan: ApplyPlan, cmd: Of<'apply'>, ctx: Context): void {
  const ns = ctx.config.namespace;
  const out = ctx.io.stdout;
  if (cmd.json) out.write(`${JSON.stringify({ dryRun: true, applied: false, ...planJson(plan, ns) })}\n`);
  else {
    out.write(formatPlan(plan, ns, planOptions(cmd, ctx).file));
    if (plan.items.length > 0) out.write('Dry run: nothing written; run without --dry-run to apply.\n');
  }
  if (plan.blocked.length > 0) throw new CliError('ERR_RUNTIME', blockedError(plan.blocked).message);
}

export function apply(cmd: Of<'apply'>, ctx: Context): void {
  const started = ctx.now();
  const entries = readFile(cmd, ctx);
  const ns = ctx.config.namespace;
  const options = planOptions(cmd, ctx);
  const out = ctx.io.stdout;
  if (cmd.dryRun) {
    const store = ctx.openStore();
    let plan: ApplyPlan;
    try {
      plan = store.read(() => planApply(store, entries, options));
    } catch (err) {
      throw fileError(err, cmd.file, cmd.file);
    } finally {
      store.close();
    }
    printDryRun(plan, cmd, ctx);
    return;
  }
  const store = ctx.openStore('write');
  let result: ReturnType<typeof applyRoutes>;
  try {
    result = applyRoutes(store, entries, { ...options, params: zoneParams(ctx.config), actor: localActor(ctx.io.env) });
  } catch (err) {
    throw writeError(fileError(err, cmd.file, cmd.file));
  } finally {
    store.close();
  }
  const { plan, serials } = result;
  if (cmd.json) {
    out.write(`${JSON.stringify({ dryRun: false, applied: serials.length > 0, ...planJson(plan, ns), serials })}\n`);
    return;
  }
  out.write(formatPlan(plan, ns, options.file));
  if (plan.items.length === 0) return;
  out.write(appliedLine(plan, serials, ctx.now() - started));
}

/** `Applied: 1 added, 0 changed, 0 deleted in 1 zone (Z serial 7) in 4 ms.` */
export function appliedLine(
  plan: Pick<ApplyPlan, 'add' | 'change' | 'delete'>,
  serials: readonly { zone: string; serial: number }[],
  ms: number,
): string {
  const zones = serials.map((s) => `${s.zone} serial ${s.serial}`).join(', ');
  return `Applied: ${plan.add} added, ${plan.change} changed, ${plan.delete} deleted in ${serials.length} ${serials.length === 1 ? 'zone' : 'zones'} (${zones}) in ${Math.round(ms)} ms.\n`;
}
