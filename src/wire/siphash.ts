/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed hash
 * RFC 9018 §4.4 names for DNS server cookies. node:crypto has no SipHash and the project adds no
 * dependency for 100 lines, so it is written here (docs/design.md#edns-options). 64-bit words are
 * kept as two unsigned 32-bit halves in locals: no BigInt (ten times slower) on a path every
 * cookie-carrying query takes.
 */

/** Little-endian u32 of up to 4 bytes of `m` from `at`, stopping at `end`. */
function le32(m: Uint8Array, at: number, end: number): number {
  if (at + 4 <= end) return (m[at]! | (m[at + 1]! << 8) | (m[at + 2]! << 16) | (m[at + 3]! << 24)) >>> 0;
  let x = 0;
  for (let i = Math.min(3, end - at - 1); i >= 0; i--) x = (x << 8) | m[at + i]!;
  return x >>> 0;
}

/**
 * SipHash-2-4 of `message` under the 16-byte `key`: 8 bytes, little-endian (the byte order of the
 * reference implementation, and of the Hash field of an RFC 9018 server cookie), written into
 * `out` at `outOffset` (default: a new Buffer).
 * @throws RangeError when the key is not 16 bytes
 * @example siphash24(Buffer.alloc(16), Buffer.from('abc'))
 */
export function siphash24(
  key: Uint8Array,
  message: Uint8Array,
  out?: Uint8Array,
  outOffset = 0,
  /** Hash only the first `length` bytes of `message` (no subarray to make). */
  length = message.length,
): Uint8Array {
  if (key.length !== 16) throw new RangeError(`a SipHash key is 16 bytes, not ${key.length}`);
  const k0lo = le32(key, 0, 16);
  const k0hi = le32(key, 4, 16);
  const k1lo = le32(key, 8, 16);
  const k1hi = le32(key, 12, 16);
  // The initialisation constants "somepseudorandomlygeneratedbytes".
  let v0h = (k0hi ^ 0x736f6d65) >>> 0;
  let v0l = (k0lo ^ 0x70736575) >>> 0;
  let v1h = (k1hi ^ 0x646f7261) >>> 0;
  let v1l = (k1lo ^ 0x6e646f6d) >>> 0;
  let v2h = (k0hi ^ 0x6c796765) >>> 0;
  let v2l = (k0lo ^ 0x6e657261) >>> 0;
  let v3h = (k1hi ^ 0x74656462) >>> 0;
  let v3l = (k1lo ^ 0x79746573) >>> 0;
  const n = length;
  // The last word holds the 0-7 remaining bytes and the length mod 256 in its top byte.
  const words = (n >>> 3) + 1;
  // One loop over the words, then one more step for the finalisation: the SipRound is written
  // once, on locals (V8 keeps them in registers; a typed array or calls cost 3x).
  for (let w = 0; w <= words; w++) {
    let mh = 0;
    let ml = 0;
    let rounds = 4;
    if (w < words) {
      const at = w * 8;
      ml = at < n ? le32(message, at, n) : 0;
      mh = at + 4 < n ? le32(message, at + 4, n) : 0;
      if (w === words - 1) mh = (mh | ((n & 0xff) << 24)) >>> 0;
      v3h = (v3h ^ mh) >>> 0;
      v3l = (v3l ^ ml) >>> 0;
      rounds = 2;
    } else {
      v2l = (v2l ^ 0xff) >>> 0;
    }
    for (let r = 0; r < rounds; r++) {
      let lo: number;
      let t: number;
      // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
      lo = v0l + v1l;
      v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      v0l = lo >>> 0;
      t = v1h;
      v1h = ((v1h << 13) | (v1l >>> 19)) >>> 0;
      v1l = ((v1l << 13) | (t >>> 19)) >>> 0;
      v1h = (v1h ^ v0h) >>> 0;
      v1l = (v1l ^ v0l) >>> 0;
      t = v0h;
      v0h = v0l;
      v0l = t;
      // v2 += v3; v3 <<<= 16; v3 ^= v2
      lo = v2l + v3l;
      v2h = (v2h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      v2l = lo >>> 0;
      t = v3h;
      v3h = ((v3h << 16) | (v3l >>> 16)) >>> 0;
      v3l = ((v3l << 16) | (t >>> 16)) >>> 0;
      v3h = (v3h ^ v2h) >>> 0;
      v3l = (v3l ^ v2l) >>> 0;
      // v0 += v3; v3 <<<= 21; v3 ^= v0
      lo = v0l + v3l;
      v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      v0l = lo >>> 0;
      t = v3h;
      v3h = ((v3h << 21) | (v3l >>> 11)) >>> 0;
      v3l = ((v3l << 21) | (t >>> 11)) >>> 0;
      v3h = (v3h ^ v0h) >>> 0;
      v3l = (v3l ^ v0l) >>> 0;
      // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
      lo = v2l + v1l;
      v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      v2l = lo >>> 0;
      t = v1h;
      v1h = ((v1h << 17) | (v1l >>> 15)) >>> 0;
      v1l = ((v1l << 17) | (t >>> 15)) >>> 0;
      v1h = (v1h ^ v2h) >>> 0;
      v1l = (v1l ^ v2l) >>> 0;
      t = v2h;
      v2h = v2l;
      v2l = t;
    }
    if (w < words) {
      v0h = (v0h ^ mh) >>> 0;
      v0l = (v0l ^ ml) >>> 0;
    }
  }
  const rhi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  const rlo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  const target = out ?? Buffer.allocUnsafe(8);
  for (let i = 0; i < 4; i++) {
    target[outOffset + i] = (rlo >>> (8 * i)) & 0xff;
    target[outOffset + 4 + i] = (rhi >>> (8 * i)) & 0xff;
  }
  return target;
}
