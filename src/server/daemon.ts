/**
 * psarnd wired together: store, zone view, answer cache, handler, UDP/TCP/HTTP listeners, the
 * change poll, reload and drain. Only this file and main.ts know all the collaborators.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Config, ConfigError, type HostPort, zoneParams } from '../config/config.js';
import { CallerMap } from '../map/caller-map.js';
import { CallerPersister, loadCallers } from '../map/caller-persist.js';
import { PrometheusGate } from '../ops/prometheus.js';
import { type DriverClock, RolloutDriver } from '../ops/rollout-driver.js';
import type { GateEvaluator } from '../ops/types.js';
import { CallerReporter } from '../secondary/caller-report.js';
import { notifyAcceptor } from '../secondary/notify-in.js';
import { Secondary } from '../secondary/secondary.js';
import { expiresSetting, PRIMARY_SETTING, refreshedSetting, storeState } from '../secondary/state-store.js';
import { TransferClient } from '../secondary/transfer-client.js';
import type { Primary, ZoneTransferer } from '../secondary/types.js';
import { Store } from '../store/store.js';
import { COOKIE_SECRET_SIZE } from '../wire/cookie.js';
import { canonicalName, keyringReplyVerifier, keyringSigner } from '../wire/tsig.js';
import { AnswerCache } from '../zone/cache.js';
import { RouteIndexer } from '../zone/route-indexer.js';
import { StoreZoneView, type ZoneChanges } from '../zone/store-view.js';
import { type SyncTimers, ZoneSync } from '../zone/zone-sync.js';
import { checkHttpExposure } from './console-auth.js';
import { consoleHttp } from './console-http.js';
import { type DemoRoutes, demoRoutesFor, loadDemoRoutes } from './demo.js';
import { connectionCaps } from './fd-budget.js';
import { QueryHandler } from './handler.js';
import { HTTP_MAX_CONNECTIONS, type HttpListener, listenHttp } from './http.js';
import { LateHandler } from './late-handler.js';
import { formatHostPort, ListenError, listenDns } from './listen.js';
import { DaemonMetrics } from './metrics.js';
import { Notifier } from './notify.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { listenTcp, type TcpListener } from './tcp-listener.js';
import { type AllowTransfer, allowTransferByKeys, TransferServer } from './transfer.js';
import { listenUdp, type UdpListener } from './udp-listener.js';
import { UpdateServer } from './update.js';

export interface DaemonOptions {
  log: Logger;
  /** How often to look for changes written by other processes. Default 100 ms (docs/design.md#freshness-rule: served within 1 s). */
  pollMs?: number;
  /** A registry to put the metrics in (default: a new one). */
  registry?: Registry;
  /** Serve HTTP (/metrics /health /ready). A cluster worker leaves that to the primary. Default true. */
  http?: boolean;
  /** Bind UDP with SO_REUSEPORT (cluster workers on the native carrier each bind the port). */
  reusePort?: boolean;
  /** Send NOTIFY to config `notify` (default true; of cluster workers only the first does). */
  notify?: boolean;
  /** Signs a NOTIFY with a TSIG key of config `tsig.keys` (src/server/notify.ts, NotifierOptions.sign). */
  sign?: (message: Buffer, keyName: string) => Buffer;
  /** Verifies the TSIG of a secondary's answer to a signed NOTIFY (NotifierOptions.verify). */
  verify?: (reply: Buffer, request: Buffer, keyName: string) => boolean;
  /**
   * The zone-transfer ACL, in place of config transfer.allow's: for tests that run transfers in
   * this process without TSIG (docs/design.md#transfers). Never set from config or a flag.
   */
  allowTransfer?: AllowTransfer;
  /**
   * A secondary's transfer engine (docs/design.md#secondary-mode), given the store connection it
   * writes through and the primary; default the TransferClient. Tests put a fake in.
   */
  transferer?: (context: { store: Store; primary: Primary; log: Logger }) => ZoneTransferer;
  /** Milliseconds since the epoch for the secondary's timers (default Date.now). */
  wallClock?: () => number;
  /**
   * Take the due steps of rollouts (docs/design.md#rollouts): default true; of cluster workers
   * only the first does, and a secondary never does (its routes are its primary's).
   */
  rollouts?: boolean;
  /** Evaluates rollout gates (docs/design.md#rollout-gates); tests put a fake in. */
  gate?: GateEvaluator;
  /** The rollout driver's clock and timers (default the real ones), for tests. */
  rolloutClock?: DriverClock;
}

