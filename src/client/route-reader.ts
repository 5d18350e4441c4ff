/**
 * Reading a route out of one DNS reply (docs/design.md#records-at-a-routes-name). Pure: the resolver asks, this decides.
 * Outcomes are values (CoreDNS style): a route, a negative answer, SERVFAIL, or an unusable
 * answer with the reason.
 */

import { parseRouteTxt, TXT_VERSION } from '../psarn/txt.js';
import type { DecodedMessage, DecodedRecord } from '../wire/message.js';
import { rcodeName } from '../wire/mnemonics.js';
import type { SoaRecord, TxtRecord } from '../wire/types.js';
import { MAX_CNAME_CHAIN, Rcode } from '../wire/types.js';
import type { Policy, RouteTarget } from './types.js';

export interface TtlClamp {
  /** Seconds. */
  minTtl: number;
  maxTtl: number;
}

export type RouteAnswer =
  | {
      kind: 'route';
      /** The name the records were found at, after the CNAME chain. */
      finalName: string;
      policy: Policy;
      epoch: number;
      /** Seconds, clamped. */
      ttl: number;
      targets: RouteTarget[];
      /** Whether the route's TXT came with the URIs (psarnd adds it; a Knot or BIND secondary does not). */
      txt: boolean;
    }
  | {
      /**
       * The server followed the CNAME chain part way and stopped (Knot's own limit, or a target in
       * another zone): ask again for `next` (docs/design.md#clients-against-secondaries).
       */
      kind: 'chain';
      next: string;
      /** CNAMEs followed in this reply. */
      steps: number;
      /** Seconds, as received (not clamped): the smallest CNAME TTL of this reply. */
      ttl: number;
    }
  | {
      kind: 'negative';
      rcode: 'NXDOMAIN' | 'NODATA';
      /** Seconds, clamped; 0 (do not cache) when the reply had no SOA (RFC 2308 §5). */
      ttl: number;
      /** Owner of the SOA in authority: the zone that said no. */
      zone: string | undefined;
    }
  | { kind: 'servfail' }
  | { kind: 'bad'; reason: string };

export function clampTtl(ttl: number, clamp: TtlClamp): number {
  return Math.min(clamp.maxTtl, Math.max(clamp.minTtl, ttl));
}

/** 2^31: RFC 2181 §8 limits a TTL to 31 bits. */
const TTL_LIMIT = 0x8000_0000;

/**
 * A TTL as received, made safe to cache by. RFC 2181 §8: a TTL with the top bit set (>= 2^31)
 * is to be treated as 0, not as a huge lifetime; the clamp then raises it to minTtl at most.
 * The same rule applies to the SOA MINIMUM, which RFC 2308 §5 uses as a TTL.
 */
export function receivedTtl(ttl: number): number {
  return ttl >= TTL_LIMIT ? 0 : ttl;
}

/**
 * Reads the reply to a URI query for `name` (absolute, lowercase).
 * @example readRoute(reply, 'created.orders.123456789012.us-east-1.aws.psarn.internal.', { minTtl: 0, maxTtl: 172800 })
 */
