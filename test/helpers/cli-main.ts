/** The CLI's main() in this process, its output captured: what the remote-CLI tests compare. */
import { copyFileSync } from 'node:fs';
import { type MainOptions, main } from '../../src/cli/main.js';

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `psarn <argv>` with `env` and `cwd` only (no process.env), capturing stdout and stderr. */
export async function run(
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  options: MainOptions = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await main(
    argv,
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env, cwd },
    options,
  );
  return { status, stdout, stderr };
}

/**
 * `psarn db init` then `psarn zone import <zoneFile>` into `db` (zoneFile relative to `dir`),
 * then a byte-for-byte copy at `copy`: a server's database and the local twin the remote-CLI
 * tests run the same command on.
 */
export async function seedTwins(dir: string, zoneFile: string, db: string, copy: string): Promise<void> {
  for (const argv of [
    ['db', 'init'],
    ['zone', 'import', zoneFile],
  ]) {
    const r = await run(argv, { PSARN_DB: db }, dir);
    if (r.status !== 0) throw new Error(`psarn ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  copyFileSync(db, copy);
}
