/**
 * What DNS UPDATE refuses (docs/design.md#dns-update): anything outside the route model, records
 * that make no valid route, a zone that is not ours, malformed messages. Each refusal answers
 * its rcode with an EDE naming the name and why, and leaves the store exactly as it was: no
 * route, no serial, no journal row of the message, even when other routes of it were fine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hdr } from '../../src/wire/cursor.js';
import { signMessage } from '../../src/wire/tsig.js';
import { Class, Rcode, Type } from '../../src/wire/types.js';
import { addRecord, deleteRecord, deleteRRset, encodeUpdate, type UpdateRecordSpec } from '../../src/wire/update.js';
import { at, bench, cname, LAMBDA, NOW, txt, updateKey, uri, Z } from './helpers.js';

const V1 = `${LAMBDA}v1`;

/** A bench with route a (one target) and alias b -> a. */
function seeded() {
  const b = bench((c) => ({ ...c, targets: { ...c.targets, services: ['lambda', 'sqs'] } }));
  assert.equal(b.send({ updates: [addRecord(uri('a', V1)), addRecord(cname('b', at('a')))] }).rcode, 0);
  return b;
}

/** Sends `updates` (after a valid new route, so a partial apply would show) and checks nothing changed. */
function refused(b: ReturnType<typeof bench>, updates: UpdateRecordSpec[], rcode: number = Rcode.REFUSED) {
  const serial = b.serial();
  const journal = b.store.journal(Z).length;
  const before = [b.route('a'), b.route('b')];
  const reply = b.send({ updates: [addRecord(uri('fine', V1)), ...updates] });
  assert.equal(reply.rcode, rcode, JSON.stringify(reply.ede));
  assert.ok(reply.signed, 'a refusal to a verified key is signed');
  assert.equal(b.serial(), serial);
  assert.equal(b.store.journal(Z).length, journal);
  assert.equal(b.route('fine'), undefined, 'no part of the message is applied');
  assert.deepEqual([b.route('a'), b.route('b')], before);
  return reply.ede[0];
}

describe('UPDATE refusals: outside the route model (REFUSED + EDE 18)', () => {
  it('the SOA or NS at the apex', () => {
    const b = seeded();
    const ede = refused(b, [deleteRRset(Z, Type.NS)]);
    assert.equal(ede?.code, 18);
    assert.match(ede!.text, new RegExp(`^${Z.replaceAll('.', '\\.')} NS: the zone apex`));
    refused(b, [{ name: Z, type: Type.ANY, klass: Class.ANY }]);
    refused(b, [{ name: Z, type: Type.SOA, klass: Class.IN, ttl: 60, rdata: Buffer.alloc(22) }]);
  });

  it('_epoch other than deleting its TXT RRset', () => {
    const b = seeded();
    const ede = refused(b, [addRecord(txt('_epoch', ['epoch=99']))]);
    assert.match(ede!.text, /_epoch\.123456789012.* TXT: only 'update delete <_epoch name> TXT'/);
    refused(b, [{ name: at('_epoch'), type: Type.ANY, klass: Class.ANY }]);
    refused(b, [deleteRecord(txt('_epoch', ['epoch=1']))]);
  });

  it('another type at a route name, or at its _meta name', () => {
    const b = seeded();
    const ede = refused(b, [
      { name: at('a'), type: Type.A, klass: Class.IN, ttl: 60, rdata: Buffer.from([1, 2, 3, 4]) },
    ]);
    assert.match(
      ede!.text,
      /^a\.123456789012\.us-east-1\.aws\.psarn\.internal\. A: a route name holds URI, TXT or CNAME only$/,
    );
    refused(b, [deleteRRset(at('a'), Type.AAAA)]);
    refused(b, [deleteRRset(at('_meta.a'), Type.URI)]);
  });

  it('a name outside the psARN grammar', () => {
    const b = seeded();
    for (const name of ['_x', '-dash', 'under_score._reserved', 'a.b.c.d.e.f.g.h.i']) {
      const ede = refused(b, [addRecord(uri(name, V1))]);
      assert.match(ede!.text, /not a route name/, name);
    }
  });
});

