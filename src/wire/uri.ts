/** URI RR rdata (type 256, RFC 7553 §4.5): priority u16, weight u16, target bytes to rdata end. */
import { WireError } from './errors.js';

export interface UriData {
  priority: number;
  weight: number;
  target: string;
}

/** Priority and weight precede the target (RFC 7553 §4.5). */
const URI_FIXED = 4;
const U16_MAX = 0xffff;
/** The target must survive a round trip byte for byte, so invalid UTF-8 is an error, not U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** @throws WireError when priority/weight are outside 0..65535 or the target is empty. */
export function encodeUriRdata(data: UriData): Buffer {
  checkU16('priority', data.priority);
  checkU16('weight', data.weight);
  if (data.target.length === 0) throw new WireError('URI target is empty (RFC 7553 §4.4 requires one)');
  const targetLen = Buffer.byteLength(data.target, 'utf8');
  if (URI_FIXED + targetLen > U16_MAX) throw new WireError(`URI target of ${targetLen} bytes does not fit an RR`);
  const out = Buffer.allocUnsafe(URI_FIXED + targetLen);
  out.writeUInt16BE(data.priority, 0);
  out.writeUInt16BE(data.weight, 2);
  out.write(data.target, URI_FIXED, 'utf8');
  return out;
}

/** @throws WireError when rdata is shorter than 5 bytes (the target must not be empty). */
export function decodeUriRdata(rdata: Uint8Array): UriData {
  if (rdata.length <= URI_FIXED) throw new WireError(`URI rdata of ${rdata.length} bytes; at least 5 needed`, 0);
  let target: string;
  try {
    target = strictUtf8.decode(rdata.subarray(URI_FIXED));
  } catch (cause) {
    throw new WireError('URI target is not valid UTF-8', URI_FIXED, { cause });
  }
  return { priority: (rdata[0]! << 8) | rdata[1]!, weight: (rdata[2]! << 8) | rdata[3]!, target };
}

function checkU16(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > U16_MAX) throw new WireError(`URI ${field} ${v} is outside 0..65535`);
}
