/**
 * The map's shapes (docs/design.md#the-graph, #change-confirmation): what `psarn graph --format
 * json` prints, what the web console's JSON API serves, and what the DOT and Mermaid renderers
 * draw. Plain JSON values only: the console's browser code imports these types too.
 */

/** A node of the graph: a caller, a psARN (a target route or an alias), or a target. */
export interface GraphNode {
  /** Unique in the graph: `caller:<id>`, `psarn:<psARN>`, `target:<target>`. */
  id: string;
  kind: 'caller' | 'route' | 'alias' | 'target';
  /** The caller id, the psARN, or the target (an ARN or an https URL). */
  label: string;
  /** Route and alias nodes: their zone (lowercase, trailing dot). */
  zone?: string;
  /** Route nodes: the selection policy. */
  policy?: 'weighted' | 'fanout';
  /** Route and alias nodes: the TTL of their records, seconds. */
  ttl?: number;
  /** Route and alias nodes: the zone serial of their last change. */
  serial?: number;
  /** Route nodes under an active rollout: its id, status, the step (`25%`) and the gate. */
  rollout?: { id: number; status: string; step: string; to: string; gate?: string };
  /** Route nodes on hold: the operation id and the queue the route points at meanwhile. */
  hold?: { id: number; queue: string };
  /** Caller nodes: unix ms of their last lookup of any name in the graph. */
  lastSeen?: number;
  /** A name an alias points at that is no route (a dangling alias): drawn so the alias edge has an end. */
  missing?: boolean;
}

/** An edge: a caller looked a psARN up, a route sends to a target, or an alias points at a psARN. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: 'calls' | 'routes' | 'alias';
  /** `routes`: the URI record's weight and priority. */
  weight?: number;
  priority?: number;
  /**
   * `routes`: the share of the calls the target gets, 0..1 (docs/design.md#selection-semantics):
   * its weight in the lowest priority group; 0 in the other groups (failover only) and at weight
   * 0 (drained); 1 for every fanout target with weight > 0.
   */
  share?: number;
  /** `routes`: why the share is what it is: `primary` (the group in use), `failover`, `drained`. */
  role?: 'primary' | 'failover' | 'drained';
  /** `calls`: lookups seen and the last one (unix ms). */
  lookups?: number;
  lastSeen?: number;
}

export interface Graph {
  /** Unix ms when it was built. */
  generatedAt: number;
  /** The zone it was limited to; absent: every zone. */
  zone?: string;
  /** The route path it was limited to (`psarn graph <psARN prefix>`): that route and those under it. */
  prefix?: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** One caller of a route, and whether it has the route's current answer (docs/design.md#change-confirmation). */
export interface CallerState {
  caller: string;
  /** The zone serial of the answer it fetched last, and when (unix ms), and how many lookups were seen. */
  serial: number;
  lastSeen: number;
  lookups: number;
  /** It fetched at or after `RouteCallers.currentSerial`. */
  current: boolean;
  /**
   * A caller that is not current may use its older answer until then (unix ms): its fetch plus
   * the TTL, or sooner when a flush makes it refetch within epochTtl. Past it, the caller
   * refetches on its next call.
   */
  holdsUntil?: number;
  /** Who saw its lookups: '' this psarnd, else a secondary's TSIG key name. */
  reporters: string[];
}

/** Which callers of a route have its current answer. */
export interface RouteCallers {
  psarn: string;
  zone: string;
  path: string;
  /** The zone serial of the route's last change. */
  serial: number;
  /** What a caller must have fetched at or after: the larger of `serial` and the zone's last epoch change. */
  currentSerial: number;
  ttl: number;
  callers: CallerState[];
}
