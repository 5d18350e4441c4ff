/**
 * psarnd with `workers` > 1 (node:cluster): the primary prepares the database once, forks the
 * DNS workers, serves HTTP with the workers' metrics summed (prom-client's AggregatorRegistry),
 * restarts a worker that dies, and passes SIGHUP and SIGTERM on. Each worker is a whole
 * single-process daemon without HTTP: it binds the UDP port itself with SO_REUSEPORT on the
 * native carrier (the kernel spreads datagrams by source), or shares the primary's socket on
 * node:dgram; it shares the TCP listener (the primary spreads connections), and has its own
 * database connection, change pickup, answer cache and route index.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config, HostPort } from '../config/config.js';
import { Store } from '../store/store.js';
import { checkHttpExposure } from './console-auth.js';
import { consoleHttp } from './console-http.js';
import { prepareStore } from './daemon.js';
import { connectionCaps } from './fd-budget.js';
import { HTTP_MAX_CONNECTIONS, type HttpListener, listenHttp } from './http.js';
import { freeDnsPort, ListenError } from './listen.js';

/** Sent by a worker once its listeners are up. */
export interface WorkerReady {
  type: 'psarn:ready';
  dns: HostPort;
}

function isWorkerReady(message: unknown): message is WorkerReady {
  return (message as WorkerReady | undefined)?.type === 'psarn:ready';
}

/** Sent by a worker when its store starts or stops failing reads: the primary's /ready says so. */
export interface WorkerStore {
  type: 'psarn:store';
  healthy: boolean;
}

function isWorkerStore(message: unknown): message is WorkerStore {
  return (message as WorkerStore | undefined)?.type === 'psarn:store';
}

/**
 * Sent by a worker whose start failed, with the one line psarnd would print: the primary prints
 * it once (not once per worker) and stops, rather than forking the worker again and again.
 */
export interface WorkerFailed {
  type: 'psarn:failed';
  reason: string;
}

function isWorkerFailed(message: unknown): message is WorkerFailed {
  const m = message as WorkerFailed | undefined;
  return m?.type === 'psarn:failed' && typeof m.reason === 'string';
}

/** How often a worker looks at its store's health to tell the primary of a change. */
const STORE_HEALTH_MS = 1000;

export interface Primary {
  readonly dns: HostPort;
  readonly http: HostPort;
  /** Passes SIGHUP to every worker (each re-reads the config). */
  reload(): void;
  /** SIGTERM to every worker, waits for them (bounded), closes HTTP. */
  close(): Promise<void>;
}

