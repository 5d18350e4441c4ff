/**
 * Caller reports at the primary (docs/design.md#caller-reports-from-secondaries), with raw UPDATE
 * messages through the handler: a report signed by a key of transfer.allow is stored in the
 * callers table under the key's name and never as records; every other sender, an unreadable
 * report, a zone it does not have are refused with nothing stored; a reporter's rows are bounded
 * by callers.maxEntries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/config.js';
import { type ReportRow, reportName, reportRecords } from '../../src/map/report-codec.js';
import { encodeControl } from '../../src/ops/control.js';
import { REPORT_TRIM_EVERY_MS } from '../../src/server/update.js';
import { makeTsigKey } from '../../src/wire/tsig.js';
import { Class, Rcode, Type } from '../../src/wire/types.js';
import { addRecord, txtRdata, type UpdateRecordSpec } from '../../src/wire/update.js';
import { PARAMS } from '../helpers/fixtures.js';
import { at, bench, LAMBDA, NOW, updateKey, uri, Z } from '../update/helpers.js';

const reportKey = makeTsigKey('Report-Key.', 'hmac-sha256', Buffer.alloc(32, 3).toString('base64'));
const strangerKey = makeTsigKey('stranger', 'hmac-sha256', Buffer.alloc(32, 4).toString('base64'));
const OTHER = '210987654321.eu-west-1.aws.psarn.internal.';

function primary(configure: (c: Config) => Config = (c) => c) {
  const b = bench((c) =>
    configure({
      ...c,
      transfer: { ...c.transfer, allow: ['report-key'] },
      tsig: { keys: [...c.tsig.keys, reportKey] },
    }),
  );
  // Written to the store directly: a secondary takes no UPDATE.
  b.store.setRoute(
    Z,
    'orders/created',
    { policy: 'weighted', ttl: 300, targets: [{ target: `${LAMBDA}v1`, weight: 1, priority: 10 }] },
    PARAMS,
  );
  return b;
}

const row = (over: Partial<ReportRow> = {}): ReportRow => ({
  caller: 'orders-api',
  name: at('created.orders'),
  serial: 7,
  firstSeen: NOW - 60_000,
  lastSeen: NOW - 1000,
  lookups: 5,
  ...over,
});

/** The one update RR of a report of `rows`. */
const report = (rows: ReportRow[], zone = Z): UpdateRecordSpec => {
  const messages = reportRecords(zone, rows);
  assert.equal(messages.length, 1);
  return messages[0]!.record;
};

const stored = (b: ReturnType<typeof bench>, reporter = 'report-key') =>
  b.store.callerRows({ reporter }).map(({ caller, name, serial, firstSeen, lastSeen, lookups }) => ({
    caller,
    name,
    serial,
    firstSeen,
    lastSeen,
    lookups,
  }));

