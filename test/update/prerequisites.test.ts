/**
 * RFC 2136 §2.4 / §3.2 prerequisites on the route model (docs/design.md#dns-update): each of the
 * five forms, on routes, on `_epoch`, on the apex, on an empty non-terminal, on a zone not yet
 * created; a failure answers its rcode and applies nothing of the message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rcode, Type } from '../../src/wire/types.js';
import {
  addRecord,
  nameInUse,
  nameNotInUse,
  rrsetAbsent,
  rrsetExists,
  rrsetIs,
  type UpdateRecordSpec,
} from '../../src/wire/update.js';
import { at, bench, cname, LAMBDA, txt, uri, Z } from './helpers.js';

const V1 = `${LAMBDA}v1`;
const V2 = `${LAMBDA}v2`;
const NEW = addRecord(uri('new', V1));

/** A bench holding route a (two targets, fanout, metadata) and alias b -> a. */
function seeded() {
  const b = bench();
  const reply = b.send({
    updates: [
      addRecord(uri('a', V1, 90)),
      addRecord(uri('a', V2, 10)),
      addRecord(txt('a', ['v=psarn1', 'policy=fanout'])),
      addRecord(txt('_meta.a', ['owner=team-a'])),
      addRecord(cname('b', at('a'))),
    ],
  });
  assert.equal(reply.rcode, Rcode.NOERROR, JSON.stringify(reply.ede));
  return b;
}

/** Sends the prerequisites with one update; returns the rcode, and checks nothing changed unless NOERROR. */
function check(b: ReturnType<typeof bench>, prerequisites: UpdateRecordSpec[]): number {
  const serial = b.serial();
  const reply = b.send({ prerequisites, updates: [NEW] });
  if (reply.rcode === Rcode.NOERROR) {
    assert.notEqual(b.route('new'), undefined);
    b.send({ updates: [{ name: at('new'), type: Type.ANY, klass: 255 }] });
  } else {
    assert.equal(b.route('new'), undefined, 'a failed prerequisite applies nothing');
    assert.equal(b.serial(), serial);
  }
  return reply.rcode;
}

