/**
 * psARN <-> DNS name mapping (DESIGN.md §2). Pure, total, reversible:
 *   arn:aws:psarn:us-east-1:123456789012:orders/created
 *     <-> created.orders.123456789012.us-east-1.aws.psarn.internal.
 * Names are absolute, lowercase, with a trailing dot. Errors are PsarnError.
 */
import type { Psarn } from './psarn.js';

export const DEFAULT_NAMESPACE = 'psarn.internal.';

/** The zone part of a psARN: one zone per account, region and partition. */
export interface ZoneKey {
  partition: string;
  region: string;
  account: string;
}

/**
 * Validates and canonicalises a namespace suffix: lowercase, trailing dot added, labels
 * LDH (letters, digits, hyphen) 1..63 bytes, total <= 200 so that routes fit.
 * @throws PsarnError ERR_INVALID_NAME
 */
export function normalizeNamespace(_namespace: string): string {
  throw new Error('not implemented');
}

/**
 * The DNS name of a psARN (a Psarn or its text).
 * @throws PsarnError ERR_INVALID_PSARN (bad psARN) or ERR_INVALID_NAME (name > 253 characters
 *   without the final dot, i.e. > 255 octets on the wire)
 */
export function psarnToName(_psarn: Psarn | string, _namespace: string = DEFAULT_NAMESPACE): string {
  throw new Error('not implemented');
}

/**
 * The psARN of a DNS name (case-insensitive, trailing dot optional).
 * @throws PsarnError ERR_INVALID_NAME naming what is wrong ("not under namespace", "label 2 ...")
 */
export function nameToPsarn(_name: string, _namespace: string = DEFAULT_NAMESPACE): Psarn {
  throw new Error('not implemented');
}

/** The zone name of a psARN or ZoneKey: `<account>.<region>.<partition>.<namespace>`. */
export function zoneName(_of: Psarn | ZoneKey | string, _namespace: string = DEFAULT_NAMESPACE): string {
  throw new Error('not implemented');
}

/**
 * Parses a zone name (`123456789012.us-east-1.aws.psarn.internal`, trailing dot optional,
 * case-insensitive) into its key.
 * @throws PsarnError ERR_INVALID_ZONE
 */
export function parseZoneName(_name: string, _namespace: string = DEFAULT_NAMESPACE): ZoneKey {
  throw new Error('not implemented');
}

/**
 * A CLI `<zone>` argument: a zone's DNS name or any psARN inside it; returns the canonical zone
 * name. @throws PsarnError ERR_INVALID_ZONE naming both accepted forms.
 */
export function parseZoneArg(_input: string, _namespace: string = DEFAULT_NAMESPACE): string {
  throw new Error('not implemented');
}

/**
 * Splits a DNS name inside a zone into the route path it maps to, or undefined when the
 * labels cannot be a route path (a label outside the segment grammar, too deep, or the apex).
 * `relativeLabels` are the labels below the zone apex, leftmost first, already lowercase:
 * ['created', 'orders'] -> ['orders', 'created'].
 */
export function labelsToPath(_relativeLabels: readonly string[]): string[] | undefined {
  throw new Error('not implemented');
}
