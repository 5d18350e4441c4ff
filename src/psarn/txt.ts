/**
 * The route TXT (docs/design.md#records-at-a-routes-name and #the-epoch-override): `"v=psarn1" "policy=weighted" "epoch=3"` at a route, and
 * `"epoch=3"` at `_epoch.<zone>`. Pure: the server writes it, `zone import`, dig and the client
 * library read it.
 */
import { quote } from '../errors.js';
import { PsarnError } from './psarn.js';

/** First character-string of every route TXT. */
export const TXT_VERSION = 'v=psarn1';
/** Label of the epoch record under each zone apex. */
export const EPOCH_LABEL = '_epoch';

/** The `epoch=<n>` character-string, in a route TXT and at `_epoch.<zone>`. */
export function epochString(epoch: number): string {
  return `epoch=${epoch}`;
}

/** The character-strings of a route TXT: what the server writes (src/zone/route-wire.ts) and `zone export` prints. */
export function routeTxtStrings(policy: 'weighted' | 'fanout', epoch: number): [string, string, string] {
  return [TXT_VERSION, `policy=${policy}`, epochString(epoch)];
}

/** What a route TXT says; undefined fields were absent. Unknown `key=value` strings are ignored. */
export interface RouteTxt {
  version?: string;
  policy?: 'weighted' | 'fanout';
  epoch?: number;
}

/**
 * Reads a route TXT (`"v=psarn1" "policy=weighted" "epoch=3"`) or an `_epoch` TXT.
 * @throws PsarnError ERR_INVALID_TXT naming the string when a known key has a bad value.
 */
export function parseRouteTxt(strings: readonly string[]): RouteTxt {
  const out: RouteTxt = {};
  for (const s of strings) {
    const eq = s.indexOf('=');
    if (eq < 0) continue;
    const key = s.slice(0, eq);
    const value = s.slice(eq + 1);
    if (key === 'v') out.version = value;
    else if (key === 'policy') {
      if (value !== 'weighted' && value !== 'fanout') {
        throw new PsarnError('ERR_INVALID_TXT', s, `TXT string ${quote(s)}: policy must be weighted or fanout`);
      }
      out.policy = value;
    } else if (key === 'epoch') {
      if (!/^\d{1,15}$/.test(value)) {
        throw new PsarnError('ERR_INVALID_TXT', s, `TXT string ${quote(s)}: epoch must be a non-negative integer`);
      }
      out.epoch = Number(value);
    }
  }
  return out;
}
