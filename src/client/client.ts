/**
 * PsarnClient: resolve a psARN, pick or fan out by the route's policy, invoke the targets.
 * @example
 * import { PsarnClient } from 'psarn-client';
 * const client = new PsarnClient({ servers: ['127.0.0.1:8053'] });
 * const result = await client.invoke('arn:aws:psarn:us-east-1:123456789012:orders/created', { id: 42 });
 */
import { type ClientErrorCode, PsarnClientError, type TargetFailure } from './errors.js';
import { defaultInvokers } from './invokers/index.js';
import type { InvokeResponse, Invoker } from './invokers/invoker.js';
import { ClientMetrics, type MetricsRegistry } from './metrics.js';
import { type ResolverOptions, RouteResolver } from './resolver.js';
import { fanoutTargets, NONE, pickWeighted } from './selection.js';
import { type Picker, pickSticky } from './sticky.js';
import { systemRandom } from './system.js';
import type { Random, Route, RouteTarget } from './types.js';

export interface PsarnClientOptions extends ResolverOptions {
  /** Invokers tried before the built-in ones (the first whose canInvoke matches wins). */
  invokers?: Invoker[];
  /** Options for the AWS SDK clients the built-in invokers create (region, credentials, endpoint, ...). */
  awsClientConfig?: Record<string, unknown>;
  /** Put the client metrics in this prom-client `Registry` (prom-client is loaded only then). */
  registry?: MetricsRegistry;
  /**
   * How a keyed call (`invoke(..., { key })`, `pick(route, key)`) chooses among a weighted
   * route's targets. Default pickSticky: weighted rendezvous hashing (docs/design.md#sticky-picks).
   */
  picker?: Picker;
}

export interface InvokeOptions {
  /** Lambda invocation type. Default RequestResponse. */
  invocationType?: 'RequestResponse' | 'Event';
  /** Per target, ms. */
  timeoutMs?: number;
  /**
   * Sticky key (a tenant, an order id): a weighted route picks by the `picker` (weighted
   * rendezvous hashing) instead of at random, so the same key gets the same target while the
   * route's weights hold, and its failover order is the same too. Fanout ignores it for picking.
   * Invokers receive it (a Kinesis target uses it as the PartitionKey).
   */
  key?: string;
}

/** One target's outcome. */
export type TargetOutcome =
  | { target: string; service: string; ok: true; response: InvokeResponse }
  | { target: string; service: string; ok: false; error: Error };

export interface InvokeResult {
  psarn: string;
  policy: Route['policy'];
  /** The route was served stale (no server answered). */
  stale: boolean;
  /** weighted: the attempts in order, the last one ok; fanout: every target with weight > 0. */
  outcomes: TargetOutcome[];
}

function isInvoker(value: unknown): value is Invoker {
  const v = value as Invoker;
  return typeof v?.service === 'string' && typeof v.canInvoke === 'function' && typeof v.invoke === 'function';
}

export class PsarnClient {
  readonly #resolver: RouteResolver;
  readonly #invokers: Invoker[];
  readonly #random: Random;
  readonly #picker: Picker;
  readonly #metrics: ClientMetrics | undefined;

