/**
 * The alias checks of a write (docs/design.md#alias-checks), run inside the write's
 * transaction so that two writers cannot race past them: an alias must not make a loop, nor a
 * chain of more than MAX_CNAME_CHAIN aliases (a DNS answer follows at most that many CNAMEs,
 * so the route at the end would never be reached), nor point at a name that is no route; a
 * route that aliases point at is not deleted, nor turned into an alias. The last two can be
 * forced (DNS allows dangling CNAMEs); the first two cannot. `zone import` only reports them.
 */
import { routeName } from '../psarn/name.js';
import { MAX_CNAME_CHAIN } from '../wire/types.js';
import type { AliasWalkRow, Statements } from './statements.js';
import { ALIAS_NAMES_SHOWN, type AliasProblem, StoreError, type WriteOptions } from './types.js';

type Show = (name: string) => string;

const shownBy = (options: WriteOptions): Show => options.show ?? ((name) => name);

/** `a, b, c, d, e and 3 more`. */
export function nameList(names: readonly string[], count: number, show: Show): string {
  const shown = names.slice(0, ALIAS_NAMES_SHOWN).map(show).join(', ');
  return count > ALIAS_NAMES_SHOWN ? `${shown} and ${count - ALIAS_NAMES_SHOWN} more` : shown;
}

/** The aliases pointing at `name`, other than `self`: the first ALIAS_NAMES_SHOWN names and the count. */
export function referrers(q: Statements, name: string, self?: string): { names: string[]; count: number } {
  const names: string[] = [];
  let count = 0;
  for (const r of q.aliasReferrers.iterate(name)) {
    const referrer = routeName(r.zone, r.path);
    if (referrer === self) continue;
    if (count++ < ALIAS_NAMES_SHOWN) names.push(referrer);
  }
  return { names, count };
}

/**
 * Refuses (unless forced) to delete, or turn into an alias, the route `name` while aliases
 * point at it. @returns the aliases left pointing at nothing by a forced delete, if any.
 * @throws StoreError ERR_ROUTE_ALIASED naming them (at most ALIAS_NAMES_SHOWN, then a count)
 */
export function checkReferrers(
  q: Statements,
  name: string,
  what: 'delete' | 'convert',
  options: WriteOptions,
): { names: string[]; count: number } | undefined {
  const found = referrers(q, name, name);
  if (found.count === 0) return undefined;
  if (options.force) return found;
  const show = shownBy(options);
  const one = found.count === 1;
  const effect =
    what === 'delete'
      ? `deleting it would leave ${one ? 'it' : 'them'} pointing at nothing`
      : `${one ? 'it' : 'they'} would answer as the new alias`;
  throw new StoreError(
    'ERR_ROUTE_ALIASED',
    `route ${show(name)} is the target of ${found.count} alias${found.count === 1 ? '' : 'es'} (${nameList(found.names, found.count, show)}); ${effect}`,
  );
}

/** The names along a problem row's chain: the start, each node passed, the node reached. */
function chainOf(row: AliasWalkRow, zones: Map<number, string>): string[] {
  const passed = row.seen
    .trim()
    .split(' ')
    .map((key) => {
      const colon = key.indexOf(':');
      return routeName(zones.get(Number(key.slice(0, colon)))!, key.slice(colon + 1));
    });
  return [...passed, row.name];
}

function zoneNames(q: Statements): Map<number, string> {
  return new Map(q.zones.all().map((z) => [z.id, z.name]));
}

/** For a loop, the names from the start to the node it comes back to; for the others the whole chain. */
function problemOf(row: AliasWalkRow, zones: Map<number, string>): AliasProblem {
  const chain = chainOf(row, zones);
  return { kind: row.kind, alias: chain[0]!, chain };
}

/**
 * Checks the alias just written at (`zoneId`, `path`), in its transaction: its own chain, and
 * the chains of every alias that reaches it (which it may have made too long).
 * @throws StoreError ERR_ALIAS_LOOP / ERR_ALIAS_CHAIN (always), ERR_ALIAS_DANGLING (unless forced)
 */
export function checkAliasWrite(q: Statements, zoneId: number, path: string, options: WriteOptions): void {
  const rows = q.aliasWalkFrom.all({ zone: zoneId, path });
  if (rows.length === 0) return;
  const zones = zoneNames(q);
  const show = shownBy(options);
  const own = rows.filter((r) => r.startZone === zoneId && r.startPath === path);
  const arrow = (names: readonly string[]) => names.map(show).join(' → ');
  const loop = own.find((r) => r.kind === 'loop');
  if (loop) {
    const chain = chainOf(loop, zones);
    const back = chain.indexOf(chain.at(-1)!);
    const into = back === 0 ? 'would make a loop' : `would lead into a loop`;
    throw new StoreError(
      'ERR_ALIAS_LOOP',
      `alias ${show(chain[0]!)} → ${show(chain[1]!)} ${into}: ${arrow(chain.slice(back))}; an alias must end at a route with targets`,
    );
  }
  const long = rows.find((r) => r.kind === 'chain');
  if (long) {
    const chain = chainOf(long, zones);
    const self = routeName(zones.get(zoneId)!, path);
    throw new StoreError(
      'ERR_ALIAS_CHAIN',
      `alias ${show(self)} would make a chain of more than ${MAX_CNAME_CHAIN} aliases: ${arrow(chain)}; ` +
        `a DNS answer follows at most ${MAX_CNAME_CHAIN} CNAMEs, so the route at its end would never be reached; point the alias at a route nearer the end`,
    );
  }
  const dangling = own.find((r) => r.kind === 'dangling');
  if (dangling && !options.force) {
    const chain = chainOf(dangling, zones);
    const via = chain.length > 2 ? ` through ${arrow(chain.slice(1, -1))}` : '';
    throw new StoreError(
      'ERR_ALIAS_DANGLING',
      `alias ${show(chain[0]!)} would point${via} at ${show(chain.at(-1)!)}, which is not a route`,
    );
  }
}

/**
 * The problems of the aliases in the zones `zoneIds` or pointing into them, in one SQL walk (a
 * zone import reports them; it does not refuse them, as other DNS servers load such zones).
 * A loop is reported once, by its first alias. Each problem goes to the group `groupOf` names;
 * @returns per group at most `limit` problems, and their count.
 */
export function aliasProblems(
  q: Statements,
  zoneIds: readonly number[],
  groupOf: (problem: AliasProblem) => string,
  limit = 100,
): Map<string, { problems: AliasProblem[]; count: number }> {
  const groups = new Map<string, { problems: AliasProblem[]; count: number }>();
  let zones: Map<number, string> | undefined;
  const loops = new Set<string>();
  for (const row of q.aliasWalkZones.iterate({ zones: JSON.stringify(zoneIds) })) {
    zones ??= zoneNames(q);
    if (row.kind === 'loop') {
      // Every alias of a loop finds it; an alias leading into one is reported on its own.
      const key = `${row.zoneId}:${row.path}`;
      const cycle = row.seen
        .slice(row.seen.indexOf(` ${key} `))
        .trim()
        .split(' ');
      if (cycle.includes(`${row.startZone}:${row.startPath}`)) {
        const id = cycle.sort().join(' ');
        if (loops.has(id)) continue;
        loops.add(id);
      }
    }
    const problem = problemOf(row, zones);
    const group = groupOf(problem);
    const g = groups.get(group) ?? { problems: [], count: 0 };
    groups.set(group, g);
    if (g.count++ < limit) g.problems.push(problem);
  }
  return groups;
}
