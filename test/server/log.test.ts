/**
 * psarnd's logger when its stdout reader has gone (`psarnd | head`, a log shipper that died):
 * the process still exits. pino's default stream queued a line behind a write in flight and
 * flushed the queue at exit, retrying the EPIPE forever: psarnd hung after "draining" (issue 9).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { entryArgs } from '../helpers/daemon.js';

/** The compiled (or, under tsx, source) log module beside the server entry point. */
function logModule(): string {
  const main = entryArgs('server').at(-1)!;
  return pathToFileURL(join(main, '..', main.endsWith('.ts') ? 'log.ts' : 'log.js')).href;
}

describe('psarndLogger', () => {
  it('lets the process exit when stdout is a pipe nobody reads any more', async () => {
    // Two lines at once, then exit: the second is queued behind the first (which meets EPIPE)
    // when the exit handler flushes.
    const script = `
      const { psarndLogger } = await import(${JSON.stringify(logModule())});
      const log = psarndLogger({ level: 'info', base: { service: 'psarnd' } });
      log.info('draining');
      log.info('psarnd stopped');
      process.exit(0);
    `;
    const underTsx = entryArgs('server').includes('tsx');
    const child = spawn(
      process.execPath,
      [...(underTsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // Our end of the pipe closes before the child has written anything.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const bound = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(bound);
    assert.deepEqual({ code, signal, stderr }, { code: 0, signal: null, stderr: '' });
  });
});
