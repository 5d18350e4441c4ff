/**
 * Errors of the built-in invokers. A stable `code` per kind of failure; the SDK's or fetch's own
 * error stays in `cause`, so a caller can still look at its `name` (e.g. `ResourceNotFoundException`).
 */
import { PsarnBaseError } from '../../errors.js';

export type InvokerErrorCode =
  /** The target does not have the shape this invoker needs (e.g. an events ARN that is not an event bus). */
  | 'ERR_INVALID_TARGET'
  /** The AWS SDK client package for the target's service is not installed (or failed to load); the message names it. */
  | 'ERR_SDK_MISSING'
  /** The call did not complete: the SDK or fetch threw (service exception, network, timeout, bad checksum). */
  | 'ERR_TARGET_FAILED'
  /** The service answered but refused the event: Lambda FunctionError, a failed PutEvents entry, HTTP non-2xx. */
  | 'ERR_TARGET_REJECTED'
  /** The payload cannot be sent to this kind of target (a dynamodb item must be an object); nothing was sent. */
  | 'ERR_INVALID_PAYLOAD';

export class InvokerError extends PsarnBaseError {
  readonly code: InvokerErrorCode;
  /** The invoker's service name (lambda, sqs, sns, events, states, dynamodb, kinesis, firehose, https). */
  readonly service: string;
  readonly target: string;
  /** HTTP status (https) or Lambda StatusCode, when the target answered. */
  readonly statusCode: number | undefined;

  constructor(
    code: InvokerErrorCode,
    message: string,
    options: { service: string; target: string; statusCode?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InvokerError';
    this.code = code;
    this.service = options.service;
    this.target = options.target;
    this.statusCode = options.statusCode;
  }
}