export interface Daemon {
  /** Bound DNS address (UDP and TCP share the port). */
  readonly dns: HostPort;
  /** Bound HTTP address; undefined when started with `http: false`. */
  readonly http: HostPort | undefined;
  readonly metrics: DaemonMetrics;
  /** False while the store failed a read in the last few seconds (what /ready reports). */
  storeHealthy(): boolean;
  /** Applies a new config (SIGHUP). Keys that need a restart are logged and left as they were. */
  reload(config: Config): void;
  /** Picks up changes now (the poll does this every pollMs). */
  poll(): void;
  /** Stops accepting, drains TCP, closes the store. */
  close(): Promise<void>;
}

/**
 * How long a DNS UPDATE waits for another writer's lock (the CLI, an import) before it answers
 * SERVFAIL: the wait blocks the event loop, so it is short; a `route set` holds the lock for
 * milliseconds (docs/design.md#dns-update).
 */
export const UPDATE_BUSY_TIMEOUT_MS = 200;

/**
 * How long a caller map write waits for another writer's lock before it gives up until the next
 * persist (docs/design.md#the-caller-map): it runs on the event loop, and losing one tick costs
 * nothing (the map keeps what was not written). Other workers' persists take a few ms.
 */
const CALLERS_BUSY_TIMEOUT_MS = 100;

/**
 * A pair seen again with the same serial has its last-seen written at most this often (or every
 * persistEvery, when longer): the serial, what change confirmation needs, is written at the next
 * persist; a last-seen-only upsert every 5 s for every busy pair (each caller's `_epoch` check)
 * cost as much CPU as answering the queries (docs/design.md#the-caller-map).
 */
const CALLERS_TOUCH_MS = 60_000;

function touchEvery(config: Config): number {
  return Math.max(config.callers.persistEveryMs, CALLERS_TOUCH_MS);
}

/**
 * The caller map's clock ticks this often (docs/design.md#the-caller-map): a last-seen to a
 * tenth of a second is plenty, and a Date.now() per recorded query showed in profiles.
 */
const CALLERS_CLOCK_MS = 100;

/** Keys whose change needs a restart: sockets and the database are opened once. */
const RESTART_KEYS = [
  'listen',
  'http',
  'db',
  'namespace',
  'workers',
  'routeIndex',
  'udpIo',
  'notify',
  'secondary',
  'httpToken',
] as const;

/**
 * Secondary mode runs in one process: one scheduler, one writer, and NOTIFY reaching the process
 * that refreshes (docs/design.md#secondary-mode). @throws ConfigError
 */
function checkSecondary(config: Config): void {
  if (config.secondary !== undefined && config.workers > 1) {
    throw new ConfigError(
      'workers',
      `config workers: ${config.workers} with secondary.primary set; a secondary serves from one process (workers: 1)`,
    );
  }
  const key = config.secondary?.key;
  if (key !== undefined && !config.tsig.keys.some((k) => k.name === canonicalName(key))) {
    throw new ConfigError(
      'secondary.key',
      `config secondary.key: tsig key '${key}' is not configured; add it under tsig.keys, or remove secondary.key to transfer unsigned`,
    );
  }
}

/**
 * Marks the database as a secondary's copy of its primary (the CLI refuses to write it), or,
 * when the config has no `secondary` any more, clears the mark (a promotion).
 */
