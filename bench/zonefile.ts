/**
 * The bench data set: N routes in one zone, written as an RFC 1035 master file in the layout of
 * `psarn zone export` (src/zonefile/export.ts): $ORIGIN, $TTL, SOA, NS, `_epoch` TXT, then per
 * route its URI RRset and TXT with absolute owners; and a dnsperf query file over all routes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const ZONE = `${ACCOUNT}.${REGION}.aws.psarn.internal.`;
const ROUTE_TTL = 300;
/** Lines per write: keeps a 100k-route file out of one big string. */
const LINES_PER_WRITE = 3000;

export interface BenchTarget {
  target: string;
  weight: number;
  priority: number;
}

/** Route i: path `svc<i % 100>/route<i>`. */
export function routePath(i: number): string {
  return `svc${i % 100}/route${i}`;
}

export function routePsarn(i: number): string {
  return `arn:aws:psarn:${REGION}:${ACCOUNT}:${routePath(i)}`;
}

/** The DNS name of route i (docs/design.md#dns-names-and-zones: the path reversed, under the zone). */
export function routeDnsName(i: number): string {
  return `route${i}.svc${i % 100}.${ZONE}`;
}

/** The two weighted targets route i is imported with. */
export function importedTargets(i: number): BenchTarget[] {
  const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:svc${i % 100}-route${i}`;
  return [
    { target: `${fn}-blue`, weight: 90, priority: 10 },
    { target: `${fn}-green`, weight: 10, priority: 10 },
  ];
}

/** Writes the master file of `routes` routes to `path`. */
export function writeZoneFile(path: string, routes: number): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(
      fd,
      [
        `; psarn bench zone: ${routes} routes`,
        `$ORIGIN ${ZONE}`,
        '$TTL 3600',
        `${ZONE}\t3600\tIN\tSOA\tns.psarn.internal. hostmaster.psarn.internal. 1 3600 600 86400 30`,
        `${ZONE}\t3600\tIN\tNS\tns.psarn.internal.`,
        `_epoch.${ZONE}\t5\tIN\tTXT\t"epoch=1"`,
        '',
      ].join('\n'),
    );
    let lines: string[] = [];
    for (let i = 0; i < routes; i++) {
      const name = routeDnsName(i);
      for (const t of importedTargets(i)) {
        lines.push(`${name}\t${ROUTE_TTL}\tIN\tURI\t${t.priority} ${t.weight} "${t.target}"`);
      }
      lines.push(`${name}\t${ROUTE_TTL}\tIN\tTXT\t"v=psarn1" "policy=weighted" "epoch=1"`);
      if (lines.length >= LINES_PER_WRITE) {
        writeSync(fd, `${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a dnsperf query file: one `NAME URI` line per route, shuffled with a seeded generator
 * (the same order on every run, so runs compare).
 */
export function writeQueryFile(path: string, routes: number, seed = 1): void {
  const order = Array.from({ length: routes }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < order.length; at += LINES_PER_WRITE) {
      const chunk = order.slice(at, at + LINES_PER_WRITE).map((i) => `${routeDnsName(i).slice(0, -1)} URI\n`);
      writeSync(fd, chunk.join(''));
    }
  } finally {
    closeSync(fd);
  }
}

/** A small seeded PRNG (mulberry32): the same shuffle, and the same query files, on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
