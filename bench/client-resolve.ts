/**
 * Uncached resolve latency of the client library alone (issue 8, defect 5.8: the cost of
 * source-port randomization), without the whole bench: starts psarnd on a fresh database with
 * one route, then runs `rounds` rounds of `calls` sequential resolves with maxTtl 0 (every
 * resolve is one UDP round trip) and prints p50/p99 of each round and of all samples.
 *
 *   npm run build && node dist/bench/client-resolve.js [calls=5000] [rounds=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RouteResolver } from '../src/client/resolver.js';
import { psarnCli, startPsarnd } from './proc.js';
import { fmt, percentile } from './table.js';

const PSARN = 'arn:aws:psarn:us-east-1:123456789012:orders/created';

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 5000);
  const rounds = Number(process.argv[3] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'psarn-client-resolve-'));
  const db = join(dir, 'routes.db');
  await psarnCli(db, ['db', 'init']);
  await psarnCli(db, [
    'route',
    'set',
    PSARN,
    '--target',
    'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1',
  ]);
  const daemon = await startPsarnd(db);
  try {
    const resolver = new RouteResolver({ servers: [`${daemon.dns.host}:${daemon.dns.port}`], maxTtl: 0 });
    for (let i = 0; i < 500; i++) await resolver.resolve(PSARN); // warm-up
    const all: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const samples: number[] = [];
      for (let i = 0; i < calls; i++) {
        const start = performance.now();
        await resolver.resolve(PSARN);
        samples.push((performance.now() - start) * 1000);
      }
      all.push(...samples);
      console.log(`round ${r + 1}: p50 ${fmt(percentile(samples, 50))} µs, p99 ${fmt(percentile(samples, 99))} µs`);
    }
    console.log(`all ${fmt(all.length)}: p50 ${fmt(percentile(all, 50))} µs, p99 ${fmt(percentile(all, 99))} µs`);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