describe('UPDATE refusals: records that make no route (REFUSED + EDE 0)', () => {
  it('a TXT without URI or CNAME', () => {
    const b = seeded();
    const ede = refused(b, [addRecord(txt('lonely', ['v=psarn1', 'policy=fanout']))]);
    assert.equal(ede?.code, 0);
    assert.match(ede!.text, /^lonely\..*: a TXT without URI records or a CNAME is no route/);
  });

  it('a CNAME beside URI or TXT, either way round', () => {
    const b = seeded();
    assert.match(refused(b, [addRecord(cname('a', at('b')))])!.text, /CNAME .* cannot share a name/);
    refused(b, [addRecord(uri('b', V1))]);
    refused(b, [addRecord(txt('b', ['v=psarn1']))]);
    refused(b, [addRecord(uri('c', V1)), addRecord(txt('c', ['v=psarn1'])), addRecord(cname('c', at('a')))]);
  });

  it('an invalid target, a target the config does not allow, one that is not UTF-8', () => {
    const b = seeded();
    assert.match(refused(b, [addRecord(uri('c', 'ftp://example.com/x'))])!.text, /invalid target 'ftp:/);
    const policy = refused(b, [addRecord(uri('c', 'arn:aws:sns:us-east-1:123456789012:topic'))]);
    assert.match(policy!.text, /service 'sns' is not in targets\.services/);
    assert.match(refused(b, [addRecord(uri('c', 'https://127.0.0.1/hook'))])!.text, /loopback/);
    const bad = Buffer.concat([Buffer.from([0, 10, 0, 1]), Buffer.from('arn:\xff', 'latin1')]);
    refused(b, [{ name: at('c'), type: Type.URI, klass: Class.IN, ttl: 60, rdata: bad }]);
  });

  it('a TTL over 172800', () => {
    const b = seeded();
    assert.match(refused(b, [addRecord(uri('c', V1, 1, 10, 172801))])!.text, /TTL 172801 is over 172800/);
    assert.equal(b.send({ updates: [addRecord(uri('c', V1, 1, 10, 172800))] }).rcode, Rcode.NOERROR);
  });

  it('two TXT records at a route, a TXT that is no route TXT, a bad policy', () => {
    const b = seeded();
    assert.match(refused(b, [addRecord(txt('a', ['v=psarn1', 'policy=fanout']))])!.text, /has 2 TXT records/);
    refused(b, [deleteRRset(at('a'), Type.TXT), addRecord(txt('a', ['hello']))]);
    refused(b, [deleteRRset(at('a'), Type.TXT), addRecord(txt('a', ['v=psarn1', 'policy=random']))]);
  });

  it('metadata of no route, metadata that is not KEY=VALUE, a key twice', () => {
    const b = seeded();
    assert.match(refused(b, [addRecord(txt('_meta.none', ['k=v']))])!.text, /metadata of no route/);
    refused(b, [addRecord(txt('_meta.a', ['novalue']))]);
    refused(b, [addRecord(txt('_meta.a', ['k=1'])), addRecord(txt('_meta.a', ['k=2']))]);
  });

  it('alias checks as the CLI: a loop, a dangling alias, deleting a route aliases point at', () => {
    const b = seeded();
    assert.match(refused(b, [addRecord(cname('c', at('c')))])!.text, /loop|itself/);
    refused(b, [addRecord(cname('c', at('nothing')))]);
    assert.match(refused(b, [{ name: at('a'), type: Type.ANY, klass: Class.ANY }])!.text, /alias/);
  });
});

describe('UPDATE: zones and malformed messages', () => {
  it('a zone that is not one of ours: NOTAUTH + EDE 20; the catalog, a route name, another class', () => {
    const b = seeded();
    for (const zone of ['example.com.', 'catalog.psarn.internal.', at('a')]) {
      const reply = b.send({ zone, updates: [addRecord({ ...uri('x', V1), name: `x.${zone}` })] });
      assert.equal(reply.rcode, Rcode.NOTAUTH, zone);
      assert.equal(reply.ede[0]?.code, 20);
    }
    const ch = encodeUpdate({ id: 1, zone: Z, updates: [addRecord(uri('x', V1))] });
    ch.writeUInt16BE(Class.CH, ch.indexOf(Buffer.from([0, 6, 0, 1]), Hdr.SIZE) + 2);
    assert.equal(b.raw(signMessage(ch, updateKey, { now: () => NOW }))?.rcode, Rcode.NOTAUTH);
  });

  it('an update outside the zone: NOTZONE', () => {
    const b = seeded();
    refused(b, [addRecord({ ...uri('x', V1), name: 'x.example.com.' })], Rcode.NOTZONE);
  });

  it('update forms RFC 2136 §3.4.1 calls FORMERR', () => {
    const b = seeded();
    refused(b, [{ name: at('a'), type: Type.ANY, klass: Class.IN, ttl: 0 }], Rcode.FORMERR);
    refused(b, [{ ...deleteRRset(at('a'), Type.URI), ttl: 5 }], Rcode.FORMERR);
    refused(b, [{ ...deleteRRset(at('a'), Type.URI), rdata: Buffer.from([0, 1, 0, 1, 0x61]) }], Rcode.FORMERR);
    refused(b, [{ ...deleteRecord(uri('a', V1)), ttl: 5 }], Rcode.FORMERR);
    refused(b, [{ name: at('a'), type: Type.ANY, klass: Class.NONE }], Rcode.FORMERR);
    refused(b, [{ name: at('a'), type: Type.AXFR, klass: Class.ANY }], Rcode.FORMERR);
    refused(
      b,
      [{ name: at('a'), type: Type.URI, klass: Class.CH, ttl: 5, rdata: Buffer.from([0, 1, 0, 1, 0x61]) }],
      Rcode.FORMERR,
    );
  });

  it('an EDNS version other than 0 is BADVERS, signed, nothing changed (RFC 6891 §6.1.3)', () => {
    const b = seeded();
    const bytes = encodeUpdate({ id: 1, zone: Z, updates: [addRecord(uri('x', V1))] });
    // The OPT's TTL: extended rcode, then the version (encodeUpdate puts the OPT last).
    bytes[bytes.length - 5] = 1;
    const reply = b.raw(signMessage(bytes, updateKey, { now: () => NOW }));
    assert.equal(reply?.rcode, Rcode.BADVERS);
    assert.equal(reply?.edns?.version, 0);
    assert.equal(b.route('x'), undefined);
  });

  it('a zone section of another type is FORMERR, signed', () => {
    const b = seeded();
    const bytes = encodeUpdate({ id: 1, zone: Z, updates: [addRecord(uri('x', V1))] });
    bytes.writeUInt16BE(Type.A, bytes.indexOf(Buffer.from([0, 6, 0, 1]), Hdr.SIZE));
    assert.equal(b.raw(signMessage(bytes, updateKey, { now: () => NOW }))?.rcode, Rcode.FORMERR);
  });

  it('malformed bytes: FORMERR, never a throw, nothing changed (ZOCOUNT, truncation, bad rdata, pointer loops)', () => {
    const b = seeded();
    const serial = b.serial();
    const good = signMessage(encodeUpdate({ id: 1, zone: Z, updates: [addRecord(uri('x', V1))] }), updateKey, {
      now: () => NOW,
    });
    const zocount0 = Buffer.from(good);
    zocount0.writeUInt16BE(0, Hdr.QDCOUNT);
    assert.equal(b.raw(zocount0)?.rcode, Rcode.FORMERR);
    assert.equal(b.raw(good.subarray(0, good.length - 5))?.rcode, Rcode.FORMERR);
    // A URI of 4 bytes (no target): rdata that does not parse.
    const short = encodeUpdate({
      id: 2,
      zone: Z,
      updates: [{ name: at('x'), type: Type.URI, klass: Class.IN, ttl: 5, rdata: Buffer.from([0, 1, 0, 1]) }],
    });
    assert.equal(b.raw(short)?.rcode, Rcode.FORMERR);
    // A CNAME whose rdata points forward (at itself): not a prior occurrence.
    const loop = encodeUpdate({
      id: 3,
      zone: Z,
      updates: [{ name: at('x'), type: Type.CNAME, klass: Class.IN, ttl: 5, rdata: Buffer.from([0xc0, 0]) }],
    });
    loop.writeUInt16BE(0xc000 | (loop.length - 2), loop.length - 2);
    assert.equal(b.raw(loop)?.rcode, Rcode.FORMERR);
    // Every single-byte change of a signed UPDATE but its id (RFC 8945 §4.3.2: the MAC covers
    // the original id in the TSIG, so another message id is the same signed message): a reply or
    // a drop, never a throw or a change.
    let replies = 0;
    for (let i = 2; i < good.length; i++) {
      // (Not a case flip: the TSIG's key and algorithm names are compared without case.)
      for (const value of [0x00, 0xff, good[i]! ^ 0x01]) {
        if (value === good[i]) continue;
        const mutated = Buffer.from(good);
        mutated[i] = value;
        if (b.raw(mutated) !== undefined) replies++;
      }
    }
    assert.ok(replies > good.length, `${replies} replies`);
    assert.equal(b.serial(), serial);
    assert.equal(b.route('x'), undefined);
  });

  it('the same signed bytes replayed after the clock moved past the fudge: BADTIME, nothing changed', () => {
    const b = seeded();
    const bytes = signMessage(encodeUpdate({ id: 9, zone: Z, updates: [addRecord(uri('x', V1))] }), updateKey, {
      now: () => NOW,
    });
    assert.equal(b.raw(bytes)?.rcode, Rcode.NOERROR);
    b.send({ updates: [deleteRRset(at('x'), Type.URI)] });
    const serial = b.serial();
    b.time = NOW + 301_000;
    const again = b.raw(bytes);
    assert.equal(again?.rcode, Rcode.NOTAUTH);
    assert.equal(b.route('x'), undefined);
    assert.equal(b.serial(), serial);
  });
});
