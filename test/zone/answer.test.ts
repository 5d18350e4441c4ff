import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, encodeQuery, rcodeName, typeCode } from '../../src/wire/message.js';
import { parseQuery } from '../../src/wire/query.js';
import { assembleResponse } from '../../src/wire/response.js';
import type { DnsRecord } from '../../src/wire/types.js';
import { answer } from '../../src/zone/answer.js';
import { encodeAnswer } from '../../src/zone/encode.js';
import { nameLabels } from '../../src/zone/view.js';
import { formatRecord } from '../../src/zonefile/presentation.js';
import { MemoryView } from '../helpers/memory-view.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const chain = Array.from(
  { length: 9 },
  (_, i) => `chain${i} 60 IN CNAME ${i === 8 ? 'created.orders' : `chain${i + 1}`}`,
);
const ZONE = `
$ORIGIN ${Z}
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 7 3600 600 86400 30
@ 3600 IN NS ns.psarn.internal.
_epoch 5 IN TXT "epoch=3"
created.orders 300 IN URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1"
created.orders 300 IN URI 10 10 "arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2"
created.orders 300 IN TXT "v=psarn1" "policy=weighted" "epoch=3"
audit.orders 120 IN URI 10 1 "arn:aws:sqs:us-east-1:123456789012:orders-audit"
audit.orders 120 IN TXT "v=psarn1" "policy=fanout" "epoch=3"
_meta.audit.orders 120 IN TXT "owner=team-a"
_meta.audit.orders 120 IN TXT "ticket=OPS-1"
latest.orders 60 IN CNAME created.orders
loop1 60 IN CNAME loop2
loop2 60 IN CNAME loop1
dangling 60 IN CNAME missing.orders
${chain.join('\n')}
`;
const OTHER = `
$ORIGIN 210987654321.eu-west-1.aws.psarn.internal.
@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 2 3600 600 86400 60
@ 3600 IN NS ns.psarn.internal.
charge.payments 30 IN URI 10 1 "https://pay.example.com/charge"
cross 30 IN CNAME created.orders.${Z}
`;
const view = new MemoryView(`${ZONE}\n${OTHER}`, { epochTtl: 5 });
// `zone import` only takes aliases to psARN names; a CNAME leaving our zones can still be in the store.
view.routes.get(Z)!.set('away', {
  zone: Z,
  path: 'away',
  ttl: 60,
  targets: [],
  alias: 'www.example.com.',
  metadata: {},
  serial: 7,
  updatedAt: 0,
});

interface Expect {
  rcode: string;
  aa?: boolean;
  answer?: string[];
  authority?: string[];
  additional?: string[];
}

function ask(name: string, type: string) {
  const qtype = typeCode(type);
  assert.ok(qtype !== undefined, type);
  // Through the bytes: a target route's records come from the route-record encoder, not the Reply.
  const request = encodeQuery({ id: 1, name: name.toLowerCase(), qtype, edns: false });
  const parsed = parseQuery(request);
  assert.equal(parsed.kind, 'query');
  if (parsed.kind !== 'query') return undefined as never;
  const found = answer({ labels: nameLabels(name), qtype }, view);
  const ready = encodeAnswer(Buffer.from(parsed.query.key, 'latin1'), found);
  const m = decodeMessage(assembleResponse(request, parsed.query, ready, { maxSize: 65535, udpPayloadSize: 1232 }).buf);
  const present = (records: unknown[]) => records.map((r) => formatRecord(r as DnsRecord));
  return {
    rcode: rcodeName(found.reply.rcode),
    aa: found.reply.aa,
    answer: present(m.answer),
    authority: present(m.authority),
    additional: present(m.additional),
  };
}

function rr(line: string): string {
  // Presentation text with single spaces in the table; formatRecord separates fields by tabs.
  const [owner, ttl, cls, type, ...rest] = line.split(' ');
  return [owner, ttl, cls, type, rest.join(' ')].join('\t');
}

const soa = (zone: string, ttl: number, serial: number, minimum: number) =>
  rr(`${zone} ${ttl} IN SOA ns.psarn.internal. hostmaster.psarn.internal. ${serial} 3600 600 86400 ${minimum}`);
const created = `created.orders.${Z}`;
const v1 = rr(`${created} 300 IN URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1"`);
const v2 = rr(`${created} 300 IN URI 10 10 "arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2"`);
const createdTxt = rr(`${created} 300 IN TXT "v=psarn1" "policy=weighted" "epoch=3"`);
const negative = soa(Z, 30, 7, 30);

