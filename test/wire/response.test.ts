import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { DnsRecord, ParsedQuery, Reply } from '../../src/wire/index.js';
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

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const OWNER = `created.orders.${ZONE}`;
const OPTS = { maxSize: 1232, udpPayloadSize: 1232 };

function query(name: string, qtype = 256, edns: Parameters<typeof encodeQuery>[0]['edns'] = undefined) {
  const buf = encodeQuery({ id: 0x4242, name, qtype, rd: true, edns });
  const r = parseQuery(buf);
  assert.equal(r.kind, 'query');
  return { buf, q: (r as { query: ParsedQuery }).query };
}

const uri = (target: string, priority = 10, weight = 1): DnsRecord => ({
  name: OWNER,
  ttl: 300,
  type: 'URI',
  priority,
  weight,
  target,
});
const soa: DnsRecord = {
  name: ZONE,
  ttl: 30,
  type: 'SOA',
  mname: 'ns.psarn.internal.',
  rname: 'hostmaster.psarn.internal.',
  serial: 2024010101,
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum: 30,
};
const reply: Reply = {
  rcode: Rcode.NOERROR,
  aa: true,
  answer: [
    uri('arn:aws:lambda:us-east-1:123456789012:function:Orders-A', 10, 90),
    uri('https://Example.com/Hook?x=1', 20, 10),
  ],
  authority: [soa, { name: ZONE, ttl: 3600, type: 'NS', target: 'ns.psarn.internal.' }],
  additional: [
    { name: OWNER, ttl: 300, type: 'TXT', strings: ['v=psarn1', 'policy=weighted', 'epoch=3', 'ünïcode'] },
    { name: `latest.orders.${ZONE}`, ttl: 60, type: 'CNAME', target: OWNER },
  ],
};

function withClass(records: DnsRecord[]) {
  return records.map((r) => ({ ...r, class: 1 }));
}

