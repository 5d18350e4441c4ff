/** The CLI's main() in this process, its output captured: what the remote-CLI tests compare. */
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
