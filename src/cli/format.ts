/**
 * Output of the route commands, pure: a StoredRoute as a readable block, a list line, or JSON,
 * and what a write changed, old → new.
 */

import { edgeShares } from '../map/shares.js';
import { aliasPsarn, routeName, routePsarn } from '../psarn/name.js';
import { hasCredentialQuery, redactTarget } from '../psarn/target-policy.js';
import type { RouteChange, StoredRoute, TargetSpec } from '../store/types.js';
import { formatShare } from './shares.js';

// The psARN of a stored route and of an alias target (src/psarn/name.ts: psarnd's control reads show them too).
export { aliasPsarn, routePsarn };

export interface RouteView {
  psarn: string;
  name: string;
  zone: string;
  path: string;
  policy?: string;
  alias?: { psarn: string; name: string };
  ttl: number;
  /** The zone serial of the route's last write; absent from a remote read (DNS does not carry it). */
  serial?: number;
  epoch?: number;
  /** Absent from a remote read, as `serial`. */
  updatedAt?: string;
  metadata: Record<string, string>;
  targets: { target: string; priority: number; weight: number; share: string }[];
}

/**
 * The JSON form of `route get` and of each item of `route list --json`. `remote`: read over DNS,
 * which carries no serial or time of the route's last write (docs/cli.md#remote): left out.
 */
