/** Shared fixtures of the store tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetRouteSpec, ZoneParams } from '../../src/store/index.js';

export const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
export const ZONE2 = '210987654321.eu-west-1.aws.psarn.internal.';

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

export function lambda(name: string): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
}

/** A weighted route over the given function names, weight 1 priority 10 each. */
export function weighted(...names: string[]): TargetRouteSpec {
  return { policy: 'weighted', ttl: 300, targets: names.map((n) => ({ target: lambda(n), weight: 1, priority: 10 })) };
}

/** A fresh folder under the OS temp dir; `cleanup()` removes it. */
export function tempDir(): { dir: string; file: (name?: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-store-'));
  return {
    dir,
    file: (name = 'psarn.db') => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
