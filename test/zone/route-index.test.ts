/**
 * RouteIndex: the core property is that a QueryHandler answering URI, TXT and ANY questions from
 * the index replies byte for byte as one answering through the answer function (and its cache),
 * for any route the store can hold, any question case, EDNS size, DO bit and transport. The
 * rest covers set/delete/lookup semantics, hash collisions, compaction, rehash and snapshots.
 * Random routes come from a seeded PRNG: a failure names its seed (set PSARN_TEST_SEED to rerun).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics, type Proto } from '../../src/server/metrics.js';
import type { RouteData, TargetSpec, ZoneRow } from '../../src/store/types.js';
import { decodeMessage, encodeQuery, type QueryOptions } from '../../src/wire/message.js';
import { parseQuery } from '../../src/wire/query.js';
import { assembleResponse } from '../../src/wire/response.js';
import { type DnsRecord, Rcode, Type } from '../../src/wire/types.js';
import { answer } from '../../src/zone/answer.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { encodeAnswer } from '../../src/zone/encode.js';
import { RouteIndex } from '../../src/zone/route-index.js';
import type { RouteRecords } from '../../src/zone/route-wire.js';
import { nameLabels } from '../../src/zone/view.js';
import { formatRecord } from '../../src/zonefile/presentation.js';
import { PARAMS, ZONE as Z } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';
import { prng as mulberry32 } from '../wire/build.js';

const Z2 = '210987654321.eu-west-1.aws.psarn.internal.';
const SEED = Number(process.env.PSARN_TEST_SEED ?? 0x5eed1234);
const ZONES = `
$ORIGIN ${Z}
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 7 3600 600 86400 30
@ 3600 IN NS ns.psarn.internal.
$ORIGIN ${Z2}
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 9 3600 600 86400 60
@ 3600 IN NS ns.psarn.internal.
`;
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
const TCP_MAX = 65535;
/** Where writeRecords writes, as the handler's scratch: one for the file, not 64 KiB per call. */
const scratch = Buffer.allocUnsafe(TCP_MAX);

/** Integers below n, from build.ts's seeded mulberry32: the same sequence on every run. */
function prng(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => Math.floor(next() * n);
}

/** An empty view of Z (epoch 0) and Z2 (the largest epoch a u32 holds), routes added with put(). */
function emptyView(): MemoryView {
  const view = new MemoryView(ZONES);
  view.zones.get(Z)!.epoch = 0;
  view.zones.get(Z2)!.epoch = 4294967295;
  return view;
}

function put(view: MemoryView, zone: string, path: string, route: RouteData): void {
  view.routes.get(zone)!.set(path, { zone, path, metadata: {}, serial: 1, updatedAt: 0, ...route });
}

/** Every route of the view in a new index, as buildRouteIndex does from the store. */
function indexOf(view: MemoryView): RouteIndex {
  const index = new RouteIndex();
  for (const zone of view.zones.values()) {
    index.setZone(zone.name, zone.epoch);
    for (const [path, route] of view.routes.get(zone.name)!) index.set(zone.name, path, route);
  }
  return index;
}

const weighted = (...targets: string[]): RouteData => ({
  ttl: 300,
  policy: 'weighted',
  targets: targets.map((target, i) => ({ target, weight: 10 * (i + 1), priority: 10 })),
});

function routeName(zone: string, path: string): string {
  return `${path.split('/').reverse().join('.')}.${zone}`;
}

/** A name in wire form; labels as latin1, so a test can put any byte in them. */
function wire(name: string): Buffer {
  const labels = name === '.' ? [] : name.slice(0, -1).split('.');
  const out = Buffer.alloc(labels.reduce((n, l) => n + 1 + l.length, 1));
  let p = 0;
  for (const label of labels) {
    out[p] = label.length;
    p += 1 + out.write(label, p + 1, 'latin1');
  }
  return out;
}

function find(index: RouteIndex, name: string): number {
  const w = wire(name);
  return index.lookup(w, 0, w.length);
}

/**
 * What the index answers for a question, as presentation lines (answer then additional), or
 * undefined on a miss: the body is put behind a header and question as the handler does.
 */
