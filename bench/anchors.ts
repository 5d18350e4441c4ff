/**
 * The reference servers: Knot DNS and PowerDNS (gsqlite3 backend) started by the shared
 * `anchors.sh start ZONEFILE ORIGIN DIR` on the zone file psarn exported, so all three serve the
 * same data. The script prints `name pid port` lines; `anchors.sh stop DIR` stops both.
 * A server whose binary is missing, which did not start, or whose process died (e.g. its fixed
 * port was taken by another instance) is reported as skipped with the reason, never measured.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, procComm, runTimed, which } from './proc.js';
import type { BenchServer } from './servers.js';

/** env BENCH_ANCHORS_SCRIPT overrides the path. */
export const ANCHORS_SCRIPT = process.env.BENCH_ANCHORS_SCRIPT ?? '/work/shared/bench/anchors.sh';

interface AnchorSpec {
  /** The name anchors.sh prints. */
  name: string;
  /** Executables the script runs for this server. */
  needs: string[];
  /** /proc/PID/comm of the serving process. */
  comm: string;
  /** Its log in DIR, for the reason when it died. */
  log: string;
}

const SPECS: AnchorSpec[] = [
  { name: 'knot', needs: ['knotd'], comm: 'knotd', log: 'knot.log' },
  { name: 'pdns-gsqlite3', needs: ['pdns_server', 'pdnsutil', 'sqlite3'], comm: 'pdns_server', log: 'pdns.log' },
];

/** The names the side-by-side expects, in run order. */
export const ANCHOR_NAMES = SPECS.map((s) => s.name);

export interface Anchors {
  servers: BenchServer[];
  skipped: { name: string; why: string }[];
  /** anchors.sh stop DIR (idempotent). */
  stop(): Promise<void>;
}

function lastLine(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    return lines.slice(-2).join(' / ').slice(0, 300);
  } catch {
    return 'no log';
  }
}

export async function startAnchors(zoneFile: string, origin: string, dir: string): Promise<Anchors> {
  const skipped: { name: string; why: string }[] = [];
  const noStop = async (): Promise<void> => {};
  if (!existsSync(ANCHORS_SCRIPT)) {
    const why = `${ANCHORS_SCRIPT} not found (env BENCH_ANCHORS_SCRIPT points elsewhere)`;
    return { servers: [], skipped: SPECS.map((s) => ({ name: s.name, why })), stop: noStop };
  }
  const wanted = SPECS.filter((spec) => {
    const missing = spec.needs.filter((exe) => which(exe) === undefined);
    if (missing.length > 0) {
      skipped.push({
        name: spec.name,
        why: `${missing.join(', ')} not on PATH (install with: ${ANCHORS_SCRIPT} install)`,
      });
    }
    return missing.length === 0;
  });
  if (wanted.length === 0) return { servers: [], skipped, stop: noStop };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await runTimed('bash', [ANCHORS_SCRIPT, 'stop', dir], { timeoutMs: 30_000 });
  };
  // anchors.sh starts both; a server whose binary is missing just fails in the background.
  const started = await runTimed('bash', [ANCHORS_SCRIPT, 'start', zoneFile, origin, dir], {
    timeoutMs: 300_000,
    env: { ...process.env } as Record<string, string>,
  });
  if (started.code !== 0) {
    await stop();
    const why = `anchors.sh start exited with ${started.code}: ${started.stderr.trim().slice(-300)}`;
    return { servers: [], skipped: [...skipped, ...wanted.map((s) => ({ name: s.name, why }))], stop };
  }
  const printed = new Map<string, { pid: number; port: number }>();
  for (const m of started.stdout.matchAll(/^(\S+) (\d+) (\d+)$/gm)) {
    printed.set(m[1]!, { pid: Number(m[2]), port: Number(m[3]) });
  }
  // A server that could not bind its fixed port exits right away; give it a moment to do so.
  await sleep(500);
  const servers: BenchServer[] = [];
  for (const spec of wanted) {
    const at = printed.get(spec.name);
    if (at === undefined) {
      skipped.push({ name: spec.name, why: `anchors.sh printed no line for it: ${started.stdout.trim()}` });
    } else if (!isAlive(at.pid) || procComm(at.pid) !== spec.comm) {
      skipped.push({
        name: spec.name,
        why: `did not stay up (pid ${at.pid}): ${lastLine(join(dir, spec.log))}`,
      });
    } else {
      servers.push({ name: spec.name, port: at.port, pid: at.pid });
    }
  }
  return { servers, skipped, stop };
}
