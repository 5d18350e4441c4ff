/**
 * Transfers out, counted (docs/design.md#transfer-metrics): psarn_dns_transfers_total by the
 * requested type and result, the messages and bytes that went out, and psarn_dns_ede_total; and
 * the EXPIRE option (RFC 7314 §3) in every message of a transfer, through the expireFor hook a
 * secondary fills with the seconds its own copy has left. The handler and the transfer server
 * on an in-memory store, driven message by message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { allowTransferByKeys, TransferServer } from '../../src/server/transfer.js';
import { Store } from '../../src/store/index.js';
import type { RouteSpec } from '../../src/store/types.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { makeTsigKey, signMessageMac } from '../../src/wire/tsig.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { encodeIxfrQuery } from '../../src/zonefile/transfer.js';
import { PARAMS, ZONE, zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';
import { ZONE2 } from '../store/helpers.js';
import { makeRoutes } from '../zonefile/fixtures.js';

const NOW = 1_800_000_000_000;
const key = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 7).toString('base64'));
const other = makeTsigKey('other-key', 'hmac-sha256', Buffer.alloc(32, 8).toString('base64'));
const PEER = { address: '127.0.0.1', port: 5353 };
const EXPIRE_OPTION = 9;

const spec = (name: string): RouteSpec => ({
  policy: 'weighted',
  ttl: 300,
  targets: [{ target: `arn:aws:lambda:us-east-1:123456789012:function:${name}`, weight: 1, priority: 10 }],
});

/**
 * ZONE with two single-route changes after its first write (an IXFR from the first serial is a
 * difference); ZONE2 imported with 3000 routes (an AXFR of it is several messages).
 */
function setup(options: { expireFor?: (zone: string, soaExpire: number) => number } = {}) {
  const store = Store.open(':memory:');
  const first = store.setRoute(ZONE, 'orders/created', spec('v1'), PARAMS).serial;
  store.setRoute(ZONE, 'orders/created', spec('v2'), PARAMS);
  store.setRoute(ZONE, 'orders/audit', spec('a1'), PARAMS);
  const big = makeRoutes(3000, ZONE2).filter((r) => r.alias === undefined);
  store.importZones(
    [
      {
        name: ZONE2,
        routes: big.map((r) => ({
          path: r.path,
          spec: { policy: 'weighted', ttl: 300, targets: r.targets } as RouteSpec,
        })),
      },
    ],
    PARAMS,
  );
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const transfers = new TransferServer({
    openStore: () => ({ store, close: () => {} }),
    allow: allowTransferByKeys(['transfer-key']),
    epochTtl: () => 5,
    log: pino({ level: 'silent' }),
    clock: () => NOW,
    metrics,
    udpPayloadSize: 1232,
    ...(options.expireFor !== undefined ? { expireFor: options.expireFor } : {}),
  });
  const handler = new QueryHandler({
    view: new MemoryView(zoneHead(ZONE)),
    cache: new AnswerCache(),
    metrics,
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
    tsigKeys: new Map([
      [key.name, key],
      [other.name, other],
    ]),
    clock: () => NOW,
    transfers,
  });
  return { store, metrics, handler, first };
}

