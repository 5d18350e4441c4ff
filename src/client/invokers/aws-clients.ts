/**
 * AWS SDK clients, created lazily and once per service and region: an SDK client holds a
 * keep-alive connection pool and resolved credentials, so one per call would be wasteful, and
 * one per service would send every call to a single region.
 */
import { type InvokeRequest, type InvokeResponse, type Invoker, parseArn } from './invoker.js';

/** What every AWS invoker takes. */
export interface AwsInvokerOptions {
  /**
   * Passed to each SDK client constructor, with `region` set from the target's ARN. Left empty,
   * the clients follow the SDK's own configuration (credential chain, AWS_ENDPOINT_URL*, retries).
   */
  clientConfig?: Record<string, unknown>;
  /** Share one cache between invokers (defaultInvokers does), e.g. to destroy them all at shutdown. */
  clients?: AwsClientCache;
}

/** The SDK client surface we use: `destroy()` closes its sockets. */
interface Destroyable {
  destroy?: () => void;
}

export class AwsClientCache {
  readonly #config: Record<string, unknown>;
  readonly #clients = new Map<string, unknown>();
  #created = 0;

  constructor(clientConfig: Record<string, unknown> = {}) {
    this.#config = { ...clientConfig };
  }

  /** The caller's client config (read by the SQS invoker to see whether an endpoint is set). */
  get clientConfig(): Readonly<Record<string, unknown>> {
    return this.#config;
  }

  /** SDK clients constructed so far; one per service and region in use. */
  get created(): number {
    return this.#created;
  }

  /**
   * The client for `service` in `region`, made by `make({ ...clientConfig, region })` on first use.
   * The ARN's region wins over a `region` in clientConfig: the resource lives there, and a Lambda
   * or SQS call sent to another region fails. clientConfig's region is used only when the ARN has none.
   */
  client<C>(service: string, region: string, make: (config: Record<string, unknown>) => C): C {
    const key = `${service}\u0000${region}`;
    let client = this.#clients.get(key) as C | undefined;
    if (client === undefined) {
      client = make({ ...this.#config, region: region || this.#config.region });
      this.#clients.set(key, client);
      this.#created++;
    }
    return client;
  }

  /** Closes every client's connections and forgets them (the next call creates new ones). */
  destroy(): void {
    for (const client of this.#clients.values()) (client as Destroyable).destroy?.();
    this.#clients.clear();
  }
}

/**
 * What the AWS invokers share: the client cache (one SDK client per service and region) and
 * `canInvoke` by the ARN's service field. Each subclass names its service and makes the call.
 */
export abstract class AwsInvoker implements Invoker {
  abstract readonly service: string;
  protected readonly clients: AwsClientCache;

  constructor(options: AwsInvokerOptions = {}) {
    this.clients = options.clients ?? new AwsClientCache(options.clientConfig);
  }

  canInvoke(target: string): boolean {
    return parseArn(target)?.service === this.service;
  }

  abstract invoke(request: InvokeRequest): Promise<InvokeResponse>;
}
