/**
 * parseUpdate and encodeUpdate (RFC 2136 §2, src/wire/update.ts): the sections as dns-packet (the
 * independent decoder) reads what we encode; compressed owners and rdata names read back
 * uncompressed and lowercased; every malformed shape is FORMERR with what parsed echoed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { Hdr } from '../../src/wire/cursor.js';
import { Class, Type } from '../../src/wire/types.js';
import {
  addRecord,
  deleteName,
  deleteRecord,
  encodeUpdate,
  nameInUse,
  parseUpdate,
  rrsetAbsent,
} from '../../src/wire/update.js';
import { at, cname, LAMBDA, txt, uri, Z } from './helpers.js';

describe('encodeUpdate', () => {
  it('lays out the header, zone section and added records as dns-packet reads them', () => {
    // (dns-packet cannot read the RDLENGTH 0 forms of RFC 2136 §2.4/§2.5: a CNAME without rdata.)
    const bytes = encodeUpdate({
      id: 4242,
      zone: Z,
      updates: [addRecord(txt('a', ['v=psarn1', 'policy=fanout'], 60)), addRecord(cname('b', at('a'), 30))],
    });
    const m = dnsPacket.decode(bytes) as dnsPacket.Packet & { opcode?: string };
    assert.equal(m.id, 4242);
    assert.equal(m.opcode, 'UPDATE');
    assert.deepEqual(m.questions, [{ name: Z.slice(0, -1), type: 'SOA', class: 'IN' }]);
    assert.equal(m.answers?.length, 0);
    type Rr = { name: string; type: string; class: string; ttl: number; data: unknown };
    const [add, alias] = m.authorities as unknown as Rr[];
    assert.deepEqual([add!.name, add!.type, add!.class, add!.ttl], [at('a').slice(0, -1), 'TXT', 'IN', 60]);
    assert.deepEqual((add!.data as Buffer[]).map(String), ['v=psarn1', 'policy=fanout']);
    assert.deepEqual([alias!.type, alias!.ttl, alias!.data], ['CNAME', 30, at('a').slice(0, -1)]);
    assert.equal(m.additionals?.[0]?.type, 'OPT');
  });

  it('writes the prerequisite and delete forms with RDLENGTH 0 and TTL 0, classes ANY and NONE', () => {
    const parsed = parseUpdate(
      encodeUpdate({
        id: 1,
        zone: Z,
        prerequisites: [nameInUse(at('a')), rrsetAbsent(at('b'), Type.CNAME)],
        updates: [deleteName(at('c'))],
      }),
    );
    assert.equal(parsed.kind, 'update');
    if (parsed.kind !== 'update') return;
    assert.deepEqual(
      [...parsed.update.prerequisites, ...parsed.update.updates].map((r) => [
        r.name,
        r.type,
        r.klass,
        r.ttl,
        r.rdlength,
      ]),
      [
        [at('a'), Type.ANY, Class.ANY, 0, 0],
        [at('b'), Type.CNAME, Class.NONE, 0, 0],
        [at('c'), Type.ANY, Class.ANY, 0, 0],
      ],
    );
  });

  it('round-trips through parseUpdate: names, classes, TTLs, canonical rdata', () => {
    const target = `${LAMBDA}v1`;
    const parsed = parseUpdate(
      encodeUpdate({
        id: 1,
        zone: Z,
        updates: [addRecord(uri('a', target, 7, 3, 90)), deleteRecord(cname('b', at('a')))],
      }),
    );
    assert.equal(parsed.kind, 'update');
    if (parsed.kind !== 'update') return;
    const [u, c] = parsed.update.updates;
    assert.deepEqual([u!.name, u!.type, u!.klass, u!.ttl], [at('a'), Type.URI, Class.IN, 90]);
    assert.deepEqual([...u!.rdata.subarray(0, 4)], [0, 3, 0, 7]);
    assert.equal(u!.rdata.subarray(4).toString(), target);
    assert.deepEqual([c!.klass, c!.ttl], [Class.NONE, 0]);
    assert.deepEqual(parsed.update.labels, Z.slice(0, -1).split('.'));
  });
});

describe('parseUpdate', () => {
  it('follows compression pointers in owners and in CNAME rdata, and lowercases them', () => {
    // Zone at 12; the update's owner "A" + pointer to the zone; a CNAME to "TARGET" + pointer.
    const zone = Buffer.from(encodeUpdate({ id: 1, zone: Z, edns: false }).subarray(Hdr.SIZE));
    const header = Buffer.alloc(Hdr.SIZE);
    header.writeUInt16BE(5 << 11, Hdr.FLAGS);
    header.writeUInt16BE(1, Hdr.QDCOUNT);
    header.writeUInt16BE(1, Hdr.NSCOUNT);
    const pointer = Buffer.from([0xc0, Hdr.SIZE]);
    const rdata = Buffer.concat([Buffer.from([6]), Buffer.from('TARGET'), pointer]);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(Type.CNAME, 0);
    fixed.writeUInt16BE(Class.IN, 2);
    fixed.writeUInt32BE(60, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    const bytes = Buffer.concat([header, zone, Buffer.from([1]), Buffer.from('A'), pointer, fixed, rdata]);
    const parsed = parseUpdate(bytes);
    assert.equal(parsed.kind, 'update', JSON.stringify(parsed));
    if (parsed.kind !== 'update') return;
    const [rr] = parsed.update.updates;
    assert.equal(rr!.name, at('a'));
    const canonical = Buffer.concat([
      Buffer.from([6]),
      Buffer.from('target'),
      encodeUpdate({ id: 0, zone: Z, edns: false }).subarray(Hdr.SIZE, -4),
    ]);
    assert.deepEqual(rr!.rdata, canonical);
  });

  it('FORMERR: no zone or two, a truncated record, bad URI and TXT rdata, trailing bytes; the zone echoed when it parsed', () => {
    const good = encodeUpdate({ id: 1, zone: Z, updates: [addRecord(uri('a', `${LAMBDA}v1`))] });
    for (const zocount of [0, 2]) {
      const bad = Buffer.from(good);
      bad.writeUInt16BE(zocount, Hdr.QDCOUNT);
      const parsed = parseUpdate(bad);
      assert.equal(parsed.kind, 'formerr');
      assert.equal(parsed.kind === 'formerr' ? parsed.questionEnd : 0, undefined);
    }
    const truncated = parseUpdate(good.subarray(0, good.length - 20));
    assert.equal(truncated.kind, 'formerr');
    assert.ok(truncated.kind === 'formerr' && truncated.questionEnd !== undefined, 'the zone parsed');
    assert.equal(parseUpdate(Buffer.concat([good, Buffer.from([0])])).kind, 'formerr');
    const txtBad = encodeUpdate({
      id: 1,
      zone: Z,
      updates: [{ name: at('a'), type: Type.TXT, klass: Class.IN, ttl: 5, rdata: Buffer.from([9, 0x61]) }],
    });
    assert.equal(parseUpdate(txtBad).kind, 'formerr');
    const uriShort = encodeUpdate({
      id: 1,
      zone: Z,
      updates: [{ name: at('a'), type: Type.URI, klass: Class.IN, ttl: 5, rdata: Buffer.from([0, 1, 0, 1]) }],
    });
    assert.equal(parseUpdate(uriShort).kind, 'formerr');
    // An OPT among the updates (RFC 6891 §6.1.1: only in the additional section).
    const opt = encodeUpdate({ id: 1, zone: Z, edns: false, updates: [{ name: '.', type: Type.OPT, klass: 1232 }] });
    assert.equal(parseUpdate(opt).kind, 'formerr');
  });
});
