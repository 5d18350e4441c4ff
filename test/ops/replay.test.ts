/**
 * The replay loop on an in-memory queue with SQS's semantics and an injected clock
 * (docs/design.md#hold-and-release): delete only after success, failures left and not retried in
 * the run, repeats deleted without a second invocation, redeliveries counted; the rate limiter's
 * slots; the body decoding that mirrors the SQS invoker; the progress output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { payloadText } from '../../src/client/invokers/invoker.js';
import { progressBar, progressLine, progressReporter } from '../../src/ops/progress.js';
import { type QueueMessage, type QueueSource, replay, visibilityFor } from '../../src/ops/replay.js';
import { decodeBody } from '../../src/ops/replay-body.js';
import { RateLimiter } from '../../src/ops/replay-rate.js';

/** A clock whose sleep jumps virtual time to the wake time (never back). */
function virtualClock() {
  let t = 0;
  const wakes: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    wakes,
    sleep(ms: number) {
      wakes.push(t + ms);
      t = Math.max(t, t + ms);
      return Promise.resolve();
    },
  };
}

interface Msg {
  id: string;
  body: string;
  count: number;
  visibleAt: number;
  handle: string;
  deleted: boolean;
}

/** SQS's rules in memory: a receive hides a message for the visibility timeout; only the latest handle deletes. */
function memoryQueue(bodies: string[], clock: { now(): number }, receivedBefore = 0) {
  const msgs: Msg[] = bodies.map((body, i) => ({
    id: `m${i}`,
    body,
    count: receivedBefore,
    visibleAt: 0,
    handle: '',
    deleted: false,
  }));
  const failDeleteOnce = new Set<string>();
  const source: QueueSource = {
    async receive({ max, visibilitySeconds }) {
      const t = clock.now();
      const out: QueueMessage[] = [];
      for (const m of msgs) {
        if (out.length >= max) break;
        if (m.deleted || m.visibleAt > t) continue;
        m.count++;
        m.visibleAt = t + visibilitySeconds * 1000;
        m.handle = `${m.id}#${m.count}`;
        out.push({ id: m.id, handle: m.handle, body: m.body, receiveCount: m.count });
      }
      return out;
    },
    async delete(list) {
      const failed: { id: string; reason: string }[] = [];
      for (const x of list) {
        const m = msgs.find((y) => y.id === x.id)!;
        if (failDeleteOnce.delete(x.id) || m.handle !== x.handle) failed.push({ id: x.id, reason: 'stale handle' });
        else m.deleted = true;
      }
      return failed;
    },
    async counts() {
      const t = clock.now();
      const live = msgs.filter((m) => !m.deleted);
      const visible = live.filter((m) => m.visibleAt <= t).length;
      return { visible, inFlight: live.length - visible };
    },
  };
  return { msgs, source, failDeleteOnce, live: () => msgs.filter((m) => !m.deleted) };
}

const bodies = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: i }));

