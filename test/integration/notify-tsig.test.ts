/**
 * NOTIFY signed with a key of config tsig.keys (issue 10): the real psarnd signs its NOTIFY to a
 * keyed peer, and takes only an answer signed over that NOTIFY's MAC as the acknowledgement.
 * The peer is a UDP socket of this test that verifies with src/wire/tsig.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Flag, Hdr } from '../../src/wire/cursor.js';
import { makeTsigKey, signMessage, verifyMessage } from '../../src/wire/tsig.js';
import { Opcode } from '../../src/wire/types.js';
import { type RunningDaemon, startPsarnd } from '../helpers/daemon.js';

const SECRET = randomBytes(32).toString('base64');
const key = makeTsigKey('transfer-key', 'hmac-sha256', SECRET);

describe('psarnd signs NOTIFY with tsig.keys', () => {
  const secondary = createSocket('udp4');
  const results: string[] = [];
  let d: RunningDaemon | undefined;
  let wake: (() => void) | undefined;

  before(async () => {
    secondary.bind(0, '127.0.0.1');
    await once(secondary, 'listening');
    secondary.on('message', (bytes, from) => {
      if (((bytes.readUInt16BE(Hdr.FLAGS) >> 11) & 0xf) !== Opcode.NOTIFY) return;
      const result = verifyMessage(bytes, new Map([[key.name, key]]));
      results.push(result.status);
      if (result.status === 'ok') {
        // The answer: the NOTIFY with QR set, without its TSIG, signed over the NOTIFY's MAC.
        const unsigned = Buffer.from(bytes.subarray(0, result.tsig.start));
        unsigned.writeUInt16BE(bytes.readUInt16BE(Hdr.FLAGS) | Flag.QR, Hdr.FLAGS);
        unsigned.writeUInt16BE(unsigned.readUInt16BE(Hdr.ARCOUNT) - 1, Hdr.ARCOUNT);
        secondary.send(signMessage(unsigned, key, { requestMac: result.mac }), from.port, from.address);
      }
      wake?.();
    });
    d = await startPsarnd({
      env: {
        PSARN_TSIG_KEYS: `transfer-key:${SECRET}`,
        PSARN_NOTIFY: `127.0.0.1:${secondary.address().port} key transfer-key`,
      },
    });
  });
  after(async () => {
    await d?.stop();
    secondary.close();
  });

  it('the NOTIFY verifies with the key, and the signed answer acknowledges it (no retry)', async () => {
    for (let i = 0; i < 50 && results.length === 0; i++) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    assert.deepEqual(results.slice(0, 1), ['ok']);
    const deadline = performance.now() + 5000;
    let text = '';
    while (performance.now() < deadline) {
      text = await (await fetch(`http://${d!.http.host}:${d!.http.port}/metrics`)).text();
      if (/psarn_notify_sent_total\{[^}]*result="acked"[^}]*\} [1-9]/.test(text)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(text, /psarn_notify_sent_total\{[^}]*result="acked"[^}]*\} [1-9]/);
    assert.ok(!results.includes('badsig'));
    assert.ok(!`${text}${JSON.stringify(d!.logs)}`.includes(SECRET), 'the secret was printed');
  });
});
