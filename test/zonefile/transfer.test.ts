/** AXFR and condensed IXFR generation (src/zonefile/transfer.ts): decoded with our decoder, compared with export. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { JOURNAL_PRUNE_EVERY } from '../../src/store/store.js';
import type { RouteSpec, ZoneRow } from '../../src/store/types.js';
import { type DecodedRecord, decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { parseQuery } from '../../src/wire/query.js';
import type { DnsRecord } from '../../src/wire/types.js';
import { Type } from '../../src/wire/types.js';
import { exportZone } from '../../src/zonefile/export.js';
import { formatRecord } from '../../src/zonefile/presentation.js';
import {
  axfrRecords,
  encodeIxfrQuery,
  ixfrPlan,
  packMessages,
  type TransferQuery,
} from '../../src/zonefile/transfer.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';
import { makeRoutes } from './fixtures.js';

const EPOCH_TTL = 5;

function fill(store: Store, count: number): void {
  const routes = makeRoutes(count).map((r) => ({
    path: r.path,
    spec: (r.alias !== undefined
      ? { ttl: r.ttl, alias: r.alias, metadata: r.path.endsWith('7') ? { team: 'orders', note: 'a "b"; c' } : {} }
      : { policy: r.policy ?? 'weighted', ttl: r.ttl, targets: r.targets }) as RouteSpec,
  }));
  store.importZones([{ name: ZONE, routes }], PARAMS);
}

/** The export's record lines (no comments, no $ directives). */
function exportLines(store: Store, zone: ZoneRow): string[] {
  const text = [...exportZone(zone, store.listRoutes(zone.name), { epochTtl: EPOCH_TTL })].join('');
  return text.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !l.startsWith('$'));
}

const line = (rr: DecodedRecord) => formatRecord(rr as DnsRecord);

function axfrQuery(id = 7, edns = false): { request: Buffer; query: TransferQuery } {
  const request = encodeQuery({ id, name: ZONE, qtype: Type.AXFR, edns: edns ? {} : false });
  const parsed = parseQuery(request);
  assert.equal(parsed.kind, 'query');
  return { request, query: (parsed as { query: TransferQuery }).query };
}

describe('AXFR', () => {
  const store = Store.open(':memory:');
  fill(store, 3000);
  store.setRoute(
    ZONE,
    'meta/route',
    { policy: 'fanout', ttl: 60, targets: makeRoutes(1)[0]!.targets, metadata: { owner: 'ops', 'k=%': 'caf\u00e9' } },
    PARAMS,
  );
  const zone = store.zone(ZONE)!;

  for (const [maxSize, edns] of [
    [65535, false],
    [65535, true],
    [1232, true],
  ] as const) {
    it(`messages of at most ${maxSize} bytes${edns ? ' with EDNS' : ''} hold exactly the export's records, SOA first and last`, () => {
      const { request, query } = axfrQuery(4242, edns);
      const messages = [
        ...packMessages(request, query, axfrRecords(store, zone, EPOCH_TTL), { maxSize, udpPayloadSize: 1232 }),
      ];
      assert.ok(messages.length > 1, `${messages.length} messages`);
      const answers: DecodedRecord[] = [];
      messages.forEach((buf, i) => {
        assert.ok(buf.length <= maxSize, `message ${i}: ${buf.length} bytes`);
        const m = decodeMessage(buf);
        assert.equal(m.id, 4242);
        assert.ok(m.qr && m.aa && !m.tc);
        assert.equal(m.rcode, 0);
        assert.equal(m.question.length, i === 0 ? 1 : 0);
        assert.equal(m.edns !== undefined, edns);
        answers.push(...m.answer);
        // As large as fits: the next message's first record would not have fitted in this one.
        if (i < messages.length - 1) assert.ok(buf.length > maxSize - 600, `message ${i} only ${buf.length} bytes`);
      });
      assert.equal(answers[0]!.type, 'SOA');
      assert.equal(answers.at(-1)!.type, 'SOA');
      assert.deepEqual(answers.slice(0, -1).map(line), exportLines(store, zone));
      assert.equal(line(answers.at(-1)!), line(answers[0]!));
      // The _epoch TXT and the metadata are there, as the export writes them.
      assert.ok(answers.some((rr) => rr.name === `_epoch.${ZONE}`));
      assert.ok(answers.some((rr) => rr.name === `_meta.route.meta.${ZONE}`));
    });
  }

  it('is lazy: taking the first message reads only the first routes', () => {
    const { request, query } = axfrQuery();
    let read = 0;
    const counted = (function* () {
      for (const rr of axfrRecords(store, zone, EPOCH_TTL)) {
        read++;
        yield rr;
      }
    })();
    const it = packMessages(request, query, counted, { maxSize: 65535, udpPayloadSize: 1232 });
    it.next();
    assert.ok(read < 2000, `${read} records read for one message`);
    it.return(undefined);
  });
});

