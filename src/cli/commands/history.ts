/**
 * `psarn route history` and `psarn route revert` (docs/design.md#history-and-revert): a route's
 * changes from the store's journal, and a write that puts the route back as it was at a serial.
 * Both read the local database: the journal is not served over DNS.
 */
import { zoneParams } from '../../config/config.js';
import { hasCredentialQuery } from '../../psarn/target-policy.js';
import { CHANGES, type HistoryChange, type RouteHistory, type RouteHistoryEntry } from '../../store/history.js';
import type { Store } from '../../store/store.js';
import {
  type Operation,
  type RouteChange,
  type RouteSpec,
  type SavedRoute,
  StoreError,
  type TargetSpec,
} from '../../store/types.js';
import type { Command } from '../args.js';
import { type Context, localActor } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { aliasPsarn, routePsarn, table } from '../format.js';
import { locate, notFound, targetChecker } from './route.js';
import { aliasRefusal, printChange } from './route-write.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

/** Who made a change, as history shows it: rows older than schema 4 have no actor. */
export const UNKNOWN_ACTOR = 'unknown';

/** A target's priority when none is given (docs/design.md#cli-names): not shown in a history line. */
const DEFAULT_PRIORITY = 10;

/**
 * Short names for the targets of a history: an ARN's resource (after its fifth ':', without a
 * Lambda's `function:`), an https URL as it is, with credential-like query values hidden.
 * Two targets that would share a short name keep their full text.
 */
export function targetLabels(routes: Iterable<SavedRoute | null | undefined>): Map<string, string> {
  const targets = new Set<string>();
  for (const r of routes) for (const t of r?.targets ?? []) targets.add(t.target);
  const short = new Map<string, string>();
  const owners = new Map<string, number>();
  for (const target of targets) {
    const label = shortLabel(target);
    short.set(target, label);
    owners.set(label, (owners.get(label) ?? 0) + 1);
  }
  const labels = new Map<string, string>();
  for (const [target, label] of short) labels.set(target, owners.get(label) === 1 ? label : fullLabel(target));
  return labels;
}

function shortLabel(target: string): string {
  if (!target.startsWith('arn:')) return fullLabel(target);
  const parts = target.split(':');
  if (parts.length < 6) return target;
  const resource = parts.slice(5).join(':');
  return resource.startsWith('function:') && resource.length > 9 ? resource.slice(9) : resource;
}

