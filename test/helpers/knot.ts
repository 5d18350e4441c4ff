/**
 * knotd as a secondary of psarnd (docs/design.md#transfers), for the integration tests: the
 * TSIG key, psarnd as the primary of its catalog zone (`catalog-role: interpret`) and of every
 * member zone, NOTIFY accepted only with the key.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

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

/** knotd as the PRIMARY of one zone loaded from a psarn zone file (psarnd as its secondary). */
export interface KnotPrimaryConfig {
  /** Port knotd listens on (127.0.0.1). */
  port: number;
  /** knotd's rundir, zone storage and control socket. */
  dir: string;
  /** The hmac-sha256 secret of `transfer-key`, base64. */
  secret: string;
  /** The zone's name. */
  zone: string;
  /** The zone file knotd loads (and never rewrites). */
  zoneFile: string;
  /** A secondary's port on 127.0.0.1 to NOTIFY, signed with the key; none: no NOTIFY. */
  notifyPort?: number;
}

/**
 * The knotd.conf text: transfers allowed with the key; a changed file becomes a changeset in
 * Knot's journal (`zonefile-load: difference`), so a reload is served as IXFR.
 */
export function knotPrimaryConfig(c: KnotPrimaryConfig): string {
  const notify = c.notifyPort !== undefined;
  return [
    'server:',
    `    listen: 127.0.0.1@${c.port}`,
    `    rundir: ${c.dir}`,
    '    background-workers: 1',
    '    udp-workers: 1',
    '    tcp-workers: 1',
    'control:',
    `    listen: ${join(c.dir, 'knot.sock')}`,
    'database:',
    `    storage: ${c.dir}`,
    'key:',
    '  - id: transfer-key',
    '    algorithm: hmac-sha256',
    `    secret: ${c.secret}`,
    ...(notify ? ['remote:', '  - id: psarnd', `    address: 127.0.0.1@${c.notifyPort}`, '    key: transfer-key'] : []),
    'acl:',
    '  - id: transfer',
    '    address: 127.0.0.1',
    '    key: transfer-key',
    '    action: transfer',
    'log:',
    '  - target: stderr',
    '    any: info',
    'zone:',
    `  - domain: ${c.zone}`,
    `    file: ${c.zoneFile}`,
    `    storage: ${c.dir}`,
    ...(notify ? ['    notify: psarnd'] : []),
    '    acl: transfer',
    '    zonefile-load: difference',
    '    journal-content: changes',
    '    zonefile-sync: -1',
    '    semantic-checks: off',
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
