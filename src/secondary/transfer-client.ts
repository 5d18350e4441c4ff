/**
 * The transfer engine of a secondary psarnd (docs/design.md#transfers-in): SOA queries, IXFR
 * (RFC 1995) and AXFR (RFC 5936) from the primary, TSIG-signed (RFC 8945) with the primary's key
 * and every reply verified, applied to the local store in one transaction with the primary's
 * serial. The scheduler (src/secondary/secondary.ts) decides when; this decides how.
 *
 * @example
 * const client = new TransferClient({ store, primary: { address, key }, namespace, params });
 * const soa = await client.soa(zone);                 // the primary's serial and timers
 * const outcome = await client.refresh(zone);         // { kind: 'ixfr' | 'axfr' | 'current', ... }
 */
import { randomInt } from 'node:crypto';
import { serialGreater } from '../store/serial.js';
import type { Store } from '../store/store.js';
import { StoreError, type ZoneParams, type ZoneRow } from '../store/types.js';
import { Flag, Hdr, u16At } from '../wire/cursor.js';
import { type DecodedMessage, type DecodedRecord, decodeMessage, encodeQuery } from '../wire/message.js';
import { rcodeName } from '../wire/mnemonics.js';
import {
  signMessageMac,
  type TsigKey,
  TsigStreamVerifier,
  type TsigVerifyResult,
  verifyMessage,
} from '../wire/tsig.js';
import { Rcode, type SoaRecord, Type } from '../wire/types.js';
import { encodeIxfrQuery } from '../zonefile/transfer.js';
import { AxfrCollector, applyAxfr, IxfrFolder, ixfrMismatch } from './apply.js';
import { TransferError } from './errors.js';
import { type OnMessage, tcpStream, udpExchange } from './exchange.js';
import type { Primary, RefreshOutcome, SoaInfo, ZoneTransferer } from './types.js';

/** What the transfer engine logs (a pino Logger fits). */
export interface TransferLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface TransferClientOptions {
  store: Store;
  primary: Primary;
  /** Config namespace: the zones' suffix, and what a CNAME target must be under. */
  namespace: string;
  /** Zone parameters for a zone whose transfer lacks NS records (config soa/nameservers). */
  params: ZoneParams;
  /** Unix ms; TSIG's time signed and checked. Default Date.now. */
  clock?: () => number;
  /** Longest transfer, ms (default 2 hours, BIND's max-transfer-time-in: a 1M-route AXFR takes minutes). */
  timeoutMs?: number;
  /** Longest silence within a transfer, ms (default 30000). */
  idleMs?: number;
  /** Longest wait for a SOA answer, ms (default 5000). */
  soaTimeoutMs?: number;
  log?: TransferLog;
  /** Message IDs (RFC 5452 §9.2: random). Default crypto.randomInt. */
  randomId?: () => number;
}

/**
 * A refresh's outcome, with the records skipped as outside the route model, and for an IXFR the
 * difference sequences it held (psarnd sends one, condensed; Knot one per changeset).
 */
export type TransferOutcome = RefreshOutcome & { skipped: number; sequences?: number };

// BIND's max-transfer-time-in (120 min): a whole 1M-route zone takes 1 to 4 minutes on 2 busy
// cores, so a short bound would fail the very transfer a new sidecar needs. The idle bound is
// what catches a primary that died mid-stream.
const TIMEOUT_MS = 2 * 60 * 60_000;
const IDLE_MS = 30_000;
const SOA_TIMEOUT_MS = 5000;

/** EDNS option code of EXPIRE (RFC 7314 §2). */
const EXPIRE_OPTION = 9;
/** The OPT of a transfer query we add: root owner, type OPT, payload 1232, version 0, no flags. */
const OPT_HEAD = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0]);

/**
 * The primary's SOA fields, and the EXPIRE option (RFC 7314 §3) its reply carried: the seconds
 * its own copy has left when it is a secondary itself (`expireLeft`, when sent).
 */