function fullLabel(target: string): string {
  // A query that looks like it carries a credential shows its names only, as in every diff
  // (format.ts): `?token=…&x=…`.
  if (!hasCredentialQuery(target)) return target;
  const q = target.indexOf('?');
  const hash = target.indexOf('#', q);
  const names = target
    .slice(q + 1, hash < 0 ? undefined : hash)
    .split('&')
    .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=…` : pair));
  return `${target.slice(0, q)}?${names.join('&')}`;
}

/** `label=WEIGHT[@PRIORITY]`, as `route weight` takes it; the priority only when not the default. */
function targetText(t: TargetSpec, labels: Map<string, string>): string {
  const p = t.priority === DEFAULT_PRIORITY ? '' : `@${t.priority}`;
  return `${labels.get(t.target) ?? t.target}=${t.weight}${p}`;
}

/** Where a route sends events: its targets, or `alias <psARN>`. */
function content(r: SavedRoute, labels: Map<string, string>, ns: string): string {
  if (r.alias !== undefined) return `alias ${aliasPsarn(r.alias, ns)}`;
  return r.targets.map((t) => targetText(t, labels)).join(' ');
}

/** A whole route in a line: where it sends, its policy and TTL, its metadata. */
function routeText(r: SavedRoute, labels: Map<string, string>, ns: string): string {
  const parts = [content(r, labels, ns)];
  if (r.policy !== undefined) parts.push(r.policy);
  parts.push(`ttl ${r.ttl}`);
  for (const [k, v] of Object.entries(r.metadata)) parts.push(`meta ${k}=${v}`);
  return parts.join(', ');
}

/** What changed between two states of a route, in one line. */
function diffText(a: SavedRoute, b: SavedRoute, labels: Map<string, string>, ns: string): string {
  const parts: string[] = [];
  const was = content(a, labels, ns);
  const now = content(b, labels, ns);
  if (was !== now) parts.push(`${was} → ${now}`);
  // An alias has no policy: `alias X` on either side already says it.
  if (a.alias === undefined && b.alias === undefined && a.policy !== b.policy)
    parts.push(`policy ${a.policy ?? '(none)'} → ${b.policy ?? '(none)'}`);
  if (a.ttl !== b.ttl) parts.push(`ttl ${a.ttl} → ${b.ttl}`);
  for (const key of new Set([...Object.keys(a.metadata), ...Object.keys(b.metadata)])) {
    const [x, y] = [a.metadata[key], b.metadata[key]];
    if (x === y) continue;
    parts.push(
      x === undefined ? `meta +${key}=${y}` : y === undefined ? `meta -${key}` : `meta ${key}=${x} → ${key}=${y}`,
    );
  }
  // Same content in another target order (sameSaved compares it): say so.
  return parts.length > 0 ? parts.join(', ') : `target order ${was}`;
}

/** The CHANGE column of a history line. */
export function describeEntry(e: RouteHistoryEntry, labels: Map<string, string>, ns: string): string {
  const what = (change: HistoryChange): string => {
    const { before, after } = e;
    switch (change) {
      case 'created':
        return `created  ${routeText(after!, labels, ns)}`;
      case 'deleted':
        return `deleted  (was ${routeText(before!, labels, ns)})`;
      case 'updated':
        return `set  ${diffText(before!, after!, labels, ns)}`;
      default:
        return change;
    }
  };
  switch (e.change) {
    case 'zone created':
      return 'zone created';
    case 'flush':
      return `flush  epoch ${e.epoch?.before} → ${e.epoch?.after}: every caller refetches the zone's routes`;
    case 'unknown':
      return 'zone import  may have changed it (an import journals the zone, not each route)';
    default:
      return e.op === 'import' ? `zone import  ${what(e.change)}` : what(e.change);
  }
}

/** The JSON form of a route in history: the journal's, without its bookkeeping. */
function routeJson(r: SavedRoute | null | undefined): unknown {
  if (r === null || r === undefined) return r;
  const { path: _path, updatedAt: _at, ...rest } = r;
  return rest;
}

/** The JSON form of an entry: times in UTC ISO, the actor null when unknown, before/after null for no route. */
function entryJson(e: RouteHistoryEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {
    serial: e.serial,
    at: new Date(e.at).toISOString(),
    actor: e.actor ?? null,
    op: e.op,
    change: e.change,
  };
  if (e.op === 'flush') out.epoch = e.epoch;
  else if (e.op !== 'create') {
    if (e.before !== undefined) out.before = routeJson(e.before);
    if (e.after !== undefined) out.after = routeJson(e.after);
  }
  return out;
}

/** What `route history` prints, pure. */
export function formatHistory(h: RouteHistory, psarn: string, ns: string): string {
  const lines: string[] = [];
  if (!h.complete) {
    lines.push(
      h.oldestSerial === undefined
        ? `# zone ${h.zone} keeps no changes in its journal`
        : `# older changes are pruned: the journal of zone ${h.zone} starts at serial ${h.oldestSerial}`,
    );
  }
  if (h.entries.length === 0) {
    const kept = h.oldestSerial === undefined ? '' : ` (it keeps serials ${h.oldestSerial} to ${h.serial})`;
    lines.push(`no change of ${psarn} in the journal${kept}`);
    return `${lines.join('\n')}\n`;
  }
  const labels = targetLabels(h.entries.flatMap((e) => [e.before, e.after]));
  const rows = [
    ['SERIAL', 'TIME', 'WHO', 'CHANGE'],
    ...h.entries.map((e) => [
      String(e.serial),
      new Date(e.at).toISOString(),
      e.actor ?? UNKNOWN_ACTOR,
      describeEntry(e, labels, ns),
    ]),
  ];
  lines.push(...table(rows));
  return `${lines.join('\n')}\n`;
}

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
