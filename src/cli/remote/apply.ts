/**
 * `psarn --server HOST:PORT --key … apply <routes.yaml> [--dry-run] [--prune] [--json]`
 * (docs/design.md#apply, remote part; docs/cli.md#psarn-apply):
 * 1. the file is read and checked as the local apply reads it, before connecting (exit 2);
 * 2. each zone the file names is read from the server by signed AXFR (apply-reader.ts), and
 *    planned by the local apply's own planApply, so the plan printed is the local one;
 *    then the active rollouts and holds of the routes it changes or deletes are read from psarnd's
 *    control names (apply-reader.ts), and a plan that changes a route one owns is refused as
 *    locally (exit 1, nothing sent; `--dry-run` prints the plan first); `--dry-run` stops there;
 * 3. each zone the plan touches is written by one signed UPDATE (apply-update.ts) pinned to the
 *    zone as read, in an order where psarnd's alias checks pass each one; a zone whose changes
 *    do not fit in one DNS message (64 KiB) is written by several, in an order where each passes.
 * Across zones DNS has no transaction: the first UPDATE that fails stops the apply, the zones
 * written and those not are named, exit 1 (2 when psarnd refused a route as the local apply
 * would have: an alias loop, …); the same apply run again writes only what is left.
 */

import type { RouteEntry } from '../../config/routes-file.js';
import type { ApplyPlan, PlanItem } from '../../ops/apply.js';
import { blockedError, blockedItems, planApply } from '../../ops/apply.js';
import { zoneName } from '../../psarn/name.js';
import type { Command } from '../args.js';
import { appliedLine, fileError, formatPlan, planJson, planOptions, printDryRun, readFile } from '../commands/apply.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { RemoteApplyReader } from './apply-reader.js';
import { zoneOrder, zoneUpdates } from './apply-update.js';
import { readZoneSerial } from './route-read.js';
import { RemoteSession, type SessionOptions } from './session.js';
import type { RemoteTarget } from './target.js';
import { sendUpdate } from './writes.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

