/**
 * A secondary psarnd's scheduler (docs/design.md#secondary-mode): when to refresh which zone from
 * the primary, as RFC 1035 §3.3.13 and RFC 1996 describe it and Knot and BIND do it. Per zone:
 * a refresh at start, then the SOA refresh timer (a little jitter), the retry timer after a
 * failure (with backoff), the expire timer (SOA expire since the last successful refresh or SOA
 * check; the time of that success is persisted, so a restart keeps counting), and NOTIFY, which
 * refreshes at once. With `zones: 'catalog'` the primary's catalog zone (RFC 9432) is followed
 * too: a member added is refreshed, a member removed is dropped.
 *
 * How a zone is fetched and applied is the transfer engine's (ZoneTransferer, src/secondary/
 * types.ts); this file only decides when, and keeps the state /ready, the metrics and the
 * handler's expire hooks read. Clock, timers and randomness are injected (tests drive them).
 */
import type { Logger } from 'pino';
import { serialGreater } from '../store/serial.js';
import type { RefreshOutcome, SoaInfo, ZoneTransferer } from './types.js';

/** Timers, injectable: unit tests drive them with a fake clock. */
export interface SecondaryTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The local copy of a zone, as the store holds it. */
export interface LocalCopy {
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
}

/** What the scheduler reads from and remembers in the local store (src/secondary/state-store.ts). */
export interface SecondaryState {
  /** The local copy of `zone`, or undefined when there is none. */
  copy(zone: string): LocalCopy | undefined;
  /** Every zone the local copy holds (the catalog's members as of the last run). */
  zones(): string[];
  /** When `zone` (or the catalog) last refreshed or passed an SOA check, ms since the epoch. */
  lastSuccess(zone: string): number | undefined;
  /** Remembers it; undefined forgets (a zone dropped). */
  putLastSuccess(zone: string, ms: number | undefined): void;
  /**
   * When `zone`'s copy expires, ms since the epoch, when remembered: earlier than lastSuccess +
   * SOA expire when the primary's EXPIRE option (RFC 7314 §4) said its own copy had less left.
   * Without: lastSuccess + SOA expire.
   */
  expiresAt?(zone: string): number | undefined;
  putExpiresAt?(zone: string, ms: number | undefined): void;
}

/** Counted per refresh (DaemonMetrics implements it). */
export interface SecondaryMetrics {
  secondaryRefresh(zone: string, kind: 'ixfr' | 'axfr' | 'current', result: 'ok' | 'error'): void;
  /** A zone is gone from the copy (its series are removed). */
  secondaryDropped?(zone: string): void;
}

/** A zone's state, for /ready, the metrics and the logs. */
export interface ZoneStatus {
  zone: string;
  /** The catalog zone itself (catalog mode): its "copy" is the member list. */
  catalog: boolean;
  /** The local copy's serial (the catalog: the primary's catalog serial last read). */
  serial: number | undefined;
  /** There is a copy to serve (it may be expired). */
  hasCopy: boolean;
  expired: boolean;
  /** Last successful refresh or SOA check, ms since the epoch. */
  lastSuccess: number | undefined;
  /** A primary serial seen (NOTIFY or SOA) but not applied yet, and since when (ms). */
  pending: { serial: number; since: number } | undefined;
  /** Failed attempts since the last success. */
  failures: number;
}

export interface SecondaryOptions {
  transferer: ZoneTransferer;
  /** config secondary.zones. */
  zones: 'catalog' | readonly string[];
  /** `catalog.<namespace>.` (lowercase, trailing dot). */
  catalogZone: string;
  state: SecondaryState;
  log: Logger;
  metrics?: SecondaryMetrics;
  /** The SOA timers of a zone without a copy yet (config soa). */
  defaults: Pick<SoaInfo, 'refresh' | 'retry' | 'expire'>;
  /** After a refresh changed the local copy (or a zone was dropped): the daemon picks it up now. */
  onChanged?: (zone: string) => void;
  /** Refreshes running at once at most (a catalog of 10k zones must not open 10k transfers). Default 8. */
  concurrency?: number;
  /** Milliseconds since the epoch (persisted times survive a restart). Default Date.now. */
  now?: () => number;
  timers?: SecondaryTimers;
  /** [0, 1). Default Math.random. */
  random?: () => number;
}