function present(index: RouteIndex, name: string, qtype: number): string[] | undefined {
  const request = encodeQuery({ id: 1, name, qtype, edns: false });
  const parsed = parseQuery(request);
  if (parsed.kind !== 'query') throw new Error(`${name}: ${parsed.kind}`);
  const ref = index.lookup(request, 12, parsed.query.questionEnd - 4);
  if (ref < 0) return undefined;
  const body: RouteRecords = { end: 0, ancount: 0, arcount: 0, additionalAt: 0 };
  assert.ok(index.writeRecords(ref, qtype, scratch, body));
  const ready = {
    rcode: Rcode.NOERROR,
    aa: true,
    ancount: body.ancount,
    nscount: 0,
    arcount: body.arcount,
    additionalAt: body.additionalAt,
    body: scratch.subarray(0, body.end),
  };
  const reply = assembleResponse(request, parsed.query, ready, { maxSize: TCP_MAX, udpPayloadSize: 1232 });
  const m = decodeMessage(reply.buf);
  return [...m.answer, ...m.additional].map((r) => formatRecord(r as DnsRecord));
}

/** Presentation text with single spaces, as formatRecord writes it (tab separated). */
function rr(line: string): string {
  const [owner, ttl, cls, type, ...rest] = line.split(' ');
  return [owner, ttl, cls, type, rest.join(' ')].join('\t');
}

/** The body the answer function's reply encodes to, for a question in lowercase, and where its additional section starts. */
function expectedBody(view: MemoryView, name: string, qtype: number): { body: Buffer; additionalAt: number } {
  const question = Buffer.concat([wire(name.toLowerCase()), Buffer.from([qtype >> 8, qtype & 0xff, 0, 1])]);
  const { body, additionalAt } = encodeAnswer(question, answer({ labels: nameLabels(name), qtype }, view));
  return { body, additionalAt };
}

function indexedBody(
  index: RouteIndex,
  name: string,
  qtype: number,
): { body: Buffer; additionalAt: number } | undefined {
  const ref = find(index, name);
  if (ref < 0) return undefined;
  const body: RouteRecords = { end: 0, ancount: 0, arcount: 0, additionalAt: 0 };
  assert.ok(index.writeRecords(ref, qtype, scratch, body), `${name}: writeRecords`);
  return { body: Buffer.from(scratch.subarray(0, body.end)), additionalAt: body.additionalAt };
}

/** Two handlers over one view: one with the route index, one answering through the answer function. */
function pair(view: MemoryView, index: RouteIndex) {
  const make = (withIndex: boolean) => {
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const handler = new QueryHandler({
      view,
      cache: new AnswerCache(),
      ...(withIndex ? { routes: { index } } : {}),
      metrics,
      log: pino({ level: 'silent' }),
      udpPayloadSize: 1232,
    });
    return { handler, metrics };
  };
  const indexed = make(true);
  const plain = make(false);
  return {
    /** Both replies to the same bytes. */
    ask(request: Buffer, proto: Proto): { got: Buffer; want: Buffer } {
      const got = indexed.handler.handle(request, proto);
      const want = plain.handler.handle(request, proto);
      assert.ok(got && want);
      return { got, want };
    },
    hits: () => indexed.metrics.indexHits.series().value,
  };
}

// --- random routes ----------------------------------------------------------------------------

const SEGMENT_FIRST = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SEGMENT_REST = `${SEGMENT_FIRST}-_`;

function segment(rand: (n: number) => number, length: number): string {
  let s = SEGMENT_FIRST[rand(SEGMENT_FIRST.length)]!;
  while (s.length < length) s += SEGMENT_REST[rand(SEGMENT_REST.length)];
  return s;
}

/** 1..8 segments, lengths 1..63 (16 and 48 often: they fold together in the hash), name <= 255 octets. */
function randomPath(rand: (n: number) => number, zone: string): string {
  const count = 1 + rand(8);
  const lengths = Array.from({ length: count }, () => [16, 48, 63, 1][rand(6)] ?? 1 + rand(20));
  // Wire length: labels + the zone's (its text length + 1 for the root).
  while (lengths.reduce((n, l) => n + 1 + l, 0) + zone.length + 1 > 255) lengths.pop();
  return lengths.map((l) => segment(rand, l)).join('/');
}

const u16 = (rand: (n: number) => number) => [0, 1, 10, 65535][rand(6)] ?? rand(65536);

/** Targets of every shape the prefix split meets. `i` keeps them distinct within a route. */
function randomTarget(rand: (n: number) => number, i: number): string {
  const word = segment(rand, 1 + rand(24));
  switch (rand(10)) {
    case 0:
      return `${LAMBDA}${word}-${i}`;
    case 1:
      return `arn:aws:sqs:us-east-1:123456789012:${word}${i}`;
    case 2:
      return `https://example.com/ü${i}`; // non-ASCII in the suffix
    case 3:
      return `https://hööks.example/${word}/${i}`; // non-ASCII in the interned prefix
    case 4:
      return `https://example.com/🚀/${word}${i}🚀`; // 4-byte UTF-8
    case 5:
      return `plain-${word}-${i}`; // no ':' or '/': no prefix at all
    case 6:
      return `a:${i}`; // a prefix shorter than worth interning
    case 7:
      return `https://example.com/${word}/${i}/`; // empty suffix
    case 8:
      return `https://${'long-host.'.repeat(1 + rand(20))}example/${'x'.repeat(rand(300))}${i}`;
    default:
      return `arn:aws:states:us-east-1:123456789012:stateMachine:${word}${i}`;
  }
}

