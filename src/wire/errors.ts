import { PsarnBaseError } from '../errors.js';

/** A malformed message or an unencodable value; `offset` is where in the bytes it went wrong. */
export class WireError extends PsarnBaseError {
  readonly code = 'ERR_DNS_WIRE';
  readonly offset: number;
  constructor(message: string, offset = -1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireError';
    this.offset = offset;
  }
}
