/** Where the psarn package itself lives (found from dist/src or src alike), and its version. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: { dir: string; version: string } | undefined;

function find(): { dir: string; version: string } {
  if (root !== undefined) return root;
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (!existsSync(url)) continue;
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'psarn') {
      root = { dir: dirname(fileURLToPath(url)), version: pkg.version ?? '0.0.0' };
      return root;
    }
  }
  root = { dir: process.cwd(), version: '0.0.0' };
  return root;
}

export function packageVersion(): string {
  return find().version;
}