describe('replay', () => {
  it('deletes every success, leaves every failure, invokes each message once, counts right', async () => {
    const clock = virtualClock();
    const q = memoryQueue(bodies(203), clock);
    const calls = new Map<number, number>();
    const result = await replay({
      source: q.source,
      clock,
      workers: 3,
      invoke: async (payload) => {
        const n = (payload as { n: number }).n;
        calls.set(n, (calls.get(n) ?? 0) + 1);
        if (n % 7 === 0) throw new Error('injected');
      },
    });
    const failing = [...Array(203).keys()].filter((n) => n % 7 === 0);
    assert.equal(result.received, 203);
    assert.equal(result.failed, failing.length);
    assert.equal(result.replayed, 203 - failing.length);
    assert.equal(result.notDeleted, 0);
    assert.equal(result.redelivered, 0);
    assert.equal(result.stopped, undefined);
    assert.deepEqual(
      q.live().map((m) => (JSON.parse(m.body) as { n: number }).n),
      failing,
    );
    assert.equal(calls.size, 203);
    assert.ok([...calls.values()].every((c) => c === 1));
    assert.equal(result.leftInFlight, failing.length, 'failures are hidden for the visibility timeout');
  });

  it('does not retry a failure that reappears in the same run, and stops', async () => {
    const clock = virtualClock();
    const q = memoryQueue(bodies(25), clock);
    let calls = 0;
    const result = await replay({
      source: q.source,
      clock,
      workers: 1,
      visibilitySeconds: 30,
      invoke: async (payload) => {
        calls++;
        // Each call takes 40 s of virtual time: a failure is visible again at the next receive.
        clock.advance(40_000);
        if ((payload as { n: number }).n === 3) throw new Error('down');
      },
    });
    assert.equal(calls, 25);
    assert.equal(result.failed, 1);
    assert.equal(result.replayed, 24);
    assert.deepEqual(
      q.live().map((m) => m.id),
      ['m3'],
    );
  });

  it('a message whose delete failed is deleted when it comes back, not invoked again (repeats)', async () => {
    const clock = virtualClock();
    const q = memoryQueue(bodies(12), clock);
    q.failDeleteOnce.add('m1');
    const calls = new Map<string, number>();
    const result = await replay({
      source: q.source,
      clock,
      workers: 1,
      visibilitySeconds: 30,
      invoke: async (payload) => {
        clock.advance(20_000);
        const k = JSON.stringify(payload);
        calls.set(k, (calls.get(k) ?? 0) + 1);
      },
    });
    assert.equal(result.repeats, 1);
    assert.equal(result.notDeleted, 0);
    assert.equal(result.replayed, 12);
    assert.deepEqual(q.live(), []);
    assert.ok(
      [...calls.values()].every((c) => c === 1),
      'nothing invoked twice',
    );
  });

  it('counts messages received before this run as redelivered (the possible duplicates)', async () => {
    const clock = virtualClock();
    const q = memoryQueue(bodies(15), clock, 1);
    const result = await replay({ source: q.source, clock, invoke: async () => {} });
    assert.equal(result.redelivered, 15);
    assert.equal(result.replayed, 15);
  });

  it('stops when the guard says so (the route is held again), leaving the rest', async () => {
    const clock = virtualClock();
    const q = memoryQueue(bodies(50), clock);
    let asked = 0;
    const result = await replay({
      source: q.source,
      clock,
      workers: 1,
      invoke: async () => {},
      guard: async () => (++asked > 2 ? 'held again' : undefined),
    });
    assert.equal(result.stopped, 'held again');
    assert.equal(result.replayed, 20);
    assert.equal(q.live().length, 30);
  });

  it('an interrupt (Ctrl-C) lets the batch in flight finish and be deleted, then stops', async () => {
    const clock = virtualClock();
    const q = memoryQueue(bodies(50), clock);
    const interrupt = new AbortController();
    let calls = 0;
    const result = await replay({
      source: q.source,
      clock,
      workers: 1,
      signal: interrupt.signal,
      invoke: async () => {
        if (++calls === 15) interrupt.abort();
      },
    });
    assert.equal(result.stopped, 'interrupted');
    assert.equal(result.replayed, 20);
    assert.equal(result.notDeleted, 0);
    assert.equal(q.live().length, 30);
  });

  it('at --rate N, no second of invocation starts holds more than N (slots on the injected clock)', async () => {
    const clock = virtualClock();
    const q = memoryQueue(bodies(95), clock);
    const starts: number[] = [];
    const limiter = new RateLimiter(20, clock);
    // The limiter alone, 60 takers at once: the slots it hands out.
    await Promise.all(Array.from({ length: 60 }, () => limiter.take()));
    const slots = [0, ...clock.wakes];
    assert.equal(slots.length, 60);
    for (const s of slots) assert.ok(slots.filter((x) => x >= s && x < s + 1000).length <= 20);
    assert.equal(Math.max(...slots), 59 * 50);
    // Through replay: 95 invocations at 20/s need 94 intervals of 50 ms of slots.
    const replayClock = virtualClock();
    const result = await replay({
      source: memoryQueue(bodies(95), replayClock).source,
      clock: replayClock,
      rate: 20,
      invoke: async () => {
        starts.push(replayClock.now());
      },
    });
    assert.equal(result.replayed, 95);
    assert.equal(Math.max(...replayClock.wakes), 94 * 50);
    assert.equal(new Set(replayClock.wakes).size, replayClock.wakes.length, 'one slot per invocation');
    assert.deepEqual(q.live().length, 95, 'the first queue was not touched');
  });

  it('sizes the visibility timeout to the rate', () => {
    assert.equal(visibilityFor(undefined, 4), 30);
    assert.equal(visibilityFor(1, 4), 70);
    assert.equal(visibilityFor(0.0001, 4), 43_200);
  });
});

describe('decodeBody mirrors the SQS invoker (payloadText)', () => {
  it('gives back the bytes of every body and the value of JSON.stringify output', () => {
    const cases: [string, unknown][] = [
      ['{"id":42,"items":[1,2]}', { id: 42, items: [1, 2] }],
      ['[1,"a",null]', [1, 'a', null]],
      ['42', 42],
      ['-1.5', -1.5],
      ['true', true],
      ['null', null],
      ['"quoted"', '"quoted"'],
      ['{ "id": 42 }', '{ "id": 42 }'],
      ['plain text', 'plain text'],
      ['', ''],
      ['{"a":1', '{"a":1'],
      ['1e3', '1e3'],
      ['nothing', 'nothing'],
    ];
    for (const [body, value] of cases) {
      assert.deepEqual(decodeBody(body), value, body);
      assert.equal(payloadText(decodeBody(body)), body, `round trip of ${body}`);
    }
  });

  it('decodes what the invoker encoded from an object', () => {
    for (const p of [{ a: 'é', b: [true, { c: null }] }, [], { n: 1e21 }, 0]) {
      assert.deepEqual(decodeBody(payloadText(p)), p);
    }
  });
});

describe('progress', () => {
  const p = { received: 600, replayed: 500, failed: 12, total: 3000, elapsedMs: 2000 };
  it('JSON lines when stderr is not a terminal', () => {
    let out = '';
    const r = progressReporter({ write: (s: string) => (out += s) });
    r.update(p);
    r.update({ ...p, replayed: 510 });
    r.end();
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0], { event: 'progress', ...p });
    assert.equal(progressLine(p), `${JSON.stringify({ event: 'progress', ...p })}\n`);
  });
  it('a bar redrawn in place on a terminal', () => {
    let out = '';
    const r = progressReporter({ write: (s: string) => (out += s), isTTY: true, columns: 100 });
    r.update(p);
    r.end();
    assert.match(out, /^\r\[#+\.+\] 512\/3000 17% {2}replayed 500 {2}failed 12 {2}250\/s\x1b\[K\n$/);
    assert.ok(progressBar(p, 60).length <= 80);
  });
});
