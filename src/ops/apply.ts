/**
 * `psarn apply` (docs/design.md#apply): make the store match a routes file. `planApply` reads
 * the store and says what would change (add, change, and with `prune` delete); `applyRoutes`
 * plans again inside one write transaction and writes the plan there, one Store.editRoutes per
 * zone (one serial bump per zone touched), so that either every zone changes or none does, and
 * the plan printed is exactly the one written. Nothing here prints: the CLI does.
 *
 * What the file means (docs/design.md#apply): it is the truth for each route it lists, so a
 * field it leaves out takes its default (ttl: the config's defaultTtl, policy: weighted,
 * metadata: none), never what the store had; `prune` deletes only routes in the zones the file
 * names. Alias checks run on the result of the whole plan (an alias to a route the same file
 * creates, in any zone, is fine), and a route with an active rollout or hold is never touched.
 */
import type { RouteEntry } from '../config/routes-file.js';
import { routesFileError, toStoreRoute } from '../config/routes-file.js';
import { nameToPsarn, routeName, zoneName } from '../psarn/name.js';
import { formatPsarn, PsarnError } from '../psarn/psarn.js';
import type { Store } from '../store/store.js';
import {
  type Operation,
  type RouteSpec,
  type StoredRoute,
  StoreError,
  type TargetSpec,
  type ZoneParams,
} from '../store/types.js';
import { type CheckedRoute, checkRoute, MAX_ALIAS_CHAIN } from '../store/validate.js';

/**
 * What planApply reads: the routes as they are now, and the operations that own some of them.
 * The Store is one (the local apply, inside its transaction); the remote apply reads a server's
 * zones by AXFR into another (src/cli/remote/apply-reader.ts), so both print the same plan.
 */
export interface ApplyReader {
  getRoute(zone: string, path: string): StoredRoute | undefined;
  /** Every route of `zone`, or of every zone when undefined. */
  listRoutes(zone?: string): Iterable<StoredRoute>;
  /** The active operations (rollouts, holds); a reader that cannot see them returns none. */
  operations(filter: { active: true }): Iterable<Pick<Operation, 'id' | 'kind' | 'status' | 'zone' | 'path'>>;
}

export interface ApplyOptions {
  /** Names the file in errors (already as it should be shown). */
  file: string;
  defaultTtl: number;
  namespace: string;
  /** Delete the routes of the zones the file names that it does not list. */
  prune?: boolean;
}

export interface ApplyWriteOptions extends ApplyOptions {
  /** SOA/NS parameters of a zone the apply creates (the config's). */
  params: ZoneParams;
  /** Journaled with every change (docs/design.md#change-actors), e.g. 'user:alice'. */
  actor?: string;
}

/** One route the plan writes. */
export interface PlanItem {
  action: 'add' | 'change' | 'delete';
  zone: string;
  path: string;
  /** The route's psARN. */
  psarn: string;
  /** The entry's line in the file; undefined for a delete (the file does not list the route). */
  line?: number;
  /** The stored route (change, delete). */
  before?: StoredRoute;
  /** The route as the file makes it (add, change); serial and updatedAt are 0. */
  after?: StoredRoute;
  /** What the write takes: the file's route, or null to delete. */
  spec: RouteSpec | null;
}

/** A route the plan would change that an active rollout or hold owns. */
export interface BlockedItem {
  item: PlanItem;
  operation: Pick<Operation, 'id' | 'kind' | 'status'>;
}

export interface ApplyPlan {
  /** Adds and changes in file order, then deletes by zone and path. */
  items: PlanItem[];
  add: number;
  change: number;
  delete: number;
  /** Routes of the file already as it says. */
  unchanged: number;
  /** The zones the file names (what `prune` may delete from), in file order. */
  zones: string[];
  /** Items an active operation owns: the plan cannot be applied while there are any. */
  blocked: BlockedItem[];
}

export interface ApplyResult {
  plan: ApplyPlan;
  /** Each zone written and its serial after the write, in plan order; empty when nothing changed. */
  serials: { zone: string; serial: number }[];
}

