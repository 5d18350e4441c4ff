/**
 * The web console's JSON API (docs/design.md#web-console): read-only views of the store under
 * /api/v1/. Every answer is bounded (routes and callers come in pages), every error is
 * `{ "error": { "code", "message" } }` with a stable code, and `/api/v1/version` is the cheap
 * token the page polls to know what to fetch again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { routeCallers } from '../map/confirm.js';
import { buildGraph } from '../map/graph.js';
import { edgeShares } from '../map/shares.js';
import type { HoldState } from '../ops/hold.js';
import type { RolloutState } from '../ops/rollout.js';
import { rolloutView } from '../ops/rollout-view.js';
import { aliasPsarn, parseZoneArg, routePsarn } from '../psarn/name.js';
import type { Store } from '../store/store.js';
import { type Operation, StoreError } from '../store/types.js';
import type { QueueDepth, QueueDepths } from './console-queue.js';

/** Routes per page: default and most (a zone of 100k routes is read a page at a time). */
export const ROUTES_PAGE = 200;
export const ROUTES_PAGE_MAX = 1000;
/** Callers of a route per answer at most (config callers.maxCallers allows 10 000). */
export const CALLERS_MAX = 1000;
/** Nodes a graph answer has at most: past it the API asks for a zone (the page cannot draw more legibly anyway). */
export const GRAPH_NODES_MAX = 3000;

/** An API answer: status and JSON body. */
export interface ApiReply {
  status: number;
  body: unknown;
}

/** The stable codes of the API's errors. */
export type ApiErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_BAD_REQUEST'
  | 'ERR_ZONE_NOT_FOUND'
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_GRAPH_TOO_LARGE'
  | 'ERR_STARTING'
  | 'ERR_STORE'
  | 'ERR_INTERNAL'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_METHOD';

export function apiError(status: number, code: ApiErrorCode, message: string): ApiReply {
  return { status, body: { error: { code, message } } };
}

/**
 * An API answer other than 200, thrown from deep in a view and caught in handle(). Not an Error:
 * it never leaves this module, and psarn's error family (src/errors.ts) is for errors that do.
 */
class ApiFault {
  constructor(readonly reply: ApiReply) {}
}

const fault = (status: number, code: ApiErrorCode, message: string): ApiFault =>
  new ApiFault(apiError(status, code, message));

export interface ConsoleApiOptions {
  /** The API's own read-only connection; undefined while psarnd is starting. */
  store: () => Store | undefined;
  namespace: string;
  /** Current epochTtl (a reload may change it): how soon a flush reaches callers. */
  epochTtl: () => number;
  /** Queue depths of holds; absent: shown as unknown. */
  depths?: QueueDepths;
  now?: () => number;
}

interface RouteCount {
  serial: number;
  count: number;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 16);

export class ConsoleApi {
  readonly #options: ConsoleApiOptions;
  readonly #now: () => number;
  /** Route counts by zone, kept while the zone's serial stays (counting is a range scan). */
  readonly #counts = new Map<string, RouteCount>();
  /** Tells this process's data_version values from another run's. */
  readonly #boot = randomBytes(6).toString('base64url');

