/**
 * QueryHandler.handleInto (the reply written into the native carrier's send slot) against
 * handle (a new Buffer per reply): the same bytes for every query, over thousands of seeded
 * queries of every outcome — answers, truncation (RFC 2181 §9), NXDOMAIN, REFUSED, BADVERS,
 * NOTIMP, FORMERR, SERVFAIL, drops — and not one byte written outside the reply's span.
 * Two handlers over two equal views see the same queries in the same order, so their caches
 * agree at every step and both the miss and the hit paths are compared.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics, type Proto } from '../../src/server/metrics.js';
import { Flag, Hdr, RCODE_MASK } from '../../src/wire/cursor.js';
import { encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';
import { prng } from '../wire/build.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const SEED = Number(process.env.PSARN_TEST_SEED ?? 0x1a7051);
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
/** `count` targets of ~70 bytes each under `owner`. */
const fleet = (owner: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${owner} 300 IN URI 10 1 "${LAMBDA}fleet-member-${i}"`).join('\n');
const ZONE = `
${zoneHead(Z)}
created.orders 300 IN URI 10 90 "${LAMBDA}v1"
created.orders 300 IN URI 10 10 "${LAMBDA}v2"
latest.orders 300 IN CNAME created.orders
${fleet('medium.fleet', 12)}
${fleet('big.fleet', 40)}
`;
/** Names of every kind: routes, an alias, truncated ones (over 512, over 1232), missing, apex, out of zone. */
const NAMES = [
  `created.orders.${Z}`,
  `latest.orders.${Z}`,
  `medium.fleet.${Z}`,
  `big.fleet.${Z}`,
  `nothing.here.${Z}`,
  `orders.${Z}`,
  `_epoch.${Z}`,
  Z,
  'example.com.',
];
const QTYPES = [Type.URI, Type.TXT, Type.A, Type.SOA, Type.NS, Type.CNAME, Type.ANY, 0, 99];
const EDNS = [false, { udpSize: 512 }, { udpSize: 1232 }, { udpSize: 4096, do: true }, { version: 1 }] as const;

function handlerFor(view: MemoryView): QueryHandler {
  return new QueryHandler({
    view,
    cache: new AnswerCache(),
    metrics: new DaemonMetrics({ defaultMetrics: false }),
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
  });
}

/** A random case for each letter: the reply echoes it, and the cache must still hit. */
function randomCase(name: string, rand: () => number): string {
  return [...name].map((c) => (rand() < 0.5 ? c.toUpperCase() : c)).join('');
}

/** A seeded query: mostly well formed, a share with an odd opcode, class, QDCOUNT, or bytes flipped. */
function randomQuery(rand: () => number, id: number): Buffer {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const query = encodeQuery({
    id,
    name: randomCase(pick(NAMES), rand),
    qtype: pick(QTYPES),
    qclass: rand() < 0.1 ? 3 : 1,
    rd: rand() < 0.5,
    edns: pick(EDNS),
  });
  const roll = rand();
  if (roll < 0.025)
    query[2] = (query[2]! & ~0x78) | (2 << 3); // opcode STATUS: NOTIMP
  else if (roll < 0.05)
    query[2] = (query[2]! & ~0x78) | (4 << 3); // opcode NOTIFY: NOTAUTH (a primary)
  else if (roll < 0.1)
    query.writeUInt16BE(2, Hdr.QDCOUNT); // FORMERR
  else if (roll < 0.2) {
    for (let k = 0; k < 3; k++) query[Math.floor(rand() * query.length)] = Math.floor(rand() * 256);
  } else if (roll < 0.23) return query.subarray(0, Math.floor(rand() * query.length));
  return query;
}

/** What a reply is, for the coverage check: its rcode (BADVERS from the OPT), TC, or a drop. */
function outcome(reply: Buffer | undefined): string {
  if (reply === undefined) return 'drop';
  const flags = reply.readUInt16BE(Hdr.FLAGS);
  if (flags & Flag.TC) return 'truncated';
  const low = flags & RCODE_MASK;
  // BADVERS is 16: its high bits ride in the OPT's TTL, which is the last RR of an error reply.
  const opt = reply.length - 11;
  if (low === 0 && opt >= Hdr.SIZE && reply.readUInt16BE(opt + 1) === Type.OPT && reply[opt + 5] === 1)
    return 'rcode16';
  return `rcode${low}`;
}

/** Answers every query with both handlers and checks the bytes; returns how often each outcome came. */
function compare(allocating: QueryHandler, writing: QueryHandler, queries: Buffer[]): Map<string, number> {
  // Guard bytes all around: a write outside [offset, offset + length) changes one of them.
  const GUARD = 0xee;
  const out = Buffer.alloc(70_000, GUARD);
  const clean = Buffer.alloc(out.length, GUARD);
  const seen = new Map<string, number>();
  const rand = prng(SEED ^ 0xffff);
  for (const [n, query] of queries.entries()) {
    const proto: Proto = n % 3 === 0 ? 'tcp' : 'udp';
    const offset = Math.floor(rand() * 4096);
    const expected = allocating.handle(query, proto);
    const length = writing.handleInto(query, proto, out, offset);
    const what = `query ${n} (seed ${SEED}, ${proto}, ${query.toString('hex')})`;
    if (expected === undefined) {
      assert.equal(length, -1, `${what}: handle dropped it, handleInto wrote ${length} bytes`);
    } else {
      assert.equal(length, expected.length, what);
      assert.deepEqual(out.subarray(offset, offset + length), expected, what);
    }
    const end = offset + Math.max(length, 0);
    assert.ok(out.subarray(0, offset).equals(clean.subarray(0, offset)), `${what}: wrote before its offset`);
    assert.ok(out.subarray(end).equals(clean.subarray(end)), `${what}: wrote past its length`);
    out.fill(GUARD, offset, end);
    const kind = outcome(expected);
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
  }
  return seen;
}

describe('QueryHandler.handleInto', () => {
  it('writes the bytes handle returns, for 4,000 seeded queries of every outcome', () => {
    const rand = prng(SEED);
    const queries = Array.from({ length: 4000 }, (_, i) => randomQuery(rand, i & 0xffff));
    const seen = compare(handlerFor(new MemoryView(ZONE)), handlerFor(new MemoryView(ZONE)), queries);
    // The comparison means something only if every kind of reply came up.
    for (const kind of ['drop', 'truncated', 'rcode0', 'rcode1', 'rcode3', 'rcode4', 'rcode5', 'rcode9', 'rcode16']) {
      assert.ok((seen.get(kind) ?? 0) > 0, `no ${kind} reply among the queries: ${JSON.stringify([...seen])}`);
    }
  });

  it('writes the same SERVFAIL as handle when answering throws', () => {
    const failing = () => {
      const view = new MemoryView(ZONE);
      view.getRoute = () => {
        throw new Error('store read failed');
      };
      return handlerFor(view);
    };
    const rand = prng(SEED + 1);
    const queries = NAMES.flatMap((name) =>
      EDNS.map((edns, i) => encodeQuery({ id: i, name: randomCase(name, rand), qtype: Type.URI, edns })),
    );
    const seen = compare(failing(), failing(), queries);
    assert.ok((seen.get('rcode2') ?? 0) > 0, JSON.stringify([...seen]));
  });

  it('answers SERVFAIL, within the buffer, when the reply does not fit where it was asked to go', () => {
    const handler = handlerFor(new MemoryView(ZONE));
    const query = encodeQuery({ id: 7, name: `big.fleet.${Z}`, qtype: Type.URI, edns: { udpSize: 4096 } });
    const out = Buffer.alloc(200, 0xee);
    const length = handler.handleInto(query, 'tcp', out, 100);
    // Header + question + OPT of a SERVFAIL fit in the 100 bytes left; the 2.8 KB answer did not.
    assert.ok(length > 0 && 100 + length <= out.length, `length ${length}`);
    assert.equal(out.readUInt16BE(100 + Hdr.FLAGS) & RCODE_MASK, Rcode.SERVFAIL);
    assert.ok(out.subarray(0, 100).every((b) => b === 0xee));
    // The handler is not left writing there: the next handle allocates.
    const next = handler.handle(query, 'tcp')!;
    assert.equal(next.readUInt16BE(Hdr.FLAGS) & RCODE_MASK, Rcode.NOERROR);
    assert.notEqual(next.buffer, out.buffer);
  });
});
