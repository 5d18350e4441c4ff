import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { skipUnlessTool, toolAvailable, toolPath } from '../helpers/tools.js';

describe('test/helpers/tools', () => {
  const missing = 'psarn-no-such-tool-7f3a';

  it('finds an executable on PATH and not a missing one', () => {
    assert.match(toolPath('node') ?? '', /node$/);
    assert.equal(toolAvailable(missing), false);
  });

  it('skips a test locally and fails it in CI when the tool is missing', () => {
    const saved = process.env.CI;
    const skipped: string[] = [];
    const t = { skip: (message: string) => skipped.push(message) } as unknown as TestContext;
    try {
      delete process.env.CI;
      assert.equal(skipUnlessTool(t, missing), false);
      assert.deepEqual(skipped, [`${missing} not installed`]);
      process.env.CI = 'true';
      assert.throws(() => skipUnlessTool(t, missing), /not installed, and CI=true requires it/);
      assert.equal(skipUnlessTool(t, 'node'), true);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});
