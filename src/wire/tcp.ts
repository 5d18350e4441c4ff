/** DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): a 2-byte big-endian length before each message. */

/** Prefixes a message with its length. @throws WireError over 65535 bytes. */
export function frame(_message: Buffer): Buffer {
  throw new Error('not implemented');
}

/**
 * Splits a TCP byte stream into messages. Push chunks as they arrive; each call returns the
 * complete messages found so far (zero or more), keeping a partial tail. Bounded: holds at
 * most one message (<= 65535 bytes) of partial data. A zero-length frame is returned as an
 * empty Buffer (the caller drops it).
 */
export class FrameDecoder {
  push(_chunk: Buffer): Buffer[] {
    throw new Error('not implemented');
  }
  /** Bytes of an incomplete message held. */
  get pending(): number {
    throw new Error('not implemented');
  }
}