  constructor(options: ConsoleApiOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Answers GET `path` (under /api/) with its query string. Never throws. */
  async handle(path: string, query: URLSearchParams): Promise<ApiReply> {
    const store = this.#options.store();
    if (store === undefined) return apiError(503, 'ERR_STARTING', 'psarnd is starting; try again in a moment');
    try {
      switch (path) {
        case '/api/v1/version':
          return { status: 200, body: this.version(store) };
        case '/api/v1/zones':
          return { status: 200, body: this.zones(store) };
        case '/api/v1/routes':
          return { status: 200, body: this.routes(store, query) };
        case '/api/v1/operations':
          return { status: 200, body: await this.operations(store) };
        case '/api/v1/graph':
          return { status: 200, body: this.graph(store, query) };
        case '/api/v1/callers':
          return { status: 200, body: this.callers(store, query) };
        default:
          return apiError(404, 'ERR_NOT_FOUND', `no API at ${path}; see docs/design.md#web-console`);
      }
    } catch (err) {
      if (err instanceof ApiFault) return err.reply;
      if (err instanceof StoreError && /^ERR_DB_/.test(err.code)) {
        return apiError(503, 'ERR_STORE', `the database cannot be read: ${err.message}`);
      }
      throw err;
    }
  }

  /**
   * What changed since the page last looked, as three short tokens: `routes` (the zones' serials
   * and epochs, the catalog serial), `operations` (the active rollouts and holds) and `callers`
   * (this connection's data_version: it moves whenever another connection commits, psarnd's
   * caller-map saves included). Three small reads.
   */
  version(store: Store): { version: string; routes: string; operations: string; callers: string } {
    return store.read(() => {
      const zones = store.zones().map((z) => `${z.name}:${z.serial}:${z.epoch}`);
      const routes = digest(`${store.catalogSerial()}|${zones.join(',')}`);
      const ops = store
        .operations({ active: true })
        .map((o) => `${o.id}:${o.status}:${o.updatedAt}:${o.dueAt ?? ''}`)
        .join(',');
      const operations = digest(ops);
      const callers = `${this.#boot}.${store.dataVersion()}`;
      return { version: `${routes}.${operations}.${callers}`, routes, operations, callers };
    });
  }

  zones(store: Store): { catalogSerial: number; zones: unknown[] } {
    return store.read(() => {
      const zones = store.zones().map((z) => ({
        name: z.name,
        psarn: routePsarn({ zone: z.name, path: '' }, this.#options.namespace),
        serial: z.serial,
        epoch: z.epoch,
        routes: this.#routeCount(store, z.id, z.name, z.serial),
      }));
      return { catalogSerial: store.catalogSerial(), zones };
    });
  }

  #routeCount(store: Store, id: number, name: string, serial: number): number {
    const known = this.#counts.get(name);
    if (known !== undefined && known.serial === serial) return known.count;
    const count = store.routeCount(id);
    this.#counts.set(name, { serial, count });
    return count;
  }

  /** One page of a zone's routes in path order, after `after` (a path), `limit` of them. */
  routes(store: Store, query: URLSearchParams): unknown {
    const zoneName = this.#zoneParam(query);
    const limit = intParam(query, 'limit', ROUTES_PAGE, 1, ROUTES_PAGE_MAX);
    const after = query.get('after') ?? '';
    const ns = this.#options.namespace;
    return store.read(() => {
      const zone = store.zone(zoneName);
      if (zone === undefined) throw fault(404, 'ERR_ZONE_NOT_FOUND', `no zone ${zoneName}`);
      const page = store.routePagesOfZone(zone.id, limit, { after }).next();
      const paths = page.done ? [] : page.value.routes.map((r) => r[0]);
      const active = new Map<string, Operation[]>();
      for (const op of store.operations({ zone: zone.name, active: true })) {
        active.set(op.path, [...(active.get(op.path) ?? []), op]);
      }
      const routes = paths.flatMap((path) => {
        const r = store.getRoute(zone.name, path);
        if (r === undefined) return [];
        const shares = r.policy === undefined ? [] : edgeShares(r.policy, r.targets);
        const ops = active.get(path) ?? [];
        return [
          {
            psarn: routePsarn(r, ns),
            path: r.path,
            ttl: r.ttl,
            ...(r.policy === undefined ? {} : { policy: r.policy }),
            ...(r.alias === undefined ? {} : { alias: r.alias, aliasPsarn: aliasPsarn(r.alias, ns) }),
            targets: r.targets.map((t, i) => ({ ...t, share: shares[i]!.share, role: shares[i]!.role })),
            metadata: r.metadata,
            serial: r.serial,
            updatedAt: r.updatedAt,
            ...(ops.some((o) => o.kind === 'rollout') ? { rollout: ops.find((o) => o.kind === 'rollout')!.id } : {}),
            ...(ops.some((o) => o.kind === 'hold') ? { hold: ops.find((o) => o.kind === 'hold')!.id } : {}),
          },
        ];
      });
      const total = this.#routeCount(store, zone.id, zone.name, zone.serial);
      const last = paths.length === limit ? paths[paths.length - 1] : undefined;
      return {
        zone: zone.name,
        serial: zone.serial,
        epoch: zone.epoch,
        total,
        routes,
        ...(last === undefined ? {} : { next: last }),
      };
    });
  }

  /** The active rollouts (step, gate, next due) and holds (queue, its depth when SQS answers). */
  async operations(store: Store): Promise<unknown> {
    const ns = this.#options.namespace;
    const rollouts = store.operations<RolloutState>({ kind: 'rollout', active: true }).map((op) => rolloutView(op, ns));
    const holds = await Promise.all(
      store.operations<HoldState>({ kind: 'hold', active: true }).map(async (h) => {
        const depth: QueueDepth | undefined = await this.#options.depths?.depth(h.state.queue);
        return {
          id: h.id,
          psarn: routePsarn(h, ns),
          zone: h.zone,
          path: h.path,
          queue: h.state.queue,
          since: new Date(h.createdAt).toISOString(),
          ...(h.actor === undefined ? {} : { heldBy: h.actor }),
          ...(h.state.pausedRollout === undefined ? {} : { pausedRollout: h.state.pausedRollout }),
          depth: depth ?? { unknown: 'queue depth not asked (psarnd runs without SQS access)', at: this.#now() },
        };
      }),
    );
    return { rollouts, holds };
  }

  graph(store: Store, query: URLSearchParams): unknown {
    const zone = query.has('zone') ? this.#zoneParam(query) : undefined;
    if (zone !== undefined && store.zone(zone) === undefined) throw fault(404, 'ERR_ZONE_NOT_FOUND', `no zone ${zone}`);
    const graph = store.read(() =>
      buildGraph(store, {
        namespace: this.#options.namespace,
        now: this.#now(),
        ...(zone === undefined ? {} : { zone }),
      }),
    );
    if (graph.nodes.length > GRAPH_NODES_MAX) {
      throw fault(
        422,
        'ERR_GRAPH_TOO_LARGE',
        `the graph has ${graph.nodes.length} nodes, more than ${GRAPH_NODES_MAX} the console draws; pick a zone (?zone=), or use psarn graph --format dot`,
      );
    }
    return graph;
  }

  /** Which callers of a route have its current answer (docs/design.md#change-confirmation). */
  callers(store: Store, query: URLSearchParams): unknown {
    const psarn = query.get('psarn');
    if (psarn === null || psarn === '') throw fault(400, 'ERR_BAD_REQUEST', 'give the route as ?psarn=<psARN>');
    let answer: ReturnType<typeof routeCallers>;
    try {
      answer = store.read(() =>
        routeCallers(store, psarn, {
          namespace: this.#options.namespace,
          epochTtl: this.#options.epochTtl(),
          now: this.#now(),
        }),
      );
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_ROUTE_NOT_FOUND' || code === 'ERR_ZONE_NOT_FOUND') {
        throw fault(404, 'ERR_ROUTE_NOT_FOUND', (err as Error).message);
      }
      if (code === 'ERR_INVALID_PSARN') throw fault(400, 'ERR_BAD_REQUEST', (err as Error).message);
      throw err;
    }
    const total = answer.callers.length;
    return total <= CALLERS_MAX
      ? { ...answer, total }
      : { ...answer, callers: answer.callers.slice(0, CALLERS_MAX), total };
  }

  #zoneParam(query: URLSearchParams): string {
    const zone = query.get('zone');
    if (zone === null || zone === '')
      throw fault(400, 'ERR_BAD_REQUEST', 'give the zone as ?zone=<zone name or psARN>');
    try {
      return parseZoneArg(zone, this.#options.namespace);
    } catch (err) {
      throw fault(400, 'ERR_BAD_REQUEST', (err as Error).message);
    }
  }
}

/** An integer query parameter within [min, max]; `fallback` when absent. */
function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = query.get(name);
  if (text === null) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw fault(400, 'ERR_BAD_REQUEST', `?${name}= must be an integer from ${min} to ${max}`);
  }
  return n;
}