function randomRoute(rand: (n: number) => number): RouteData {
  const targets: TargetSpec[] = Array.from({ length: 1 + rand(20) }, (_, i) => ({
    target: randomTarget(rand, i),
    weight: u16(rand),
    priority: u16(rand),
  }));
  const ttl = [0, 1, 300, 172800][rand(6)] ?? rand(172801);
  return { ttl, policy: rand(2) === 0 ? 'weighted' : 'fanout', targets };
}

interface Entry {
  zone: string;
  path: string;
  name: string;
}

/** A view with `count` random target routes spread over both zones. */
function randomZones(rand: (n: number) => number, count: number): { view: MemoryView; routes: Entry[] } {
  const view = emptyView();
  const routes: Entry[] = [];
  while (routes.length < count) {
    const zone = rand(3) === 0 ? Z2 : Z;
    const path = randomPath(rand, zone);
    if (view.routes.get(zone)!.has(path)) continue;
    put(view, zone, path, randomRoute(rand));
    routes.push({ zone, path, name: routeName(zone, path) });
  }
  return { view, routes };
}

function mixedCase(rand: (n: number) => number, name: string): string {
  let out = '';
  for (const c of name) out += rand(2) === 0 ? c.toUpperCase() : c;
  return out;
}

type Edns = QueryOptions['edns'];
const EDNS: Edns[] = [
  false,
  { udpSize: 512 },
  { udpSize: 1232 },
  { udpSize: 4096, do: true },
  { udpSize: 800, do: true },
];