export function routeView(route: StoredRoute, namespace: string, epoch?: number, remote = false): RouteView {
  const shares = route.policy ? edgeShares(route.policy, route.targets) : [];
  return {
    psarn: routePsarn(route, namespace),
    name: routeName(route.zone, route.path),
    zone: route.zone,
    path: route.path,
    ...(route.policy ? { policy: route.policy } : {}),
    ...(route.alias !== undefined ? { alias: { psarn: aliasPsarn(route.alias, namespace), name: route.alias } } : {}),
    ttl: route.ttl,
    ...(remote ? {} : { serial: route.serial }),
    ...(epoch === undefined ? {} : { epoch }),
    ...(remote ? {} : { updatedAt: new Date(route.updatedAt).toISOString() }),
    metadata: route.metadata,
    targets: route.targets.map((t, i) => ({ ...t, share: formatShare(shares[i]!) })),
  };
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** `route get`: a readable block. */
export function formatRouteBlock(v: RouteView): string {
  const fields: [string, string][] = [
    ['psARN', v.psarn],
    ['name', v.name],
    ['zone', v.zone],
  ];
  if (v.alias) fields.push(['alias', `${v.alias.psarn} (${v.alias.name})`]);
  else fields.push(['policy', v.policy ?? 'weighted']);
  fields.push(['ttl', String(v.ttl)]);
  if (v.serial !== undefined) fields.push(['serial', String(v.serial)]);
  if (v.epoch !== undefined) fields.push(['epoch', String(v.epoch)]);
  if (v.updatedAt !== undefined) fields.push(['updated', v.updatedAt]);
  for (const [k, val] of Object.entries(v.metadata)) fields.push([`meta ${k}`, val]);
  const lines = table(fields.map(([k, val]) => [`${k}:`, val]));
  if (v.targets.length > 0) {
    lines.push('targets:');
    const rows = [
      ['priority', 'weight', 'share', 'target'],
      ...v.targets.map((t) => [String(t.priority), String(t.weight), t.share, t.target]),
    ];
    lines.push(...table(rows).map((l) => `  ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** `route list`: one line per route. */
export function formatRouteLine(route: StoredRoute, namespace: string): string {
  const psarn = routePsarn(route, namespace);
  const kind =
    route.alias !== undefined ? `alias -> ${aliasPsarn(route.alias, namespace)}` : (route.policy ?? 'weighted');
  const n = route.targets.length;
  const count = route.alias !== undefined ? '' : `  ${n} ${n === 1 ? 'target' : 'targets'}`;
  return `${psarn}  ${kind}  ttl ${route.ttl}${count}\n`;
}

const NONE = '(none)';

/** A target in a diff: as it is, or with its query values hidden when they look like credentials. */
const shown = (target: string) => (hasCredentialQuery(target) ? redactTarget(target) : target);

/** `weight 1, priority 10`. */
const weightText = (t: TargetSpec) => `weight ${t.weight}, priority ${t.priority}`;

/**
 * What changed between two states of a route, one line each, old → new (`(none)` for what
 * is not there): ttl, policy, alias, each target added, removed or reweighted, the target
 * order, each metadata key. `before` undefined: a new route; `after` undefined: a deleted one.
 * @example routeDiff(before, after, ns) // ['ttl 300 → 3600', 'target arn:…:v1: weight 90 → 80']
 */
export function routeDiff(
  before: StoredRoute | undefined,
  after: StoredRoute | undefined,
  namespace: string,
): string[] {
  const lines: string[] = [];
  const field = (name: string, old: string | number | undefined, now: string | number | undefined) => {
    if (old !== now) lines.push(`${name} ${old ?? NONE} → ${now ?? NONE}`);
  };
  const alias = (r: StoredRoute | undefined) => (r?.alias === undefined ? undefined : aliasPsarn(r.alias, namespace));
  field('ttl', before?.ttl, after?.ttl);
  field('policy', before?.policy, after?.policy);
  field('alias', alias(before), alias(after));
  lines.push(...targetDiff(before?.targets ?? [], after?.targets ?? []));
  const oldMeta = before?.metadata ?? {};
  const newMeta = after?.metadata ?? {};
  for (const key of new Set([...Object.keys(oldMeta), ...Object.keys(newMeta)])) {
    field(`metadata ${key}:`, oldMeta[key], newMeta[key]);
  }
  return lines;
}

/**
 * Targets are matched by their text (the n-th occurrence with the n-th, should a zone file have
 * given one twice): added, removed, or with a new weight or priority; then the order, when the
 * targets both states have are in another order.
 */
function targetDiff(before: readonly TargetSpec[], after: readonly TargetSpec[]): string[] {
  const keyed = (list: readonly TargetSpec[]) => {
    const seen = new Map<string, number>();
    return list.map((t) => {
      const n = (seen.get(t.target) ?? 0) + 1;
      seen.set(t.target, n);
      return { key: `${n} ${t.target}`, t };
    });
  };
  const old = keyed(before);
  const now = keyed(after);
  const oldByKey = new Map(old.map((o) => [o.key, o.t]));
  const nowKeys = new Set(now.map((n) => n.key));
  const lines: string[] = [];
  for (const { key, t } of now) {
    const was = oldByKey.get(key);
    if (was === undefined) {
      lines.push(`target ${shown(t.target)}: ${NONE} → ${weightText(t)}`);
      continue;
    }
    const parts: string[] = [];
    if (was.weight !== t.weight) parts.push(`weight ${was.weight} → ${t.weight}`);
    if (was.priority !== t.priority) parts.push(`priority ${was.priority} → ${t.priority}`);
    if (parts.length > 0) lines.push(`target ${shown(t.target)}: ${parts.join(', ')}`);
  }
  for (const { key, t } of old)
    if (!nowKeys.has(key)) lines.push(`target ${shown(t.target)}: ${weightText(t)} → ${NONE}`);
  const kept = (list: { key: string }[], other: Set<string>) => list.map((x) => x.key).filter((k) => other.has(k));
  const oldOrder = kept(old, nowKeys);
  const nowOrder = kept(now, new Set(oldByKey.keys()));
  if (oldOrder.join('\n') !== nowOrder.join('\n')) {
    lines.push(`target order: now ${now.map((x) => shown(x.t.target)).join(', ')}`);
  }
  return lines;
}

/**
 * What a route write prints: a line when it created the zone (so a typo in a region or account
 * shows), `created|updated|deleted <psARN> (zone Z serial N)` or `no change to <psARN> …`, then
 * the diff, indented.
 */
export function formatChange(change: RouteChange, namespace: string): string {
  const lines: string[] = [];
  if (change.zoneCreated) lines.push(`created zone ${change.zone}`);
  const verb = !change.changed
    ? 'no change to'
    : change.after === undefined
      ? 'deleted'
      : change.before === undefined
        ? 'created'
        : 'updated';
  lines.push(`${verb} ${routePsarn(change, namespace)} (zone ${change.zone} serial ${change.serial})`);
  if (change.changed) for (const line of routeDiff(change.before, change.after, namespace)) lines.push(`  ${line}`);
  return `${lines.join('\n')}\n`;
}
