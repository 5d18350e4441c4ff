/** Runs `psarn` commands in-process against a temp folder (no config file, env empty). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgv } from '../../src/cli/args.js';
import { CliError } from '../../src/cli/errors.js';
import { type MainOptions, main } from '../../src/cli/main.js';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'psarn-cli-'));
  readonly db = join(this.dir, 'psarn.db');
  env: Record<string, string | undefined> = { PSARN_DB: this.db };

  async run(argv: string[], options: MainOptions = {}): Promise<RunResult> {
    let stdout = '';
    let stderr = '';
    const status = await main(
      argv,
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: this.env,
        cwd: this.dir,
      },
      options,
    );
    return { status, stdout, stderr };
  }

  /** Runs a command that must succeed; returns its stdout. */
  async ok(argv: string[]): Promise<string> {
    const r = await this.run(argv);
    if (r.status !== 0) throw new Error(`psarn ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The usage error parseArgv throws for argv: exit 2, code ERR_USAGE, one line. Fails the test when none. */
export function usage(argv: string[]): CliError {
  try {
    parseArgv(argv);
  } catch (err) {
    assert.ok(err instanceof CliError, `expected CliError, got ${err}`);
    assert.equal(err.code, 'ERR_USAGE');
    assert.equal(err.exitCode, 2);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err;
  }
  assert.fail(`expected a usage error for ${argv.join(' ')}`);
}
