/** The package version, read once from package.json (found from dist/src or src alike). */
import { existsSync, readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'psarn' && pkg.version !== undefined) {
        cached = pkg.version;
        return cached;
      }
    }
  }
  cached = '0.0.0';
  return cached;
}
