/**
 * PsarnClient: resolve a psARN, pick or fan out by the route's policy, invoke the targets.
 * @example
 * import { PsarnClient } from 'psarn';
 * const client = new PsarnClient({ servers: ['127.0.0.1:8053'] });
 * const result = await client.invoke('arn:aws:psarn:us-east-1:123456789012:orders/created', { id: 42 });
 */
import type { Registry } from 'prom-client';
import type { Invoker } from './invokers/invoker.js';
import type { ResolverOptions } from './resolver.js';
import type { Route } from './types.js';

export interface PsarnClientOptions extends ResolverOptions {
  /** Invokers tried before the built-in ones (first whose canInvoke matches wins). */
  invokers?: Invoker[];
  /** Options for the AWS SDK clients the built-in invokers create (region, credentials, ...). */
  awsClientConfig?: Record<string, unknown>;
  /** Put the client metrics in this registry. */
  registry?: Registry;
}

export interface InvokeOptions {
  /** Lambda invocation type. Default RequestResponse. */
  invocationType?: 'RequestResponse' | 'Event';
  /** Per target, ms. */
  timeoutMs?: number;
}

/** One target's outcome. */
export type TargetOutcome =
  | { target: string; service: string; ok: true; response: import('./invokers/invoker.js').InvokeResponse }
  | { target: string; service: string; ok: false; error: Error };

export interface InvokeResult {
  psarn: string;
  policy: Route['policy'];
  /** The route was served stale (no server answered). */
  stale: boolean;
  /** weighted: the attempts in order, the last one ok; fanout: every target with weight > 0. */
  outcomes: TargetOutcome[];
}

export class PsarnClient {
  constructor(_options: PsarnClientOptions = {}) {
    throw new Error('not implemented');
  }

  resolve(_psarn: string): Promise<Route> {
    throw new Error('not implemented');
  }

  /**
   * Sends an event to a psARN. weighted: one target picked by weight from the lowest priority
   * group with untried targets, failing over on error; fanout: every target with weight > 0 in
   * parallel. Resolves when some target accepted the event; rejects otherwise (never drops silently).
   * @throws PsarnClientError ERR_ALL_TARGETS_FAILED (with failures), and the resolve errors
   */
  invoke(_psarn: string, _payload: unknown, _options: InvokeOptions = {}): Promise<InvokeResult> {
    throw new Error('not implemented');
  }

  /** Adds an invoker ahead of the others. */
  registerInvoker(_invoker: Invoker): void {
    throw new Error('not implemented');
  }
}
