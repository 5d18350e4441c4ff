/** Values several test folders share. */
import type { ZoneParams } from '../../src/store/types.js';

/** The demo zone. */
export const ZONE = '123456789012.us-east-1.aws.psarn.internal.';

/** The SOA/NS parameters the default config gives a new zone. */
export const PARAMS: ZoneParams = {
  soaTtl: 3600,
  mname: 'ns.psarn.internal.',
  rname: 'hostmaster.psarn.internal.',
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum: 30,
  nsTtl: 3600,
  nameservers: ['ns.psarn.internal.'],
};

/**
 * The head of a zone in master-file text: `$ORIGIN`, then the SOA (serial 1, minimum 30 unless
 * given) and the NS of the default config. Routes follow as relative names.
 */
export function zoneHead(origin: string, serial = 1, minimum = 30): string {
  return [
    `$ORIGIN ${origin}`,
    `@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. ${serial} 3600 600 86400 ${minimum}`,
    '@ 3600 IN NS ns.psarn.internal.',
  ].join('\n');
}
