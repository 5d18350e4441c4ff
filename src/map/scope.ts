/**
 * What `psarn graph [<zone>]` is limited to (docs/design.md#the-graph): a zone, given as its
 * name or as a psARN with an empty path, or a psARN prefix: that route and the routes under it,
 * as `psarn route list <prefix>` reads them.
 */
import { labelsToPath, parseZoneArg } from '../psarn/name.js';
import { parsePsarn } from '../psarn/psarn.js';

export interface GraphScope {
  /** Canonical zone name: lowercase, trailing dot. */
  zone: string;
  /** A route path (`orders` or `orders/created`); absent: the whole zone. */
  prefix?: string;
}

/**
 * @throws PsarnError ERR_INVALID_ZONE (neither a zone name nor a psARN) or ERR_INVALID_PSARN
 * @example graphScope('arn:aws:psarn:us-east-1:123456789012:orders', 'psarn.internal.')
 *   // { zone: '123456789012.us-east-1.aws.psarn.internal.', prefix: 'orders' }
 */
export function graphScope(input: string, namespace: string): GraphScope {
  const zone = parseZoneArg(input, namespace);
  if (!/^arn:/i.test(input)) return { zone };
  // parseZoneArg checked the psARN; its path is what follows the sixth field.
  const path = input.split(':').slice(5).join(':');
  if (path === '') return { zone };
  return { zone, prefix: parsePsarn(input).path.join('/') };
}

/**
 * The zone and route path of an absolute DNS name (an alias's target), among `zones`; undefined
 * when it is in none of them or cannot be a route path.
 */
export function locateName(name: string, zones: readonly string[]): { zone: string; path: string } | undefined {
  const lower = name.toLowerCase();
  // The longest apex first: a namespace may hold zones under zones only in theory, but be exact.
  for (const zone of [...zones].sort((a, b) => b.length - a.length)) {
    if (!lower.endsWith(`.${zone}`)) continue;
    const path = labelsToPath(lower.slice(0, -zone.length - 1).split('.'));
    return path === undefined ? undefined : { zone, path: path.join('/') };
  }
  return undefined;
}
