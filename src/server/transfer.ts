/**
 * Serving zone transfers (docs/design.md#transfers): AXFR (RFC 5936) over TCP only, IXFR
 * (RFC 1995) over TCP and UDP, behind an ACL (`AllowTransfer`) that TSIG (RFC 8945) plugs
 * into. The records and messages come from src/zonefile/transfer.ts; each transfer reads its
 * zone from one snapshot of a store connection of its own, so the daemon's own reads go on
 * while a 1M-route zone streams out at the peer's pace.
 */
import type { Logger } from 'pino';
import { serialGreater } from '../store/serial.js';
import type { Store } from '../store/store.js';
import { Flag, Hdr, OPCODE_MASK, OPCODE_SHIFT } from '../wire/cursor.js';
import { decodeMessage } from '../wire/message.js';
import { type ParsedQuery, readEdnsRequest } from '../wire/query.js';
import { Ede, edeOption, errorResponse, expireOption } from '../wire/response.js';
import { signMessage, type TsigKey, TsigStreamSigner, tsigSize } from '../wire/tsig.js';
import { type DnsRecord, Rcode, type RcodeValue, Type } from '../wire/types.js';
import { buildCatalog, type CatalogOptions, catalogMembers, catalogName } from '../zone/catalog.js';
import { soaRecord } from '../zone/records.js';
import { axfrRecords, ixfrPlan, type PackOptions, packMessages } from '../zonefile/transfer.js';
import type { Proto } from './metrics.js';

/** Where a transfer query came from; undefined over UDP (the handler is not told). */
export interface TransferPeer {
  address: string;
  port: number;
}

/** A query's TSIG that verified (RFC 8945 §5.2): the key, and the request MAC replies cover. */
export interface VerifiedTsig {
  key: TsigKey;
  mac: Buffer;
}

/** What the ACL is asked about. */
export interface TransferRequest {
  /** The whole query message. */
  message: Buffer;
  query: ParsedQuery;
  proto: Proto;
  /** The query's TSIG, verified by the handler (docs/design.md#tsig); undefined: unsigned. */
  tsig?: VerifiedTsig | undefined;
}

/** What the handler knows of a transfer query besides its bytes. */
export interface TransferContext {
  /** The TCP peer; undefined over UDP (the handler is not told). */
  peer?: TransferPeer | undefined;
  /** The query's verified TSIG: every reply is then signed with its key (RFC 8945 §5.3). */
  tsig?: VerifiedTsig | undefined;
  /**
   * Builds a reply without answer data (the handler's, so its EDNS options and EDE go along);
   * default: a bare one.
   */
  error?: ((rcode: RcodeValue, ede?: Uint8Array) => Buffer) | undefined;
}

/** The ACL's answer. */
export interface TransferDecision {
  allowed: boolean;
  /** The refusal's RCODE; default REFUSED (RFC 5936 §2.2.1). A TSIG failure is NOTAUTH (RFC 8945 §5.2). */
  rcode?: RcodeValue;
  /** A ready refusal to send instead of the default one (e.g. a signed BADTIME, RFC 8945 §5.2.3). */
  reply?: Buffer;
  /** The key that allowed it, for the log (its name, never its secret). */
  key?: string;
  /** Bytes to keep free in every message for the signature `sign` adds. */
  reserve?: number;
  /** Signs the transfer's messages in order (RFC 8945 §5.3.1): message i in, signed message out. */
  sign?: (message: Buffer, index: number) => Buffer;
}

/** The ACL seam: who may transfer which zone. */
export type AllowTransfer = (request: TransferRequest, peer: TransferPeer | undefined) => TransferDecision;

/**
 * The ACL of config `transfer.allow`: a transfer is allowed when the query is signed with one of
 * the listed keys and its TSIG verified (`verifiedKey`, by default the handler's verification in
 * `request.tsig`). Unsigned, or signed by another key: refused. Nothing is offered to the network
 * unless a key allows it.
 */
export function allowTransferByKeys(
  allow: readonly string[],
  verifiedKey: (request: TransferRequest) => string | undefined = (request) => request.tsig?.key.name,
): AllowTransfer {
  const names = new Set(allow.map(canonicalKey));
  return (request) => {
    const key = verifiedKey?.(request);
    return key !== undefined && names.has(canonicalKey(key)) ? { allowed: true, key } : { allowed: false };
  };
}

/** Key names are domain names: compared without case and trailing dot. */
const canonicalKey = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();

/** What became of one transfer request (docs/design.md#transfer-metrics). */
export type TransferResult = 'ok' | 'refused' | 'notauth' | 'error';

