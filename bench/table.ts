/** The printed result: one row per figure, and the machine it was measured on. */
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';

export interface Row {
  figure: string;
  value: string;
  unit: string;
  notes: string;
}

/** Nearest-rank percentile (p in 0..100) of samples; NaN for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** The median of samples (the mean of the middle two for an even count); NaN for none. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A row that only titles the rows after it (printed as a line of its own). */
export function section(title: string): Row {
  return { figure: `== ${title}`, value: '', unit: '', notes: '' };
}

/** A number with `digits` decimals and thousands separators. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatTable(rows: readonly Row[]): string {
  const head: Row = { figure: 'figure', value: 'value', unit: 'unit', notes: 'command / notes' };
  const isSection = (r: Row) => r.figure.startsWith('== ') && r.value === '';
  const all = [head, ...rows.filter((r) => !isSection(r))];
  const w = (key: keyof Row) => Math.max(...all.map((r) => r[key].length));
  const [wf, wv, wu] = [w('figure'), w('value'), w('unit')];
  const line = (r: Row) =>
    isSection(r)
      ? `\n${r.figure}`
      : `${r.figure.padEnd(wf)}  ${r.value.padStart(wv)}  ${r.unit.padEnd(wu)}  ${r.notes}`.trimEnd();
  return [line(head), '-'.repeat(wf + wv + wu + 6 + 15), ...rows.map(line)].join('\n');
}

export function machine(): string {
  const cpu = cpus();
  return [
    `nproc: ${availableParallelism()} (${cpu[0]?.model.trim() ?? 'unknown cpu'})`,
    `memory: ${fmt(totalmem() / 2 ** 30, 1)} GiB total, ${fmt(freemem() / 2 ** 30, 1)} GiB free`,
    `node: ${process.version} (${process.platform} ${process.arch})`,
  ].join('\n');
}
