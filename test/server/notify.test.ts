/**
 * The NOTIFY sender with a fake clock (timers fire only as the test advances it) and fake UDP
 * peers (every datagram sent is recorded; the test answers, or spoofs answers), then once over a
 * real UDP socket on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { ConfigError } from '../../src/config/config.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import {
  encodeNotify,
  MAX_NAME_ADDRESSES,
  Notifier,
  type NotifierOptions,
  type NotifyPeer,
  type NotifyZone,
} from '../../src/server/notify.js';
import { Flag, Hdr } from '../../src/wire/cursor.js';
import { decodeMessage } from '../../src/wire/message.js';
import { Opcode, Rcode, Type } from '../../src/wire/types.js';
import { buildCatalog } from '../../src/zone/catalog.js';
import type { ZoneChanges } from '../../src/zone/store-view.js';
import { fakeClock } from '../helpers/fake-clock.js';
import { PARAMS } from '../helpers/fixtures.js';

const ZA = 'orders.123456789012.us-east-1.aws.psarn.internal.';
const ZB = 'billing.123456789012.us-east-1.aws.psarn.internal.';
const P1: NotifyPeer = { address: { host: '10.0.0.6', port: 53 } };
const P2: NotifyPeer = { address: { host: '10.0.0.7', port: 5300 } };

function zone(name: string, serial: number): NotifyZone {
  return { ...PARAMS, name, serial };
}

/** `message` with a stand-in TSIG RR (RFC 8945 §4.2) whose one rdata byte is `marker`. */
function withTsig(message: Buffer, marker: number): Buffer {
  const rr = Buffer.from([0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 1, marker]);
  const out = Buffer.concat([message, rr]);
  out.writeUInt16BE(out.readUInt16BE(Hdr.ARCOUNT) + 1, Hdr.ARCOUNT);
  return out;
}

interface Sent {
  message: Buffer;
  port: number;
  host: string;
  at: number;
}

/** Fake sockets: what was sent, and a way to deliver datagrams to the notifier. */
function fakeNet(clock: { now(): number }) {
  const sent: Sent[] = [];
  const deliver: ((message: Buffer, from: { address: string; port: number }) => void)[] = [];
  let closed = 0;
  const openSocket: NotifierOptions['openSocket'] = (_family, onMessage) => {
    deliver.push(onMessage);
    return {
      send: (message, port, host) => sent.push({ message, port, host, at: clock.now() }),
      close: () => {
        closed++;
      },
    };
  };
  return {
    sent,
    openSocket,
    closed: () => closed,
    /** Delivers `message` as is, from `from`. */
    raw(message: Buffer, from: NotifyPeer) {
      for (const d of deliver) d(message, { address: from.address.host, port: from.address.port });
    },
    /** The peer's answer to `request`: same id, QR, opcode NOTIFY, question echoed. */
    answer(request: Buffer, from: NotifyPeer, options: { id?: number; rcode?: number; port?: number } = {}) {
      const reply = Buffer.from(request);
      reply.writeUInt16BE(options.id ?? request.readUInt16BE(Hdr.ID), Hdr.ID);
      reply.writeUInt16BE(Flag.QR | Flag.AA | (Opcode.NOTIFY << 11) | (options.rcode ?? 0), Hdr.FLAGS);
      for (const d of deliver) d(reply, { address: from.address.host, port: options.port ?? from.address.port });
    },
  };
}

function setup(options: Partial<NotifierOptions> = {}) {
  const clock = fakeClock();
  const net = fakeNet(clock);
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const log = {
    error: (fields: Record<string, unknown>, message: string) => lines.push({ level: 'error', fields, message }),
    warn: (fields: Record<string, unknown>, message: string) => lines.push({ level: 'warn', fields, message }),
    info: () => undefined,
    debug: () => undefined,
  } as unknown as NotifierOptions['log'];
  let ids = 100;
  const notifier = new Notifier({
    peers: [P1],
    log,
    metrics,
    timers: clock,
    now: clock.now,
    randomId: () => ids++,
    openSocket: net.openSocket,
    ...options,
  });
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const v of (await metrics.notifySent.get()).values) out[`${v.labels.peer} ${v.labels.result}`] = v.value;
    return out;
  };
  const pending = async () => (await metrics.notifyPendingGauge.get()).values[0]?.value;
  return { clock, net, metrics, notifier, lines, counts, pending };
}

