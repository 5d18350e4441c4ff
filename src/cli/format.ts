/**
 * Output of the route commands, pure: a StoredRoute as a readable block, a list line, or JSON.
 */
import { nameToPsarn, parseZoneName, routeName } from '../psarn/name.js';
import { formatPsarn } from '../psarn/psarn.js';
import type { StoredRoute } from '../store/types.js';
import { computeShares, formatShare } from './shares.js';

/** The psARN of a stored route. */
export function routePsarn(route: StoredRoute, namespace: string): string {
  const key = parseZoneName(route.zone, namespace);
  return formatPsarn({ ...key, path: route.path.split('/') });
}

/** An alias target (a DNS name) as a psARN, or the name itself when it is not one. */
export function aliasPsarn(alias: string, namespace: string): string {
  try {
    return formatPsarn(nameToPsarn(alias, namespace));
  } catch {
    return alias;
  }
}

export interface RouteView {
  psarn: string;
  name: string;
  zone: string;
  path: string;
  policy?: string;
  alias?: { psarn: string; name: string };
  ttl: number;
  serial: number;
  epoch?: number;
  updatedAt: string;
  metadata: Record<string, string>;
  targets: { target: string; priority: number; weight: number; share: string }[];
}

/** The JSON form of `route get` and of each item of `route list --json`. */
export function routeView(route: StoredRoute, namespace: string, epoch?: number): RouteView {
  const shares = route.policy ? computeShares(route.policy, route.targets) : [];
  return {
    psarn: routePsarn(route, namespace),
    name: routeName(route.zone, route.path),
    zone: route.zone,
    path: route.path,
    ...(route.policy ? { policy: route.policy } : {}),
    ...(route.alias !== undefined ? { alias: { psarn: aliasPsarn(route.alias, namespace), name: route.alias } } : {}),
    ttl: route.ttl,
    serial: route.serial,
    ...(epoch === undefined ? {} : { epoch }),
    updatedAt: new Date(route.updatedAt).toISOString(),
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
  fields.push(['ttl', String(v.ttl)], ['serial', String(v.serial)]);
  if (v.epoch !== undefined) fields.push(['epoch', String(v.epoch)]);
  fields.push(['updated', v.updatedAt]);
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