/** Counted per transfer request and per message sent (DaemonMetrics implements it). */
export interface TransferMetrics {
  /** Once per request, when its reply is decided (a refusal) or its stream ends. */
  transfer(type: 'axfr' | 'ixfr', result: TransferResult): void;
  /** Each message of the reply, as it is handed out. */
  transferMessage(type: 'axfr' | 'ixfr', bytes: number): void;
}

export interface TransferOptions {
  /**
   * A store connection for one transfer, and how to let it go: psarnd opens a read-only one per
   * transfer (a snapshot held open across the socket's pace must not block the daemon's reads).
   */
  openStore: () => { store: Store; close(): void };
  allow: AllowTransfer;
  /** TTL of the `_epoch` TXT (config epochTtl), read at each transfer. */
  epochTtl: () => number;
  log: Logger;
  /** Milliseconds since the epoch, for the TSIG times of signed replies (default Date.now). */
  clock?: () => number;
  /**
   * The catalog zone's name and SOA parameters (config namespace and SOA timers, read at each
   * transfer); undefined: the catalog is not transferred (docs/design.md#catalog-zone).
   */
  catalog?: () => CatalogOptions;
  metrics?: TransferMetrics;
  /**
   * The EXPIRE (RFC 7314 §3) sent with a transfer of `zone`, whose SOA says `soaExpire`: the
   * handler's hook. A primary sends the field itself (the default); a secondary sends the seconds
   * its own copy has left (§3.2), so a chain of secondaries cannot keep an expired zone alive.
   */
  expireFor?: (zone: string, soaExpire: number) => number;
}

/** The replies to one transfer query, and the RCODE they carry (for metrics). */
export interface TransferReplies {
  rcode: number;
  messages: Iterable<Buffer>;
}

const TCP_MAX = 65535;
const UDP_CLASSIC = 512;
/** RFC 8914 §4.19: a transfer the ACL does not allow. */
const EDE_PROHIBITED = edeOption(Ede.PROHIBITED);

/**
 * The QTYPE of a message that asks for a zone transfer (a query, opcode QUERY, one question of
 * type AXFR or IXFR), else undefined: a peek the TCP listener makes before the handler parses,
 * so only transfers take the streaming path. Never throws.
 */
export function transferQtype(buf: Buffer): number | undefined {
  if (buf.length < Hdr.SIZE + 5) return undefined;
  const flags = buf.readUInt16BE(Hdr.FLAGS);
  if ((flags & Flag.QR) !== 0 || ((flags >>> OPCODE_SHIFT) & OPCODE_MASK) !== 0) return undefined;
  if (buf.readUInt16BE(Hdr.QDCOUNT) !== 1) return undefined;
  let p: number = Hdr.SIZE;
  for (;;) {
    if (p >= buf.length) return undefined;
    const n = buf[p]!;
    if (n === 0) break;
    if (n > 63) return undefined;
    p += n + 1;
  }
  if (p + 5 > buf.length) return undefined;
  const qtype = buf.readUInt16BE(p + 1);
  return qtype === Type.AXFR || qtype === Type.IXFR ? qtype : undefined;
}

export class TransferServer {
  readonly #options: TransferOptions;
  udpPayloadSize: number;

  constructor(options: TransferOptions & { udpPayloadSize: number }) {
    this.#options = options;
    this.udpPayloadSize = options.udpPayloadSize;
  }

  /**
   * The replies to an AXFR or IXFR query (class IN, EDNS version 0: the handler checked). Over
   * UDP at most one message. Lazy: the zone is read as the messages are taken, and returning
   * the iterator early (a closed connection) ends the read and lets the store connection go.
   * With a verified TSIG every reply is signed with its key (RFC 8945 §5.3): a refusal as one
   * reply, a transfer's messages in a chain (§5.3.1).
   */
  respond(request: Buffer, query: ParsedQuery, proto: Proto, context: TransferContext = {}): TransferReplies {
    try {
      return this.#respond(request, query, proto, context);
    } catch (err) {
      // The handler answers SERVFAIL (an internal error): a transfer that failed.
      this.#options.metrics?.transfer(transferType(query), 'error');
      throw err;
    }
  }