describe('IXFR', () => {
  const t = (name: string) => ({
    target: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    weight: 1,
    priority: 10,
  });
  const spec = (...names: string[]): RouteSpec => ({ policy: 'weighted', ttl: 300, targets: names.map(t) });

  function setup(keep?: number) {
    const store = Store.open(':memory:', keep === undefined ? {} : { journalKeep: keep });
    store.setRoute(ZONE, 'a', spec('a1', 'a2'), PARAMS);
    store.setRoute(ZONE, 'b', spec('b1'), PARAMS);
    store.setRoute(ZONE, 'keep', spec('k'), PARAMS);
    return store;
  }

  const rdata = (rrs: DnsRecord[]) => rrs.map(formatRecord);

  it('condenses the changes since a serial into one difference sequence', () => {
    const store = setup();
    const from = store.zone(ZONE)!.serial;
    store.setRoute(ZONE, 'a', spec('a1', 'a3'), PARAMS); // a2 -> a3
    store.setRoute(ZONE, 'a', spec('a1', 'a4'), PARAMS); // a3 -> a4: a3 never shows
    store.deleteRoute(ZONE, 'b');
    store.setRoute(ZONE, 'c', spec('c1'), PARAMS);
    store.setRoute(ZONE, 'c', { ttl: 60, alias: `a.${ZONE}` }, PARAMS); // created then changed: only the alias
    store.setRoute(ZONE, 'keep', spec('x'), PARAMS);
    store.setRoute(ZONE, 'keep', spec('k'), PARAMS); // back as it was: in neither list
    const zone = store.zone(ZONE)!;
    const plan = store.read(() => ixfrPlan(store, zone, from));
    assert.equal(plan.kind, 'ixfr');
    if (plan.kind !== 'ixfr') return;
    const soa = (serial: number) =>
      `${ZONE}\t3600\tIN\tSOA\tns.psarn.internal. hostmaster.psarn.internal. ${serial} 3600 600 86400 30`;
    const uri = (owner: string, name: string) =>
      `${owner}.${ZONE}\t300\tIN\tURI\t10 1 "arn:aws:lambda:us-east-1:123456789012:function:${name}"`;
    assert.deepEqual(rdata(plan.records), [
      soa(zone.serial),
      soa(from),
      uri('a', 'a2'),
      uri('b', 'b1'),
      `b.${ZONE}\t300\tIN\tTXT\t"v=psarn1" "policy=weighted" "epoch=1"`,
      soa(zone.serial),
      uri('a', 'a4'),
      `c.${ZONE}\t60\tIN\tCNAME\ta.${ZONE}`,
      soa(zone.serial),
    ]);
    assert.deepEqual([plan.deleted, plan.added], [3, 2]);
  });

  it('carries metadata changes as _meta TXT records', () => {
    const store = setup();
    const from = store.zone(ZONE)!.serial;
    store.setRoute(ZONE, 'a', { ...spec('a1', 'a2'), metadata: { team: 'orders' } }, PARAMS);
    const zone = store.zone(ZONE)!;
    const plan = store.read(() => ixfrPlan(store, zone, from));
    assert.ok(plan.kind === 'ixfr');
    assert.deepEqual(rdata(plan.records).slice(2, -1), [
      rdata([{ ...plan.records[0]! }])[0],
      `_meta.a.${ZONE}\t300\tIN\tTXT\t"team=orders"`,
    ]);
  });

  it('the current serial or a newer one gets the SOA alone (RFC 1995 §2)', () => {
    const store = setup();
    const zone = store.zone(ZONE)!;
    assert.deepEqual(ixfrPlan(store, zone, zone.serial), { kind: 'current' });
    assert.deepEqual(ixfrPlan(store, zone, zone.serial + 5), { kind: 'current' });
    // RFC 1982: 2^31 - 1 ahead is ahead; behind by wrap-around is behind.
    assert.equal(ixfrPlan(store, zone, (zone.serial + 2 ** 31 + 10) % 2 ** 32).kind, 'axfr');
  });

  it('falls back to AXFR when the journal no longer reaches the serial, or a flush or import lies between', () => {
    const pruned = setup(3);
    const from = pruned.zone(ZONE)!.serial;
    for (let i = 0; i < JOURNAL_PRUNE_EVERY; i++) pruned.setRoute(ZONE, `r${i}`, spec('z'), PARAMS);
    const plan = ixfrPlan(pruned, pruned.zone(ZONE)!, from);
    assert.equal(plan.kind, 'axfr');
    assert.match((plan as { reason: string }).reason, /no longer reaches serial 4/);

    const flushed = setup();
    const before = flushed.zone(ZONE)!.serial;
    flushed.flush(ZONE);
    assert.match((ixfrPlan(flushed, flushed.zone(ZONE)!, before) as { reason: string }).reason, /a flush at serial 5/);

    const imported = setup();
    const was = imported.zone(ZONE)!.serial;
    imported.importZones([{ name: ZONE, routes: [] }], PARAMS);
    assert.equal(ixfrPlan(imported, imported.zone(ZONE)!, was).kind, 'axfr');
    // A serial this zone never had.
    assert.equal(ixfrPlan(imported, imported.zone(ZONE)!, 3_000_000).kind, 'current');
  });

  it('encodeIxfrQuery carries the serial in an authority SOA that our parser accepts', () => {
    const request = encodeIxfrQuery(ZONE, 12345, 99);
    assert.equal(parseQuery(request).kind, 'query');
    const m = decodeMessage(request);
    assert.equal(m.question[0]!.qtype, Type.IXFR);
    assert.equal((m.authority[0] as { serial: number }).serial, 12345);
  });
});