const key = (zone: string, path: string) => `${zone}\u0000${path}`;

/** The route `checked` would be, as a StoredRoute for diffs and output. */
function storedOf(zone: string, path: string, checked: CheckedRoute): StoredRoute {
  return {
    zone,
    path,
    ttl: checked.ttl,
    ...(checked.policy === null ? {} : { policy: checked.policy }),
    targets: checked.targets,
    ...(checked.alias === null ? {} : { alias: checked.alias }),
    metadata: checked.metadata,
    serial: 0,
    updatedAt: 0,
  };
}

/** The store's notion of "nothing to write" (Store.editRoutes skips such a route): every field equal. */
function sameRoute(stored: StoredRoute, route: CheckedRoute): boolean {
  if (stored.ttl !== route.ttl || (stored.policy ?? null) !== route.policy || (stored.alias ?? null) !== route.alias)
    return false;
  const same = (a: TargetSpec, b: TargetSpec) =>
    a.target === b.target && a.weight === b.weight && a.priority === b.priority;
  if (stored.targets.length !== route.targets.length || !stored.targets.every((t, i) => same(t, route.targets[i]!)))
    return false;
  const keys = Object.keys(stored.metadata);
  return (
    keys.length === Object.keys(route.metadata).length &&
    keys.every((k) => Object.hasOwn(route.metadata, k) && route.metadata[k] === stored.metadata[k])
  );
}

/** One route of the file, ready for the store. */
interface Wanted {
  entry: RouteEntry;
  zone: string;
  path: string;
  name: string;
  psarn: string;
  checked: CheckedRoute;
  spec: RouteSpec;
}

/**
 * What applying `entries` to the routes `store` holds would do. Reads only; with the Store, call
 * it in a transaction (as applyRoutes does) for a plan no other writer can change before it is
 * written.
 * @throws RoutesFileError naming the file, the line and the route: a route the store refuses
 *   (too large, a repeated target), a name too long under the namespace, an alias the plan
 *   would leave pointing at nothing, into a loop or past MAX_ALIAS_CHAIN aliases, a prune that
 *   would leave an alias outside the file pointing at nothing
 */
export function planApply(store: ApplyReader, entries: readonly RouteEntry[], options: ApplyOptions): ApplyPlan {
  const wanted = entries.map((entry) => wantedOf(entry, options));
  const byName = new Map(wanted.map((w) => [w.name, w]));
  const zones = [...new Set(wanted.map((w) => w.zone))];
  // With prune every route of the named zones is read anyway; without, only the file's.
  const stored = new Map<string, StoredRoute>();
  if (options.prune) {
    for (const zone of zones) for (const r of [...store.listRoutes(zone)]) stored.set(key(zone, r.path), r);
  } else {
    for (const w of wanted) {
      const r = store.getRoute(w.zone, w.path);
      if (r !== undefined) stored.set(key(w.zone, w.path), r);
    }
  }
  const items: PlanItem[] = [];
  let unchanged = 0;
  for (const w of wanted) {
    const before = stored.get(key(w.zone, w.path));
    const base = { zone: w.zone, path: w.path, psarn: w.psarn, line: w.entry.line, spec: w.spec };
    const after = storedOf(w.zone, w.path, w.checked);
    if (before === undefined) items.push({ action: 'add', ...base, after });
    else if (sameRoute(before, w.checked)) unchanged++;
    else items.push({ action: 'change', ...base, before, after });
  }
  const deleted = new Set<string>();
  if (options.prune) {
    const listed = new Set(wanted.map((w) => key(w.zone, w.path)));
    const gone = [...stored.values()].filter((r) => !listed.has(key(r.zone, r.path)));
    gone.sort((a, b) =>
      a.zone === b.zone ? (a.path < b.path ? -1 : 1) : zones.indexOf(a.zone) - zones.indexOf(b.zone),
    );
    for (const r of gone) {
      deleted.add(routeName(r.zone, r.path));
      items.push({
        action: 'delete',
        zone: r.zone,
        path: r.path,
        psarn: psarnOf(r.zone, r.path, options.namespace),
        before: r,
        spec: null,
      });
    }
  }
  checkAliases(store, wanted, byName, deleted, options);
  const count = (a: PlanItem['action']) => items.filter((i) => i.action === a).length;
  return {
    items,
    add: count('add'),
    change: count('change'),
    delete: count('delete'),
    unchanged,
    zones,
    blocked: blockedItems(store, items),
  };
}

