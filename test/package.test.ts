/** The package as a user imports it: the `exports` map's "." entry (self-reference by name). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from './helpers/daemon.js';
import { relativeLinks } from './helpers/markdown.js';

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

describe('the packed psarn tarball', () => {
  it('has the LICENSE its package.json names, and every file the README links to (docs/ included)', async () => {
    // --ignore-scripts: the list only (no rebuild of dist/ under the running tests).
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts', '--silent'],
      {
        cwd: projectRoot,
        maxBuffer: 16 << 20,
      },
    );
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { license: string };
    assert.equal(pkg.license, 'Apache-2.0');
    assert.ok(files.has('LICENSE'));
    assert.match(readFileSync(join(projectRoot, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
    const links = relativeLinks(readFileSync(join(projectRoot, 'README.md'), 'utf8'));
    assert.ok(links.includes('docs/client.md'), String(links));
    for (const link of links)
      assert.ok(files.has(posix.normalize(link)), `README links to ${link}, not in the tarball`);
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