describe('encodeReady + assembleResponse', () => {
  it('decodes back to the same records with decodeMessage', () => {
    const { buf, q } = query(OWNER);
    const ready = encodeReady(Buffer.from(q.key, 'latin1'), reply);
    assert.deepEqual([ready.ancount, ready.nscount, ready.arcount], [2, 2, 2]);
    const out = assembleResponse(buf, q, ready, OPTS);
    assert.equal(out.truncated, false);
    const m = decodeMessage(out.buf);
    assert.equal(m.id, 0x4242);
    assert.deepEqual([m.qr, m.aa, m.tc, m.rd, m.ra, m.ad, m.cd], [true, true, false, true, false, false, false]);
    assert.equal(m.rcode, 0);
    assert.deepEqual(m.question, [{ name: OWNER, qtype: 256, qclass: 1 }]);
    assert.deepEqual(m.answer, withClass(reply.answer));
    assert.deepEqual(m.authority, withClass(reply.authority));
    assert.deepEqual(m.additional, withClass(reply.additional));
    assert.deepEqual(m.edns, { udpSize: 1232, version: 0, do: false, options: [] });
  });

  it('is read the same by dns-packet, an independent decoder', () => {
    const { buf, q } = query(OWNER, 256, { do: true });
    const out = assembleResponse(buf, q, encodeReady(Buffer.from(q.key, 'latin1'), reply), OPTS).buf;
    const p = dnsPacket.decode(out);
    assert.equal(p.answers?.length, 2);
    const a0 = p.answers![0] as { name: string; type: string; ttl: number; data: Buffer };
    assert.equal(a0.name, OWNER.slice(0, -1));
    assert.equal(a0.type, 'UNKNOWN_256');
    assert.deepEqual(
      a0.data,
      Buffer.concat([
        Buffer.from([0, 10, 0, 90]),
        Buffer.from('arn:aws:lambda:us-east-1:123456789012:function:Orders-A'),
      ]),
    );
    const [s, ns] = p.authorities as { data: unknown }[];
    assert.deepEqual(s!.data, {
      mname: 'ns.psarn.internal',
      rname: 'hostmaster.psarn.internal',
      serial: 2024010101,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 30,
    });
    assert.equal(ns!.data, 'ns.psarn.internal');
    const [txt, cname, o] = p.additionals as {
      data?: Buffer[] | string;
      type: string;
      flag_do?: boolean;
      udpPayloadSize?: number;
    }[];
    assert.deepEqual(
      (txt!.data as Buffer[]).map((b) => b.toString('utf8')),
      ['v=psarn1', 'policy=weighted', 'epoch=3', 'ünïcode'],
    );
    assert.equal(cname!.data, OWNER.slice(0, -1));
    assert.equal(o!.type, 'OPT');
    assert.equal(o!.flag_do, true, 'DO copied');
    assert.equal(o!.udpPayloadSize, 1232);
  });

  it('writes PTR rdata as a compressed name, read back by decodeMessage and dns-packet (RFC 1035 §3.3.12)', () => {
    // The catalog zone's member records (RFC 9432 §4.2).
    const owner = 'bcd00fa1baa0e61d.zones.catalog.psarn.internal.';
    const ptr: DnsRecord = { name: owner, ttl: 0, type: 'PTR', target: ZONE };
    const { buf, q } = query(owner, 12);
    const out = assembleResponse(
      buf,
      q,
      encodeReady(Buffer.from(q.key, 'latin1'), { ...reply, answer: [ptr, { ...ptr, target: OWNER }] }),
      OPTS,
    ).buf;
    assert.deepEqual(decodeMessage(out).answer, withClass([ptr, { ...ptr, target: OWNER }]));
    const p = dnsPacket.decode(out);
    assert.deepEqual(
      p.answers!.map((a) => [a.type, (a as { data: string }).data]),
      [
        ['PTR', ZONE.slice(0, -1)],
        ['PTR', OWNER.slice(0, -1)],
      ],
    );
  });

  it("echoes the question's case, and answer owners read it through the pointer 0xC00C", () => {
    const plain = query(OWNER);
    const ready = encodeReady(Buffer.from(plain.q.key, 'latin1'), reply);
    const mixedName = `CrEaTeD.orders.${ZONE}`;
    const mixed = query(mixedName);
    assert.equal(mixed.q.key, plain.q.key, 'same key: the ready answer is shared');
    const out = assembleResponse(mixed.buf, mixed.q, ready, OPTS).buf;
    assert.equal(out.readUInt16BE(mixed.q.questionEnd), 0xc00c, 'first answer owner is a pointer to the question');
    const p = dnsPacket.decode(out);
    assert.equal(p.questions![0]!.name, mixedName.slice(0, -1));
    assert.equal(p.answers![0]!.name, mixedName.slice(0, -1));
    assert.equal(decodeMessage(out).question[0]!.name, mixedName);
    // The same body serves the lowercase question too.
    const again = decodeMessage(assembleResponse(plain.buf, plain.q, ready, OPTS).buf);
    assert.deepEqual(again.answer, withClass(reply.answer));
  });

  it('compresses suffixes of the question and names already written', () => {
    const { q } = query(OWNER);
    const ready = encodeReady(Buffer.from(q.key, 'latin1'), { ...reply, answer: [], additional: [] });
    // SOA owner = zone (pointer), mname "ns" + pointer to psarn.internal., rname likewise;
    // NS owner pointer, target a pointer to the mname.
    const body = ready.body;
    assert.ok(body.length < 80, `body of ${body.length} bytes is compressed`);
    assert.equal(body.readUInt16BE(0), 0xc000 | (12 + 8 + 7), 'SOA owner points at the zone inside the question');
  });

  it('handles escaped labels consistently with parseQuery.qname', () => {
    const raw = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x2e, 0x62, 1, 0x7a, 0, 0, 16, 0, 1]);
    const parsed = parseQuery(raw);
    assert.equal(parsed.kind, 'query');
    const q = (parsed as { query: ParsedQuery }).query;
    assert.equal(q.qname, 'a\\.b.z.');
    const r: Reply = {
      rcode: 0,
      aa: true,
      answer: [{ name: q.qname, ttl: 1, type: 'TXT', strings: ['x'] }],
      authority: [],
      additional: [],
    };
    const out = assembleResponse(raw, q, encodeReady(Buffer.from(q.key, 'latin1'), r), OPTS).buf;
    assert.equal(out.readUInt16BE(q.questionEnd), 0xc00c);
    assert.equal(decodeMessage(out).answer[0]!.name, 'a\\.b.z.');
  });

  it('rejects records that cannot be encoded with WireError', () => {
    const { q } = query(OWNER);
    const key = Buffer.from(q.key, 'latin1');
    const bad = (rec: DnsRecord) => () => encodeReady(key, { ...reply, answer: [rec], authority: [], additional: [] });
    assert.throws(bad({ name: OWNER, ttl: 1, type: 'TXT', strings: ['x'.repeat(256)] }), WireError);
    assert.throws(bad({ name: OWNER, ttl: 1, type: 'TXT', strings: ['é'.repeat(128)] }), /256 bytes/);
    assert.throws(bad({ name: OWNER, ttl: 1, type: 'TXT', strings: [] }), WireError);
    assert.throws(bad({ name: 'bücher.example.', ttl: 1, type: 'CNAME', target: 'x.' }), WireError);
    assert.throws(bad({ name: `${'a'.repeat(64)}.x.`, ttl: 1, type: 'CNAME', target: 'x.' }), /63/);
    assert.throws(bad({ name: OWNER, ttl: -1, type: 'CNAME', target: 'x.' }), /TTL/);
    assert.throws(bad({ name: OWNER, ttl: 1, type: 'URI', priority: 70000, weight: 1, target: 'x' }), WireError);
    assert.doesNotThrow(bad({ name: OWNER, ttl: 1, type: 'TXT', strings: ['x'.repeat(255), ''] }));
  });
});