  constructor(options: PsarnClientOptions = {}) {
    const { invokers = [], awsClientConfig, registry, picker = pickSticky, ...resolverOptions } = options;
    if (!Array.isArray(invokers) || !invokers.every(isInvoker)) {
      throw new PsarnClientError(
        'ERR_INVALID_OPTION',
        'invokers must be an array of { service, canInvoke(), invoke() }',
      );
    }
    if (registry !== undefined && typeof (registry as Partial<MetricsRegistry> | null)?.registerMetric !== 'function') {
      throw new PsarnClientError('ERR_INVALID_OPTION', 'registry must be a prom-client Registry');
    }
    if (typeof picker !== 'function') {
      throw new PsarnClientError(
        'ERR_INVALID_OPTION',
        'picker must be a function (targets, key, tried) => index, like pickSticky',
      );
    }
    this.#picker = picker;
    this.#metrics = registry === undefined ? undefined : new ClientMetrics(registry);
    this.#random = options.random ?? systemRandom;
    this.#resolver = new RouteResolver({
      ...resolverOptions,
      ...(this.#metrics !== undefined ? { metrics: this.#metrics } : {}),
    });
    this.#invokers = [
      ...invokers,
      ...defaultInvokers(awsClientConfig !== undefined ? { clientConfig: awsClientConfig } : {}),
    ];
  }

  /** The route of a psARN as this client sees it (cached, stale, ...). */
  resolve(psarn: string): Promise<Route> {
    return this.#resolver.resolve(psarn);
  }

  /**
   * The targets of a resolved route in the order `invoke(psarn, payload, { key })` would try them,
   * for callers who send the event themselves. weighted: the pick first, then its failovers
   * (drained targets left out); with a key, by the `picker` (the same every call), without one, at
   * random. fanout: every target with weight > 0, in route order (the key is ignored).
   * @example
   * const route = await client.resolve(psarn);
   * const [target, ...failovers] = client.pick(route, tenantId);
   * @throws PsarnClientError ERR_INVALID_OPTION when key is not a string or the picker misbehaves
   */
  pick(route: Route, key?: string): RouteTarget[] {
    if (route.policy === 'fanout') return fanoutTargets(route.targets);
    checkKey(key);
    const order: RouteTarget[] = [];
    const tried = new Set<number>();
    for (let i = this.#next(route, key, tried); i !== NONE; i = this.#next(route, key, tried)) {
      tried.add(i);
      order.push(route.targets[i]!);
    }
    return order;
  }

  /** The resolver, for cache state and query counts (`psarn resolve`, tests). */
  get resolver(): RouteResolver {
    return this.#resolver;
  }

  /**
   * Sends an event to a psARN. weighted: one target picked by weight from the lowest priority
   * group with untried targets (at random, or with `key` by the sticky picker), the next one
   * tried when it fails (failover); fanout: every
   * target with weight > 0 in parallel. Resolves when some target accepted the event, with every
   * outcome listed; rejects otherwise — an event is never dropped silently.
   * @throws PsarnClientError ERR_ALL_TARGETS_FAILED (with `failures`), and the errors of resolve()
   */
  async invoke(psarn: string, payload: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    checkKey(options.key);
    const route = await this.#resolver.resolve(psarn);
    const outcomes =
      route.policy === 'fanout'
        ? await this.#fanout(route, payload, options)
        : await this.#weighted(route, payload, options);
    if (!outcomes.some((o) => o.ok)) {
      const failures: TargetFailure[] = outcomes.flatMap((o) => (o.ok ? [] : [{ target: o.target, error: o.error }]));
      const detail = failures.map((f) => `${f.target}: ${f.error.message}`).join('; ');
      const code: ClientErrorCode = 'ERR_ALL_TARGETS_FAILED';
      throw new PsarnClientError(
        code,
        failures.length === 0
          ? `no target of ${route.psarn} can take the event: every target is drained (weight 0)`
          : `every target of ${route.psarn} failed: ${detail}`,
        { psarn: route.psarn, failures, cause: failures.at(-1)?.error },
      );
    }
    return { psarn: route.psarn, policy: route.policy, stale: route.stale, outcomes };
  }

  /** Adds an invoker ahead of the others. */
  registerInvoker(invoker: Invoker): void {
    if (!isInvoker(invoker)) {
      throw new PsarnClientError('ERR_INVALID_OPTION', 'an invoker needs service, canInvoke() and invoke()');
    }
    this.#invokers.unshift(invoker);
  }

  async #weighted(route: Route, payload: unknown, options: InvokeOptions): Promise<TargetOutcome[]> {
    const outcomes: TargetOutcome[] = [];
    const tried = new Set<number>();
    for (let i = this.#next(route, options.key, tried); i !== NONE; i = this.#next(route, options.key, tried)) {
      tried.add(i);
      const outcome = await this.#invokeOne(route, route.targets[i]!.target, payload, options);
      outcomes.push(outcome);
      if (outcome.ok) break;
    }
    return outcomes;
  }

  /** The next untried target of a weighted route: by the picker with a key, at random without. */
  #next(route: Route, key: string | undefined, tried: Set<number>): number {
    const { targets } = route;
    const first = tried.size === 0 ? undefined : tried;
    if (key === undefined) return pickWeighted(targets, this.#random, first);
    const i = this.#picker(targets, key, first);
    // A custom picker that repeats itself or goes out of range would loop or crash invoke.
    if (i !== NONE && (!Number.isInteger(i) || i < 0 || i >= targets.length || tried.has(i))) {
      throw new PsarnClientError(
        'ERR_INVALID_OPTION',
        `picker returned ${String(i)} for ${route.psarn} (${targets.length} targets, ${tried.size} tried): it must return an untried index or NONE (-1)`,
        { psarn: route.psarn },
      );
    }
    return i;
  }

  #fanout(route: Route, payload: unknown, options: InvokeOptions): Promise<TargetOutcome[]> {
    return Promise.all(fanoutTargets(route.targets).map((t) => this.#invokeOne(route, t.target, payload, options)));
  }

  async #invokeOne(route: Route, target: string, payload: unknown, options: InvokeOptions): Promise<TargetOutcome> {
    const invoker = this.#invokers.find((inv) => inv.canInvoke(target));
    if (invoker === undefined) {
      const error = new PsarnClientError(
        'ERR_NO_INVOKER',
        `no invoker handles target '${target}'; register one with registerInvoker()`,
        {
          psarn: route.psarn,
        },
      );
      this.#metrics?.invoked('none', target, 'error');
      return { target, service: 'none', ok: false, error };
    }
    const stop = this.#metrics?.invokeDuration.labels(invoker.service).startTimer();
    try {
      const response = await invoker.invoke({
        target,
        payload,
        psarn: route.psarn,
        ...(options.invocationType !== undefined ? { invocationType: options.invocationType } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.key !== undefined ? { key: options.key } : {}),
      });
      this.#metrics?.invoked(invoker.service, target, 'ok');
      return { target, service: invoker.service, ok: true, response };
    } catch (err) {
      this.#metrics?.invoked(invoker.service, target, 'error');
      const error = err instanceof Error ? err : new Error(String(err));
      return { target, service: invoker.service, ok: false, error };
    } finally {
      stop?.();
    }
  }
}

/**
 * A sticky key must be a string. Converting would hide mistakes: every object is
 * '[object Object]', so all tenants would share one target.
 */
function checkKey(key: unknown): asserts key is string | undefined {
  if (key !== undefined && typeof key !== 'string') {
    throw new PsarnClientError(
      'ERR_INVALID_OPTION',
      `invalid key ${String(key)} (${typeof key}): a sticky key is a string; use String(id)`,
    );
  }
}