const cases: [string, string, string, Expect][] = [
  [
    'URI answers the set with the TXT in additional',
    created,
    'URI',
    { rcode: 'NOERROR', answer: [v1, v2], additional: [createdTxt] },
  ],
  ['TXT answers the TXT', created, 'TXT', { rcode: 'NOERROR', answer: [createdTxt] }],
  ['ANY answers URI and TXT (RFC 8482)', created, 'ANY', { rcode: 'NOERROR', answer: [v1, v2, createdTxt] }],
  [
    'names compare case-insensitively',
    `CREATED.Orders.${Z.toUpperCase()}`,
    'URI',
    { rcode: 'NOERROR', answer: [v1, v2], additional: [createdTxt] },
  ],
  [
    'fanout policy in the TXT',
    `audit.orders.${Z}`,
    'TXT',
    { rcode: 'NOERROR', answer: [rr(`audit.orders.${Z} 120 IN TXT "v=psarn1" "policy=fanout" "epoch=3"`)] },
  ],
  ['other type at a route: NODATA with the SOA', created, 'A', { rcode: 'NOERROR', authority: [negative] }],
  [
    'unknown name: NXDOMAIN with the SOA (RFC 2308)',
    `nope.orders.${Z}`,
    'URI',
    { rcode: 'NXDOMAIN', authority: [negative] },
  ],
  ['empty non-terminal: NODATA (RFC 8020)', `orders.${Z}`, 'URI', { rcode: 'NOERROR', authority: [negative] }],
  ['below a route: NXDOMAIN', `x.created.orders.${Z}`, 'URI', { rcode: 'NXDOMAIN', authority: [negative] }],
  [
    'label outside the segment grammar: NXDOMAIN',
    `bad!label.${Z}`,
    'URI',
    { rcode: 'NXDOMAIN', authority: [negative] },
  ],
  ['apex SOA', Z, 'SOA', { rcode: 'NOERROR', answer: [soa(Z, 3600, 7, 30)] }],
  ['apex NS', Z, 'NS', { rcode: 'NOERROR', answer: [rr(`${Z} 3600 IN NS ns.psarn.internal.`)] }],
  ['apex URI: NODATA', Z, 'URI', { rcode: 'NOERROR', authority: [negative] }],
  ['_epoch TXT', `_epoch.${Z}`, 'TXT', { rcode: 'NOERROR', answer: [rr(`_epoch.${Z} 5 IN TXT "epoch=3"`)] }],
  ['_epoch URI: NODATA', `_epoch.${Z}`, 'URI', { rcode: 'NOERROR', authority: [negative] }],
  [
    "_meta TXT: the route's metadata, one RR per entry, at the route's TTL (as export and AXFR)",
    `_meta.audit.orders.${Z}`,
    'TXT',
    {
      rcode: 'NOERROR',
      answer: [
        rr(`_meta.audit.orders.${Z} 120 IN TXT "owner=team-a"`),
        rr(`_meta.audit.orders.${Z} 120 IN TXT "ticket=OPS-1"`),
      ],
    },
  ],
  ['_meta URI: NODATA', `_meta.audit.orders.${Z}`, 'URI', { rcode: 'NOERROR', authority: [negative] }],
  [
    '_meta of a route without metadata: NXDOMAIN (no such name, as on a secondary)',
    `_meta.created.orders.${Z}`,
    'TXT',
    { rcode: 'NXDOMAIN', authority: [negative] },
  ],
  ['_meta of no route: NXDOMAIN', `_meta.nope.orders.${Z}`, 'TXT', { rcode: 'NXDOMAIN', authority: [negative] }],
  ['outside every zone: REFUSED without AA', 'www.example.com.', 'URI', { rcode: 'REFUSED', aa: false }],
  ['namespace itself: REFUSED', 'psarn.internal.', 'SOA', { rcode: 'REFUSED', aa: false }],
  [
    'account with no zone: REFUSED',
    'x.999999999999.us-east-1.aws.psarn.internal.',
    'URI',
    { rcode: 'REFUSED', aa: false },
  ],
  [
    'alias: CNAME then the target URI set and TXT',
    `latest.orders.${Z}`,
    'URI',
    { rcode: 'NOERROR', answer: [rr(`latest.orders.${Z} 60 IN CNAME ${created}`), v1, v2], additional: [createdTxt] },
  ],
  [
    'alias queried for CNAME: the CNAME alone',
    `latest.orders.${Z}`,
    'CNAME',
    { rcode: 'NOERROR', answer: [rr(`latest.orders.${Z} 60 IN CNAME ${created}`)] },
  ],
  [
    'alias queried for RRSIG: NODATA at the alias (RFC 4035 §2.5)',
    `latest.orders.${Z}`,
    'RRSIG',
    { rcode: 'NOERROR', authority: [negative] },
  ],
  [
    'alias queried for NSEC: NODATA at the alias (RFC 4035 §2.5)',
    `latest.orders.${Z}`,
    'NSEC',
    { rcode: 'NOERROR', authority: [negative] },
  ],
  [
    'CNAME loop: NOERROR, AA, each CNAME once (as Knot answers)',
    `loop1.${Z}`,
    'URI',
    {
      rcode: 'NOERROR',
      answer: [rr(`loop1.${Z} 60 IN CNAME loop2.${Z}`), rr(`loop2.${Z} 60 IN CNAME loop1.${Z}`)],
    },
  ],
  [
    'CNAME out of our zones: the CNAME alone',
    `away.${Z}`,
    'URI',
    { rcode: 'NOERROR', answer: [rr(`away.${Z} 60 IN CNAME www.example.com.`)] },
  ],
  [
    'CNAME to a missing name: NXDOMAIN of the last name (RFC 6604)',
    `dangling.${Z}`,
    'URI',
    { rcode: 'NXDOMAIN', answer: [rr(`dangling.${Z} 60 IN CNAME missing.orders.${Z}`)], authority: [negative] },
  ],
  [
    'a chain of 9 CNAMEs: NOERROR, AA, the first 8 (RFC 1034 §4.3.2), left to the resolver',
    `chain0.${Z}`,
    'URI',
    {
      rcode: 'NOERROR',
      answer: Array.from({ length: 8 }, (_, i) => rr(`chain${i}.${Z} 60 IN CNAME chain${i + 1}.${Z}`)),
    },
  ],
  [
    'CNAME across zones',
    `cross.210987654321.eu-west-1.aws.psarn.internal.`,
    'TXT',
    {
      rcode: 'NOERROR',
      answer: [rr(`cross.210987654321.eu-west-1.aws.psarn.internal. 30 IN CNAME ${created}`), createdTxt],
    },
  ],
  [
    'second zone negative TTL is min(SOA TTL, minimum)',
    'x.210987654321.eu-west-1.aws.psarn.internal.',
    'URI',
    { rcode: 'NXDOMAIN', authority: [soa('210987654321.eu-west-1.aws.psarn.internal.', 60, 2, 60)] },
  ],
  ['AXFR is refused', Z, 'AXFR', { rcode: 'REFUSED', aa: false }],
];