describe('truncation', () => {
  const many: Reply = {
    rcode: 0,
    aa: true,
    answer: Array.from({ length: 12 }, (_, i) =>
      uri(`arn:aws:lambda:us-east-1:123456789012:function:target-number-${i}`),
    ),
    authority: [],
    additional: [{ name: OWNER, ttl: 300, type: 'TXT', strings: ['v=psarn1'] }],
  };

  it('cuts a reply over 512 bytes to header + question with TC (no EDNS)', () => {
    const { buf, q } = query(OWNER, 256, false);
    const ready = encodeReady(Buffer.from(q.key, 'latin1'), many);
    const full = assembleResponse(buf, q, ready, { maxSize: 65535, udpPayloadSize: 1232 });
    assert.ok(full.buf.length > 512 && !full.truncated);
    const cut = assembleResponse(buf, q, ready, { maxSize: 512, udpPayloadSize: 1232 });
    assert.equal(cut.truncated, true);
    assert.equal(cut.buf.length, q.questionEnd);
    const m = decodeMessage(cut.buf);
    assert.equal(m.tc, true);
    assert.equal(m.aa, true);
    assert.deepEqual([m.question.length, m.answer.length, m.authority.length, m.additional.length], [1, 0, 0, 0]);
    assert.equal(m.edns, undefined);
  });

  it('keeps the OPT in a truncated reply when the query had EDNS', () => {
    const { buf, q } = query(OWNER, 256, { udpSize: 512 });
    const cut = assembleResponse(buf, q, encodeReady(Buffer.from(q.key, 'latin1'), many), {
      maxSize: 512,
      udpPayloadSize: 1232,
    });
    assert.equal(cut.truncated, true);
    assert.equal(cut.buf.length, q.questionEnd + 11);
    const m = decodeMessage(cut.buf);
    assert.equal(m.tc, true);
    assert.equal(m.edns?.udpSize, 1232);
  });

  it('a reply of exactly maxSize is sent whole', () => {
    const { buf, q } = query(OWNER, 256, false);
    const ready = encodeReady(Buffer.from(q.key, 'latin1'), many);
    const size = q.questionEnd + ready.body.length;
    const out = assembleResponse(buf, q, ready, { maxSize: size, udpPayloadSize: 1232 });
    assert.equal(out.truncated, false);
    assert.equal(decodeMessage(out.buf).additional.length, 1);
  });

  it('records where the additional section starts', () => {
    const { q } = query(OWNER, 256, false);
    const ready = encodeReady(Buffer.from(q.key, 'latin1'), many);
    // The TXT in additional: owner pointer, type, class, TTL, rdlength, then "v=psarn1".
    assert.equal(ready.body.length - ready.additionalAt, 2 + 10 + 1 + 'v=psarn1'.length);
    const none = encodeReady(Buffer.from(q.key, 'latin1'), { ...many, additional: [] });
    assert.equal(none.additionalAt, none.body.length);
  });

  // RFC 2181 §9: TC only when the answer itself does not fit; the additional TXT is dropped.
  for (const edns of [false, { udpSize: 4096 }] as const) {
    const label = edns ? 'with EDNS (OPT kept)' : 'without EDNS';
    it(`${label}: drops the additional section, without TC, when only it does not fit`, () => {
      const { buf, q } = query(OWNER, 256, edns);
      const ready = encodeReady(Buffer.from(q.key, 'latin1'), many);
      const opt = edns ? 11 : 0;
      const whole = q.questionEnd + ready.body.length + opt;
      const answerOnly = q.questionEnd + ready.additionalAt + opt;
      for (const maxSize of [whole - 1, answerOnly]) {
        const out = assembleResponse(buf, q, ready, { maxSize, udpPayloadSize: 1232 });
        assert.equal(out.truncated, false, `maxSize ${maxSize}`);
        assert.equal(out.buf.length, answerOnly);
        assert.equal(out.buf.readUInt16BE(10), edns ? 1 : 0, 'ARCOUNT: the OPT only');
        const m = decodeMessage(out.buf);
        assert.deepEqual([m.tc, m.aa, m.answer.length, m.additional.length], [false, true, 12, 0]);
        assert.equal(m.edns?.udpSize, edns ? 1232 : undefined);
      }
      const cut = assembleResponse(buf, q, ready, { maxSize: answerOnly - 1, udpPayloadSize: 1232 });
      assert.equal(cut.truncated, true);
      assert.equal(cut.buf.length, q.questionEnd + opt);
      const m = decodeMessage(cut.buf);
      assert.deepEqual([m.tc, m.answer.length, m.additional.length], [true, 0, 0]);
    });
  }
});

