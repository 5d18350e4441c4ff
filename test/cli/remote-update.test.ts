/**
 * The remote CLI's DNS UPDATE (RFC 2136) messages, decoded by dns-packet (an independent
 * decoder): header, zone section, the prerequisites that pin what was read (§2.4) and the
 * updates (§2.5), each RR's CLASS, TTL and RDATA as the RFC says; signed with TSIG (RFC 8945)
 * and verified. Then the route -> UPDATE plan: only the RRsets that change are pinned and
 * written, `_meta` only when the metadata changes, a delete removes every RRset.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { RemoteRouteRead } from '../../src/cli/remote/route-read.js';
import { routeUpdate } from '../../src/cli/remote/route-update.js';
import type { StoredRoute } from '../../src/store/types.js';
import { className, typeName } from '../../src/wire/message.js';
import { findTsig, makeTsigKey, signMessageMac, verifyMessage } from '../../src/wire/tsig.js';
import type { DnsRecord } from '../../src/wire/types.js';
import { Class } from '../../src/wire/types.js';
import { encodeUpdate, recordRdata, type UpdateMessage, type UpdateRecordSpec } from '../../src/wire/update.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const NAME = `created.orders.${Z}`;
const META = `_meta.${NAME}`;
const L1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';
const L2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v2';

type Decoded = ReturnType<typeof dnsPacket.decode>;
type Rr = { name: string; type: string; class: string; ttl: number; data: unknown };

/** One RR as text: `name type class ttl rdata-length`, what the tests compare. */
function line(rr: Rr): string {
  const data = rr.data as Buffer | Buffer[] | string;
  const size = Buffer.isBuffer(data) ? data.length : Array.isArray(data) ? data.map(String).join('|') : data;
  return `${rr.name} ${rr.type} ${rr.class} ${rr.ttl} ${size}`;
}

function decode(message: Buffer): Decoded {
  return dnsPacket.decode(message);
}

const uri = (target: string, weight: number, ttl = 300): DnsRecord => ({
  name: NAME,
  ttl,
  type: 'URI',
  priority: 10,
  weight,
  target,
});
const txt = (policy: string, epoch = 3, ttl = 300): DnsRecord => ({
  name: NAME,
  ttl,
  type: 'TXT',
  strings: ['v=psarn1', `policy=${policy}`, `epoch=${epoch}`],
});

/** A route read from the server, with its RRsets as the server serves them. */
function readOf(route: StoredRoute | undefined, rrsets: Partial<RemoteRouteRead['rrsets']> = {}): RemoteRouteRead {
  return {
    zone: Z,
    path: 'orders/created',
    name: NAME,
    metaName: META,
    zoneExists: route !== undefined,
    serial: 7,
    epoch: 3,
    ...(route === undefined ? {} : { route }),
    rrsets: { uri: [], txt: [], cname: [], meta: [], ...rrsets },
  };
}

const stored = (over: Partial<StoredRoute> = {}): StoredRoute => ({
  zone: Z,
  path: 'orders/created',
  ttl: 300,
  policy: 'weighted',
  targets: [
    { target: L1, weight: 1, priority: 10 },
    { target: L2, weight: 0, priority: 10 },
  ],
  metadata: {},
  serial: 0,
  updatedAt: 0,
  ...over,
});

