/**
 * The udp_batch addon itself (src/native/udp_batch.c), below its TypeScript wrapper: the counter
 * names it exports, and what it does when the JS it calls from a libuv callback throws (the
 * wrapper never lets that happen, so only a direct test reaches these paths). Skipped where the
 * addon is not built, except on Linux CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { addonCandidates, loadUdpBatch } from '../../src/server/udp-batch.js';

const run = promisify(execFile);
const MODULE_URL = new URL('../../src/server/udp-batch.js', import.meta.url).href;
const loaded = loadUdpBatch();
const required = process.env.CI === 'true' && process.platform === 'linux';
const skip = loaded.ok || required ? false : `native UDP batching unavailable: ${loaded.reason}`;

describe('udp_batch addon', { skip }, () => {
  const addon = addonCandidates(MODULE_URL).find((path) => existsSync(path));

  it('exports its counters by name, each with its own slot of the stats array, frozen', () => {
    assert.ok(addon, 'the addon is built');
    const binding = createRequire(import.meta.url)(addon) as { STAT: Record<string, number>; STATS: number };
    assert.deepEqual(Object.keys(binding.STAT).sort(), ['received', 'sendErrors', 'sent', 'truncated']);
    assert.deepEqual(Object.values(binding.STAT).sort(), [0, 1, 2, 3]);
    assert.equal(binding.STATS, 4);
    assert.ok(Object.isFrozen(binding.STAT));
  });

  it('a throwing onBatch goes to onError; a throwing onError or close callback is dropped; it keeps serving', async () => {
    // In a child process: an exception left pending in a libuv callback would wedge or kill it.
    const script = `
      import { createRequire } from 'node:module';
      import { createSocket } from 'node:dgram';
      import { once } from 'node:events';
      const b = createRequire(import.meta.url)(${JSON.stringify(addon)});
      const input = Buffer.alloc(b.BATCH * b.SLOT_IN);
      const output = Buffer.alloc(b.BATCH * b.SLOT_OUT);
      const inLens = new Int32Array(b.BATCH);
      const outLens = new Int32Array(b.BATCH);
      const stats = new Float64Array(b.STATS);
      const errors = [];
      const handle = b.open({
        host: '127.0.0.1', port: 0, ipv6: false, reusePort: false, input, inLens, output, outLens, stats,
        onBatch(n) {
          let boom = false;
          for (let i = 0; i < n; i++) {
            if (inLens[i] < 0) continue;
            const message = input.subarray(i * b.SLOT_IN, i * b.SLOT_IN + inLens[i]);
            boom ||= message.toString() === 'throw';
            output.set(message, i * b.SLOT_OUT);
            outLens[i] = message.length;
          }
          // After the replies are in their slots: they still go out.
          if (boom) throw new Error('onBatch threw');
        },
        onError(error) {
          errors.push(error.message);
          throw new Error('onError threw');
        },
      });
      const [, port] = b.address(handle);
      const client = createSocket('udp4');
      client.bind(0, '127.0.0.1');
      await once(client, 'listening');
      const replies = [];
      for (const data of [Buffer.alloc(5000), 'throw', 'ping']) {
        client.send(data, port, '127.0.0.1');
        if (typeof data === 'string') replies.push(String((await once(client, 'message'))[0]));
      }
      await new Promise((resolve) => b.close(handle, () => { resolve(); throw new Error('done threw'); }));
      client.close();
      const named = Object.fromEntries(Object.entries(b.STAT).map(([name, slot]) => [name, stats[slot]]));
      console.log(JSON.stringify({ replies, errors, stats: named }));
    `;
    // A wedged child is killed at the timeout and run() rejects.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    assert.deepEqual(JSON.parse(stdout), {
      replies: ['throw', 'ping'],
      errors: ['onBatch threw'],
      stats: { received: 3, sent: 2, sendErrors: 0, truncated: 1 },
    });
  });
});
