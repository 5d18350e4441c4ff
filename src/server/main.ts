#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * psarnd [--config FILE] [--db FILE] [--listen HOST:PORT] [--http HOST:PORT]
 * Reads the config, starts the daemon, and handles signals: SIGTERM/SIGINT drain and exit 0,
 * SIGHUP reloads the config.
 *
 * `--max-semi-space-size=4` (in the shebang, `npm start` and the Dockerfile): psarnd's live set
 * is small and its garbage short-lived, so a small young generation keeps the RSS down (1M
 * routes under load: peak 298 -> ~240 MB) at no measurable cost in queries per second.
 */
import cluster from 'node:cluster';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type LoadOptions, loadConfig } from '../config/config.js';
import { echo } from '../errors.js';
import { packageVersion as version } from '../version.js';
import { announceWorker, CLUSTER_PORT_ENV, startPrimary, type WorkerFailed } from './cluster.js';
import { startDaemon } from './daemon.js';
import { psarndLogger } from './log.js';

const USAGE = `usage: psarnd [--config FILE] [--db FILE] [--listen HOST:PORT] [--http HOST:PORT] [--workers N]

  --config FILE        config file (default: env PSARN_CONFIG, else config/psarnd.yaml)
  --db FILE            SQLite database (default ./data/psarn.db)
  --listen HOST:PORT   DNS over UDP and TCP (default 127.0.0.1:8053)
  --http HOST:PORT     /metrics /health /ready and the web console at / (default 127.0.0.1:9153)
  --workers N          DNS worker processes sharing the sockets (default 1: serve in this process)
  --version, --help`;

export async function main(argv: string[]): Promise<number> {
  let values: {
    config?: string;
    db?: string;
    listen?: string;
    http?: string;
    workers?: string;
    help?: boolean;
    version?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        db: { type: 'string' },
        listen: { type: 'string' },
        http: { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`psarnd: ${stderrText(error)}; see psarnd --help\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`psarnd ${version()}\n`);
    return 0;
  }
  const loadOptions: LoadOptions = {
    env: process.env,
    overrides: { db: values.db, listen: values.listen, http: values.http, workers: values.workers },
    ...(values.config !== undefined ? { file: values.config } : {}),
  };
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(loadOptions);
  } catch (error) {
    process.stderr.write(`psarnd: ${stderrText(error)}\n`);
    return 1;
  }
  const { config } = loaded;
  const role = config.workers > 1 ? (cluster.isPrimary ? 'primary' : 'worker') : 'single';
  const log = psarndLogger({
    level: config.log.level,
    base: { service: 'psarnd', ...(role === 'worker' ? { worker: cluster.worker?.id } : {}) },
  });
  // The signals are handled from before the start: SIGHUP's default action ends the process, and
  // an orchestrator (or a test that has seen "psarnd serving") may send it, or SIGTERM, while
  // psarnd is still starting. A stop asked for then happens once the start is over.
  let running: { close(): Promise<void>; reload(): void } | undefined;
  let stopping = false;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const drain = (serving: NonNullable<typeof running>): void => {
    serving.close().then(
      () => finish(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        finish(1);
      },
    );
  };
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    if (running !== undefined) drain(running);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (running !== undefined) running.reload();
    else log.info('SIGHUP while starting: the config was read just now; nothing to reload');
  });
  // A worker whose primary is gone has nobody to serve metrics or restart it: stop.
  if (role === 'worker') process.on('disconnect', () => stop('disconnect'));

  // Before the start: a start that fails is logged after the config it ran with.
  if (role !== 'worker') log.info({ config: loaded.file ?? null, version: version() }, 'config loaded');
  try {
    if (role === 'primary') {
      const primary = await startPrimary(config, { log });
      running = { close: () => primary.close(), reload: () => primary.reload() };
    } else {
      const port = process.env[CLUSTER_PORT_ENV];
      const serving =
        role === 'worker' && port !== undefined
          ? { ...config, listen: { ...config.listen, port: Number(port) } }
          : config;
      const daemon = await startDaemon(serving, {
        log,
        http: role !== 'worker',
        reusePort: role === 'worker',
        // One NOTIFY per change, not one per worker: the first worker sends them.
        notify: role !== 'worker' || cluster.worker?.id === 1,
        // One driver of rollouts per database, as one sender of NOTIFY (docs/design.md#rollouts).
        rollouts: role !== 'worker' || cluster.worker?.id === 1,
      });
      if (role === 'worker') announceWorker(daemon.metrics.registry, daemon.dns, () => daemon.storeHealthy());
      running = {
        close: () => daemon.close(),
        reload: () => {
          try {
            daemon.reload(loadConfig(loadOptions).config);
          } catch (error) {
            log.error({ err: error }, 'config reload failed; keeping the running config');
          }
        },
      };
    }
  } catch (error) {
    log.fatal({ err: error }, 'psarnd could not start');
    // A worker tells the primary, which prints the one line for all of them (cluster.ts).
    if (role === 'worker' && process.send !== undefined) await tellPrimary(stderrText(error));
    else process.stderr.write(`psarnd: ${stderrText(error)}\n`);
    return 1;
  }
  if (stopping) drain(running);
  return finished;
}

/** Sends the primary why this worker could not start; resolves once it is sent. */
function tellPrimary(reason: string): Promise<void> {
  const message: WorkerFailed = { type: 'psarn:failed', reason };
  return new Promise<void>((resolve) => {
    process.send!(message, undefined, {}, () => resolve());
  });
}

/** An error as psarnd's one stderr line: escaped and bounded (an unknown flag can be 128 KB). */
function stderrText(error: unknown): string {
  return echo(String((error as Error)?.message ?? error).split('\n', 1)[0]!, 2000);
}

function isEntryPoint(): boolean {
  if (process.argv[1] === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
