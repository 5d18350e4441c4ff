/**
 * A secondary's caller reports (docs/design.md#caller-reports-from-secondaries): the reporter
 * reads its own callers table and sends what changed to a primary; here the primary is an
 * in-process UPDATE bench (the real handler and store) reached through an injected `send`, with
 * one clock for both. What arrives (each row's totals), what a row sent again does (nothing),
 * and what a primary that is down or refuses costs: nothing lost once it takes reports again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { ReportRow } from '../../src/map/report-codec.js';
import { CallerReporter } from '../../src/secondary/caller-report.js';
import type { SendMessage } from '../../src/secondary/caller-report-send.js';
import type { CallerRow } from '../../src/store/callers.js';
import { Store } from '../../src/store/store.js';
import { makeTsigKey } from '../../src/wire/tsig.js';
import { Rcode } from '../../src/wire/types.js';
import { PARAMS } from '../helpers/fixtures.js';
import { bench, LAMBDA, NOW, Z } from '../update/helpers.js';

const reportKey = makeTsigKey('report-key', 'hmac-sha256', Buffer.alloc(32, 3).toString('base64'));
const OTHER = '210987654321.eu-west-1.aws.psarn.internal.';
const EVERY = 30_000;
const route = (path: string, zone = Z) => ({
  zone,
  path,
  name: `${path.split('/').reverse().join('.')}.${zone}`,
});
const CREATED = route('orders/created');

function seedZone(store: Store, zone: string): void {
  store.setRoute(
    zone,
    'orders/created',
    { policy: 'weighted', ttl: 300, targets: [{ target: `${LAMBDA}v1`, weight: 1, priority: 10 }] },
    PARAMS,
  );
}

const own = (over: Partial<CallerRow> = {}): CallerRow => ({
  caller: 'orders-api',
  name: CREATED.name,
  reporter: '',
  serial: 7,
  firstSeen: NOW - 10_000,
  lastSeen: NOW - 1000,
  lookups: 5,
  ...over,
});

/** A primary bench, a secondary store, a reporter between them on one clock. */
function setup(options: { zones?: string[]; primaryZones?: string[] } = {}) {
  const primary = bench((c) => ({
    ...c,
    transfer: { ...c.transfer, allow: ['report-key'] },
    tsig: { keys: [...c.tsig.keys, reportKey] },
  }));
  for (const zone of options.primaryZones ?? [Z, OTHER]) seedZone(primary.store, zone);
  const local = Store.open(':memory:');
  for (const zone of options.zones ?? [Z, OTHER]) seedZone(local, zone);
  let down = false;
  /** Replaces the primary's answer (a Knot primary's REFUSED). */
  let answer: ((request: Buffer) => Buffer) | undefined;
  const sent: Buffer[] = [];
  const send: SendMessage = async (_to, message) => {
    sent.push(message);
    if (down) throw new Error('connect ECONNREFUSED 192.0.2.1:53');
    if (answer !== undefined) return answer(message);
    const reply = primary.handler.handle(message, 'tcp');
    assert.ok(reply !== undefined);
    return reply;
  };
  const warnings: string[] = [];
  const counts = new Map<string, number>();
  const timers: { fn: () => void; ms: number }[] = [];
  const reporter = new CallerReporter({
    rowsSince: (since) => local.callerRowsSeenSince('', since),
    hasZone: (zone) => local.zone(zone) !== undefined,
    namespace: 'psarn.internal.',
    primary: { address: { host: '192.0.2.1', port: 53 }, key: reportKey },
    everyMs: EVERY,
    persistEveryMs: 5000,
    log: pino({ level: 'silent' }),
    problems: { warn: (_fields, message) => warnings.push(message) },
    metrics: {
      callerReport: (_direction, result, rows) => {
        counts.set(result, (counts.get(result) ?? 0) + 1);
        counts.set('rows', (counts.get('rows') ?? 0) + rows);
      },
    },
    now: () => primary.time,
    timers: {
      setTimeout: (fn, ms) => timers.push({ fn, ms }),
      clearTimeout: () => {},
    },
    send,
  });
  const atPrimary = () =>
    primary.store
      .callerRows({ reporter: 'report-key' })
      .map(({ caller, name, serial, firstSeen, lastSeen, lookups }) => ({
        caller,
        name,
        serial,
        firstSeen,
        lastSeen,
        lookups,
      }));
  return {
    primary,
    local,
    reporter,
    sent,
    warnings,
    counts,
    timers,
    atPrimary,
    set down(value: boolean) {
      down = value;
    },
    set answer(value: ((request: Buffer) => Buffer) | undefined) {
      answer = value;
    },
  };
}