function soaInfo(soa: SoaRecord, expireLeft?: number): SoaInfo {
  const info: SoaInfo = {
    serial: soa.serial,
    refresh: soa.refresh,
    retry: soa.retry,
    expire: soa.expire,
    minimum: soa.minimum,
  };
  if (expireLeft !== undefined) info.expireLeft = expireLeft;
  return info;
}

/**
 * `query` asking for EXPIRE (RFC 7314 §2: an empty option), before it is signed. `hasOpt`: its
 * OPT is its last record (encodeQuery's), which gets the option; else an OPT is added.
 */
export function askExpire(query: Buffer, hasOpt: boolean): Buffer {
  const option = Buffer.from([0, EXPIRE_OPTION, 0, 0]);
  if (hasOpt) {
    const out = Buffer.concat([query, option]);
    out.writeUInt16BE(query.readUInt16BE(query.length - 2) + option.length, query.length - 2);
    return out;
  }
  const rdlen = Buffer.alloc(2);
  rdlen.writeUInt16BE(option.length, 0);
  const out = Buffer.concat([query, OPT_HEAD, rdlen, option]);
  out.writeUInt16BE(query.readUInt16BE(Hdr.ARCOUNT) + 1, Hdr.ARCOUNT);
  return out;
}

/** The EXPIRE option's seconds in a reply (RFC 7314 §2: 4 bytes), or undefined. */
function expireOf(reply: DecodedMessage): number | undefined {
  const option = reply.edns?.options.find((o) => o.code === EXPIRE_OPTION && o.data.length === 4);
  return option?.data.readUInt32BE(0);
}