/**
 * Applies `entries` in one write transaction: plans (as planApply) under the write lock, then
 * writes each zone's part with one Store.editRoutes (one serial bump per zone touched, journaled
 * as `actor`). A failure anywhere rolls every zone back.
 * @throws as planApply; StoreError ERR_OPERATION_CONFLICT when a route the plan would change has
 *   an active rollout or hold (nothing written); whatever the store throws
 */
export function applyRoutes(store: Store, entries: readonly RouteEntry[], options: ApplyWriteOptions): ApplyResult {
  return store.transaction(() => {
    const plan = planApply(store, entries, options);
    if (plan.blocked.length > 0) throw blockedError(plan.blocked);
    const byZone = new Map<string, PlanItem[]>();
    for (const item of plan.items) {
      const list = byZone.get(item.zone) ?? [];
      byZone.set(item.zone, list);
      list.push(item);
    }
    const serials: ApplyResult['serials'] = [];
    for (const [zone, items] of byZone) {
      const edits = items.map((i) => ({ path: i.path, make: () => i.spec }));
      // force: the alias checks above ran on the result of the whole plan, across zones, which
      // the store's per-zone check cannot see (an alias to a route another zone's edit creates).
      // Loops and long chains are refused by the store whatever force says.
      const show = (name: string) => showName(name, options.namespace);
      const result = store.editRoutes(zone, edits, options.params, {
        force: true,
        show,
        ...(options.actor === undefined ? {} : { actor: options.actor }),
      });
      serials.push({ zone, serial: result.serial });
    }
    return { plan, serials };
  });
}

/** Why the plan cannot be applied: each route an operation owns, and what ends the operation. */
export function blockedError(blocked: readonly BlockedItem[]): StoreError {
  const shown = blocked.slice(0, 5).map(({ item, operation: op }) => {
    const end = op.kind === 'rollout' ? `psarn rollout promote|abort ${item.psarn}` : `psarn release ${item.psarn}`;
    return `${item.psarn} has ${op.kind} ${op.id} ${op.status} (end it first: ${end})`;
  });
  const more = blocked.length > 5 ? ` and ${blocked.length - 5} more` : '';
  return new StoreError(
    'ERR_OPERATION_CONFLICT',
    `cannot apply: ${shown.join('; ')}${more}; apply changes no route an operation owns, so nothing was written`,
  );
}

/**
 * The items an active operation of `store` owns, in plan order. With two on a route (a hold that
 * paused a rollout), the one shown is the older: the last of the newest-first listing.
 */
export function blockedItems(store: ApplyReader, items: readonly PlanItem[]): BlockedItem[] {
  if (items.length === 0) return [];
  const active = new Map<string, Pick<Operation, 'id' | 'kind' | 'status'>>();
  for (const op of store.operations({ active: true })) active.set(key(op.zone, op.path), op);
  if (active.size === 0) return [];
  return items.flatMap((item) => {
    const op = active.get(key(item.zone, item.path));
    return op === undefined ? [] : [{ item, operation: { id: op.id, kind: op.kind, status: op.status } }];
  });
}

function wantedOf(entry: RouteEntry, options: ApplyOptions): Wanted {
  const psarn = formatPsarn(entry.psarn);
  const at = { line: entry.line, route: psarn };
  try {
    const { zone, path, spec } = toStoreRoute(entry, options);
    // The store's own checks (answer size, repeated targets), now: with the line, before any write.
    const checked = checkRoute(zone, path, spec);
    return { entry, zone, path, name: routeName(zone, path), psarn, checked, spec };
  } catch (err) {
    if (err instanceof PsarnError || (err instanceof StoreError && err.code === 'ERR_INVALID_ROUTE')) {
      const why = err.message.replace(/^invalid route '[^']*' in zone \S+: /, '');
      throw routesFileError(options.file, at, why, err);
    }
    throw err;
  }
}

