/**
 * assembleResponse and errorResponse given `out` (ReplyTarget): the reply written into the
 * caller's buffer at an offset, byte for byte what the allocating form returns, and nothing
 * written when it does not fit. The handler-level comparison over many queries is in
 * test/server/handle-into.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assembleResponse,
  encodeQuery,
  encodeReady,
  errorResponse,
  type ParsedQuery,
  parseQuery,
  Rcode,
} from '../../src/wire/index.js';

const OWNER = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';
const GUARD = 0xee;

function query(edns: Parameters<typeof encodeQuery>[0]['edns']): { buf: Buffer; q: ParsedQuery } {
  const buf = encodeQuery({ id: 0x4242, name: OWNER, qtype: 256, rd: true, edns });
  const parsed = parseQuery(buf);
  assert.equal(parsed.kind, 'query');
  return { buf, q: (parsed as { query: ParsedQuery }).query };
}

/** Ten ~60-byte URI records: about 700 bytes, over 512 and under 1232. */
const ready = encodeReady(Buffer.from(query(false).q.key, 'latin1'), {
  rcode: Rcode.NOERROR,
  aa: true,
  answer: Array.from({ length: 10 }, (_, i) => ({
    name: OWNER,
    ttl: 300,
    type: 'URI' as const,
    priority: 10,
    weight: i,
    target: `arn:aws:lambda:us-east-1:123456789012:function:f${i}`,
  })),
  authority: [],
  additional: [],
});

describe('replies written into a given buffer', () => {
  for (const [label, edns, maxSize] of [
    ['whole, with EDNS', { udpSize: 1232, do: true }, 1232],
    ['whole, without EDNS, on TCP', false, 65535],
    ['truncated to 512 without EDNS', false, 512],
    ['truncated under a 600-byte EDNS size', { udpSize: 600 }, 600],
  ] as const) {
    it(`assembleResponse ${label}: the allocating form's bytes, in place`, () => {
      const { buf, q } = query(edns);
      const options = { maxSize, udpPayloadSize: 1232 };
      const expected = assembleResponse(buf, q, ready, options);
      const out = Buffer.alloc(4096, GUARD);
      const got = assembleResponse(buf, q, ready, { ...options, out, outOffset: 333 });
      assert.equal(got.truncated, expected.truncated);
      assert.equal(got.truncated, maxSize < 1000);
      assert.deepEqual(got.buf, expected.buf);
      // A view of `out`, not a copy: the bytes are where they were asked to go.
      assert.equal(got.buf.buffer, out.buffer);
      assert.equal(got.buf.byteOffset, out.byteOffset + 333);
      assert.ok(out.subarray(0, 333).every((b) => b === GUARD));
      assert.ok(out.subarray(333 + got.buf.length).every((b) => b === GUARD));
    });
  }

  it('errorResponse: with and without question and OPT, and BADVERS, the same bytes in place', () => {
    const { buf, q } = query({ udpSize: 1232, do: true });
    const cases = [
      [Rcode.FORMERR, { udpPayloadSize: 1232 }],
      [Rcode.REFUSED, { questionEnd: q.questionEnd, udpPayloadSize: 1232 }],
      [Rcode.SERVFAIL, { questionEnd: q.questionEnd, edns: q.edns!, udpPayloadSize: 1232 }],
      [Rcode.BADVERS, { questionEnd: q.questionEnd, udpPayloadSize: 1232 }],
    ] as const;
    for (const [rcode, options] of cases) {
      const expected = errorResponse(buf, q, rcode, options);
      const out = Buffer.alloc(512, GUARD);
      const got = errorResponse(buf, q, rcode, { ...options, out, outOffset: 7 });
      assert.deepEqual(got, expected, `rcode ${rcode}`);
      assert.equal(got.buffer, out.buffer);
      assert.ok(out.subarray(0, 7).every((b) => b === GUARD));
      assert.ok(out.subarray(7 + got.length).every((b) => b === GUARD));
    }
  });

  it('throws a RangeError and writes nothing when the reply does not fit', () => {
    const { buf, q } = query({ udpSize: 1232 });
    const out = Buffer.alloc(600, GUARD);
    assert.throws(
      () => assembleResponse(buf, q, ready, { maxSize: 1232, udpPayloadSize: 1232, out, outOffset: 100 }),
      RangeError,
    );
    // Past the end of the question, even with room for the header: Buffer#copy alone would stop short silently.
    assert.throws(
      () =>
        errorResponse(buf, q, Rcode.REFUSED, { questionEnd: q.questionEnd, udpPayloadSize: 1232, out, outOffset: 590 }),
      RangeError,
    );
    assert.throws(() => errorResponse(buf, q, Rcode.REFUSED, { udpPayloadSize: 1232, out, outOffset: -1 }), RangeError);
    assert.ok(out.every((b) => b === GUARD));
  });
});
