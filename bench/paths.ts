/**
 * Where the project's entry points are, from the compiled bench (dist/bench) or under tsx
 * (bench/*.ts), so the bench runs the same CLI and daemon a user runs.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const underTsx = import.meta.url.endsWith('.ts');
/** The repository root under tsx, dist/ when compiled (dist/src mirrors src). */
const base = fileURLToPath(new URL('../', import.meta.url));

/** The repository root: cwd of every child, and where config/psarnd.yaml lives. */
export const projectRoot = underTsx ? base : join(base, '..');

/** The config file children read (defaults only; flags and env override what the bench needs). */
export const configFile = join(projectRoot, 'config', 'psarnd.yaml');

/** argv (after `node`) to run one of our entry points: 'server' is psarnd, 'cli' is psarn. */
export function entryArgs(entry: 'server' | 'cli'): string[] {
  return underTsx ? ['--import', 'tsx', join(base, 'src', entry, 'main.ts')] : [join(base, 'src', entry, 'main.js')];
}