describe('Notifier', () => {
  it('sends NOTIFY, AA, the zone SOA question and its new SOA in the answer (RFC 1996 §3.7)', () => {
    const m = decodeMessage(encodeNotify(4242, zone(ZA, 17)));
    assert.deepEqual(
      [m.id, m.qr, m.opcode, m.aa, m.rd, m.rcode],
      [4242, false, Opcode.NOTIFY, true, false, Rcode.NOERROR],
    );
    assert.deepEqual(m.question, [{ name: ZA, qtype: Type.SOA, qclass: 1 }]);
    assert.equal(m.answer.length, 1);
    const soa = m.answer[0]!;
    assert.equal(soa.type, 'SOA');
    assert.equal(soa.name, ZA);
    assert.equal((soa as { serial: number }).serial, 17);
    assert.equal(m.edns, undefined);
  });

  it('sends one NOTIFY per peer; an answer from the peer ends it (acked)', async () => {
    const { net, notifier, clock, counts, pending } = setup({ peers: [P1, P2] });
    notifier.notify(zone(ZA, 2));
    assert.deepEqual(
      net.sent.map((s) => `${s.host}:${s.port}`),
      ['10.0.0.6:53', '10.0.0.7:5300'],
    );
    assert.equal(await pending(), 2);
    net.answer(net.sent[0]!.message, P1);
    net.answer(net.sent[1]!.message, P2);
    assert.equal(notifier.pending, 0);
    assert.equal(await pending(), 0);
    clock.advance(600_000);
    assert.equal(net.sent.length, 2, 'nothing sent again after the answer');
    assert.equal(clock.armed(), 0);
    assert.deepEqual(await counts(), { '10.0.0.6:53 acked': 1, '10.0.0.7:5300 acked': 1 });
  });

  it('retries after 2, 4, 8, 16, 32 s with the same id, then gives up and logs once', async () => {
    const { net, notifier, clock, counts, lines } = setup();
    notifier.notify(zone(ZA, 2));
    clock.advance(200_000);
    assert.deepEqual(
      net.sent.map((s) => s.at),
      [0, 2000, 6000, 14000, 30000, 62000],
    );
    assert.equal(new Set(net.sent.map((s) => s.message.readUInt16BE(0))).size, 1);
    assert.equal(notifier.pending, 0);
    assert.deepEqual(await counts(), { '10.0.0.6:53 retried': 5, '10.0.0.6:53 failed': 1 });
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.message, /gave up/);
    assert.deepEqual(lines[0]!.fields, { zone: ZA, serial: 2, peer: '10.0.0.6:53', tries: 6 });
  });

  it('an answer to a retransmission acks it; a late answer to the first try too', async () => {
    const { net, notifier, clock, counts } = setup();
    notifier.notify(zone(ZA, 2));
    clock.advance(2000);
    assert.equal(net.sent.length, 2);
    net.answer(net.sent[0]!.message, P1);
    assert.equal(notifier.pending, 0);
    clock.advance(100_000);
    assert.equal(net.sent.length, 2);
    assert.deepEqual(await counts(), { '10.0.0.6:53 retried': 1, '10.0.0.6:53 acked': 1 });
  });

  it('ignores answers with a wrong id, from another port or address, of another opcode, or not QR', async () => {
    const { net, notifier, clock, counts } = setup();
    notifier.notify(zone(ZA, 2));
    const request = net.sent[0]!.message;
    const id = request.readUInt16BE(0);
    net.answer(request, P1, { id: (id + 1) & 0xffff });
    net.answer(request, P1, { port: 54 });
    net.answer(request, { address: { host: '10.0.0.66', port: 53 } });
    const echoed = Buffer.from(request); // the NOTIFY itself, QR clear
    const wrongOpcode = Buffer.from(request);
    wrongOpcode.writeUInt16BE(Flag.QR, Hdr.FLAGS);
    const otherZone = encodeNotify(id, zone(ZB, 2));
    otherZone.writeUInt16BE(Flag.QR | (Opcode.NOTIFY << 11), Hdr.FLAGS);
    const garbage = Buffer.from(request.subarray(0, 20));
    garbage.writeUInt16BE(Flag.QR | (Opcode.NOTIFY << 11), Hdr.FLAGS);
    for (const bad of [echoed, wrongOpcode, Buffer.alloc(5), otherZone, garbage]) net.raw(bad, P1);
    assert.equal(notifier.pending, 1, 'still waiting');
    clock.advance(2000);
    assert.equal(net.sent.length, 2, 'retried: none of them was the answer');
    assert.deepEqual(await counts(), { '10.0.0.6:53 retried': 1 });
  });

  it('an error rcode from the peer ends it without retries (rejected), logged', async () => {
    const { net, notifier, clock, counts, lines } = setup();
    notifier.notify(zone(ZA, 2));
    net.answer(net.sent[0]!.message, P1, { rcode: Rcode.NOTAUTH });
    clock.advance(100_000);
    assert.equal(net.sent.length, 1);
    assert.deepEqual(await counts(), { '10.0.0.6:53 rejected': 1 });
    assert.equal(lines[0]?.fields.rcode, 'NOTAUTH');
  });

  it('a newer serial supersedes the outstanding NOTIFY: a new id, tries from 1, the old answer ignored', async () => {
    const { net, notifier, clock, counts } = setup();
    notifier.notify(zone(ZA, 2));
    clock.advance(2000);
    assert.equal(net.sent.length, 2);
    for (let serial = 3; serial <= 50; serial++) notifier.notify(zone(ZA, serial));
    assert.equal(notifier.pending, 1, 'one per zone and peer, whatever the burst');
    // The burst while the first was outstanding: each newer serial sent at once.
    const last = net.sent.at(-1)!;
    assert.equal(
      decodeMessage(last.message).answer[0] && (decodeMessage(last.message).answer[0] as { serial: number }).serial,
      50,
    );
    // The answer to serial 2 does not ack serial 50.
    net.answer(net.sent[0]!.message, P1);
    assert.equal(notifier.pending, 1);
    net.answer(last.message, P1);
    assert.equal(notifier.pending, 0);
    clock.advance(100_000);
    const c = await counts();
    assert.equal(c['10.0.0.6:53 acked'], 1);
    assert.equal(c['10.0.0.6:53 superseded'], 48);
  });

  it('the same serial again is no new NOTIFY', () => {
    const { net, notifier } = setup();
    notifier.notify(zone(ZA, 2));
    notifier.notify(zone(ZA, 2));
    assert.equal(net.sent.length, 1);
  });

  it('paces sends: a burst, then the rate; memory is one entry per zone and peer', () => {
    const { net, notifier, clock } = setup({ rate: 100, burst: 10 });
    for (let i = 0; i < 50; i++) notifier.notify(zone(`z${i}.${ZA}`, 1));
    assert.equal(net.sent.length, 10);
    clock.advance(100);
    assert.equal(net.sent.length, 20);
    clock.advance(300);
    assert.equal(net.sent.length, 50);
    assert.equal(notifier.pending, 50);
    // Ids stay unique per peer.
    assert.equal(new Set(net.sent.map((s) => s.message.readUInt16BE(0))).size, 50);
  });

  it('unique ids per peer even when the random source repeats', () => {
    const { net, notifier } = setup({ randomId: () => 7 });
    for (let i = 0; i < 20; i++) notifier.notify(zone(`z${i}.${ZA}`, 1));
    assert.equal(new Set(net.sent.map((s) => s.message.readUInt16BE(0))).size, 20);
  });

  it('onChange notifies added and changed zones and forgets removed ones', () => {
    const { net, notifier } = setup();
    const changes = (c: Partial<ZoneChanges>): ZoneChanges => ({
      changed: [],
      keys: [],
      entries: new Map(),
      added: [],
      removed: [],
      ...c,
    });
    const row = (name: string, serial: number) => ({ ...PARAMS, id: 1, name, serial, epoch: 1 });
    notifier.onChange(changes({ added: [row(ZA, 1)], changed: [row(ZB, 9)] }));
    assert.deepEqual(
      net.sent.map((s) => decodeMessage(s.message).question[0]!.name),
      [ZA, ZB],
    );
    notifier.onChange(changes({ removed: [ZA] }));
    assert.equal(notifier.pending, 1);
  });

  it('onChange notifies the catalog zone when it moved (a zone created), with its SOA', () => {
    const { net, notifier } = setup();
    const catalog = buildCatalog('psarn.internal.', 5, PARAMS, [{ name: ZA, created: 5 }]);
    notifier.onChange({ changed: [], keys: [], entries: new Map(), added: [], removed: [], catalog });
    assert.equal(net.sent.length, 1);
    const sent = decodeMessage(net.sent[0]!.message);
    assert.equal(sent.question[0]!.name, 'catalog.psarn.internal.');
    assert.equal((sent.answer[0] as { serial: number }).serial, 5);
  });

  it('close() cancels pending retries and closes the socket; later changes send nothing', async () => {
    const { net, notifier, clock, pending } = setup({ peers: [P1, P2] });
    notifier.notify(zone(ZA, 2));
    notifier.close();
    assert.equal(clock.armed(), 0);
    assert.equal(net.closed(), 1);
    assert.equal(await pending(), 0);
    notifier.notify(zone(ZA, 3));
    clock.advance(100_000);
    assert.equal(net.sent.length, 2);
  });

  it('signs every transmission with the peer key; a key without a signer is a config error', () => {
    const keyed: NotifyPeer = { ...P1, key: 'transfer-key' };
    assert.throws(
      () => setup({ peers: [P2, keyed] }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === 'notify[1].key' &&
        /tsig key 'transfer-key' is not configured/.test(e.message),
    );
    const signed: string[] = [];
    const { net, notifier, clock } = setup({
      peers: [keyed, P2],
      sign: (message, key) => {
        signed.push(key);
        return Buffer.concat([message, Buffer.from('SIG')]);
      },
    });
    notifier.notify(zone(ZA, 2));
    clock.advance(2000);
    assert.deepEqual(signed, ['transfer-key', 'transfer-key']);
    const toKeyed = net.sent.filter((s) => s.host === '10.0.0.6');
    assert.ok(toKeyed.every((s) => s.message.subarray(-3).toString() === 'SIG'));
    const toPlain = net.sent.filter((s) => s.host === '10.0.0.7');
    assert.ok(toPlain.every((s) => s.message.subarray(-3).toString() !== 'SIG'));
  });

  it('with a verifier, takes only an answer whose TSIG verifies against one of its transmissions', async () => {
    const keyed: NotifyPeer = { ...P1, key: 'transfer-key' };
    const checked: [string, number][] = [];
    let transmissions = 0;
    const { net, notifier, clock, counts, lines } = setup({
      peers: [keyed],
      sign: (message) => withTsig(message, transmissions++),
      // "Verifies" when the answer's last byte names the transmission it answers.
      verify: (reply, request, key) => {
        checked.push([key, request.at(-1)!]);
        return reply.at(-1) === request.at(-1);
      },
    });
    notifier.notify(zone(ZA, 2));
    clock.advance(2000);
    assert.equal(net.sent.length, 2);
    const answerTo = (request: Buffer, last: number) => {
      const reply = Buffer.from(request);
      reply.writeUInt16BE(Flag.QR | (Opcode.NOTIFY << 11), Hdr.FLAGS);
      reply[reply.length - 1] = last;
      net.raw(reply, keyed);
    };
    answerTo(net.sent[0]!.message, 99);
    assert.equal(notifier.pending, 1, 'an answer that verifies against no transmission is ignored');
    assert.match(lines[0]?.message ?? '', /failed TSIG verification/);
    assert.deepEqual(checked, [
      ['transfer-key', 0],
      ['transfer-key', 1],
    ]);
    answerTo(net.sent[0]!.message, 0);
    assert.equal(notifier.pending, 0, 'an answer to the first transmission verifies');
    assert.deepEqual(await counts(), { '10.0.0.6:53 retried': 1, '10.0.0.6:53 acked': 1 });
  });

  it('matches an IPv6 peer written in any form against the address the socket reports', async () => {
    const v6: NotifyPeer = { address: { host: '2001:DB8:0::6', port: 53 } };
    const { net, notifier, counts } = setup({ peers: [v6] });
    notifier.notify(zone(ZA, 2));
    assert.equal(net.sent[0]!.host, '2001:db8::6');
    net.answer(net.sent[0]!.message, { address: { host: '2001:db8::6', port: 53 } });
    assert.equal(notifier.pending, 0);
    assert.deepEqual(await counts(), { '[2001:db8::6]:53 acked': 1 });
  });
});