function markRole(store: Store, config: Config, log: Logger): void {
  const marked = store.setting(PRIMARY_SETTING);
  if (config.secondary !== undefined) {
    const primary = formatHostPort(config.secondary.primary);
    if (marked !== primary) store.putSetting(PRIMARY_SETTING, primary);
    return;
  }
  if (marked === undefined) return;
  store.putSetting(PRIMARY_SETTING, undefined);
  for (const zone of store.zones()) {
    store.putSetting(refreshedSetting(zone.name), undefined);
    store.putSetting(expiresSetting(zone.name), undefined);
  }
  log.warn(
    { primary: marked },
    'promoted: this database was a secondary copy and the config has no secondary; local writes are allowed now',
  );
}

/**
 * Opens the database once, creating and migrating it, and loads the demo routes into one it
 * created: done before any DNS worker opens the file, so workers never race to do it. The demo
 * file is read before the database is created, so a bad one leaves no database behind.
 */
export function prepareStore(config: Config, log: Logger): void {
  checkSecondary(config);
  // A secondary's routes are its primary's: no demo routes.
  const demo = config.secondary === undefined ? demoRoutesFor(config, (line) => log.warn(line)) : undefined;
  const store = Store.open(config.db, {
    create: true,
    mode: config.dbMode,
    journalKeep: config.journal.keep,
    journalMaxAgeMs: config.journal.maxAgeMs,
  });
  try {
    loadDemo(store, demo, log);
    markRole(store, config, log);
  } finally {
    store.close();
  }
}

/** docs/design.md#demo-routes-only-into-a-new-database: only into a database this start created. */
function loadDemo(store: Store, demo: DemoRoutes | undefined, log: Logger): void {
  const loaded = loadDemoRoutes(store, demo);
  if (loaded > 0) log.info({ file: demo?.file, routes: loaded }, 'new database: loaded the demo routes');
}

/**
 * Starts one serving process. Every socket is bound before the store is touched
 * (docs/design.md#bind-before-the-store): a port in use stops the start with one ListenError
 * and no database created, no demo loaded. The listeners drop what arrives in the few
 * milliseconds until the store is open (LateHandler), and /ready says "starting" meanwhile.
 * @throws ListenError, StoreError, RoutesFileError
 */
