import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdnsInfo, QueryParse } from '../../src/wire/index.js';
import { encodeQuery, parseQuery } from '../../src/wire/index.js';
import { header, opt, pointer, QNAME, question, rr, simpleQuery, u16, wname, ZONE } from './build.js';

const QEND = 12 + QNAME.length + 4;

/** The EDNS fields a reply copies, without where the options are. */
function basic(edns: EdnsInfo | undefined) {
  return edns && { udpSize: edns.udpSize, version: edns.version, do: edns.do };
}
const aRecord = (name: Buffer) => rr(name, 1, 1, 60, Buffer.from([192, 0, 2, 1]));

/** [title, message, expected kind, reason fragment, questionEnd expected] */
const table: [string, Buffer, QueryParse['kind'], RegExp, number | undefined][] = [
  ['11 bytes', Buffer.alloc(11), 'drop', /shorter/, undefined],
  ['QR set', simpleQuery({ flags: 0x8000 }), 'drop', /QR/, undefined],
  [
    'opcode 5 (UPDATE), garbage after',
    Buffer.concat([header({ flags: 5 << 11, qd: 7 }), Buffer.from([0xff])]),
    'notimp',
    /opcode 5/,
    undefined,
  ],
  ['QDCOUNT 0', header({ qd: 0 }), 'formerr', /QDCOUNT is 0/, undefined],
  [
    'QDCOUNT 2',
    Buffer.concat([header({ qd: 2 }), question(QNAME), question(QNAME)]),
    'formerr',
    /QDCOUNT is 2/,
    undefined,
  ],
  [
    'label of 64 octets',
    Buffer.concat([header(), question(wname('a'.repeat(64)))]),
    'formerr',
    /label type 0x40/,
    undefined,
  ],
  [
    'label type 10 (reserved)',
    Buffer.concat([header(), Buffer.from([0x80, 0]), u16(1), u16(1)]),
    'formerr',
    /label type 0x80/,
    undefined,
  ],
  [
    'name of 256 octets',
    Buffer.concat([header(), question(wname('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(62)))]),
    'formerr',
    /255/,
    undefined,
  ],
  [
    'pointer in the question',
    Buffer.concat([header(), Buffer.from([1, 0x61]), pointer(4), u16(1), u16(1)]),
    'formerr',
    /pointer in the question/,
    undefined,
  ],
  ['truncated question name', Buffer.concat([header(), QNAME.subarray(0, 10)]), 'formerr', /truncated/, undefined],
  [
    'truncated question type',
    Buffer.concat([header(), QNAME, Buffer.from([0])]),
    'formerr',
    /truncated question type/,
    undefined,
  ],
  ['question type OPT', Buffer.concat([header(), question(QNAME, 41)]), 'formerr', /type OPT/, QEND],
  ['pointer forward', simpleQuery({ ar: 1 }, aRecord(pointer(QEND + 20))), 'formerr', /not backward/, QEND],
  ['pointer to itself (a loop)', simpleQuery({ ar: 1 }, aRecord(pointer(QEND))), 'formerr', /not backward/, QEND],
  ['pointer into the header', simpleQuery({ ar: 1 }, aRecord(pointer(2))), 'formerr', /header/, QEND],
  [
    'rdlength past the end',
    simpleQuery({ ar: 1 }, rr(pointer(12), 1, 1, 0, Buffer.from([1, 2, 3, 4]), 5)),
    'formerr',
    /truncated rdata/,
    QEND,
  ],
  ['two OPTs', simpleQuery({ ar: 2 }, opt(), opt()), 'formerr', /more than one OPT/, QEND],
  ['OPT in the answer section', simpleQuery({ an: 1 }, opt()), 'formerr', /outside the additional/, QEND],
  ['OPT in the authority section', simpleQuery({ ns: 1 }, opt()), 'formerr', /outside the additional/, QEND],
  [
    'OPT with a non-root owner',
    simpleQuery({ ar: 1 }, opt(1232, { owner: pointer(12) })),
    'formerr',
    /not the root/,
    QEND,
  ],
  [
    'OPT option longer than rdata',
    simpleQuery({ ar: 1 }, opt(1232, { rdata: Buffer.concat([u16(10), u16(5), Buffer.from([1, 2])]) })),
    'formerr',
    /option data/,
    QEND,
  ],
  [
    'OPT option header cut',
    simpleQuery({ ar: 1 }, opt(1232, { rdata: Buffer.from([0, 10, 0]) })),
    'formerr',
    /option header/,
    QEND,
  ],
  ['trailing byte', Buffer.concat([simpleQuery(), Buffer.from([0])]), 'formerr', /trailing/, QEND],
  [
    'trailing byte after an OPT',
    Buffer.concat([simpleQuery({ ar: 1 }, opt()), Buffer.from([0])]),
    'formerr',
    /trailing/,
    QEND,
  ],
  ['ARCOUNT 65535 with 11 bytes', simpleQuery({ ar: 0xffff }, opt()), 'formerr', /counts claim/, QEND],
  ['ANCOUNT 1 with no record', simpleQuery({ an: 1 }), 'formerr', /counts claim/, QEND],
];

describe('parseQuery validation table', () => {
  for (const [title, msg, kind, reason, questionEnd] of table) {
    it(`${title} -> ${kind}`, () => {
      const r = parseQuery(msg);
      assert.equal(r.kind, kind, JSON.stringify(r));
      if (r.kind === 'query') return;
      assert.match(r.reason, reason);
      if (r.kind === 'formerr') {
        assert.equal(r.questionEnd, questionEnd);
        assert.equal(r.header.id, 0x1234);
      }
      if (r.kind === 'notimp') assert.equal(r.header.opcode, 5);
    });
  }

  it('a FORMERR after a valid OPT carries the EDNS for the reply', () => {
    const r = parseQuery(Buffer.concat([simpleQuery({ ar: 1 }, opt(4096, { do: true })), Buffer.from([7])]));
    assert.equal(r.kind, 'formerr');
    assert.deepEqual(r.kind === 'formerr' && basic(r.edns), { udpSize: 4096, version: 0, do: true });
  });
});

describe('parseQuery: what a NOTIMP or QDCOUNT FORMERR reply can echo (RFC 6891 §7)', () => {
  const EDNS = { udpSize: 4096, version: 0, do: true };
  const withOpt = opt(4096, { do: true });
  const echo = (r: QueryParse) => {
    assert.ok(r.kind === 'notimp' || r.kind === 'formerr', r.kind);
    return { kind: r.kind, questionEnd: r.questionEnd, edns: basic(r.edns) };
  };
  const cases: [string, Buffer, ReturnType<typeof echo>][] = [
    [
      'opcode STATUS with a question and an OPT: both',
      simpleQuery({ flags: 2 << 11, ar: 1 }, withOpt),
      { kind: 'notimp', questionEnd: QEND, edns: EDNS },
    ],
    [
      'opcode NOTIFY without EDNS: the question',
      simpleQuery({ flags: 4 << 11 }),
      { kind: 'notimp', questionEnd: QEND, edns: undefined },
    ],
    [
      'opcode UPDATE, no question, an OPT: the OPT',
      Buffer.concat([header({ flags: 5 << 11, qd: 0, ar: 1 }), withOpt]),
      { kind: 'notimp', questionEnd: undefined, edns: EDNS },
    ],
    [
      'opcode UPDATE, two questions (the second compressed) and an OPT: the OPT, no question',
      Buffer.concat([header({ flags: 5 << 11, qd: 2, ar: 1 }), question(QNAME), question(pointer(12)), withOpt]),
      { kind: 'notimp', questionEnd: undefined, edns: EDNS },
    ],
    [
      'opcode STATUS, a byte after the OPT: the question, no OPT',
      Buffer.concat([simpleQuery({ flags: 2 << 11, ar: 1 }, withOpt), Buffer.from([0])]),
      { kind: 'notimp', questionEnd: QEND, edns: undefined },
    ],
    [
      'opcode STATUS, a pointer in the question: nothing',
      Buffer.concat([header({ flags: 2 << 11, ar: 1 }), pointer(12), u16(1), u16(1), withOpt]),
      { kind: 'notimp', questionEnd: undefined, edns: undefined },
    ],
    [
      'QDCOUNT 0 with an OPT: the OPT',
      Buffer.concat([header({ qd: 0, ar: 1 }), withOpt]),
      { kind: 'formerr', questionEnd: undefined, edns: EDNS },
    ],
    [
      'QDCOUNT 2 with an OPT: the OPT, no question',
      Buffer.concat([header({ qd: 2, ar: 1 }), question(QNAME), question(QNAME), withOpt]),
      { kind: 'formerr', questionEnd: undefined, edns: EDNS },
    ],
    [
      'QDCOUNT 2 with one question and an OPT: nothing (the OPT would be read as a question)',
      Buffer.concat([header({ qd: 2, ar: 1 }), question(QNAME), withOpt]),
      { kind: 'formerr', questionEnd: undefined, edns: undefined },
    ],
    [
      'QDCOUNT 65535 in 40 bytes: nothing, at once',
      Buffer.concat([header({ qd: 0xffff, ar: 1 }), question(QNAME)]),
      { kind: 'formerr', questionEnd: undefined, edns: undefined },
    ],
    [
      'question type OPT with an OPT: the question and the OPT',
      Buffer.concat([header({ ar: 1 }), question(QNAME, 41), withOpt]),
      { kind: 'formerr', questionEnd: QEND, edns: EDNS },
    ],
  ];
  for (const [title, msg, want] of cases) {
    it(title, () => assert.deepEqual(echo(parseQuery(msg)), want));
  }
});

describe('parseQuery accepts', () => {
  it('a plain question, lowercasing labels and key but reporting header bits', () => {
    const msg = Buffer.concat([
      header({ id: 0xbeef, flags: 0x0110 }),
      question(wname('CrEaTeD', 'orders', ...ZONE), 256, 1),
    ]);
    const r = parseQuery(msg);
    assert.equal(r.kind, 'query');
    if (r.kind !== 'query') return;
    const q = r.query;
    assert.equal(q.id, 0xbeef);
    assert.equal(q.rd, true);
    assert.equal(q.cd, true);
    assert.deepEqual(q.labels, ['created', 'orders', ...ZONE]);
    assert.equal(q.qname, `created.orders.${ZONE.join('.')}.`);
    assert.equal(q.qtype, 256);
    assert.equal(q.qclass, 1);
    assert.equal(q.questionEnd, QEND);
    assert.equal(q.key, question(QNAME, 256, 1).toString('latin1'));
    assert.equal(q.edns, undefined);
  });

  it('the root name and a name of exactly 255 octets', () => {
    const root = parseQuery(Buffer.concat([header(), question(wname(), 2)]));
    assert.equal(root.kind === 'query' && root.query.qname, '.');
    const long = wname('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61));
    assert.equal(long.length, 255);
    const r = parseQuery(Buffer.concat([header(), question(long)]));
    assert.equal(r.kind, 'query');
  });

  it('escapes ".", "\\" and non-printable bytes in qname (RFC 4343), only A-Z lowercased', () => {
    const r = parseQuery(Buffer.concat([header(), question(wname('a.B\\', 'x y\x00\xC9'))]));
    assert.equal(r.kind, 'query');
    if (r.kind !== 'query') return;
    assert.equal(r.query.qname, 'a\\.b\\\\.x\\032y\\000\\201.');
    assert.deepEqual(r.query.labels, ['a.b\\', 'x y\x00\xC9']);
  });

  it('EDNS: udpSize raised to 512, version and DO read from the TTL', () => {
    const small = parseQuery(simpleQuery({ ar: 1 }, opt(100)));
    assert.deepEqual(small.kind === 'query' && basic(small.query.edns), { udpSize: 512, version: 0, do: false });
    const v1 = parseQuery(simpleQuery({ ar: 1 }, opt(4096, { version: 1, do: true })));
    assert.deepEqual(v1.kind === 'query' && basic(v1.query.edns), { udpSize: 4096, version: 1, do: true });
  });

  it('EDNS options that fit, and compressed records before the OPT', () => {
    const cookie = Buffer.concat([u16(10), u16(8), Buffer.alloc(8, 0xab)]);
    const msg = simpleQuery(
      { an: 1, ns: 1, ar: 2 },
      aRecord(pointer(12)),
      aRecord(Buffer.concat([Buffer.from([3, 0x77, 0x77, 0x77]), pointer(12 + 8)])),
      aRecord(Buffer.concat([Buffer.from([1, 0x78]), pointer(QEND + 16)])),
      opt(1232, { rdata: cookie }),
    );
    const r = parseQuery(msg);
    assert.equal(r.kind, 'query', JSON.stringify(r));
    assert.deepEqual(r.kind === 'query' && basic(r.query.edns), { udpSize: 1232, version: 0, do: false });
  });

  it('round-trips encodeQuery for names, types and EDNS settings', () => {
    const cases = [
      { name: 'created.orders.123456789012.us-east-1.aws.psarn.internal.', qtype: 256 },
      { name: 'MiXeD.Example', qtype: 16, edns: false as const },
      { name: '.', qtype: 6, rd: true, edns: { udpSize: 4096, do: true } },
      { name: '_epoch.zone.internal', qtype: 65535, qclass: 3 },
    ];
    for (const [i, c] of cases.entries()) {
      const r = parseQuery(encodeQuery({ id: i + 100, ...c }));
      assert.equal(r.kind, 'query', c.name);
      if (r.kind !== 'query') continue;
      assert.equal(r.query.id, i + 100);
      const expected = c.name === '.' ? '.' : `${c.name.toLowerCase().replace(/\.$/, '')}.`;
      assert.equal(r.query.qname, expected);
      assert.equal(r.query.qtype, c.qtype);
      assert.equal(r.query.qclass, c.qclass ?? 1);
      assert.equal(r.query.rd, c.rd ?? false);
      if (c.edns === false) assert.equal(r.query.edns, undefined);
      else
        assert.deepEqual(basic(r.query.edns), {
          udpSize: c.edns?.udpSize ?? 1232,
          version: 0,
          do: c.edns?.do ?? false,
        });
    }
  });
});

describe('parseQuery key', () => {
  it('lowercases the name only: type 0x0041 (HTTPS) and 0x0061 stay distinct', () => {
    const key = (name: string, qtype: number) => {
      const r = parseQuery(encodeQuery({ id: 1, name, qtype, edns: false }));
      assert.equal(r.kind, 'query');
      return r.kind === 'query' ? r.query.key : '';
    };
    assert.notEqual(key('a.example.', 0x41), key('a.example.', 0x61));
    assert.equal(key('A.Example.', 0x41), key('a.example.', 0x41));
    assert.equal(key('A.Example.', 0x41).slice(-4), Buffer.from([0, 0x41, 0, 1]).toString('latin1'));
  });
});
