/**
 * The secondary's scheduler (src/secondary/secondary.ts) with a fake clock (timers fire only as
 * the test advances it) and a fake transfer engine: refresh at start and on the SOA refresh
 * timer, retry with backoff after a failure, NOTIFY (coalesced), expire and un-expire, catalog
 * members added and removed, and a restart that serves a copy that has not expired.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import {
  BOOTSTRAP_RETRY_S,
  type LocalCopy,
  Secondary,
  type SecondaryOptions,
  type SecondaryState,
} from '../../src/secondary/secondary.js';
import type { RefreshOutcome, SoaInfo, ZoneTransferer } from '../../src/secondary/types.js';
import { fakeClock } from '../helpers/fake-clock.js';

const A = 'a.aws.psarn.internal.';
const B = 'b.aws.psarn.internal.';
const C = 'c.aws.psarn.internal.';
const CAT = 'catalog.psarn.internal.';
const SOA: Omit<SoaInfo, 'serial'> = { refresh: 100, retry: 10, expire: 1000, minimum: 30 };

/** The primary's zones and a local store, with every call the scheduler made. */
function fakes(clock: { now(): number }) {
  const primary = new Map<string, number>();
  const local = new Map<string, LocalCopy>();
  const success = new Map<string, number>();
  const expires = new Map<string, number>();
  /** The EXPIRE option (RFC 7314) the primary sends: a secondary's seconds left; undefined: none. */
  let expireLeft: number | undefined;
  const calls: { op: string; zone: string; at: number }[] = [];
  let down = false;
  let members: string[] = [];
  let gate: Promise<void> | undefined;
  let transferGate: Promise<void> | undefined;
  const dropped: string[] = [];
  const soaOf = (zone: string): SoaInfo => {
    const serial = primary.get(zone);
    if (serial === undefined) throw Object.assign(new Error(`primary has no zone ${zone}`), { code: 'ERR_NOTAUTH' });
    return { serial, ...SOA, ...(expireLeft !== undefined ? { expireLeft } : {}) };
  };
  const transferer: ZoneTransferer = {
    async soa(zone, signal) {
      calls.push({ op: 'soa', zone, at: clock.now() });
      if (gate) {
        await Promise.race([
          gate,
          new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')))),
        ]);
      }
      if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:53'), { code: 'ECONNREFUSED' });
      return soaOf(zone);
    },
    async refresh(zone): Promise<RefreshOutcome> {
      calls.push({ op: 'refresh', zone, at: clock.now() });
      if (gate) await gate;
      if (transferGate) await transferGate;
      if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:53'), { code: 'ECONNREFUSED' });
      const soa = soaOf(zone);
      const had = local.get(zone);
      local.set(zone, { serial: soa.serial, refresh: soa.refresh, retry: soa.retry, expire: soa.expire });
      if (had === undefined) {
        return {
          kind: 'axfr',
          from: undefined,
          serial: soa.serial,
          soa,
          routes: 3,
          bytes: 300,
          messages: 1,
          reason: 'no copy',
        };
      }
      if (had.serial === soa.serial) return { kind: 'current', serial: soa.serial, soa };
      return { kind: 'ixfr', from: had.serial, serial: soa.serial, soa, routes: 1, bytes: 120, messages: 1 };
    },
    async catalogMembers(zone) {
      calls.push({ op: 'members', zone, at: clock.now() });
      if (down) throw new Error('down');
      return [...members];
    },
    dropZone(zone) {
      dropped.push(zone);
      local.delete(zone);
    },
  };
  const state: SecondaryState = {
    copy: (zone) => local.get(zone),
    zones: () => [...local.keys()],
    lastSuccess: (zone) => success.get(zone),
    putLastSuccess(zone, ms) {
      if (ms === undefined) success.delete(zone);
      else success.set(zone, ms);
    },
    expiresAt: (zone) => expires.get(zone),
    putExpiresAt(zone, ms) {
      if (ms === undefined) expires.delete(zone);
      else expires.set(zone, ms);
    },
  };
  return {
    primary,
    local,
    success,
    expires,
    calls,
    dropped,
    setExpireLeft: (seconds: number | undefined) => {
      expireLeft = seconds;
    },
    transferer,
    state,
    setDown: (value: boolean) => {
      down = value;
    },
    setMembers: (list: string[]) => {
      members = list;
    },
    /** Holds transfers (not SOA queries) until the returned function is called. */
    holdTransfers: () => {
      let release!: () => void;
      transferGate = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        transferGate = undefined;
        release();
      };
    },
    /** Holds every call until the returned function is called. */
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

function setup(zones: SecondaryOptions['zones'], prepare?: (f: ReturnType<typeof fakes>) => void) {
  const clock = fakeClock(1_000_000);
  const f = fakes(clock);
  prepare?.(f);
  const changed: string[] = [];
  const counted: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const secondary = new Secondary({
    transferer: f.transferer,
    zones,
    catalogZone: CAT,
    state: f.state,
    log: pino({ level: 'debug' }, { write: (s: string) => logs.push(JSON.parse(s) as Record<string, unknown>) }),
    defaults: { refresh: 3600, retry: 600, expire: 86400 },
    onChanged: (zone) => changed.push(zone),
    metrics: { secondaryRefresh: (zone, kind, result) => counted.push(`${zone} ${kind} ${result}`) },
    now: clock.now,
    timers: clock,
    random: () => 0.5,
  });
  return { clock, f, secondary, changed, counted, logs };
}

const ops = (f: ReturnType<typeof fakes>, zone?: string) =>
  f.calls.filter((c) => zone === undefined || c.zone === zone).map((c) => c.op);

describe('secondary scheduler', () => {
  it('transfers a zone it has no copy of at start, then checks the SOA on the refresh timer (jittered, never later)', async () => {
    const { clock, f, secondary, changed, counted, logs } = setup([A], (f) => f.primary.set(A, 5));
    secondary.start();
    await secondary.settled();
    assert.deepEqual(ops(f), ['refresh']);
    // One log line per refresh: zone, from, to, kind, bytes, ms.
    const line = logs.find((l) => l.msg === 'zone refreshed');
    assert.deepEqual(
      [line?.zone, line?.from, line?.to, line?.kind, line?.bytes, typeof line?.ms],
      [A, null, 5, 'axfr', 300, 'number'],
    );
    assert.deepEqual(changed, [A]);
    assert.deepEqual(counted, [`${A} axfr ok`]);
    const [st] = secondary.status();
    assert.equal(st?.serial, 5);
    assert.equal(st?.hasCopy, true);
    assert.equal(f.success.get(A), clock.now(), 'the success is persisted');
    assert.deepEqual(secondary.unready(), { missing: [], expired: [] });

    // Refresh 100 s with jitter 0.5 * 10 %: the SOA check comes at 95 s, not before.
    clock.advance(94_000);
    await secondary.settled();
    assert.deepEqual(ops(f), ['refresh']);
    clock.advance(1000);
    await secondary.settled();
    assert.deepEqual(ops(f), ['refresh', 'soa'], 'the SOA first');
    assert.deepEqual(counted.at(-1), `${A} current ok`, 'same serial: nothing transferred');

    // The primary moved: the next timer's SOA check is followed by the transfer.
    f.primary.set(A, 6);
    clock.advance(95_000);
    await secondary.settled();
    assert.deepEqual(ops(f), ['refresh', 'soa', 'soa', 'refresh']);
    assert.deepEqual(counted.at(-1), `${A} ixfr ok`);
    assert.equal(secondary.status()[0]?.serial, 6);
    secondary.close();
  });

  it('retries after a failure with backoff: retry, doubled per failure, capped at the refresh interval', async () => {
    const { clock, f, secondary, counted, logs } = setup([A], (f) => {
      f.primary.set(A, 5);
      f.local.set(A, { serial: 5, ...SOA });
      f.success.set(A, 1_000_000);
      f.setDown(true);
    });
    secondary.start();
    await secondary.settled();
    assert.deepEqual(counted, [`${A} current error`], 'the SOA check failed');
    const attempts: number[] = [clock.now()];
    for (let i = 0; i < 6; i++) {
      const before = f.calls.length;
      // Step one second at a time until the next attempt.
      for (let s = 0; s < 200 && f.calls.length === before; s++) {
        clock.advance(1000);
        await secondary.settled();
      }
      attempts.push(clock.now());
    }
    const gaps = attempts.slice(1).map((t, i) => Math.round((t - attempts[i]!) / 1000));
    // retry 10 s, jitter 5 %: 9.5 → 10 s steps of 1 s; then 20, 40, 80, then the 100 s refresh cap.
    assert.deepEqual(gaps, [10, 19, 38, 76, 95, 95]);
    // One log line per failure: the zone, the reason, when the next try is.
    const failures = logs.filter((l) => l.msg === 'zone refresh failed; will retry');
    assert.equal(failures.length, 7);
    assert.deepEqual(
      {
        zone: failures[0]!.zone,
        reason: failures[0]!.reason,
        code: failures[0]!.code,
        retry: failures[0]!.retryInSeconds,
      },
      { zone: A, reason: 'connect ECONNREFUSED 127.0.0.1:53', code: 'ECONNREFUSED', retry: 10 },
    );
    assert.equal(secondary.status()[0]?.failures, 7);
    // Back: the next attempt succeeds and the failures are forgotten.
    f.setDown(false);
    clock.advance(100_000);
    await secondary.settled();
    assert.equal(secondary.status()[0]?.failures, 0);
    assert.equal(counted.at(-1), `${A} current ok`);
    secondary.close();
  });

  it('a zone with no copy yet retries sooner (bootstrap), doubling up to the SOA retry', async () => {
    const { clock, f, secondary } = setup([A], (f) => f.setDown(true));
    secondary.start();
    await secondary.settled();
    assert.deepEqual(secondary.unready(), { missing: [A], expired: [] });
    const before = f.calls.length;
    clock.advance(BOOTSTRAP_RETRY_S * 1000);
    await secondary.settled();
    assert.equal(f.calls.length, before + 1, 'first retry after the bootstrap interval');
    secondary.close();
  });

  it('a NOTIFY refreshes at once, once however many arrive during the refresh', async () => {
    const { f, secondary, counted } = setup([A], (f) => {
      f.primary.set(A, 5);
      f.local.set(A, { serial: 5, ...SOA });
      f.success.set(A, 1_000_000);
    });
    secondary.start();
    await secondary.settled();
    assert.deepEqual(ops(f), ['soa']);
    f.primary.set(A, 6);
    const release = f.hold();
    assert.equal(secondary.notify(A, 6), true);
    assert.deepEqual(ops(f), ['soa', 'soa'], 'no timer to wait for');
    // Three more while the refresh runs: one more refresh after it, not three.
    f.primary.set(A, 7);
    for (const serial of [7, 7, 7]) assert.equal(secondary.notify(A, serial), true);
    const pending = secondary.status()[0]?.pending;
    assert.equal(pending?.serial, 7, 'the lag follows the newest serial seen');
    release();
    await secondary.settled();
    // The waiting SOA query is asked again once (the primary has just spoken), whatever the
    // number of NOTIFYs; then one transfer.
    assert.deepEqual(ops(f), ['soa', 'soa', 'soa', 'refresh']);
    assert.deepEqual(counted.slice(1), [`${A} ixfr ok`]);
    assert.equal(secondary.status()[0]?.serial, 7);
    assert.equal(secondary.status()[0]?.pending, undefined, 'applied: no lag');
    assert.equal(secondary.notify('other.aws.psarn.internal.'), false, 'a zone it does not follow');
    secondary.close();
  });

  it('NOTIFYs during a transfer: one more SOA check after it, however many', async () => {
    const { f, secondary, counted } = setup([A], (f) => {
      f.primary.set(A, 5);
      f.local.set(A, { serial: 5, ...SOA });
      f.success.set(A, 1_000_000);
    });
    secondary.start();
    await secondary.settled();
    f.primary.set(A, 6);
    const release = f.holdTransfers();
    secondary.notify(A, 6);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(ops(f), ['soa', 'soa', 'refresh'], 'the transfer is running');
    f.primary.set(A, 7);
    for (let i = 0; i < 5; i++) secondary.notify(A, 7);
    release();
    await secondary.settled();
    // The held transfer fetched serial 7 already; the one check after it finds it current.
    assert.deepEqual(ops(f), ['soa', 'soa', 'refresh', 'soa']);
    assert.deepEqual(counted, [`${A} current ok`, `${A} ixfr ok`, `${A} current ok`]);
    secondary.close();
  });

  it('a NOTIFY while an SOA query waits on a silent primary asks again at once, counting no failure', async () => {
    const { clock, f, secondary, counted } = setup([A], (f) => {
      f.primary.set(A, 5);
      f.local.set(A, { serial: 5, ...SOA });
      f.success.set(A, 1_000_000);
    });
    secondary.start();
    await secondary.settled();
    const release = f.hold();
    clock.advance(95_000);
    assert.deepEqual(ops(f), ['soa', 'soa'], 'the refresh timer: an SOA query that gets no answer');
    f.primary.set(A, 6);
    secondary.notify(A, 6);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(ops(f), ['soa', 'soa', 'soa'], 'asked again without waiting for the first to time out');
    release();
    await secondary.settled();
    assert.deepEqual(ops(f), ['soa', 'soa', 'soa', 'refresh']);
    assert.deepEqual(counted, [`${A} current ok`, `${A} ixfr ok`]);
    secondary.close();
  });

  it('expires a zone when no refresh or SOA check succeeds within the SOA expire, and a success un-expires it', async () => {
    const { clock, f, secondary } = setup([A], (f) => {
      f.primary.set(A, 5);
      f.local.set(A, { serial: 5, ...SOA });
    });
    f.success.set(A, clock.now());
    secondary.start();
    await secondary.settled();
    f.setDown(true);
    assert.equal(secondary.expireFor(A, 1000), 1000);
    clock.advance(600_000);
    await secondary.settled();
    assert.equal(secondary.expireFor(A, 1000), 400, 'EDNS EXPIRE: the seconds left (RFC 7314 §3)');
    assert.equal(secondary.expired.has(A), false);
    clock.advance(399_000);
    await secondary.settled();
    assert.equal(secondary.expired.has(A), false, 'a second before expire');
    clock.advance(1000);
    await secondary.settled();
    assert.equal(secondary.expired.has(A), true);
    assert.deepEqual(secondary.unready(), { missing: [], expired: [A] });
    assert.equal(secondary.expireFor(A, 1000), 0);
    f.setDown(false);
    secondary.notify(A);
    await secondary.settled();
    assert.equal(secondary.expired.has(A), false, 'the SOA check succeeded');
    assert.deepEqual(secondary.unready(), { missing: [], expired: [] });
    secondary.close();
  });

  it("takes the primary's EXPIRE option as its timer (RFC 7314 §4): a secondary of a secondary with 20 s left expires after 20 s", async () => {
    const { clock, f, secondary } = setup([A], (f) => {
      f.primary.set(A, 5);
      f.setExpireLeft(20);
    });
    secondary.start();
    await secondary.settled();
    assert.deepEqual(ops(f), ['refresh']);
    // Passed on down the chain: what this copy has left, not the SOA's 1000.
    assert.equal(secondary.expireFor(A, 1000), 20);
    assert.equal(f.expires.get(A), clock.now() + 20_000, 'persisted for a restart');
    f.setDown(true);
    clock.advance(19_000);
    await secondary.settled();
    assert.equal(secondary.expired.has(A), false, 'a second before');
    assert.equal(secondary.expireFor(A, 1000), 1);
    clock.advance(1000);
    await secondary.settled();
    assert.equal(secondary.expired.has(A), true, 'after 20 s, not after the SOA expire');
    // The middle secondary refreshed from the primary: its EXPIRE is long again.
    f.setDown(false);
    f.setExpireLeft(500);
    secondary.notify(A);
    await secondary.settled();
    assert.equal(secondary.expired.has(A), false);
    assert.equal(secondary.expireFor(A, 1000), 500);
    // An SOA check never shortens the timer (BIND does the same); a longer EXPIRE lengthens it.
    clock.advance(10_000);
    f.setExpireLeft(100);
    secondary.notify(A);
    await secondary.settled();
    assert.equal(secondary.expireFor(A, 1000), 490);
    f.setExpireLeft(5000);
    secondary.notify(A);
    await secondary.settled();
    assert.equal(secondary.expireFor(A, 1000), 1000, 'never past the SOA expire');
    secondary.close();
  });

  it('a restart keeps the persisted expiry that an EXPIRE option shortened', async () => {
    const { clock, f, secondary } = setup([A], (f) => {
      f.local.set(A, { serial: 5, ...SOA });
      f.setDown(true);
    });
    // Refreshed 10 s ago from a secondary whose copy had 15 s left: 5 s to go, not 990.
    f.success.set(A, clock.now() - 10_000);
    f.expires.set(A, clock.now() + 5000);
    const release = f.hold();
    secondary.start();
    assert.equal(secondary.expireFor(A, 1000), 5);
    release();
    await secondary.settled();
    clock.advance(5000);
    assert.equal(secondary.expired.has(A), true);
    secondary.close();
  });

  it('follows the catalog: members added are transferred, members removed are dropped', async () => {
    const { f, secondary, changed } = setup('catalog', (f) => {
      f.primary.set(CAT, 1);
      f.primary.set(A, 1);
      f.primary.set(B, 1);
      f.primary.set(C, 1);
      f.setMembers([A, B]);
    });
    secondary.start();
    await secondary.settled();
    assert.deepEqual(ops(f, CAT), ['soa', 'members']);
    assert.deepEqual([...f.local.keys()].sort(), [A, B]);
    assert.deepEqual(secondary.unready(), { missing: [], expired: [] });
    assert.equal(secondary.follows(CAT), true);

    // A NOTIFY of the same catalog serial reads no members.
    secondary.notify(CAT, 1);
    await secondary.settled();
    assert.deepEqual(ops(f, CAT), ['soa', 'members', 'soa']);

    f.primary.set(CAT, 2);
    f.setMembers([B, C]);
    secondary.notify(CAT, 2);
    await secondary.settled();
    assert.deepEqual(f.dropped, [A]);
    assert.deepEqual([...f.local.keys()].sort(), [B, C]);
    assert.equal(f.success.has(A), false, 'its refresh time is forgotten');
    assert.equal(secondary.follows(A), false);
    assert.equal(secondary.notify(A), false);
    assert.ok(changed.includes(A) && changed.includes(C));
    secondary.close();
  });

  it('a restart serves a copy that has not expired at once, and one past expire not', async () => {
    const { clock, f, secondary } = setup([A, B], (f) => {
      f.local.set(A, { serial: 5, ...SOA });
      f.local.set(B, { serial: 9, ...SOA });
      f.setDown(true);
    });
    f.success.set(A, clock.now() - 10_000);
    f.success.set(B, clock.now() - 1_000_000);
    const release = f.hold();
    secondary.start();
    // Before any refresh answers: A is served, B is not.
    assert.equal(secondary.expired.has(A), false);
    assert.equal(secondary.expired.has(B), true);
    assert.deepEqual(secondary.unready(), { missing: [], expired: [B] });
    assert.equal(secondary.expireFor(A, 1000), 990);
    release();
    await secondary.settled();
    clock.advance(989_000);
    await secondary.settled();
    assert.equal(secondary.expired.has(A), false);
    clock.advance(1000);
    assert.equal(secondary.expired.has(A), true, 'the restart kept counting from the persisted success');
    secondary.close();
  });

  it('close stops every timer and ignores what in-flight refreshes return', async () => {
    const { clock, f, secondary, counted } = setup([A], (f) => f.primary.set(A, 1));
    const release = f.hold();
    secondary.start();
    secondary.close();
    release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(counted, []);
    assert.equal(clock.armed(), 0);
    assert.equal(secondary.notify(A), false);
  });
});
