/**
 * DNS UPDATE (RFC 2136) into the route store (docs/design.md#dns-update). The handler hands over
 * every message with opcode UPDATE; this decides, in order:
 * 1. a message that does not parse: FORMERR, unsigned (as a malformed query);
 * 2. its TSIG, verified as any signed query (RFC 8945 §5.2): BADKEY, BADSIG, BADTIME replies
 *    from the handler's one builder; unsigned: REFUSED + EDE 18;
 * 3. a secondary takes no UPDATE: REFUSED + EDE 18 naming its primary (RFC 2136 §6 allows
 *    forwarding; a Knot or BIND operator expects the refusal);
 * 4. a key not in `update.allow`: REFUSED + EDE 18;
 * 5. the zone, prerequisites and updates (src/update/plan.ts), applied with one
 *    `Store.editRoutes`: one transaction, one serial, one journal row per route, actor
 *    `key:<name>`; then the daemon picks the change up at once (served, NOTIFYed).
 *    An update section that holds a control record (`_rollout.<route>`, `_hold.<route>`) runs
 *    that operation instead, never stored (docs/design.md#remote-operations, src/server/control.ts).
 * A caller report (an RR at `_callers.<zone>`, docs/design.md#caller-reports-from-secondaries)
 * takes step 4 with transfer.allow instead: its rows go to the callers table under the key's
 * name (src/server/caller-report.ts).
 * Every reply to a verified request is signed with its key (RFC 8945 §5.3).
 */
import type { Logger } from 'pino';
import type { Config, HostPort } from '../config/config.js';
import { zoneParams } from '../config/config.js';
import { controlKindOf } from '../ops/control.js';
import { type ControlOutcome, runControl } from '../ops/control-run.js';
import { validateTarget } from '../psarn/target.js';
import { TargetRules } from '../psarn/target-policy.js';
import type { Store } from '../store/store.js';
import { type EditResult, StoreError, type ZoneParams } from '../store/types.js';
import { UpdateError } from '../update/errors.js';
import { checkPrerequisites, planUpdate, routeEdit } from '../update/plan.js';
import type { EdnsInfo, HeaderInfo, ParsedQuery } from '../wire/query.js';
import type { ReadyAnswer } from '../wire/response.js';
import { Ede, ednsOption } from '../wire/response.js';
import { canonicalName, signMessage, type TsigKey, type TsigVerifyResult } from '../wire/tsig.js';
import { Rcode, type RcodeValue } from '../wire/types.js';
import { type ParsedUpdate, parseUpdate } from '../wire/update.js';
import { hasReport, ReportTrims, storeReport } from './caller-report.js';
import { controlRead, hasControl, readControlUpdate } from './control.js';
import type { CallerReportResult, DaemonMetrics } from './metrics.js';

/** What psarn_dns_updates_total counts an UPDATE as. */
export type UpdateResult = 'ok' | 'refused' | 'prereq' | 'notauth' | 'formerr' | 'servfail';

/**
 * What the handler lends an UPDATE: its TSIG verification (its keyring, clock and metric) and its
 * reply builders (question and EDNS echoed, cookies, NSID), so UPDATE replies are built as any.
 */
export interface UpdateReplies {
  /** verifyMessage over the handler's keyring, counted in psarn_dns_tsig_verifications_total. */
  verify(): TsigVerifyResult;
  /** Milliseconds since the epoch: the handler's TSIG clock. */
  now: () => number;
  /** A reply without data echoing the zone section; `ede` (option bytes) when the request had EDNS. */
  error(query: ParsedQuery, rcode: RcodeValue, ede?: Uint8Array): Buffer;
  /** The FORMERR reply to a message that did not parse, echoing what did. */
  reject(parsed: { header: HeaderInfo; questionEnd?: number; edns?: EdnsInfo }, rcode: RcodeValue): Buffer;
  /** The reply to a TSIG that failed (BADKEY, BADSIG, BADTRUNC, BADTIME, FORMERR). */
  tsigFailure(
    query: ParsedQuery,
    result: Exclude<TsigVerifyResult, { status: 'ok' }>,
  ): { reply: Buffer; rcode: number };
}