function canonicalZone(zone: string): string {
  const lower = zone.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** What one transfer's reply holds once read. */
type Received =
  | { kind: 'current'; soa: SoaRecord }
  | { kind: 'axfr'; soa: SoaRecord; collector: AxfrCollector }
  | { kind: 'ixfr'; soa: SoaRecord; folder: IxfrFolder };

/** One transfer read: the reply, its size, and the EXPIRE option it carried (RFC 7314 §3). */
interface TransferRead {
  received: Received;
  bytes: number;
  messages: number;
  sequences: number;
  expireLeft?: number;
}

/**
 * Reads the records of one transfer reply as they arrive (RFC 1995 §4, RFC 5936 §2.2): the
 * first SOA, then either the whole zone (AXFR, or an AXFR-style IXFR reply) up to the SOA
 * again, or difference sequences (old SOA, deletions, new SOA, additions), each starting where
 * the last ended, up to the final SOA.
 */
class ReplyReader {
  #mode: 'start' | 'second' | 'axfr' | 'del' | 'add' | 'done' = 'start';
  #first: SoaRecord | undefined;
  #sequenceTo: number | undefined;
  #collector: AxfrCollector | undefined;
  #folder: IxfrFolder | undefined;
  #current = false;
  /** Difference sequences read (RFC 1995 §4). */
  sequences = 0;

  constructor(
    private readonly zone: string,
    /** Our serial when the query was an IXFR; undefined for an AXFR. */
    private readonly ours: ZoneRow | undefined,
    private readonly ctx: { store: Store; namespace: string; what: string },
  ) {}

  get done(): boolean {
    return this.#mode === 'done';
  }

  #malformed(message: string): TransferError {
    return new TransferError('ERR_XFR_MALFORMED', `${this.ctx.what}: ${message}`);
  }

  #isSoa(rr: DecodedRecord): rr is SoaRecord & { class: number } {
    return rr.type === 'SOA' && rr.name === this.zone;
  }

  /** The transfer's bulk: every record of a zone in AXFR form. */
  #axfrRecords(records: readonly DecodedRecord[], from: number): void {
    const collector = this.#collector!;
    for (let i = from; i < records.length; i++) {
      const rr = records[i]!;
      if (rr.type === 'SOA' && this.#isSoa(rr)) {
        this.#axfrRecord(rr);
        if (i + 1 < records.length) throw this.#malformed('records after the closing SOA');
        return;
      }
      collector.add(rr);
    }
  }

  #axfr(): AxfrCollector {
    this.#collector = new AxfrCollector(this.zone, this.ctx.namespace, this.ctx.what);
    this.#collector.add(this.#first as DecodedRecord);
    this.#mode = 'axfr';
    return this.#collector;
  }

  /** The answer records of one message. @throws TransferError (axfrFallback when an AXFR would do) */
  message(records: readonly DecodedRecord[], first: boolean): void {
    if (this.#mode === 'axfr') {
      this.#axfrRecords(records, 0);
      return;
    }
    for (let i = 0; i < records.length; i++) {
      if (this.#mode === 'done') throw this.#malformed('records after the closing SOA');
      this.#record(records[i]!);
    }
    // A first message of the SOA alone, ahead of ours: RFC 1995 §2 sends it so when the
    // difference does not fit (UDP) and the client is to ask again; over TCP the reply may also
    // just continue in the next message, which we cannot tell from a reply that ended without
    // waiting for the idle timeout. Either way the whole zone brings us there.
    if (first && this.#mode === 'second' && this.ours !== undefined) {
      throw ixfrMismatch(
        `the primary answered with its SOA alone (serial ${this.#first!.serial}, ahead of our ${this.ours.serial})`,
      );
    }
  }

  #record(rr: DecodedRecord): void {
    switch (this.#mode) {
      case 'start': {
        if (!this.#isSoa(rr))
          throw this.#malformed(`the reply starts with ${rr.name} ${String(rr.type)}, not the zone's SOA`);
        this.#first = rr;
        if (this.ours !== undefined && !serialGreater(rr.serial, this.ours.serial)) {
          this.#current = true;
          this.#mode = 'done';
          return;
        }
        this.#mode = 'second';
        return;
      }
      case 'second': {
        if (this.ours !== undefined && this.#isSoa(rr)) {
          // RFC 1995 §4: a difference sequence, from the serial it starts at.
          if (rr.serial !== this.ours.serial) {
            throw ixfrMismatch(`the primary's difference starts at serial ${rr.serial}, ours is ${this.ours.serial}`);
          }
          this.#folder = new IxfrFolder(this.ctx.store, this.ours, this.ctx.namespace);
          this.sequences = 1;
          this.#mode = 'del';
          return;
        }
        this.#axfr();
        this.#axfrRecord(rr);
        return;
      }
      case 'axfr':
        this.#axfrRecord(rr);
        return;
      case 'del':
        if (this.#isSoa(rr)) {
          this.#sequenceTo = rr.serial;
          this.#mode = 'add';
        } else this.#folder!.delete(rr);
        return;
      case 'add':
        if (this.#isSoa(rr)) {
          const last = this.#first!.serial;
          if (rr.serial === last && this.#sequenceTo === last) this.#mode = 'done';
          else if (rr.serial === this.#sequenceTo) {
            this.sequences++;
            this.#mode = 'del';
          } else {
            throw this.#malformed(
              `a difference sequence starts at serial ${rr.serial} where the previous one ended at ${this.#sequenceTo}`,
            );
          }
        } else this.#folder!.add(rr);
        return;
      default:
        throw this.#malformed('records after the closing SOA');
    }
  }

  #axfrRecord(rr: DecodedRecord): void {
    if (this.#isSoa(rr)) {
      // RFC 5936 §2.2: the zone's SOA again ends it; the same serial, or the zone changed under it.
      if (rr.serial !== this.#first!.serial) {
        throw this.#malformed(`the closing SOA has serial ${rr.serial}, the opening one ${this.#first!.serial}`);
      }
      this.#mode = 'done';
      return;
    }
    this.#collector!.add(rr);
  }

  /** What was received, once done. */
  result(): Received {
    const soa = this.#first!;
    if (this.#current) return { kind: 'current', soa };
    if (this.#folder !== undefined) return { kind: 'ixfr', soa, folder: this.#folder };
    return { kind: 'axfr', soa, collector: this.#collector! };
  }
}

export class TransferClient implements ZoneTransferer {
  readonly #store: Store;
  readonly #primary: Primary;
  readonly #namespace: string;
  readonly #params: ZoneParams;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #idleMs: number;
  readonly #soaTimeoutMs: number;
  readonly #log: TransferLog | undefined;
  readonly #randomId: () => number;
  readonly #actor: string;
  readonly #at: string;

  constructor(options: TransferClientOptions) {
    this.#store = options.store;
    this.#primary = options.primary;
    this.#namespace = options.namespace;
    this.#params = options.params;
    this.#clock = options.clock ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
    this.#idleMs = options.idleMs ?? IDLE_MS;
    this.#soaTimeoutMs = options.soaTimeoutMs ?? SOA_TIMEOUT_MS;
    this.#log = options.log;
    this.#randomId = options.randomId ?? (() => randomInt(0, 0x10000));
    const { host, port } = options.primary.address;
    this.#at = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.#actor = `primary:${this.#at}`;
  }

  #what(zone: string, verb: string): string {
    return `${verb} of ${zone} from primary ${this.#at}`;
  }

  /**
   * Signs `query` with the primary's key, if any; the MAC checks the reply, with the same key
   * (the key is read once: a SIGHUP may rotate it while a transfer runs).
   */
  #sign(query: Buffer): { message: Buffer; mac: Buffer; key: TsigKey } | { message: Buffer; key: undefined } {
    const key = this.#primary.key;
    if (key === undefined) return { message: query, key: undefined };
    return { ...signMessageMac(query, key, { now: this.#clock }), key };
  }

  /** @throws TransferError ERR_XFR_TSIG naming the key, never its secret */
  #tsigFailed(result: TsigVerifyResult, reply: Buffer, what: string, signer: TsigKey): TransferError {
    const rcode = rcodeName(u16At(reply, Hdr.FLAGS) & 0xf);
    const key = signer.name;
    const why =
      result.status === 'unsigned'
        ? 'is not signed'
        : result.status === 'peer-error'
          ? `carries TSIG error ${tsigErrorName(result.error)} (the primary does not take key '${key}' as we sent it)`
          : result.status === 'formerr'
            ? `has a malformed TSIG (${result.reason})`
            : `fails TSIG verification with key '${key}' (${result.status})`;
    return new TransferError('ERR_XFR_TSIG', `${what}: the reply (${rcode}) ${why}`);
  }

  #checkRcode(reply: DecodedMessage, what: string): void {
    if (reply.rcode !== Rcode.NOERROR) {
      throw new TransferError('ERR_XFR_RCODE', `${what}: the primary answered ${rcodeName(reply.rcode)}`);
    }
  }

  /**
   * One message of a transfer stream: its TSIG verified in the stream (RFC 8945 §5.3.1: the first
   * signed, up to 99 unsigned between signed ones), decoded, its rcode NOERROR. @throws TransferError
   */
  #streamMessage(
    reply: Buffer,
    index: number,
    verifier: TsigStreamVerifier | undefined,
    key: TsigKey | undefined,
    what: string,
  ): DecodedMessage {
    if (verifier !== undefined) {
      const result = verifier.verify(reply);
      if (result.status !== 'ok' && !(result.status === 'unsigned' && index > 0)) {
        throw this.#tsigFailed(result, reply, what, key!);
      }
    }
    const decoded = this.#decode(reply, what);
    this.#checkRcode(decoded, what);
    return decoded;
  }

  #decode(reply: Buffer, what: string): DecodedMessage {
    try {
      return decodeMessage(reply);
    } catch (err) {
      throw new TransferError('ERR_XFR_MALFORMED', `${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  async soa(zone: string, signal?: AbortSignal): Promise<SoaInfo> {
    const name = canonicalZone(zone);
    const what = this.#what(name, 'SOA query');
    const query = askExpire(
      encodeQuery({ id: this.#randomId(), name, qtype: Type.SOA, edns: { udpSize: 1232 } }),
      true,
    );
    const signed = this.#sign(query);
    const { message } = signed;
    const options = { timeoutMs: this.#soaTimeoutMs, signal, what };
    let reply = await udpExchange(this.#primary.address, message, options);
    // RFC 1035 §4.2.1: a truncated answer is asked again over TCP.
    if ((u16At(reply, Hdr.FLAGS) & Flag.TC) !== 0) {
      let got: Buffer | undefined;
      await tcpStream(
        this.#primary.address,
        message,
        (m) => {
          got = Buffer.from(m);
          return true;
        },
        { ...options, idleMs: this.#soaTimeoutMs },
      );
      reply = got!;
    }
    if (signed.key !== undefined) {
      const result = verifyMessage(reply, new Map([[signed.key.name, signed.key]]), {
        requestMac: signed.mac,
        now: this.#clock,
      });
      if (result.status !== 'ok') throw this.#tsigFailed(result, reply, what, signed.key);
    }
    const decoded = this.#decode(reply, what);
    this.#checkRcode(decoded, what);
    const soa = decoded.answer.find((rr): rr is SoaRecord & { class: number } => rr.type === 'SOA' && rr.name === name);
    if (soa === undefined) throw new TransferError('ERR_XFR_MALFORMED', `${what}: the answer has no SOA of the zone`);
    return soaInfo(soa, expireOf(decoded));
  }

  /**
   * One transfer over TCP: the query signed, each reply verified (RFC 8945 §5.3.1), decoded
   * and read as it arrives. Nothing is written here.
   */
  async #transfer(
    zone: string,
    query: Buffer,
    ours: ZoneRow | undefined,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<TransferRead> {
    const signed = this.#sign(query);
    // RFC 7314 §3: the EXPIRE option of the reply (the first message that has one).
    let expireLeft: number | undefined;
    const { message, key } = signed;
    const verifier = key === undefined ? undefined : new TsigStreamVerifier(key, signed.mac, { now: this.#clock });
    const reader = new ReplyReader(zone, ours, { store: this.#store, namespace: this.#namespace, what });
    const onMessage: OnMessage = (reply, index) => {
      const decoded = this.#streamMessage(reply, index, verifier, key, what);
      expireLeft ??= expireOf(decoded);
      reader.message(decoded.answer, index === 0);
      if (!reader.done) return false;
      // RFC 8945 §5.3.1: the last message must be signed.
      if (verifier !== undefined && !verifier.end()) {
        throw new TransferError('ERR_XFR_TSIG', `${what}: the last message is not signed`);
      }
      return true;
    };
    const { bytes, messages } = await tcpStream(this.#primary.address, message, onMessage, {
      timeoutMs: this.#timeoutMs,
      idleMs: this.#idleMs,
      signal,
      what,
    });
    return {
      received: reader.result(),
      bytes,
      messages,
      sequences: reader.sequences,
      ...(expireLeft !== undefined ? { expireLeft } : {}),
    };
  }

  async refresh(zone: string, signal?: AbortSignal): Promise<TransferOutcome> {
    const name = canonicalZone(zone);
    const ours = this.#store.zone(name);
    if (ours === undefined) return this.#axfr(name, undefined, 'no local copy', signal);
    const what = this.#what(name, 'IXFR');
    let got: TransferRead;
    try {
      got = await this.#transfer(
        name,
        askExpire(encodeIxfrQuery(name, ours.serial, this.#randomId()), false),
        ours,
        what,
        signal,
      );
    } catch (err) {
      if (!(err instanceof TransferError && err.axfrFallback)) throw err;
      return this.#axfr(name, ours.serial, `IXFR from ${ours.serial} does not fit our copy: ${err.message}`, signal);
    }
    const { received, bytes, messages, sequences } = got;
    const soa = soaInfo(received.soa, got.expireLeft);
    if (received.kind === 'current') return { kind: 'current', serial: soa.serial, soa, skipped: 0 };
    if (received.kind === 'axfr') {
      const routes = this.#applyAxfr(received.collector, what);
      const reason = `the primary answered IXFR from ${ours.serial} with the whole zone`;
      this.#logApplied(name, 'axfr', ours.serial, soa.serial, routes, bytes, received.collector.skipped, reason);
      return {
        kind: 'axfr',
        from: ours.serial,
        serial: soa.serial,
        soa,
        routes,
        bytes,
        messages,
        reason,
        skipped: received.collector.skipped,
      };
    }
    const { folder } = received;
    let fold: ReturnType<IxfrFolder['finish']>;
    try {
      fold = folder.finish(received.soa, what);
    } catch (err) {
      if (!(err instanceof TransferError && err.axfrFallback)) throw err;
      return this.#axfr(name, ours.serial, `IXFR from ${ours.serial} does not fit our copy: ${err.message}`, signal);
    }
    try {
      storeWrite(what, () =>
        this.#store.editRoutes(name, fold.edits, fold.params, {
          serial: soa.serial,
          epoch: fold.epoch,
          actor: this.#actor,
          // The primary is the authority: an alias left dangling there is dangling here too.
          force: true,
          setParams: true,
        }),
      );
    } catch (err) {
      // A loop or an over-long chain of aliases, which a route write refuses even forced: the
      // whole zone goes in as an import, which reports such chains and takes them (as Knot and
      // BIND load such zones), so the copy stays the primary's.
      if (!(err instanceof StoreError && (err.code === 'ERR_ALIAS_LOOP' || err.code === 'ERR_ALIAS_CHAIN'))) throw err;
      return this.#axfr(name, ours.serial, `IXFR from ${ours.serial}: ${err.message}`, signal);
    }
    this.#logApplied(name, 'ixfr', ours.serial, soa.serial, folder.touched, bytes, folder.skipped);
    return {
      kind: 'ixfr',
      from: ours.serial,
      serial: soa.serial,
      soa,
      routes: folder.touched,
      bytes,
      messages,
      skipped: folder.skipped,
      sequences,
    };
  }

  #applyAxfr(collector: AxfrCollector, what: string): number {
    const content = collector.finish();
    return storeWrite(what, () => applyAxfr(this.#store, content, this.#params, this.#actor));
  }

  async #axfr(zone: string, from: number | undefined, reason: string, signal?: AbortSignal): Promise<TransferOutcome> {
    const what = this.#what(zone, 'AXFR');
    const query = askExpire(
      encodeQuery({ id: this.#randomId(), name: zone, qtype: Type.AXFR, edns: { udpSize: 1232 } }),
      true,
    );
    const { received, bytes, messages, expireLeft } = await this.#transfer(zone, query, undefined, what, signal);
    if (received.kind !== 'axfr') throw new TransferError('ERR_XFR_MALFORMED', `${what}: the reply is no zone`);
    const soa = soaInfo(received.soa, expireLeft);
    const routes = this.#applyAxfr(received.collector, what);
    this.#logApplied(zone, 'axfr', from, soa.serial, routes, bytes, received.collector.skipped, reason);
    return {
      kind: 'axfr',
      from,
      serial: soa.serial,
      soa,
      routes,
      bytes,
      messages,
      reason,
      skipped: received.collector.skipped,
    };
  }

  #logApplied(
    zone: string,
    kind: 'axfr' | 'ixfr',
    from: number | undefined,
    serial: number,
    routes: number,
    bytes: number,
    skipped: number,
    reason?: string,
  ): void {
    const fields = { zone, kind, from, serial, routes, bytes, primary: this.#at, ...(reason ? { reason } : {}) };
    this.#log?.info(fields, 'zone transferred in');
    if (skipped > 0) {
      this.#log?.warn(
        { zone, skipped, primary: this.#at },
        'records outside the route model skipped (types or names psarn does not hold)',
      );
    }
  }

  async catalogMembers(catalogZone: string, signal?: AbortSignal): Promise<string[]> {
    const name = canonicalZone(catalogZone);
    const what = this.#what(name, 'AXFR of the catalog');
    const query = encodeQuery({ id: this.#randomId(), name, qtype: Type.AXFR, edns: false });
    const signed = this.#sign(query);
    const { message, key } = signed;
    const verifier = key === undefined ? undefined : new TsigStreamVerifier(key, signed.mac, { now: this.#clock });
    const members = new Set<string>();
    const zonesSuffix = `.zones.${name}`;
    let version: string | undefined;
    let first: number | undefined;
    let done = false;
    await tcpStream(
      this.#primary.address,
      message,
      (reply, index) => {
        const decoded = this.#streamMessage(reply, index, verifier, key, what);
        for (const rr of decoded.answer) {
          if ('typeCode' in rr) continue;
          if (done) throw new TransferError('ERR_XFR_MALFORMED', `${what}: records after the closing SOA`);
          if (rr.type === 'SOA' && rr.name === name) {
            if (first === undefined) first = rr.serial;
            else if (rr.serial !== first) {
              throw new TransferError(
                'ERR_XFR_MALFORMED',
                `${what}: the closing SOA's serial is not the opening one's`,
              );
            } else done = true;
            continue;
          }
          if (first === undefined)
            throw new TransferError('ERR_XFR_MALFORMED', `${what}: the reply does not start with the SOA`);
          // RFC 9432 §4.3.1: the schema version; §4.1: members are PTRs at <unique-id>.zones.<catalog>.
          if (rr.type === 'TXT' && rr.name === `version.${name}`) version = rr.strings.join('');
          else if (
            rr.type === 'PTR' &&
            rr.name.endsWith(zonesSuffix) &&
            !rr.name.slice(0, -zonesSuffix.length).includes('.')
          ) {
            members.add(rr.target);
          }
        }
        if (done && verifier !== undefined && !verifier.end()) {
          throw new TransferError('ERR_XFR_TSIG', `${what}: the last message is not signed`);
        }
        return done;
      },
      { timeoutMs: this.#timeoutMs, idleMs: this.#idleMs, signal, what },
    );
    // RFC 9432 §5.1: a consumer must not process a catalog of a version it does not know.
    if (version !== '2') {
      throw new TransferError(
        'ERR_XFR_DATA',
        `${what}: catalog version ${version === undefined ? 'missing' : `'${version}'`}; psarnd reads version 2 (RFC 9432)`,
      );
    }
    return [...members].sort();
  }

  dropZone(zone: string): void {
    const name = canonicalZone(zone);
    if (this.#store.deleteZone(name)) {
      this.#log?.info({ zone: name, primary: this.#at }, 'zone dropped: the primary no longer lists it');
    }
  }
}

/**
 * A write of transferred data; a route or zone the store refuses (StoreError ERR_INVALID_*: out
 * of its limits) is the transfer's ERR_XFR_DATA, and the transaction wrote nothing. Other store
 * errors (a locked or damaged file) pass as they are.
 */
function storeWrite<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (err instanceof StoreError && (err.code === 'ERR_INVALID_ROUTE' || err.code === 'ERR_INVALID_ZONE')) {
      throw new TransferError('ERR_XFR_DATA', `${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function tsigErrorName(error: number): string {
  return { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' }[error] ?? String(error);
}
