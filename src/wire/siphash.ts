/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed hash
 * RFC 9018 §4.4 names for DNS server cookies. node:crypto has no SipHash and the project adds no
 * dependency for 60 lines, so it is written here (docs/design.md#edns-options). 64-bit words are
 * kept as two 32-bit halves in one Uint32Array: no BigInt (ten times slower) on a path every
 * cookie-carrying query takes.
 */

/** v0..v3 as [hi, lo] pairs: v0 = 0,1; v1 = 2,3; v2 = 4,5; v3 = 6,7. */
const v = new Uint32Array(8);
const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

/** v[a] += v[b] (mod 2^64). */
function add(a: number, b: number): void {
  const lo = v[a + 1]! + v[b + 1]!;
  v[a] = v[a]! + v[b]! + (lo > 0xffffffff ? 1 : 0);
  v[a + 1] = lo;
}

/** v[a] ^= v[b]. */
function xor(a: number, b: number): void {
  v[a] = v[a]! ^ v[b]!;
  v[a + 1] = v[a + 1]! ^ v[b + 1]!;
}

/** v[a] <<<= n, for 0 < n < 32. */
function rotl(a: number, n: number): void {
  const hi = v[a]!;
  const lo = v[a + 1]!;
  v[a] = (hi << n) | (lo >>> (32 - n));
  v[a + 1] = (lo << n) | (hi >>> (32 - n));
}

/** v[a] <<<= 32: swap the halves. */
function swap(a: number): void {
  const hi = v[a]!;
  v[a] = v[a + 1]!;
  v[a + 1] = hi;
}

function sipRound(): void {
  add(V0, V1);
  rotl(V1, 13);
  xor(V1, V0);
  swap(V0);
  add(V2, V3);
  rotl(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotl(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotl(V1, 17);
  xor(V1, V2);
  swap(V2);
}

/** Little-endian u32 of up to 4 bytes of `m` from `at`, stopping at `end`. */
function le32(m: Uint8Array, at: number, end: number): number {
  let x = 0;
  for (let i = Math.min(3, end - at - 1); i >= 0; i--) x = (x << 8) | m[at + i]!;
  return x >>> 0;
}

/** Mixes the message word (hi, lo) in: v3 ^= m; 2 rounds; v0 ^= m. */
function compress(hi: number, lo: number): void {
  v[V3] = v[V3]! ^ hi;
  v[V3 + 1] = v[V3 + 1]! ^ lo;
  sipRound();
  sipRound();
  v[V0] = v[V0]! ^ hi;
  v[V0 + 1] = v[V0 + 1]! ^ lo;
}

/**
 * SipHash-2-4 of `message` under the 16-byte `key`: 8 bytes, little-endian (the byte order of the
 * reference implementation, and of the Hash field of an RFC 9018 server cookie), written into
 * `out` at `outOffset` (default: a new Buffer).
 * @throws RangeError when the key is not 16 bytes
 * @example siphash24(Buffer.alloc(16), Buffer.from('abc'))
 */
export function siphash24(key: Uint8Array, message: Uint8Array, out?: Uint8Array, outOffset = 0): Uint8Array {
  if (key.length !== 16) throw new RangeError(`a SipHash key is 16 bytes, not ${key.length}`);
  const k0lo = le32(key, 0, 16);
  const k0hi = le32(key, 4, 16);
  const k1lo = le32(key, 8, 16);
  const k1hi = le32(key, 12, 16);
  // The initialisation constants "somepseudorandomlygeneratedbytes".
  v[V0] = k0hi ^ 0x736f6d65;
  v[V0 + 1] = k0lo ^ 0x70736575;
  v[V1] = k1hi ^ 0x646f7261;
  v[V1 + 1] = k1lo ^ 0x6e646f6d;
  v[V2] = k0hi ^ 0x6c796765;
  v[V2 + 1] = k0lo ^ 0x6e657261;
  v[V3] = k1hi ^ 0x74656462;
  v[V3 + 1] = k1lo ^ 0x79746573;
  const n = message.length;
  const whole = n - (n % 8);
  for (let i = 0; i < whole; i += 8) compress(le32(message, i + 4, n), le32(message, i, n));
  // The last word: the remaining 0-7 bytes, and the length mod 256 in the top byte.
  const lo = whole < n ? le32(message, whole, n) : 0;
  const hi = (whole + 4 < n ? le32(message, whole + 4, n) : 0) | ((n & 0xff) << 24);
  compress(hi >>> 0, lo);
  v[V2 + 1] = v[V2 + 1]! ^ 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  const rhi = (v[V0]! ^ v[V1]! ^ v[V2]! ^ v[V3]!) >>> 0;
  const rlo = (v[V0 + 1]! ^ v[V1 + 1]! ^ v[V2 + 1]! ^ v[V3 + 1]!) >>> 0;
  const target = out ?? Buffer.allocUnsafe(8);
  for (let i = 0; i < 4; i++) {
    target[outOffset + i] = (rlo >>> (8 * i)) & 0xff;
    target[outOffset + 4 + i] = (rhi >>> (8 * i)) & 0xff;
  }
  return target;
}
