/**
 * knotd as a secondary of psarnd (docs/design.md#transfers), for the integration tests: the
 * TSIG key, psarnd as the primary of its catalog zone (`catalog-role: interpret`) and of every
 * member zone, NOTIFY accepted only with the key.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface KnotSecondaryConfig {
  /** Port knotd listens on (127.0.0.1). */
  port: number;
  /** psarnd's DNS port (127.0.0.1). */
  primaryPort: number;
  /** knotd's rundir and zone storage. */
  dir: string;
  /** The hmac-sha256 secret of `transfer-key`, base64. */
  secret: string;
  /** The catalog zone's name. */
  catalog?: string;
}

/** The knotd.conf text. */
export function knotSecondaryConfig(c: KnotSecondaryConfig): string {
  return [
    'server:',
    `    listen: 127.0.0.1@${c.port}`,
    `    rundir: ${c.dir}`,
    '    background-workers: 1',
    '    udp-workers: 1',
    '    tcp-workers: 1',
    'database:',
    `    storage: ${c.dir}`,
    'key:',
    '  - id: transfer-key',
    '    algorithm: hmac-sha256',
    `    secret: ${c.secret}`,
    'remote:',
    '  - id: psarnd',
    `    address: 127.0.0.1@${c.primaryPort}`,
    '    key: transfer-key',
    'acl:',
    '  - id: notify-from-psarnd',
    '    address: 127.0.0.1',
    '    key: transfer-key',
    '    action: notify',
    'log:',
    '  - target: stderr',
    '    any: info',
    'template:',
    '  - id: member',
    '    master: psarnd',
    '    acl: notify-from-psarnd',
    `    storage: ${c.dir}`,
    'zone:',
    `  - domain: ${c.catalog ?? 'catalog.psarn.internal'}`,
    '    master: psarnd',
    '    acl: notify-from-psarnd',
    `    storage: ${c.dir}`,
    '    catalog-role: interpret',
    '    catalog-template: member',
    '',
  ].join('\n');
}

/**
 * Stops a knotd the test spawned: SIGTERM, SIGKILL after 5 s if it is still running; returns at
 * once when it never started or has exited already.
 */
export async function stopKnot(knot: ChildProcess | undefined): Promise<void> {
  if (knot === undefined || knot.exitCode !== null || knot.signalCode !== null) return;
  const exited = once(knot, 'exit');
  knot.kill('SIGTERM');
  const kill = setTimeout(() => knot.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(kill);
}
