/** psarnd's own stderr line is bounded and printable too (issue 8, defect 5.7). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { entryArgs, projectRoot } from '../helpers/daemon.js';

const run = promisify(execFile);

async function stderrOf(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [...entryArgs('server'), ...args], { cwd: projectRoot, timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('psarnd stderr', () => {
  it('an unknown 100 KB flag with control characters gives one short escaped line', async () => {
    const { code, stderr } = await stderrOf([`--\u001b[2J${'x'.repeat(100_000)}`]);
    assert.equal(code, 2);
    assert.ok(stderr.length < 2100, `${stderr.length} bytes`);
    assert.match(stderr, /^psarnd: Unknown option '--\\x1b\[2Jx+… \(\d+ bytes\); see psarnd --help\n$/);
  });
});
