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
import { encodeUpdate, type UpdateMessage } from '../../src/cli/remote/update-message.js';
import type { StoredRoute } from '../../src/store/types.js';
import { findTsig, makeTsigKey, signMessageMac, verifyMessage } from '../../src/wire/tsig.js';
import type { DnsRecord } from '../../src/wire/types.js';
import { Type } from '../../src/wire/types.js';
import { formatRecord } from '../../src/zonefile/presentation.js';

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

describe('encodeUpdate (RFC 2136 §2)', () => {
  const message: UpdateMessage = {
    id: 4242,
    zone: Z,
    prerequisites: [
      { kind: 'rrset-equals', records: [uri(L1, 1), uri(L2, 0)] },
      // dns-packet cannot read a CNAME without data: the absent set is a TXT here.
      { kind: 'rrset-absent', name: META, type: Type.TXT },
      { kind: 'rrset-exists', name: NAME, type: Type.TXT },
    ],
    updates: [
      { kind: 'delete-rrset', name: NAME, type: Type.URI },
      { kind: 'add', record: uri(L1, 5, 60) },
      { kind: 'delete-rr', record: { name: META, ttl: 300, type: 'TXT', strings: ['team=a'] } },
    ],
  };
  const bytes = encodeUpdate(message);
  const d = decode(bytes);

  it('is an UPDATE: opcode 5, QR 0, the zone section SOA IN, the counts of each section', () => {
    assert.equal(d.id, 4242);
    assert.equal((d as { opcode?: string }).opcode, 'UPDATE');
    assert.equal(d.type, 'query');
    assert.equal(bytes.readUInt16BE(2), 5 << 11, 'flags: only the opcode');
    assert.deepEqual(d.questions, [{ name: Z.slice(0, -1), type: 'SOA', class: 'IN' }]);
    // ZOCOUNT 1, PRCOUNT 4 (a pinned set is one RR each), UPCOUNT 3, ADCOUNT 1 (the OPT).
    assert.deepEqual(
      [4, 6, 8, 10].map((o) => bytes.readUInt16BE(o)),
      [1, 4, 3, 1],
    );
  });

  it('writes the prerequisites as §2.4 says: value-dependent class IN TTL 0 with data, NONE and ANY with none', () => {
    const n = NAME.slice(0, -1);
    assert.deepEqual((d.answers as Rr[]).map(line), [
      `${n} UNKNOWN_256 IN 0 ${4 + L1.length}`,
      `${n} UNKNOWN_256 IN 0 ${4 + L2.length}`,
      `${META.slice(0, -1)} TXT UNKNOWN_254 0 `,
      `${n} TXT ANY 0 `,
    ]);
  });

  it('writes the updates as §2.5 says: delete an RRset (ANY, TTL 0, no data), add (IN, TTL), delete an RR (NONE, TTL 0, data)', () => {
    const n = NAME.slice(0, -1);
    assert.deepEqual((d.authorities as Rr[]).map(line), [
      `${n} UNKNOWN_256 ANY 0 0`,
      `${n} UNKNOWN_256 IN 60 ${4 + L1.length}`,
      `${META.slice(0, -1)} TXT UNKNOWN_254 0 team=a`,
    ]);
    const added = (d.authorities as Rr[])[1]!.data as Buffer;
    assert.equal(added.readUInt16BE(0), 10, 'priority');
    assert.equal(added.readUInt16BE(2), 5, 'weight');
    assert.equal(added.subarray(4).toString(), L1, 'target, byte-exact');
  });

  it('carries an OPT, so that a refusal can come with an Extended DNS Error; none when asked', () => {
    assert.equal((d.additionals as { type: string }[])[0]?.type, 'OPT');
    const plain = encodeUpdate({ ...message, edns: false });
    assert.equal(plain.readUInt16BE(10), 0);
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

/** The plan's sections as presentation lines: `pre <kind> ...`, `upd <kind> ...`. */
function plan(update: UpdateMessage): string[] {
  const out: string[] = [];
  for (const p of update.prerequisites) {
    if (p.kind === 'rrset-equals') for (const r of p.records) out.push(`pre = ${formatRecord(r)}`);
    else out.push(`pre ${p.kind} ${p.name} ${p.type}`);
  }
  for (const u of update.updates) {
    if (u.kind === 'add') out.push(`upd add ${formatRecord(u.record)}`);
    else if (u.kind === 'delete-rrset') out.push(`upd delete ${u.name} ${u.type}`);
    else out.push(`upd delete-rr ${formatRecord(u.record)}`);
  }
  return out;
}

describe('routeUpdate: the UPDATE from the route read to the route built', () => {
  const before = stored();
  const rrsets = { uri: [uri(L1, 1), uri(L2, 0)], txt: [txt('weighted')] };

  it('a new route: every RRset pinned absent, its URI and TXT added (the TXT under the zone epoch)', () => {
    const u = routeUpdate(readOf(undefined), stored(), 1);
    assert.equal(u.zone, Z);
    assert.deepEqual(
      plan(u),
      [
        `pre rrset-absent ${NAME} ${Type.URI}`,
        `upd add ${formatRecord(uri(L1, 1))}`,
        `upd add ${formatRecord(uri(L2, 0))}`,
        `pre rrset-absent ${NAME} ${Type.TXT}`,
        `upd add ${formatRecord(txt('weighted'))}`,
      ].sort((a, b) => (a.startsWith('pre') === b.startsWith('pre') ? 0 : a.startsWith('pre') ? -1 : 1)),
    );
  });

  it('a weight change: only the URI RRset pinned as read and replaced; TXT and _meta untouched', () => {
    const after = stored({
      targets: [
        { target: L1, weight: 1, priority: 10 },
        { target: L2, weight: 3, priority: 10 },
      ],
    });
    assert.deepEqual(plan(routeUpdate(readOf(before, rrsets), after, 1)), [
      `pre = ${formatRecord(uri(L1, 1))}`,
      `pre = ${formatRecord(uri(L2, 0))}`,
      `upd delete ${NAME} ${Type.URI}`,
      `upd add ${formatRecord(uri(L1, 1))}`,
      `upd add ${formatRecord(uri(L2, 3))}`,
    ]);
  });

  it('a policy change: only the TXT, pinned as the server serves it (with its epoch string)', () => {
    assert.deepEqual(plan(routeUpdate(readOf(before, rrsets), stored({ policy: 'fanout' }), 1)), [
      `pre = ${formatRecord(txt('weighted'))}`,
      `upd delete ${NAME} ${Type.TXT}`,
      `upd add ${formatRecord(txt('fanout'))}`,
    ]);
  });

  it('metadata: the _meta RRset pinned and replaced; the route RRsets untouched', () => {
    const meta = { name: META, ttl: 300, type: 'TXT' as const, strings: ['team=a'] };
    const read = readOf(stored({ metadata: { team: 'a' } }), { ...rrsets, meta: [meta] });
    assert.deepEqual(plan(routeUpdate(read, stored({ metadata: { team: 'b', tier: '1' } }), 1)), [
      `pre = ${formatRecord(meta)}`,
      `upd delete ${META} ${Type.TXT}`,
      `upd add _meta.${NAME}\t300\tIN\tTXT\t"team=b"`,
      `upd add _meta.${NAME}\t300\tIN\tTXT\t"tier=1"`,
    ]);
  });

  it('a route turned alias: URI and TXT pinned and deleted, the CNAME pinned absent and added', () => {
    const alias = `latest.orders.${Z}`;
    const after: StoredRoute = { ...stored(), policy: undefined, targets: [], alias } as StoredRoute;
    delete (after as { policy?: string }).policy;
    const lines = plan(routeUpdate(readOf(before, rrsets), after, 1));
    assert.ok(lines.includes(`upd delete ${NAME} ${Type.URI}`));
    assert.ok(lines.includes(`upd delete ${NAME} ${Type.TXT}`));
    assert.ok(lines.includes(`pre rrset-absent ${NAME} ${Type.CNAME}`));
    assert.ok(lines.includes(`upd add ${NAME}\t300\tIN\tCNAME\t${alias}`));
  });

  it('a delete: every RRset the route has pinned and deleted, and its _meta RRset deleted', () => {
    assert.deepEqual(
      plan(routeUpdate(readOf(before, rrsets), undefined, 1)),
      [
        `pre = ${formatRecord(uri(L1, 1))}`,
        `pre = ${formatRecord(uri(L2, 0))}`,
        `upd delete ${NAME} ${Type.URI}`,
        `pre = ${formatRecord(txt('weighted'))}`,
        `upd delete ${NAME} ${Type.TXT}`,
        `upd delete ${META} ${Type.TXT}`,
      ].sort((a, b) => (a.startsWith('pre') === b.startsWith('pre') ? 0 : a.startsWith('pre') ? -1 : 1)),
    );
  });
});