/** Refresh timers are shortened by up to this fraction, so that zones created together spread out. */
export const REFRESH_JITTER = 0.1;
/** The first retry of a zone with no copy yet (bootstrap), doubling up to the SOA retry. */
export const BOOTSTRAP_RETRY_S = 5;

interface Zone {
  name: string;
  catalog: boolean;
  serial: number | undefined;
  hasCopy: boolean;
  expired: boolean;
  lastSuccess: number | undefined;
  /** When the copy expires (ms): lastSuccess + SOA expire, or sooner by the primary's EXPIRE option. */
  expiresAt: number | undefined;
  /** SOA timers in force (the primary's last SOA, else the copy's, else the config's). */
  timers: Pick<SoaInfo, 'refresh' | 'retry' | 'expire'>;
  pending: { serial: number; since: number } | undefined;
  failures: number;
  /** The next refresh or retry. */
  timer: unknown;
  expireTimer: unknown;
  queued: boolean;
  running: AbortController | undefined;
  /** A NOTIFY came during the running refresh: refresh once more after it. */
  again: boolean;
  /** The running refresh is waiting for the primary's SOA (nothing fetched yet). */
  checking: boolean;
  removed: boolean;
}

const realTimers: SecondaryTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Timers past this would overflow setTimeout's 32-bit delay (fired at once by Node). */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class Secondary {
  readonly #o: SecondaryOptions;
  readonly #now: () => number;
  readonly #timers: SecondaryTimers;
  readonly #random: () => number;
  readonly #concurrency: number;
  readonly #zones = new Map<string, Zone>();
  readonly #queue: Zone[] = [];
  #running = 0;
  #closed = false;
  readonly #idle: (() => void)[] = [];
  /** Names of the zones past expire: the handler answers their queries SERVFAIL (EDE 22). */
  readonly expired = new Set<string>();

  constructor(options: SecondaryOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? realTimers;
    this.#random = options.random ?? Math.random;
    this.#concurrency = Math.max(1, options.concurrency ?? 8);
  }

  /**
   * Serves what the local copy holds (each zone expired or not by its persisted last success),
   * then refreshes every zone, the catalog first.
   */
  start(): void {
    const { zones, catalogZone, state } = this.#o;
    if (zones === 'catalog') {
      this.#add(catalogZone, true);
      for (const name of state.zones()) this.#add(name, false);
    } else {
      for (const name of zones) this.#add(name, false);
      const listed = new Set(zones);
      const unlisted = state.zones().filter((z) => !listed.has(z));
      if (unlisted.length > 0) {
        this.#o.log.warn(
          { zones: unlisted.slice(0, 20), count: unlisted.length },
          'zones in the local copy that secondary.zones does not list are served as they are and never refreshed',
        );
      }
    }
    for (const zone of this.#zones.values()) this.#enqueue(zone);
  }

  /** Stops every timer and aborts the refreshes in flight. */
  close(): void {
    this.#closed = true;
    for (const zone of this.#zones.values()) {
      this.#clear(zone);
      this.#timers.clearTimeout(zone.expireTimer);
      zone.running?.abort();
    }
    this.#queue.length = 0;
  }

  /** Resolves when no refresh is queued or running (tests; a clean shutdown). */
  settled(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** True when `zone` is one this secondary follows (a member, a listed zone, or the catalog). */
  follows(zone: string): boolean {
    const z = this.#zones.get(zone);
    return z !== undefined && !z.removed;
  }

  /**
   * A NOTIFY for `zone` (RFC 1996 §3.7–3.11), already checked for its key: refresh now, once
   * however many arrive meanwhile. `serial`: the SOA serial the NOTIFY carried (a hint, §3.7),
   * which starts the lag. @returns false when `zone` is not followed (the handler answers NOTAUTH).
   */
  notify(zone: string, serial?: number): boolean {
    const z = this.#zones.get(zone);
    if (z === undefined || z.removed || this.#closed) return false;
    if (serial !== undefined) this.#seen(z, serial);
    if (z.running === undefined) this.#enqueue(z);
    else {
      z.again = true;
      // The primary just spoke: an SOA query still waiting (sent while it was down, say) is
      // asked again now rather than after its timeout.
      if (z.checking) z.running.abort();
    }
    return true;
  }

  /**
   * The seconds the copy of `zone` has left before it expires (RFC 7314 §3.2: EDNS EXPIRE of a
   * secondary, in its SOA answers and its transfers out).
   */
  expireFor(zone: string, soaExpire: number): number {
    const z = this.#zones.get(zone);
    if (z === undefined || z.lastSuccess === undefined || z.expiresAt === undefined) return soaExpire;
    const left = Math.floor((z.expiresAt - this.#now()) / 1000);
    return Math.max(0, Math.min(left, z.timers.expire));
  }

  /** Every followed zone's state (the catalog's included). */
  status(): ZoneStatus[] {
    return [...this.#zones.values()].map((z) => ({
      zone: z.name,
      catalog: z.catalog,
      serial: z.serial,
      hasCopy: z.hasCopy,
      expired: z.expired,
      lastSuccess: z.lastSuccess,
      pending: z.pending,
      failures: z.failures,
    }));
  }

  /** Zones with no copy yet, and zones past expire: /ready waits for both lists to be empty. */
  unready(): { missing: string[]; expired: string[] } {
    const missing: string[] = [];
    const expired: string[] = [];
    for (const z of this.#zones.values()) {
      if (!z.hasCopy) missing.push(z.name);
      else if (z.expired) expired.push(z.name);
    }
    return { missing, expired };
  }

  #add(name: string, catalog: boolean): Zone {
    const existing = this.#zones.get(name);
    if (existing !== undefined) return existing;
    const { state, defaults } = this.#o;
    const copy = catalog ? undefined : state.copy(name);
    const lastSuccess = state.lastSuccess(name);
    const timers = copy !== undefined ? { refresh: copy.refresh, retry: copy.retry, expire: copy.expire } : defaults;
    const expiresAt =
      lastSuccess === undefined ? undefined : (state.expiresAt?.(name) ?? lastSuccess + timers.expire * 1000);
    const zone: Zone = {
      name,
      catalog,
      serial: copy?.serial,
      // The catalog's copy is the member list the local store holds: there once it was read.
      hasCopy: catalog ? lastSuccess !== undefined : copy !== undefined,
      expired: false,
      lastSuccess,
      expiresAt,
      timers,
      pending: undefined,
      failures: 0,
      timer: undefined,
      expireTimer: undefined,
      queued: false,
      running: undefined,
      again: false,
      checking: false,
      removed: false,
    };
    this.#zones.set(name, zone);
    // A copy without a recorded success (never refreshed by this secondary) is not trusted: it
    // is served once a refresh or SOA check succeeds.
    if (zone.hasCopy) this.#armExpire(zone, expiresAt ?? Number.NEGATIVE_INFINITY);
    return zone;
  }

  /** Runs `zone`'s refresh as soon as a slot is free (once, however often asked meanwhile). */
  #enqueue(zone: Zone): void {
    if (this.#closed || zone.removed) return;
    this.#clear(zone);
    if (zone.queued || zone.running !== undefined) return;
    zone.queued = true;
    this.#queue.push(zone);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#queue.length > 0) {
      const zone = this.#queue.shift()!;
      zone.queued = false;
      if (zone.removed || this.#closed) continue;
      this.#running++;
      const controller = new AbortController();
      zone.running = controller;
      void this.#refresh(zone, controller.signal).finally(() => {
        zone.running = undefined;
        this.#running--;
        if (zone.again && !zone.removed && !this.#closed) {
          zone.again = false;
          this.#enqueue(zone);
        }
        this.#pump();
        if (this.#running === 0 && this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #refresh(zone: Zone, signal: AbortSignal): Promise<void> {
    const t = this.#o.transferer;
    const started = this.#now();
    const from = zone.serial;
    // The step that failed, for the metric's kind: the SOA check, or the transfer.
    let step: 'current' | 'ixfr' | 'axfr' = zone.hasCopy ? 'current' : 'axfr';
    try {
      let outcome: RefreshOutcome;
      if (zone.catalog) {
        outcome = await this.#refreshCatalog(zone, signal);
      } else if (zone.hasCopy && zone.serial !== undefined) {
        // RFC 1035 §4.3.5: the SOA first; transfer only when the primary's serial is ahead.
        zone.checking = true;
        const soa = await t.soa(zone.name, signal).finally(() => {
          zone.checking = false;
        });
        this.#seen(zone, soa.serial);
        if (!serialGreater(soa.serial, zone.serial)) outcome = { kind: 'current', serial: zone.serial, soa };
        else {
          step = 'ixfr';
          outcome = await t.refresh(zone.name, signal);
        }
      } else {
        outcome = await t.refresh(zone.name, signal);
      }
      if (this.#closed || zone.removed) return;
      this.#succeeded(zone, outcome, from, this.#now() - started);
    } catch (error) {
      // Closed, dropped, or an SOA query superseded by a NOTIFY (asked again at once): no failure.
      if (this.#closed || zone.removed || (signal.aborted && zone.again)) return;
      this.#failed(zone, step, error);
    }
  }

  /** The catalog: its SOA, then (when it moved) its member list, applied as adds and drops. */
  async #refreshCatalog(zone: Zone, signal: AbortSignal): Promise<RefreshOutcome> {
    const t = this.#o.transferer;
    const soa = await t.soa(zone.name, signal);
    // Read the members at the first refresh of this run (changes while we were down) and when
    // the serial moved (RFC 9432: the catalog's serial moves when a member comes or goes).
    if (zone.serial !== undefined && soa.serial === zone.serial) {
      return { kind: 'current', serial: soa.serial, soa };
    }
    const members = new Set(await t.catalogMembers(zone.name, signal));
    if (this.#closed || zone.removed) return { kind: 'current', serial: soa.serial, soa };
    for (const [name, member] of this.#zones) {
      if (member.catalog || members.has(name)) continue;
      this.#drop(member);
    }
    for (const name of members) {
      if (this.#zones.has(name)) continue;
      this.#o.log.info({ zone: name, catalog: zone.name }, 'zone added from the catalog');
      this.#enqueue(this.#add(name, false));
    }
    return {
      kind: 'axfr',
      from: zone.serial,
      serial: soa.serial,
      soa,
      routes: members.size,
      bytes: 0,
      messages: 0,
      reason: 'catalog',
    };
  }

  #drop(zone: Zone): void {
    zone.removed = true;
    this.#clear(zone);
    this.#timers.clearTimeout(zone.expireTimer);
    zone.running?.abort();
    this.#zones.delete(zone.name);
    this.expired.delete(zone.name);
    try {
      this.#o.transferer.dropZone(zone.name);
      this.#o.state.putLastSuccess(zone.name, undefined);
      this.#o.state.putExpiresAt?.(zone.name, undefined);
      this.#o.log.info({ zone: zone.name }, 'zone removed from the catalog; dropped');
    } catch (error) {
      this.#o.log.error({ err: error, zone: zone.name }, 'dropping a zone the catalog no longer lists failed');
    }
    this.#o.metrics?.secondaryDropped?.(zone.name);
    this.#o.onChanged?.(zone.name);
  }

  #succeeded(zone: Zone, outcome: RefreshOutcome, from: number | undefined, ms: number): void {
    const now = this.#now();
    const { log, metrics } = this.#o;
    zone.serial = outcome.serial;
    zone.hasCopy = true;
    zone.failures = 0;
    zone.lastSuccess = now;
    zone.timers = { refresh: outcome.soa.refresh, retry: outcome.soa.retry, expire: outcome.soa.expire };
    if (zone.pending !== undefined && !serialGreater(zone.pending.serial, outcome.serial)) zone.pending = undefined;
    // RFC 7314 §4: the primary's EXPIRE option, when it sent one below the SOA field (a secondary
    // whose own copy has that long left), is the expire timer, so that a chain of secondaries
    // expires when the first one would. An SOA check only lengthens it (BIND does the same): a
    // transfer brings the copy's own time.
    const left = outcome.soa.expireLeft;
    let expiresAt = now + (left === undefined ? zone.timers.expire : Math.min(left, zone.timers.expire)) * 1000;
    if (outcome.kind === 'current' && !zone.expired && zone.expiresAt !== undefined) {
      expiresAt = Math.max(expiresAt, zone.expiresAt);
    }
    zone.expiresAt = expiresAt;
    try {
      this.#o.state.putLastSuccess(zone.name, now);
      this.#o.state.putExpiresAt?.(zone.name, expiresAt);
    } catch (error) {
      // The copy is served all the same; a restart would then see an older success.
      log.error({ err: error, zone: zone.name }, 'recording the refresh time failed');
    }
    if (zone.expired) log.info({ zone: zone.name, serial: outcome.serial }, 'zone no longer expired');
    zone.expired = false;
    this.expired.delete(zone.name);
    this.#armExpire(zone, expiresAt);
    // RFC 1035 §3.3.13 REFRESH, shortened by a little jitter (never lengthened: the primary's
    // operator chose it as an upper bound).
    this.#schedule(zone, zone.timers.refresh * 1000 * (1 - REFRESH_JITTER * this.#random()));
    metrics?.secondaryRefresh(zone.name, outcome.kind, 'ok');
    const fields = { zone: zone.name, from: from ?? null, to: outcome.serial, kind: outcome.kind, ms: Math.round(ms) };
    if (outcome.kind === 'current') {
      log.debug(fields, 'zone is current');
      return;
    }
    if (zone.catalog) {
      log.info({ ...fields, members: outcome.routes }, 'catalog refreshed');
      return;
    }
    log.info(
      {
        ...fields,
        bytes: outcome.bytes,
        routes: outcome.routes,
        ...(outcome.kind === 'axfr' ? { reason: outcome.reason } : {}),
      },
      'zone refreshed',
    );
    this.#o.onChanged?.(zone.name);
  }

  #failed(zone: Zone, step: 'current' | 'ixfr' | 'axfr', error: unknown): void {
    zone.failures++;
    // RFC 1035 §3.3.13 RETRY, doubled per failure up to the refresh interval; a zone with no
    // copy yet starts sooner (BOOTSTRAP_RETRY_S), so a secondary started before its primary
    // serves soon after the primary comes up.
    const retry = zone.timers.retry;
    const first = zone.hasCopy ? retry : Math.min(retry, BOOTSTRAP_RETRY_S);
    const cap = zone.hasCopy ? Math.max(retry, zone.timers.refresh) : retry;
    const seconds = Math.min(cap, first * 2 ** Math.min(zone.failures - 1, 20));
    this.#schedule(zone, seconds * 1000 * (1 - REFRESH_JITTER * this.#random()));
    this.#o.metrics?.secondaryRefresh(zone.name, step, 'error');
    const err = error as { code?: unknown; message?: unknown };
    this.#o.log.warn(
      {
        zone: zone.name,
        reason: typeof err?.message === 'string' ? err.message : String(error),
        ...(typeof err?.code === 'string' ? { code: err.code } : {}),
        failures: zone.failures,
        retryInSeconds: Math.round(seconds),
      },
      'zone refresh failed; will retry',
    );
  }

  /** A primary serial seen: the lag counts from the first time one ahead of ours was seen. */
  #seen(zone: Zone, serial: number): void {
    if (zone.serial !== undefined && !serialGreater(serial, zone.serial)) return;
    if (zone.pending === undefined || serialGreater(serial, zone.pending.serial)) {
      zone.pending = { serial, since: zone.pending?.since ?? this.#now() };
    }
  }

  #schedule(zone: Zone, ms: number): void {
    this.#clear(zone);
    if (this.#closed || zone.removed) return;
    zone.timer = this.#timers.setTimeout(
      () => {
        zone.timer = undefined;
        this.#enqueue(zone);
      },
      Math.min(MAX_DELAY_MS, Math.max(0, ms)),
    );
  }

  #clear(zone: Zone): void {
    if (zone.timer !== undefined) this.#timers.clearTimeout(zone.timer);
    zone.timer = undefined;
  }

  /** RFC 1035 §3.3.13 EXPIRE: past `at` the zone is no longer authoritative (SERVFAIL, EDE 22). */
  #armExpire(zone: Zone, at: number): void {
    if (zone.expireTimer !== undefined) this.#timers.clearTimeout(zone.expireTimer);
    zone.expireTimer = undefined;
    const ms = at - this.#now();
    if (ms <= 0) {
      this.#expire(zone);
      return;
    }
    // A far expire (weeks) is re-armed in steps; setTimeout holds at most ~24.8 days.
    zone.expireTimer = this.#timers.setTimeout(
      () => {
        zone.expireTimer = undefined;
        this.#armExpire(zone, at);
      },
      Math.min(ms, MAX_DELAY_MS),
    );
  }

  #expire(zone: Zone): void {
    if (zone.expired || zone.removed) return;
    zone.expired = true;
    if (!zone.catalog) this.expired.add(zone.name);
    this.#o.log.warn(
      {
        zone: zone.name,
        lastSuccess: zone.lastSuccess === undefined ? null : new Date(zone.lastSuccess).toISOString(),
      },
      zone.catalog
        ? 'catalog expired: no successful refresh within its SOA expire; its members keep their own timers'
        : 'zone expired: no successful refresh within its SOA expire; answering SERVFAIL until the primary answers',
    );
  }
}
