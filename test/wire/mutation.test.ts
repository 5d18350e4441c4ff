import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParsedQuery, Reply } from '../../src/wire/index.js';
import {
  assembleResponse,
  decodeMessage,
  encodeQuery,
  encodeReady,
  errorResponse,
  parseQuery,
  Rcode,
  WireError,
} from '../../src/wire/index.js';
import { header, opt, pointer, prng, rr, simpleQuery, u16, wname } from './build.js';

const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';
const ROUNDS = 4000;

const bases: [string, Buffer][] = [
  ['query with EDNS', encodeQuery({ id: 1, name: NAME, qtype: 256, edns: { do: true } })],
  ['query without EDNS', encodeQuery({ id: 2, name: NAME, qtype: 16, edns: false })],
  [
    'query with compressed RRs in additional',
    simpleQuery(
      { ar: 3 },
      rr(pointer(12), 1, 1, 60, Buffer.from([192, 0, 2, 1])),
      rr(
        Buffer.concat([Buffer.from([1, 0x78]), pointer(20)]),
        5,
        1,
        60,
        Buffer.concat([Buffer.from([1, 0x79]), pointer(12)]),
      ),
      opt(1232, { rdata: Buffer.concat([u16(10), u16(8), Buffer.alloc(8, 1)]) }),
    ),
  ],
];

function replyFor(q: ParsedQuery): Reply {
  return {
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [
      { name: q.qname, ttl: 60, type: 'URI', priority: 1, weight: 2, target: 'arn:aws:sqs:us-east-1:123456789012:q' },
      { name: q.qname, ttl: 60, type: 'CNAME', target: `x.${q.qname === '.' ? '' : q.qname}` },
    ],
    authority: [
      {
        name: q.qname,
        ttl: 1,
        type: 'SOA',
        mname: 'ns.psarn.internal.',
        rname: 'h.psarn.internal.',
        serial: 1,
        refresh: 2,
        retry: 3,
        expire: 4,
        minimum: 5,
      },
    ],
    additional: [{ name: q.qname, ttl: 60, type: 'TXT', strings: ['v=psarn1'] }],
  };
}

function mutate(buf: Buffer, rand: () => number): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  let out = Buffer.from(buf);
  const steps = 1 + int(3);
  for (let s = 0; s < steps; s++) {
    switch (int(6)) {
      case 0: // bit flip
        if (out.length > 0) out[int(out.length)]! ^= 1 << int(8);
        break;
      case 1: // truncation
        out = out.subarray(0, int(out.length + 1));
        break;
      case 2: {
        // insertion of random bytes
        const at = int(out.length + 1);
        const ins = Buffer.from(Array.from({ length: 1 + int(4) }, () => int(256)));
        out = Buffer.concat([out.subarray(0, at), ins, out.subarray(at)]);
        break;
      }
      case 3: // count edit
        if (out.length >= 12) out.writeUInt16BE(int(4) === 0 ? int(65536) : int(4), 4 + 2 * int(4));
        break;
      case 4: // a compression pointer somewhere
        if (out.length >= 2) out.writeUInt16BE(0xc000 | int(out.length + 4), int(out.length - 1));
        break;
      default: // random byte
        if (out.length > 0) out[int(out.length)] = int(256);
    }
  }
  return out;
}

describe('seeded mutations', () => {
  for (const [title, base] of bases) {
    it(`${title}: parseQuery never throws, replies built from it decode`, () => {
      assert.equal(parseQuery(base).kind, 'query');
      const rand = prng(0xc0ffee ^ base.length);
      const seen = new Set<string>();
      for (let i = 0; i < ROUNDS; i++) {
        const m = mutate(base, rand);
        const r = parseQuery(m);
        seen.add(r.kind);
        switch (r.kind) {
          case 'query': {
            const q = r.query;
            assert.ok(q.questionEnd <= m.length && q.key.length === q.questionEnd - 12);
            const ready = encodeReady(Buffer.from(q.key, 'latin1'), replyFor(q));
            const out = assembleResponse(m, q, ready, { maxSize: 65535, udpPayloadSize: 1232 });
            const d = decodeMessage(out.buf);
            assert.equal(d.answer[0]?.name, q.qname, `qname ${q.qname} survives encode/decode`);
            break;
          }
          case 'formerr': {
            const out = errorResponse(m, r.header, Rcode.FORMERR, {
              questionEnd: r.questionEnd,
              edns: r.edns,
              udpPayloadSize: 1232,
            });
            const d = decodeMessage(out);
            assert.equal(d.rcode, Rcode.FORMERR);
            assert.equal(d.question.length, r.questionEnd === undefined ? 0 : 1);
            break;
          }
          case 'notimp':
            assert.notEqual(r.header.opcode, 0);
            break;
          case 'drop':
            assert.ok(m.length < 12 || (m[2]! & 0x80) !== 0);
            break;
          default:
            assert.fail(`unknown kind ${JSON.stringify(r)}`);
        }
      }
      assert.ok(seen.has('formerr') && seen.has('query'), [...seen].join());
    });
  }

  it('decodeMessage returns or throws WireError, nothing else', () => {
    const q = parseQuery(bases[0]![1]);
    assert.equal(q.kind, 'query');
    const pq = (q as { query: ParsedQuery }).query;
    const reply = assembleResponse(bases[0]![1], pq, encodeReady(Buffer.from(pq.key, 'latin1'), replyFor(pq)), {
      maxSize: 65535,
      udpPayloadSize: 1232,
    }).buf;
    const rand = prng(42);
    let ok = 0;
    for (let i = 0; i < ROUNDS * 2; i++) {
      const m = mutate(reply, rand);
      try {
        decodeMessage(m);
        ok++;
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
      }
    }
    assert.ok(ok > 0 && ok < ROUNDS * 2, `${ok} of ${ROUNDS * 2} mutations decoded`);
  });

  it('a long pointer chain is cut by the jump limit', () => {
    // Each name is one label plus a pointer to the previous one: 40 nested names.
    const parts: Buffer[] = [];
    let at = 12 + wname('a').length + 4;
    let prev = 12;
    for (let i = 0; i < 40; i++) {
      const owner = Buffer.concat([Buffer.from([1, 0x62]), pointer(prev)]);
      parts.push(rr(owner, 1, 1, 0, Buffer.from([1, 2, 3, 4])));
      prev = at;
      at += owner.length + 14;
    }
    const r = parseQuery(Buffer.concat([header({ ar: 40 }), wname('a'), u16(1), u16(1), ...parts]));
    assert.equal(r.kind, 'formerr');
    assert.match(r.kind === 'formerr' ? r.reason : '', /too many compression pointers/);
    // The first 32 names are fine on their own.
    const ok = parseQuery(Buffer.concat([header({ ar: 32 }), wname('a'), u16(1), u16(1), ...parts.slice(0, 32)]));
    assert.equal(ok.kind, 'query');
  });
});
