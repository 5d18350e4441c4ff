/**
 * `psarn zone import` in the store: every listed zone's content replaced in ONE transaction.
 * A bad route fails the whole import and the transaction rolls back: nothing is written.
 *
 * Built for 1M routes (docs/design.md#cli-names asks for 100k in seconds; the bench imports 1M): routes are
 * written in primary-key order, many rows per INSERT, and each route is checked right before its
 * rows are bound, so its checked form is garbage at once instead of 1M objects kept alive until
 * the transaction starts (the garbage collector's work grows with what stays alive).
 */
import { echoValue } from '../errors.js';
import { aliasProblems } from './aliases.js';
import { nextSerial, serialGreater } from './serial.js';
import {
  IMPORT_ROUTE_ROWS,
  IMPORT_ROUTE_VALUES,
  IMPORT_TARGET_ROWS,
  IMPORT_TARGET_VALUES,
  paramsOf,
  type Statements,
  toParamsRow,
  toZoneRow,
} from './statements.js';
import type { AliasProblem, ImportRoute, RouteList, ZoneImport, ZoneParams } from './types.js';
import { StoreError } from './types.js';
import { checkParams, checkRoute, checkZoneName } from './validate.js';

export interface ImportContext {
  q: Statements;
  now: () => number;
  write: <T>(fn: () => T) => T;
  /** Turns foreign-key enforcement on or off (outside a transaction: PRAGMA foreign_keys is a no-op in one). */
  foreignKeys: (on: boolean) => void;
  zoneOrCreate: (name: string, params: ZoneParams) => { id: number; serial: number; epoch: number };
  /** Prunes the zone's journal to journal.keep rows (in the write transaction). */
  pruneJournal: (zoneId: number) => void;
  /** Who imports, journaled (docs/design.md#change-actors); null: not known. */
  actor: string | null;
  /**
   * Take each zone's `serial` and `epoch` exactly as given (a secondary's AXFR keeps its
   * primary's, RFC 1995 §1 / RFC 5936), instead of "ahead or +1" and "never lower".
   */
  exact?: boolean;
}

export interface ImportResult {
  zone: string;
  routes: number;
  serial: number;
  /** True when the import created the zone. */
  created: boolean;
  /**
   * Broken alias chains after the import (docs/design.md#alias-checks), of the aliases in this
   * zone or, for an alias in a zone not imported, pointing into this zone; at most 100, and
   * their count. An import reports them and goes on, as other DNS servers load such zones.
   */
  aliasProblems: { problems: AliasProblem[]; count: number };
}

/** The zone checks that need no route; the routes in key order. */
function checkZone(content: ZoneImport): RouteList {
  const { name } = content;
  checkZoneName(name);
  const bad = (what: string, v: unknown) =>
    new StoreError(
      'ERR_INVALID_ZONE',
      `invalid ${what} ${echoValue(v)} for zone ${name}: use an integer from 0 to 4294967295`,
    );
  if (
    content.serial !== undefined &&
    !(Number.isInteger(content.serial) && content.serial >= 0 && content.serial < 2 ** 32)
  ) {
    throw bad('serial', content.serial);
  }
  if (content.epoch !== undefined && !(Number.isSafeInteger(content.epoch) && content.epoch >= 0)) {
    throw bad('epoch', content.epoch);
  }
  // Inserting in primary-key order appends to the b-tree instead of splitting pages all over
  // it: a third faster for 100k routes. Paths are ASCII, so '<' is SQLite's byte order. The
  // zone-file reader gives them in this order already. A repeated path is then a neighbour of
  // its twin (insertRoutes refuses it): no set of 1M paths.
  const routes = content.routes;
  const pathAt = routes.pathAt?.bind(routes) ?? ((i: number) => routes.at(i)!.path);
  for (let i = 1; i < routes.length; i++) {
    if (!(pathAt(i - 1) < pathAt(i))) {
      const all = Array.from({ length: routes.length }, (_, k) => routes.at(k)!);
      return all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    }
  }
  return routes;
}

