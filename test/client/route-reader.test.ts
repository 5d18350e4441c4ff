import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RouteAnswer, readEpoch, readRoute, readRouteTxt } from '../../src/client/route-reader.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { cname, LAMBDA, message, NAME, routeTxt, type Sections, soa, txt, uri, ZONE } from './fake-dns.js';

const CLAMP = { minTtl: 0, maxTtl: 172800 };
const LATEST = `latest.orders.${ZONE}`;
const V1 = `${LAMBDA}orders-created-v1`;
const V2 = `${LAMBDA}Orders-Created-V2`;

const reply = (s: Sections, qname = NAME) => message(1, [{ name: qname, qtype: Type.URI, qclass: 1 }], s);

const cases: { name: string; qname?: string; reply: Sections; clamp?: typeof CLAMP; want: RouteAnswer }[] = [
  {
    name: 'URI set with the TXT in additional: targets in order, policy, epoch, smallest TTL',
    reply: {
      answer: [uri(NAME, 300, 10, 90, V1), uri(NAME, 250, 10, 10, V2)],
      additional: [routeTxt(NAME, 280, 'weighted', 7)],
    },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: true,
      policy: 'weighted',
      epoch: 7,
      ttl: 250,
      targets: [
        { target: V1, priority: 10, weight: 90 },
        { target: V2, priority: 10, weight: 10 },
      ],
    },
  },
  {
    name: 'no TXT: weighted, epoch 0',
    reply: { answer: [uri(NAME, 60, 1, 1, V1)] },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: false,
      policy: 'weighted',
      epoch: 0,
      ttl: 60,
      targets: [{ target: V1, priority: 1, weight: 1 }],
    },
  },
  {
    name: 'a foreign TXT at the name is not the route TXT',
    reply: {
      answer: [uri(NAME, 60, 1, 1, V1), txt(NAME, 5, 'hello=world')],
      additional: [routeTxt(NAME, 60, 'fanout', 2)],
    },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: true,
      policy: 'fanout',
      epoch: 2,
      ttl: 60,
      targets: [{ target: V1, priority: 1, weight: 1 }],
    },
  },
  {
    name: 'CNAME chain: records at the final name, TTL includes the CNAMEs',
    qname: LATEST,
    reply: {
      answer: [
        cname(LATEST, 40, `mid.orders.${ZONE}`),
        cname(`mid.orders.${ZONE}`, 500, NAME),
        uri(NAME, 300, 10, 1, V1),
        uri(`other.${ZONE}`, 1, 10, 1, V2),
      ],
      additional: [routeTxt(NAME, 300, 'fanout', 3)],
    },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: true,
      policy: 'fanout',
      epoch: 3,
      ttl: 40,
      targets: [{ target: V1, priority: 10, weight: 1 }],
    },
  },
  {
    name: 'TTL clamped up to minTtl and down to maxTtl',
    reply: { answer: [uri(NAME, 5, 10, 1, V1)] },
    clamp: { minTtl: 30, maxTtl: 100 },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: false,
      policy: 'weighted',
      epoch: 0,
      ttl: 30,
      targets: [{ target: V1, priority: 10, weight: 1 }],
    },
  },
  {
    name: 'TTL clamped down to maxTtl',
    reply: { answer: [uri(NAME, 172800, 10, 1, V1)] },
    clamp: { minTtl: 30, maxTtl: 100 },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: false,
      policy: 'weighted',
      epoch: 0,
      ttl: 100,
      targets: [{ target: V1, priority: 10, weight: 1 }],
    },
  },
  {
    name: 'a TTL >= 2^31 counts as 0 (RFC 2181 §8), then the clamp applies',
    reply: { answer: [uri(NAME, 2 ** 31, 10, 1, V1)], additional: [routeTxt(NAME, 300, 'weighted', 1)] },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: true,
      policy: 'weighted',
      epoch: 1,
      ttl: 0,
      targets: [{ target: V1, priority: 10, weight: 1 }],
    },
  },
  {
    name: 'a TTL of 2^32-1 on the route TXT counts as 0, raised to minTtl',
    reply: { answer: [uri(NAME, 300, 10, 1, V1)], additional: [routeTxt(NAME, 2 ** 32 - 1, 'weighted', 1)] },
    clamp: { minTtl: 30, maxTtl: 100 },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: true,
      policy: 'weighted',
      epoch: 1,
      ttl: 30,
      targets: [{ target: V1, priority: 10, weight: 1 }],
    },
  },
  {
    name: 'a CNAME TTL >= 2^31 counts as 0',
    qname: LATEST,
    reply: { answer: [cname(LATEST, 0x9000_0000, NAME), uri(NAME, 300, 10, 1, V1)] },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: false,
      policy: 'weighted',
      epoch: 0,
      ttl: 0,
      targets: [{ target: V1, priority: 10, weight: 1 }],
    },
  },
  {
    name: 'a TTL of 2^31-1 is a TTL: clamped down to maxTtl',
    reply: { answer: [uri(NAME, 2 ** 31 - 1, 10, 1, V1)] },
    want: {
      kind: 'route',
      finalName: NAME,
      txt: false,
      policy: 'weighted',
      epoch: 0,
      ttl: 172800,
      targets: [{ target: V1, priority: 10, weight: 1 }],
    },
  },
  {
    name: 'NXDOMAIN with an SOA TTL or MINIMUM >= 2^31: negative TTL 0, not cached',
    reply: { rcode: Rcode.NXDOMAIN, authority: [soa(ZONE, 3600, 2 ** 31 + 5)] },
    want: { kind: 'negative', rcode: 'NXDOMAIN', ttl: 0, zone: ZONE },
  },
  {
    name: 'NODATA with an SOA TTL >= 2^31: negative TTL 0',
    reply: { authority: [soa(ZONE, 2 ** 31, 30)] },
    want: { kind: 'negative', rcode: 'NODATA', ttl: 0, zone: ZONE },
  },
  {
    name: 'NXDOMAIN: negative, TTL = min(SOA TTL, MINIMUM) (RFC 2308 §5)',
    reply: { rcode: Rcode.NXDOMAIN, authority: [soa(ZONE, 3600, 30)] },
    want: { kind: 'negative', rcode: 'NXDOMAIN', ttl: 30, zone: ZONE },
  },
  {
    name: 'NXDOMAIN: SOA TTL smaller than MINIMUM',
    reply: { rcode: Rcode.NXDOMAIN, authority: [soa(ZONE, 20, 30)] },
    want: { kind: 'negative', rcode: 'NXDOMAIN', ttl: 20, zone: ZONE },
  },
  {
    name: 'NODATA (NOERROR, no URI): negative too',
    reply: { authority: [soa(ZONE, 3600, 45)] },
    want: { kind: 'negative', rcode: 'NODATA', ttl: 45, zone: ZONE },
  },
  {
    name: 'negative without SOA: TTL 0, not cached',
    reply: { rcode: Rcode.NXDOMAIN },
    clamp: { minTtl: 10, maxTtl: 100 },
    want: { kind: 'negative', rcode: 'NXDOMAIN', ttl: 0, zone: undefined },
  },
  {
    name: 'NXDOMAIN after a CNAME: the CNAME TTL bounds the negative TTL',
    qname: LATEST,
    reply: { rcode: Rcode.NXDOMAIN, answer: [cname(LATEST, 10, NAME)], authority: [soa(ZONE, 3600, 30)] },
    want: { kind: 'negative', rcode: 'NXDOMAIN', ttl: 10, zone: ZONE },
  },
  { name: 'SERVFAIL', reply: { rcode: Rcode.SERVFAIL }, want: { kind: 'servfail' } },
  {
    name: 'REFUSED is a bad answer',
    reply: { rcode: Rcode.REFUSED },
    want: { kind: 'bad', reason: 'the server answered REFUSED' },
  },
  {
    name: 'FORMERR is a bad answer',
    reply: { rcode: Rcode.FORMERR },
    want: { kind: 'bad', reason: 'the server answered FORMERR' },
  },
  {
    name: 'a route TXT with a bad policy is a bad answer',
    reply: { answer: [uri(NAME, 60, 1, 1, V1)], additional: [txt(NAME, 60, 'v=psarn1', 'policy=random')] },
    want: {
      kind: 'bad',
      reason: `route TXT at ${NAME}: TXT string 'policy=random': policy must be weighted or fanout`,
    },
  },
];

