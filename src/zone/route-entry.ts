/**
 * The packed form of a target route: what the route-record encoder (route-wire.ts) reads, and
 * what the route index keeps for each route in its arena. Offsets are named here the way
 * wire/cursor.ts names the DNS header's; nothing else knows the layout.
 *
 *   body    TTL u32 | POLICY u8 | COUNT u16 | COUNT × target
 *   target  PRIORITY u16 | WEIGHT u16 | PREFIX u16 | SUFFIX_LEN u16 | suffix bytes
 *
 * A target's text is an interned prefix (its id in a prefix table; 0 is the empty prefix) then
 * its own suffix bytes (UTF-8): the index shares `arn:aws:lambda:us-east-1:123456789012:function:`
 * among every function of an account, and a body packed for one answer uses prefix 0 throughout.
 */
import type { RouteData } from '../store/types.js';
import { u16At } from '../wire/cursor.js';

/** Offsets in a route body. */
export const Body = {
  TTL: 0,
  POLICY: 4,
  COUNT: 5,
  /** The first target. */
  TARGETS: 7,
} as const;

/** Offsets in one target of a body. */
export const Target = {
  PRIORITY: 0,
  WEIGHT: 2,
  PREFIX: 4,
  SUFFIX_LEN: 6,
  /** The suffix bytes. */
  SUFFIX: 8,
} as const;

export const Policy = { WEIGHTED: 0, FANOUT: 1 } as const;

/** A body holds at most this many targets (COUNT is a u16). */
export const MAX_TARGETS = 0xffff;

/** Shorter prefixes are not worth an id. */
const MIN_PREFIX = 8;

/**
 * Where a target's prefix ends: just past its last ':' or '/' (`arn:aws:lambda:us-east-1:
 * 123456789012:function:`, `https://api.example.com/v1/`), or 0 when that prefix is too short to
 * be worth interning.
 */
export function prefixEnd(target: string): number {
  const cut = Math.max(target.lastIndexOf(':'), target.lastIndexOf('/')) + 1;
  return cut >= MIN_PREFIX ? cut : 0;
}

/** Writes a body's fixed part at `out[at]`. @returns the offset of its first target. */
export function writeBodyHead(out: Buffer, at: number, ttl: number, policy: number, count: number): number {
  out.writeUInt32BE(ttl, at + Body.TTL);
  out[at + Body.POLICY] = policy;
  out.writeUInt16BE(count, at + Body.COUNT);
  return at + Body.TARGETS;
}

/**
 * Writes one target at `out[at]`: `suffixLen` is Buffer.byteLength(suffix) (the caller sized
 * `out` with it). @returns the offset past it.
 */
export function writeTarget(
  out: Buffer,
  at: number,
  priority: number,
  weight: number,
  prefix: number,
  suffix: string,
  suffixLen: number,
): number {
  out.writeUInt16BE(priority, at + Target.PRIORITY);
  out.writeUInt16BE(weight, at + Target.WEIGHT);
  out.writeUInt16BE(prefix, at + Target.PREFIX);
  out.writeUInt16BE(suffixLen, at + Target.SUFFIX_LEN);
  out.write(suffix, at + Target.SUFFIX, suffixLen, 'utf8');
  return at + Target.SUFFIX + suffixLen;
}

export function policyCode(policy: string | null | undefined): number {
  return policy === 'fanout' ? Policy.FANOUT : Policy.WEIGHTED;
}

/** A route packed on its own (prefix 0, the empty prefix, for every target): the store path's input to the encoder. */
export function packRoute(route: RouteData): Buffer {
  const lengths = route.targets.map((t) => Buffer.byteLength(t.target, 'utf8'));
  let size = Body.TARGETS;
  for (const len of lengths) size += Target.SUFFIX + len;
  const out = Buffer.allocUnsafe(size);
  let p = writeBodyHead(out, 0, route.ttl, policyCode(route.policy), route.targets.length);
  route.targets.forEach((t, i) => {
    p = writeTarget(out, p, t.priority, t.weight, 0, t.target, lengths[i]!);
  });
  return out;
}

export function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** The size of the body at `buf[at]`. */
function bodySizeAt(buf: Uint8Array, at: number): number {
  const n = u16At(buf, at + Body.COUNT);
  let p = at + Body.TARGETS;
  for (let i = 0; i < n; i++) p += Target.SUFFIX + u16At(buf, p + Target.SUFFIX_LEN);
  return p - at;
}

/**
 * An index entry: the route's name below its zone apex (wire labels, lowercase), the zone's slot,
 * then the body. Offsets from the entry's start; ZONE and the body follow the name.
 */
export const Entry = {
  REL_LEN: 0,
  REL: 1,
  /** After the name: the zone slot, u16. */
  ZONE_AFTER_REL: 0,
  /** After the name: the body. */
  BODY_AFTER_REL: 2,
} as const;

/** Bytes before the body of an entry whose relative name is `relLen` bytes. */
export function entryHeadSize(relLen: number): number {
  return Entry.REL + relLen + Entry.BODY_AFTER_REL;
}

/** Offset of the body of the entry at `buf[at]`. */
export function entryBodyAt(buf: Uint8Array, at: number): number {
  return at + entryHeadSize(buf[at + Entry.REL_LEN]!);
}

/** Zone slot of the entry at `buf[at]`. */
export function entryZone(buf: Uint8Array, at: number): number {
  return u16At(buf, at + Entry.REL + buf[at + Entry.REL_LEN]! + Entry.ZONE_AFTER_REL);
}

/** Size of the entry at `buf[at]`. */
export function entrySizeAt(buf: Uint8Array, at: number): number {
  const body = entryBodyAt(buf, at);
  return body - at + bodySizeAt(buf, body);
}

/** Points the entry at `buf[at]` to another zone slot (a merge of parallel build parts). */
export function setEntryZone(buf: Buffer, at: number, slot: number): void {
  buf.writeUInt16BE(slot, at + Entry.REL + buf[at + Entry.REL_LEN]! + Entry.ZONE_AFTER_REL);
}

/**
 * Renumbers the prefix ids of the body at `buf[at]` through `map` (old id -> new id).
 * @returns false, part way through, when an id has no new number (the entry is then unusable).
 */
export function remapPrefixes(buf: Buffer, at: number, map: readonly (number | undefined)[]): boolean {
  const n = u16At(buf, at + Body.COUNT);
  let p = at + Body.TARGETS;
  for (let i = 0; i < n; i++) {
    const id = map[u16At(buf, p + Target.PREFIX)];
    if (id === undefined) return false;
    buf.writeUInt16BE(id, p + Target.PREFIX);
    p += Target.SUFFIX + u16At(buf, p + Target.SUFFIX_LEN);
  }
  return true;
}