/** Drops undefined members, so `{ minimum: undefined }` keeps the current value. */
function defined<T extends object>(partial: Partial<T> | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(partial ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function importZones(zones: ZoneImport[], params: ZoneParams, ctx: ImportContext): ImportResult[] {
  const names = new Set<string>();
  const sorted = zones.map((content) => {
    if (names.has(content.name)) throw new StoreError('ERR_INVALID_ZONE', `zone ${content.name} is listed twice`);
    names.add(content.name);
    return checkZone(content);
  });
  // Without foreign-key checks, each target insert skips a lookup of its route (a third of the
  // insert time). The rows are consistent by construction: a zone's targets are deleted before
  // its routes, and each target is written with the zone and path of the route just written.
  ctx.foreignKeys(false);
  try {
    return writeZones(zones, sorted, params, ctx);
  } finally {
    ctx.foreignKeys(true);
  }
}

function writeZones(zones: ZoneImport[], sorted: RouteList[], params: ZoneParams, ctx: ImportContext): ImportResult[] {
  const { q } = ctx;
  return ctx.write(() => {
    const written = zones.map((content, i) => {
      const routes = sorted[i]!;
      const existing = q.zone.get(content.name);
      const base: ZoneParams = existing === undefined ? params : paramsOf(toZoneRow(existing));
      const merged: ZoneParams = { ...base, ...defined(content.params) };
      checkParams(content.name, merged);
      const z = ctx.zoneOrCreate(content.name, merged);
      const created = existing === undefined;
      if (existing !== undefined && content.params !== undefined) {
        q.updateZoneParams.run({ id: z.id, ...toParamsRow(merged) });
      }
      const before = { routes: q.countRoutes.get(z.id), epoch: z.epoch };
      // Targets first: each route delete then finds no child rows for its cascade.
      q.deleteZoneTargets.run(z.id);
      q.deleteZoneRoutes.run(z.id);
      const exact = ctx.exact === true && content.serial !== undefined;
      const serial =
        exact || (content.serial !== undefined && serialGreater(content.serial, z.serial))
          ? content.serial!
          : nextSerial(z.serial);
      // Never move the epoch backwards, even for an older file: clients drop their cache only when
      // the epoch grows (docs/design.md#the-epoch-override), so a lower epoch would make the next flushes invisible.
      // A secondary takes its primary's, the authority's (docs/design.md#transfers-in).
      const epoch = exact ? (content.epoch ?? z.epoch) : Math.max(content.epoch ?? z.epoch, z.epoch);
      q.setSerialEpoch.run(serial, epoch, z.id);
      const at = ctx.now();
      insertRoutes(q, { zoneId: z.id, zone: content.name, serial, at }, routes);
      const after = { routes: routes.length, epoch, params: merged };
      // One journal row for the whole import (the daemon reloads the zone on it), not one per route.
      q.appendJournal.run(z.id, serial, 'import', null, JSON.stringify(before), JSON.stringify(after), at, ctx.actor);
      ctx.pruneJournal(z.id);
      return { zone: content.name, zoneId: z.id, routes: routes.length, serial, created };
    });
    // One walk over every alias of the imported zones and every alias pointing into them (SQL,
    // through the partial index routes_alias: nothing to do for a zone of target routes). An
    // alias in a zone not imported is reported with the imported zone it points into.
    const names = written.map((w) => w.zone);
    const found = aliasProblems(
      q,
      written.map((w) => w.zoneId),
      (p) => deepestZone(p.alias, names) ?? deepestZone(p.chain[1]!, names) ?? '',
    );
    return written.map(({ zoneId: _, ...w }) => ({
      ...w,
      aliasProblems: found.get(w.zone) ?? { problems: [], count: 0 },
    }));
  });
}

/** The deepest of `zones` that holds the name, as the answer function picks. */
function deepestZone(name: string, zones: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) if (name.endsWith(`.${z}`) && z.length > (best?.length ?? -1)) best = z;
  return best;
}

/**
 * Checks and writes a zone's routes (in key order), IMPORT_ROUTE_ROWS routes per INSERT; the
 * targets of the routes written so far follow, IMPORT_TARGET_ROWS per INSERT, so each target's
 * foreign key would find its route. What does not fill a whole statement goes one row at a time.
 * @throws StoreError ERR_INVALID_ROUTE (inside the transaction, which then rolls back)
 */
function insertRoutes(
  q: Statements,
  where: { zoneId: number; zone: string; serial: number; at: number },
  routes: RouteList,
): void {
  const { zoneId, zone, serial, at } = where;
  const shared = { zone: zoneId, serial, at };
  const routeValues = new Array<unknown>(IMPORT_ROUTE_ROWS * IMPORT_ROUTE_VALUES);
  const wholeTargets = IMPORT_TARGET_ROWS * IMPORT_TARGET_VALUES;
  // Targets of the routes in routeValues and of those written, not yet written themselves.
  let targetValues: unknown[] = [];
  let r = 0;
  let t = 0;
  const flushTargets = (all: boolean) => {
    let from = 0;
    for (; from + wholeTargets <= t; from += wholeTargets) {
      const values = from === 0 && t === wholeTargets ? targetValues : targetValues.slice(from, from + wholeTargets);
      q.insertTargets.run(...values, shared);
    }
    if (all) {
      for (; from < t; from += IMPORT_TARGET_VALUES) {
        q.insertTarget.run(zoneId, ...targetValues.slice(from, from + IMPORT_TARGET_VALUES));
      }
    }
    targetValues = targetValues.slice(from, t);
    t = targetValues.length;
  };
  let previous = '';
  for (let i = 0; i < routes.length; i++) {
    const { path, spec }: ImportRoute = routes.at(i)!;
    if (i > 0 && path === previous) {
      throw new StoreError('ERR_INVALID_ROUTE', `route '${path}' appears twice in zone ${zone}`);
    }
    previous = path;
    const route = checkRoute(zone, path, spec);
    routeValues[r++] = path;
    routeValues[r++] = route.policy;
    routeValues[r++] = route.ttl;
    routeValues[r++] = route.alias;
    routeValues[r++] = route.metadataJson;
    const targets = route.targets;
    for (let seq = 0; seq < targets.length; seq++) {
      const target = targets[seq]!;
      targetValues[t++] = path;
      targetValues[t++] = seq;
      targetValues[t++] = target.target;
      targetValues[t++] = target.weight;
      targetValues[t++] = target.priority;
    }
    if (r === routeValues.length) {
      q.insertRoutes.run(...routeValues, shared);
      r = 0;
      flushTargets(false);
    }
  }
  for (let from = 0; from < r; from += IMPORT_ROUTE_VALUES) {
    q.insertRoute.run(zoneId, ...routeValues.slice(from, from + IMPORT_ROUTE_VALUES), serial, at);
  }
  flushTargets(true);
}