describe('RouteIndex answers as the answer function does', () => {
  it('byte for byte, for random routes, every case, EDNS size, DO bit and transport', () => {
    const rand = prng(SEED);
    const { view, routes } = randomZones(rand, 100);
    const index = indexOf(view);
    assert.equal(index.size, routes.length);
    const { ask, hits } = pair(view, index);
    let asked = 0;
    let truncated = 0;
    /** URI replies that fit only without their additional TXT (RFC 2181 §9). */
    let dropped = 0;
    for (const { name } of routes) {
      for (const qtype of [Type.URI, Type.TXT, Type.ANY]) {
        for (const qname of [name, name.toUpperCase(), mixedCase(rand, name)]) {
          for (const edns of EDNS) {
            for (const proto of ['udp', 'tcp'] as const) {
              const request = encodeQuery({ id: rand(65536), name: qname, qtype, edns, rd: rand(2) === 0 });
              const { got, want } = ask(request, proto);
              asked++;
              if (!got.equals(want)) {
                assert.fail(
                  `seed ${SEED}: ${qname} type ${qtype} edns ${JSON.stringify(edns)} ${proto}:\n` +
                    `index  ${got.toString('hex')}\nanswer ${want.toString('hex')}`,
                );
              }
              const m = decodeMessage(got);
              if (m.tc) truncated++;
              else if (qtype === Type.URI && m.additional.length === 0) dropped++;
            }
          }
        }
      }
    }
    assert.equal(hits(), asked, 'every question was answered from the index');
    // The sizes were chosen so both kinds occur: the comparison covered truncation too.
    assert.ok(truncated > 0 && truncated < asked, `truncated ${truncated} of ${asked}`);
    assert.ok(dropped > 0, 'some URI replies lost only their additional TXT');
  });

  it('leaves every other question to the answer function, which answers as before', () => {
    const view = emptyView();
    put(view, Z, 'orders/created', weighted(`${LAMBDA}v1`, `${LAMBDA}v2`));
    put(view, Z, 'orders/latest', { ttl: 60, targets: [], alias: routeName(Z, 'orders/created') });
    put(view, Z2, 'payments/charge', weighted('https://pay.example.com/charge'));
    put(view, Z2, 'cross', { ttl: 30, targets: [], alias: routeName(Z, 'orders/created') });
    const index = indexOf(view);
    assert.equal(index.size, 2, 'aliases are not indexed');
    const { ask, hits } = pair(view, index);
    const created = routeName(Z, 'orders/created');
    const cases: [string, number][] = [
      [created, Type.A],
      [created, Type.AAAA],
      [created, Type.CNAME],
      [created, Type.SOA],
      [routeName(Z, 'orders/latest'), Type.URI], // CNAME, then the target's URI set
      [routeName(Z, 'orders/latest'), Type.TXT],
      [routeName(Z, 'orders/latest'), Type.ANY],
      [routeName(Z2, 'cross'), Type.URI],
      [routeName(Z, 'orders/missing'), Type.URI], // NXDOMAIN
      [routeName(Z, 'orders/created/x'), Type.URI], // below a route: NXDOMAIN
      [routeName(Z2, 'orders/created'), Type.URI], // the path of a Z route, in Z2: NXDOMAIN
      [routeName(Z, 'orders'), Type.URI], // empty non-terminal: NODATA
      [routeName(Z, 'orders'), Type.ANY],
      [Z, Type.URI],
      [Z, Type.ANY],
      [Z, Type.SOA],
      [Z2, Type.TXT],
      [`_epoch.${Z}`, Type.TXT],
      [`_epoch.${Z2}`, Type.ANY],
      [`_epoch.${Z}`, Type.URI],
      ['www.example.com.', Type.URI], // REFUSED
      [`-bad.${Z}`, Type.TXT], // outside the segment grammar: NXDOMAIN
      [`bad!label.orders.${Z}`, Type.URI],
    ];
    for (const [name, qtype] of cases) {
      for (const qname of [name, name.toUpperCase()]) {
        for (const proto of ['udp', 'tcp'] as const) {
          const { got, want } = ask(encodeQuery({ id: 77, name: qname, qtype }), proto);
          assert.deepEqual(got, want, `${qname} type ${qtype} ${proto}`);
        }
      }
    }
    assert.equal(hits(), 0, 'none of these came from the index');
    // And the same handler does answer the target routes from it.
    ask(encodeQuery({ id: 1, name: created, qtype: Type.URI }), 'udp');
    assert.equal(hits(), 1);
  });

  it('answers nested zones as the answer function does (the deepest zone owns the name)', {}, () => {
    const outer = 'example.';
    const inner = 'b.example.';
    const view = new MemoryView('');
    for (const [i, name] of [outer, inner].entries()) {
      const zone: ZoneRow = { ...PARAMS, id: 100 + i, name, serial: 1, epoch: 1 };
      view.zones.set(name, zone);
      view.routes.set(name, new Map());
    }
    put(view, outer, 'b/x', weighted(`${LAMBDA}outer`)); // x.b.example., inside b.example.
    const index = indexOf(view);
    const { ask } = pair(view, index);
    const { got, want } = ask(encodeQuery({ id: 5, name: 'x.b.example.', qtype: Type.URI }), 'udp');
    assert.equal(decodeMessage(want).rcode, Rcode.NXDOMAIN);
    assert.equal(decodeMessage(got).rcode, decodeMessage(want).rcode);
    assert.deepEqual(got, want);
  });
});

describe('RouteIndex zones', () => {
  it('an inner zone declared later takes its names from the enclosing zone, in either order', () => {
    for (const innerFirst of [false, true]) {
      const index = new RouteIndex();
      if (innerFirst) index.setZone('b.example.', 1);
      index.setZone('example.', 1);
      for (const path of ['b/x', 'b/y/z', 'b', 'c/x', 'bb/x']) index.set('example.', path, weighted(`${LAMBDA}outer`));
      if (!innerFirst) index.setZone('b.example.', 1);
      for (const name of ['x.b.example.', 'z.y.b.example.', 'b.example.']) assert.equal(find(index, name), -1, name);
      for (const name of ['x.c.example.', 'x.bb.example.']) assert.notEqual(find(index, name), -1, name);
      assert.equal(index.size, 2);
    }
  });
});

