/** Shared fixtures of the store tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetRouteSpec } from '../../src/store/index.js';

export { PARAMS, ZONE } from '../helpers/fixtures.js';
export const ZONE2 = '210987654321.eu-west-1.aws.psarn.internal.';

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