export async function startDaemon(config: Config, options: DaemonOptions): Promise<Daemon> {
  const { log } = options;
  const metrics = new DaemonMetrics(options.registry !== undefined ? { registry: options.registry } : {});
  let current = config;
  let store: Store | undefined;
  let udp: UdpListener | undefined;
  let tcp: TcpListener | undefined;
  let http: HttpListener | undefined;
  let sync: ZoneSync | undefined;
  let ready = false;
  let indexer: RouteIndexer | undefined;
  let updateWriter: Store | undefined;
  let driver: RolloutDriver | undefined;
  let driverStore: Store | undefined;
  let callerStore: Store | undefined;
  let callerPersister: CallerPersister | undefined;
  let callersClock: NodeJS.Timeout | undefined;
  const storeHealthy = (): boolean => store?.readFailure() === undefined;
  const serving = new LateHandler();
  checkSecondary(config);
  if (options.http !== false) checkHttpExposure(config.http, config.httpToken);
  /** The console API's own read-only connection, opened at its first read (console-http.ts). */
  let apiStore: Store | undefined;
  let secondary: Secondary | undefined;
  let reporter: CallerReporter | undefined;
  let transferStore: Store | undefined;
  // Before any socket: a peer naming a key there is no signer for is a config error. By default
  // NOTIFYs are signed and their answers verified with config tsig.keys (src/wire/tsig.ts).
  const keyring = new Map(config.tsig.keys.map((k) => [k.name, k]));
  for (const [index, peer] of config.notify.entries()) {
    if (options.sign === undefined && peer.key !== undefined && !keyring.has(canonicalName(peer.key))) {
      throw new ConfigError(
        `notify[${index}].key`,
        `config notify[${index}].key: tsig key '${peer.key}' is not configured; add it under tsig.keys, or remove the key to send unsigned`,
      );
    }
  }
  const sign = options.sign ?? (keyring.size > 0 ? keyringSigner(keyring) : undefined);
  /** tsig.keys as of the last reload (the secondary's transfers sign with it). */
  let liveKeys = keyring;
  const verify = options.verify ?? (keyring.size > 0 ? keyringReplyVerifier(keyring) : undefined);
  const notifier =
    options.notify !== false && config.notify.length > 0
      ? new Notifier({
          peers: config.notify,
          log,
          metrics,
          ...(sign !== undefined ? { sign } : {}),
          ...(verify !== undefined ? { verify } : {}),
        })
      : undefined;
  try {
    // Connection caps that keep this process under its open-files limit.
    const caps = connectionCaps(
      { tcp: config.tcp.maxConnections, http: options.http === false ? 0 : HTTP_MAX_CONNECTIONS },
      log,
    );
    // TCP on the port UDP got, so `listen: host:0` gives one port for both (another pair is
    // tried when that port's TCP twin is taken).
    ({ udp, tcp } = await listenDns(config.listen, {
      udp: (at) => listenUdp(at, serving, log, { io: config.udpIo, reusePort: options.reusePort === true }),
      tcp: (at) => listenTcp(at, serving, { ...config.tcp, maxConnectionsCeiling: caps.tcpCeiling, metrics, log }),
    }));
    metrics.udpDrops = udp.drops;
    if (options.http !== false) {
      const { registry } = metrics;
      try {
        http = await listenHttp(config.http, {
          maxConnections: caps.http,
          metrics: () => registry.metrics(),
          contentType: registry.contentType,
          ready: () => ready,
          storeHealthy,
          ...(config.secondary !== undefined
            ? { secondary: () => secondary?.unready() ?? { missing: [], expired: [] } }
            : {}),
          console: consoleHttp(config, {
            log,
            store: () => {
              if (!ready || store === undefined) return undefined;
              apiStore ??=
                store.file === ':memory:'
                  ? store
                  : Store.open(store.file, { readonly: true, create: false, cacheKiB: 2048 });
              return apiStore;
            },
            epochTtl: () => current.epochTtl,
          }),
          log,
        });
      } catch (error) {
        throw new ListenError('http', 'tcp', config.http, error);
      }
    }

    // Bound: now the store. The demo file is read before the database is created.
    const demo = config.secondary === undefined ? demoRoutesFor(config, (line) => log.warn(line)) : undefined;
    // 16 MiB of page cache: answers are point reads, and the OS caches the file outside our RSS.
    const opened = Store.open(config.db, {
      create: true,
      mode: config.dbMode,
      cacheKiB: 16384,
      journalKeep: config.journal.keep,
      journalMaxAgeMs: config.journal.maxAgeMs,
    });
    store = opened;
    loadDemo(opened, demo, log);
    markRole(opened, config, log);
    // The catalog zone (RFC 9432) lists every zone; its SOA takes the parameters a new zone would.
    const catalog = { namespace: config.namespace, params: zoneParams(config) };
    const view = new StoreZoneView(opened, { epochTtl: config.epochTtl, catalog });
    const cache = new AnswerCache();
    metrics.cacheSize = () => cache.size;
    indexer = new RouteIndexer({
      store: opened,
      zones: () => view.zones(),
      // A worker cannot open ':memory:', and under tsx (src/*.ts run directly) there is no
      // compiled worker file: build in this thread then.
      inline: opened.file === ':memory:' || import.meta.url.endsWith('.ts'),
      // A 1M-route build is mostly SQLite reads: two workers halve it while the event loop,
      // serving from the store meanwhile, stays mostly idle. More cores help little past four.
      // A cluster worker (reusePort) builds with one: its siblings build their indexes at once.
      buildWorkers: options.reusePort === true ? 1 : Math.min(4, availableParallelism()),
      onBuilt: ({ routes, bytes, seconds, parts }) => {
        metrics.indexRoutes.set(routes);
        metrics.indexBytes.set(bytes);
        metrics.indexBuildSeconds.set(seconds);
        metrics.indexBuilds.inc();
        log.info({ routes, bytes, seconds: Number(seconds.toFixed(3)), workers: parts }, 'route index built');
      },
      onError: (error) => log.error({ err: error }, 'building the route index failed; answering from the store'),
    });
    const routes = indexer;
    // The rollout driver notices the CLI's rollout writes at the change poll's tick, by its own
    // connection's data_version (docs/design.md#rollouts): no timer of its own polls the table.
    const pollTimers: SyncTimers = {
      setInterval: (fn, ms) =>
        setInterval(() => {
          fn();
          driver?.notice();
        }, ms).unref(),
      clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
    };
    sync = new ZoneSync({ view, cache, index: routes, pollMs: options.pollMs ?? 100, timers: pollTimers });
    let edns = ednsIdentity(config, undefined);
    // The ACL of transfer.allow (re-read on reload), unless a test put its own in.
    let acl = options.allowTransfer ?? allowTransferByKeys(config.transfer.allow);
    const transfers = new TransferServer({
      // Each transfer reads one snapshot on a read-only connection of its own, held while the
      // peer reads (docs/design.md#transfers); ':memory:' has no second connection to open.
      openStore: () =>
        opened.file === ':memory:'
          ? { store: opened, close: () => {} }
          : (() => {
              const own = Store.open(opened.file, { readonly: true, create: false, cacheKiB: 2048 });
              return { store: own, close: () => own.close() };
            })(),
      allow: (request, peer) => acl(request, peer),
      epochTtl: () => current.epochTtl,
      // The catalog as the view serves it: the namespace of the start, the SOA timers of the start.
      catalog: () => catalog,
      log,
      metrics,
      // RFC 7314 §3.2: a secondary's transfers carry the seconds its own copy has left, as its
      // SOA answers do (the handler's expireFor); a primary's the SOA field.
      expireFor: (zone, soaExpire) => secondary?.expireFor(zone, soaExpire) ?? soaExpire,
      udpPayloadSize: config.udpPayloadSize,
    });
    // DNS UPDATE writes on a connection of its own with a short busy timeout: a write runs on
    // the event loop, and waiting 5 s for a `zone import`'s lock would stall every query
    // (docs/design.md#dns-update). ':memory:' has no second connection: its one writes then.
    // Opened on the first UPDATE a key allows: a daemon without update.allow never opens it.
    const updateStore = (): Store => {
      if (opened.file === ':memory:') return opened;
      updateWriter ??= Store.open(opened.file, {
        create: false,
        busyTimeoutMs: UPDATE_BUSY_TIMEOUT_MS,
        cacheKiB: 2048,
        journalKeep: config.journal.keep,
        journalMaxAgeMs: config.journal.maxAgeMs,
      });
      return updateWriter;
    };
    // Picked up at once after the write, not at the next poll: served and NOTIFYed before the reply.
    const updates = new UpdateServer({ store: updateStore, metrics, log, changed: () => sync?.poll(true) }, config);
    // Secondary mode (docs/design.md#secondary-mode): the scheduler refreshes the local copy
    // through a connection of its own, so that this connection's data_version moves and the
    // pickup serves each refresh as it serves a CLI write (':memory:' has one connection: its
    // pickups are forced).
    const secondaryConfig = config.secondary;
    if (secondaryConfig !== undefined) {
      const own =
        opened.file === ':memory:'
          ? opened
          : Store.open(opened.file, {
              create: false,
              cacheKiB: 2048,
              journalKeep: config.journal.keep,
              journalMaxAgeMs: config.journal.maxAgeMs,
            });
      transferStore = own;
      // The key as tsig.keys has it now: a SIGHUP that rotates its secret applies to the next
      // query (docs/design.md#secondary-mode).
      const keyName = secondaryConfig.key === undefined ? undefined : canonicalName(secondaryConfig.key);
      const primary: Primary =
        keyName === undefined
          ? { address: secondaryConfig.primary }
          : {
              address: secondaryConfig.primary,
              get key() {
                return liveKeys.get(keyName);
              },
            };
      const transferer =
        options.transferer?.({ store: own, primary, log }) ??
        new TransferClient({
          store: own,
          primary,
          namespace: config.namespace,
          params: zoneParams(config),
          // The scheduler logs each refresh once, with its time; the engine's warnings stay.
          log: { info: () => {}, warn: (fields, message) => log.warn(fields, message) },
        });
      // A write through the daemon's own connection does not move its data_version: force.
      const picked = own === opened ? () => sync?.start() : () => sync?.poll();
      secondary = new Secondary({
        transferer,
        zones: secondaryConfig.zones,
        catalogZone: `catalog.${config.namespace}`,
        state: storeState(own),
        log,
        metrics,
        defaults: config.soa,
        onChanged: picked,
        ...(options.wallClock !== undefined ? { now: options.wallClock } : {}),
      });
      metrics.secondaryStatus = () => secondary?.status() ?? [];
      if (options.wallClock !== undefined) metrics.wallClock = options.wallClock;
      // Its callers, sent to the primary signed with secondary.key: the primary's map covers
      // every server (docs/design.md#caller-reports-from-secondaries). Unsigned, the primary
      // could not tell who reports: no reports.
      if (keyName === undefined || config.callers.maxEntries === 0) {
        log.info(
          { reason: keyName === undefined ? 'no secondary.key' : 'callers.maxEntries is 0' },
          'caller reports to the primary are off',
        );
      } else {
        reporter = new CallerReporter({
          rowsSince: (since) => opened.callerRowsSeenSince('', since),
          hasZone: (zone) => opened.zone(zone) !== undefined,
          namespace: config.namespace,
          primary,
          everyMs: config.callers.reportEveryMs,
          persistEveryMs: config.callers.persistEveryMs,
          log,
          // A primary that takes no reports (Knot, BIND) refuses every one: one line an hour.
          problems: new RateLimitedLog(log, { limit: 1, intervalMs: 3_600_000 }),
          metrics,
          ...(options.wallClock !== undefined ? { now: options.wallClock } : {}),
        });
      }
    }
    // The caller map (docs/design.md#the-caller-map): this process's own, read back from its
    // rows, written through a connection of its own with a short busy timeout (a write runs on
    // the event loop; a busy database only delays it to the next tick). Every cluster worker
    // keeps and writes its own; the upsert merges them. A secondary keeps its own too.
    let wallNow = Date.now();
    callersClock = setInterval(() => {
      wallNow = Date.now();
    }, CALLERS_CLOCK_MS).unref();
    const callerMap = new CallerMap({
      now: () => wallNow,
      maxCallers: config.callers.maxCallers,
      maxEntries: config.callers.maxEntries,
      touchEveryMs: touchEvery(config),
      onEvicted: (pairs) => metrics.callersEvicted.inc(pairs),
    });
    metrics.callerMap = callerMap;
    const callersOwn =
      opened.file === ':memory:'
        ? opened
        : Store.open(opened.file, { create: false, busyTimeoutMs: CALLERS_BUSY_TIMEOUT_MS, cacheKiB: 1024 });
    callerStore = callersOwn;
    try {
      const rows = loadCallers(callerMap, callersOwn);
      if (rows > 0) log.info({ rows, held: callerMap.size }, 'caller map loaded');
    } catch (error) {
      log.warn({ err: error }, 'reading the saved caller map failed; starting with an empty one');
    }
    const persistErrors = new RateLimitedLog(log);
    callerPersister = new CallerPersister({
      map: callerMap,
      store: callersOwn,
      everyMs: config.callers.persistEveryMs,
      onPersisted: (seconds) => metrics.callersPersistSeconds.observe(seconds),
      onError: (error) => {
        metrics.callersPersistFailures.inc();
        persistErrors.error({ err: error }, 'writing the caller map failed; will retry at the next persist');
      },
    });
    callerPersister.start();
    const persister = callerPersister;
    const follower = secondary;
    const handler = new QueryHandler({
      callers: callerMap,
      transfers,
      updates,
      view: sync.view,
      cache,
      routes,
      metrics,
      log,
      udpPayloadSize: config.udpPayloadSize,
      ...edns,
      tsigKeys: new Map(config.tsig.keys.map((k) => [k.name, k])),
      ...(follower !== undefined && secondaryConfig !== undefined
        ? {
            notify: notifyAcceptor({
              key: secondaryConfig.key,
              primary: secondaryConfig.primary,
              notify: (zone, serial) => follower.notify(zone, serial),
            }),
            expired: follower.expired,
            expireFor: (zone: string, soaExpire: number) => follower.expireFor(zone, soaExpire),
          }
        : {}),
    });
    sync.onChange(({ changes, zones }) => recordChanges(changes, zones.length, metrics, log, routes));
    // Every zone at the first pickup (as Knot and BIND notify on load), then each changed one.
    if (notifier !== undefined) sync.onChange(({ changes }) => notifier.onChange(changes));
    // Polled every pollMs (and before reads): a store that fails reads would log ten lines a second.
    const pollErrors = new RateLimitedLog(log);
    sync.onError((error) => pollErrors.error({ err: error }, 'reading changes from the store failed; will retry'));
    sync.start();
    log.info({ zones: view.zones().length }, 'zones loaded');
    if (config.routeIndex) routes.rebuild();
    serving.serve(handler);
    // The copy is served from here on (zones past expire answer SERVFAIL); then every zone refreshes.
    secondary?.start();
    reporter?.start();
    if (config.secondary === undefined && options.rollouts !== false) {
      // A connection of its own, as UPDATE's (short busy timeout: a step runs on the event
      // loop); its commits move the serving connection's data_version, and `changed` picks each
      // step up at once: served and NOTIFYed as an UPDATE's write is.
      const own =
        opened.file === ':memory:'
          ? opened
          : Store.open(opened.file, {
              create: false,
              busyTimeoutMs: UPDATE_BUSY_TIMEOUT_MS,
              cacheKiB: 2048,
              journalKeep: config.journal.keep,
              journalMaxAgeMs: config.journal.maxAgeMs,
            });
      driverStore = own;
      driver = new RolloutDriver({
        store: own,
        params: zoneParams(config),
        gate: options.gate ?? new PrometheusGate(),
        log,
        metrics,
        changed: () => sync?.poll(true),
        ...(options.rolloutClock !== undefined ? { clock: options.rolloutClock } : {}),
      });
      metrics.rolloutCounts = () => {
        const counts = { running: 0, paused: 0 };
        for (const op of own.operations({ kind: 'rollout', active: true })) {
          if (op.status === 'running' || op.status === 'paused') counts[op.status]++;
        }
        return counts;
      };
      driver.start();
    }
    ready = true;
    log.info(
      { dns: udp.address, udp: udp.io, http: http?.address, db: config.db },
      options.http === false ? 'worker serving' : 'psarnd serving',
    );

    const listeners = { udp, tcp, http };
    return {
      dns: udp.address,
      http: http?.address,
      metrics,
      storeHealthy,
      poll: () => {
        sync?.poll();
      },
      reload(next: Config) {
        for (const key of RESTART_KEYS) {
          if (JSON.stringify(next[key]) !== JSON.stringify(current[key])) {
            log.warn({ key }, `config key '${key}' changed; restart psarnd to apply it`);
          }
        }
        log.level = next.log.level;
        listeners.tcp.configure(next.tcp);
        handler.udpPayloadSize = next.udpPayloadSize;
        edns = ednsIdentity(next, edns.cookieSecret);
        handler.configureEdns(edns);
        handler.tsigKeys = new Map(next.tsig.keys.map((k) => [k.name, k]));
        // A secondary.key dropped from tsig.keys keeps its last secret until a restart.
        const key = current.secondary?.key;
        if (key === undefined || next.tsig.keys.some((k) => k.name === canonicalName(key))) {
          liveKeys = new Map(next.tsig.keys.map((k) => [k.name, k]));
        }
        transfers.udpPayloadSize = next.udpPayloadSize;
        updates.configure({ ...next, namespace: current.namespace });
        reporter?.configure({
          everyMs: next.callers.reportEveryMs,
          persistEveryMs: next.callers.persistEveryMs,
        });
        if (options.allowTransfer === undefined) acl = allowTransferByKeys(next.transfer.allow);
        // Bounds and cadence apply at once; a map turned on by a reload starts empty.
        callerMap.configure({
          maxCallers: next.callers.maxCallers,
          maxEntries: next.callers.maxEntries,
          touchEveryMs: touchEvery(next),
        });
        persister.setInterval(next.callers.persistEveryMs);
        if (next.epochTtl !== view.epochTtl) {
          view.epochTtl = next.epochTtl;
          cache.clear();
        }
        current = { ...next, listen: current.listen, http: current.http, db: current.db, namespace: current.namespace };
        log.info('config reloaded');
      },
      async close() {
        ready = false;
        await driver?.close();
        if (driverStore !== opened) driverStore?.close();
        secondary?.close();
        reporter?.close();
        sync?.stop();
        notifier?.close();
        await listeners.udp.close();
        await listeners.tcp.close();
        await listeners.http?.close();
        if (apiStore !== opened) apiStore?.close();
        await routes.close();
        // No query comes any more: the last changes of the caller map are written.
        await persister.stop();
        clearInterval(callersClock);
        if (callerStore !== opened) callerStore?.close();
        updateWriter?.close();
        // Aborted refreshes end soon; one that ignores its signal is not waited for long.
        await settledWithin(secondary, SETTLE_MS);
        await reporter?.settled();
        if (transferStore !== opened) transferStore?.close();
        opened.close();
        log.info('psarnd stopped');
      },
    };
  } catch (error) {
    await driver?.close();
    if (driverStore !== store) driverStore?.close();
    secondary?.close();
    reporter?.close();
    if (transferStore !== store) transferStore?.close();
    sync?.stop();
    notifier?.close();
    await udp?.close();
    await tcp?.close(0);
    await http?.close();
    if (apiStore !== store) apiStore?.close();
    await indexer?.close();
    await callerPersister?.stop();
    clearInterval(callersClock);
    if (callerStore !== store) callerStore?.close();
    updateWriter?.close();
    store?.close();
    throw error;
  }
}

