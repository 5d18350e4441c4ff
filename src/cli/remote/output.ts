/** Where a remote `zone export` writes (docs/cli.md#remote). */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ECHO_LONG, echo, quote } from '../../errors.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';

/** Where `zone export` writes: stdout, or `output` through a temporary file renamed into place at `commit` (as the local `zone export -o`). */
export interface Sink {
  write(chunk: string): void;
  commit(): void;
  /** Removes the temporary file. */
  abort(): void;
}

export function outputSink(ctx: Context, output: string | undefined): Sink {
  if (output === undefined) return { write: (c) => ctx.io.stdout.write(c), commit() {}, abort() {} };
  const target = resolve(ctx.io.cwd, output);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const fail = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR' ? 'EISDIR (a folder; give a file path)' : (code ?? echo((err as Error).message, ECHO_LONG));
    return new CliError('ERR_RUNTIME', `cannot write ${quote(output, ECHO_LONG)}: ${why}`, { cause: err });
  };
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw fail(err);
  }
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    write(chunk) {
      try {
        writeSync(fd!, chunk);
      } catch (err) {
        throw fail(err);
      }
    },
    commit() {
      try {
        close();
        renameSync(tmp, target);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw fail(err);
      }
    },
    abort() {
      close();
      rmSync(tmp, { force: true });
    },
  };
}
