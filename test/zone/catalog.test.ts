/** The catalog zone (docs/design.md#catalog-zone, RFC 9432): its content, its answers, its pickup. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { decodeMessage, encodeQuery, rcodeName, typeCode } from '../../src/wire/message.js';
import { parseQuery } from '../../src/wire/query.js';
import { assembleResponse } from '../../src/wire/response.js';
import type { DnsRecord } from '../../src/wire/types.js';
import { answer } from '../../src/zone/answer.js';
import {
  buildCatalog,
  type CatalogMember,
  type CatalogZone,
  catalogName,
  catalogRecords,
  memberLabel,
  readCatalog,
} from '../../src/zone/catalog.js';
import { CATALOG, ZONE_SET } from '../../src/zone/deps.js';
import { encodeAnswer } from '../../src/zone/encode.js';
import { StoreZoneView } from '../../src/zone/store-view.js';
import { nameLabels } from '../../src/zone/view.js';
import { formatRecord } from '../../src/zonefile/presentation.js';
import { PARAMS, zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';

const NS = 'psarn.internal.';
const CAT = 'catalog.psarn.internal.';
const A = '123456789012.us-east-1.aws.psarn.internal.';
const B = '210987654321.eu-west-1.aws.psarn.internal.';
const members: CatalogMember[] = [
  { name: A, created: 2 },
  { name: B, created: 3 },
];
const idOf = (m: CatalogMember) => memberLabel(m);
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Presentation text with single spaces; formatRecord separates fields by tabs. */
function rr(line: string): string {
  const [owner, ttl, cls, type, ...rest] = line.split(' ');
  return [owner, ttl, cls, type, rest.join(' ')].join('\t');
}
const text = (records: Iterable<DnsRecord>) => [...records].map(formatRecord);

describe('catalog content', () => {
  it('is catalog.<namespace>', () => {
    assert.equal(catalogName(NS), CAT);
    assert.equal(catalogName('corp.example.'), 'catalog.corp.example.');
  });

  it('holds SOA, NS invalid., version "2" and one PTR per zone, SOA first, PTRs by owner', () => {
    const catalog = buildCatalog(NS, 3, PARAMS, members);
    const ptrs = members.map((m) => rr(`${idOf(m)}.zones.${CAT} 0 IN PTR ${m.name}`)).sort((x, y) => (x < y ? -1 : 1));
    assert.deepEqual(text(catalogRecords(catalog)), [
      rr(`${CAT} 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 3 3600 600 86400 30`),
      rr(`${CAT} 3600 IN NS invalid.`),
      rr(`version.${CAT} 0 IN TXT "2"`),
      ...ptrs,
    ]);
    assert.equal(catalog.size, 2);
  });

  it('with no zone holds SOA, NS and version only', () => {
    assert.deepEqual(
      text(catalogRecords(buildCatalog(NS, 1, PARAMS, []))).map((l) => l.split('\t')[3]),
      ['SOA', 'NS', 'TXT'],
    );
  });

  it('is a pure function of the zone list: the same records whatever order the zones come in', () => {
    const forward = text(catalogRecords(buildCatalog(NS, 9, PARAMS, members)));
    const backward = text(catalogRecords(buildCatalog(NS, 9, PARAMS, [...members].reverse())));
    assert.deepEqual(backward, forward);
  });

  it("a member's label is 16 hex digits of SHA-256 over its name and creation: stable, new when re-created", () => {
    assert.equal(memberLabel({ name: A, created: 2 }), sha(`${A} 2`));
    assert.match(memberLabel({ name: A, created: 2 }), /^[0-9a-f]{16}$/);
    assert.equal(memberLabel({ name: A, created: 2 }), memberLabel({ name: A, created: 2 }));
    assert.notEqual(memberLabel({ name: A, created: 2 }), memberLabel({ name: A, created: 5 }));
    assert.notEqual(memberLabel({ name: A, created: 2 }), memberLabel({ name: B, created: 2 }));
  });

  it('gives a thousand zones a thousand labels', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({
      name: `${String(i).padStart(12, '0')}.us-east-1.aws.${NS}`,
      created: i + 2,
    }));
    assert.equal(new Set(many.map(memberLabel)).size, 1000);
    assert.equal(buildCatalog(NS, 1001, PARAMS, many).size, 1000);
  });

  it('records() returns copies: a caller editing one cannot change the catalog', () => {
    const catalog = buildCatalog(NS, 3, PARAMS, members);
    for (const record of catalog.records()) (record as { ttl: number }).ttl = 99;
    assert.equal(catalog.soa().ttl, 3600);
    assert.equal(catalogRecords(catalog)[2]!.ttl, 0);
  });

  it('contains the catalog and the names below it only', () => {
    const catalog = buildCatalog(NS, 3, PARAMS, members);
    assert.equal(catalog.contains(nameLabels(CAT)), true);
    assert.equal(catalog.contains(nameLabels(`x.y.${CAT}`)), true);
    assert.equal(catalog.contains(nameLabels(NS)), false);
    assert.equal(catalog.contains(nameLabels(`xcatalog.${NS}`)), false);
    assert.equal(catalog.contains(nameLabels(A)), false);
  });
});

