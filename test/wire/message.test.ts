import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { decodeMessage, encodeQuery, rcodeName, typeCode, typeName, WireError } from '../../src/wire/index.js';
import { header, opt, pointer, QNAME, question, rr, u16, u32, wname } from './build.js';

const QEND = 12 + QNAME.length + 4;
const RESPONSE = 0x8400;
const reply = (counts: { an?: number; ns?: number; ar?: number }, ...records: Buffer[]) =>
  Buffer.concat([header({ flags: RESPONSE, qd: 1, ...counts }), question(QNAME), ...records]);

describe('type and rcode mnemonics', () => {
  it('names common types and falls back to TYPEnnn (RFC 3597 §5)', () => {
    const known: [string, number][] = [
      ['A', 1],
      ['NS', 2],
      ['CNAME', 5],
      ['SOA', 6],
      ['PTR', 12],
      ['MX', 15],
      ['TXT', 16],
      ['AAAA', 28],
      ['SRV', 33],
      ['NAPTR', 35],
      ['OPT', 41],
      ['DS', 43],
      ['RRSIG', 46],
      ['NSEC', 47],
      ['DNSKEY', 48],
      ['NSEC3', 50],
      ['HTTPS', 65],
      ['IXFR', 251],
      ['AXFR', 252],
      ['ANY', 255],
      ['URI', 256],
      ['CAA', 257],
    ];
    for (const [name, code] of known) {
      assert.equal(typeName(code), name);
      assert.equal(typeCode(name), code);
      assert.equal(typeCode(name.toLowerCase()), code);
    }
    assert.equal(typeName(1234), 'TYPE1234');
    assert.equal(typeCode('TYPE1234'), 1234);
    assert.equal(typeCode('type256'), 256);
    assert.equal(typeCode('TYPE65536'), undefined);
    assert.equal(typeCode('NOPE'), undefined);
    assert.equal(typeCode('constructor'), undefined);
  });

  it('names rcodes, including extended BADVERS', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 9, 16].map(rcodeName), [
      'NOERROR',
      'FORMERR',
      'SERVFAIL',
      'NXDOMAIN',
      'NOTIMP',
      'REFUSED',
      'NOTAUTH',
      'BADVERS',
    ]);
    assert.equal(rcodeName(14), 'RCODE14');
  });
});

