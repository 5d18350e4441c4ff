import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { type HandlerOptions, QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { addressBytes, writeServerCookie } from '../../src/wire/cookie.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Class, Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';
import { prng } from '../wire/build.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const ZONE = `
${zoneHead(Z)}
created.orders 300 IN URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:v1"
`;
const SECRET = Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex');
const CLIENT = Buffer.from('2464c4abcf10c957', 'hex');
const PEER = '198.51.100.100';
const NOW = 1559731985;
const NSID = 3;
const EXPIRE = 9;
const COOKIE = 10;
const EDE = 15;

function setup(options: Partial<HandlerOptions> = {}, view = new MemoryView(ZONE)) {
  let now = NOW;
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const handler = new QueryHandler({
    view,
    cache: new AnswerCache(),
    metrics,
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
    nsid: Buffer.from('sidecar-1'),
    cookieSecret: SECRET,
    wallSeconds: () => now,
    ...options,
  });
  return { handler, metrics, tick: (s: number) => (now += s) };
}

/** A query whose OPT carries `options` ([code, data] each), built on encodeQuery's OPT (last, rdlength 0). */
function query(
  name: string,
  qtype: number,
  options: [number, Buffer][],
  extra: { qclass?: number; udpSize?: number } = {},
): Buffer {
  const base = encodeQuery({ id: 7, name, qtype, edns: { udpSize: extra.udpSize ?? 1232 }, qclass: extra.qclass });
  const data = Buffer.concat(
    options.map(([code, d]) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(code, 0);
      head.writeUInt16BE(d.length, 2);
      return Buffer.concat([head, d]);
    }),
  );
  const out = Buffer.concat([base, data]);
  out.writeUInt16BE(data.length, base.length - 2);
  return out;
}

function options(reply: Buffer): Map<number, Buffer> {
  const m = decodeMessage(reply);
  assert.ok(m.edns, 'the reply has an OPT');
  return new Map(m.edns.options.map((o) => [o.code, o.data]));
}

const ROUTE = `created.orders.${Z}`;

describe('EDNS options: NSID (RFC 5001)', () => {
  it('names the server when asked, and only then', () => {
    const { handler } = setup();
    const asked = handler.handle(query(ROUTE, Type.URI, [[NSID, Buffer.alloc(0)]]), 'udp')!;
    assert.equal(options(asked).get(NSID)?.toString(), 'sidecar-1');
    assert.equal(decodeMessage(asked).answer.length, 1);
    const plain = handler.handle(query(ROUTE, Type.URI, []), 'udp')!;
    assert.equal(options(plain).size, 0);
  });

  it('ignores the payload of an NSID option in a query (RFC 5001 §2.3)', () => {
    const { handler } = setup();
    const reply = handler.handle(query(ROUTE, Type.URI, [[NSID, Buffer.from('xyz')]]), 'udp')!;
    assert.equal(options(reply).get(NSID)?.toString(), 'sidecar-1');
  });

  it('sends none when nsid is off', () => {
    const { handler } = setup({ nsid: undefined });
    const reply = handler.handle(query(ROUTE, Type.URI, [[NSID, Buffer.alloc(0)]]), 'udp')!;
    assert.equal(options(reply).has(NSID), false);
  });
});

describe('EDNS options: Extended DNS Errors (RFC 8914)', () => {
  const ede = (reply: Buffer) => {
    const data = options(reply).get(EDE);
    return data && { code: data.readUInt16BE(0), text: data.subarray(2).toString() };
  };

  it('explains a REFUSED for a name outside every zone with 20 Not Authoritative', () => {
    const { handler } = setup();
    const reply = handler.handle(query('example.com.', Type.A, []), 'udp')!;
    assert.equal(decodeMessage(reply).rcode, Rcode.REFUSED);
    assert.deepEqual(ede(reply), { code: 20, text: '' });
    // From the cache the second time: the same EDE.
    assert.deepEqual(ede(handler.handle(query('example.com.', Type.A, []), 'udp')!), { code: 20, text: '' });
  });

  it('explains a REFUSED for another class with 20 Not Authoritative', () => {
    const { handler } = setup();
    const reply = handler.handle(query(ROUTE, Type.TXT, [], { qclass: Class.CH }), 'udp')!;
    assert.equal(decodeMessage(reply).rcode, Rcode.REFUSED);
    assert.deepEqual(ede(reply), { code: 20, text: '' });
  });

  it('sends no OPT, so no EDE, to a query without EDNS', () => {
    const { handler } = setup();
    const reply = handler.handle(encodeQuery({ id: 1, name: 'example.com.', qtype: Type.A, edns: false }), 'udp')!;
    assert.equal(decodeMessage(reply).rcode, Rcode.REFUSED);
    assert.equal(decodeMessage(reply).edns, undefined);
  });

  it('explains an internal error with 0 Other and the error code, never its message', () => {
    const view = new MemoryView(ZONE);
    view.getRoute = () => {
      throw Object.assign(new Error('secret path /etc/psarn/key'), { code: 'ERR_STORE_READ' });
    };
    const { handler } = setup({}, view);
    const reply = handler.handle(query(ROUTE, Type.URI, []), 'udp')!;
    assert.equal(decodeMessage(reply).rcode, Rcode.SERVFAIL);
    assert.deepEqual(ede(reply), { code: 0, text: 'internal error (ERR_STORE_READ); see the server log' });
    assert.ok(!reply.toString('latin1').includes('secret'));
  });

  it('adds no EDE to a NOERROR or NXDOMAIN answer', () => {
    const { handler } = setup();
    assert.equal(options(handler.handle(query(ROUTE, Type.URI, []), 'udp')!).size, 0);
    const nx = handler.handle(query(`nope.${Z}`, Type.URI, []), 'udp')!;
    assert.equal(decodeMessage(nx).rcode, Rcode.NXDOMAIN);
    assert.equal(options(nx).size, 0);
  });
});

describe('EDNS options: EXPIRE (RFC 7314)', () => {
  it("sends the zone's SOA expire with an SOA answer when asked", () => {
    const { handler } = setup();
    const reply = handler.handle(query(Z, Type.SOA, [[EXPIRE, Buffer.alloc(0)]]), 'udp')!;
    assert.equal(options(reply).get(EXPIRE)?.readUInt32BE(0), 86400);
  });

  it('sends what expireFor says (a secondary: the time its copy has left)', () => {
    const { handler } = setup({ expireFor: (zone, soa) => (zone === Z ? soa - 100 : soa) });
    const reply = handler.handle(query(Z, Type.SOA, [[EXPIRE, Buffer.alloc(0)]]), 'udp')!;
    assert.equal(options(reply).get(EXPIRE)?.readUInt32BE(0), 86300);
  });

  it('sends none with another type, or when not asked', () => {
    const { handler } = setup();
    assert.equal(options(handler.handle(query(ROUTE, Type.URI, [[EXPIRE, Buffer.alloc(0)]]), 'udp')!).size, 0);
    assert.equal(options(handler.handle(query(Z, Type.SOA, []), 'udp')!).size, 0);
  });
});

describe('EDNS options: DNS Cookies (RFC 7873, RFC 9018)', () => {
  const expected = (at: number, peer = PEER) => {
    const out = Buffer.alloc(16);
    writeServerCookie(CLIENT, addressBytes(peer), SECRET, at, out, 0);
    return out;
  };

  it('echoes a client cookie with our server cookie (RFC 9018 Appendix A.1)', () => {
    const { handler } = setup();
    const reply = handler.handle(query(ROUTE, Type.URI, [[COOKIE, CLIENT]]), 'udp', PEER)!;
    const cookie = options(reply).get(COOKIE)!;
    assert.equal(cookie.toString('hex'), '2464c4abcf10c957010000005cf79f111f8130c3eee29480');
    assert.equal(decodeMessage(reply).answer.length, 1);
  });

  it('returns a valid server cookie as it came, and renews it past half an hour', () => {
    const { handler, tick } = setup();
    const sent = Buffer.concat([CLIENT, expected(NOW)]);
    tick(600);
    const again = options(handler.handle(query(ROUTE, Type.URI, [[COOKIE, sent]]), 'udp', PEER)!).get(COOKIE)!;
    assert.deepEqual(again, sent);
    tick(1201);
    const renewed = options(handler.handle(query(ROUTE, Type.URI, [[COOKIE, sent]]), 'udp', PEER)!).get(COOKIE)!;
    assert.deepEqual(renewed, Buffer.concat([CLIENT, expected(NOW + 1801)]));
  });

  it('answers a bad server cookie normally, with a fresh one (no BADCOOKIE)', () => {
    const { handler } = setup();
    const bad = Buffer.concat([CLIENT, Buffer.alloc(16, 1)]);
    const reply = handler.handle(query(ROUTE, Type.URI, [[COOKIE, bad]]), 'udp', PEER)!;
    assert.equal(decodeMessage(reply).rcode, Rcode.NOERROR);
    assert.equal(decodeMessage(reply).answer.length, 1);
    assert.deepEqual(options(reply).get(COOKIE), Buffer.concat([CLIENT, expected(NOW)]));
  });

  it('binds the server cookie to the address: another peer gets another one', () => {
    const { handler } = setup();
    const reply = handler.handle(query(ROUTE, Type.URI, [[COOKIE, CLIENT]]), 'udp', '192.0.2.7')!;
    assert.deepEqual(options(reply).get(COOKIE), Buffer.concat([CLIENT, expected(NOW, '192.0.2.7')]));
  });

  for (const [title, opts] of [
    ['a 7-byte cookie', [[COOKIE, Buffer.alloc(7)]]],
    ['a 12-byte cookie', [[COOKIE, Buffer.alloc(12)]]],
    ['a 41-byte cookie', [[COOKIE, Buffer.alloc(41)]]],
    [
      'two COOKIE options',
      [
        [COOKIE, CLIENT],
        [COOKIE, CLIENT],
      ],
    ],
  ] as [string, [number, Buffer][]][]) {
    it(`answers FORMERR to ${title} (RFC 7873 §5.2.2), with an OPT and no cookie`, () => {
      const { handler } = setup();
      const reply = handler.handle(query(ROUTE, Type.URI, opts), 'udp', PEER)!;
      const m = decodeMessage(reply);
      assert.equal(m.rcode, Rcode.FORMERR);
      assert.equal(m.answer.length, 0);
      assert.equal(options(reply).size, 0);
    });
  }

  it('ignores COOKIE options, even malformed ones, when cookies are off', () => {
    const { handler } = setup({ cookieSecret: undefined });
    const reply = handler.handle(query(ROUTE, Type.URI, [[COOKIE, Buffer.alloc(7)]]), 'udp', PEER)!;
    assert.equal(decodeMessage(reply).rcode, Rcode.NOERROR);
    assert.equal(options(reply).size, 0);
  });

  it('puts the cookie on error replies too (REFUSED with its EDE)', () => {
    const { handler } = setup();
    const reply = handler.handle(query('example.com.', Type.A, [[COOKIE, CLIENT]]), 'udp', PEER)!;
    const got = options(reply);
    assert.deepEqual(got.get(COOKIE), Buffer.concat([CLIENT, expected(NOW)]));
    assert.equal(got.get(EDE)?.readUInt16BE(0), 20);
  });
});

describe('EDNS options and the size limit', () => {
  it('keeps the cookie in a truncated reply, and drops NSID first', () => {
    const big = Array.from(
      { length: 40 },
      (_, i) => `created.orders 300 IN URI 10 ${i} "arn:aws:lambda:us-east-1:123456789012:function:v${i}"`,
    ).join('\n');
    const { handler } = setup({ nsid: Buffer.alloc(100, 0x61) }, new MemoryView(`${zoneHead(Z)}\n${big}`));
    const reply = handler.handle(
      query(
        ROUTE,
        Type.URI,
        [
          [NSID, Buffer.alloc(0)],
          [COOKIE, CLIENT],
        ],
        { udpSize: 512 },
      ),
      'udp',
      PEER,
    )!;
    assert.ok(reply.length <= 512);
    const m = decodeMessage(reply);
    assert.equal(m.tc, true);
    const got = options(reply);
    assert.equal(got.has(NSID), false);
    assert.equal(got.get(COOKIE)?.length, 24);
    // Over TCP it all fits: NSID too.
    const tcp = handler.handle(query(ROUTE, Type.URI, [[NSID, Buffer.alloc(0)]]), 'tcp', PEER)!;
    assert.equal(options(tcp).get(NSID)?.length, 100);
  });
});

describe('EDNS options: hostile option bytes', () => {
  it('a mutated option-carrying query never makes a SERVFAIL, and handle and handleInto agree', () => {
    const rand = prng(0xed5);
    const a = setup().handler;
    const b = setup().handler;
    const base = query(ROUTE, Type.URI, [
      [NSID, Buffer.alloc(0)],
      [COOKIE, Buffer.concat([CLIENT, Buffer.alloc(16, 9)])],
      [EXPIRE, Buffer.alloc(0)],
      [EDE, Buffer.from([0, 1])],
    ]);
    const slot = Buffer.alloc(65536);
    // The four options: 4 + 0, 4 + 24, 4 + 0, 4 + 2 bytes, at the end of the message.
    const optionsAt = base.length - 42;
    for (let round = 0; round < 3000; round++) {
      const q = Buffer.from(base);
      // Flip 1 to 3 bytes of the OPT's options and its RDLENGTH.
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
        const at = optionsAt - 2 + Math.floor(rand() * (q.length - optionsAt + 2));
        q[at] = Math.floor(rand() * 256);
      }
      const reply = a.handle(q, 'udp', PEER);
      const length = b.handleInto(q, 'udp', slot, 0, PEER);
      assert.deepEqual(reply === undefined ? -1 : reply, length < 0 ? -1 : slot.subarray(0, length), `round ${round}`);
      if (reply !== undefined) {
        const rcode = reply[3]! & 0x0f;
        assert.notEqual(rcode, Rcode.SERVFAIL, `round ${round}: ${q.toString('hex')}`);
      }
    }
  });
});
