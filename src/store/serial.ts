/** RFC 1982 serial number arithmetic for SOA serials (SERIAL_BITS = 32). */

const MOD = 2 ** 32;
const HALF = 2 ** 31;

/**
 * The serial after `s`: s + 1 mod 2^32, skipping 0, because some secondaries treat serial 0 as
 * "unset" (RFC 1982 §7 notes the value is otherwise ordinary). `nextSerial(4294967295) === 1`.
 */
export function nextSerial(s: number): number {
  const n = (s + 1) % MOD;
  return n === 0 ? 1 : n;
}

/**
 * True when `a` is greater than `b` in RFC 1982 §3.2 terms: the forward distance from b to a is
 * between 1 and 2^31 - 1. Exactly 2^31 apart is undefined by the RFC; we answer false.
 */
export function serialGreater(a: number, b: number): boolean {
  const d = (((a - b) % MOD) + MOD) % MOD;
  return d > 0 && d < HALF;
}