export function readRoute(
  message: DecodedMessage,
  name: string,
  clamp: TtlClamp,
  budget: number = MAX_CNAME_CHAIN,
): RouteAnswer {
  if (message.rcode === Rcode.SERVFAIL) return { kind: 'servfail' };
  if (message.rcode !== Rcode.NOERROR && message.rcode !== Rcode.NXDOMAIN) {
    return { kind: 'bad', reason: `the server answered ${rcodeName(message.rcode)}` };
  }
  // RFC 1034 §3.6.2 / RFC 2181 §10.1: follow owner -> target through the answer section.
  let current = name.toLowerCase();
  let minTtl = Number.POSITIVE_INFINITY;
  let steps = 0;
  for (; ; steps++) {
    const cname = message.answer.find((r) => r.type === 'CNAME' && r.name === current);
    if (cname === undefined || !('target' in cname)) break;
    if (steps === budget) {
      return { kind: 'bad', reason: `CNAME chain from ${name} is longer than ${MAX_CNAME_CHAIN}` };
    }
    minTtl = Math.min(minTtl, receivedTtl(cname.ttl));
    current = cname.target;
  }
  const uris = message.answer.filter((r) => r.type === 'URI' && r.name === current);
  if (message.rcode === Rcode.NXDOMAIN || uris.length === 0) {
    // NXDOMAIN and NODATA are both "no route"; RFC 2308 §5: TTL = min(SOA TTL, SOA MINIMUM).
    const soa = message.authority.find((r): r is SoaRecord & { class: number } => r.type === 'SOA');
    const rcode = message.rcode === Rcode.NXDOMAIN ? 'NXDOMAIN' : 'NODATA';
    if (rcode === 'NODATA' && steps > 0 && soa === undefined) {
      // RFC 1034 §4.3.2 step 3a: the server stopped following (a chain over its limit, a loop,
      // a target outside its zones) and left the rest to the resolver, which restarts the query
      // at the last name (RFC 1034 §5.3.3); the caller bounds the whole chain and catches loops.
      return { kind: 'chain', next: current, steps, ttl: minTtl };
    }
    if (soa === undefined) return { kind: 'negative', rcode, ttl: 0, zone: undefined };
    const ttl = Math.min(minTtl, receivedTtl(soa.ttl), receivedTtl(soa.minimum));
    return { kind: 'negative', rcode, ttl: clampTtl(ttl, clamp), zone: soa.name };
  }
  const targets: RouteTarget[] = [];
  for (const r of uris) {
    if (r.type !== 'URI' || !('priority' in r)) continue;
    minTtl = Math.min(minTtl, receivedTtl(r.ttl));
    targets.push({ target: r.target, priority: r.priority, weight: r.weight });
  }
  let policy: Policy = 'weighted';
  let epoch = 0;
  const txt = routeTxt([...message.answer, ...message.additional], current);
  if (txt !== undefined) {
    try {
      const parsed = parseRouteTxt(txt.strings);
      policy = parsed.policy ?? 'weighted';
      epoch = parsed.epoch ?? 0;
    } catch (err) {
      return { kind: 'bad', reason: `route TXT at ${current}: ${(err as Error).message}` };
    }
    minTtl = Math.min(minTtl, receivedTtl(txt.ttl));
  }
  return {
    kind: 'route',
    finalName: current,
    policy,
    epoch,
    ttl: clampTtl(minTtl, clamp),
    targets,
    txt: txt !== undefined,
  };
}

/**
 * The route TXT at `owner` from the reply to its own TXT query, asked when a secondary served
 * the URIs without it (docs/design.md#clients-against-secondaries). No such TXT (NODATA,
 * NXDOMAIN, other TXT only) is a route without one: the defaults, as when psarnd sends none.
 * @example readRouteTxt(reply, name) // { kind: 'txt', policy: 'weighted', epoch: 3, ttl: 60 }
 */
export function readRouteTxt(
  message: DecodedMessage,
  owner: string,
): { kind: 'txt'; policy: Policy; epoch: number; ttl: number } | { kind: 'bad'; reason: string } {
  if (message.rcode !== Rcode.NOERROR && message.rcode !== Rcode.NXDOMAIN)
    return { kind: 'bad', reason: `the server answered ${rcodeName(message.rcode)} to the route TXT` };
  const txt = message.rcode === Rcode.NOERROR ? routeTxt(message.answer, owner) : undefined;
  if (txt === undefined) return { kind: 'txt', policy: 'weighted', epoch: 0, ttl: Number.POSITIVE_INFINITY };
  try {
    const parsed = parseRouteTxt(txt.strings);
    return { kind: 'txt', policy: parsed.policy ?? 'weighted', epoch: parsed.epoch ?? 0, ttl: receivedTtl(txt.ttl) };
  } catch (err) {
    return { kind: 'bad', reason: `route TXT at ${owner}: ${(err as Error).message}` };
  }
}

/** The route TXT (first string "v=psarn1") at `owner`; other TXT records there are not ours. */
function routeTxt(records: DecodedRecord[], owner: string): TxtRecord | undefined {
  for (const r of records) {
    if (r.type === 'TXT' && r.name === owner && 'strings' in r && r.strings.includes(TXT_VERSION)) return r;
  }
  return undefined;
}

/**
 * The epoch in the reply to `_epoch.<zone>` TXT (docs/design.md#the-epoch-override), or a reason it has none.
 * @example readEpoch(reply) // { kind: 'epoch', epoch: 3 }
 */
export function readEpoch(message: DecodedMessage): { kind: 'epoch'; epoch: number } | { kind: 'bad'; reason: string } {
  if (message.rcode !== Rcode.NOERROR)
    return { kind: 'bad', reason: `the server answered ${rcodeName(message.rcode)}` };
  for (const r of message.answer) {
    if (r.type !== 'TXT' || !('strings' in r)) continue;
    try {
      const { epoch } = parseRouteTxt(r.strings);
      if (epoch !== undefined) return { kind: 'epoch', epoch };
    } catch (err) {
      return { kind: 'bad', reason: (err as Error).message };
    }
  }
  return { kind: 'bad', reason: 'the _epoch answer has no epoch= TXT' };
}