  #respond(request: Buffer, query: ParsedQuery, proto: Proto, context: TransferContext): TransferReplies {
    const { peer, tsig } = context;
    const clock = this.#options.clock ?? Date.now;
    const metrics = this.#options.metrics;
    const refuse = (rcode: RcodeValue, reply?: Buffer, ede?: Uint8Array): TransferReplies => {
      let message = reply;
      if (message === undefined) {
        const bare = context.error?.(rcode, ede) ?? this.#error(request, query, rcode);
        message = tsig === undefined ? bare : signMessage(bare, tsig.key, { requestMac: tsig.mac, now: clock });
      }
      if (metrics !== undefined) {
        const type = transferType(query);
        metrics.transfer(type, rcode === Rcode.REFUSED ? 'refused' : rcode === Rcode.NOTAUTH ? 'notauth' : 'error');
        metrics.transferMessage(type, message.length);
      }
      return { rcode, messages: [message] };
    };
    // RFC 5936 §4.2: AXFR is defined over TCP only. NOTIMP, as Knot answers (before the ACL: it
    // says nothing about the zone or the keys).
    if (query.qtype === Type.AXFR && proto === 'udp') return refuse(Rcode.NOTIMP);
    // RFC 1995 §3: an IXFR query carries the client's SOA in the authority section.
    let clientSerial: number | undefined;
    if (query.qtype === Type.IXFR) {
      clientSerial = ixfrSerial(request);
      if (clientSerial === undefined) return refuse(Rcode.FORMERR);
    }
    const decision = this.#options.allow({ message: request, query, proto, tsig }, peer);
    if (!decision.allowed) {
      this.#options.log.info(
        {
          zone: query.qname,
          qtype: query.qtype === Type.AXFR ? 'AXFR' : 'IXFR',
          proto,
          peer: peer?.address,
          key: tsig?.key.name,
        },
        'zone transfer refused',
      );
      const rcode = decision.rcode ?? Rcode.REFUSED;
      return refuse(rcode, decision.reply, rcode === Rcode.REFUSED ? EDE_PROHIBITED : undefined);
    }
    // RFC 8945 §5.3.1: every message of the reply signed in a chain, each with room for its TSIG.
    let signed = decision;
    if (tsig !== undefined && decision.sign === undefined) {
      const signer = new TsigStreamSigner(tsig.key, tsig.mac, { now: clock });
      signed = { ...decision, reserve: decision.reserve ?? tsigSize(tsig.key), sign: (m) => signer.sign(m) };
    }
    // The catalog (RFC 9432 §5.1: transferred like any zone, under the same ACL).
    const catalog = this.#options.catalog?.();
    const isCatalog = catalog !== undefined && query.qname.toLowerCase() === catalogName(catalog.namespace);
    const { store, close } = this.#options.openStore();
    let zoneKnown = isCatalog;
    try {
      if (!isCatalog) zoneKnown = store.zone(query.qname) !== undefined;
    } catch (err) {
      close();
      throw err;
    }
    // RFC 5936 §2.2.1: a zone we do not serve (or a name that is no zone apex) is NOTAUTH.
    if (!zoneKnown) {
      close();
      return refuse(Rcode.NOTAUTH);
    }
    const messages = isCatalog
      ? this.#stream(request, query, proto, peer, signed, store, clientSerial, catalog)
      : this.#stream(request, query, proto, peer, signed, store, clientSerial);
    return { rcode: Rcode.NOERROR, messages: closing(messages, close) };
  }

  *#stream(
    request: Buffer,
    query: ParsedQuery,
    proto: Proto,
    peer: TransferPeer | undefined,
    decision: TransferDecision,
    store: Store,
    clientSerial: number | undefined,
    catalog?: CatalogOptions,
  ): Generator<Buffer> {
    const { log } = this.#options;
    const udpPayloadSize = this.udpPayloadSize;
    const maxSize =
      proto === 'tcp' ? TCP_MAX : query.edns !== undefined ? Math.min(query.edns.udpSize, udpPayloadSize) : UDP_CLASSIC;
    // RFC 7314 §3: EXPIRE in every message when the query asked for it (8 bytes each; a client
    // may read it from any), the zone's SOA expire or, on a secondary, the seconds its copy has left.
    const asked =
      query.edns !== undefined && query.edns.optionsLength > 0 && readEdnsRequest(request, query.edns).expire;
    const expireFor = this.#options.expireFor;
    const pack: PackOptions = { maxSize, udpPayloadSize, reserve: decision.reserve ?? 0 };
    const expire = (zone: string, soaExpire: number): void => {
      if (asked) pack.ednsOptions = expireOption(expireFor?.(zone, soaExpire) ?? soaExpire);
    };
    const sign = decision.sign;
    let index = 0;
    const out = (message: Buffer): Buffer => (sign === undefined ? message : sign(message, index++));
    const epochTtl = this.#options.epochTtl();
    const started = performance.now();
    const metrics = this.#options.metrics;
    const type = transferType(query);
    let count = 0;
    let bytes = 0;
    let kind = 'axfr';
    let completed = false;
    const body = function* (): Generator<Buffer> {
      if (catalog !== undefined) {
        // The catalog has no journal: an IXFR of it is the whole catalog (RFC 1995 §4), or its
        // SOA alone when the client is current or over UDP (§2). It is small: one list.
        const zone = buildCatalog(
          catalog.namespace,
          store.catalogSerial(),
          catalog.params,
          catalogMembers(store.zones()),
        );
        const soa = zone.soa();
        expire(zone.name, catalog.params.expire);
        let records: DnsRecord[];
        if (clientSerial !== undefined && (clientSerial === zone.serial || serialGreater(clientSerial, zone.serial))) {
          kind = 'current';
          records = [soa];
        } else if (clientSerial !== undefined && proto === 'udp') {
          kind = 'soa-only';
          records = [soa];
        } else records = [...zone.records(), soa];
        for (const message of packMessages(request, query, records, pack)) yield out(message);
        return;
      }
      const zone = store.zone(query.qname)!;
      expire(zone.name, zone.expire);
      let records: Iterable<DnsRecord>;
      if (clientSerial === undefined) {
        records = axfrRecords(store, zone, epochTtl);
      } else {
        const plan = ixfrPlan(store, zone, clientSerial);
        kind = plan.kind;
        if (plan.kind === 'current') records = [soaRecord(zone)];
        else if (plan.kind === 'ixfr') {
          records = plan.records;
          if (proto === 'udp') {
            // RFC 1995 §2: when the difference does not fit in one UDP message, the current SOA
            // alone, so that the client asks again over TCP.
            const all = [...packMessages(request, query, records, pack)];
            if (all.length === 1) {
              yield out(all[0]!);
              return;
            }
            kind = 'soa-only';
            records = [soaRecord(zone)];
          }
        } else {
          log.info({ zone: zone.name, from: clientSerial, reason: plan.reason }, 'IXFR answered with the whole zone');
          // RFC 1995 §4: the whole zone in AXFR's form; over UDP it would not fit: the SOA alone.
          if (proto === 'udp') {
            kind = 'soa-only';
            records = [soaRecord(zone)];
          } else records = axfrRecords(store, zone, epochTtl);
        }
      }
      for (const message of packMessages(request, query, records, pack)) yield out(message);
    };
    try {
      for (const message of store.snapshot(body)) {
        count++;
        bytes += message.length;
        metrics?.transferMessage(type, message.length);
        // Over UDP the reply is one message: the handler takes it and lets the rest go.
        if (proto === 'udp') completed = true;
        yield message;
      }
      completed = true;
    } finally {
      metrics?.transfer(type, completed ? 'ok' : 'error');
      log.info(
        {
          zone: query.qname,
          qtype: query.qtype === Type.AXFR ? 'AXFR' : 'IXFR',
          kind,
          ...(clientSerial !== undefined ? { from: clientSerial } : {}),
          proto,
          peer: peer?.address,
          key: decision.key,
          messages: count,
          bytes,
          ...(completed ? {} : { completed }),
          seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
        },
        'zone transfer',
      );
    }
  }

  #error(request: Buffer, query: ParsedQuery, rcode: RcodeValue): Buffer {
    return errorResponse(request, query, rcode, {
      questionEnd: query.questionEnd,
      ...(query.edns !== undefined ? { edns: query.edns } : {}),
      udpPayloadSize: this.udpPayloadSize,
    });
  }
}