const noReporter = ({ reporter: _, ...row }: CallerRow): ReportRow => row;

describe('caller reports from a secondary', () => {
  it('sends its rows seen in the last two intervals to the primary, which stores them under the key, with their totals', async () => {
    const s = setup();
    const fresh = own({ caller: 'fresh', firstSeen: NOW - 1000 });
    // First seen long ago, seen again in the window: sent with its total.
    const old = own({ caller: 'old', firstSeen: NOW - 3_600_000, lookups: 1000 });
    const epoch = own({ caller: 'fresh', name: `_epoch.${OTHER}`, serial: 3, firstSeen: NOW - 2000, lookups: 2 });
    // Not sent: seen before the window, a zone this secondary does not have, no zone at all, a caller the primary would refuse.
    const stale = own({ caller: 'stale', lastSeen: NOW - 3 * EVERY - 10_000, firstSeen: NOW - 3_600_000 });
    const elsewhere = own({ name: 'created.orders.999999999999.us-east-1.aws.psarn.internal.' });
    const nowhere = own({ name: 'example.com.' });
    const spaced = own({ caller: 'has space' });
    s.local.saveCallers([fresh, old, epoch, stale, elsewhere, nowhere, spaced]);
    const result = await s.reporter.report();
    assert.deepEqual(result, { messages: 2, rows: 3, stopped: false }, 'one message per zone');
    assert.deepEqual(s.atPrimary(), [noReporter(epoch), noReporter(fresh), noReporter(old)]);
    assert.equal(s.counts.get('ok'), 2);
    assert.equal(s.counts.get('rows'), 3);
    assert.deepEqual(s.warnings, []);
  });

  it('a row read back in the overlap changes nothing at the primary; a change brings its serial and total', async () => {
    const s = setup();
    s.local.saveCallers([own({ firstSeen: NOW - 1000 })]);
    await s.reporter.report();
    const first = s.atPrimary();
    assert.deepEqual(first, [{ ...noReporter(own()), firstSeen: NOW - 1000 }]);
    s.primary.time = NOW + EVERY;
    // Within persistEvery of the watermark: sent again (a row may be written that late), counted once.
    assert.deepEqual(await s.reporter.report(), { messages: 1, rows: 1, stopped: false });
    assert.deepEqual(s.atPrimary(), first, 'nothing counted twice');
    // The secondary's map persists 4 more lookups at a newer serial.
    s.local.saveCallers([own({ serial: 8, firstSeen: NOW - 1000, lastSeen: NOW + EVERY - 500, lookups: 4 })]);
    s.primary.time = NOW + 2 * EVERY;
    assert.deepEqual(await s.reporter.report(), { messages: 1, rows: 1, stopped: false });
    assert.deepEqual(s.atPrimary(), [
      { ...noReporter(own()), firstSeen: NOW - 1000, serial: 8, lastSeen: NOW + EVERY - 500, lookups: 9 },
    ]);
  });

  it('picks up a row written late (persistEvery behind its lastSeen) in the next round', async () => {
    const s = setup();
    await s.reporter.report();
    s.primary.time = NOW + EVERY;
    // Seen before the first round, persisted after it.
    s.local.saveCallers([own({ caller: 'late', firstSeen: NOW - 3000, lastSeen: NOW - 2000 })]);
    await s.reporter.report();
    assert.deepEqual(
      s.atPrimary().map((r) => r.caller),
      ['late'],
    );
  });

  it('with the primary down: one warning, the rounds stop early; once it is back, the latest state of every row arrives', async () => {
    const s = setup();
    s.local.saveCallers([own({ firstSeen: NOW - 1000 })]);
    s.down = true;
    const first = await s.reporter.report();
    assert.equal(first.stopped, true);
    assert.equal(s.counts.get('error'), 1);
    s.primary.time = NOW + EVERY;
    s.local.saveCallers([
      own({ serial: 9, firstSeen: NOW - 1000, lastSeen: NOW + EVERY - 100, lookups: 2 }),
      own({ caller: 'during', firstSeen: NOW + 1000, lastSeen: NOW + 2000, lookups: 1 }),
    ]);
    await s.reporter.report();
    assert.equal(s.warnings.length, 2, 'one line per failed round here; the daemon rate-limits them to one an hour');
    assert.ok(s.warnings.every((w) => /no answer from the primary/.test(w)));
    assert.deepEqual(s.atPrimary(), []);
    // Back, many intervals later: the rows seen since the last round the primary took.
    s.down = false;
    s.primary.time = NOW + 20 * EVERY;
    const back = await s.reporter.report();
    assert.deepEqual(back, { messages: 1, rows: 2, stopped: false });
    assert.deepEqual(s.atPrimary(), [
      { ...noReporter(own()), caller: 'during', firstSeen: NOW + 1000, lastSeen: NOW + 2000, lookups: 1 },
      { ...noReporter(own()), firstSeen: NOW - 1000, serial: 9, lastSeen: NOW + EVERY - 100, lookups: 7 },
    ]);
  });

  it('a primary that refuses (Knot, BIND): a warning naming the rcode, nothing remembered, tried again next round', async () => {
    const s = setup();
    s.local.saveCallers([own({ firstSeen: NOW - 1000 })]);
    // A header alone: the ID, QR, opcode UPDATE, REFUSED; unsigned (as a server that does not
    // take the key for UPDATE may answer).
    s.answer = (request) => {
      const reply = Buffer.alloc(12);
      request.copy(reply, 0, 0, 2);
      reply.writeUInt16BE(0x8000 | (5 << 11) | Rcode.REFUSED, 2);
      return reply;
    };
    const refused = await s.reporter.report();
    assert.equal(refused.stopped, true);
    assert.equal(s.counts.get('refused'), 1);
    assert.match(s.warnings[0] ?? '', /caller report refused/);
    s.answer = undefined;
    s.primary.time = NOW + EVERY;
    assert.deepEqual(await s.reporter.report(), { messages: 1, rows: 1, stopped: false });
    assert.equal(s.atPrimary()[0]?.lookups, 5);
  });

  it('a zone the primary does not have (NOTAUTH) is skipped; the other zones are reported', async () => {
    const s = setup({ primaryZones: [OTHER] });
    s.local.saveCallers([
      own({ firstSeen: NOW - 1000 }),
      own({ name: route('orders/created', OTHER).name, firstSeen: NOW - 1000 }),
    ]);
    const result = await s.reporter.report();
    assert.deepEqual(result, { messages: 2, rows: 1, stopped: false });
    assert.equal(s.counts.get('notauth'), 1);
    assert.deepEqual(
      s.atPrimary().map((r) => r.name),
      [route('orders/created', OTHER).name],
    );
  });

  it('splits a large report into messages under 64 KB', async () => {
    const s = setup();
    s.local.saveCallers(
      Array.from({ length: 3000 }, (_, i) =>
        own({ caller: `caller-${i}-${'x'.repeat(60)}`, firstSeen: NOW - 1000, lookups: 1 }),
      ),
    );
    const result = await s.reporter.report();
    assert.ok(result.messages > 3, `${result.messages} messages`);
    assert.equal(result.rows, 3000);
    assert.ok(
      s.sent.every((m) => m.length < 40_000),
      `largest ${Math.max(...s.sent.map((m) => m.length))} bytes`,
    );
    assert.equal(s.atPrimary().length, 3000);
  });

  it('runs every everyMs from start() until close()', async () => {
    const s = setup();
    s.local.saveCallers([own({ firstSeen: NOW - 1000 })]);
    s.reporter.start();
    assert.equal(s.timers.length, 1);
    assert.equal(s.timers[0]!.ms, EVERY);
    s.timers[0]!.fn();
    await s.reporter.settled();
    await new Promise((r) => setImmediate(r));
    assert.equal(s.atPrimary().length, 1);
    assert.equal(s.timers.length, 2, 'the next round scheduled');
    // A reload (SIGHUP) with another reportEvery: the round after the next one waits that long.
    s.reporter.configure({ everyMs: 5000, persistEveryMs: 5000 });
    s.timers[1]!.fn();
    await s.reporter.settled();
    await new Promise((r) => setImmediate(r));
    assert.equal(s.timers[2]?.ms, 5000);
    const sentBefore = s.sent.length;
    assert.ok(sentBefore >= 1);
    s.reporter.close();
    s.timers[2]!.fn();
    await s.reporter.settled();
    assert.equal(s.sent.length, sentBefore, 'nothing sent after close()');
  });
});
