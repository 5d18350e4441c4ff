import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, frame, frameAll, WireError } from '../../src/wire/index.js';

// Each at least a DNS header long (12 bytes); the shortest possible is one.
const messages = [Buffer.from('first message'), Buffer.alloc(12), Buffer.from('twelve bytes'), Buffer.alloc(300, 7)];
const stream = Buffer.concat(messages.map(frame));

describe('TCP framing (RFC 1035 §4.2.2)', () => {
  it('frameAll frames several messages back to back, as frame does one by one', () => {
    assert.deepEqual(frameAll(messages), stream);
    assert.deepEqual(frameAll([Buffer.from([1])]), frame(Buffer.from([1])));
    assert.deepEqual(frame(Buffer.alloc(0)), Buffer.from([0, 0]));
    assert.deepEqual(frameAll([]), Buffer.alloc(0));
    assert.throws(() => frameAll([Buffer.alloc(1), Buffer.alloc(65536)]), WireError);
  });

  it('frame prefixes the big-endian length and refuses over 65535 bytes', () => {
    assert.deepEqual(frame(Buffer.from([9, 8])), Buffer.from([0, 2, 9, 8]));
    assert.equal(frame(Buffer.alloc(65535)).length, 65537);
    assert.throws(() => frame(Buffer.alloc(65536)), WireError);
  });

  it('many messages in one chunk', () => {
    const d = new FrameDecoder();
    assert.deepEqual(d.push(stream), messages);
    assert.equal(d.pending, 0);
  });

  it('split into two chunks at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      assert.deepEqual(got, messages, `cut at ${cut}`);
      assert.equal(d.pending, 0);
    }
  });

  it('one byte at a time, reporting pending bytes inside a message', () => {
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...d.push(stream.subarray(i, i + 1)));
      if (i === 0) assert.equal(d.pending, 1, 'half a length prefix');
      if (i === 2) assert.equal(d.pending, 3, 'prefix and one byte');
    }
    assert.deepEqual(got, messages);
    assert.equal(d.pending, 0);
  });

  it('holds at most one message: a 65535-byte frame trickled in pieces', () => {
    const big = Buffer.alloc(65535, 0x5a);
    const framed = frame(big);
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < framed.length; i += 1000) {
      got.push(...d.push(framed.subarray(i, i + 1000)));
      assert.ok(d.pending <= 65537);
    }
    assert.equal(got.length, 1);
    assert.deepEqual(got[0], big);
  });

  // Issue 8, defect 5.5: such frames were returned (a 0-length one as an empty message), so a
  // peer sending them kept its connection busy forever.
  it('a frame shorter than a DNS header (0 to 11 bytes) throws at its length prefix', () => {
    for (let len = 0; len < 12; len++) {
      const d = new FrameDecoder();
      // Only the prefix has arrived: the decoder does not wait for the frame's bytes.
      assert.throws(
        () => d.push(Buffer.from([0, len])),
        (err: WireError) =>
          err.code === 'ERR_DNS_WIRE' && err.message === `TCP frame of ${len} bytes is shorter than a DNS header (12)`,
      );
    }
    // After a good message in the same chunk, and with the prefix split across chunks.
    assert.throws(
      () => new FrameDecoder().push(Buffer.concat([frame(Buffer.alloc(12)), Buffer.from([0, 0])])),
      WireError,
    );
    const split = new FrameDecoder();
    assert.deepEqual(split.push(Buffer.from([0])), []);
    assert.throws(() => split.push(Buffer.from([11])), WireError);
    assert.deepEqual(new FrameDecoder().push(Buffer.from([0, 12])), [], 'a 12-byte frame is waited for');
  });

  it('an empty push returns nothing', () => {
    assert.deepEqual(new FrameDecoder().push(Buffer.alloc(0)), []);
  });
});
