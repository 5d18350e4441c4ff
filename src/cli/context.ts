/** What every command gets: the loaded config, the output streams, and the store opener. */
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
  /** Opens the existing database (never creates one). @throws CliError ERR_RUNTIME */
  openStore(): Store;
  /** Monotonic ms clock for durations. */
  now(): number;
}
