/**
 * Errors of a secondary's transfers in (docs/design.md#transfers-in). Each message is one line
 * naming the primary and the zone; never a key's secret (only the key's name, when it matters).
 */
import { PsarnBaseError, printable } from '../errors.js';

export type TransferErrorCode =
  | 'ERR_XFR_CONNECT'
  | 'ERR_XFR_TIMEOUT'
  | 'ERR_XFR_TSIG'
  | 'ERR_XFR_RCODE'
  | 'ERR_XFR_MALFORMED'
  | 'ERR_XFR_DATA';

export class TransferError extends PsarnBaseError {
  readonly code: TransferErrorCode;
  /**
   * True when an AXFR gets around the problem: an IXFR that does not fit our copy (it deletes
   * a record we lack, starts at another serial, leaves a route no route). Never leaves psarn's
   * transfer client, which falls back on it.
   */
  readonly axfrFallback: boolean;
  constructor(code: TransferErrorCode, message: string, options?: { cause?: unknown; axfrFallback?: boolean }) {
    // Zone and record names come from the network: one printable line whatever they hold.
    super(printable(message), options);
    this.name = 'TransferError';
    this.code = code;
    this.axfrFallback = options?.axfrFallback ?? false;
  }
}
