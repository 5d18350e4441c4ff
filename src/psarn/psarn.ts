/**
 * The psARN grammar (DESIGN.md §2). Pure and total: every input either parses to a canonical
 * (lowercase) Psarn or throws a PsarnError whose message names the input and what to do.
 */

/** A parsed psARN, canonical lowercase. */
export interface Psarn {
  partition: string;
  region: string;
  /** 12 digits. */
  account: string;
  /** 1 to 8 segments. */
  path: string[];
}

export type PsarnErrorCode = 'ERR_INVALID_PSARN' | 'ERR_INVALID_NAME' | 'ERR_INVALID_ZONE';

/** Thrown for any input outside the grammar. `input` is the offending text as given. */
export class PsarnError extends Error {
  readonly code: PsarnErrorCode;
  readonly input: string;
  constructor(code: PsarnErrorCode, input: string, message: string) {
    super(message);
    this.name = 'PsarnError';
    this.code = code;
    this.input = input;
  }
}

/**
 * Parses a psARN, e.g. `arn:aws:psarn:us-east-1:123456789012:orders/created`.
 * @throws PsarnError ERR_INVALID_PSARN, message like
 *   "invalid psARN 'x': segment 3 has '.'; use letters, digits, - or _"
 */
export function parsePsarn(_input: string): Psarn {
  throw new Error('not implemented');
}

/** The canonical text of a psARN. `formatPsarn(parsePsarn(s)) === s.toLowerCase()` for valid s. */
export function formatPsarn(_p: Psarn): string {
  throw new Error('not implemented');
}

/** True when the input is a valid psARN (never throws). */
export function isPsarn(_input: string): boolean {
  throw new Error('not implemented');
}
