/**
 * The handler's TSIG path (RFC 8945 §5.2, docs/design.md#tsig): a signed query is verified
 * first, answered from the same cache as an unsigned one, and every answer is signed — the
 * ready answer's bytes never go out without the signature; the size limit leaves room for it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { findTsig, makeTsigKey, readTsig, signMessageMac, TsigError, verifyMessage } from '../../src/wire/tsig.js';
import { Class, Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { RouteIndex } from '../../src/zone/route-index.js';
import { zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
const ZONE = `
${zoneHead(Z)}
created.orders 300 IN URI 10 90 "${LAMBDA}v1"
created.orders 300 IN URI 10 10 "${LAMBDA}v2"
${Array.from({ length: 4 }, (_, i) => `four.fleet 300 IN URI 10 1 "${LAMBDA}fleet-member-${i}${i === 0 ? '-with-a-longer-name' : ''}"`).join('\n')}
${Array.from({ length: 12 }, (_, i) => `twelve.fleet 300 IN URI 10 1 "${LAMBDA}fleet-member-${i}"`).join('\n')}
`;
const NOW = 1_800_000_000_000;
const key = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 1).toString('base64'));
const keys = new Map([[key.name, key]]);

function setup(clock = () => NOW) {
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const handler = new QueryHandler({
    view: new MemoryView(ZONE),
    cache: new AnswerCache(),
    metrics,
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
    tsigKeys: keys,
    clock,
  });
  return { handler, metrics };
}

function signed(name: string, options: { id?: number; edns?: false | { udpSize: number }; now?: number } = {}) {
  const q = encodeQuery({ id: options.id ?? 9, name, qtype: Type.URI, edns: options.edns ?? {} });
  return signMessageMac(q, key, { now: () => options.now ?? NOW });
}

describe('QueryHandler with TSIG', () => {
  it('signs the answer on a miss and on a cache hit, over the request MAC', () => {
    const { handler } = setup();
    const plain = handler.handle(encodeQuery({ id: 9, name: `created.orders.${Z}`, qtype: Type.URI }), 'udp')!;
    for (let i = 0; i < 2; i++) {
      const { message, mac } = signed(`created.orders.${Z}`);
      const reply = handler.handle(message, 'udp')!;
      assert.equal(verifyMessage(reply, keys, { requestMac: mac, now: () => NOW }).status, 'ok');
      // The same answer as unsigned, plus the TSIG.
      assert.deepEqual(reply.subarray(0, plain.length).subarray(12), plain.subarray(12));
      assert.equal(decodeMessage(reply).answer.length, 2);
    }
  });

  it('a route index answer is signed too, with the same bytes as the store path', async () => {
    const view = new MemoryView(ZONE);
    const index = new RouteIndex();
    for (const zone of view.zones.values()) {
      index.setZone(zone.name, zone.epoch);
      for (const [path, route] of view.routes.get(zone.name)!) index.set(zone.name, path, route);
    }
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const indexed = new QueryHandler({
      view,
      cache: new AnswerCache(),
      routes: { index },
      metrics,
      log: pino({ level: 'silent' }),
      udpPayloadSize: 1232,
      tsigKeys: keys,
      clock: () => NOW,
    });
    const { message, mac } = signed(`CREATED.orders.${Z}`);
    const reply = indexed.handle(message, 'udp')!;
    assert.equal((await metrics.indexHits.get()).values[0]?.value, 1, 'answered from the index');
    assert.equal(verifyMessage(reply, keys, { requestMac: mac, now: () => NOW }).status, 'ok');
    assert.deepEqual(reply, setup().handler.handle(message, 'udp'));
  });

  it('handleInto writes the same signed bytes into the slot, and nothing outside them', () => {
    const { message } = signed(`created.orders.${Z}`);
    const expected = setup().handler.handle(message, 'udp')!;
    const out = Buffer.alloc(4096, 0xee);
    const length = setup().handler.handleInto(message, 'udp', out, 100);
    assert.deepEqual(out.subarray(100, 100 + length), expected);
    assert.ok(out.subarray(0, 100).every((b) => b === 0xee));
    assert.ok(out.subarray(100 + length).every((b) => b === 0xee));
  });

  it('the size limit leaves room for the TSIG: drop the additional section, then TC, both signed', () => {
    const { handler } = setup();
    // Without EDNS (512 bytes): four targets (441 bytes) fit with their TXT unsigned, but not with the TSIG too.
    const unsigned = handler.handle(
      encodeQuery({ id: 1, name: `four.fleet.${Z}`, qtype: Type.URI, edns: false }),
      'udp',
    )!;
    assert.equal(decodeMessage(unsigned).additional.length, 1, 'unsigned: the TXT fits');
    for (const [name, tc] of [
      [`four.fleet.${Z}`, false],
      [`twelve.fleet.${Z}`, true],
    ] as const) {
      const { message, mac } = signed(name, { edns: false });
      const reply = handler.handle(message, 'udp')!;
      assert.ok(reply.length <= 512, `${reply.length} bytes`);
      assert.equal(verifyMessage(reply, keys, { requestMac: mac, now: () => NOW }).status, 'ok');
      const decoded = decodeMessage(reply);
      assert.equal(decoded.tc, tc);
      assert.equal(decoded.additional.filter((r) => r.type === Type.TXT).length, 0);
    }
  });

  it('BADKEY and BADSIG: NOTAUTH with an unsigned TSIG; BADTIME: signed, with our time', async () => {
    const { handler, metrics } = setup();
    const other = makeTsigKey('nobody', 'hmac-sha256', Buffer.alloc(32, 2).toString('base64'));
    const badkey = handler.handle(
      signMessageMac(encodeQuery({ id: 1, name: Z, qtype: Type.SOA }), other, { now: () => NOW }).message,
      'udp',
    )!;
    const wrong = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 3).toString('base64'));
    const badsig = handler.handle(
      signMessageMac(encodeQuery({ id: 2, name: Z, qtype: Type.SOA }), wrong, { now: () => NOW }).message,
      'udp',
    )!;
    for (const [reply, error] of [
      [badkey, TsigError.BADKEY],
      [badsig, TsigError.BADSIG],
    ] as const) {
      assert.equal(reply.readUInt16BE(2) & 0xf, Rcode.NOTAUTH);
      assert.equal(reply.readUInt16BE(6), 0);
      const tsig = readTsig(reply, findTsig(reply)).record;
      assert.equal(tsig.error, error);
      assert.equal(tsig.mac.length, 0, 'unsigned');
      assert.equal(tsig.timeSigned, NOW / 1000, "the request's time echoed");
    }
    const old = signed(`created.orders.${Z}`, { now: NOW - 301_000 });
    const badtime = handler.handle(old.message, 'tcp')!;
    assert.equal(badtime.readUInt16BE(2) & 0xf, Rcode.NOTAUTH);
    const tsig = readTsig(badtime, findTsig(badtime)).record;
    assert.equal(tsig.error, TsigError.BADTIME);
    assert.equal(tsig.timeSigned, (NOW - 301_000) / 1000);
    assert.equal(tsig.otherData.readUIntBE(0, 6), NOW / 1000);
    const result = verifyMessage(badtime, keys, { requestMac: old.mac, now: () => NOW });
    assert.equal(result.status === 'peer-error' && result.error, TsigError.BADTIME);
    const counts = (await metrics.tsigVerifications.get()).values.map(
      (v) => `${v.labels.result}/${v.labels.key}=${v.value}`,
    );
    assert.deepEqual(counts.sort(), ['badkey/=1', 'badsig/transfer-key=1', 'badtime/transfer-key=1']);
  });

  it('a malformed TSIG (class not ANY) is FORMERR; a TSIG that is not last is FORMERR', () => {
    const { handler } = setup();
    const { message } = signed(`created.orders.${Z}`);
    const start = findTsig(message);
    const bad = Buffer.from(message);
    bad.writeUInt16BE(Class.IN, start + key.name.length + 1 + 2);
    assert.equal(handler.handle(bad, 'udp')!.readUInt16BE(2) & 0xf, Rcode.FORMERR);
    const q = signed(`created.orders.${Z}`, { edns: false }).message;
    const opt = Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]);
    const notLast = Buffer.concat([q, opt]);
    notLast.writeUInt16BE(2, 10);
    assert.equal(handler.handle(notLast, 'udp')!.readUInt16BE(2) & 0xf, Rcode.FORMERR);
  });

  it('without keys configured, every signed query is BADKEY', () => {
    const handler = new QueryHandler({
      view: new MemoryView(ZONE),
      cache: new AnswerCache(),
      metrics: new DaemonMetrics({ defaultMetrics: false }),
      log: pino({ level: 'silent' }),
      udpPayloadSize: 1232,
      clock: () => NOW,
    });
    const reply = handler.handle(signed(`created.orders.${Z}`).message, 'udp')!;
    assert.equal(readTsig(reply, findTsig(reply)).record.error, TsigError.BADKEY);
  });
});
