/**
 * Client figures (the client issue): cached resolve + pick on one core, and the uncached
 * resolve round trip to a local psarnd (p50, p99). In this process, against the running daemon.
 */
import { performance } from 'node:perf_hooks';
import { RouteResolver } from '../src/client/resolver.js';
import { pickWeighted } from '../src/client/selection.js';
import type { HostPort } from './proc.js';
import { fmt, percentile, type Row } from './table.js';

const CACHED_CALLS = 2_000_000;
const UNCACHED_CALLS = 5_000;

export async function measureClient(dns: HostPort, psarn: string): Promise<Row[]> {
  const servers = [`${dns.host}:${dns.port}`];

  // Cached: one miss, then every call is a hit; the pick is the weighted selection of each event.
  const cached = new RouteResolver({ servers });
  await cached.resolve(psarn);
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += pickWeighted((await cached.resolve(psarn)).targets, Math.random); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < CACHED_CALLS; i++) sink += pickWeighted((await cached.resolve(psarn)).targets, Math.random);
  const cachedPerSecond = CACHED_CALLS / ((performance.now() - t0) / 1000);

  // Uncached: maxTtl 0 means nothing is cached, so every resolve is a DNS round trip.
  const uncached = new RouteResolver({ servers, maxTtl: 0 });
  for (let i = 0; i < 200; i++) await uncached.resolve(psarn); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < UNCACHED_CALLS; i++) {
    const start = performance.now();
    sink += (await uncached.resolve(psarn)).targets.length;
    samples.push((performance.now() - start) * 1000);
  }
  if (sink < 0) throw new Error('unreachable');
  return [
    {
      figure: 'client: cached resolve + pick',
      value: fmt(cachedPerSecond),
      unit: 'ops/s',
      notes: `${fmt(CACHED_CALLS)} × (await resolve(psARN) + pickWeighted), one core; goal ≥ 2,000,000`,
    },
    {
      figure: 'client: uncached resolve p50',
      value: fmt(percentile(samples, 50)),
      unit: 'µs',
      notes: `${fmt(UNCACHED_CALLS)} sequential resolves with maxTtl 0 (UDP round trip to psarnd); goal ≤ 100`,
    },
    { figure: 'client: uncached resolve p99', value: fmt(percentile(samples, 99)), unit: 'µs', notes: '' },
  ];
}
