/**
 * The one producer of a target route's records on the wire. Both paths that answer a route call
 * it: the route index with the body it keeps in its arena, and the store path (zone/encode.ts)
 * with a body packed for that one answer; so their bytes are the same by construction
 * (test/zone/route-index.test.ts still compares them, as a safety net).
 *
 * What a question gets (docs/design.md, "records at a route's name"):
 *   URI  the URI RRset, and the route TXT in the additional section (one round trip gives a
 *        client targets, policy and epoch);
 *   TXT  the route TXT;
 *   ANY  the URI RRset and the route TXT (RFC 8482 allows answering ANY with what is small).
 * Every owner is a compression pointer to the route's name already in the message (the question,
 * or the last CNAME's target); URI rdata is priority, weight, target bytes (RFC 7553 §4.5); the
 * TXT is three character-strings (RFC 1035 §3.3.14).
 */
import { routeTxtStrings } from '../psarn/txt.js';
import { RR_FIXED, u16At } from '../wire/cursor.js';
import { Class, Type } from '../wire/types.js';
import { Body, Policy, Target, u32 } from './route-entry.js';

/** A compression pointer's two top bits (RFC 1035 §4.1.4). */
const POINTER = 0xc000;
/** Owner pointer + type, class, TTL, rdlength. */
const RR_HEAD = 2 + RR_FIXED;
/** Priority and weight before the URI target. */
const URI_FIXED = 4;

const VERSION_TEXT = Buffer.from(routeTxtStrings('weighted', 0)[0]!);
const POLICY_TEXT: Record<number, Buffer> = {
  [Policy.WEIGHTED]: Buffer.from(routeTxtStrings('weighted', 0)[1]!),
  [Policy.FANOUT]: Buffer.from(routeTxtStrings('fanout', 0)[1]!),
};

/** The `epoch=<n>` character-string of a route TXT, made once per zone epoch by the caller. */
export function epochText(epoch: number): Buffer {
  return Buffer.from(routeTxtStrings('weighted', epoch)[2]!);
}

/** Whether a question of this type at a target route is answered by writeRouteRecords. */
export function isRouteQuestion(qtype: number): boolean {
  return qtype === Type.URI || qtype === Type.TXT || qtype === Type.ANY;
}

/** What writeRouteRecords wrote (reused between calls: no allocation per answer). */
export interface RouteRecords {
  /** Offset just past the last record. */
  end: number;
  ancount: number;
  arcount: number;
  /** Where the additional section starts (= end when there is none). */
  additionalAt: number;
}

/** Where a body's targets come from: its bytes, the offset of the body, and the prefix table. */
export interface RouteSource {
  buf: Uint8Array;
  at: number;
  /** Interned target prefixes by id; id 0 is the empty prefix. */
  prefixes: readonly Uint8Array[];
  /** The zone's `epoch=<n>` (epochText). */
  epoch: Uint8Array;
}

/** Bytes writeRouteRecords writes for `qtype`. */
export function routeRecordsLength(src: RouteSource, qtype: number): number {
  const { buf, at, prefixes } = src;
  let size = 0;
  if (qtype !== Type.TXT) {
    const n = u16At(buf, at + Body.COUNT);
    let p = at + Body.TARGETS;
    for (let i = 0; i < n; i++) {
      const suffixLen = u16At(buf, p + Target.SUFFIX_LEN);
      size += RR_HEAD + URI_FIXED + prefixes[u16At(buf, p + Target.PREFIX)]!.length + suffixLen;
      p += Target.SUFFIX + suffixLen;
    }
  }
  return size + RR_HEAD + txtLength(buf[at + Body.POLICY]!, src.epoch);
}

/**
 * Writes the records of a target route for `qtype` (URI, TXT or ANY) into `out` at `pos`, owners
 * pointing at offset `owner`. @returns false, having written nothing of use, when they do not
 * fit before the end of `out`.
 */
export function writeRouteRecords(
  out: Uint8Array,
  pos: number,
  owner: number,
  qtype: number,
  src: RouteSource,
  result: RouteRecords,
): boolean {
  const { buf, at, prefixes } = src;
  const ttl = u32(buf, at + Body.TTL);
  const policy = buf[at + Body.POLICY]!;
  const n = u16At(buf, at + Body.COUNT);
  let w = pos;
  if (qtype !== Type.TXT) {
    let p = at + Body.TARGETS;
    for (let i = 0; i < n; i++) {
      const prefix = prefixes[u16At(buf, p + Target.PREFIX)]!;
      const suffixLen = u16At(buf, p + Target.SUFFIX_LEN);
      const rdlen = URI_FIXED + prefix.length + suffixLen;
      if (w + RR_HEAD + rdlen > out.length) return false;
      w = rrHead(out, w, owner, Type.URI, ttl, rdlen);
      // Priority and weight are stored as the rdata has them.
      for (let j = 0; j < URI_FIXED; j++) out[w + j] = buf[p + Target.PRIORITY + j]!;
      w += URI_FIXED;
      out.set(prefix, w);
      w += prefix.length;
      const from = p + Target.SUFFIX;
      for (let j = 0; j < suffixLen; j++) out[w + j] = buf[from + j]!;
      w += suffixLen;
      p = from + suffixLen;
    }
  }
  const additionalAt = w;
  const policyText = POLICY_TEXT[policy]!;
  const rdlen = txtLength(policy, src.epoch);
  if (w + RR_HEAD + rdlen > out.length) return false;
  w = rrHead(out, w, owner, Type.TXT, ttl, rdlen);
  w = characterString(out, w, VERSION_TEXT);
  w = characterString(out, w, policyText);
  w = characterString(out, w, src.epoch);
  result.end = w;
  result.ancount = qtype === Type.URI ? n : qtype === Type.TXT ? 1 : n + 1;
  result.arcount = qtype === Type.URI ? 1 : 0;
  result.additionalAt = qtype === Type.URI ? additionalAt : w;
  return true;
}

function txtLength(policy: number, epoch: Uint8Array): number {
  return 3 + VERSION_TEXT.length + POLICY_TEXT[policy]!.length + epoch.length;
}

/** Owner pointer, type, class IN, TTL and rdlength at `w`. @returns the offset of the rdata. */
function rrHead(out: Uint8Array, w: number, owner: number, type: number, ttl: number, rdlen: number): number {
  const pointer = POINTER | owner;
  out[w] = pointer >>> 8;
  out[w + 1] = pointer & 0xff;
  out[w + 2] = type >>> 8;
  out[w + 3] = type & 0xff;
  out[w + 4] = Class.IN >>> 8;
  out[w + 5] = Class.IN & 0xff;
  out[w + 6] = ttl >>> 24;
  out[w + 7] = (ttl >>> 16) & 0xff;
  out[w + 8] = (ttl >>> 8) & 0xff;
  out[w + 9] = ttl & 0xff;
  out[w + 10] = rdlen >>> 8;
  out[w + 11] = rdlen & 0xff;
  return w + RR_HEAD;
}

function characterString(out: Uint8Array, w: number, text: Uint8Array): number {
  out[w] = text.length;
  out.set(text, w + 1);
  return w + 1 + text.length;
}