export interface UpdateServerOptions {
  /**
   * The store connection writes go through, opened on the first UPDATE a key of update.allow
   * sends: a daemon that takes none never opens it.
   */
  store: () => Store;
  metrics: DaemonMetrics;
  log: Logger;
  /**
   * Called after a write that changed the store. The daemon's own writes do not move its
   * connection's data_version, so it picks them up here (ZoneSync.poll(true)): the change is
   * served and NOTIFYed at once, not at the next poll of another connection's writes.
   */
  changed?: () => void;
}

/**
 * EXTRA-TEXT of an UPDATE's refusal: longer than the handler's 64 bytes (EDE_TEXT_MAX), because it
 * is the one place a remote writer (`psarn --server`, nsupdate -d) learns which name failed and
 * why; an UPDATE reply holds nothing else, so it fits a 512-byte reply with its TSIG.
 */
export const UPDATE_EDE_TEXT_MAX = 255;

/**
 * EXTRA-TEXT of a control UPDATE's refusal: the whole message the local CLI prints (a psARN or
 * two and why), which the remote CLI prints in its place; it travels over TCP.
 */
export const CONTROL_EDE_TEXT_MAX = 1024;

/** The config an UPDATE reads, replaced on reload. */
interface Settings {
  namespace: string;
  allow: ReadonlySet<string>;
  /** Keys that may read operation state (update.allow and transfer.allow). */
  readers: ReadonlySet<string>;
  /** Keys that may report callers: transfer.allow (docs/design.md#caller-reports-from-secondaries). */
  reporters: ReadonlySet<string>;
  /** callers.maxEntries: rows one reporter may hold; 0: the map is off, reports refused. */
  maxEntries: number;
  secondary: HostPort | undefined;
  params: ZoneParams;
  epochTtl: number;
  rules: TargetRules;
}

/** A reporter's rows are trimmed to callers.maxEntries at most this often (src/server/caller-report.ts). */
export const REPORT_TRIM_EVERY_MS = 10_000;

export class UpdateServer {
  readonly #options: UpdateServerOptions;
  #settings: Settings | undefined;
  readonly #trims = new ReportTrims(REPORT_TRIM_EVERY_MS);

  constructor(options: UpdateServerOptions, config: Config) {
    this.#options = options;
    this.configure(config);
  }

