/**
 * Progress of a long operation on stderr (docs/design.md#hold-and-release): a bar redrawn in place
 * on a terminal, one JSON object a line otherwise (a CI log, a pipe, `2> file`), so a script can
 * follow it and a human can watch it. Pure formatting plus one writer.
 */
import type { ReplayProgress } from './replay.js';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** `[#####.....]  512/3000 17%  replayed 500  failed 12  410/s`. Pure. */
export function progressBar(p: ReplayProgress, width = 80): string {
  const done = p.replayed + p.failed;
  const total = Math.max(p.total, done, 1);
  const ratio = Math.min(1, done / total);
  const rate = p.elapsedMs > 0 ? Math.round((p.replayed * 1000) / p.elapsedMs) : 0;
  const tail = ` ${done}/${p.total} ${Math.floor(ratio * 100)}%  replayed ${p.replayed}  failed ${p.failed}  ${rate}/s`;
  const barWidth = Math.max(10, Math.min(40, width - tail.length - 3));
  const filled = Math.round(ratio * barWidth);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
}

/** One JSON line of progress. Pure. */
export function progressLine(p: ReplayProgress): string {
  return `${JSON.stringify({ event: 'progress', ...p })}\n`;
}

/** A progress reporter for `stream`: bar on a TTY, JSON lines otherwise. `end()` finishes the bar's line. */
export function progressReporter(stream: ProgressStream): { update(p: ReplayProgress): void; end(): void } {
  if (stream.isTTY !== true) return { update: (p) => void stream.write(progressLine(p)), end: () => {} };
  let drawn = false;
  return {
    update(p) {
      // \r then erase to the end of line (ECMA-48 EL): the bar redraws in place.
      stream.write(`\r${progressBar(p, stream.columns ?? 80)}\x1b[K`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
