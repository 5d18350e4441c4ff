/**
 * A rollout driven by the real psarnd (docs/design.md#rollouts): `psarn rollout start --every 1s`
 * writes the first step, psarnd takes the others on time, each is served (the weights move in the
 * answers, the SOA serial bumps) and NOTIFYed as a CLI write is; psarnd restarted in the middle
 * with steps overdue takes ONE step, then waits the interval again.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RolloutState } from '../../src/ops/rollout.js';
import { Store } from '../../src/store/store.js';
import { Flag, Hdr } from '../../src/wire/cursor.js';
import { type DecodedMessage, decodeMessage } from '../../src/wire/message.js';
import { Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { askUntil, query } from '../helpers/dns.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const NAME = `created.orders.${Z}`;
const V1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';
const V2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v2';

/** `v1 7500 v2 2500`: the targets and weights of an answer, in answer order. */
function weights(m: DecodedMessage | undefined): string {
  return (m?.answer ?? [])
    .map((r) => ('weight' in r && 'target' in r ? `${String(r.target).split(':').pop()} ${r.weight}` : ''))
    .filter((s) => s !== '')
    .sort()
    .join(' ');
}

describe('psarnd drives a rollout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-rollout-it-'));
  const db = join(dir, 'psarn.db');
  const secondary = createSocket('udp4');
  const notified: number[] = [];
  let d: RunningDaemon | undefined;

  before(async () => {
    secondary.bind(0, '127.0.0.1');
    await once(secondary, 'listening');
    secondary.on('message', (bytes, from) => {
      const m = decodeMessage(bytes);
      const serial = (m.answer[0] as { serial?: number } | undefined)?.serial;
      if (m.question[0]?.name === Z && serial !== undefined) notified.push(serial);
      // The secondary's answer (RFC 1996 §4.7): the request with QR set.
      const reply = Buffer.from(bytes);
      reply.writeUInt16BE(bytes.readUInt16BE(Hdr.FLAGS) | Flag.QR, Hdr.FLAGS);
      secondary.send(reply, from.port, from.address);
    });
  });
  after(async () => {
    await d?.stop();
    secondary.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () =>
    startPsarnd({ db, demoRoutes: '', env: { PSARN_NOTIFY: `127.0.0.1:${secondary.address().port}` } });
  const soaSerial = async (at: RunningDaemon) =>
    ((await query(at.dns, Z, Type.SOA, { edns: false })).answer[0] as { serial: number }).serial;

  /** Asks until the answer has `want` weights; fails with what it saw last. */
  async function served(at: RunningDaemon, want: string): Promise<void> {
    const { reply } = await askUntil(at.dns, NAME, (m) => weights(m) === want, 20_000, { everyMs: 20 });
    assert.equal(weights(reply), want);
  }

  it('steps on time, serves and NOTIFYs each step, and resumes after a restart with one step', async () => {
    d = await start();
    await cliOn(d, 'route', 'set', P, '--target', V1);
    await served(d, 'orders-v1 1');
    await cliOn(d, 'rollout', 'start', P, '--to', V2, '--steps', '25,50,75', '--every', '1s');
    // The CLI's first step, picked up by psarnd's change poll.
    await served(d, 'orders-v1 7500 orders-v2 2500');
    const atStart = await soaSerial(d);
    // psarnd's first step, a second later.
    await served(d, 'orders-v1 5000 orders-v2 5000');
    const atHalf = await soaSerial(d);
    assert.ok(atHalf > atStart, `serial ${atStart} → ${atHalf}`);
    await d.stop();
    d = undefined;

    // Down for several intervals: set the rollout's due time 5 s back (as if psarnd had been
    // stopped that long), so more than one step is overdue.
    const store = Store.open(db, { create: false });
    let stepBefore: number;
    try {
      const [op] = store.operations<RolloutState>({ kind: 'rollout' });
      assert.equal(op!.status, 'running');
      stepBefore = op!.state.step;
      store.updateOperation(op!.id, { dueAt: Date.now() - 5000 });
    } finally {
      store.close();
    }
    assert.ok(stepBefore === 1 || stepBefore === 2, `step ${stepBefore}`);

    d = await start();
    if (stepBefore === 1) {
      // One step (75%), not two: the last one waits a full interval after it.
      await served(d, 'orders-v1 2500 orders-v2 7500');
    }
    await served(d, 'orders-v2 1');
    const atEnd = await soaSerial(d);
    assert.ok(atEnd > atHalf);

    const check = Store.open(db, { readonly: true, create: false });
    try {
      const [op] = check.operations<RolloutState>({ kind: 'rollout' });
      assert.equal(op!.status, 'done');
      const rows = check.journal(Z).filter((e) => e.path === 'orders/created');
      const steps = rows.slice(-4);
      assert.deepEqual(
        steps.map((e) => e.actor),
        [rows.at(-4)!.actor, `psarnd:rollout#${op!.id}`, `psarnd:rollout#${op!.id}`, `psarnd:rollout#${op!.id}`],
      );
      assert.match(steps[0]!.actor!, /^user:/, 'the CLI wrote the first step');
      // Each step its own serial, one after the other.
      for (let i = 1; i < steps.length; i++) assert.equal(steps[i]!.serial, steps[i - 1]!.serial + 1);
      // After the restart's step, the last one waited its interval (a lower bound only).
      assert.ok(steps[3]!.at - steps[2]!.at >= 900, `${steps[3]!.at - steps[2]!.at} ms between the last two steps`);
      // Each psarnd step was NOTIFYed with its serial, as a CLI write is.
      const deadline = performance.now() + 10_000;
      while (!steps.slice(1).every((e) => notified.includes(e.serial)) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const e of steps.slice(1))
        assert.ok(notified.includes(e.serial), `NOTIFY for serial ${e.serial}: ${notified}`);
    } finally {
      check.close();
    }
    const status = JSON.parse((await cliOn(d, 'rollout', 'status', P, '--json')).stdout);
    assert.equal(status.status, 'done');
    assert.equal(status.endReason, 'done: every step taken');
  });
});
