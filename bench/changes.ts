/**
 * Change-to-served latency: the real CLI changes one route (`route set`, alternating between
 * two target sets); once the CLI process has exited (its transaction committed), a prober asks
 * psarnd in a bounded tight loop until it serves the new set. The time from exit to that first
 * right answer is one sample.
 */
import { targetKey, UdpProbe } from './probe.js';
import { type HostPort, psarnCli } from './proc.js';
import { type BenchTarget, routeDnsName, routePsarn } from './zonefile.js';

export interface ChangeLatency {
  /** Exit of the CLI to the first right answer, ms, in change order. */
  samples: number[];
  /** Changes whose new set was not seen before the per-change deadline. */
  missed: number;
  /** Mean wall time of one `psarn route set` process, ms. */
  cliMs: number;
}

/** The two sets the route alternates between (neither is the imported set). */
function targetSets(route: number): [BenchTarget[], BenchTarget[]] {
  const fn = `arn:aws:lambda:us-east-1:123456789012:function:changed-route${route}`;
  return [
    [
      { target: `${fn}-a`, weight: 70, priority: 10 },
      { target: `${fn}-b`, weight: 30, priority: 10 },
    ],
    [
      { target: `${fn}-a`, weight: 30, priority: 10 },
      { target: `${fn}-b`, weight: 70, priority: 10 },
    ],
  ];
}

export async function measureChangeLatency(
  db: string,
  server: HostPort,
  options: { route: number; changes: number; deadlineMs: number },
): Promise<ChangeLatency> {
  const sets = targetSets(options.route);
  const name = routeDnsName(options.route);
  const probe = new UdpProbe(server);
  const samples: number[] = [];
  let missed = 0;
  let cliTotal = 0;
  try {
    for (let i = 0; i < options.changes; i++) {
      const set = sets[i % 2]!;
      const args = [
        'route',
        'set',
        routePsarn(options.route),
        ...set.flatMap((t) => ['--target', `${t.target}=${t.weight}`]),
      ];
      const run = await psarnCli(db, args, 60_000);
      cliTotal += run.ms;
      const servedAt = await probe.waitFor(name, targetKey(set), {
        maxTries: 100_000,
        deadline: run.exitedAt + options.deadlineMs,
        timeoutMs: 250,
      });
      if (servedAt === undefined) missed++;
      else samples.push(servedAt - run.exitedAt);
    }
  } finally {
    probe.close();
  }
  return { samples, missed, cliMs: cliTotal / Math.max(1, options.changes) };
}