describe('errorResponse', () => {
  it('BADVERS: header rcode 0, OPT extended rcode 1, version 0 (RFC 6891 §6.1.3)', () => {
    const { buf, q } = query(OWNER, 256, { version: 1, do: true });
    assert.equal(q.edns?.version, 1);
    const out = errorResponse(buf, q, Rcode.BADVERS, {
      questionEnd: q.questionEnd,
      edns: q.edns,
      udpPayloadSize: 1232,
    });
    assert.equal(out.readUInt16BE(2) & 0xf, 0);
    const optAt = q.questionEnd;
    assert.equal(out.readUInt16BE(optAt + 1), 41);
    assert.equal(out.readUInt32BE(optAt + 5), (1 << 24) | 0x8000);
    const m = decodeMessage(out);
    assert.equal(m.rcode, 16);
    assert.equal(m.aa, false);
    assert.deepEqual(m.edns, { udpSize: 1232, version: 0, do: true, options: [] });
    const p = dnsPacket.decode(out);
    const o = p.additionals![0] as { extendedRcode: number };
    assert.equal(o.extendedRcode, 1);
  });

  it('BADVERS gets an OPT even when none was passed', () => {
    const { buf, q } = query(OWNER, 256, false);
    const m = decodeMessage(errorResponse(buf, q, Rcode.BADVERS, { questionEnd: q.questionEnd, udpPayloadSize: 1232 }));
    assert.equal(m.rcode, 16);
  });

  it('FORMERR with and without the question; NOTIMP copies the opcode', () => {
    const { buf, q } = query(OWNER, 256, false);
    const withQ = decodeMessage(
      errorResponse(buf, q, Rcode.FORMERR, { questionEnd: q.questionEnd, udpPayloadSize: 1232 }),
    );
    assert.deepEqual(
      [withQ.rcode, withQ.qr, withQ.rd, withQ.question.length, withQ.additional.length],
      [1, true, true, 1, 0],
    );
    assert.equal(withQ.edns, undefined);
    const bare = errorResponse(buf, q, Rcode.FORMERR, { udpPayloadSize: 1232 });
    assert.equal(bare.length, 12);
    assert.equal(decodeMessage(bare).question.length, 0);
    const notimp = errorResponse(buf, { id: 9, opcode: 5, rd: false, cd: true }, Rcode.NOTIMP, {
      udpPayloadSize: 1232,
    });
    const m = decodeMessage(notimp);
    assert.deepEqual([m.id, m.opcode, m.rcode, m.cd, m.rd], [9, 5, 4, true, false]);
  });

  it('REFUSED and SERVFAIL echo the question and an OPT', () => {
    const { buf, q } = query(OWNER);
    for (const rcode of [Rcode.REFUSED, Rcode.SERVFAIL]) {
      const m = decodeMessage(
        errorResponse(buf, q, rcode, { questionEnd: q.questionEnd, edns: q.edns, udpPayloadSize: 1400 }),
      );
      assert.equal(m.rcode, rcode);
      assert.equal(m.question[0]!.name, OWNER);
      assert.equal(m.edns?.udpSize, 1400);
    }
  });
});
