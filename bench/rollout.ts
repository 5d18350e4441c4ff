/**
 * Rollout step latency (issue 11): a rollout of STEPS steps (1%, 2%, … 100%) at `--every 1s` on
 * the real psarnd (a file database), and for each step psarnd takes, the time from its due time
 * to the first answer that carries its weights. The CLI writes the first step; psarnd the others.
 *
 *   node dist/bench/rollout.js [STEPS=100]
 *
 * The due time of step k is the operation's `due_at` that step k − 1 wrote (read from the
 * database once step k − 1 is served: the same transaction wrote both). A prober asks psarnd for
 * the route over UDP about once a millisecond, so a sample is the driver's timer lateness, the
 * gate-free step's transaction, the pickup (`changed`: served at once) and the probe's gap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { targetsAt } from '../src/ops/rollout.js';
import { Store } from '../src/store/store.js';
import { targetKey, UdpProbe } from './probe.js';
import { psarnCli, startPsarnd } from './proc.js';
import { fmt, formatTable, machine, percentile, type Row, section } from './table.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const PATH = 'bench/rollout';
const PSARN = `arn:aws:psarn:us-east-1:123456789012:${PATH}`;
const NAME = `rollout.bench.${ZONE}`;
const OLD = 'arn:aws:lambda:us-east-1:123456789012:function:bench-v1';
const NEW = 'arn:aws:lambda:us-east-1:123456789012:function:bench-v2';
/** A step not served this long after its due time counts as missed. */
const DEADLINE_MS = 10_000;

/** Wall-clock ms with sub-ms precision (the driver's due times are Date.now() ms). */
const wallNow = () => performance.timeOrigin + performance.now();

export async function measureRollout(options: { steps?: number } = {}): Promise<Row[]> {
  const steps = options.steps ?? 100;
  const percents = Array.from({ length: steps }, (_, i) => Math.round(((i + 1) * 100) / steps));
  const dir = mkdtempSync(join(tmpdir(), 'psarn-bench-rollout-'));
  const db = join(dir, 'psarn.db');
  const saved = [{ target: OLD, weight: 1, priority: 10 }];
  const keys = percents.map((p) => targetKey(targetsAt(saved, NEW, p)));
  let daemon: Awaited<ReturnType<typeof startPsarnd>> | undefined;
  let reader: Store | undefined;
  const samples: number[] = [];
  let missed = 0;
  try {
    daemon = await startPsarnd(db);
    await psarnCli(db, ['route', 'set', PSARN, '--target', OLD]);
    reader = Store.open(db, { readonly: true, create: false });
    const prober = new UdpProbe(daemon.dns);
    try {
      await psarnCli(db, ['rollout', 'start', PSARN, '--to', NEW, '--steps', percents.join(','), '--every', '1s']);
      /** The due time of step k: written with step k − 1, read once that step was served. */
      let due: number | undefined;
      for (let k = 0; k < steps; k++) {
        const deadline = performance.now() + (k === 0 ? 30_000 : 2000 + DEADLINE_MS);
        let servedAt: number | undefined;
        while (performance.now() < deadline) {
          if ((await prober.ask(NAME, 250)) === keys[k]) {
            servedAt = wallNow();
            break;
          }
          await sleep(1);
        }
        if (k === 0 && servedAt === undefined) throw new Error('the first step was never served');
        if (k > 0) {
          if (servedAt === undefined || due === undefined) missed++;
          else samples.push(servedAt - due);
        }
        due = reader.operations({ kind: 'rollout', limit: 1 })[0]?.dueAt;
      }
    } finally {
      prober.close();
    }
  } finally {
    reader?.close();
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: Row[] = [section(`rollout: ${steps} steps at --every 1s, the CLI writes the first, psarnd the others`)];
  rows.push(
    {
      figure: 'due time to served, p50',
      value: fmt(percentile(samples, 50), 1),
      unit: 'ms',
      notes: `${samples.length} steps psarnd took; ${missed} missed (not served within ${DEADLINE_MS / 1000} s)`,
    },
    {
      figure: 'due time to served, p99',
      value: fmt(percentile(samples, 99), 1),
      unit: 'ms',
      notes: `max ${fmt(Math.max(...samples), 1)} ms; probe asks about once a ms over UDP`,
    },
  );
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await measureRollout({ steps: Number(process.argv[2] ?? 100) });
  process.stdout.write(`${machine()}\n${formatTable(rows)}\n`);
}
