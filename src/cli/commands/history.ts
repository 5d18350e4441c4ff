/**
 * `psarn route history` and `psarn route revert` (docs/design.md#history-and-revert): a route's
 * changes from the store's journal, and a write that puts the route back as it was at a serial.
 * Both read the local database: the journal is not served over DNS.
 */
import { zoneParams } from '../../config/config.js';
import { CHANGES, type RouteHistory } from '../../store/history.js';
import type { Store } from '../../store/store.js';
import { type Operation, type RouteChange, type RouteSpec, type SavedRoute, StoreError } from '../../store/types.js';
import type { Command } from '../args.js';
import { type Context, localActor } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { aliasPsarn, routePsarn } from '../format.js';
import { entryJson, formatHistory, UNKNOWN_ACTOR } from '../history-format.js';
import { locate, notFound, targetChecker } from './route.js';
import { aliasRefusal, printChange } from './route-write.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

export function routeHistory(cmd: Of<'route history'>, ctx: Context): void {
  const ns = ctx.config.namespace;
  const at = locate(cmd.psarn, ns);
  const store = ctx.openStore();
  let history: RouteHistory | undefined;
  try {
    history = store.routeHistory(at.zone, at.path, cmd.limit === undefined ? {} : { limit: cmd.limit });
  } finally {
    store.close();
  }
  if (history === undefined || (history.changes === 0 && history.route === undefined)) {
    throw notFound(
      `route '${at.text}' not found in ${ctx.config.db}, and no change of it in the journal; 'psarn route list' shows the routes`,
    );
  }
  if (cmd.json) {
    const { zone, path, serial, oldestSerial, complete, entries } = history;
    const out = {
      psarn: at.text,
      zone,
      path,
      serial,
      oldestSerial: oldestSerial ?? null,
      complete,
      exists: history.route !== undefined,
      entries: entries.map(entryJson),
    };
    ctx.io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  ctx.io.stdout.write(formatHistory(history, at.text, ns));
}

/** The route to write back: what `editRoutes` takes (null deletes). */
function specOf(route: SavedRoute | null): RouteSpec | null {
  if (route === null) return null;
  if (route.alias !== undefined) return { ttl: route.ttl, alias: route.alias, metadata: route.metadata };
  return { policy: route.policy ?? 'weighted', ttl: route.ttl, targets: route.targets, metadata: route.metadata };
}

/** Why a route with an active operation is not reverted, and what to run first. */
function activeRefusal(op: Operation, text: string): CliError {
  const by = op.actor === undefined ? '' : `, started by ${op.actor}`;
  const what =
    op.kind === 'hold'
      ? `is held (hold #${op.id}${by}); release it first with 'psarn release ${text}'`
      : `has a ${op.status} rollout (#${op.id}${by}); abort it first with 'psarn rollout abort ${text}', or let it finish`;
  return new CliError('ERR_RUNTIME', `route '${text}' ${what}; nothing reverted`);
}

/** A serial `revert --to` cannot use: bad input against this database (exit 2), with what to do. */
function serialRefusal(err: unknown, text: string): unknown {
  if (!(err instanceof StoreError)) return err;
  switch (err.code) {
    case 'ERR_JOURNAL_PRUNED':
    case 'ERR_SERIAL_UNKNOWN':
    case 'ERR_HISTORY_GAP':
      return usageError(`${err.message}; 'psarn route history ${text}' lists the serials to revert to`, err);
    default:
      return aliasRefusal(err);
  }
}

/** What revert goes back to, and how the first output line names it. */
interface RevertTarget {
  route: SavedRoute | null;
  /** `serial 41`, or `before serial 42 (user:alice, 2026-…)`. */
  label: string;
}

/** Without --to: the route before its last change. */
function beforeLastChange(history: RouteHistory, text: string, db: string): RevertTarget {
  const last = history.entries.findLast((e) => CHANGES.has(e.change));
  if (last === undefined) {
    const kept =
      history.oldestSerial === undefined ? '' : ` (it keeps serials ${history.oldestSerial} to ${history.serial})`;
    throw notFound(`nothing to revert: the journal of ${db} holds no change of route '${text}'${kept}`);
  }
  if (last.before === undefined) {
    throw usageError(
      `the journal does not record route '${text}' before the zone import at serial ${last.serial}; give --to SERIAL ('psarn route history ${text}' lists them)`,
    );
  }
  const when = new Date(last.at).toISOString();
  return { route: last.before, label: `before serial ${last.serial} (${last.actor ?? UNKNOWN_ACTOR}, ${when})` };
}

/** Reads, checks and writes in one IMMEDIATE transaction: nothing changes the route in between. */
function revertInStore(
  cmd: Of<'route revert'>,
  ctx: Context,
  store: Store,
): { target: RevertTarget; change: RouteChange } {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const db = ctx.config.db;
  return store.transaction(() => {
    const history = store.routeHistory(at.zone, at.path);
    if (history === undefined) {
      throw notFound(`zone '${at.zone}' not found in ${db}; nothing to revert ('psarn route list' shows the routes)`);
    }
    const active = store.operations({ zone: at.zone, path: at.path, active: true });
    if (active[0] !== undefined) throw activeRefusal(active[0], at.text);
    const target =
      cmd.to === undefined
        ? beforeLastChange(history, at.text, db)
        : { route: store.routeAt(at.zone, at.path, cmd.to), label: `serial ${cmd.to}` };
    // The targets policy may have changed since: a route put back is checked as `route set` is.
    const checker = targetChecker(ctx, (err) =>
      usageError(`${err.message} (config key targets); the route at ${target.label} had it`, err),
    );
    for (const t of target.route?.targets ?? []) checker.check(t.target);
    checker.done();
    const before = store.getRoute(at.zone, at.path);
    const ns = ctx.config.namespace;
    const result = store.editRoutes(
      at.zone,
      [{ path: at.path, make: () => specOf(target.route) }],
      zoneParams(ctx.config),
      {
        actor: localActor(ctx.io.env),
        force: cmd.force,
        show: (name) => aliasPsarn(name, ns),
      },
    );
    const change: RouteChange = result.changes[0] ?? {
      zone: at.zone,
      path: at.path,
      ...(before === undefined ? {} : { before, after: before }),
      changed: false,
      serial: result.serial,
      zoneCreated: false,
    };
    return { target, change };
  });
}

export function routeRevert(cmd: Of<'route revert'>, ctx: Context): void {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const store = ctx.openStore('write');
  let done: ReturnType<typeof revertInStore>;
  try {
    done = revertInStore(cmd, ctx, store);
  } catch (err) {
    throw serialRefusal(err, at.text);
  } finally {
    store.close();
  }
  const shown = routePsarn(done.change, ctx.config.namespace);
  ctx.io.stdout.write(`reverting ${shown} to ${done.target.label}\n`);
  printChange(ctx, done.change);
}

/** `--server` with history or revert: refused (the journal is not served over DNS), with what to do. */
export function remoteHistoryRefusal(kind: 'route history' | 'route revert', server: string): CliError {
  return usageError(
    `psarn ${kind} reads the change journal, which psarnd does not serve over DNS (--server ${server}); run it where the database is, with --db FILE (on the primary's host)`,
  );
}
