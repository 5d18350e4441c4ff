/**
 * DNS UPDATE through the handler into a real store (RFC 2136, docs/design.md#dns-update): the
 * §2.5 forms on a route's records (route → records → apply → records → route), one transaction
 * and one serial per message, the journal's actor, the signed reply; the TSIG and ACL refusals
 * leave the store as it was.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Class, Rcode, Type } from '../../src/wire/types.js';
import { addRecord, deleteName, deleteRecord, deleteRRset, encodeUpdate, parseUpdate } from '../../src/wire/update.js';
import { at, bench, cname, LAMBDA, NOW, otherKey, txt, uri, Z } from './helpers.js';

const V1 = `${LAMBDA}v1`;
const V2 = `${LAMBDA}v2`;

describe('DNS UPDATE: adds and deletes on a route', () => {
  it('adds a route (URI + TXT) in a new zone: created, one serial, actor key:update-key, signed NOERROR', () => {
    const b = bench();
    assert.equal(b.store.zone(Z), undefined);
    const reply = b.send({
      updates: [
        addRecord(uri('created.orders', V1, 90)),
        addRecord(uri('created.orders', V2, 10)),
        addRecord(txt('created.orders', ['v=psarn1', 'policy=fanout'])),
      ],
    });
    assert.equal(reply.rcode, Rcode.NOERROR);
    assert.equal(reply.opcode, 5);
    assert.ok(reply.signed);
    assert.deepEqual(reply.question, [{ name: Z, qtype: Type.SOA, qclass: Class.IN }]);
    const route = b.route('orders/created');
    assert.equal(route?.policy, 'fanout');
    assert.equal(route?.ttl, 300);
    assert.deepEqual(route?.targets, [
      { target: V1, weight: 90, priority: 10 },
      { target: V2, weight: 10, priority: 10 },
    ]);
    const journal = b.store.journal(Z).filter((e) => e.op === 'set');
    assert.equal(journal.length, 1);
    assert.equal(journal[0]!.actor, 'key:update-key');
    assert.equal(b.changed, 1);
    const applied = b.logs.find((l) => l.msg === 'UPDATE applied');
    assert.deepEqual(
      { key: applied?.key, zone: applied?.zone, routes: applied?.routes, serial: applied?.serial },
      { key: 'update-key', zone: Z, routes: 1, serial: b.serial() },
    );
    assert.doesNotMatch(JSON.stringify(b.logs), /BwcHBwcH/, 'no secret in the log');
  });

  it('URIs without a TXT make a weighted route; the URI RRset TTL is the route TTL', () => {
    const b = bench();
    b.send({ updates: [addRecord(uri('a', V1, 1, 10, 60))] });
    assert.equal(b.route('a')?.policy, 'weighted');
    assert.equal(b.route('a')?.ttl, 60);
    // Adding to the RRset with another TTL moves the whole RRset's TTL (RFC 2181 §5.2).
    b.send({ updates: [addRecord(uri('a', V2, 1, 10, 120))] });
    assert.equal(b.route('a')?.ttl, 120);
    assert.equal(b.route('a')?.targets.length, 2);
  });

  it('changes weights: delete one RR and add it back with the new weight, in one message, one serial', () => {
    const b = bench();
    b.send({ updates: [addRecord(uri('a', V1, 90)), addRecord(uri('a', V2, 10))] });
    const serial = b.serial()!;
    const reply = b.send({
      updates: [
        deleteRecord(uri('a', V1, 90)),
        deleteRecord(uri('a', V2, 10)),
        addRecord(uri('a', V1, 50)),
        addRecord(uri('a', V2, 50)),
      ],
    });
    assert.equal(reply.rcode, Rcode.NOERROR);
    assert.deepEqual(
      b.route('a')?.targets.map((t) => t.weight),
      [50, 50],
    );
    assert.equal(b.serial(), serial + 1);
    assert.equal(b.store.journal(Z, serial).length, 1);
  });

  it('deletes an RRset, all RRsets at a name, and an RR that is not there (a no-op)', () => {
    const b = bench();
    b.send({ updates: [addRecord(uri('a', V1)), addRecord(txt('a', ['v=psarn1', 'policy=fanout']))] });
    // Delete the TXT RRset: the route stays, weighted again.
    b.send({ updates: [deleteRRset(at('a'), Type.TXT)] });
    assert.equal(b.route('a')?.policy, 'weighted');
    const serial = b.serial();
    // An RR that is not there: NOERROR, nothing written, the serial stays.
    assert.equal(b.send({ updates: [deleteRecord(uri('a', V2))] }).rcode, Rcode.NOERROR);
    assert.equal(b.serial(), serial);
    b.send({ updates: [deleteName(at('a'))] });
    assert.equal(b.route('a'), undefined);
    assert.equal(b.store.journal(Z).at(-1)?.op, 'delete');
  });

  it('deleting the last URI by its RR deletes the route', () => {
    const b = bench();
    b.send({ updates: [addRecord(uri('a', V1))] });
    b.send({ updates: [deleteRecord(uri('a', V1))] });
    assert.equal(b.route('a'), undefined);
  });

  it('adds an alias (CNAME); a new CNAME replaces the old; turning a route into an alias in one message', () => {
    const b = bench();
    b.send({ updates: [addRecord(uri('created.orders', V1)), addRecord(uri('other', V2))] });
    assert.equal(b.send({ updates: [addRecord(cname('latest.orders', at('created.orders'), 60))] }).rcode, 0);
    assert.equal(b.route('orders/latest')?.alias, at('created.orders'));
    assert.equal(b.route('orders/latest')?.ttl, 60);
    b.send({ updates: [addRecord(cname('latest.orders', at('other')))] });
    assert.equal(b.route('orders/latest')?.alias, at('other'));
    // 'other' is an alias's target: turning it into an alias is refused, as `psarn route alias` does.
    const serial = b.serial();
    const aliased = b.send({
      updates: [deleteRRset(at('other'), Type.URI), addRecord(cname('other', at('created.orders')))],
    });
    assert.equal(aliased.rcode, Rcode.REFUSED);
    assert.match(aliased.ede[0]!.text, /target of 1 alias/);
    assert.equal(b.serial(), serial);
    assert.equal(b.route('other')?.targets.length, 1);
    b.send({ updates: [addRecord(uri('third', V2))] });
    const reply = b.send({
      updates: [deleteRRset(at('third'), Type.URI), addRecord(cname('third', at('created.orders')))],
    });
    assert.equal(reply.rcode, Rcode.NOERROR, JSON.stringify(reply.ede));
    assert.equal(b.route('third')?.alias, at('created.orders'));
  });

  it('flush: deleting the _epoch TXT bumps the epoch (journal flush, actor), one serial', () => {
    const b = bench();
    b.send({ updates: [addRecord(uri('a', V1))] });
    const { epoch, serial } = b.store.zone(Z)!;
    const changed = b.changed;
    assert.equal(b.send({ updates: [deleteRRset(at('_epoch'), Type.TXT)] }).rcode, Rcode.NOERROR);
    assert.equal(b.changed, changed + 1, 'the daemon is told, so the new epoch is served and NOTIFYed at once');
    assert.equal(b.store.zone(Z)!.epoch, epoch + 1);
    assert.equal(b.store.zone(Z)!.serial, serial + 1);
    const last = b.store.journal(Z).at(-1)!;
    assert.equal(last.op, 'flush');
    assert.equal(last.actor, 'key:update-key');
  });

  it('metadata: a TXT per entry at _meta.<route>, kept when the route changes, gone with the route', () => {
    const b = bench();
    b.send({ updates: [addRecord(uri('a', V1)), addRecord(txt('_meta.a', ['owner=team-a']))] });
    assert.deepEqual(b.route('a')?.metadata, { owner: 'team-a' });
    b.send({ updates: [addRecord(uri('a', V2))] });
    assert.deepEqual(b.route('a')?.metadata, { owner: 'team-a' });
    b.send({
      updates: [deleteRecord(txt('_meta.a', ['owner=team-a'])), addRecord(txt('_meta.a', ['owner=', 'team-b']))],
    });
    assert.deepEqual(b.route('a')?.metadata, { owner: 'team-b' });
    b.send({ updates: [deleteName(at('a'))] });
    assert.equal(b.route('a'), undefined);
  });
});

describe('DNS UPDATE: who may', () => {
  it('unsigned: REFUSED + EDE 18, nothing changed, unsigned reply', () => {
    const b = bench();
    const reply = b.send({ updates: [addRecord(uri('a', V1))] }, { key: null });
    assert.equal(reply.rcode, Rcode.REFUSED);
    assert.equal(reply.ede[0]?.code, 18);
    assert.match(reply.ede[0]!.text, /TSIG/);
    assert.equal(b.store.zone(Z), undefined);
  });

  it('a valid key not in update.allow: REFUSED + EDE 18, signed, nothing changed', async () => {
    const b = bench();
    const reply = b.send({ updates: [addRecord(uri('a', V1))] }, { key: otherKey });
    assert.equal(reply.rcode, Rcode.REFUSED);
    assert.ok(reply.signed);
    assert.equal(reply.ede[0]?.code, 18);
    assert.match(reply.ede[0]!.text, /other-key.*update\.allow/);
    assert.equal(b.store.zone(Z), undefined);
    assert.match(await b.metrics.registry.getSingleMetricAsString('psarn_dns_updates_total'), /result="refused"} 1/);
  });

  it('an old time (a replay): NOTAUTH + BADTIME, nothing changed', () => {
    const b = bench();
    const reply = b.send({ updates: [addRecord(uri('a', V1))] }, { now: NOW - 301_000 });
    assert.equal(reply.rcode, Rcode.NOTAUTH);
    assert.equal(b.store.zone(Z), undefined);
  });

  it('a secondary refuses every UPDATE, naming its primary', () => {
    const b = bench((c) => ({ ...c, secondary: { primary: { host: '10.0.0.5', port: 8053 }, zones: 'catalog' } }));
    const reply = b.send({ updates: [addRecord(uri('a', V1))] });
    assert.equal(reply.rcode, Rcode.REFUSED);
    assert.deepEqual(reply.ede, [
      { code: 18, text: 'this server is a secondary of 10.0.0.5:8053; send UPDATEs to the primary' },
    ]);
    assert.equal(b.store.zone(Z), undefined);
  });
});

describe('parseUpdate', () => {
  it('reads the zone, prerequisite and update sections, names lowercased, rdata canonical', () => {
    const bytes = encodeUpdate({
      id: 3,
      zone: Z.toUpperCase(),
      updates: [addRecord(cname('A', `${Z}`)), deleteRRset(at('B'), Type.URI)],
    });
    const parsed = parseUpdate(bytes);
    assert.equal(parsed.kind, 'update');
    if (parsed.kind !== 'update') return;
    assert.equal(parsed.update.zone, Z);
    assert.equal(parsed.update.updates.length, 2);
    assert.equal(parsed.update.updates[0]!.name, at('a'));
    assert.equal(parsed.update.updates[1]!.klass, Class.ANY);
  });
});