/** An in-memory view of zone-file text plus a catalog of its zones. */
class CatalogView extends MemoryView {
  readonly #catalog: CatalogZone;
  constructor(zones: string, namespace = NS) {
    super(zones, { namespace });
    this.#catalog = buildCatalog(
      namespace,
      4,
      PARAMS,
      [...this.zones.values()].map((z) => ({ name: z.name, created: z.id + 1 })),
    );
  }
  catalog(): CatalogZone {
    return this.#catalog;
  }
}

const view = new CatalogView(
  [
    zoneHead(A, 7),
    '_epoch 5 IN TXT "epoch=1"',
    'created.orders 300 IN URI 10 1 "arn:aws:lambda:us-east-1:123456789012:function:a"',
    'created.orders 300 IN TXT "v=psarn1" "policy=weighted" "epoch=1"',
    zoneHead(B, 2),
    'x 60 IN URI 10 1 "https://x.example.com/"',
  ].join('\n'),
);
// `zone import` takes only psARN names as alias targets; the store can still hold this one (force).
view.routes.get(A)!.set('catalog', {
  zone: A,
  path: 'catalog',
  ttl: 60,
  targets: [],
  alias: `version.${CAT}`,
  metadata: {},
  serial: 7,
  updatedAt: 0,
});
const idA = memberLabel({ name: A, created: 2 });
const idB = memberLabel({ name: B, created: 3 });

function ask(name: string, type: string, on = view) {
  const qtype = typeCode(type)!;
  const request = encodeQuery({ id: 1, name, qtype, edns: false });
  const parsed = parseQuery(request);
  assert.equal(parsed.kind, 'query');
  if (parsed.kind !== 'query') return undefined as never;
  const found = answer({ labels: nameLabels(name), qtype }, on);
  const ready = encodeAnswer(Buffer.from(parsed.query.key, 'latin1'), found);
  const m = decodeMessage(assembleResponse(request, parsed.query, ready, { maxSize: 65535, udpPayloadSize: 1232 }).buf);
  return {
    rcode: rcodeName(found.reply.rcode),
    aa: found.reply.aa,
    answer: text(m.answer as DnsRecord[]),
    authority: text(m.authority as DnsRecord[]),
    deps: found.deps,
  };
}

const catSoa = rr(`${CAT} 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 4 3600 600 86400 30`);
// RFC 2308 §3: the negative answer's SOA has TTL min(SOA TTL, MINIMUM).
const catNegative = rr(`${CAT} 30 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 4 3600 600 86400 30`);
const ptrA = rr(`${idA}.zones.${CAT} 0 IN PTR ${A}`);