describe('readRoute', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(readRoute(reply(c.reply, c.qname), c.qname ?? NAME, c.clamp ?? CLAMP), c.want);
    });
  }

  it('a CNAME chain longer than 8 is a bad answer; 8 steps are followed', () => {
    const names = Array.from({ length: 10 }, (_, i) => `a${i}.${ZONE}`);
    const chain = (n: number) => names.slice(0, n).map((name, i) => cname(name, 60, names[i + 1]!));
    const at = (n: number) => [uri(names[n]!, 60, 1, 1, V1)];
    assert.equal(readRoute(reply({ answer: [...chain(8), ...at(8)] }, names[0]), names[0]!, CLAMP).kind, 'route');
    assert.deepEqual(readRoute(reply({ answer: [...chain(9), ...at(9)] }, names[0]), names[0]!, CLAMP), {
      kind: 'bad',
      reason: `CNAME chain from ${names[0]} is longer than 8`,
    });
  });

  it('a chain the server stopped following (NOERROR, no SOA) is to be continued, not NODATA', () => {
    const names = Array.from({ length: 10 }, (_, i) => `a${i}.${ZONE}`);
    const chain = names.slice(0, 8).map((name, i) => cname(name, 60 + i, names[i + 1]!));
    assert.deepEqual(readRoute(reply({ answer: chain }, names[0]), names[0]!, CLAMP), {
      kind: 'chain',
      next: names[8],
      steps: 8,
      ttl: 60,
    });
    // The budget left of a chain continued: one more CNAME than it allows is a bad answer.
    assert.deepEqual(readRoute(reply({ answer: chain.slice(0, 3) }, names[0]), names[0]!, CLAMP, 2), {
      kind: 'bad',
      reason: `CNAME chain from ${names[0]} is longer than 8`,
    });
    // With the SOA it is a NODATA at the end of the chain.
    const nodata = readRoute(reply({ answer: chain, authority: [soa(ZONE, 3600, 45)] }, names[0]), names[0]!, CLAMP);
    assert.deepEqual(nodata, { kind: 'negative', rcode: 'NODATA', ttl: 45, zone: ZONE });
  });

  it('a CNAME loop stops at the step limit', () => {
    const a = `a.${ZONE}`;
    const b = `b.${ZONE}`;
    assert.equal(readRoute(reply({ answer: [cname(a, 60, b), cname(b, 60, a)] }, a), a, CLAMP).kind, 'bad');
  });
});

