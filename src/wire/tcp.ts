/** DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): a 2-byte big-endian length before each message. */
import { WireError } from './errors.js';

const PREFIX = 2;
const MAX_MESSAGE = 0xffff;
/** Every DNS message starts with a 12-byte header (RFC 1035 §4.1.1): a shorter frame is not one. */
const MIN_MESSAGE = 12;

/** Prefixes a message with its length. @throws WireError over 65535 bytes. */
export function frame(message: Buffer): Buffer {
  if (message.length > MAX_MESSAGE) {
    throw new WireError(`message of ${message.length} bytes exceeds the 65535 a TCP frame carries`);
  }
  const out = Buffer.allocUnsafe(PREFIX + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, PREFIX);
  return out;
}

/**
 * Several messages framed back to back in one buffer: the replies to one read of pipelined
 * queries go out in one write (RFC 7766 §6.2.1.1 lets replies share segments).
 */
export function frameAll(messages: readonly Buffer[]): Buffer {
  let total = 0;
  for (const message of messages) {
    if (message.length > MAX_MESSAGE) {
      throw new WireError(`message of ${message.length} bytes exceeds the 65535 a TCP frame carries`);
    }
    total += PREFIX + message.length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const message of messages) {
    out.writeUInt16BE(message.length, at);
    out.set(message, at + PREFIX);
    at += PREFIX + message.length;
  }
  return out;
}

/**
 * Splits a TCP byte stream into messages. Push chunks as they arrive; each call returns the
 * complete messages found so far (zero or more), keeping a partial tail. Bounded: holds at
 * most one message (<= 65535 bytes) of partial data. A length prefix under 12 (0 included)
 * cannot frame a DNS message: push throws at once, without waiting for the frame's bytes, and
 * the caller closes the connection (a peer sending such frames would otherwise keep it busy).
 *
 * A message wholly inside one chunk is returned as a view of that chunk (no copy); a message
 * split across chunks is copied once into a buffer of its exact length, so a peer trickling
 * one byte at a time costs linear, not quadratic, work.
 */
export class FrameDecoder {
  /** First length octet when a chunk ended between the two prefix octets; -1 otherwise. */
  #prefixHigh = -1;
  /** The message being filled, once its length is known and it spans chunks. */
  #partial: Buffer | undefined;
  #filled = 0;

  /** @throws WireError on a frame shorter than a DNS header; the stream cannot be trusted after it. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#partial) {
        const n = Math.min(this.#partial.length - this.#filled, chunk.length - pos);
        chunk.copy(this.#partial, this.#filled, pos, pos + n);
        this.#filled += n;
        pos += n;
        if (this.#filled === this.#partial.length) {
          out.push(this.#partial);
          this.#partial = undefined;
          this.#filled = 0;
        }
        continue;
      }
      let len: number;
      if (this.#prefixHigh >= 0) {
        len = (this.#prefixHigh << 8) | chunk[pos]!;
        this.#prefixHigh = -1;
        pos += 1;
      } else if (chunk.length - pos >= PREFIX) {
        len = chunk.readUInt16BE(pos);
        pos += PREFIX;
      } else {
        this.#prefixHigh = chunk[pos]!;
        pos += 1;
        break;
      }
      if (len < MIN_MESSAGE) {
        throw new WireError(`TCP frame of ${len} bytes is shorter than a DNS header (12)`, pos);
      }
      if (chunk.length - pos >= len) {
        out.push(chunk.subarray(pos, pos + len));
        pos += len;
      } else {
        this.#partial = Buffer.allocUnsafe(len);
        this.#filled = 0;
      }
    }
    return out;
  }

  /** Bytes of an incomplete message held, counting its length prefix: 0 between messages. */
  get pending(): number {
    if (this.#partial) return PREFIX + this.#filled;
    return this.#prefixHigh >= 0 ? 1 : 0;
  }
}