describe('RouteIndex', () => {
  const created = routeName(Z, 'orders/created');
  const v1 = rr(`${created} 300 IN URI 10 10 "${LAMBDA}v1"`);
  const v2 = rr(`${created} 300 IN URI 10 20 "${LAMBDA}v2"`);
  const v3 = rr(`${created} 300 IN URI 10 10 "${LAMBDA}v3"`);
  const txt = (epoch: number, policy = 'weighted', ttl = 300) =>
    rr(`${created} ${ttl} IN TXT "v=psarn1" "policy=${policy}" "epoch=${epoch}"`);

  function fresh(): RouteIndex {
    const index = new RouteIndex();
    index.setZone(Z, 3);
    index.setZone(Z2, 1);
    return index;
  }

  it('set indexes a route; URI carries the TXT in additional, TXT and ANY as the answer function', () => {
    const index = fresh();
    assert.equal(index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`, `${LAMBDA}v2`)), true);
    assert.equal(index.size, 1);
    assert.deepEqual(present(index, created, Type.URI), [v1, v2, txt(3)]);
    assert.deepEqual(present(index, created, Type.TXT), [txt(3)]);
    assert.deepEqual(present(index, created, Type.ANY), [v1, v2, txt(3)]);
  });

  it('set replaces a route, and the epoch comes from setZone without touching the entries', () => {
    const index = fresh();
    index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`, `${LAMBDA}v2`));
    assert.equal(index.set(Z, 'orders/created', { ...weighted(`${LAMBDA}v3`), ttl: 5, policy: 'fanout' }), true);
    assert.equal(index.size, 1);
    const five = (line: string) => line.replace('\t300\t', '\t5\t');
    assert.deepEqual(present(index, created, Type.URI), [five(v3), txt(3, 'fanout', 5)]);
    index.setZone(Z, 4);
    assert.deepEqual(present(index, created, Type.TXT), [txt(4, 'fanout', 5)]);
  });

  it('set of what the index does not answer removes the old entry and returns false', () => {
    const cases: [string, RouteData][] = [
      ['an alias', { ttl: 60, targets: [], alias: routeName(Z, 'orders/other') }],
      ['no targets', { ttl: 60, policy: 'weighted', targets: [] }],
      ['no policy', { ttl: 60, targets: weighted(`${LAMBDA}v1`).targets }],
      [
        'an entry over 64 KiB',
        {
          ttl: 60,
          policy: 'weighted',
          targets: Array.from({ length: 20 }, (_, i) => ({
            target: `x${i}${'y'.repeat(4000)}`,
            weight: 1,
            priority: 1,
          })),
        },
      ],
    ];
    for (const [what, route] of cases) {
      const index = fresh();
      index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`));
      assert.equal(index.set(Z, 'orders/created', route), false, what);
      assert.equal(find(index, created), -1, what);
      assert.equal(index.size, 0, what);
      assert.equal(present(index, created, Type.URI), undefined, what);
    }
  });

  it('set refuses the _epoch name, undeclared zones and names that are not names', () => {
    const index = fresh();
    const route = weighted(`${LAMBDA}v1`);
    assert.equal(index.set(Z, '_epoch', route), false);
    assert.equal(find(index, `_epoch.${Z}`), -1);
    assert.equal(index.set('999999999999.us-east-1.aws.psarn.internal.', 'a', route), false);
    assert.equal(index.set(Z, 'a'.repeat(64), route), false, 'label over 63');
    assert.equal(index.set(Z, Array.from({ length: 8 }, () => 'a'.repeat(30)).join('/'), route), false, 'over 255');
    assert.equal(index.set(Z, 'a//b', route), false, 'empty label');
    assert.equal(index.size, 0);
  });

  it('delete removes a route; deleting what is not there changes nothing', () => {
    const index = fresh();
    index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`));
    index.set(Z, 'orders/audit', weighted(`${LAMBDA}v2`));
    index.delete(Z, 'orders/missing');
    index.delete(Z2, 'orders/created');
    index.delete('unknown.', 'orders/created');
    assert.equal(index.size, 2);
    index.delete(Z, 'orders/created');
    assert.equal(index.size, 1);
    assert.equal(find(index, created), -1);
    assert.ok(find(index, routeName(Z, 'orders/audit')) >= 0);
    index.delete(Z, 'orders/created');
    assert.equal(index.size, 1);
  });

  it('lookup matches the whole name in any ASCII case, only in its own zone, at any offset', () => {
    const index = fresh();
    index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`));
    const ref = find(index, created);
    assert.ok(ref >= 0);
    assert.equal(find(index, created.toUpperCase()), ref);
    assert.equal(find(index, `CrEaTeD.oRdErS.${Z.toUpperCase()}`), ref);
    assert.equal(find(index, routeName(Z2, 'orders/created')), -1, 'same path, other zone');
    assert.equal(find(index, routeName(Z, 'orders')), -1, 'a parent');
    assert.equal(find(index, routeName(Z, 'orders/created/x')), -1, 'a child');
    assert.equal(find(index, Z), -1, 'the apex');
    assert.equal(find(index, 'created.orders.'), -1, 'the path without the zone');
    // The hash ORs every byte with 0x20; only A-Z may match their lowercase. '-' folds with CR,
    // '_' with DEL, digits with bytes 0x10-0x19: such names hash alike and must still miss.
    index.set(Z, 'a-b/c_d9', weighted(`${LAMBDA}v1`));
    const odd = find(index, routeName(Z, 'a-b/c_d9'));
    assert.ok(odd >= 0);
    assert.equal(find(index, routeName(Z, 'A-B/C_D9')), odd);
    assert.equal(find(index, routeName(Z, 'a\rb/c_d9')), -1);
    assert.equal(find(index, routeName(Z, 'a-b/c\x7fd9')), -1);
    assert.equal(find(index, routeName(Z, 'a-b/c_d\x19')), -1);
    assert.equal(find(index, routeName(Z, 'a-b/c_d9').replace('aws', 'AWS')), odd);
    assert.equal(find(index, routeName(Z, 'a-b/c_d9').replace('123456789012', '\x1123456789012')), -1);
    // Inside a larger buffer: start and end are honoured.
    const name = wire(created);
    const framed = Buffer.concat([Buffer.alloc(12, 0xaa), name, Buffer.from([0, 0x01, 0, 0x01])]);
    assert.equal(index.lookup(framed, 12, 12 + name.length), ref);
    assert.equal(index.lookup(framed, 12, 12 + name.length - 1), -1);
  });

  it('dropZone makes the zone’s names miss and leaves the other zones alone', () => {
    const index = fresh();
    index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`));
    index.set(Z2, 'orders/created', weighted(`${LAMBDA}v1`));
    index.dropZone(Z);
    assert.equal(index.hasZone(Z), false);
    assert.equal(find(index, created), -1);
    assert.ok(find(index, routeName(Z2, 'orders/created')) >= 0);
    assert.equal(index.size, 1);
    assert.equal(index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`)), false, 'undeclared now');
    // Declared again, it starts empty.
    index.setZone(Z, 8);
    assert.equal(index.hasZone(Z), true);
    assert.equal(find(index, created), -1);
    index.set(Z, 'orders/created', weighted(`${LAMBDA}v3`));
    assert.deepEqual(present(index, created, Type.URI), [v3, txt(8)]);
    index.dropZone('never-declared.');
    assert.equal(index.size, 2);
  });

  it('writeRecords returns false for a qtype other than URI, TXT, ANY and when out is too small', () => {
    const index = fresh();
    index.set(Z, 'orders/created', weighted(`${LAMBDA}v1`, `${LAMBDA}v2`));
    const ref = find(index, created);
    const body: RouteRecords = { end: 0, ancount: 0, arcount: 0, additionalAt: 0 };
    for (const qtype of [Type.A, Type.AAAA, Type.CNAME, Type.SOA, Type.NS])
      assert.equal(index.writeRecords(ref, qtype, Buffer.alloc(TCP_MAX), body), false, `qtype ${qtype}`);
    assert.ok(index.writeRecords(ref, Type.ANY, Buffer.alloc(TCP_MAX), body));
    const size = body.end;
    for (const qtype of [Type.URI, Type.TXT, Type.ANY]) {
      assert.equal(index.writeRecords(ref, qtype, Buffer.alloc(0), body), false, `qtype ${qtype}, empty out`);
    }
    // Room for both URI records but not the TXT after them; then exactly enough.
    assert.equal(index.writeRecords(ref, Type.ANY, Buffer.alloc(size - 1), body), false);
    assert.equal(index.writeRecords(ref, Type.ANY, Buffer.alloc(size), body), true);
    assert.deepEqual(body, { end: size, ancount: 3, arcount: 0, additionalAt: size });
  });

  it('finds every one of many names, including names the hash folds together', () => {
    const view = emptyView();
    const index = indexOf(view);
    const rand = prng(SEED + 1);
    const paths: string[] = [];
    for (let i = 0; i < 3000; i++) paths.push(`r${i}/${segment(rand, 1 + rand(20))}`);
    // Equal length, equal after OR 0x20 on every byte: a 16-byte label then a 48-byte one, and a
    // 48-byte one (whose byte 17 is '0', 0x30 = 48) then a 16-byte one (its length byte at 49 is
    // 16, 0x10, which folds to '0' in the first name's second label). Same hash, different names.
    const a16 = 'a'.repeat(16);
    const first = `${'a'.repeat(31)}0${'a'.repeat(16)}/${a16}`; // name: a16 . 48-label
    const second = `${a16}/${'a'.repeat(16)}0${'a'.repeat(31)}`; // name: 48-label . a16
    const w1 = wire(routeName(Z, first));
    const w2 = wire(routeName(Z, second));
    assert.equal(w1.length, w2.length);
    assert.ok(w1.every((b, i) => (b | 0x20) === (w2[i]! | 0x20)) && !w1.equals(w2), 'the names fold together');
    paths.push(first, second);
    for (const [i, path] of paths.entries()) {
      const route = weighted(`${LAMBDA}f${i}`);
      assert.ok(index.set(Z, path, route), path);
      put(view, Z, path, route);
    }
    assert.equal(index.size, paths.length);
    const refs = new Set<number>();
    for (const [i, path] of paths.entries()) {
      const name = routeName(Z, path);
      const ref = find(index, name);
      assert.ok(ref >= 0, name);
      refs.add(ref);
      if (i % 5 === 0 || i >= paths.length - 2) {
        assert.deepEqual(indexedBody(index, name, Type.URI), expectedBody(view, name, Type.URI), name);
      }
    }
    assert.equal(refs.size, paths.length, 'each name has its own entry');
    index.delete(Z, first);
    assert.equal(find(index, routeName(Z, first)), -1);
    assert.ok(find(index, routeName(Z, second)) >= 0);
  });

  it('after enough churn to compact the arena and rehash the table, answers what is left', () => {
    const view = emptyView();
    const index = indexOf(view);
    const rand = prng(SEED + 2);
    // ~7 KiB entries: 1800 of them (12 MiB), then 1650 deletes: > 8 MiB dead, more than live.
    const big = (i: number): RouteData => ({
      ttl: i % 172801,
      policy: i % 2 === 0 ? 'weighted' : 'fanout',
      targets: Array.from({ length: 20 }, (_, t) => ({
        target: `https://h${t}.example.com/${'z'.repeat(330)}${i}`,
        weight: rand(65536),
        priority: rand(65536),
      })),
    });
    const live = new Set<string>();
    const gone = new Set<string>();
    const setRoute = (path: string, route: RouteData) => {
      assert.ok(index.set(Z, path, route));
      put(view, Z, path, route);
      live.add(path);
      gone.delete(path);
    };
    const deleteRoute = (path: string) => {
      index.delete(Z, path);
      view.routes.get(Z)!.delete(path);
      live.delete(path);
      gone.add(path);
    };
    for (let i = 0; i < 1800; i++) setRoute(`churn/r${i}`, big(i));
    const before = index.bytes;
    for (let i = 0; i < 1650; i++) deleteRoute(`churn/r${i}`);
    // The arena only grows between compactions: smaller means it was rewritten.
    assert.ok(index.bytes < before, `compacted: ${before} -> ${index.bytes} bytes`);
    // Tombstones: short-lived names, each set then deleted, force sweeps and growth of the table.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3000; i++) setRoute(`tomb/r${round}-${i}`, weighted(`${LAMBDA}t${i}`));
      for (let i = 0; i < 3000; i += 2) deleteRoute(`tomb/r${round}-${i}`);
      // Replace some survivors with other content.
      for (let i = 1650; i < 1800; i += 3) setRoute(`churn/r${i}`, big(i + round));
    }
    assert.equal(index.size, live.size);
    for (const path of live) {
      const name = routeName(Z, path);
      assert.deepEqual(indexedBody(index, name, Type.URI), expectedBody(view, name, Type.URI), name);
    }
    for (const path of gone) assert.equal(find(index, routeName(Z, path)), -1, path);
  });

  it('replacing routes over and over compacts too, as deleting them does', {}, () => {
    const index = fresh();
    const route = (i: number): RouteData => ({
      ttl: 300,
      policy: 'weighted',
      targets: Array.from({ length: 20 }, (_, t) => ({
        target: `https://h${t}.example.com/${'z'.repeat(330)}${i}`,
        weight: 1,
        priority: 1,
      })),
    });
    // ~7 KiB a version: 3000 versions of one route are ~20 MiB dead against 7 KiB live. With the
    // rule delete follows (compact past 8 MiB dead), the arena would stay under 1+2+4+8 MiB.
    for (let i = 0; i < 3000; i++) index.set(Z, 'orders/created', route(i));
    assert.equal(index.size, 1);
    assert.ok(index.bytes < 17 * 1024 * 1024, `arena of ${index.bytes} bytes for one live route`);
  });

  it('holds more distinct target prefixes than it can intern', () => {
    const view = emptyView();
    const index = indexOf(view);
    // 0xffff prefix ids; the routes past them keep the whole target as the suffix.
    const count = 0x10000 + 500;
    for (let i = 0; i < count; i++) {
      const route = weighted(`https://h${i}.example.com/x`);
      index.set(Z, `p/r${i}`, route);
      if (i < 3 || i % 9973 === 0 || i >= count - 600) put(view, Z, `p/r${i}`, route);
    }
    assert.equal(index.size, count);
    for (const path of view.routes.get(Z)!.keys()) {
      const name = routeName(Z, path);
      assert.deepEqual(indexedBody(index, name, Type.ANY), expectedBody(view, name, Type.ANY), name);
    }
  });

  it('snapshot -> fromSnapshot gives the same answers once setZone gives the epochs', () => {
    const rand = prng(SEED + 3);
    const { view, routes } = randomZones(rand, 60);
    const index = indexOf(view);
    // A dropped zone (a hole among the zone slots) and a deleted entry (a tombstone) travel too.
    index.setZone('gone.example.', 1);
    index.set('gone.example.', 'a', weighted(`${LAMBDA}gone`));
    index.dropZone('gone.example.');
    const deleted = routes.pop()!;
    index.delete(deleted.zone, deleted.path);
    view.routes.get(deleted.zone)!.delete(deleted.path);
    const size = index.size;
    const { snapshot, transfer } = index.snapshot();
    // As a worker posts it: the buffers move, the original index cannot use them afterwards.
    const copy = RouteIndex.fromSnapshot(structuredClone(snapshot, { transfer }));
    assert.equal(copy.size, size);
    assert.equal(copy.hasZone('gone.example.'), false);
    assert.equal(copy.hasZone(Z), true);
    assert.equal(find(copy, deleted.name), -1);
    // Until setZone, epochs read 0 (documented); Z2's real epoch is not 0.
    const txt0 = present(copy, routes.find((r) => r.zone === Z2)!.name, Type.TXT);
    assert.match(txt0![0]!, /"epoch=0"$/);
    for (const z of view.zones.values()) copy.setZone(z.name, z.epoch);
    for (const { name } of routes) {
      for (const qtype of [Type.URI, Type.TXT, Type.ANY]) {
        assert.deepEqual(indexedBody(copy, name, qtype), expectedBody(view, name, qtype), `${name} ${qtype}`);
      }
    }
    // The restored index keeps working: new routes (sharing interned prefixes), deletes.
    const route = weighted(`${LAMBDA}after`, 'https://hööks.example/after');
    assert.ok(copy.set(Z, 'after/snapshot', route));
    put(view, Z, 'after/snapshot', route);
    const after = routeName(Z, 'after/snapshot');
    assert.deepEqual(indexedBody(copy, after, Type.ANY), expectedBody(view, after, Type.ANY));
    copy.delete(Z, 'after/snapshot');
    assert.equal(find(copy, after), -1);
    assert.equal(copy.size, size);
  });

  it('merge: parts holding disjoint runs of the routes answer as one index of them all', () => {
    const rand = prng(SEED + 4);
    const { view, routes } = randomZones(rand, 80);
    // Two parts as two build workers make them: the same zones, declared in another order in the
    // second (other slots), each with half the routes (other prefix ids), plus a zone only the
    // second knows (created between the snapshots: its entries are dropped).
    const zones = [...view.zones.values()];
    const a = new RouteIndex();
    const b = new RouteIndex();
    for (const z of zones) a.setZone(z.name, z.epoch);
    b.setZone('late.example.', 1);
    for (const z of [...zones].reverse()) b.setZone(z.name, z.epoch);
    b.set('late.example.', 'x', weighted(`${LAMBDA}late`));
    for (const [i, r] of routes.entries())
      (i % 2 === 0 ? a : b).set(r.zone, r.path, view.routes.get(r.zone)!.get(r.path)!);
    // A tombstone and dead bytes in the second part must not come back.
    const dropped = routes.find((_, i) => i % 2 === 1)!;
    b.delete(dropped.zone, dropped.path);
    view.routes.get(dropped.zone)!.delete(dropped.path);
    const merged = RouteIndex.merge([a, b]);
    assert.equal(merged.size, routes.length - 1);
    assert.equal(merged.hasZone('late.example.'), false);
    assert.equal(find(merged, routeName('late.example.', 'x')), -1);
    assert.equal(find(merged, dropped.name), -1);
    for (const { name } of routes) {
      if (name === dropped.name) continue;
      for (const qtype of [Type.URI, Type.TXT, Type.ANY]) {
        assert.deepEqual(indexedBody(merged, name, qtype), expectedBody(view, name, qtype), `${name} ${qtype}`);
      }
    }
    // The merged index keeps working: a new route after the adopted chunks, a replaced one.
    const route = weighted(`${LAMBDA}after`, 'https://after.example/hook');
    assert.ok(merged.set(Z, 'after/merge', route));
    put(view, Z, 'after/merge', route);
    const first = routes.find((r) => r.zone === Z)!;
    const replaced = weighted(`${LAMBDA}replaced`);
    assert.ok(merged.set(Z, first.path, replaced));
    put(view, Z, first.path, replaced);
    for (const name of [routeName(Z, 'after/merge'), first.name]) {
      assert.deepEqual(indexedBody(merged, name, Type.ANY), expectedBody(view, name, Type.ANY), name);
    }
  });
});
