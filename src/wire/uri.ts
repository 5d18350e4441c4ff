/** URI RR rdata (type 256, RFC 7553 §4.5): priority u16, weight u16, target bytes to rdata end. */

export interface UriData {
  priority: number;
  weight: number;
  target: string;
}

/** @throws WireError when priority/weight are outside 0..65535 or the target is empty. */
export function encodeUriRdata(_data: UriData): Buffer {
  throw new Error('not implemented');
}

/** @throws WireError when rdata is shorter than 5 bytes (the target must not be empty). */
export function decodeUriRdata(_rdata: Uint8Array): UriData {
  throw new Error('not implemented');
}