describe('the UPDATE of a route write, on the wire (RFC 2136 §2, encoded by src/wire/update.ts)', () => {
  const read = readOf(stored(), { uri: [uri(L1, 1), uri(L2, 0)], txt: [txt('weighted')] });
  const after = stored({
    targets: [
      { target: L1, weight: 1, priority: 10 },
      { target: L2, weight: 5, priority: 10 },
    ],
  });
  const bytes = encodeUpdate(routeUpdate(read, after, 4242));
  const d = decode(bytes);

  it('is an UPDATE: opcode 5, QR 0, the zone section SOA IN, the counts of each section', () => {
    assert.equal(d.id, 4242);
    assert.equal((d as { opcode?: string }).opcode, 'UPDATE');
    assert.equal(bytes.readUInt16BE(2), 5 << 11, 'flags: only the opcode');
    assert.deepEqual(d.questions, [{ name: Z.slice(0, -1), type: 'SOA', class: 'IN' }]);
    // ZOCOUNT 1, PRCOUNT 2 (the URI set as read, one RR each), UPCOUNT 3, ADCOUNT 1 (the OPT).
    assert.deepEqual(
      [4, 6, 8, 10].map((o) => bytes.readUInt16BE(o)),
      [1, 2, 3, 1],
    );
  });

  it('pins the URI set as read (§2.4.2: class IN, TTL 0, the data), deletes it (§2.5.2: ANY, TTL 0, no data), adds the new one', () => {
    const n = NAME.slice(0, -1);
    const size = 4 + L1.length;
    assert.deepEqual((d.answers as Rr[]).map(line), [`${n} UNKNOWN_256 IN 0 ${size}`, `${n} UNKNOWN_256 IN 0 ${size}`]);
    assert.deepEqual((d.authorities as Rr[]).map(line), [
      `${n} UNKNOWN_256 ANY 0 0`,
      `${n} UNKNOWN_256 IN 300 ${size}`,
      `${n} UNKNOWN_256 IN 300 ${size}`,
    ]);
    const added = (d.authorities as Rr[])[2]!.data as Buffer;
    assert.equal(added.readUInt16BE(0), 10, 'priority');
    assert.equal(added.readUInt16BE(2), 5, 'weight');
    assert.equal(added.subarray(4).toString(), L2, 'target, byte-exact');
    assert.equal((d.additionals as { type: string }[])[0]?.type, 'OPT', 'an OPT, so a refusal can carry an EDE');
  });

  it('is signed with TSIG after the OPT, and the signature verifies (RFC 8945)', () => {
    const key = makeTsigKey('update-key', 'hmac-sha256', randomBytes(32).toString('base64'));
    const { message: signed } = signMessageMac(bytes, key);
    assert.ok(findTsig(signed) > 0);
    assert.equal(verifyMessage(signed, new Map([[key.name, key]])).status, 'ok');
    const other = makeTsigKey('update-key', 'hmac-sha256', randomBytes(32).toString('base64'));
    assert.equal(verifyMessage(signed, new Map([[other.name, other]])).status, 'badsig');
  });
});

/** The plan's sections as lines: `pre|upd <name> <TYPE> <CLASS> <ttl> <rdata as presentation, or ->`. */
function plan(update: UpdateMessage): string[] {
  const show = (what: string, spec: UpdateRecordSpec) =>
    `${what} ${spec.name} ${typeName(spec.type)} ${className(spec.klass ?? Class.IN)} ${spec.ttl ?? 0} ${
      spec.rdata === undefined || spec.rdata.length === 0 ? '-' : Buffer.from(spec.rdata).toString('hex')
    }`;
  return [
    ...(update.prerequisites ?? []).map((p) => show('pre', p)),
    ...(update.updates ?? []).map((u) => show('upd', u)),
  ];
}

/** A record as a plan line (its rdata in hex). */
const rec = (what: string, r: DnsRecord, klass = 'IN', ttl = r.ttl) =>
  `${what} ${r.name} ${r.type} ${klass} ${ttl} ${recordRdata(r).toString('hex')}`;
const none = (what: string, name: string, type: string, klass: string) => `${what} ${name} ${type} ${klass} 0 -`;