/** Every sample of the registry, as name, labels and value. */
async function samples(
  metrics: DaemonMetrics,
): Promise<{ name: string; labels: Record<string, string>; value: number }[]> {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of `name`'s samples whose labels include `labels` (0 when none). */
async function value(metrics: DaemonMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  let sum = 0;
  for (const s of await samples(metrics)) {
    if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Every transfer counter at once, for "nothing else moved". */
async function transferCounts(metrics: DaemonMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await samples(metrics)) {
    if (s.name === 'psarn_dns_transfers_total' && s.value !== 0) out[`${s.labels.type}/${s.labels.result}`] = s.value;
  }
  return out;
}

/** An EXPIRE option (RFC 7314 §2: empty in a query) appended to an unsigned query's OPT, the last record. */
function withExpire(query: Buffer): Buffer {
  const rdlen = query.readUInt16BE(query.length - 2);
  assert.equal(rdlen, 0);
  const option = Buffer.from([0, EXPIRE_OPTION, 0, 0]);
  const out = Buffer.concat([query, option]);
  out.writeUInt16BE(4, query.length - 2);
  return out;
}

/** An IXFR query with an OPT (encodeIxfrQuery writes none): the OPT after the authority SOA. */
function ixfrWithEdns(zone: string, serial: number, id: number): Buffer {
  const q = encodeIxfrQuery(zone, serial, id);
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
  const out = Buffer.concat([q, opt]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

const sign = (query: Buffer, k = key) => signMessageMac(query, k, { now: () => NOW }).message;
const axfr = (zone: string, edns = true) =>
  encodeQuery({ id: 7, name: zone, qtype: Type.AXFR, edns: edns ? { udpSize: 1232 } : false });
const all = (replies: Iterable<Buffer> | undefined): Buffer[] => [...(replies ?? [])];
const bytesOf = (messages: Buffer[]) => messages.reduce((n, m) => n + m.length, 0);

function expireOf(message: Buffer): number | undefined {
  const option = decodeMessage(message).edns?.options.find((o) => o.code === EXPIRE_OPTION);
  return option === undefined ? undefined : option.data.readUInt32BE(0);
}

describe('transfer metrics', () => {
  it('an unsigned AXFR is refused: transfers{axfr,refused}, its one message and bytes, EDE 18', async () => {
    const { metrics, handler } = setup();
    const replies = all(handler.transfer(axfr(ZONE), PEER));
    assert.equal(replies.length, 1);
    assert.equal(decodeMessage(replies[0]!).rcode, Rcode.REFUSED);
    assert.deepEqual(await transferCounts(metrics), { 'axfr/refused': 1 });
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'axfr' }), 1);
    assert.equal(await value(metrics, 'psarn_dns_transfer_bytes_total', { type: 'axfr' }), replies[0]!.length);
    assert.equal(await value(metrics, 'psarn_dns_ede_total', { code: '18' }), 1);
    assert.equal(await value(metrics, 'psarn_dns_ede_total'), 1);
  });

  it('a signed many-message AXFR counts ok once at its end, and every message and byte sent', async () => {
    const { metrics, handler } = setup();
    const it = handler.transfer(sign(axfr(ZONE2)), PEER)![Symbol.iterator]();
    const messages: Buffer[] = [];
    messages.push(it.next().value as Buffer);
    // Under way: its messages are counted as they go, its result when it ends.
    assert.deepEqual(await transferCounts(metrics), {});
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'axfr' }), 1);
    for (let r = it.next(); !r.done; r = it.next()) messages.push(r.value);
    assert.ok(messages.length > 3, `${messages.length} messages`);
    assert.deepEqual(await transferCounts(metrics), { 'axfr/ok': 1 });
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'axfr' }), messages.length);
    assert.equal(await value(metrics, 'psarn_dns_transfer_bytes_total', { type: 'axfr' }), bytesOf(messages));
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'ixfr' }), 0);
    assert.equal(await value(metrics, 'psarn_dns_ede_total'), 0);
  });

  it('an AXFR whose connection closed mid-stream is an error, with what went out before', async () => {
    const { metrics, handler } = setup();
    const it = handler.transfer(sign(axfr(ZONE2)), PEER)![Symbol.iterator]();
    const first = it.next().value as Buffer;
    it.return?.();
    assert.deepEqual(await transferCounts(metrics), { 'axfr/error': 1 });
    assert.equal(await value(metrics, 'psarn_dns_transfer_bytes_total', { type: 'axfr' }), first.length);
  });

  it('an IXFR over TCP counts as ixfr ok, with its messages', async () => {
    const { metrics, handler, first } = setup();
    const replies = all(handler.transfer(sign(encodeIxfrQuery(ZONE, first, 3)), PEER));
    const answer = replies.flatMap((m) => decodeMessage(m).answer);
    // A difference (RFC 1995 §4): SOA, old SOA, ..., not the whole zone twice.
    assert.equal(answer[1]?.type, 'SOA');
    assert.deepEqual(await transferCounts(metrics), { 'ixfr/ok': 1 });
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'ixfr' }), replies.length);
    assert.equal(await value(metrics, 'psarn_dns_transfer_bytes_total', { type: 'ixfr' }), bytesOf(replies));
  });

  it('an IXFR answered with the whole zone (AXFR form) counts as ixfr, not axfr', async () => {
    const { metrics, handler } = setup();
    // A serial the journal never reaches: RFC 1995 §4, the whole zone.
    const replies = all(handler.transfer(sign(encodeIxfrQuery(ZONE2, 1, 4)), PEER));
    assert.ok(replies.length > 3);
    assert.deepEqual(await transferCounts(metrics), { 'ixfr/ok': 1 });
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'ixfr' }), replies.length);
    assert.equal(await value(metrics, 'psarn_dns_transfer_bytes_total', { type: 'ixfr' }), bytesOf(replies));
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'axfr' }), 0);
  });

  it('an IXFR over UDP answered with the SOA alone counts as ixfr ok, one message', async () => {
    const { metrics, handler } = setup();
    const reply = handler.handle(sign(encodeIxfrQuery(ZONE2, 1, 5)), 'udp')!;
    const decoded = decodeMessage(reply);
    assert.equal(decoded.rcode, Rcode.NOERROR);
    assert.deepEqual(
      decoded.answer.map((rr) => rr.type),
      ['SOA'],
    );
    assert.deepEqual(await transferCounts(metrics), { 'ixfr/ok': 1 });
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'ixfr' }), 1);
    assert.equal(await value(metrics, 'psarn_dns_transfer_bytes_total', { type: 'ixfr' }), reply.length);
  });

  it('NOTAUTH (no zone of ours; a TSIG that failed) is notauth; AXFR over UDP (NOTIMP) is error', async () => {
    const { metrics, handler } = setup();
    const notOurs = all(handler.transfer(sign(axfr('elsewhere.example.')), PEER));
    assert.equal(decodeMessage(notOurs[0]!).rcode, Rcode.NOTAUTH);
    // Signed with a key whose secret is not the one configured: BADSIG, before the ACL.
    const forged = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 9).toString('base64'));
    const bad = all(handler.transfer(sign(axfr(ZONE), forged), PEER));
    assert.equal(decodeMessage(bad[0]!).rcode, Rcode.NOTAUTH);
    // Signed by a known key the ACL does not list: refused.
    all(handler.transfer(sign(axfr(ZONE), other), PEER));
    handler.handle(sign(axfr(ZONE)), 'udp');
    assert.deepEqual(await transferCounts(metrics), { 'axfr/notauth': 2, 'axfr/refused': 1, 'axfr/error': 1 });
    assert.equal(await value(metrics, 'psarn_dns_transfer_messages_total', { type: 'axfr' }), 4);
  });
});

