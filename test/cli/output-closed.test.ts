/**
 * A closed stdout ends a command quietly, as `ls | head` does: `psarn route list | head -1` used
 * to print a 20-line EPIPE stack trace and exit 1 (issue 9). Another write failure is still the
 * command's error.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { OutputClosedError } from '../../src/cli/errors.js';
import { processStdout } from '../../src/cli/main.js';
import { Store } from '../../src/store/index.js';
import { entryArgs, projectRoot } from '../helpers/daemon.js';
import { PARAMS, tempDir, weighted, ZONE } from '../store/helpers.js';

/** A stream whose writes fail with `code` once `fail` is set (as a pipe whose reader left does). */
function failing(code: string): { stream: Writable; fail: () => void } {
  let failed = false;
  const stream = new Writable({
    write(_chunk, _encoding, callback) {
      if (!failed) return callback();
      callback(Object.assign(new Error(`write ${code}`), { code }));
    },
  });
  return { stream, fail: () => (failed = true) };
}

describe('a closed stdout', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('processStdout: after an EPIPE the next write throws OutputClosedError; another error is rethrown', () => {
    const pipe = failing('EPIPE');
    const out = processStdout(pipe.stream as never);
    out.write('first\n');
    pipe.fail();
    out.write('the write that fails\n');
    assert.throws(() => out.write('next\n'), OutputClosedError);

    const disk = failing('ENOSPC');
    const file = processStdout(disk.stream as never);
    disk.fail();
    file.write('the write that fails\n');
    assert.throws(() => file.write('next\n'), { code: 'ENOSPC' });
  });

  it('`psarn route list | head -1`: the first line, then exit 0 with nothing on stderr', async () => {
    const db = tmp.file();
    const store = Store.open(db);
    const routes = Array.from({ length: 3000 }, (_, i) => ({ path: `svc/r${i}`, spec: weighted(`f${i}`) }));
    store.importZones([{ name: ZONE, routes }], PARAMS);
    store.close();
    const child = spawn(process.execPath, [...entryArgs('cli'), 'route', 'list', '--db', db], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Read the first chunk, then go away as `head -1` does.
    const first = await new Promise<string>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(`${chunk}`)),
    );
    child.stdout.destroy();
    const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    assert.match(first, /^arn:aws:psarn:us-east-1:123456789012:svc\/r0 {2}weighted/);
    assert.equal(stderr, '');
    assert.equal(status, 0);
  });
});