  /** Takes the config's update.allow, secondary, SOA/NS parameters, epochTtl and targets (start, SIGHUP). */
  configure(config: Config): void {
    this.#settings = {
      namespace: config.namespace,
      allow: new Set(config.update.allow.map(canonicalName)),
      readers: new Set([...config.update.allow, ...config.transfer.allow].map(canonicalName)),
      reporters: new Set(config.transfer.allow.map(canonicalName)),
      maxEntries: config.callers.maxEntries,
      secondary: config.secondary?.primary,
      params: zoneParams(config),
      epochTtl: config.epochTtl,
      rules: new TargetRules(config.targets),
    };
  }

  /** The reply to one UPDATE message, and its rcode. */
  respond(request: Buffer, replies: UpdateReplies): { reply: Buffer; rcode: number } {
    const { metrics } = this.#options;
    const settings = this.#settings!;
    const parsed = parseUpdate(request);
    if (parsed.kind === 'formerr') {
      metrics.update('formerr');
      return { reply: replies.reject(parsed, Rcode.FORMERR), rcode: Rcode.FORMERR };
    }
    const update = parsed.update;
    const verified = replies.verify();
    // RFC 6891 §6.1.3: an EDNS version we do not implement is BADVERS, nothing else looked at
    // (signed when the TSIG verified, as a query's).
    if (
      update.edns !== undefined &&
      update.edns.version > 0 &&
      (verified.status === 'ok' || verified.status === 'unsigned')
    ) {
      metrics.update('formerr');
      const reply = replies.error(update, Rcode.BADVERS);
      return {
        reply:
          verified.status === 'ok'
            ? signMessage(reply, verified.key, { requestMac: verified.mac, now: replies.now })
            : reply,
        rcode: Rcode.BADVERS,
      };
    }
    if (verified.status === 'unsigned') {
      metrics.update('refused');
      const why = 'UPDATE needs a TSIG signature by a key of update.allow';
      return { reply: replies.error(update, Rcode.REFUSED, updateEde(Ede.PROHIBITED, why)), rcode: Rcode.REFUSED };
    }
    if (verified.status !== 'ok') {
      metrics.update(verified.status === 'formerr' ? 'formerr' : 'notauth');
      return replies.tsigFailure(update, verified);
    }
    const key = verified.key;
    const sign = (reply: Buffer) => signMessage(reply, key, { requestMac: verified.mac, now: replies.now });
    // Every refusal says why in an EDE (RFC 8914): 18 Prohibited, 20 Not Authoritative, else 0 Other.
    const fail = (rcode: RcodeValue, ede: number | undefined, text: string) => {
      metrics.update(resultOf(rcode));
      return { reply: sign(replies.error(update, rcode, updateEde(ede ?? Ede.OTHER, text))), rcode };
    };
    if (settings.secondary !== undefined) {
      return fail(
        Rcode.REFUSED,
        Ede.PROHIBITED,
        `this server is a secondary of ${hostPort(settings.secondary)}; send UPDATEs to the primary`,
      );
    }
    if (hasReport(update)) return this.#report(update, key, settings, replies, sign);
    if (!settings.allow.has(key.name)) {
      return fail(Rcode.REFUSED, Ede.PROHIBITED, `key ${bareName(key)} may not UPDATE: it is not in update.allow`);
    }
    if (hasControl(update)) return this.#control(update, key, settings, replies, sign);
    let result: EditResult & { flushed: boolean };
    try {
      result = this.#apply(update, key, settings);
    } catch (err) {
      const locked = this.#locked(err, 'UPDATE not applied', { key: bareName(key), zone: update.zone }, fail);
      if (locked !== undefined) return locked;
      const refusal = asUpdateError(err);
      if (refusal === undefined) throw err;
      this.#options.log.debug({ key: bareName(key), zone: update.zone, reason: refusal.message }, 'UPDATE not applied');
      return fail(refusal.rcode, refusal.ede, refusal.message);
    }
    if (result.changes.length > 0 || result.zoneCreated || result.flushed) this.#options.changed?.();
    metrics.update('ok');
    // One line per applied UPDATE; never the secret, never the route data.
    this.#options.log.info(
      {
        key: bareName(key),
        zone: update.zone,
        routes: result.changes.length,
        serial: result.serial,
        ...(result.flushed ? { flushed: true } : {}),
      },
      'UPDATE applied',
    );
    return { reply: sign(replies.error(update, Rcode.NOERROR)), rcode: Rcode.NOERROR };
  }

  /**
   * The state a signed TXT query at a control name reads (docs/design.md#remote-operations), for
   * a key of update.allow or transfer.allow, on a primary; undefined otherwise: the query is then
   * answered as any (so an unsigned or other key learns nothing of operations).
   */
  controlRead(query: ParsedQuery, keyName: string): ReadyAnswer | undefined {
    const settings = this.#settings!;
    if (settings.secondary !== undefined || !settings.readers.has(keyName)) return undefined;
    if (controlKindOf(query.labels[0]) === undefined) return undefined;
    return controlRead(query, this.#options.store(), settings.namespace);
  }

  /**
   * An UPDATE holding a control record: read it (FORMERR when it is not exactly one well-formed
   * control RR), check its prerequisites and run the operation in one write transaction, actor
   * `key:<name>`; a refusal is REFUSED + EDE 18 with the local CLI's words.
   */
  #control(
    update: ParsedUpdate,
    key: TsigKey,
    settings: Settings,
    replies: UpdateReplies,
    sign: (reply: Buffer) => Buffer,
  ): { reply: Buffer; rcode: number } {
    const { metrics, log } = this.#options;
    const now = replies.now;
    const fail = (rcode: RcodeValue, ede: number, text: string) => {
      metrics.update(resultOf(rcode));
      return { reply: sign(replies.error(update, rcode, updateEde(ede, text, CONTROL_EDE_TEXT_MAX))), rcode };
    };
    let outcome: ControlOutcome;
    let request: ReturnType<typeof readControlUpdate>;
    try {
      request = readControlUpdate(update);
      // The zone and prerequisite checks of any UPDATE; the control RR is not a route record
      // (the plan refuses it as "not a route name"), so its part of the plan is dropped.
      const plan = { ...planUpdate(update, settings.namespace), routes: new Map(), refusal: undefined, flush: false };
      const store = this.#options.store();
      outcome = store.transaction(() => {
        checkPrerequisites(plan, {
          zone: store.zone(plan.zone),
          route: (path) => store.getRoute(plan.zone, path),
          epochTtl: settings.epochTtl,
        });
        return runControl(
          {
            store,
            namespace: settings.namespace,
            params: settings.params,
            actor: `key:${bareName(key)}`,
            now,
            targetProblem: (target) => {
              try {
                validateTarget(target);
                for (const line of settings.rules.check(target)) log.warn({ key: bareName(key) }, line);
                return undefined;
              } catch (err) {
                return (err as Error).message;
              }
            },
          },
          request,
        );
      });
    } catch (err) {
      const locked = this.#locked(err, 'control UPDATE not applied', { key: bareName(key), zone: update.zone }, fail);
      if (locked !== undefined) return locked;
      const refusal = asUpdateError(err);
      if (refusal === undefined) throw err;
      return fail(refusal.rcode, refusal.ede ?? Ede.OTHER, refusal.message);
    }
    const fields = {
      key: bareName(key),
      zone: request.zone,
      path: request.path,
      op: `${request.kind} ${request.verb}`,
    };
    if (outcome.result === 'bad') return fail(Rcode.FORMERR, Ede.OTHER, outcome.text);
    if (outcome.result === 'refused') {
      log.debug({ ...fields, reason: outcome.text }, 'control UPDATE refused');
      return fail(Rcode.REFUSED, Ede.PROHIBITED, outcome.text);
    }
    // Served and NOTIFYed before the reply, as a route UPDATE's change; an operation's own
    // change (pause, resume) reaches the rollout driver at its next tick (data_version).
    this.#options.changed?.();
    metrics.update('ok');
    log.info(fields, 'control UPDATE applied');
    return { reply: sign(replies.error(update, Rcode.NOERROR)), rcode: Rcode.NOERROR };
  }

  /**
   * A caller report (docs/design.md#caller-reports-from-secondaries): from a key of
   * transfer.allow (whoever may copy the zone may say who reads it), with the map on; its rows
   * written under reporter = the key's name, never stored as records, nothing served changes.
   */
  #report(
    update: ParsedUpdate,
    key: TsigKey,
    settings: Settings,
    replies: UpdateReplies,
    sign: (reply: Buffer) => Buffer,
  ): { reply: Buffer; rcode: number } {
    const { metrics, log } = this.#options;
    const reporter = bareName(key);
    const fail = (rcode: RcodeValue, ede: number, text: string) => {
      metrics.update(resultOf(rcode));
      metrics.callerReport('received', reportResultOf(rcode), 0);
      return { reply: sign(replies.error(update, rcode, updateEde(ede, text))), rcode };
    };
    if (!settings.reporters.has(key.name)) {
      return fail(Rcode.REFUSED, Ede.PROHIBITED, `key ${reporter} may not report callers: it is not in transfer.allow`);
    }
    if (settings.maxEntries === 0) {
      return fail(Rcode.REFUSED, Ede.PROHIBITED, 'the caller map is off on this server (callers.maxEntries: 0)');
    }
    const now = replies.now();
    let result: ReturnType<typeof storeReport>;
    try {
      result = storeReport(
        update,
        {
          store: this.#options.store(),
          namespace: settings.namespace,
          reporter,
          maxEntries: settings.maxEntries,
          trim: this.#trims.due(reporter, now),
        },
        now,
      );
    } catch (err) {
      const locked = this.#locked(err, 'caller report not stored', { key: reporter, zone: update.zone }, fail);
      if (locked !== undefined) return locked;
      if (!(err instanceof UpdateError)) throw err;
      log.debug({ key: reporter, zone: update.zone, reason: err.message }, 'caller report refused');
      return fail(err.rcode, err.ede ?? Ede.OTHER, err.message);
    }
    metrics.update('ok');
    metrics.callerReport('received', 'ok', result.rows);
    log.debug({ key: reporter, zone: update.zone, rows: result.rows, trimmed: result.trimmed }, 'caller report stored');
    if (result.trimmed > 0) {
      log.info(
        { key: reporter, trimmed: result.trimmed, maxEntries: settings.maxEntries },
        "a secondary's callers past callers.maxEntries deleted, least recent first",
      );
    }
    return { reply: sign(replies.error(update, Rcode.NOERROR)), rcode: Rcode.NOERROR };
  }

  /**
   * A write that found the database locked: another writer held the lock past the write
   * connection's short busy timeout. SERVFAIL, and the client retries (RFC 2136 §3: the server
   * could not process it now); logged as a warning, not a bug. Undefined for any other error.
   */
  #locked<R>(
    err: unknown,
    what: string,
    fields: { key: string; zone: string },
    fail: (rcode: RcodeValue, ede: number, text: string) => R,
  ): R | undefined {
    if (!(err instanceof StoreError && err.code === 'ERR_DB_LOCKED')) return undefined;
    this.#options.log.warn(fields, `${what}: the database is locked`);
    return fail(Rcode.SERVFAIL, Ede.OTHER, 'the route database is locked by another writer; retry');
  }

  /** Plans, then checks and applies in one write transaction. @throws UpdateError, StoreError, TargetError */
  #apply(update: ParsedUpdate, key: TsigKey, settings: Settings): EditResult & { flushed: boolean } {
    const { log } = this.#options;
    const store = this.#options.store();
    const plan = planUpdate(update, settings.namespace);
    const zone = plan.zone;
    const context = {
      checkTarget: (target: string) => {
        validateTarget(target);
        return settings.rules.check(target);
      },
      warn: (line: string) => log.warn({ key: bareName(key), zone }, line),
    };
    const edits = [...plan.routes.keys()].map((path) => ({ path, make: routeEdit(plan, path, context) }));
    let flushed = false;
    const result = store.editRoutes(zone, edits, settings.params, {
      actor: `key:${bareName(key)}`,
      check: () =>
        checkPrerequisites(plan, {
          zone: store.zone(zone),
          route: (path) => store.getRoute(zone, path),
          epochTtl: settings.epochTtl,
        }),
      ...(plan.flush
        ? {
            epoch: (current: number) => {
              flushed = true;
              return current + 1;
            },
          }
        : {}),
    });
    return { ...result, flushed };
  }
}

