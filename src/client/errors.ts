/**
 * Errors of the client library. Every error has a stable `code`; wrapped causes are in `cause`
 * (undici style), per-target causes of a failed invocation in `failures`.
 */
import { PsarnBaseError } from '../errors.js';

export type ClientErrorCode =
  /** The psARN text is not a valid psARN; the message names what is wrong. */
  | 'ERR_INVALID_PSARN'
  /** The name does not exist (NXDOMAIN), or has no route (NODATA). */
  | 'ERR_ROUTE_NOT_FOUND'
  /** No server answered and nothing stale was cached. */
  | 'ERR_NO_SERVER'
  /** No server's host name could be looked up (the lookup's error is the cause), and nothing stale was cached. */
  | 'ERR_SERVER_LOOKUP'
  /** A server answered something unusable (REFUSED, a route TXT it cannot read, records that do not decode). */
  | 'ERR_BAD_ANSWER'
  /** Every target tried failed; see `failures`. */
  | 'ERR_ALL_TARGETS_FAILED'
  /** No registered invoker handles a target. */
  | 'ERR_NO_INVOKER'
  /** A constructor or call option is invalid; the message names it. */
  | 'ERR_INVALID_OPTION';

/** One target's failure, as listed by ERR_ALL_TARGETS_FAILED. */
export interface TargetFailure {
  target: string;
  error: Error;
}

export class PsarnClientError extends PsarnBaseError {
  readonly code: ClientErrorCode;
  /** The psARN the call was about, when there is one. */
  readonly psarn: string | undefined;
  readonly failures: TargetFailure[];

  constructor(
    code: ClientErrorCode,
    message: string,
    options: { cause?: unknown; psarn?: string; failures?: TargetFailure[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PsarnClientError';
    this.code = code;
    this.psarn = options.psarn;
    this.failures = options.failures ?? [];
  }
}
