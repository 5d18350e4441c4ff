/**
 * `psarn key generate [NAME] [--algorithm hmac-sha256|hmac-sha512]` (docs/design.md#tsig): a new
 * random TSIG key (RFC 8945), printed as the config's `tsig.keys` entry (so the output is itself
 * a valid psarnd config) and as the `-y ALG:NAME:SECRET` form of nsupdate, dig and kdig.
 */
import { randomBytes } from 'node:crypto';
import { MAC_SIZE, type TsigAlgorithm } from '../../wire/tsig.js';

/** The key name when none is given. */
export const DEFAULT_KEY_NAME = 'psarn-key';

/**
 * The printed key. The secret is as long as the algorithm's output (32 or 64 bytes: RFC 2104 §3,
 * a longer key adds nothing, a shorter one weakens it), from `random` (default crypto.randomBytes).
 * @example keyText('transfer-key', 'hmac-sha256') // "tsig:\n  keys:\n    - { name: transfer-key, ... }"
 */
export function keyText(
  name: string,
  algorithm: TsigAlgorithm,
  random: (size: number) => Buffer = randomBytes,
): string {
  const secret = random(MAC_SIZE[algorithm]).toString('base64');
  return [
    `# TSIG key ${name} (${algorithm}): keep the secret as secret as a password.`,
    '# psarnd config (or write the secret to a file and give secretFile: PATH instead of secret):',
    'tsig:',
    '  keys:',
    `    - { name: ${name}, algorithm: ${algorithm}, secret: "${secret}" }`,
    '# nsupdate, dig and kdig -y; psarn --key and PSARN_KEY:',
    `# ${algorithm}:${name}:${secret}`,
    '',
  ].join('\n');
}
