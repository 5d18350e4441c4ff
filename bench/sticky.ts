/**
 * Sticky picks (docs/design.md#sticky-picks): what one pickSticky costs beside the random
 * pickWeighted, for routes of 2, 3 and 10 Lambda targets and 36-character keys (a UUID), on one
 * core. Pure CPU, no daemon: `npm run build && node dist/bench/sticky.js`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pickWeighted } from '../src/client/selection.js';
import { pickSticky } from '../src/client/sticky.js';
import type { RouteTarget } from '../src/client/types.js';
import { fmt, formatTable, type Row } from './table.js';

const PICKS = 2_000_000;
const KEYS = 4096;

const route = (n: number): RouteTarget[] =>
  Array.from({ length: n }, (_, i) => ({
    target: `arn:aws:lambda:us-east-1:123456789012:function:orders-created-v${i + 1}`,
    priority: 10,
    weight: 100 - i,
  }));

// UUID-shaped keys, made up front so the loop measures the pick, not the key.
const keys = Array.from({ length: KEYS }, (_, i) => {
  const h = (i * 2654435761).toString(16).padStart(8, '0').slice(-8);
  return `${h}-1234-4abc-8def-${h}${h.slice(0, 4)}`;
});

/** ns per call of `pick`, after a warm-up. */
function time(pick: (i: number) => number): number {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += pick(i);
  const t0 = performance.now();
  for (let i = 0; i < PICKS; i++) sink += pick(i);
  const ns = ((performance.now() - t0) * 1e6) / PICKS;
  if (sink < 0) throw new Error('unreachable');
  return ns;
}

export function measureSticky(): Row[] {
  const rows: Row[] = [];
  for (const n of [2, 3, 10]) {
    const targets = route(n);
    const ns = time((i) => pickSticky(targets, keys[i & (KEYS - 1)]!));
    rows.push({
      figure: `client: sticky pick, ${n} targets`,
      value: fmt(ns),
      unit: 'ns',
      notes: `pickSticky(targets, 36-char key): the key hashed once, then a mix and a log per target; ${fmt(1e9 / ns)} picks/s on one core`,
    });
  }
  const three = route(3);
  const ns = time(() => pickWeighted(three, Math.random));
  rows.push({
    figure: 'client: random pick, 3 targets',
    value: fmt(ns),
    unit: 'ns',
    notes: 'pickWeighted(targets, Math.random), for comparison',
  });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${formatTable(measureSticky())}\n`);
}