/** How long close() waits for a secondary's aborted refreshes. */
const SETTLE_MS = 2000;

function settledWithin(secondary: Secondary | undefined, ms: number): Promise<void> {
  if (secondary === undefined) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    secondary.settled(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Gauges and logs after a pickup applied changes (a ZoneSync listener). */
function recordChanges(
  changes: ZoneChanges,
  zones: number,
  metrics: DaemonMetrics,
  log: Logger,
  routes: RouteIndexer,
): void {
  const touched = [...changes.changed, ...changes.added];
  const index = routes.index;
  if (index !== undefined) {
    metrics.indexRoutes.set(index.size);
    metrics.indexBytes.set(index.bytes);
  }
  for (const zone of touched) {
    metrics.zoneSerial.labels(zone.name).set(zone.serial);
    metrics.zoneEpoch.labels(zone.name).set(zone.epoch);
  }
  for (const name of changes.removed) {
    metrics.zoneSerial.remove(name);
    metrics.zoneEpoch.remove(name);
  }
  metrics.zones.set(zones);
  metrics.changesApplied.inc(touched.length + changes.removed.length);
  for (const zone of changes.changed)
    log.info({ zone: zone.name, serial: zone.serial, epoch: zone.epoch }, 'zone changed');
  // The catalog zone (docs/design.md#catalog-zone) moves when a zone is created or deleted.
  const { catalog } = changes;
  if (catalog !== undefined) {
    metrics.zoneSerial.labels(catalog.name).set(catalog.serial);
    log.info({ zone: catalog.name, serial: catalog.serial, members: catalog.size }, 'catalog changed');
  }
}

/**
 * NSID and the cookie secret of a config (docs/design.md#edns-options): the secret configured,
 * else the one in use (a reload keeps it, so cookies handed out stay valid), else a random one.
 */
function ednsIdentity(config: Config, current: Uint8Array | undefined): { nsid?: Buffer; cookieSecret: Uint8Array } {
  return {
    ...(config.nsid !== undefined ? { nsid: Buffer.from(config.nsid, 'latin1') } : {}),
    cookieSecret: config.cookieSecret ?? current ?? randomBytes(COOKIE_SECRET_SIZE),
  };
}
