/**
 * The caller report codec (docs/design.md#caller-reports-from-secondaries): rows round-trip
 * through the TXT strings of `_callers.<zone>` records, batches stay under the byte limit, and
 * the decoder (the primary's gate) refuses every hostile row with a ReportError naming it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeReport,
  REPORT_JSON_BYTES,
  ReportError,
  type ReportRow,
  reportableRow,
  reportName,
  reportRecords,
} from '../../src/map/report-codec.js';
import { encodeControl } from '../../src/ops/control.js';
import { Class, Type } from '../../src/wire/types.js';
import { txtStrings } from '../../src/wire/update.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const NOW = 1_800_000_000_000;

const row = (over: Partial<ReportRow> = {}): ReportRow => ({
  caller: 'orders-api',
  name: `created.orders.${Z}`,
  serial: 2026120301,
  firstSeen: NOW - 60_000,
  lastSeen: NOW - 1000,
  lookups: 12,
  ...over,
});

/** The strings of a report carrying `rows` as JSON tuples, as a peer could write them. */
const raw = (rows: unknown, verb = 'report') => encodeControl(verb, { rows });
const decode = (strings: Uint8Array[]) => decodeReport(Z, strings, { now: NOW });

describe('caller report codec', () => {
  it('round-trips rows: relative names on the wire, absolute after, the apex and _epoch too', () => {
    const rows = [
      row(),
      row({ caller: 'billing-worker', name: `_epoch.${Z}`, serial: 0, lookups: 0 }),
      row({ caller: 'x!~', name: Z, serial: 4294967295, firstSeen: 0, lastSeen: 0 }),
    ];
    const [message, ...more] = reportRecords(Z, rows);
    assert.equal(more.length, 0);
    assert.equal(message!.rows, 3);
    const { record } = message!;
    assert.equal(record.name, reportName(Z));
    assert.equal(record.name, `_callers.${Z}`);
    assert.equal(record.type, Type.TXT);
    assert.equal(record.klass, Class.IN);
    assert.equal(record.ttl, 0);
    const strings = txtStrings(record.rdata!);
    assert.equal(strings[0]!.toString(), 'v=psarn1');
    assert.equal(strings[1]!.toString(), 'op=report');
    const json = Buffer.concat(strings.slice(2)).toString();
    assert.ok(json.includes('"created.orders"') && !json.includes(Z), json);
    assert.deepEqual(decode(strings), rows);
  });

  it('splits into messages of at most REPORT_JSON_BYTES of JSON, every row once, in order', () => {
    const rows = Array.from({ length: 2000 }, (_, i) =>
      row({ caller: `caller-${i}-${'c'.repeat(100)}`, name: `r${i}.orders.${Z}`, lookups: i }),
    );
    const messages = reportRecords(Z, rows);
    assert.ok(messages.length > 5, `${messages.length} messages`);
    const back: ReportRow[] = [];
    for (const m of messages) {
      const strings = txtStrings(m.record.rdata!);
      const jsonBytes = strings.slice(2).reduce((n, s) => n + s.length, 0);
      assert.ok(jsonBytes <= REPORT_JSON_BYTES, `${jsonBytes} bytes`);
      assert.ok(strings.every((s) => s.length <= 255));
      const decoded = decode(strings);
      assert.equal(decoded.length, m.rows);
      back.push(...decoded);
    }
    assert.deepEqual(back, rows);
  });

  it('clamps a lastSeen in the future to now, and a firstSeen after lastSeen to lastSeen', () => {
    const [m] = reportRecords(Z, [row({ firstSeen: NOW + 9e9, lastSeen: NOW + 8e9 })]);
    const [decoded] = decode(txtStrings(m!.record.rdata!));
    assert.equal(decoded!.lastSeen, NOW);
    assert.equal(decoded!.firstSeen, NOW);
  });

  it('lowercases a name sent in upper case', () => {
    const [decoded] = decode(raw([['a', 'Created.ORDERS', 1, 1, 2, 3]]));
    assert.equal(decoded!.name, `created.orders.${Z}`);
  });

  const hostile: [string, unknown, RegExp][] = [
    ['an empty caller', [['', 'x', 1, 1, 2, 3]], /row 0: the caller is 1-128 visible ASCII/],
    ['a caller of 129 bytes', [['c'.repeat(129), 'x', 1, 1, 2, 3]], /row 0: the caller/],
    ['a caller with a space', [['a b', 'x', 1, 1, 2, 3]], /row 0: the caller/],
    ['a caller with a control byte', [['a\u0000', 'x', 1, 1, 2, 3]], /row 0: the caller/],
    ['a caller with a newline', [['a\nb', 'x', 1, 1, 2, 3]], /row 0: the caller/],
    ['a non-ASCII caller', [['café', 'x', 1, 1, 2, 3]], /row 0: the caller/],
    ['a caller that is a number', [[7, 'x', 1, 1, 2, 3]], /row 0: the caller/],
    ['a name that is not a string', [['a', null, 1, 1, 2, 3]], /row 0: the name is a string/],
    ['an empty label', [['a', 'x..y', 1, 1, 2, 3]], /row 0: the name is labels/],
    ['a trailing dot (an absolute name)', [['a', `x.${Z}`, 1, 1, 2, 3]], /row 0: the name is labels/],
    ['a label of 64 bytes', [['a', 'l'.repeat(64), 1, 1, 2, 3]], /row 0: the name/],
    ['a name over 255 characters', [['a', Array(5).fill('l'.repeat(60)).join('.'), 1, 1, 2, 3]], /row 0: the name/],
    ['a name with a space', [['a', 'x y', 1, 1, 2, 3]], /row 0: the name/],
    ['a negative serial', [['a', 'x', -1, 1, 2, 3]], /row 0: the serial is an integer/],
    ['a serial over 32 bits', [['a', 'x', 2 ** 32, 1, 2, 3]], /row 0: the serial/],
    ['a fractional lookups', [['a', 'x', 1, 1, 2, 1.5]], /row 0: lookups/],
    ['lookups as a string', [['a', 'x', 1, 1, 2, '3']], /row 0: lookups/],
    ['a time past 8.64e15', [['a', 'x', 1, 1, 9e15, 3]], /row 0: lastSeen/],
    ['a negative firstSeen', [['a', 'x', 1, -5, 2, 3]], /row 0: firstSeen/],
    ['a short tuple', [['a', 'x', 1, 1, 2]], /row 0: is \[caller, name/],
    ['an object row', [{ caller: 'a' }], /row 0: is \[caller/],
    [
      'the second row bad',
      [
        ['a', 'x', 1, 1, 2, 3],
        ['a', 'x', 1, 1, 2, -3],
      ],
      /row 1: lookups/,
    ],
    ['rows not an array', { a: 1 }, /a report is \{"rows": \[\.\.\.\]\}/],
  ];
  for (const [what, rows, message] of hostile) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => decode(raw(rows)),
        (err: unknown) => err instanceof ReportError && err.code === 'ERR_CALLER_REPORT' && message.test(err.message),
      );
    });
  }

  it('refuses bad JSON, another verb, another version', () => {
    const strings = raw([]);
    const cut = [...strings.slice(0, 2), Buffer.from('{"rows":[')];
    assert.throws(
      () => decode(cut),
      (err: unknown) => err instanceof ReportError && /not JSON/.test(err.message),
    );
    assert.throws(() => decode(raw([], 'start')), /op=report, not op=start/);
    assert.throws(
      () => decode([Buffer.from('v=psarn2'), ...strings.slice(1)]),
      (err: unknown) => err instanceof ReportError && /starts with "v=psarn1"/.test(err.message),
    );
    assert.throws(() => decode([]), ReportError);
    assert.throws(() => decode([Buffer.from('v=psarn1'), Buffer.from('op=report'), Buffer.from('[1]')]), ReportError);
  });

  it('reportableRow: what a secondary sends is what the primary takes', () => {
    assert.equal(reportableRow(row(), Z), true);
    assert.equal(reportableRow(row({ caller: 'a b' }), Z), false);
    assert.equal(reportableRow(row({ caller: 'c'.repeat(200) }), Z), false);
    assert.equal(reportableRow(row({ name: 'created.orders.other.' }), Z), false);
    assert.equal(reportableRow(row({ lookups: -1 }), Z), false);
  });
});
