/** What every command gets: the loaded config, the output streams, and the store opener. */
import { userInfo } from 'node:os';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';

/** A writable text stream (process.stdout, or a collector in tests). */
export interface Output {
  write(chunk: string): unknown;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface Context {
  config: Config;
  io: Io;
  /**
   * Opens the existing database (never creates one). `'write'`: for a command that changes
   * routes, refused when the database is a secondary's copy (docs/design.md#secondary-mode).
   * @throws CliError ERR_RUNTIME
   */
  openStore(purpose?: 'write'): Store;
  /** Monotonic ms clock for durations. */
  now(): number;
}

/**
 * Who a local write is journaled as (docs/design.md#change-actors): 'user:' and the OS user,
 * from $USER when set, else the password database; a UID with no entry (a container's random
 * UID) is 'user:uid-N'.
 */
export function localActor(env: Record<string, string | undefined>): string {
  const fromEnv = env.USER ?? env.LOGNAME;
  if (fromEnv !== undefined && fromEnv !== '') return `user:${fromEnv}`;
  try {
    return `user:${userInfo().username}`;
  } catch {
    return `user:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