describe('readRouteTxt', () => {
  const q = [{ name: NAME, qtype: Type.TXT, qclass: 1 }];
  it('reads the route TXT at the name; other TXT and NODATA/NXDOMAIN are the defaults', () => {
    assert.deepEqual(
      readRouteTxt(message(1, q, { answer: [txt(NAME, 9, 'x=y'), routeTxt(NAME, 40, 'fanout', 5)] }), NAME),
      { kind: 'txt', policy: 'fanout', epoch: 5, ttl: 40 },
    );
    const defaults = { kind: 'txt', policy: 'weighted', epoch: 0, ttl: Number.POSITIVE_INFINITY };
    assert.deepEqual(readRouteTxt(message(1, q, { answer: [txt(NAME, 9, 'x=y')] }), NAME), defaults);
    assert.deepEqual(readRouteTxt(message(1, q, { rcode: Rcode.NXDOMAIN }), NAME), defaults);
  });
  it('REFUSED or a bad route TXT is a bad answer', () => {
    assert.equal(readRouteTxt(message(1, q, { rcode: Rcode.REFUSED }), NAME).kind, 'bad');
    const bad = readRouteTxt(message(1, q, { answer: [txt(NAME, 9, 'v=psarn1', 'policy=random')] }), NAME);
    assert.equal(bad.kind, 'bad');
  });
});

describe('readEpoch', () => {
  const q = [{ name: `_epoch.${ZONE}`, qtype: Type.TXT, qclass: 1 }];
  it('reads epoch=<n>', () => {
    assert.deepEqual(readEpoch(message(1, q, { answer: [txt(`_epoch.${ZONE}`, 5, 'epoch=12')] })), {
      kind: 'epoch',
      epoch: 12,
    });
  });
  it('NXDOMAIN or no epoch string is a bad answer', () => {
    assert.equal(readEpoch(message(1, q, { rcode: Rcode.NXDOMAIN })).kind, 'bad');
    assert.equal(readEpoch(message(1, q, { answer: [txt(`_epoch.${ZONE}`, 5, 'x=1')] })).kind, 'bad');
    assert.equal(readEpoch(message(1, q, { answer: [txt(`_epoch.${ZONE}`, 5, 'epoch=-1')] })).kind, 'bad');
  });
});