/** Lets the notifier's name resolution (a microtask, then the resolver's promise) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A resolver the test scripts: each name's current answer (a list of addresses, or an error),
 * the lookups asked, and an optional gate that holds every lookup until released.
 */
function fakeResolver(answers: Record<string, readonly string[] | Error>) {
  const asked: string[] = [];
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  return {
    answers,
    asked,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      open?.();
      gate = undefined;
    },
    resolve: async (host: string): Promise<readonly string[]> => {
      asked.push(host);
      const answer = answers[host];
      if (gate !== undefined) await gate;
      if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe('Notifier with host names (resolved at each change, every address a peer)', () => {
  const A: NotifyPeer = { address: { host: 'a.sidecars.example', port: 8053 }, key: 'key-a' };
  const B: NotifyPeer = { address: { host: 'b.sidecars.example', port: 8053 }, key: 'key-b' };
  const IP: NotifyPeer = { address: { host: '10.1.0.3', port: 8053 } };
  const at = (host: string): NotifyPeer => ({ address: { host, port: 8053 } });
  /** The signer adds a stand-in TSIG RR whose rdata byte says the key: 1 for key-a, 2 for key-b. */
  const sign = (message: Buffer, key: string) => withTsig(message, key === 'key-a' ? 1 : 2);
  const keyOf = (s: Sent) =>
    s.message.readUInt16BE(Hdr.ARCOUNT) === 0 ? undefined : s.message.at(-1) === 1 ? 'key-a' : 'key-b';
  const to = (sent: Sent[]) => sent.map((s) => `${s.host}:${s.port}${keyOf(s) ? ` ${keyOf(s)}` : ''}`);

  it('two names with overlapping addresses and an IP entry: each address once, the first entry its key; acked one by one', async () => {
    const dns = fakeResolver({
      'a.sidecars.example': ['10.1.0.1', '10.1.0.2'],
      'b.sidecars.example': ['10.1.0.2', '10.1.0.3', '10.1.0.4'],
    });
    const { net, notifier, clock, counts } = setup({
      peers: [IP, A, B],
      resolve: dns.resolve,
      sign,
      randomId: () => 7,
    });
    notifier.notify(zone(ZA, 2));
    notifier.notify(zone(ZB, 5));
    // The IP entry at once; the names once resolved, one lookup each for both zones.
    assert.deepEqual(to(net.sent), ['10.1.0.3:8053', '10.1.0.3:8053']);
    await settle();
    assert.deepEqual(dns.asked, ['a.sidecars.example', 'b.sidecars.example']);
    const byZone = (name: string) => to(net.sent.filter((s) => decodeMessage(s.message).question[0]!.name === name));
    for (const name of [ZA, ZB]) {
      assert.deepEqual(byZone(name), [
        '10.1.0.3:8053',
        '10.1.0.1:8053 key-a',
        '10.1.0.2:8053 key-a',
        '10.1.0.4:8053 key-b',
      ]);
    }
    assert.equal(notifier.pending, 8);
    // Each address answers for itself: 10.1.0.2's NOTIFYs end only by its own answers. An
    // answer from an address nobody resolved, or from another port, ends nothing.
    const sentTo = (host: string) => net.sent.filter((s) => s.host === host);
    net.answer(sentTo('10.1.0.2')[0]!.message, at('10.1.0.9'));
    net.answer(sentTo('10.1.0.2')[0]!.message, at('10.1.0.2'), { port: 8054 });
    assert.equal(notifier.pending, 8);
    for (const host of ['10.1.0.1', '10.1.0.3', '10.1.0.4'])
      for (const s of sentTo(host)) net.answer(s.message, at(host));
    assert.equal(notifier.pending, 2, "10.1.0.2's two NOTIFYs wait");
    const before = net.sent.length;
    clock.advance(2000);
    assert.deepEqual(to(net.sent.slice(before)), ['10.1.0.2:8053 key-a', '10.1.0.2:8053 key-a'], 'only it is retried');
    for (const s of sentTo('10.1.0.2').slice(-2)) net.answer(s.message, at('10.1.0.2'));
    assert.equal(notifier.pending, 0);
    // Counted by entry (what the config says, a bounded label set), not by pod address.
    assert.deepEqual(await counts(), {
      '10.1.0.3:8053 acked': 2,
      'a.sidecars.example:8053 acked': 4,
      'a.sidecars.example:8053 retried': 2,
      'b.sidecars.example:8053 acked': 2,
    });
  });

  it('an IP entry already answered while a name was looked up: that address is not notified again by the name', async () => {
    const dns = fakeResolver({ 'b.sidecars.example': ['10.1.0.3', '10.1.0.4'] });
    const { net, notifier } = setup({ peers: [IP, B], resolve: dns.resolve, sign });
    dns.hold();
    notifier.notify(zone(ZA, 2));
    assert.deepEqual(to(net.sent), ['10.1.0.3:8053']);
    // The IP entry's NOTIFY is acked before the name's lookup returns: its slot is gone.
    net.answer(net.sent[0]!.message, at('10.1.0.3'));
    assert.equal(notifier.pending, 0);
    dns.release();
    await settle();
    assert.deepEqual(to(net.sent), ['10.1.0.3:8053', '10.1.0.4:8053 key-b'], 'one NOTIFY per address and change');
  });

  it("resolves again at every change: a name's new set is notified, an address gone is not", async () => {
    const dns = fakeResolver({ 'a.sidecars.example': ['10.1.0.1', '10.1.0.2'] });
    const { net, notifier } = setup({ peers: [A], resolve: dns.resolve, sign });
    notifier.notify(zone(ZA, 2));
    await settle();
    assert.deepEqual(to(net.sent), ['10.1.0.1:8053 key-a', '10.1.0.2:8053 key-a']);
    for (const s of net.sent) net.answer(s.message, at(s.host));
    assert.equal(notifier.pending, 0);
    // A pod replaced: 10.1.0.1 gone, 10.1.0.5 new.
    dns.answers['a.sidecars.example'] = ['10.1.0.2', '10.1.0.5'];
    notifier.notify(zone(ZA, 3));
    await settle();
    assert.deepEqual(to(net.sent.slice(2)), ['10.1.0.2:8053 key-a', '10.1.0.5:8053 key-a']);
    assert.equal(dns.asked.length, 2);
    // A change while a lookup runs waits for the next lookup, begun after the first ends, with
    // the set as it is then.
    dns.hold();
    notifier.notify(zone(ZA, 4));
    await settle();
    dns.answers['a.sidecars.example'] = ['10.1.0.6'];
    notifier.notify(zone(ZB, 1));
    await settle();
    assert.equal(dns.asked.length, 3, 'one lookup at a time');
    dns.release();
    await settle();
    await settle();
    assert.equal(dns.asked.length, 4);
    const late = net.sent.slice(4).map((s) => `${decodeMessage(s.message).question[0]!.name} ${s.host}`);
    // The held lookup had started with the old set (10.1.0.2, 10.1.0.5) for ZA; ZB got the new one.
    assert.deepEqual(late, [`${ZA} 10.1.0.2`, `${ZA} 10.1.0.5`, `${ZB} 10.1.0.6`]);
  });

  it('a lookup that fails or finds nothing: one rate-limited line and result="unresolved"; the next change asks again', async () => {
    const dns = fakeResolver({ 'b.sidecars.example': [] });
    const { net, notifier, counts, lines } = setup({ peers: [P1, A, B], resolve: dns.resolve, sign });
    notifier.notify(zone(ZA, 2));
    await settle();
    assert.deepEqual(to(net.sent), ['10.0.0.6:53'], 'the IP peer is notified all the same');
    assert.deepEqual(
      lines.map((l) => [l.fields.peer, (l.fields.err as { code?: string } | undefined)?.code, l.message]),
      [
        [
          'a.sidecars.example:8053',
          'ENOTFOUND',
          'notify name resolved to no address; its secondaries are not notified of this change',
        ],
        [
          'b.sidecars.example:8053',
          undefined,
          'notify name resolved to no address; its secondaries are not notified of this change',
        ],
      ],
    );
    assert.deepEqual(await counts(), {
      'a.sidecars.example:8053 unresolved': 1,
      'b.sidecars.example:8053 unresolved': 1,
    });
    // Many failing changes: the log is rate-limited (5 lines of a message per 10 s), the metric counts each.
    for (let serial = 3; serial < 13; serial++) {
      notifier.notify(zone(ZA, serial));
      await settle();
    }
    assert.equal(lines.length, 5);
    assert.equal((await counts())['a.sidecars.example:8053 unresolved'], 11);
    // The name resolves again: the next change reaches it.
    dns.answers['a.sidecars.example'] = ['10.1.0.1'];
    notifier.notify(zone(ZA, 13));
    await settle();
    assert.deepEqual(to(net.sent.slice(-2)), ['10.0.0.6:53', '10.1.0.1:8053 key-a']);
  });

  it(`notifies at most ${MAX_NAME_ADDRESSES} addresses of a name, and says so`, async () => {
    const many = Array.from({ length: MAX_NAME_ADDRESSES + 100 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
    const dns = fakeResolver({ 'a.sidecars.example': [...many, many[0]!] });
    const { net, notifier, clock, lines } = setup({
      peers: [{ ...A, key: undefined }],
      resolve: dns.resolve,
      burst: 10_000,
    });
    notifier.notify(zone(ZA, 2));
    await settle();
    clock.advance(1);
    assert.equal(net.sent.length, MAX_NAME_ADDRESSES);
    assert.equal(new Set(net.sent.map((s) => s.host)).size, MAX_NAME_ADDRESSES);
    assert.deepEqual(
      lines.map((l) => l.fields),
      [{ peer: 'a.sidecars.example:8053', addresses: MAX_NAME_ADDRESSES + 100, notified: MAX_NAME_ADDRESSES }],
    );
  });

  it('a zone removed, or the notifier closed, while a name is resolved: nothing sent to its addresses', async () => {
    const dns = fakeResolver({ 'a.sidecars.example': ['10.1.0.1'] });
    const { net, notifier, clock } = setup({ peers: [A], resolve: dns.resolve, sign });
    dns.hold();
    notifier.notify(zone(ZA, 2));
    notifier.notify(zone(ZB, 2));
    await settle();
    notifier.forget(ZA);
    dns.release();
    await settle();
    assert.deepEqual(
      net.sent.map((s) => decodeMessage(s.message).question[0]!.name),
      [ZB],
    );
    dns.hold();
    notifier.notify(zone(ZB, 3));
    await settle();
    notifier.close();
    dns.release();
    await settle();
    clock.advance(100_000);
    assert.equal(net.sent.length, 1);
    assert.equal(notifier.pending, 0);
  });

  it('IPv6 addresses of a name are sent to over udp6 and matched in the form the socket reports', async () => {
    const dns = fakeResolver({ 'a.sidecars.example': ['2001:DB8:0::7'] });
    const { net, notifier, counts } = setup({ peers: [{ ...A, key: undefined }], resolve: dns.resolve });
    notifier.notify(zone(ZA, 2));
    await settle();
    assert.equal(net.sent[0]!.host, '2001:db8::7');
    net.answer(net.sent[0]!.message, { address: { host: '2001:db8::7', port: 8053 } });
    assert.equal(notifier.pending, 0);
    assert.deepEqual(await counts(), { 'a.sidecars.example:8053 acked': 1 });
  });
});

describe('Notifier over UDP on 127.0.0.1', () => {
  const peer = createSocket('udp4');
  const spoofer = createSocket('udp4');
  let notifier: Notifier | undefined;
  after(() => {
    notifier?.close();
    peer.close();
    spoofer.close();
  });

  it('takes the answer from the peer, not a spoof from another port', async () => {
    peer.bind(0, '127.0.0.1');
    spoofer.bind(0, '127.0.0.1');
    await Promise.all([once(peer, 'listening'), once(spoofer, 'listening')]);
    const clock = fakeClock();
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    notifier = new Notifier({
      peers: [{ address: { host: '127.0.0.1', port: peer.address().port } }],
      log: pino({ level: 'silent' }),
      metrics,
      timers: clock,
      now: clock.now,
    });
    const got = once(peer, 'message') as Promise<[Buffer, { address: string; port: number }]>;
    notifier.notify(zone(ZA, 9));
    const [request, from] = await got;
    assert.equal(decodeMessage(request).opcode, Opcode.NOTIFY);
    const reply = Buffer.from(request);
    reply.writeUInt16BE(Flag.QR | (Opcode.NOTIFY << 11), Hdr.FLAGS);
    // The spoof first, from the right address but another port, saying NOTAUTH: were it taken,
    // the NOTIFY would end as rejected, not acked.
    const spoof = Buffer.from(reply);
    spoof.writeUInt16BE(Flag.QR | (Opcode.NOTIFY << 11) | Rcode.NOTAUTH, Hdr.FLAGS);
    await new Promise((r) => spoofer.send(spoof, from.port, from.address, r));
    peer.send(reply, from.port, from.address);
    for (let i = 0; i < 100 && notifier.pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(notifier.pending, 0);
    const results = (await metrics.notifySent.get()).values.map((v) => `${v.labels.result} ${v.value}`);
    assert.deepEqual(results, ['acked 1']);
  });
});
