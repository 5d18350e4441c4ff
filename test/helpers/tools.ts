/**
 * External tools some tests drive (named-checkzone, kzonecheck, dig, kdig): skipped on a laptop
 * that lacks them, but a hard failure in CI, so a missing package cannot hide a broken check.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

const found = new Map<string, string | undefined>();

/** The absolute path of an executable on PATH, or undefined. */
export function toolPath(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  let hit: string | undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      hit = candidate;
      break;
    } catch {
      // not in this folder
    }
  }
  found.set(name, hit);
  return hit;
}

export function toolAvailable(name: string): boolean {
  return toolPath(name) !== undefined;
}

/**
 * True when `name` is installed. Otherwise: in CI (`CI=true`) throws, failing the test; locally
 * marks the test skipped and returns false, so the caller returns early.
 * @example it('named-checkzone accepts it', (t) => { if (!skipUnlessTool(t, 'named-checkzone')) return; ... })
 */
export function skipUnlessTool(t: TestContext, name: string): boolean {
  if (toolAvailable(name)) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${name} is not installed, and CI=true requires it; install it in the CI image`);
  }
  t.skip(`${name} not installed`);
  return false;
}