describe('answer', () => {
  for (const [title, name, type, expect] of cases) {
    it(title, () => {
      assert.deepEqual(ask(name, type), {
        rcode: expect.rcode,
        aa: expect.aa ?? true,
        answer: expect.answer ?? [],
        authority: expect.authority ?? [],
        additional: expect.additional ?? [],
      });
    });
  }

  it('a chain of exactly 8 CNAMEs is followed', () => {
    const got = ask(`chain1.${Z}`, 'URI');
    assert.equal(got.rcode, 'NOERROR');
    assert.equal(got.answer.filter((l) => l.includes('\tCNAME\t')).length, 8);
    assert.deepEqual(got.answer.slice(-2), [v1, v2]);
  });

  it('reports what a reply was read from, so a change invalidates only what it touches', () => {
    const other = '210987654321.eu-west-1.aws.psarn.internal.';
    const deps = (name: string, qtype: number) => answer({ labels: nameLabels(name), qtype }, view).deps;
    // A CNAME across zones: both zones, both routes, both epochs.
    assert.deepEqual(deps(`cross.${other}`, 16), [
      `z:${other}`,
      `p:${other}|cross`,
      `e:${other}`,
      `z:${Z}`,
      `p:${Z}|orders/created`,
      `e:${Z}`,
    ]);
    // A route answer does not depend on the serial: setting another route leaves it cached.
    assert.deepEqual(deps(created, 256), [`z:${Z}`, `p:${Z}|orders/created`, `e:${Z}`]);
    // Negative answers carry the SOA, so they depend on the serial.
    assert.deepEqual(deps(`nope.${Z}`, 256), [`z:${Z}`, `s:${Z}`]);
    assert.deepEqual(deps(Z, 6), [`z:${Z}`, `s:${Z}`]);
    assert.deepEqual(deps(`_epoch.${Z}`, 16), [`z:${Z}`, `e:${Z}`]);
    assert.deepEqual(deps('www.example.com.', 1), ['']);
  });
});