export async function remoteApply(
  cmd: Of<'apply'>,
  ctx: Context,
  target: RemoteTarget,
  sessionOptions: SessionOptions = {},
): Promise<void> {
  const started = ctx.now();
  const entries = readFile(cmd, ctx);
  const ns = ctx.config.namespace;
  const options = planOptions(cmd, ctx);
  const out = ctx.io.stdout;
  const session = await RemoteSession.open(target, sessionOptions);
  try {
    const reader = new RemoteApplyReader(session, ns);
    // The file's zones first; then any other a plan asks for (takeMissing).
    await reader.fetch(fileZones(entries, ns));
    let plan: ApplyPlan | undefined;
    while (plan === undefined) {
      let failure: unknown;
      try {
        plan = planApply(reader, entries, options);
      } catch (err) {
        failure = err;
      }
      // A plan (or a refusal) that read a zone not fetched yet is dropped: fetch it, plan again.
      const missing = reader.takeMissing();
      if (missing !== undefined) {
        plan = undefined;
        await reader.fetch(missing);
      } else if (plan === undefined) throw fileError(failure, cmd.file, cmd.file);
    }
    // Routes an operation owns are refused, as locally (docs/design.md#apply): psarnd shows the
    // active rollouts and holds at control names; read before anything is printed or sent.
    const unseen = plan.items.length === 0 ? undefined : await reader.readOperations(plan.items);
    if (unseen !== undefined) {
      const why = `server ${session.target.label} shows no rollout or hold state at ${unseen} TXT (is it a secondary, or the key in neither update.allow nor transfer.allow?)`;
      // A review may plan from a secondary (as the local --dry-run on its database); a write may not guess.
      if (!cmd.dryRun) {
        throw new CliError(
          'ERR_RUNTIME',
          `${why}; apply checks that no rollout or hold owns a route it changes: point --server at the primary psarnd; nothing was written`,
        );
      }
      ctx.io.stderr.write(`psarn: warning: ${why}; this plan does not check them\n`);
    }
    plan.blocked = blockedItems(reader, plan.items);
    if (cmd.dryRun) {
      printDryRun(plan, cmd, ctx);
      return;
    }
    // Nothing printed, nothing sent: what the local apply's transaction does.
    if (plan.blocked.length > 0) throw new CliError('ERR_RUNTIME', blockedError(plan.blocked).message);
    if (plan.items.length === 0) {
      if (cmd.json)
        out.write(`${JSON.stringify({ dryRun: false, applied: false, ...planJson(plan, ns), serials: [] })}\n`);
      else out.write(formatPlan(plan, ns, options.file));
      return;
    }
    // Every message is built (and the order found) before the first is sent: a refusal here writes nothing.
    const order = zoneOrder(plan, reader, ns);
    const byZone = new Map<string, PlanItem[]>();
    for (const item of plan.items) {
      const list = byZone.get(item.zone) ?? [];
      byZone.set(item.zone, list);
      list.push(item);
    }
    const updates = order.map((zone) => ({
      zone,
      messages: zoneUpdates(reader.zones.get(zone)!, byZone.get(zone)!, plan, reader, ns, () => session.id()),
    }));
    if (!cmd.json) out.write(formatPlan(plan, ns, options.file));
    await sessionOptions.afterRead?.();
    const serials: { zone: string; serial: number }[] = [];
    for (const [z, { zone, messages }] of updates.entries()) {
      for (const [m, update] of messages.entries()) {
        try {
          await sendUpdate(session, update.message, `zone ${zone}`);
        } catch (err) {
          if (cmd.json) {
            // What a CI job reads to know where it stopped: zones written (serials), and not.
            const partial = m > 0 ? { partial: { zone, updates: m, of: messages.length } } : {};
            const json = { dryRun: false, applied: serials.length > 0 || m > 0, ...planJson(plan, ns) };
            out.write(`${JSON.stringify({ ...json, serials, notApplied: order.slice(z), ...partial })}\n`);
          }
          throw stopped(err, serials, order.slice(z + 1), { zone, written: m, of: messages.length });
        }
      }
      serials.push({ zone, serial: (await readZoneSerial(session, zone)) ?? 0 });
    }
    // Shown in plan order, as the local apply shows them (the order written may differ).
    const shown = [...byZone.keys()].map((zone) => serials.find((s) => s.zone === zone)!);
    if (cmd.json)
      out.write(`${JSON.stringify({ dryRun: false, applied: true, ...planJson(plan, ns), serials: shown })}\n`);
    else out.write(appliedLine(plan, shown, ctx.now() - started));
  } finally {
    session.close();
  }
}

/** The zones the file names; an entry whose name is bad is left to planApply, which says so with its line. */
function fileZones(entries: readonly RouteEntry[], namespace: string): string[] {
  const zones = new Set<string>();
  for (const entry of entries) {
    try {
      zones.add(zoneName(entry.psarn, namespace));
    } catch {
      // planApply reports it (wantedOf), naming the line.
    }
  }
  return [...zones];
}

/** The error of an UPDATE that failed, with what was written before it and what was not. */
function stopped(
  err: unknown,
  serials: readonly { zone: string; serial: number }[],
  after: readonly string[],
  at: { zone: string; written: number; of: number },
): unknown {
  if (!(err instanceof CliError)) return err;
  const written = serials.map((s) => `${s.zone} (serial ${s.serial})`);
  if (at.written > 0) written.push(`${at.zone} in part (${at.written} of its ${at.of} UPDATEs)`);
  const notWritten = [...(at.written > 0 ? [] : [at.zone]), ...after];
  const what =
    written.length === 0
      ? 'nothing was written'
      : `written: ${written.join(', ')}; not written: ${notWritten.join(', ')}; the same apply run again writes what is left`;
  const base = err.message.replace(/; run the command again$/, '');
  const again = written.length === 0 && base !== err.message ? '; run the apply again' : '';
  return new CliError(err.code, `${base}; ${what}${again}`, { cause: err });
}
