/** Hand-built DNS bytes for wire tests: each helper returns a Buffer piece to concatenate. */

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export interface HeaderSpec {
  id?: number;
  flags?: number;
  qd?: number;
  an?: number;
  ns?: number;
  ar?: number;
}

export function header(h: HeaderSpec = {}): Buffer {
  return Buffer.concat([
    u16(h.id ?? 0x1234),
    u16(h.flags ?? 0),
    u16(h.qd ?? 1),
    u16(h.an ?? 0),
    u16(h.ns ?? 0),
    u16(h.ar ?? 0),
  ]);
}

/** Uncompressed wire name from labels (strings as latin1); `[]` is the root. */
export function wname(...labels: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function pointer(offset: number): Buffer {
  return u16(0xc000 | offset);
}

export function question(name: Buffer, qtype = 256, qclass = 1): Buffer {
  return Buffer.concat([name, u16(qtype), u16(qclass)]);
}

export function rr(
  name: Buffer,
  type: number,
  klass: number,
  ttl: number,
  rdata: Buffer,
  rdlen = rdata.length,
): Buffer {
  return Buffer.concat([name, u16(type), u16(klass), u32(ttl), u16(rdlen), rdata]);
}

/** An OPT RR (RFC 6891 §6.1.2): TTL = extended rcode << 24 | version << 16 | DO << 15. */
export function opt(
  udpSize = 1232,
  o: { version?: number; do?: boolean; ext?: number; rdata?: Buffer; owner?: Buffer } = {},
): Buffer {
  const ttl = ((o.ext ?? 0) << 24) | ((o.version ?? 0) << 16) | (o.do ? 0x8000 : 0);
  return rr(o.owner ?? wname(), 41, udpSize, ttl, o.rdata ?? Buffer.alloc(0));
}

export const ZONE = ['123456789012', 'us-east-1', 'aws', 'psarn', 'internal'];
export const QNAME = wname('created', 'orders', ...ZONE);
/** A well-formed query: header + question for created.orders.<zone> URI, no EDNS. */
export function simpleQuery(extra: Partial<HeaderSpec> = {}, ...rest: Buffer[]): Buffer {
  return Buffer.concat([header({ qd: 1, ...extra }), question(QNAME), ...rest]);
}

/** A deterministic PRNG (mulberry32) so mutation tests replay. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