describe('routeUpdate: the UPDATE from the route read to the route built', () => {
  const before = stored();
  const rrsets = { uri: [uri(L1, 1), uri(L2, 0)], txt: [txt('weighted')] };

  it('a new route: URI and TXT pinned absent (§2.4.3: NONE), then added (the TXT under the zone epoch)', () => {
    const u = routeUpdate(readOf(undefined), stored(), 1);
    assert.equal(u.zone, Z);
    assert.deepEqual(plan(u), [
      none('pre', NAME, 'URI', 'NONE'),
      none('pre', NAME, 'TXT', 'NONE'),
      rec('upd', uri(L1, 1)),
      rec('upd', uri(L2, 0)),
      rec('upd', txt('weighted')),
    ]);
  });

  it('a weight change: only the URI RRset pinned as read and replaced; TXT and _meta untouched', () => {
    const after = stored({
      targets: [
        { target: L1, weight: 1, priority: 10 },
        { target: L2, weight: 3, priority: 10 },
      ],
    });
    assert.deepEqual(plan(routeUpdate(readOf(before, rrsets), after, 1)), [
      rec('pre', uri(L1, 1), 'IN', 0),
      rec('pre', uri(L2, 0), 'IN', 0),
      none('upd', NAME, 'URI', 'ANY'),
      rec('upd', uri(L1, 1)),
      rec('upd', uri(L2, 3)),
    ]);
  });

  it('a policy change: only the TXT, pinned as the server serves it (with its epoch string)', () => {
    assert.deepEqual(plan(routeUpdate(readOf(before, rrsets), stored({ policy: 'fanout' }), 1)), [
      rec('pre', txt('weighted'), 'IN', 0),
      none('upd', NAME, 'TXT', 'ANY'),
      rec('upd', txt('fanout')),
    ]);
  });

  it('a TTL change: every RRset of the route rewritten with the new TTL (RFC 2136 compares no TTL)', () => {
    assert.deepEqual(plan(routeUpdate(readOf(before, rrsets), stored({ ttl: 60 }), 1)), [
      rec('pre', uri(L1, 1), 'IN', 0),
      rec('pre', uri(L2, 0), 'IN', 0),
      rec('pre', txt('weighted'), 'IN', 0),
      // Every delete before any add (RFC 2136 §3.4.2 applies them in order).
      none('upd', NAME, 'URI', 'ANY'),
      none('upd', NAME, 'TXT', 'ANY'),
      rec('upd', uri(L1, 1, 60)),
      rec('upd', uri(L2, 0, 60)),
      rec('upd', txt('weighted', 3, 60)),
    ]);
  });

  it('metadata: the _meta RRset pinned and replaced; the route RRsets untouched', () => {
    const meta: DnsRecord = { name: META, ttl: 300, type: 'TXT', strings: ['team=a'] };
    const read = readOf(stored({ metadata: { team: 'a' } }), { ...rrsets, meta: [meta] });
    assert.deepEqual(plan(routeUpdate(read, stored({ metadata: { team: 'b', tier: '1' } }), 1)), [
      rec('pre', meta, 'IN', 0),
      none('upd', META, 'TXT', 'ANY'),
      rec('upd', { ...meta, strings: ['team=b'] }),
      rec('upd', { ...meta, strings: ['tier=1'] }),
    ]);
  });

  it('a route turned alias: URI and TXT pinned and deleted, the CNAME pinned absent and added', () => {
    const alias = `latest.orders.${Z}`;
    const { policy: _, ...rest } = stored();
    const after: StoredRoute = { ...rest, targets: [], alias };
    assert.deepEqual(plan(routeUpdate(readOf(before, rrsets), after, 1)), [
      rec('pre', uri(L1, 1), 'IN', 0),
      rec('pre', uri(L2, 0), 'IN', 0),
      rec('pre', txt('weighted'), 'IN', 0),
      none('pre', NAME, 'CNAME', 'NONE'),
      none('upd', NAME, 'URI', 'ANY'),
      none('upd', NAME, 'TXT', 'ANY'),
      rec('upd', { name: NAME, ttl: 300, type: 'CNAME', target: alias }),
    ]);
  });

  it('a delete: every RRset the route has pinned and deleted, and its _meta RRset deleted', () => {
    assert.deepEqual(plan(routeUpdate(readOf(before, rrsets), undefined, 1)), [
      rec('pre', uri(L1, 1), 'IN', 0),
      rec('pre', uri(L2, 0), 'IN', 0),
      rec('pre', txt('weighted'), 'IN', 0),
      none('upd', NAME, 'URI', 'ANY'),
      none('upd', NAME, 'TXT', 'ANY'),
      none('upd', META, 'TXT', 'ANY'),
    ]);
  });
});
