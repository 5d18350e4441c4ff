/**
 * The handler's secondary hooks (docs/design.md#secondary-mode): NOTIFY accepted for a followed
 * zone (NOERROR, AA, question echoed, signed like the request: RFC 1996 §4.7, RFC 8945 §5.3),
 * refused NOTAUTH otherwise; the acceptor's key and address rules; UPDATE REFUSED with EDE 18;
 * a zone past expire answered SERVFAIL with EDE 22 on every path (store, route index, transfer).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { type IncomingNotify, notifyAcceptor, parseNotify } from '../../src/secondary/notify-in.js';
import { type HandlerOptions, QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { encodeNotify } from '../../src/server/notify.js';
import { Hdr, OPCODE_SHIFT } from '../../src/wire/cursor.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Ede } from '../../src/wire/response.js';
import { makeTsigKey, signMessageMac, TsigError, verifyMessage } from '../../src/wire/tsig.js';
import { Opcode, Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { RouteIndex } from '../../src/zone/route-index.js';
import { PARAMS, zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const OTHER = '210987654321.eu-west-1.aws.psarn.internal.';
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
const ZONES = `
${zoneHead(Z)}
created.orders 300 IN URI 10 90 "${LAMBDA}v1"
${zoneHead(OTHER)}
created.orders 300 IN URI 10 90 "${LAMBDA}v2"
`;
const NOW = 1_800_000_000_000;
const key = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 1).toString('base64'));
const other = makeTsigKey('other-key', 'hmac-sha256', Buffer.alloc(32, 2).toString('base64'));
const keys = new Map([
  [key.name, key],
  [other.name, other],
]);

function setup(options: Partial<HandlerOptions> = {}) {
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const handler = new QueryHandler({
    view: new MemoryView(ZONES),
    cache: new AnswerCache(),
    metrics,
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
    tsigKeys: keys,
    clock: () => NOW,
    ...options,
  });
  return { handler, metrics };
}

const notifyOf = (zone: string, serial = 7) => encodeNotify(0x1234, { ...PARAMS, name: zone, serial });

function ednsOf(reply: Buffer) {
  const m = decodeMessage(reply);
  const ede = m.edns?.options.find((o) => o.code === 15);
  return {
    m,
    ede: ede === undefined ? undefined : { code: ede.data.readUInt16BE(0), text: ede.data.toString('utf8', 2) },
  };
}

describe('secondary hooks of the handler', () => {
  it('parses a NOTIFY: its zone, and the serial of the SOA in its answer section', () => {
    const parsed = parseNotify(notifyOf(Z, 42));
    assert.equal(parsed.kind, 'notify');
    if (parsed.kind !== 'notify') return;
    assert.equal(parsed.query.qname, Z);
    assert.equal(parsed.query.qtype, Type.SOA);
    assert.equal(parsed.query.opcode, Opcode.NOTIFY);
    assert.equal(parsed.serial, 42);
    const bare = encodeQuery({ id: 1, name: Z, qtype: Type.SOA, edns: false });
    bare.writeUInt16BE(Opcode.NOTIFY << OPCODE_SHIFT, Hdr.FLAGS);
    assert.deepEqual(
      parseNotify(bare).kind === 'notify' && (parseNotify(bare) as { serial?: number }).serial,
      undefined,
    );
    const twoQuestions = Buffer.from(bare);
    twoQuestions.writeUInt16BE(2, Hdr.QDCOUNT);
    assert.equal(parseNotify(twoQuestions).kind, 'formerr');
  });

  it('accepts an unsigned NOTIFY the receiver takes: NOERROR, AA, opcode NOTIFY, the question echoed, no answer', () => {
    const seen: IncomingNotify[] = [];
    const { handler } = setup({
      notify: (n) => {
        seen.push(n);
        return n.zone === Z;
      },
    });
    const reply = handler.handle(notifyOf(Z, 9), 'udp', '127.0.0.1')!;
    const m = decodeMessage(reply);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.qr, true);
    assert.equal(m.aa, true);
    assert.equal(m.opcode, Opcode.NOTIFY);
    assert.equal(m.id, 0x1234);
    assert.deepEqual(m.question, [{ name: Z, qtype: Type.SOA, qclass: 1 }]);
    assert.equal(m.answer.length, 0);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.zone, Z);
    assert.equal(seen[0]!.serial, 9);
    assert.equal(seen[0]!.key, undefined);
    assert.deepEqual([...seen[0]!.peer], [127, 0, 0, 1]);
    // A zone the receiver does not follow: NOTAUTH, AA clear.
    const refused = decodeMessage(handler.handle(notifyOf(OTHER), 'udp', '127.0.0.1')!);
    assert.equal(refused.rcode, Rcode.NOTAUTH);
    assert.equal(refused.aa, false);
    assert.equal(refused.opcode, Opcode.NOTIFY);
  });

  it('a signed NOTIFY is verified first, the receiver told the key, and the answer signed over the request MAC', () => {
    const seen: IncomingNotify[] = [];
    const { handler } = setup({
      notify: (n) => {
        seen.push(n);
        return true;
      },
    });
    const { message, mac } = signMessageMac(notifyOf(Z), key, { now: () => NOW });
    const reply = handler.handle(message, 'udp')!;
    assert.equal(verifyMessage(reply, keys, { requestMac: mac, now: () => NOW }).status, 'ok');
    assert.equal(decodeMessage(reply).rcode, Rcode.NOERROR);
    assert.equal(seen[0]?.key, 'transfer-key.');

    // A bad MAC: NOTAUTH + BADSIG, unsigned, and the receiver never hears of it.
    const forged = Buffer.from(message);
    forged[forged.length - 10]! ^= 0xff;
    const bad = handler.handle(forged, 'udp')!;
    assert.equal(decodeMessage(bad).rcode, Rcode.NOTAUTH);
    const tsig = decodeMessage(bad).additional.at(-1) as { rdata: Buffer };
    assert.ok(tsig.rdata.includes(Buffer.from([0, TsigError.BADSIG])));
    assert.equal(seen.length, 1);
  });

  it('without a receiver (a primary) every NOTIFY is NOTAUTH, as before', () => {
    const { handler } = setup();
    const m = decodeMessage(handler.handle(notifyOf(Z), 'udp')!);
    assert.equal(m.rcode, Rcode.NOTAUTH);
    assert.equal(m.aa, false);
  });

  it('the acceptor: with secondary.key only that key, from any address; without, the primary address only', () => {
    const followed: string[] = [];
    const follow = (zone: string) => {
      followed.push(zone);
      return zone === Z;
    };
    const signedOnly = notifyAcceptor({ key: 'Transfer-Key', primary: { host: '10.0.0.5', port: 53 }, notify: follow });
    const base = { zone: Z, serial: 1, peer: new Uint8Array([192, 0, 2, 1]) };
    assert.equal(signedOnly({ ...base, key: 'transfer-key.' }), true);
    assert.equal(signedOnly({ ...base, key: undefined }), false, 'unsigned');
    assert.equal(signedOnly({ ...base, key: 'other-key.' }), false, 'another key');
    assert.equal(signedOnly({ ...base, zone: OTHER, key: 'transfer-key.' }), false, 'a zone not followed');
    const byAddress = notifyAcceptor({ key: undefined, primary: { host: '10.0.0.5', port: 53 }, notify: follow });
    assert.equal(byAddress({ ...base, key: undefined }), false, 'not from the primary');
    assert.equal(byAddress({ ...base, key: undefined, peer: new Uint8Array([10, 0, 0, 5]) }), true);
    assert.equal(byAddress({ ...base, key: undefined, peer: new Uint8Array(0) }), true, 'sender unknown');
  });

  it('a zone past expire answers SERVFAIL with EDE 22 from the store, the route index and transfers; other zones are served', () => {
    const view = new MemoryView(ZONES);
    const index = new RouteIndex();
    for (const zone of view.zones.values()) {
      index.setZone(zone.name, zone.epoch);
      for (const [path, route] of view.routes.get(zone.name)!) index.set(zone.name, path, route);
    }
    const expired = new Set<string>();
    const { handler } = setup({ view, routes: { index }, expired });
    const ask = (name: string, qtype: number) =>
      ednsOf(handler.handle(encodeQuery({ id: 3, name, qtype, edns: {} }), 'udp')!);
    assert.equal(ask(`created.orders.${Z}`, Type.URI).m.rcode, Rcode.NOERROR);
    expired.add(Z);
    for (const [name, qtype] of [
      [`created.orders.${Z}`, Type.URI],
      [`created.orders.${Z}`, Type.TXT],
      [Z, Type.SOA],
      [`nothing.${Z}`, Type.A],
      [Z, Type.IXFR],
    ] as const) {
      const { m, ede } = ask(name, qtype);
      assert.equal(m.rcode, Rcode.SERVFAIL, `${name} ${qtype}`);
      assert.equal(ede?.code, Ede.NO_REACHABLE_AUTHORITY);
      assert.equal(m.aa, false);
    }
    assert.equal(ask(`created.orders.${OTHER}`, Type.URI).m.rcode, Rcode.NOERROR);
    // TCP AXFR: the listener falls back to handle(), which answers the SERVFAIL.
    const axfr = encodeQuery({ id: 4, name: Z, qtype: Type.AXFR, edns: false });
    assert.equal(handler.transfer(axfr, { address: '127.0.0.1', port: 1 } as never), undefined);
    expired.delete(Z);
    assert.equal(ask(`created.orders.${Z}`, Type.URI).m.rcode, Rcode.NOERROR);
  });
});
