/**
 * The graph of `psarn graph` and of the web console (docs/design.md#the-graph): callers →
 * psARNs → targets, built from one read of the store (routes, aliases, active operations, the
 * persisted caller map). Pure over the store; the renderers (dot.ts, mermaid.ts) draw it and
 * `--format json` prints it as it is.
 */
import type { HoldState } from '../ops/hold.js';
import type { RolloutState } from '../ops/rollout.js';
import { routeName, routePsarn } from '../psarn/name.js';
import { hasCredentialQuery, hideQueryValues } from '../psarn/target-policy.js';
import type { CallerRow } from '../store/callers.js';
import type { Store } from '../store/store.js';
import { type Operation, type StoredRoute, StoreError } from '../store/types.js';
import { MAX_CNAME_CHAIN } from '../wire/types.js';
import { type GraphScope, graphScope, locateName } from './scope.js';
import { edgeShares } from './shares.js';
import type { Graph, GraphEdge, GraphNode } from './types.js';

export interface GraphOptions {
  /**
   * Limit to a zone (its name, or a psARN with an empty path) or a psARN prefix (that route and
   * those under it), plus the callers of those routes and what their aliases lead to.
   */
  zone?: string;
  /** Unix ms for `generatedAt` (default Date.now()). */
  now?: number;
  /** Config `namespace`: how zone names map to psARNs. */
  namespace: string;
}

/** Node ids (docs/design.md#the-graph): the kind, then the caller id, psARN or target. */
export const callerId = (caller: string) => `caller:${caller}`;
export const psarnId = (psarn: string) => `psarn:${psarn}`;

/**
 * A target as the graph shows it: as it is, or with its query values hidden when they look like
 * credentials (`?token=…`), as every diff shows it: a graph gets pasted into wikis and served by
 * the console.
 */
