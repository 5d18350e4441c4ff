/** Values of the client library (docs/design.md#client-library). Times are Unix milliseconds from the injected clock. */

export type Policy = 'weighted' | 'fanout';

export interface RouteTarget {
  /** An ARN (`arn:...`) or an `https://` URL, byte-exact. */
  target: string;
  priority: number;
  weight: number;
}

/** A route as the client sees it. Frozen: the resolver hands the same object to every caller. */
export interface Route {
  /** The psARN asked for, canonical lowercase. */
  psarn: string;
  /** Its DNS name (absolute, lowercase). */
  name: string;
  policy: Policy;
  /** Seconds, after the minTtl/maxTtl clamp. */
  ttl: number;
  /** When the cached answer expires (ms). */
  expiresAt: number;
  /** The zone epoch the answer carried (docs/design.md#the-epoch-override). */
  epoch: number;
  /** True when served past its TTL because no server answered (RFC 8767). */
  stale: boolean;
  /** In the order the server gave them. */
  targets: RouteTarget[];
}

/** Unix milliseconds. Injected so tests of TTL expiry are exact. */
export type Clock = () => number;
/** Uniform in [0, 1). Injected so tests of weight splits are exact. */
export type Random = () => number;