/** The UpdateError an UPDATE answers with, for what its write threw; undefined for a fault (SERVFAIL). */
function asUpdateError(err: unknown): UpdateError | undefined {
  if (err instanceof UpdateError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  // A route the store refuses (size, TTL, an alias loop or chain, a dangling alias, deleting a
  // route aliases point at), a target the grammar or the targets policy refuses: the store's
  // message names the route and why.
  if (err instanceof StoreError) {
    switch (err.code) {
      case 'ERR_INVALID_ROUTE':
      case 'ERR_ALIAS_LOOP':
      case 'ERR_ALIAS_CHAIN':
      case 'ERR_ALIAS_DANGLING':
      case 'ERR_ROUTE_ALIASED':
      case 'ERR_INVALID_ZONE':
        return new UpdateError(Rcode.REFUSED, err.message, Ede.OTHER, { cause: err });
      default:
        return undefined;
    }
  }
  if (code === 'ERR_INVALID_TARGET' || code === 'ERR_TARGET_NOT_ALLOWED') {
    return new UpdateError(Rcode.REFUSED, (err as Error).message, Ede.OTHER, { cause: err });
  }
  return undefined;
}

/** What psarn_callers_reports_total{direction="received"} counts a refused report as. */
function reportResultOf(rcode: RcodeValue): CallerReportResult {
  const result = resultOf(rcode);
  return result === 'prereq' || result === 'ok' ? 'refused' : result;
}

function resultOf(rcode: RcodeValue): UpdateResult {
  switch (rcode) {
    case Rcode.NXDOMAIN:
    case Rcode.YXDOMAIN:
    case Rcode.NXRRSET:
    case Rcode.YXRRSET:
      return 'prereq';
    case Rcode.NOTAUTH:
    case Rcode.NOTZONE:
      return 'notauth';
    case Rcode.FORMERR:
      return 'formerr';
    case Rcode.SERVFAIL:
      return 'servfail';
    default:
      return 'refused';
  }
}

/** An EDE option (RFC 8914 §2) with EXTRA-TEXT up to UPDATE_EDE_TEXT_MAX bytes, cut on a character boundary. */
export function updateEde(infoCode: number, text: string, max = UPDATE_EDE_TEXT_MAX): Buffer {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > max) {
    let cut = max;
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const data = Buffer.alloc(2 + bytes.length);
  data.writeUInt16BE(infoCode, 0);
  data.set(bytes, 2);
  return ednsOption(15, data);
}

/** A key's name as config and the journal write it: without the trailing dot. */
function bareName(key: TsigKey): string {
  return key.name.endsWith('.') ? key.name.slice(0, -1) : key.name;
}

function hostPort(at: HostPort): string {
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}