describe('UPDATE prerequisites (RFC 2136 §2.4)', () => {
  it('§2.4.4 name is in use: a route, its _meta, _epoch, the apex; not an empty non-terminal, not a free name', () => {
    const b = seeded();
    for (const name of ['a', 'b', '_meta.a', '_epoch']) assert.equal(check(b, [nameInUse(at(name))]), 0, name);
    assert.equal(check(b, [nameInUse(Z)]), Rcode.NOERROR);
    assert.equal(check(b, [nameInUse(at('free'))]), Rcode.NXDOMAIN);
    b.send({ updates: [addRecord(uri('created.orders', V1))] });
    // 'orders' is only the parent of a route: no RR there (RFC 2136 §2.4.4 asks for one).
    assert.equal(check(b, [nameInUse(at('orders'))]), Rcode.NXDOMAIN);
    assert.equal(check(b, [nameInUse(at('_meta.b'))]), Rcode.NXDOMAIN, 'b has no metadata');
  });

  it('§2.4.5 name is not in use', () => {
    const b = seeded();
    assert.equal(check(b, [nameNotInUse(at('free'))]), Rcode.NOERROR);
    assert.equal(check(b, [nameNotInUse(at('a'))]), Rcode.YXDOMAIN);
    assert.equal(check(b, [nameNotInUse(at('_epoch'))]), Rcode.YXDOMAIN);
  });

  it('§2.4.1 RRset exists (value independent)', () => {
    const b = seeded();
    assert.equal(check(b, [rrsetExists(at('a'), Type.URI), rrsetExists(at('a'), Type.TXT)]), 0);
    assert.equal(check(b, [rrsetExists(at('b'), Type.CNAME)]), 0);
    assert.equal(check(b, [rrsetExists(Z, Type.SOA), rrsetExists(Z, Type.NS)]), 0);
    assert.equal(check(b, [rrsetExists(at('a'), Type.CNAME)]), Rcode.NXRRSET);
    assert.equal(check(b, [rrsetExists(at('b'), Type.URI)]), Rcode.NXRRSET);
    assert.equal(check(b, [rrsetExists(at('a'), Type.A)]), Rcode.NXRRSET);
  });

  it('§2.4.3 RRset does not exist', () => {
    const b = seeded();
    assert.equal(check(b, [rrsetAbsent(at('a'), Type.CNAME)]), 0);
    assert.equal(check(b, [rrsetAbsent(at('free'), Type.URI)]), 0);
    assert.equal(check(b, [rrsetAbsent(at('a'), Type.TXT)]), Rcode.YXRRSET);
    assert.equal(check(b, [rrsetAbsent(at('_meta.a'), Type.TXT)]), Rcode.YXRRSET);
  });

  it('§2.4.2 RRset exists (value dependent): the whole set, TTL ignored; a route TXT compared without its epoch', () => {
    const b = seeded();
    const whole = [rrsetIs(uri('a', V1, 90, 10, 7)), rrsetIs(uri('a', V2, 10))];
    assert.equal(check(b, whole), Rcode.NOERROR);
    assert.equal(check(b, [rrsetIs(uri('a', V1, 90))]), Rcode.NXRRSET, 'a subset is not the set');
    assert.equal(check(b, [...whole, rrsetIs(uri('a', `${LAMBDA}v3`))]), Rcode.NXRRSET, 'nor a superset');
    assert.equal(check(b, [rrsetIs(uri('a', V1, 91)), rrsetIs(uri('a', V2, 10))]), Rcode.NXRRSET);
    assert.equal(check(b, [rrsetIs(txt('a', ['v=psarn1', 'policy=fanout']))]), Rcode.NOERROR);
    assert.equal(check(b, [rrsetIs(txt('a', ['v=psarn1', 'policy=fanout', 'epoch=1']))]), Rcode.NOERROR);
    assert.equal(check(b, [rrsetIs(txt('a', ['v=psarn1', 'policy=weighted']))]), Rcode.NXRRSET);
    assert.equal(check(b, [rrsetIs(cname('b', at('A')))]), Rcode.NOERROR, 'names compare without case');
    assert.equal(check(b, [rrsetIs(txt('_meta.a', ['owner=', 'team-a']))]), Rcode.NOERROR, 'metadata by its text');
    // _epoch's TXT is compared as it is: an epoch test-and-set.
    const epoch = b.store.zone(Z)!.epoch;
    assert.equal(check(b, [rrsetIs(txt('_epoch', [`epoch=${epoch}`], 5))]), Rcode.NOERROR);
    assert.equal(check(b, [rrsetIs(txt('_epoch', [`epoch=${epoch + 1}`], 5))]), Rcode.NXRRSET);
  });

  it('on a zone not created yet nothing is in use, not even the apex', () => {
    const b = bench();
    assert.equal(check(b, [nameInUse(Z)]), Rcode.NXDOMAIN);
    assert.equal(check(b, [rrsetExists(Z, Type.SOA)]), Rcode.NXRRSET);
    assert.equal(check(b, [nameNotInUse(at('a'))]), Rcode.NOERROR);
  });

  it('prerequisites are checked before the updates are refused (RFC 2136 §3.2 before §3.4)', () => {
    const b = seeded();
    const reply = b.send({
      prerequisites: [rrsetExists(at('free'), Type.URI)],
      updates: [{ name: at('a'), type: Type.A, klass: 1, ttl: 60, rdata: Buffer.from([1, 2, 3, 4]) }],
    });
    assert.equal(reply.rcode, Rcode.NXRRSET);
    assert.match(reply.ede[0]!.text, /prerequisite failed: no URI RRset at free\./);
  });

  it('a prerequisite of the wrong form is FORMERR; one outside the zone NOTZONE', () => {
    const b = seeded();
    const send = (p: UpdateRecordSpec) => b.send({ prerequisites: [p], updates: [NEW] }).rcode;
    assert.equal(send({ ...rrsetExists(at('a'), Type.URI), ttl: 5 }), Rcode.FORMERR);
    assert.equal(send({ ...rrsetExists(at('a'), Type.URI), rdata: Buffer.from([0]) }), Rcode.FORMERR);
    assert.equal(send({ name: at('a'), type: Type.ANY, klass: 1 }), Rcode.FORMERR);
    assert.equal(send({ name: at('a'), type: Type.URI, klass: 3 }), Rcode.FORMERR);
    assert.equal(send(nameInUse('example.com.')), Rcode.NOTZONE);
    assert.equal(b.route('new'), undefined);
  });
});
