/**
 * CLI errors. A UsageError (exit 2) is bad input on the command line: an unknown command or
 * flag, a malformed psARN, target, TTL. A CliError (exit 1) is a runtime failure: a missing
 * database, a route that does not exist, a server that does not answer. Either prints as one
 * line on stderr that names the input and says what to do.
 */

import { ECHO_LONG, PsarnBaseError, printable, quote } from '../errors.js';

export type CliErrorCode = 'ERR_USAGE' | 'ERR_NOT_FOUND' | 'ERR_RUNTIME';

export class CliError extends PsarnBaseError {
  readonly code: CliErrorCode;
  /** Process exit status: 2 for usage errors, 1 for runtime errors. */
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = code === 'ERR_USAGE' ? 2 : 1;
  }
}

/**
 * The command's output was closed by its reader (`psarn route list | head -1`): the command stops
 * writing and ends quietly with status 0, as `ls | head` does, instead of an EPIPE stack trace.
 */
export class OutputClosedError extends PsarnBaseError {
  readonly code = 'ERR_OUTPUT_CLOSED';
  constructor() {
    super('standard output was closed');
    this.name = 'OutputClosedError';
  }
}

/** Bad input on the command line (exit 2). */
export function usageError(message: string, cause?: unknown): CliError {
  return new CliError('ERR_USAGE', message, cause === undefined ? undefined : { cause });
}

/** The first line of a message, so every error stays one line on stderr. */
export function oneLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.trim();
}

/** The longest line `psarn` writes to stderr for an error; the parts it echoes are cut far below. */
export const MAX_ERROR_LINE = 2000;

/**
 * An error message as the one stderr line of `psarn`: its first line, escaped (no control
 * character reaches the terminal) and, as a last guard, at most MAX_ERROR_LINE characters.
 */
export function stderrLine(message: string): string {
  const line = printable(oneLine(message));
  return line.length > MAX_ERROR_LINE ? `${line.slice(0, MAX_ERROR_LINE)}… (cut)` : line;
}

/** A failed lookup of the server's host name, as `psarn resolve|invoke|dig` say it. */
export function lookupFailure(host: string, cause: unknown): string {
  const e = cause as NodeJS.ErrnoException | undefined;
  const why = e?.code ?? (e?.message ? oneLine(e.message) : 'no addresses');
  return `cannot look up server ${quote(host, ECHO_LONG)}: ${why}; check the host name in @HOST[:PORT] (default: config listen), or give an IP address`;
}