const cases: [string, string, string, { rcode: string; answer?: string[]; authority?: string[] }][] = [
  ['apex SOA', CAT, 'SOA', { rcode: 'NOERROR', answer: [catSoa] }],
  ['apex NS: invalid. (RFC 9432 §4.1)', CAT, 'NS', { rcode: 'NOERROR', answer: [rr(`${CAT} 3600 IN NS invalid.`)] }],
  ['apex ANY: SOA and NS', CAT, 'ANY', { rcode: 'NOERROR', answer: [catSoa, rr(`${CAT} 3600 IN NS invalid.`)] }],
  ['apex TXT: NODATA', CAT, 'TXT', { rcode: 'NOERROR', authority: [catNegative] }],
  ['version TXT "2"', `version.${CAT}`, 'TXT', { rcode: 'NOERROR', answer: [rr(`version.${CAT} 0 IN TXT "2"`)] }],
  [
    'version in any case',
    `VERSION.Catalog.PSARN.internal.`,
    'TXT',
    { rcode: 'NOERROR', answer: [rr(`version.${CAT} 0 IN TXT "2"`)] },
  ],
  ['version ANY', `version.${CAT}`, 'ANY', { rcode: 'NOERROR', answer: [rr(`version.${CAT} 0 IN TXT "2"`)] }],
  ['version URI: NODATA', `version.${CAT}`, 'URI', { rcode: 'NOERROR', authority: [catNegative] }],
  ['member PTR', `${idA}.zones.${CAT}`, 'PTR', { rcode: 'NOERROR', answer: [ptrA] }],
  [
    'the other member PTR',
    `${idB}.zones.${CAT}`,
    'PTR',
    { rcode: 'NOERROR', answer: [rr(`${idB}.zones.${CAT} 0 IN PTR ${B}`)] },
  ],
  ['member ANY', `${idA}.zones.${CAT}`, 'ANY', { rcode: 'NOERROR', answer: [ptrA] }],
  ['member TXT: NODATA', `${idA}.zones.${CAT}`, 'TXT', { rcode: 'NOERROR', authority: [catNegative] }],
  [
    'zones: empty non-terminal, NODATA (RFC 8020)',
    `zones.${CAT}`,
    'PTR',
    { rcode: 'NOERROR', authority: [catNegative] },
  ],
  ['unknown member: NXDOMAIN', `0000000000000000.zones.${CAT}`, 'PTR', { rcode: 'NXDOMAIN', authority: [catNegative] }],
  ['below a member: NXDOMAIN', `x.${idA}.zones.${CAT}`, 'PTR', { rcode: 'NXDOMAIN', authority: [catNegative] }],
  ['below version: NXDOMAIN', `x.version.${CAT}`, 'TXT', { rcode: 'NXDOMAIN', authority: [catNegative] }],
  ['another name: NXDOMAIN', `coo.${CAT}`, 'PTR', { rcode: 'NXDOMAIN', authority: [catNegative] }],
  [
    'a member label at the wrong depth: NXDOMAIN',
    `${idA}.${CAT}`,
    'PTR',
    { rcode: 'NXDOMAIN', authority: [catNegative] },
  ],
];

