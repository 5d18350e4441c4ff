/**
 * The side-by-side verdicts of `npm run bench`: the bounds per reference server (PowerDNS:
 * targets and goals; Knot: issue 8's goals) and which ratio rows reach the summary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RoundResult, sideBySideRows, TARGETS, verdict } from '../../bench/servers.js';
import type { Row } from '../../bench/table.js';

function round(udp: number, tcp: number, cpuUs: number): RoundResult {
  const stats = (qps: number) => ({ sent: qps, completed: qps, lost: 0, qps, avgLatencyMs: 1, runSeconds: 10 });
  return {
    udp: stats(udp),
    tcp: stats(tcp),
    cpu: { qps: 20_000, completed: 200_000, lost: 0, avgLatencyMs: 1, cpuUsPerQuery: cpuUs, how: 'test' },
  };
}

function byFigure(rows: readonly Row[], figure: string): Row {
  const row = rows.find((r) => r.figure === figure);
  assert.ok(row, `no row '${figure}' in: ${rows.map((r) => r.figure).join(' | ')}`);
  return row;
}

describe('verdict', () => {
  it('states a goal-only bound (the Knot goals) as meets goal / MISSES GOAL, at the bound inclusive', () => {
    const higher = { goal: 1.0, higherIsBetter: true };
    assert.equal(verdict(1.0, higher), 'goal ≥ 1.0×: meets goal');
    assert.equal(verdict(0.99, higher), 'goal ≥ 1.0×: MISSES GOAL');
    const lower = { goal: 1.0, higherIsBetter: false };
    assert.equal(verdict(1.0, lower), 'goal ≤ 1.0×: meets goal');
    assert.equal(verdict(1.01, lower), 'goal ≤ 1.0×: MISSES GOAL');
  });

  it('keeps the target-and-goal wording for PowerDNS', () => {
    const udp = TARGETS['pdns-gsqlite3']!.udp!;
    assert.equal(verdict(1.2, udp), 'target ≥ 0.7×, goal ≥ 1.0×: meets target and goal');
    assert.equal(verdict(0.8, udp), 'target ≥ 0.7×, goal ≥ 1.0×: meets target, not yet the goal');
    assert.equal(verdict(0.6, udp), 'target ≥ 0.7×, goal ≥ 1.0×: MISSES TARGET');
    assert.equal(verdict(Number.NaN, udp), 'n/a');
  });

  it('bounds UDP QPS ≥ 1.0× and CPU per query ≤ 1.0× against Knot, and nothing for TCP', () => {
    assert.equal(TARGETS.knot?.tcp, undefined);
    assert.deepEqual(TARGETS.knot, {
      udp: { goal: 1.0, higherIsBetter: true },
      cpu: { goal: 1.0, higherIsBetter: false },
    });
    assert.equal(TARGETS['pdns-gsqlite3']!.tcp, undefined);
  });
});

describe('sideBySideRows', () => {
  const order = ['psarnd', 'psarnd --workers 2', 'knot', 'pdns-gsqlite3'];
  const psarnds = ['psarnd', 'psarnd --workers 2'];
  const references = ['knot', 'pdns-gsqlite3'];

  it('gives each one-process ratio against Knot and PowerDNS its verdict, and only those to the summary', () => {
    const results = new Map([
      ['psarnd', [round(130_000, 200_000, 15)]],
      ['psarnd --workers 2', [round(120_000, 190_000, 21)]],
      ['knot', [round(140_000, 85_000, 10)]],
      ['pdns-gsqlite3', [round(110_000, 115_000, 13)]],
    ]);
    const bounded: Row[] = [];
    const rows = sideBySideRows({ order, psarnds, references, results, skipped: new Map(), bounded });

    assert.match(byFigure(rows, 'UDP ratio psarnd / knot').notes, /goal ≥ 1\.0×: MISSES GOAL$/);
    assert.match(byFigure(rows, 'CPU ratio psarnd / knot').notes, /goal ≤ 1\.0×: MISSES GOAL$/);
    assert.match(byFigure(rows, 'UDP ratio psarnd / pdns-gsqlite3').notes, /meets target and goal$/);
    assert.match(byFigure(rows, 'CPU ratio psarnd / pdns-gsqlite3').notes, /meets target, not yet the goal$/);
    assert.equal(byFigure(rows, 'UDP ratio psarnd / knot').value, '0.93');
    assert.match(byFigure(rows, 'TCP ratio psarnd / knot').notes, /reported, no target/);
    assert.deepEqual(
      bounded.map((r) => r.figure),
      [
        'UDP ratio psarnd / knot',
        'UDP ratio psarnd / pdns-gsqlite3',
        'CPU ratio psarnd / knot',
        'CPU ratio psarnd / pdns-gsqlite3',
      ],
    );
  });

  it('meets the Knot goals when psarnd is as fast and as cheap', () => {
    const results = new Map([
      ['psarnd', [round(140_000, 1, 10)]],
      ['knot', [round(140_000, 1, 10)]],
    ]);
    const rows = sideBySideRows({
      order: ['psarnd', 'knot'],
      psarnds: ['psarnd'],
      references: ['knot'],
      results,
      skipped: new Map(),
    });
    assert.match(byFigure(rows, 'UDP ratio psarnd / knot').notes, /goal ≥ 1\.0×: meets goal$/);
    assert.match(byFigure(rows, 'CPU ratio psarnd / knot').notes, /goal ≤ 1\.0×: meets goal$/);
  });

  it('still reports a bounded ratio, as skipped with the reason, when Knot was not measured', () => {
    const results = new Map([['psarnd', [round(130_000, 200_000, 15)]]]);
    const bounded: Row[] = [];
    const skipped = new Map([['knot', 'knotd not on PATH']]);
    const rows = sideBySideRows({
      order: ['psarnd', 'knot'],
      psarnds: ['psarnd'],
      references: ['knot'],
      results,
      skipped,
      bounded,
    });
    assert.equal(byFigure(rows, 'UDP saturation: knot').notes, 'skipped: knotd not on PATH');
    assert.deepEqual(
      bounded.map((r) => [r.figure, r.value]),
      [
        ['UDP ratio psarnd / knot', 'skipped'],
        ['CPU ratio psarnd / knot', 'skipped'],
      ],
    );
    assert.match(bounded[0]!.notes, /knot not measured/);
  });
});