/** The DNS port a worker binds, set by the primary (see freeDnsPort). */
export const CLUSTER_PORT_ENV = 'PSARN_CLUSTER_PORT';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts the primary. Order (docs/design.md#bind-before-the-store): HTTP is bound, the DNS port
 * is checked free for UDP and TCP (or picked, for port 0), and only then is the database created
 * and the demo loaded and are the workers forked; so a taken port stops psarnd with one line and
 * nothing created. A worker that fails to start (it reports why) fails the whole start with its
 * reason, instead of being forked again and again.
 * @throws ListenError, StoreError, RoutesFileError, or a worker's reason as an Error
 */
export async function startPrimary(config: Config, options: { log: Logger }): Promise<Primary> {
  const { log } = options;
  const count = config.workers;
  const aggregator = new AggregatorRegistry();
  const ready = new Set<number>();
  /** Workers whose store failed a read lately (a damaged file fails every worker's queries alike). */
  const failing = new Set<number>();
  let dns: HostPort | undefined;
  let stopping = false;
  let started = false;
  let allReady: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const starting = new Promise<void>((resolve, reject) => {
    allReady = resolve;
    failed = reject;
  });
  // No unhandled rejection when a worker fails before the primary awaits `starting`.
  starting.catch(() => {});

  checkHttpExposure(config.http, config.httpToken);
  /** The console API reads the database the workers serve, on a read-only connection of its own. */
  let apiStore: Store | undefined;
  let http: HttpListener;
  try {
    http = await listenHttp(config.http, {
      maxConnections: connectionCaps({ tcp: 0, http: HTTP_MAX_CONNECTIONS }, log).http,
      metrics: () => aggregator.clusterMetrics(),
      contentType: aggregator.contentType,
      ready: () => started && ready.size === count,
      storeHealthy: () => failing.size === 0,
      console: consoleHttp(config, {
        log,
        store: () => {
          if (!started) return undefined;
          apiStore ??= Store.open(config.db, { readonly: true, create: false, cacheKiB: 2048 });
          return apiStore;
        },
        epochTtl: () => config.epochTtl,
      }),
      log,
    });
  } catch (error) {
    throw new ListenError('http', 'tcp', config.http, error);
  }
  const workers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const stopWorkers = async (): Promise<void> => {
    stopping = true;
    const exits = workers().map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          worker.process.kill('SIGTERM');
        }),
    );
    const deadline = setTimeout(() => {
      for (const worker of workers()) worker.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await Promise.all(exits);
    clearTimeout(deadline);
  };

  try {
    // Workers on the native UDP carrier each bind the port (SO_REUSEPORT), so `listen: host:0`
    // must become one concrete port for all of them: the primary picks a free one. A fixed port
    // is checked the same way: a worker would otherwise find it taken only after the database
    // was made (and, with SO_REUSEPORT, could even join another psarnd of this user on it).
    const port = await freeDnsPort(config.listen);
    prepareStore(config, log);

    // Every worker must take the cookies the others hand out (the kernel spreads a client's
    // queries over them): without a configured secret, they share one made here.
    const cookieSecret =
      config.cookieSecret === undefined ? { PSARN_COOKIE_SECRET: randomBytes(16).toString('hex') } : {};
    const fork = (): Worker => {
      const worker = cluster.fork({ [CLUSTER_PORT_ENV]: String(port), ...cookieSecret });
      worker.on('message', (message: unknown) => {
        if (isWorkerStore(message)) {
          if (message.healthy) failing.delete(worker.id);
          else failing.add(worker.id);
          return;
        }
        if (isWorkerFailed(message)) {
          if (!started) failed(new Error(message.reason));
          return;
        }
        if (!isWorkerReady(message)) return;
        ready.add(worker.id);
        dns = message.dns;
        if (ready.size === count) allReady();
      });
      return worker;
    };
    cluster.on('exit', (worker, code, signal) => {
      ready.delete(worker.id);
      failing.delete(worker.id);
      if (stopping) return;
      if (!started) {
        // The reason came first when the worker could send it; this is for a crash.
        failed(new Error(`a DNS worker exited (${signal ?? `code ${code}`}) before it was serving; see the log`));
        return;
      }
      log.error({ pid: worker.process.pid, code, signal }, 'DNS worker exited; starting another');
      fork();
    });
    for (let i = 0; i < count; i++) fork();

    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      starting,
      new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () => reject(new Error(`the ${count} DNS workers did not start within ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timeout));
    started = true;
  } catch (error) {
    await stopWorkers();
    await http.close();
    apiStore?.close();
    throw error;
  }

  log.info({ dns, http: http.address, db: config.db, workers: count }, 'psarnd serving');
  return {
    dns: dns!,
    http: http.address,
    reload() {
      for (const worker of workers()) worker.process.kill('SIGHUP');
    },
    async close() {
      await stopWorkers();
      await http.close();
      apiStore?.close();
      log.info('psarnd stopped');
    },
  };
}

/**
 * In a worker: answer the primary's metric requests with this registry, say we are up, and tell
 * the primary whenever the store starts or stops failing reads (its /ready answers for all).
 */
export function announceWorker(registry: Registry, dns: HostPort, storeHealthy: () => boolean): void {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs the worker-side listener for the primary's requests.
  new AggregatorRegistry();
  const message: WorkerReady = { type: 'psarn:ready', dns };
  process.send?.(message);
  let healthy = true;
  setInterval(() => {
    const now = storeHealthy();
    if (now === healthy) return;
    healthy = now;
    process.send?.({ type: 'psarn:store', healthy } satisfies WorkerStore);
  }, STORE_HEALTH_MS).unref();
}
