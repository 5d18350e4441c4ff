/** The package as a user imports it: the `exports` map's "." entry (self-reference by name). */
import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from './helpers/daemon.js';

describe("import from 'psarn'", () => {
  it('exports the psARN grammar and name mapping', async () => {
    const psarn = await import('psarn');
    assert.equal(
      psarn.psarnToName('arn:aws:psarn:us-east-1:123456789012:orders/created'),
      'created.orders.123456789012.us-east-1.aws.psarn.internal.',
    );
    assert.deepEqual(psarn.nameToPsarn('created.orders.123456789012.us-east-1.aws.psarn.internal.').path, [
      'orders',
      'created',
    ]);
    assert.throws(() => psarn.parsePsarn('arn:aws:psarn:us-east-1:1:x'), { code: 'ERR_INVALID_PSARN' });
  });
});

describe('the bin entries', () => {
  it('are executable after a build, so `npm link` keeps working across rebuilds (issue 9)', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.deepEqual(Object.keys(pkg.bin).sort(), ['psarn', 'psarnd']);
    for (const file of Object.values(pkg.bin)) {
      assert.doesNotThrow(() => accessSync(join(projectRoot, file), constants.X_OK), `${file} is not executable`);
      assert.match(
        readFileSync(join(projectRoot, file), 'utf8'),
        /^#!\/usr\/bin\/env (-S )?node[ \n]/,
        `${file} has no shebang`,
      );
    }
  });
});
