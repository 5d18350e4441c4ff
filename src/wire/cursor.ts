/**
 * Named header offsets (RFC 1035 §4.1.1) and a bounds-checked read cursor. Every read of
 * network bytes goes through `Cursor`, which throws WireError with the offset on overrun.
 */
import { WireError } from './errors.js';

/** Offsets inside the 12-byte header (RFC 1035 §4.1.1). */
export const Hdr = {
  ID: 0,
  FLAGS: 2,
  QDCOUNT: 4,
  ANCOUNT: 6,
  NSCOUNT: 8,
  ARCOUNT: 10,
  SIZE: 12,
} as const;

/** Bits of the 16-bit flags word (RFC 1035 §4.1.1; AD/CD from RFC 4035 §3.2). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  Z: 0x0040,
  AD: 0x0020,
  CD: 0x0010,
} as const;
export const OPCODE_SHIFT = 11;
export const OPCODE_MASK = 0xf;
export const RCODE_MASK = 0xf;

/**
 * The OPT RR's TTL field (RFC 6891 §6.1.3): the upper 8 bits of the 12-bit rcode, the EDNS
 * version, then the flags, of which only DO is defined (RFC 3225 §3).
 */
export const OptTtl = { EXT_RCODE_SHIFT: 24, VERSION_SHIFT: 16, DO: 0x8000 } as const;
/** The header holds the low 4 bits of the rcode, the OPT the rest (RFC 6891 §6.1.3). */
export const RCODE_HEADER_BITS = 4;

/** Question type and class after the name (RFC 1035 §4.1.2). */
export const QUESTION_FIXED = 4;
/** Fixed RR fields after the owner name: type, class, ttl, rdlength (RFC 1035 §4.1.3). */
export const RR_FIXED = 10;
/** The smallest possible RR: root owner plus the fixed fields. */
export const RR_MIN = 1 + RR_FIXED;

export class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    /** Reads must stay below this offset (an rdata end, or the message end). */
    public end = buf.length,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are readable. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new WireError(`truncated ${what}`, this.pos);
  }

  u8(what = 'octet'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const p = this.pos;
    this.pos = p + 2;
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Reads a u16 at a fixed offset the caller already bounds-checked (the header). */
export function u16At(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}