/** The metrics' type label: the request's QTYPE (an IXFR answered in AXFR form stays 'ixfr'). */
const transferType = (query: ParsedQuery): 'axfr' | 'ixfr' => (query.qtype === Type.AXFR ? 'axfr' : 'ixfr');

/** The serial of the SOA in an IXFR query's authority section (RFC 1995 §3), or undefined. */
function ixfrSerial(request: Buffer): number | undefined {
  try {
    const soa = decodeMessage(request).authority.find((rr) => rr.type === 'SOA');
    return soa === undefined ? undefined : (soa as { serial: number }).serial;
  } catch {
    return undefined;
  }
}

/**
 * `it`, calling `close` once when it ends, throws, or is returned early, even before its first
 * value (a generator's own finally would not run then: the connection closed before we wrote).
 */
function closing<T>(it: Iterator<T>, close: () => void): IterableIterator<T> {
  let closed = false;
  const done = () => {
    if (!closed) {
      closed = true;
      close();
    }
  };
  return {
    [Symbol.iterator]() {
      return this;
    },
    next() {
      try {
        const r = it.next();
        if (r.done) done();
        return r;
      } catch (err) {
        done();
        throw err;
      }
    },
    return(value?: unknown) {
      try {
        it.return?.();
      } finally {
        done();
      }
      return { done: true, value: value as T };
    },
  };
}
