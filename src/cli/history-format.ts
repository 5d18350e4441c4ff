/**
 * What `psarn route history` prints (docs/design.md#history-and-revert), pure: a history line per
 * change in words, short target names, and the JSON form of an entry.
 */
import { targetLabel } from '../map/graph.js';
import type { HistoryChange, RouteHistory, RouteHistoryEntry } from '../store/history.js';
import type { SavedRoute, TargetSpec } from '../store/types.js';
import { aliasPsarn, table } from './format.js';

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
  for (const [target, label] of short) labels.set(target, owners.get(label) === 1 ? label : targetLabel(target));
  return labels;
}

function shortLabel(target: string): string {
  if (!target.startsWith('arn:')) return targetLabel(target);
  const parts = target.split(':');
  if (parts.length < 6) return target;
  const resource = parts.slice(5).join(':');
  return resource.startsWith('function:') && resource.length > 9 ? resource.slice(9) : resource;
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
export function entryJson(e: RouteHistoryEntry): Record<string, unknown> {
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
