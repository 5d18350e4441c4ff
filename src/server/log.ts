/** psarnd's logger: JSON lines (pino) on stdout, written as they are logged. */
import { type Logger, type LoggerOptions, pino } from 'pino';

/**
 * Synchronous writes to fd 1. pino's default stream writes asynchronously and, at exit, flushes
 * what is queued behind the write in flight; sonic-boom's flush retries a write that fails with
 * EPIPE forever, so a psarnd whose stdout reader had gone (`psarnd | head`, a log shipper that
 * died) hung after "draining" instead of exiting. A synchronous write that meets EPIPE makes
 * pino drop every later line instead. psarnd logs a few lines per change, never per query, so
 * writing each at once costs nothing.
 * @example const log = psarndLogger({ level: 'info', base: { service: 'psarnd' } });
 */
export function psarndLogger(options: Pick<LoggerOptions, 'level' | 'base'>): Logger {
  return pino(options, pino.destination({ dest: 1, sync: true }));
}
