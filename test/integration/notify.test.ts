/**
 * NOTIFY from the real psarnd (docs/design.md#notify): `notify` points at a UDP socket of this
 * test, which plays the secondary. A `psarn route set` brings a NOTIFY for its zone within 1 s,
 * with the new serial; every zone is notified at start; a NOTIFY sent to psarnd is NOTAUTH.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { encodeNotify } from '../../src/server/notify.js';
import { Flag, Hdr } from '../../src/wire/cursor.js';
import { type DecodedMessage, decodeMessage } from '../../src/wire/message.js';
import { Opcode, Rcode, Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { udpRaw } from '../helpers/dns.js';
import { PARAMS } from '../helpers/fixtures.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const PSARN = 'arn:aws:psarn:us-east-1:123456789012:notify/me';
const TARGET = 'arn:aws:sqs:us-east-1:123456789012:q1';

interface Received {
  message: DecodedMessage;
  at: number;
  from: RemoteInfo;
}

describe('psarnd sends NOTIFY to its secondaries', () => {
  const secondary = createSocket('udp4');
  const received: Received[] = [];
  let waiters: (() => void)[] = [];
  let d: RunningDaemon | undefined;

  before(async () => {
    secondary.bind(0, '127.0.0.1');
    await once(secondary, 'listening');
    secondary.on('message', (bytes, from) => {
      const message = decodeMessage(bytes);
      received.push({ message, at: performance.now(), from });
      // The secondary's answer (RFC 1996 §4.7): the request with QR set.
      const reply = Buffer.from(bytes);
      reply.writeUInt16BE(bytes.readUInt16BE(Hdr.FLAGS) | Flag.QR, Hdr.FLAGS);
      secondary.send(reply, from.port, from.address);
      for (const wake of waiters) wake();
      waiters = [];
    });
    d = await startPsarnd({ env: { PSARN_NOTIFY: `127.0.0.1:${secondary.address().port}` } });
  });
  after(async () => {
    await d?.stop();
    secondary.close();
  });

  /** The first NOTIFY for `zone` with `serial` (any when undefined), waiting up to `ms`. */
  async function notifyFor(zone: string, serial: number | undefined, ms: number): Promise<Received | undefined> {
    const deadline = performance.now() + ms;
    for (;;) {
      const hit = received.find(
        (r) =>
          r.message.question[0]?.name === zone &&
          (serial === undefined || (r.message.answer[0] as { serial?: number } | undefined)?.serial === serial),
      );
      if (hit !== undefined) return hit;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  it('notifies every zone at start, with its SOA', async () => {
    // The demo routes' zone, loaded into the new database.
    const first = await notifyFor(Z, undefined, 5000);
    assert.ok(first, `no NOTIFY for ${Z} at start: ${JSON.stringify(received.map((r) => r.message.question))}`);
    const m = first.message;
    assert.deepEqual([m.opcode, m.qr, m.aa, m.question[0]?.qtype], [Opcode.NOTIFY, false, true, Type.SOA]);
    assert.deepEqual(
      m.answer.map((r) => [r.name, r.type]),
      [[Z, 'SOA']],
    );
  });

  it('a route set brings a NOTIFY for its zone within 1 s, with the new serial; the answer ends it', async () => {
    const { stdout } = await cliOn(d!, 'route', 'set', PSARN, '--target', TARGET);
    const committed = performance.now();
    const serial = Number(/\(zone \S+ serial (\d+)\)/.exec(stdout)?.[1]);
    assert.ok(serial > 1, stdout);
    const hit = await notifyFor(Z, serial, 1000);
    assert.ok(hit, `no NOTIFY with serial ${serial} within 1 s`);
    assert.ok(hit.at - committed < 1000);
    // Acknowledged: no retransmission, and the metrics say so.
    const text = await (await fetch(`http://${d!.http.host}:${d!.http.port}/metrics`)).text();
    const peer = `127.0.0.1:${secondary.address().port}`;
    assert.match(text, new RegExp(`psarn_notify_sent_total\\{peer="${peer}",result="acked"\\} [1-9]`));
    assert.match(text, /psarn_notify_pending 0/);
  });

  it('answers a NOTIFY sent to it NOTAUTH: a primary takes none', async () => {
    const reply = await udpRaw(d!.dns, encodeNotify(4321, { ...PARAMS, name: Z, serial: 99 }));
    assert.ok(reply);
    const m = decodeMessage(reply);
    assert.deepEqual([m.id, m.qr, m.opcode, m.rcode], [4321, true, Opcode.NOTIFY, Rcode.NOTAUTH]);
  });
});

describe('psarnd with a notify key and no TSIG', () => {
  it('refuses to start, naming the key', async () => {
    await assert.rejects(
      startPsarnd({ env: { PSARN_NOTIFY: '127.0.0.1:5300 key transfer-key' } }),
      /tsig key 'transfer-key' is not configured/,
    );
  });
});