describe('encodeQuery', () => {
  it('writes id, RD, the question and an OPT, readable by dns-packet', () => {
    const buf = encodeQuery({
      id: 513,
      name: 'a.example',
      qtype: 256,
      rd: true,
      edns: { udpSize: 4096, do: true, version: 0 },
    });
    const p = dnsPacket.decode(buf);
    assert.equal(p.id, 513);
    assert.equal(p.flag_rd, true);
    assert.deepEqual(p.questions, [{ name: 'a.example', type: 'UNKNOWN_256', class: 'IN' }]);
    const o = p.additionals![0] as { type: string; udpPayloadSize: number; flag_do: boolean };
    assert.deepEqual([o.type, o.udpPayloadSize, o.flag_do], ['OPT', 4096, true]);
  });

  it('writes the bytes dns-packet writes for the same query', () => {
    const ours = encodeQuery({
      id: 0xbeef,
      name: 'Created.Orders.example',
      qtype: 28,
      rd: true,
      edns: { udpSize: 1400 },
    });
    const theirs = dnsPacket.encode({
      id: 0xbeef,
      type: 'query',
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: 'Created.Orders.example', type: 'AAAA', class: 'IN' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1400,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    assert.deepEqual(ours, theirs);
    const plain = encodeQuery({ id: 7, name: '.', qtype: 6, qclass: 3, edns: false });
    const p = dnsPacket.decode(plain);
    assert.deepEqual(
      [p.id, p.flag_rd, p.questions, p.additionals?.length],
      [7, false, [{ name: '.', type: 'SOA', class: 'CH' }], 0],
    );
  });

  it('writes EDNS version and DO, and names with escapes (RFC 1035 §5.1)', () => {
    const m = decodeMessage(encodeQuery({ id: 2, name: 'a\\.b.\\065x', qtype: 16, edns: { version: 1, do: true } }));
    assert.deepEqual(m.question, [{ name: 'a\\.b.Ax.', qtype: 16, qclass: 1 }]);
    assert.deepEqual(m.edns, { udpSize: 1232, version: 1, do: true, options: [] });
  });

  it('refuses names it cannot encode', () => {
    assert.throws(() => encodeQuery({ id: 1, name: `${'a'.repeat(64)}.b`, qtype: 1 }), WireError);
    assert.throws(() => encodeQuery({ id: 1, name: 'a..b', qtype: 1 }), WireError);
    assert.throws(() => encodeQuery({ id: 1, name: 'a\\', qtype: 1 }), /escape/);
    assert.throws(() => encodeQuery({ id: 1, name: 'bücher.de', qtype: 1 }), WireError);
    assert.throws(() => encodeQuery({ id: 1, name: Array(128).fill('a').join('.'), qtype: 1 }), /255/);
    assert.throws(() => encodeQuery({ id: 70000, name: 'a', qtype: 1 }), WireError);
  });
});

describe('decodeMessage', () => {
  it('keeps other types raw, with their mnemonic', () => {
    const m = decodeMessage(reply({ an: 1 }, rr(pointer(12), 1, 1, 60, Buffer.from([192, 0, 2, 7]))));
    assert.deepEqual(m.answer, [
      {
        name: `created.orders.123456789012.us-east-1.aws.psarn.internal.`,
        ttl: 60,
        class: 1,
        type: 'A',
        typeCode: 1,
        rdata: Buffer.from([192, 0, 2, 7]),
      },
    ]);
  });

  it('reads names in rdata through pointers and lowercases them', () => {
    const m = decodeMessage(
      reply(
        { an: 1 },
        rr(wname('ALIAS', 'X'), 5, 1, 5, Buffer.concat([Buffer.from([3, 0x57, 0x77, 0x57]), pointer(12)])),
      ),
    );
    assert.deepEqual(m.answer[0], {
      name: 'alias.x.',
      ttl: 5,
      class: 1,
      type: 'CNAME',
      target: `www.${'created.orders.123456789012.us-east-1.aws.psarn.internal.'}`,
    });
  });

  it('reports the full rcode and EDNS options', () => {
    const cookie = Buffer.concat([u16(10), u16(2), Buffer.from([1, 2])]);
    const m = decodeMessage(reply({ ar: 1 }, opt(1400, { ext: 1, version: 0, do: true, rdata: cookie })));
    assert.equal(m.rcode, 16);
    assert.deepEqual(m.edns, {
      udpSize: 1400,
      version: 0,
      do: true,
      options: [{ code: 10, data: Buffer.from([1, 2]) }],
    });
    assert.equal(m.additional.length, 0);
  });

  const bad: [string, Buffer, RegExp][] = [
    ['short', Buffer.alloc(5), /shorter/],
    ['truncated question', reply({}).subarray(0, 20), /truncated/],
    ['trailing byte', Buffer.concat([reply({}), Buffer.from([0])]), /trailing/],
    [
      'NS name running past its rdata',
      reply({ an: 1 }, rr(pointer(12), 2, 1, 5, wname('ns', 'x'), 3), wname('x').subarray(0, 0)),
      /truncated|trailing/,
    ],
    [
      'CNAME with stray bytes after the name',
      reply({ an: 1 }, rr(pointer(12), 5, 1, 5, Buffer.concat([wname('a'), Buffer.from([9])]))),
      /stray/,
    ],
    [
      'SOA missing numbers',
      reply({ ns: 1 }, rr(pointer(12), 6, 1, 5, Buffer.concat([wname('a'), wname('b'), u32(1)]))),
      /SOA numbers/,
    ],
    ['TXT string longer than rdata', reply({ an: 1 }, rr(pointer(12), 16, 1, 5, Buffer.from([5, 0x61]))), /TXT string/],
    ['empty TXT', reply({ an: 1 }, rr(pointer(12), 16, 1, 5, Buffer.alloc(0))), /empty/],
    ['URI of 4 bytes', reply({ an: 1 }, rr(pointer(12), 256, 1, 5, Buffer.from([0, 1, 0, 1]))), /URI rdata/],
    ['pointer loop in rdata', reply({ an: 1 }, rr(pointer(12), 5, 1, 5, pointer(QEND + 12))), /not backward/],
    ['two OPTs', reply({ ar: 2 }, opt(), opt()), /more than one OPT/],
  ];
  for (const [title, buf, reason] of bad) {
    it(`throws WireError with an offset: ${title}`, () => {
      assert.throws(
        () => decodeMessage(buf),
        (err: unknown) =>
          err instanceof WireError && reason.test(err.message) && err.code === 'ERR_DNS_WIRE' && err.offset >= 0,
      );
    });
  }
});