describe('catalog answers (the answer function)', () => {
  for (const [title, name, type, want] of cases) {
    it(`${title}: ${name} ${type}`, () => {
      const got = ask(name, type);
      assert.equal(got.rcode, want.rcode);
      assert.equal(got.aa, true);
      assert.deepEqual(got.answer, want.answer ?? []);
      assert.deepEqual(got.authority, want.authority ?? []);
      // Cached until the catalog changes; no route zone's change drops it.
      assert.deepEqual(got.deps, [CATALOG]);
    });
  }

  it('a CNAME from a route zone into the catalog is followed there', () => {
    const got = ask(`catalog.${A}`, 'TXT');
    assert.equal(got.rcode, 'NOERROR');
    assert.deepEqual(got.answer, [rr(`catalog.${A} 60 IN CNAME version.${CAT}`), rr(`version.${CAT} 0 IN TXT "2"`)]);
    assert.ok(got.deps.includes(CATALOG));
  });

  it('route zones answer as before, and the namespace itself stays REFUSED', () => {
    assert.equal(ask(`created.orders.${A}`, 'TXT').rcode, 'NOERROR');
    assert.equal(ask(`nope.${A}`, 'TXT').rcode, 'NXDOMAIN');
    const refused = ask(NS, 'SOA');
    assert.equal(refused.rcode, 'REFUSED');
    assert.deepEqual(refused.deps, [ZONE_SET]);
  });

  it('a route zone nested below the catalog answers its own names (the deepest zone wins)', () => {
    // Only when one database holds the namespaces psarn.internal. and catalog.psarn.internal.
    const inner = '123456789012.us-east-1.aws.catalog.psarn.internal.';
    const nested = new CatalogView(
      [zoneHead(inner, 3), 'r 60 IN URI 10 1 "https://r.example.com/"'].join('\n'),
      'catalog.psarn.internal.',
    );
    // That view's catalog is catalog.catalog.psarn.internal.; put ours around the inner zone.
    const outer = buildCatalog(NS, 4, PARAMS, [{ name: inner, created: 2 }]);
    nested.catalog = () => outer;
    assert.equal(ask(`r.${inner}`, 'URI', nested).rcode, 'NOERROR');
    assert.equal(ask(`version.${CAT}`, 'TXT', nested).rcode, 'NOERROR');
  });

  it('a view without a catalog answers REFUSED for its names', () => {
    const plain = new MemoryView(zoneHead(A, 1));
    assert.equal(ask(`version.${CAT}`, 'TXT', plain as CatalogView).rcode, 'REFUSED');
  });
});

describe('catalog pickup (StoreZoneView)', () => {
  it('rebuilds the catalog when a zone is created, with the CATALOG key, and not on a route change', () => {
    const store = Store.open(':memory:');
    try {
      const v = new StoreZoneView(store, { epochTtl: 5, catalog: { namespace: NS, params: PARAMS } });
      const first = v.refresh(true);
      assert.equal(first?.catalog?.serial, 1);
      assert.deepEqual(first?.keys, [CATALOG]);
      assert.equal(v.catalog()?.size, 0);

      store.setRoute(
        A,
        'a',
        { policy: 'weighted', ttl: 60, targets: [{ target: 'https://a/', weight: 1, priority: 1 }] },
        PARAMS,
      );
      const created = v.refresh(true);
      assert.equal(created?.catalog?.serial, 2);
      assert.ok(created?.keys.includes(CATALOG));
      assert.deepEqual(text(catalogRecords(v.catalog()!)).slice(3), [
        rr(`${memberLabel({ name: A, created: 2 })}.zones.${CAT} 0 IN PTR ${A}`),
      ]);

      store.setRoute(
        A,
        'b',
        { policy: 'weighted', ttl: 60, targets: [{ target: 'https://b/', weight: 1, priority: 1 }] },
        PARAMS,
      );
      const changed = v.refresh(true);
      assert.equal(changed?.catalog, undefined);
      assert.ok(!changed?.keys.includes(CATALOG));
      assert.equal(v.catalog()?.serial, 2);
    } finally {
      store.close();
    }
  });

  it('readCatalog (export, transfers) gives the records the view serves', () => {
    const store = Store.open(':memory:');
    try {
      const spec = {
        policy: 'weighted' as const,
        ttl: 60,
        targets: [{ target: 'https://a/', weight: 1, priority: 1 }],
      };
      store.setRoute(A, 'a', spec, PARAMS);
      store.setRoute(B, 'a', spec, PARAMS);
      const options = { namespace: NS, params: PARAMS };
      const v = new StoreZoneView(store, { epochTtl: 5, catalog: options });
      v.refresh(true);
      const read = readCatalog(store, options);
      assert.equal(read.serial, 3);
      assert.equal(read.size, 2);
      assert.deepEqual(text(catalogRecords(read)), text(catalogRecords(v.catalog()!)));
    } finally {
      store.close();
    }
  });

  it('serves no catalog unless asked', () => {
    const store = Store.open(':memory:');
    try {
      const v = new StoreZoneView(store, { epochTtl: 5 });
      assert.equal(v.refresh(true), undefined);
      assert.equal(v.catalog(), undefined);
    } finally {
      store.close();
    }
  });
});