export function targetLabel(target: string): string {
  return hasCredentialQuery(target) ? hideQueryValues(target) : target;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Builds the graph from the store, in one snapshot. Nodes are sorted by id and edges by
 * (from, to, kind), so two runs over the same data print the same bytes.
 * @throws PsarnError ERR_INVALID_ZONE / ERR_INVALID_PSARN for a bad `zone`; StoreError
 *   ERR_ZONE_NOT_FOUND for a zone the database does not have
 * @example buildGraph(store, { namespace: 'psarn.internal.' }).nodes.filter((n) => n.kind === 'route')
 */
export function buildGraph(store: Store, options: GraphOptions): Graph {
  const ns = options.namespace;
  const scope = options.zone === undefined ? undefined : graphScope(options.zone, ns);
  const generatedAt = options.now ?? Date.now();
  const data = store.read(() => readData(store, scope));
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  /** DNS name of each in-scope route or alias -> its node id: what callers are matched against. */
  const byName = new Map<string, string>();
  const targetIds = new TargetIds();

  const addRoute = (route: StoredRoute, own: boolean) => {
    const psarn = routePsarn(route, ns);
    const id = psarnId(psarn);
    if (own) byName.set(routeName(route.zone, route.path), id);
    if (nodes.has(id)) return;
    const node: GraphNode = {
      id,
      kind: route.alias === undefined ? 'route' : 'alias',
      label: psarn,
      zone: route.zone,
      ...(route.policy === undefined ? {} : { policy: route.policy }),
      ttl: route.ttl,
      serial: route.serial,
    };
    const key = `${route.zone} ${route.path}`;
    const rollout = data.rollouts.get(key);
    if (rollout !== undefined) node.rollout = rolloutMark(rollout);
    const hold = data.holds.get(key);
    if (hold !== undefined) node.hold = { id: hold.id, queue: hold.state.queue };
    nodes.set(id, node);
    if (route.alias !== undefined) return;
    const shares = edgeShares(route.policy ?? 'weighted', route.targets);
    route.targets.forEach((t, i) => {
      const to = targetIds.id(t.target);
      if (!nodes.has(to)) nodes.set(to, { id: to, kind: 'target', label: targetLabel(t.target) });
      const s = shares[i]!;
      edges.push({
        from: id,
        to,
        kind: 'routes',
        weight: t.weight,
        priority: t.priority,
        share: s.share,
        role: s.role,
      });
    });
  };

  for (const route of data.routes) addRoute(route, true);
  for (const route of data.followed) addRoute(route, false);
  for (const [from, to] of data.aliasEdges) {
    const fromId = psarnId(routePsarn(from, ns));
    let toId: string;
    if (to.route !== undefined) {
      toId = psarnId(routePsarn(to.route, ns));
    } else {
      // A dangling alias (written with --force): its end is drawn, marked missing.
      const psarn = to.at === undefined ? to.name : routePsarn(to.at, ns);
      toId = psarnId(psarn);
      if (!nodes.has(toId)) {
        nodes.set(toId, {
          id: toId,
          kind: 'route',
          label: psarn,
          ...(to.at === undefined ? {} : { zone: to.at.zone }),
          missing: true,
        });
      }
    }
    edges.push({ from: fromId, to: toId, kind: 'alias' });
  }

  // Reporters merged (docs/design.md#the-graph): this psarnd's own rows and each secondary's.
  const calls = new Map<string, GraphEdge>();
  for (const row of data.callers) {
    const to = byName.get(row.name);
    if (to === undefined) continue; // `_epoch.<zone>`, a deleted route, a name outside the scope
    const from = callerId(row.caller);
    const key = `${from}\u0000${to}`;
    const edge = calls.get(key);
    if (edge === undefined) {
      calls.set(key, { from, to, kind: 'calls', lookups: row.lookups, lastSeen: row.lastSeen });
    } else {
      edge.lookups = (edge.lookups ?? 0) + row.lookups;
      edge.lastSeen = Math.max(edge.lastSeen ?? 0, row.lastSeen);
    }
    const node = nodes.get(from);
    if (node === undefined) nodes.set(from, { id: from, kind: 'caller', label: row.caller, lastSeen: row.lastSeen });
    else node.lastSeen = Math.max(node.lastSeen ?? 0, row.lastSeen);
  }
  edges.push(...calls.values());

  const kinds = { calls: 0, alias: 1, routes: 2 };
  return {
    generatedAt,
    ...(scope === undefined ? {} : { zone: scope.zone }),
    ...(scope?.prefix === undefined ? {} : { prefix: scope.prefix }),
    nodes: [...nodes.values()].sort((a, b) => byString(a.id, b.id)),
    edges: edges.sort((a, b) => byString(a.from, b.from) || byString(a.to, b.to) || kinds[a.kind] - kinds[b.kind]),
  };
}

/**
 * Target node ids: `target:<target as shown>`. Two targets that differ only in hidden query
 * values would share an id; the second and later get `#2`, `#3` in the order first met (routes
 * are read in zone and path order, so the numbering is stable).
 */
class TargetIds {
  readonly #ids = new Map<string, string>();
  readonly #taken = new Map<string, number>();
  id(target: string): string {
    const known = this.#ids.get(target);
    if (known !== undefined) return known;
    const base = `target:${targetLabel(target)}`;
    const n = (this.#taken.get(base) ?? 0) + 1;
    this.#taken.set(base, n);
    const id = n === 1 ? base : `${base}#${n}`;
    this.#ids.set(target, id);
    return id;
  }
}

/** The rollout as the graph marks it: as `psarn rollout status` describes its step and gate. */
function rolloutMark(op: Operation<RolloutState>): NonNullable<GraphNode['rollout']> {
  const s = op.state;
  return {
    id: op.id,
    status: op.status,
    step: `${s.steps[s.step]}%`,
    to: targetLabel(s.to),
    ...(s.gate === undefined ? {} : { gate: s.gate.query }),
  };
}

interface AliasEnd {
  name: string;
  at?: { zone: string; path: string };
  route?: StoredRoute;
}

interface GraphData {
  routes: StoredRoute[];
  /** Routes outside the scope that its aliases lead to. */
  followed: StoredRoute[];
  aliasEdges: [StoredRoute, AliasEnd][];
  rollouts: Map<string, Operation<RolloutState>>;
  holds: Map<string, Operation<HoldState>>;
  callers: CallerRow[];
}

function readData(store: Store, scope: GraphScope | undefined): GraphData {
  if (scope !== undefined && store.zone(scope.zone) === undefined) {
    throw new StoreError('ERR_ZONE_NOT_FOUND', `zone '${scope.zone}' not found; 'psarn route list' shows the routes`);
  }
  const routes = [...store.listRoutes(scope?.zone, scope?.prefix)];
  const zones = store.zones().map((z) => z.name);
  const seen = new Set(routes.map((r) => `${r.zone} ${r.path}`));
  const followed: StoredRoute[] = [];
  const aliasEdges: [StoredRoute, AliasEnd][] = [];
  // Follow each alias to where it ends, out of the scope if need be: the reader sees where its
  // callers' traffic goes. At most MAX_CNAME_CHAIN hops (a loop stops at a route already drawn).
  const queue = routes.filter((r) => r.alias !== undefined).map((r) => ({ route: r, hops: 0 }));
  for (let i = 0; i < queue.length; i++) {
    const { route, hops } = queue[i]!;
    const name = route.alias!;
    const at = locateName(name, zones);
    const to = at === undefined ? undefined : store.getRoute(at.zone, at.path);
    aliasEdges.push([route, { name, ...(at === undefined ? {} : { at }), ...(to === undefined ? {} : { route: to }) }]);
    if (to === undefined || at === undefined || seen.has(`${at.zone} ${at.path}`)) continue;
    seen.add(`${at.zone} ${at.path}`);
    followed.push(to);
    if (to.alias !== undefined && hops + 1 < MAX_CNAME_CHAIN) queue.push({ route: to, hops: hops + 1 });
  }
  const rollouts = new Map<string, Operation<RolloutState>>();
  const holds = new Map<string, Operation<HoldState>>();
  for (const op of store.operations({ active: true })) {
    const key = `${op.zone} ${op.path}`;
    if (!seen.has(key)) continue;
    if (op.kind === 'rollout') rollouts.set(key, op as unknown as Operation<RolloutState>);
    else holds.set(key, op as unknown as Operation<HoldState>);
  }
  // Only the rows of names in the scope are drawn (buildGraph matches them by name).
  const callers = store.callerRows(scope === undefined ? {} : { zone: scope.zone });
  return { routes, followed, aliasEdges, rollouts, holds, callers };
}