/**
 * The alias checks on the result of the whole plan (docs/design.md#alias-checks): every alias
 * of the file must end, within MAX_ALIAS_CHAIN aliases and without a loop, at a route with
 * targets, in the file or in the store (not one the plan deletes); and no alias outside the
 * file may point at a route the plan deletes.
 */
function checkAliases(
  store: ApplyReader,
  wanted: readonly Wanted[],
  byName: ReadonlyMap<string, Wanted>,
  deleted: ReadonlySet<string>,
  options: ApplyOptions,
): void {
  const ns = options.namespace;
  /** The route at `name` after the plan: the file's, or the store's unless the plan deletes it. */
  const final = (name: string): { alias: string | null } | undefined => {
    const w = byName.get(name);
    if (w !== undefined) return w.checked;
    if (deleted.has(name)) return undefined;
    const at = locateName(name, ns);
    const r = at && store.getRoute(at.zone, at.path);
    return r && { alias: r.alias ?? null };
  };
  // Every alias of the file, changed or not: an unchanged one may point at a route the plan deletes.
  for (const w of wanted) {
    if (w.checked.alias === null) continue;
    const line = w.entry.aliasLine ?? w.entry.line;
    const fail = (why: string) => routesFileError(options.file, { line, route: w.psarn }, why);
    const chain = [w.name];
    let next: string = w.checked.alias;
    for (;;) {
      if (chain.includes(next)) {
        throw fail(`alias would make a loop: ${[...chain, next].map((n) => showName(n, ns)).join(' → ')}`);
      }
      chain.push(next);
      const route = final(next);
      if (route === undefined) {
        const via =
          chain.length > 2
            ? ` through ${chain
                .slice(1, -1)
                .map((n) => showName(n, ns))
                .join(' → ')}`
            : '';
        const gone = deleted.has(next) ? ' (this apply deletes it)' : ' (not in the file, nor in the database)';
        throw fail(`alias points${via} at ${showName(next, ns)}, which is not a route${gone}`);
      }
      if (route.alias === null) break;
      if (chain.length > MAX_ALIAS_CHAIN) {
        throw fail(
          `alias would make a chain of more than ${MAX_ALIAS_CHAIN} aliases: ${chain.map((n) => showName(n, ns)).join(' → ')} → …; a DNS answer follows at most ${MAX_ALIAS_CHAIN} CNAMEs`,
        );
      }
      next = route.alias;
    }
  }
  if (deleted.size === 0) return;
  // Aliases the file does not list that point at a route the plan deletes (one scan of the store).
  for (const r of [...store.listRoutes()]) {
    if (r.alias === undefined || !deleted.has(r.alias)) continue;
    const name = routeName(r.zone, r.path);
    if (byName.has(name) || deleted.has(name)) continue;
    throw routesFileError(
      options.file,
      { route: showName(r.alias, ns) },
      `--prune would delete this route, which alias ${psarnOf(r.zone, r.path, ns)} (not in the file) points at; re-point or delete that alias, or list the route in the file`,
    );
  }
}

/** Zone and path of a DNS name under the namespace, or undefined when it is no psARN's. */
function locateName(name: string, namespace: string): { zone: string; path: string } | undefined {
  try {
    const psarn = nameToPsarn(name, namespace);
    return { zone: zoneName(psarn, namespace), path: psarn.path.join('/') };
  } catch {
    return undefined;
  }
}

/** A DNS name as a psARN when it is one. */
export function showName(name: string, namespace: string): string {
  try {
    return formatPsarn(nameToPsarn(name, namespace));
  } catch {
    return name;
  }
}

function psarnOf(zone: string, path: string, namespace: string): string {
  return showName(routeName(zone, path), namespace);
}
