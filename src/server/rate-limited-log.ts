/**
 * Error logs that cannot flood the disk. A fault that fails every query (a damaged database
 * file) would otherwise log one line per query: 154 MB in 10 s under load. Each message (the
 * log line's text) gets at most `limit` lines per `intervalMs`; the lines dropped are counted,
 * and the next line of that message that is written says how many (`suppressed`).
 */
import type { Logger } from 'pino';

export interface RateLimitedLogOptions {
  /** Lines of one message per interval. Default 5. */
  limit?: number;
  /** Default 10000 ms. */
  intervalMs?: number;
  /** Monotonic ms clock. Default performance.now. */
  now?: () => number;
}

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

export class RateLimitedLog {
  readonly #log: Pick<Logger, 'error' | 'warn'>;
  readonly #limit: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  /** By message text: the messages are the code's own constants, so this stays small. */
  readonly #windows = new Map<string, Window>();

  constructor(log: Pick<Logger, 'error' | 'warn'>, options: RateLimitedLogOptions = {}) {
    this.#log = log;
    this.#limit = options.limit ?? 5;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Logs at error level unless this message already had `limit` lines in the current interval. */
  error(fields: Record<string, unknown>, message: string): void {
    this.#write('error', fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.#write('warn', fields, message);
  }

  /** Lines of `message` dropped since its last written line. */
  suppressed(message: string): number {
    return this.#windows.get(message)?.suppressed ?? 0;
  }

  #write(level: 'error' | 'warn', fields: Record<string, unknown>, message: string): void {
    const now = this.#now();
    let w = this.#windows.get(message);
    if (w === undefined) {
      w = { start: now, written: 0, suppressed: 0 };
      this.#windows.set(message, w);
    } else if (now - w.start >= this.#intervalMs) {
      w.start = now;
      w.written = 0;
    }
    if (w.written >= this.#limit) {
      w.suppressed++;
      return;
    }
    w.written++;
    const extra: Record<string, unknown> = {};
    if (w.suppressed > 0) extra.suppressed = w.suppressed;
    // The last line allowed says that more of the same will be dropped, and for how long.
    if (w.written === this.#limit)
      extra.rateLimited = `at most ${this.#limit} lines of this message per ${this.#intervalMs} ms`;
    w.suppressed = 0;
    this.#log[level](Object.keys(extra).length === 0 ? fields : { ...fields, ...extra }, message);
  }
}