const counter = async (b: ReturnType<typeof bench>, labels: string) => {
  const text = await b.metrics.registry.metrics();
  const m = new RegExp(`^psarn_callers_reports_total\\{${labels}\\} (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
};

describe('caller reports at the primary', () => {
  it("stores a transfer.allow key's report under the key's name (lowercase, no dot), never as records", async () => {
    const b = primary();
    const serial = b.serial();
    const changed = b.changed;
    const rows = [row(), row({ caller: 'billing', name: at('_epoch'), serial: 6, lookups: 1 })];
    const reply = b.send({ updates: [report(rows)] }, { key: reportKey, proto: 'tcp' });
    assert.equal(reply.rcode, Rcode.NOERROR, JSON.stringify(reply.ede));
    assert.ok(reply.signed, 'the answer is signed with the key');
    assert.deepEqual(
      stored(b),
      [...rows].sort((x, y) => x.name.localeCompare(y.name)),
    );
    assert.deepEqual(b.store.callerRows({ reporter: '' }), [], "nothing under this psarnd's own callers");
    assert.equal(b.serial(), serial, 'no serial bump: nothing served changes');
    assert.equal(b.changed, changed);
    assert.equal(b.store.getRoute(Z, '_callers'), undefined);
    assert.equal(await counter(b, 'direction="received",result="ok"'), 1);
    assert.match(await b.metrics.registry.metrics(), /psarn_callers_report_rows_total\{direction="received"\} 2/);
  });

  it("merges a later report: the newer lastSeen brings its serial and the secondary's total lookups; a repeat or an older one changes nothing", () => {
    const b = primary();
    assert.equal(b.send({ updates: [report([row()])] }, { key: reportKey }).rcode, Rcode.NOERROR);
    const newer = row({ serial: 9, lastSeen: NOW - 10, lookups: 12 });
    assert.equal(b.send({ updates: [report([newer])] }, { key: reportKey }).rcode, Rcode.NOERROR);
    assert.deepEqual(stored(b), [newer]);
    // The same report again (a secondary reads an overlap back each round): nothing counted twice.
    assert.equal(b.send({ updates: [report([newer])] }, { key: reportKey }).rcode, Rcode.NOERROR);
    assert.deepEqual(stored(b), [newer]);
    // A late, older report: neither the serial, the lookups nor the lastSeen go back.
    assert.equal(
      b.send({ updates: [report([row({ lastSeen: NOW - 500, lookups: 1 })])] }, { key: reportKey }).rcode,
      Rcode.NOERROR,
    );
    assert.deepEqual(stored(b), [newer]);
  });

  it('clamps a lastSeen in the future to the clock', () => {
    const b = primary();
    b.send({ updates: [report([row({ lastSeen: NOW + 86_400_000 })])] }, { key: reportKey });
    assert.equal(stored(b)[0]?.lastSeen, NOW);
  });

  it('refuses an unsigned report, a key it does not know, a key of update.allow only: nothing stored', async () => {
    const b = primary();
    const unsigned = b.send({ updates: [report([row()])] }, { key: null });
    assert.equal(unsigned.rcode, Rcode.REFUSED);
    assert.equal(unsigned.ede[0]?.code, 18);
    const stranger = b.send({ updates: [report([row()])] }, { key: strangerKey });
    assert.equal(stranger.rcode, Rcode.NOTAUTH, 'BADKEY (RFC 8945 §5.2.1)');
    const writer = b.send({ updates: [report([row()])] }, { key: updateKey });
    assert.equal(writer.rcode, Rcode.REFUSED);
    assert.deepEqual(writer.ede[0], {
      code: 18,
      text: 'key update-key may not report callers: it is not in transfer.allow',
    });
    assert.deepEqual(b.store.callerRows(), []);
    assert.equal(await counter(b, 'direction="received",result="refused"'), 1);
  });

  it('refuses a report on a secondary (REFUSED, EDE 18 naming its primary)', () => {
    const b = primary((c) => ({ ...c, secondary: { primary: { host: '192.0.2.1', port: 53 }, zones: [Z] } }));
    const reply = b.send({ updates: [report([row()])] }, { key: reportKey });
    assert.equal(reply.rcode, Rcode.REFUSED);
    assert.match(reply.ede[0]?.text ?? '', /this server is a secondary of 192\.0\.2\.1:53/);
    assert.deepEqual(b.store.callerRows(), []);
  });

  it('refuses reports when the map is off (callers.maxEntries: 0)', () => {
    const b = primary((c) => ({ ...c, callers: { ...c.callers, maxEntries: 0 } }));
    const reply = b.send({ updates: [report([row()])] }, { key: reportKey });
    assert.equal(reply.rcode, Rcode.REFUSED);
    assert.match(reply.ede[0]?.text ?? '', /caller map is off/);
  });

  it('answers NOTAUTH for a zone it does not have, NOTZONE for a name outside the zone, FORMERR below the apex', async () => {
    const b = primary();
    const none = b.send({ zone: OTHER, updates: [report([row({ name: `x.${OTHER}` })], OTHER)] }, { key: reportKey });
    assert.equal(none.rcode, Rcode.NOTAUTH);
    assert.match(none.ede[0]?.text ?? '', /no zone 210987654321/);
    const outside = b.send({ updates: [report([row({ name: `x.${OTHER}` })], OTHER)] }, { key: reportKey });
    assert.equal(outside.rcode, Rcode.NOTZONE);
    const below: UpdateRecordSpec = { ...report([row()]), name: `_callers.orders.${Z}` };
    const deep = b.send({ updates: [below] }, { key: reportKey });
    assert.equal(deep.rcode, Rcode.FORMERR);
    assert.match(deep.ede[0]?.text ?? '', /at _callers\.<zone>, the zone's apex/);
    assert.deepEqual(b.store.callerRows(), []);
    assert.equal(await counter(b, 'direction="received",result="notauth"'), 2);
    assert.equal(await counter(b, 'direction="received",result="formerr"'), 1);
  });

  it('answers FORMERR naming the problem, stores nothing: a hostile row, bad JSON, another RR beside it, not TXT', () => {
    const b = primary();
    const txtAt = (strings: Buffer[]): UpdateRecordSpec => ({
      name: reportName(Z),
      type: Type.TXT,
      klass: Class.IN,
      ttl: 0,
      rdata: txtRdata(strings),
    });
    const cases: [UpdateRecordSpec[], RegExp][] = [
      [
        [
          txtAt(
            encodeControl('report', {
              rows: [
                ['orders-api', 'created.orders', 7, 1, 2, 3],
                ['bad caller', 'x', 1, 1, 2, 3],
              ],
            }),
          ),
        ],
        /report row 1: the caller is 1-128 visible ASCII/,
      ],
      [[txtAt([Buffer.from('v=psarn1'), Buffer.from('op=report'), Buffer.from('{"rows":[')])], /not JSON/],
      [[report([row()]), addRecord(uri('other.orders', `${LAMBDA}v2`))], /one TXT RR at _callers/],
      [[{ ...report([row()]), ttl: 300 }], /TXT RR of class IN and TTL 0/],
      [[{ name: reportName(Z), type: Type.A, klass: Class.IN, ttl: 0, rdata: Buffer.from([192, 0, 2, 1]) }], /TXT/],
    ];
    for (const [updates, message] of cases) {
      const reply = b.send({ updates }, { key: reportKey });
      assert.equal(reply.rcode, Rcode.FORMERR, message.source);
      assert.match(reply.ede[0]?.text ?? '', message);
    }
    assert.deepEqual(b.store.callerRows(), []);
    assert.equal(b.route('other.orders'), undefined);
  });

  it("bounds one reporter's rows by callers.maxEntries: the least recent deleted, at most every 10 s", () => {
    const b = primary((c) => ({ ...c, callers: { ...c.callers, maxEntries: 5 } }));
    const rows = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => row({ caller: `c${from + i}`, lastSeen: NOW - 100_000 + (from + i) * 1000 }));
    // Another reporter's rows and this psarnd's own are not touched.
    b.store.saveCallers([
      { ...row({ caller: 'own' }), reporter: '' },
      { ...row({ caller: 'peer' }), reporter: 'peer' },
    ]);
    assert.equal(b.send({ updates: [report(rows(0, 8))] }, { key: reportKey }).rcode, Rcode.NOERROR);
    assert.deepEqual(
      stored(b).map((r) => r.caller),
      ['c3', 'c4', 'c5', 'c6', 'c7'],
      'the first report trims: the 5 most recent stay',
    );
    b.time = NOW + 1000;
    assert.equal(b.send({ updates: [report(rows(8, 2))] }, { key: reportKey }).rcode, Rcode.NOERROR);
    assert.equal(stored(b).length, 7, 'within 10 s of the last trim: not trimmed yet');
    b.time = NOW + REPORT_TRIM_EVERY_MS + 1000;
    assert.equal(b.send({ updates: [report(rows(10, 1))] }, { key: reportKey }).rcode, Rcode.NOERROR);
    assert.deepEqual(
      stored(b).map((r) => r.caller),
      ['c10', 'c6', 'c7', 'c8', 'c9'],
    );
    assert.equal(b.store.callerRows({ reporter: '' }).length, 1);
    assert.equal(b.store.callerRows({ reporter: 'peer' }).length, 1);
  });
});