describe('EXPIRE in transfers out (RFC 7314 §3)', () => {
  it("a secondary's transfer carries the seconds its copy has left, in every message", () => {
    const asked: [string, number][] = [];
    const { handler } = setup({
      expireFor: (zone, soaExpire) => {
        asked.push([zone, soaExpire]);
        return 20;
      },
    });
    const replies = all(handler.transfer(sign(withExpire(axfr(ZONE2))), PEER));
    assert.ok(replies.length > 3);
    assert.deepEqual(
      replies.map(expireOf),
      replies.map(() => 20),
    );
    assert.deepEqual(asked, [[ZONE2, PARAMS.expire]]);
    // The records are the same as without the option: only the OPT grew.
    const plain = all(handler.transfer(sign(axfr(ZONE2)), PEER));
    assert.deepEqual(
      plain.flatMap((m) => decodeMessage(m).answer),
      replies.flatMap((m) => decodeMessage(m).answer),
    );
    assert.deepEqual(
      plain.map(expireOf),
      plain.map(() => undefined),
    );
  });

  it("an IXFR too (TCP and UDP), and a primary's is the SOA's expire field", () => {
    const { handler, first } = setup({ expireFor: () => 20 });
    const ixfr = all(handler.transfer(sign(withExpire(ixfrWithEdns(ZONE, first, 6))), PEER));
    assert.deepEqual(ixfr.map(expireOf), [20]);
    const udp = handler.handle(sign(withExpire(ixfrWithEdns(ZONE, first, 7))), 'udp')!;
    assert.equal(expireOf(udp), 20);
    const primary = setup();
    const replies = all(primary.handler.transfer(sign(withExpire(axfr(ZONE))), PEER));
    assert.deepEqual(replies.map(expireOf), [PARAMS.expire]);
  });

  it('a refusal carries no EXPIRE', () => {
    const { handler } = setup({ expireFor: () => 20 });
    const [reply] = all(handler.transfer(withExpire(axfr(ZONE)), PEER));
    assert.equal(decodeMessage(reply!).rcode, Rcode.REFUSED);
    assert.equal(expireOf(reply!), undefined);
  });
});
