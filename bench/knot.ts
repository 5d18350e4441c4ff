/**
 * Knot DNS loading a zone file, timed: the 1M case's reference for "ready to answer from memory".
 * knotd is configured the way anchors.sh configures it (one UDP, one TCP and one background
 * worker, no journal, no zone-file flush), but on a free port of 127.0.0.1 and in a directory of
 * its own, and spawned by us, so its spawn time is ours to take. The figure is spawn to the first
 * right URI answer for a route, asked with the bench's UdpProbe: Knot answers for a zone only
 * once it has loaded the whole file (it swaps the loaded zone in at once), so that first right
 * answer is "loaded".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { UdpProbe } from './probe.js';
import { procStatusKiB, which } from './proc.js';

/**
 * Pause after a wrong answer (SERVFAIL or REFUSED while the zone loads). A tight loop would be a
 * second load of several thousand queries per second on the 2-core machine, competing with the
 * loader; 10 ms of pacing is the resolution of the figure, against seconds of loading.
 */
export const KNOT_PROBE_INTERVAL_MS = 10;
/**
 * Per ask. A query sent before knotd has bound its socket is lost without an error (an
 * unconnected UDP socket gets no ICMP report), so this bounds what such a loss adds to the figure.
 */
const ASK_TIMEOUT_MS = 100;
/** A knotd that exits at once because the free port was taken meanwhile is started again. */
const START_ATTEMPTS = 3;

export interface KnotLoad {
  /** performance.now() ms from spawn of knotd to the first right answer. */
  ms: number;
  pid: number;
  port: number;
  /** VmHWM of knotd just after the first right answer (KiB), undefined off Linux. */
  peakKiB: number | undefined;
}

export type KnotLoadResult = { ok: true; load: KnotLoad } | { ok: false; why: string };

/**
 * A port free for both UDP and TCP on 127.0.0.1 (knotd listens on both and cannot be given
 * port 0: we must know the port to ask it). The kernel picks the UDP port; TCP is checked on it.
 */
export async function freePort(attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const udp = createSocket('udp4');
    try {
      const port = await new Promise<number>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
      });
      const tcpFree = await new Promise<boolean>((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
      });
      if (tcpFree) return port;
    } finally {
      udp.close();
    }
  }
  throw new Error(`no port free for both UDP and TCP on 127.0.0.1 after ${attempts} tries`);
}

/** knot.conf as anchors.sh writes it, with the port and the directory ours. */
export function knotConfig(options: { port: number; dir: string; origin: string; zoneFile: string }): string {
  const { port, dir, origin, zoneFile } = options;
  const storage = join(dir, 'knot');
  return [
    'server:',
    `    listen: 127.0.0.1@${port}`,
    `    rundir: ${storage}`,
    '    background-workers: 1',
    '    udp-workers: 1',
    '    tcp-workers: 1',
    'database:',
    `    storage: ${storage}`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'zone:',
    `  - domain: ${origin.replace(/\.$/, '')}`,
    `    file: ${zoneFile}`,
    `    storage: ${storage}`,
    '    journal-content: none',
    '    zonefile-sync: -1',
    '',
  ].join('\n');
}

function lastLines(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-2).join(' / ').slice(0, 300);
  } catch {
    return 'no log';
  }
}

/** Sends SIGTERM, then SIGKILL after a grace time; resolves once it exited. */
async function stopProcess(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const grace = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(grace);
}

/**
 * Starts knotd on `zoneFile` (origin `origin`) in `dir`, times spawn to the first answer for
 * `name` equal to `expected` (a targetKey), and stops knotd again, also on error. `track` sees
 * each knotd spawned (for the bench's interrupt handler). Gives up at `deadlineMs` after spawn.
 */
export async function measureKnotLoad(options: {
  zoneFile: string;
  origin: string;
  dir: string;
  name: string;
  expected: string;
  deadlineMs: number;
  track?: (proc: ChildProcess) => void;
}): Promise<KnotLoadResult> {
  const knotd = which('knotd');
  if (knotd === undefined) return { ok: false, why: 'knotd not on PATH (install with: anchors.sh install)' };
  let why = 'not started';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const dir = join(options.dir, `knot-${attempt}`);
    mkdirSync(join(dir, 'knot'), { recursive: true });
    const port = await freePort();
    const config = join(dir, 'knot.conf');
    writeFileSync(config, knotConfig({ port, dir, origin: options.origin, zoneFile: options.zoneFile }));
    const log = join(dir, 'knot.log');
    const logFd = openSync(log, 'w');
    const spawnedAt = performance.now();
    let proc: ChildProcess;
    try {
      proc = spawn(knotd, ['-c', config], { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    const exited = new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.once('error', () => resolve());
    });
    options.track?.(proc);
    const probe = new UdpProbe({ host: '127.0.0.1', port });
    try {
      const gone = () => proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined;
      const deadline = spawnedAt + options.deadlineMs;
      // Bounded: at most one ask (≤ ASK_TIMEOUT_MS) and one pause per round, until the deadline.
      for (let tries = 0; tries < 1_000_000 && performance.now() < deadline && !gone(); tries++) {
        if ((await probe.ask(options.name, ASK_TIMEOUT_MS)) === options.expected) {
          const at = performance.now();
          // The answer must be this knotd's, not another server's on a port reused meanwhile.
          if (gone()) break;
          return {
            ok: true,
            load: { ms: at - spawnedAt, pid: proc.pid!, port, peakKiB: procStatusKiB(proc.pid!, 'VmHWM') },
          };
        }
        await sleep(KNOT_PROBE_INTERVAL_MS);
      }
      if (!gone()) {
        return {
          ok: false,
          why: `knotd did not answer ${options.name} right within ${options.deadlineMs / 1000} s: ${lastLines(log)}`,
        };
      }
      await exited;
      why = `knotd exited (${proc.exitCode ?? proc.signalCode}) on port ${port}: ${lastLines(log)}`;
      // Only a lost port is worth another try; any other failure would fail the same way again.
      if (!/cannot bind|address already in use/i.test(why)) break;
    } finally {
      probe.close();
      await stopProcess(proc, exited);
    }
  }
  return { ok: false, why };
}
