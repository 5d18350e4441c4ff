/**
 * Why a DNS UPDATE (RFC 2136) was not applied: the rcode the reply carries (RFC 2136 §2.2), and
 * for a refusal the Extended DNS Error (RFC 8914) that says why. Thrown inside the store's write
 * transaction, which rolls back: an UPDATE is applied whole or not at all (RFC 2136 §3.4.2.1).
 */
import { PsarnBaseError } from '../errors.js';
import type { RcodeValue } from '../wire/types.js';

export class UpdateError extends PsarnBaseError {
  readonly code = 'ERR_DNS_UPDATE';
  /** FORMERR, NOTZONE, NOTAUTH, NXDOMAIN, YXDOMAIN, NXRRSET, YXRRSET or REFUSED. */
  readonly rcode: RcodeValue;
  /** The EDE info-code of a refusal (RFC 8914 §4), sent with the message as EXTRA-TEXT. */
  readonly ede: number | undefined;
  constructor(rcode: RcodeValue, message: string, ede?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpdateError';
    this.rcode = rcode;
    this.ede = ede;
  }
}
