/**
 * One packet in, one reply out (or nothing). Decides nothing about sockets: the listeners carry
 * bytes, this classifies the query, serves ready answers from the cache, and on a miss asks the
 * answer function inside one store snapshot. One catch per packet: a bug answers SERVFAIL and
 * increments a counter instead of taking the daemon down (CoreDNS's recover in ServeDNS).
 */
import type { Logger } from 'pino';
import { type IncomingNotify, parseNotify } from '../secondary/notify-in.js';
import {
  addressBytes,
  checkServerCookie,
  type PeerAddress,
  parseCookieOption,
  writeServerCookie,
} from '../wire/cookie.js';
import { Flag, Hdr, QUESTION_FIXED } from '../wire/cursor.js';
import {
  type EdnsInfo,
  EdnsOption,
  type EdnsRequest,
  type HeaderInfo,
  type ParsedQuery,
  parseQuery,
  readEdnsRequest,
} from '../wire/query.js';
import {
  assembleResponse,
  Ede,
  edeOption,
  errorResponse,
  expireOption,
  nsidOption,
  type ReadyAnswer,
  type ReplyOptions,
  soaExpireOf,
} from '../wire/response.js';
import {
  badtimeOtherData,
  signMessage,
  TsigError,
  type TsigKeyring,
  type TsigVerifyResult,
  tsigSize,
  unsignedErrorTsig,
  verifyMessage,
} from '../wire/tsig.js';
import { Class, Opcode, Rcode, type RcodeValue, Type } from '../wire/types.js';
import { type Answer, answer } from '../zone/answer.js';
import type { AnswerCache } from '../zone/cache.js';
import { encodeAnswer } from '../zone/encode.js';
import type { RouteIndex } from '../zone/route-index.js';
import { isRouteQuestion, type RouteRecords } from '../zone/route-wire.js';
import type { ZoneView } from '../zone/view.js';
import type { DaemonMetrics, Proto } from './metrics.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { type TransferPeer, type TransferServer, transferQtype, type VerifiedTsig } from './transfer.js';
import type { UpdateServer } from './update.js';

/** TCP replies may use the whole 16-bit length (RFC 7766 §8). */
const TCP_MAX = 65535;
const EMPTY = Buffer.alloc(0);
/** Without EDNS a UDP reply must fit in 512 bytes (RFC 1035 §4.2.1). */
const UDP_CLASSIC = 512;
/** RFC 8914 §4.21: a name outside every zone we serve (or a class we serve no zone of). */
const EDE_NOT_AUTHORITATIVE = edeOption(Ede.NOT_AUTHORITATIVE);
/** A stored answer the encoder cannot write: the reason, for the operator's dig. */
const EDE_UNENCODABLE = edeOption(Ede.OTHER, 'stored data cannot be encoded; see the server log');
/** A SERVFAIL without records, carrying an EDE option. */
const servfail = (ede: Buffer): ReadyAnswer => ({
  rcode: Rcode.SERVFAIL,
  aa: false,
  ancount: 0,
  nscount: 0,
  arcount: 0,
  body: EMPTY,
  additionalAt: 0,
  ede,
});
/** A secondary's zone past expire (RFC 8914 §4.23): SERVFAIL, 22 No Reachable Authority. */
const EXPIRED = servfail(
  edeOption(Ede.NO_REACHABLE_AUTHORITY, 'zone expired; the primary did not answer within SOA expire'),
);
/** Our server cookie reply: code, length 24, client cookie 8, server cookie 16 (RFC 9018 §4). */
const COOKIE_REPLY_SIZE = 4 + 8 + 16;

export interface HandlerOptions {
  /**
   * What a miss reads, in one store snapshot. The handler only reads: changes are picked up by
   * ZoneSync (src/zone/zone-sync.ts), which keeps the view, the cache and the index in step, and
   * whose view catches up with the store before a read (one freshness rule for every path).
   */
  view: ZoneView & { read<T>(fn: () => T): T };
  cache: AnswerCache;
  /** Every target route, answered without the store (src/zone/route-index.ts); checked before the cache. */
  routes?: { readonly index: RouteIndex | undefined };
  metrics: DaemonMetrics;
  log: Logger;
  /** Where internal errors are logged; default: `log`, at most 5 lines of a message per 10 s. */
  errorLog?: RateLimitedLog;
  /** Our EDNS(0) UDP payload size (config udpPayloadSize). */
  udpPayloadSize: number;
  /** Milliseconds, monotonic, for the request-duration histogram (default performance.now). */
  now?: () => number;
  /** What NSID (RFC 5001) names this server by: config `nsid`; undefined: NSID not answered. */
  nsid?: Uint8Array | undefined;
  /**
   * The 16-byte server secret of DNS Cookies (RFC 7873, RFC 9018): config `cookieSecret`, else
   * random per daemon; undefined: COOKIE options are ignored. docs/design.md#edns-options
   */
  cookieSecret?: Uint8Array | undefined;
  /** Seconds since the epoch, for cookie timestamps (default the system clock). */
  wallSeconds?: () => number;
  /**
   * The EXPIRE (RFC 7314 §2) sent with the SOA answer of `zone`, whose SOA says `soaExpire`. A
   * primary sends the field itself (the default); a secondary sends the seconds its copy has left.
   */
  expireFor?: (zone: string, soaExpire: number) => number;
  /** The TSIG keys signed queries may use (config tsig.keys); none: every signed query is BADKEY. */
  tsigKeys?: TsigKeyring;
  /** Milliseconds since the epoch, for TSIG times (default Date.now). */
  clock?: () => number;
  /** Zone transfers (AXFR, IXFR; src/server/transfer.ts). Without, they are REFUSED. */
  transfers?: TransferServer;
  /** DNS UPDATE (src/server/update.ts). Without, an UPDATE is NOTIMP. */
  updates?: UpdateServer;
  /**
   * A secondary's NOTIFY receiver (RFC 1996 §3.7–3.11; src/secondary/secondary.ts): told of each
   * NOTIFY whose TSIG verified (or that was unsigned); true accepts it (NOERROR, AA, signed like
   * the request), false answers NOTAUTH. Without (a primary): every NOTIFY is NOTAUTH.
   */
  notify?: (notice: IncomingNotify) => boolean;
  /**
   * A secondary's zones past their SOA expire (RFC 1035 §3.3.13): their queries and transfers
   * answer SERVFAIL with EDE 22 No Reachable Authority (docs/design.md#secondary-mode).
   */
  expired?: ReadonlySet<string>;
  /**
   * Where a query's caller is recorded (src/map/caller-map.ts, docs/design.md#the-caller-map):
   * told of each query with a valid caller option answered NOERROR with records for a URI, TXT
   * or ANY question, with the serial of the zone data the answer came from. Without: not recorded.
   */
  callers?: { readonly enabled: boolean; record(caller: string, name: string, serial: number): void };
}

const NO_KEYS: TsigKeyring = new Map();

export class QueryHandler {
  readonly #options: HandlerOptions;
  readonly #now: () => number;
  readonly #clock: () => number;
  udpPayloadSize: number;
  /** Replaced on a config reload (SIGHUP). */
  tsigKeys: TsigKeyring;
  /** Where route-index answers are written, then copied into the reply (one per handler, reused). */
  readonly #scratch = Buffer.allocUnsafeSlow(TCP_MAX);
  readonly #records: RouteRecords = { end: 0, ancount: 0, arcount: 0, additionalAt: 0 };
  /** The route index entry of the last answer #indexed wrote (its zone serial is the caller map's). */
  #indexRef = -1;
  /** Where the reply of the current handleInto goes (ReplyTarget of wire/response.ts); undefined: a new Buffer. */
  #out: Buffer | undefined;
  #outOffset = 0;
  /** A fault that fails every query (a damaged database) must not log a line per query. */
  readonly #errors: RateLimitedLog;
  /** The requester's address as the carrier gave it, for the current call (cookies hash it). */
  #peer: PeerAddress | undefined;
  /** The NSID option bytes, built once; undefined: NSID off. */
  #nsid: Buffer | undefined;
  #cookieSecret: Uint8Array | undefined;
  readonly #wallSeconds: () => number;

  constructor(options: HandlerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.udpPayloadSize = options.udpPayloadSize;
    this.tsigKeys = options.tsigKeys ?? NO_KEYS;
    this.#clock = options.clock ?? Date.now;
    this.#errors = options.errorLog ?? new RateLimitedLog(options.log);
    this.configureEdns(options);
    this.#wallSeconds = options.wallSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Sets what NSID says and the cookie secret (a config reload); undefined turns either off. */
  configureEdns(options: { nsid?: Uint8Array | undefined; cookieSecret?: Uint8Array | undefined }): void {
    this.#nsid = options.nsid !== undefined && options.nsid.length > 0 ? nsidOption(options.nsid) : undefined;
    this.#cookieSecret = options.cookieSecret;
  }

  /**
   * handle, with the reply written into `out` at `offset` instead of a new Buffer (the native UDP
   * carrier's send slot): returns its length, or -1 when the message must be dropped. The bytes
   * are handle's, to the byte; a reply that does not fit in `out` is a bug, answered as one.
   */
  handleInto(request: Buffer, proto: Proto, out: Buffer, offset: number, peer?: PeerAddress): number {
    this.#out = out;
    this.#outOffset = offset;
    try {
      return this.handle(request, proto, peer)?.length ?? -1;
    } finally {
      this.#out = undefined;
    }
  }

  /**
   * The reply to one received message, or undefined when it must be dropped. `peer` is the
   * requester's address when the carrier knows it (server cookies are bound to it, RFC 9018 §4.4).
   */
  handle(request: Buffer, proto: Proto, peer?: PeerAddress): Buffer | undefined {
    this.#peer = peer;
    const { metrics } = this.#options;
    const started = this.#now();
    let reply: Buffer | undefined;
    let rcode: number = Rcode.SERVFAIL;
    try {
      const parsed = parseQuery(request);
      switch (parsed.kind) {
        case 'drop':
          metrics.dropped(proto);
          return undefined;
        case 'notimp': {
          // A NOTIFY to a secondary: its receiver decides (docs/design.md#secondary-mode).
          const { notify } = this.#options;
          if (parsed.header.opcode === Opcode.NOTIFY && notify !== undefined) {
            ({ reply, rcode } = this.#signedOrNot(request, proto, (query, key, serial) =>
              query.qclass === Class.IN && notify({ zone: query.qname, key, serial, peer: addressBytes(this.#peer) })
                ? { rcode: Rcode.NOERROR, aa: true }
                : { rcode: Rcode.NOTAUTH },
            ));
            break;
          }
          // DNS UPDATE (RFC 2136): src/server/update.ts decides, and refuses it on a secondary
          // (docs/design.md#dns-update, #secondary-mode).
          if (parsed.header.opcode === Opcode.UPDATE && this.#options.updates !== undefined) {
            ({ reply, rcode } = this.#update(request, proto));
            break;
          }
          // A NOTIFY to this primary: NOTAUTH, as Knot answers one no ACL allows (docs/design.md#notify).
          const refused = parsed.header.opcode === Opcode.NOTIFY ? Rcode.NOTAUTH : Rcode.NOTIMP;
          rcode = refused;
          reply = this.#reject(request, parsed, refused);
          break;
        }
        case 'formerr':
          metrics.formerr(proto);
          rcode = Rcode.FORMERR;
          reply = this.#reject(request, parsed, Rcode.FORMERR);
          break;
        case 'query': {
          const query = parsed.query;
          metrics.request(proto, query.qtype);
          // A signed query takes its own path (docs/design.md#tsig); the unsigned one pays one test.
          ({ reply, rcode } =
            query.tsig === undefined ? this.#answer(request, query, proto) : this.#signed(request, query, proto));
        }
      }
    } catch (error) {
      reply = this.#servfail(request, proto, error);
      rcode = Rcode.SERVFAIL;
    }
    metrics.response(proto, rcode);
    metrics.observeDuration(proto, (this.#now() - started) / 1000);
    return reply;
  }

  /**
   * The reply to a query; `reserve` bytes are kept free of the size limit (for a TSIG appended
   * after). `tsig`: the query's verified TSIG; a transfer's reply then comes signed (`signed`).
   */
  #answer(
    request: Buffer,
    query: ParsedQuery,
    proto: Proto,
    reserve = 0,
    tsig?: VerifiedTsig,
    control?: ReadyAnswer,
  ): { reply: Buffer; rcode: number; signed?: boolean } {
    const edns = query.edns;
    // RFC 6891 §6.1.3: an EDNS version we do not implement gets BADVERS, and no answer data.
    if (edns !== undefined && edns.version > 0) {
      return { reply: this.#error(request, query, Rcode.BADVERS), rcode: Rcode.BADVERS };
    }
    // Options are read only when the OPT has any: the common query pays nothing for them.
    const asked = edns !== undefined && edns.optionsLength > 0 ? readEdnsRequest(request, edns) : undefined;
    if (asked?.callerIgnored !== undefined) this.#options.metrics.callerIgnored(asked.callerIgnored);
    if (asked !== undefined && this.#badOptions(asked)) {
      this.#options.metrics.formerr(proto);
      return { reply: this.#error(request, query, Rcode.FORMERR, undefined, null), rcode: Rcode.FORMERR };
    }
    // docs/design.md#protocol-details: psarn serves class IN only; any other class is REFUSED.
    if (query.qclass !== Class.IN) {
      return { reply: this.#error(request, query, Rcode.REFUSED, EDE_NOT_AUTHORITATIVE), rcode: Rcode.REFUSED };
    }
    // QTYPE 0 is reserved (RFC 6895 §3.1), never a type to look up: NOTIMP, as Knot answers.
    if (query.qtype === 0) return { reply: this.#error(request, query, Rcode.NOTIMP), rcode: Rcode.NOTIMP };
    // docs/design.md#transfers: AXFR and IXFR go to the transfer server, whose ACL decides; over
    // TCP the listener takes them through transfer() instead, for the many messages.
    if ((query.qtype === Type.AXFR || query.qtype === Type.IXFR) && this.#expired(query) === undefined) {
      const replies = this.#options.transfers?.respond(request, query, proto, {
        tsig,
        error: (rcode, ede) => this.#error(request, query, rcode, ede),
      });
      if (replies === undefined) return { reply: this.#error(request, query, Rcode.REFUSED), rcode: Rcode.REFUSED };
      const [first] = replies.messages;
      const signed = tsig !== undefined;
      const out = this.#out;
      if (out === undefined) return { reply: first!, rcode: replies.rcode, signed };
      // handleInto: the carrier sends what is in its slot.
      out.set(first!, this.#outOffset);
      return { reply: out.subarray(this.#outOffset, this.#outOffset + first!.length), rcode: replies.rcode, signed };
    }
    const ready = control ?? this.#expired(query) ?? this.#indexed(request, query) ?? this.#ready(query, proto);
    // The caller option changes nothing in the reply (it is not echoed): it is only recorded.
    if (asked?.caller !== undefined && control === undefined) this.#recordCaller(query, asked.caller, ready);
    const maxSize =
      (proto === 'tcp' ? TCP_MAX : edns !== undefined ? Math.min(edns.udpSize, this.udpPayloadSize) : UDP_CLASSIC) -
      reserve;
    const ednsOptions =
      edns !== undefined &&
      (asked !== undefined || (ready.rcode !== Rcode.NOERROR && (ready.rcode === Rcode.REFUSED || ready.ede)))
        ? this.#replyOptions(
            query,
            asked,
            ready.ede ?? (ready.rcode === Rcode.REFUSED ? EDE_NOT_AUTHORITATIVE : undefined),
            ready,
          )
        : undefined;
    const { buf, truncated } = assembleResponse(request, query, ready, {
      maxSize,
      udpPayloadSize: this.udpPayloadSize,
      out: this.#out,
      outOffset: this.#outOffset,
      ednsOptions,
    });
    if (truncated) this.#options.metrics.truncated(proto);
    return { reply: buf, rcode: ready.rcode };
  }

  /**
   * The replies to a zone transfer query on TCP, one message after another (the listener writes
   * them at the peer's pace and returns the iterator when the connection goes); undefined when
   * `request` is no AXFR or IXFR query, which then goes to handle(). Counted as handle() counts.
   */
  transfer(request: Buffer, peer: TransferPeer): Iterable<Buffer> | undefined {
    if (transferQtype(request) === undefined) return undefined;
    const parsed = parseQuery(request);
    if (parsed.kind !== 'query') return undefined;
    const { query } = parsed;
    const { metrics } = this.#options;
    const transfers = this.#options.transfers;
    // The checks #answer makes before it looks at the type: they answer one message.
    if (
      transfers === undefined ||
      query.qclass !== Class.IN ||
      (query.edns !== undefined && query.edns.version > 0) ||
      this.#expired(query) !== undefined
    )
      return undefined;
    metrics.request('tcp', query.qtype);
    let replies: ReturnType<TransferServer['respond']>;
    try {
      // A signed transfer query is verified as #signed verifies any (docs/design.md#tsig): a
      // failure is its one reply; a valid key goes to the ACL, and every message is signed.
      let tsig: VerifiedTsig | undefined;
      if (query.tsig !== undefined) {
        const result = verifyMessage(request, this.tsigKeys, { now: this.#clock });
        metrics.tsig(result.status, 'key' in result ? result.key.name : undefined);
        if (result.status !== 'ok') {
          const failed = this.#tsigFailure(request, query, 'tcp', result);
          metrics.response('tcp', failed.rcode);
          // docs/design.md#transfer-metrics: a transfer refused for its TSIG is notauth.
          const type = query.qtype === Type.AXFR ? 'axfr' : 'ixfr';
          metrics.transfer(type, 'notauth');
          metrics.transferMessage(type, failed.reply.length);
          return [failed.reply];
        }
        tsig = { key: result.key, mac: result.mac };
      }
      replies = transfers.respond(request, query, 'tcp', {
        peer,
        tsig,
        error: (rcode, ede) => this.#error(request, query, rcode, ede),
      });
    } catch (error) {
      const reply = this.#servfail(request, 'tcp', error);
      metrics.response('tcp', Rcode.SERVFAIL);
      return reply === undefined ? [] : [reply];
    }
    metrics.response('tcp', replies.rcode);
    return replies.messages;
  }

  /**
   * SERVFAIL with EDE 22 No Reachable Authority for a name in a secondary's zone past its SOA
   * expire (RFC 1035 §3.3.13; RFC 8914 §4.23); undefined otherwise. A primary, and a secondary
   * with every zone fresh, pay one size test.
   */
  #expired(query: ParsedQuery): ReadyAnswer | undefined {
    const expired = this.#options.expired;
    if (expired === undefined || expired.size === 0) return undefined;
    const zone = this.#options.view.findZone(query.labels);
    return zone !== undefined && expired.has(zone.name) ? EXPIRED : undefined;
  }

  /**
   * A NOTIFY to a secondary (RFC 1996 §3.7–3.11): its TSIG verified first,
   * as any signed query (RFC 8945 §5.2: a failure is NOTAUTH with BADKEY/BADSIG/BADTIME); then
   * `decide` (given the verified key's name, undefined when unsigned, and a NOTIFY's SOA serial)
   * sets the rcode. The reply echoes the question, has no answer (RFC 1996 §4.7), AA when
   * decided so, and is signed with the request's key.
   */
  #signedOrNot(
    request: Buffer,
    proto: Proto,
    decide: (
      query: ParsedQuery,
      key: string | undefined,
      serial: number | undefined,
    ) => { rcode: RcodeValue; aa?: boolean; ede?: Buffer },
  ): { reply: Buffer; rcode: number } {
    const parsed = parseNotify(request);
    if (parsed.kind === 'formerr') {
      this.#options.metrics.formerr(proto);
      return { reply: this.#reject(request, parsed, Rcode.FORMERR), rcode: Rcode.FORMERR };
    }
    const { query, serial } = parsed;
    const { metrics } = this.#options;
    return this.#outsideSlot(() => {
      const result = query.tsig === undefined ? undefined : verifyMessage(request, this.tsigKeys, { now: this.#clock });
      if (result !== undefined) metrics.tsig(result.status, 'key' in result ? result.key.name : undefined);
      if (result !== undefined && result.status !== 'ok') return this.#tsigFailure(request, query, proto, result);
      const decided = decide(query, result?.key.name, serial);
      let reply = this.#error(request, query, decided.rcode, decided.ede);
      if (decided.aa === true) reply.writeUInt16BE(reply.readUInt16BE(Hdr.FLAGS) | Flag.AA, Hdr.FLAGS);
      if (result !== undefined) reply = signMessage(reply, result.key, { requestMac: result.mac, now: this.#clock });
      return { reply, rcode: decided.rcode };
    });
  }

  /** The answer from the route index, for URI, TXT and ANY questions of an indexed route. */
  #indexed(request: Buffer, query: ParsedQuery): ReadyAnswer | undefined {
    const { qtype } = query;
    if (!isRouteQuestion(qtype)) return undefined;
    const index = this.#options.routes?.index;
    if (index === undefined) return undefined;
    const ref = index.lookup(request, Hdr.SIZE, query.questionEnd - QUESTION_FIXED);
    const records = this.#records;
    if (ref < 0 || !index.writeRecords(ref, qtype, this.#scratch, records)) return undefined;
    this.#indexRef = ref;
    this.#options.metrics.indexHit();
    return {
      rcode: Rcode.NOERROR,
      aa: true,
      ancount: records.ancount,
      nscount: 0,
      arcount: records.arcount,
      body: this.#scratch.subarray(0, records.end),
      additionalAt: records.additionalAt,
    };
  }

  /**
   * Records `caller` for a NOERROR answer with records to a URI, TXT or ANY question (a route,
   * an alias, `_epoch`): the serial is the zone's as the route index holds it for an index
   * answer, else as the view holds it (the cache is dropped at the same pickup that moves it).
   * docs/design.md#the-caller-map
   */
  #recordCaller(query: ParsedQuery, caller: string, ready: ReadyAnswer): void {
    const callers = this.#options.callers;
    if (callers === undefined || !callers.enabled || ready.rcode !== Rcode.NOERROR || ready.ancount === 0) return;
    if (!isRouteQuestion(query.qtype)) return;
    const index = this.#options.routes?.index;
    let serial: number;
    // An index answer is written in #scratch by #indexed, which kept its entry (one field write
    // per index answer: a second lookup here cost 7% of a query with the option).
    if (index !== undefined && ready.body.buffer === this.#scratch.buffer) serial = index.serialOf(this.#indexRef);
    else serial = this.#options.view.findZone(query.labels)?.serial ?? 0;
    callers.record(caller, query.qname, serial);
  }

  #ready(query: ParsedQuery, proto: Proto): ReadyAnswer {
    const { cache, view, metrics } = this.#options;
    const cached = cache.get(query.key);
    if (cached !== undefined) {
      metrics.cacheHit();
      return cached;
    }
    metrics.cacheMiss();
    const found: Answer = view.read(() => answer({ labels: query.labels, qtype: query.qtype }, view));
    let ready: ReadyAnswer;
    try {
      ready = encodeAnswer(Buffer.from(query.key, 'latin1'), found);
    } catch (error) {
      // Data the encoder cannot write (a route too big for one message, stored before writes
      // were checked): the SERVFAIL is cached with the answer's dependencies, so the next query
      // neither re-reads nor re-encodes it, and it is logged once until that data changes.
      metrics.internalError(proto);
      this.#options.log.error(
        { err: error, qname: query.qname, qtype: query.qtype },
        'cannot encode the answer; answering SERVFAIL until the data it was read from changes',
      );
      ready = servfail(EDE_UNENCODABLE);
    }
    cache.set(query.key, ready, found.deps);
    return ready;
  }

  /**
   * The reply to a message refused before any lookup (NOTIMP, FORMERR): its question and EDNS
   * echoed as far as the parser could read them (RFC 6891 §7: an OPT when the request had one).
   */
  #reject(request: Buffer, parsed: { header: HeaderInfo; questionEnd?: number; edns?: EdnsInfo }, rcode: RcodeValue) {
    return errorResponse(request, parsed.header, rcode, {
      ...(parsed.questionEnd !== undefined ? { questionEnd: parsed.questionEnd } : {}),
      ...(parsed.edns !== undefined ? { edns: parsed.edns } : {}),
      udpPayloadSize: this.udpPayloadSize,
      out: this.#out,
      outOffset: this.#outOffset,
    });
  }

  /**
   * A reply without answer data to a well-formed query: its question and EDNS echoed, with the
   * options it asked for (a cookie, NSID) and `ede` (option bytes from edeOption) when it had
   * EDNS. The one place such replies are built: REFUSED with EDE 18 Prohibited for a transfer or
   * UPDATE a key does not allow, NOTAUTH for TSIG, 22 No Reachable Authority for a secondary
   * past expire. `asked`: the query's options when already read; null: echo none (a FORMERR
   * for the options themselves).
   */
  #error(request: Buffer, query: ParsedQuery, rcode: RcodeValue, ede?: Uint8Array, asked?: EdnsRequest | null): Buffer {
    const edns = query.edns;
    let ednsOptions: ReplyOptions | undefined;
    if (edns !== undefined && asked !== null && rcode !== Rcode.BADVERS) {
      const options = asked ?? (edns.optionsLength > 0 ? readEdnsRequest(request, edns) : undefined);
      ednsOptions = this.#replyOptions(query, options, ede, undefined);
    }
    return errorResponse(request, query, rcode, {
      questionEnd: query.questionEnd,
      ...(edns !== undefined ? { edns } : {}),
      udpPayloadSize: this.udpPayloadSize,
      out: this.#out,
      outOffset: this.#outOffset,
      ednsOptions,
      maxSize: edns === undefined ? UDP_CLASSIC : Math.min(edns.udpSize, this.udpPayloadSize),
    });
  }

  /**
   * Options that make the query FORMERR: two COOKIE options, or one whose length is neither a
   * client cookie nor a client and a server cookie (RFC 7873 §5.2.2). Checked only when cookies
   * are served; a server without them ignores the option (RFC 6891 §6.1.2).
   */
  #badOptions(asked: EdnsRequest): boolean {
    if (this.#cookieSecret === undefined || asked.cookie === undefined) return false;
    return asked.malformed !== undefined || parseCookieOption(asked.cookie) === undefined;
  }

  /**
   * The options of our OPT (docs/design.md#edns-options): kept — the COOKIE echoed with our
   * server cookie, EXPIRE with an SOA answer; optional, dropped first when the reply is too big
   * (RFC 8914 §3) — NSID, then the EDE. Undefined when there are none.
   */
  #replyOptions(
    query: ParsedQuery,
    asked: EdnsRequest | undefined,
    ede: Uint8Array | undefined,
    ready: ReadyAnswer | undefined,
  ): ReplyOptions | undefined {
    let kept: Buffer | undefined;
    let optional: Buffer | undefined;
    if (asked !== undefined) {
      if (asked.cookie !== undefined) kept = this.#cookieReply(asked.cookie);
      if (asked.expire && ready !== undefined && query.qtype === Type.SOA) {
        const soaExpire = soaExpireOf(ready);
        if (soaExpire !== undefined) {
          const expire = expireOption(this.#options.expireFor?.(query.qname, soaExpire) ?? soaExpire);
          kept = kept === undefined ? expire : Buffer.concat([kept, expire]);
        }
      }
      if (asked.nsid) optional = this.#nsid;
    }
    if (ede !== undefined) {
      optional = optional === undefined ? Buffer.from(ede) : Buffer.concat([optional, ede]);
      // The INFO-CODE follows the option's code and length (RFC 8914 §2).
      if (ede.length >= 6) this.#options.metrics.ede((ede[4]! << 8) | ede[5]!);
    }
    return kept === undefined && optional === undefined ? undefined : { kept, optional };
  }

  /**
   * The COOKIE option of our reply (RFC 7873 §5.2.3, §5.2.4): the client cookie and, when the
   * server cookie it sent is ours, valid and under half an hour old, that same server cookie;
   * else a fresh one. A missing or bad server cookie is still answered, with a fresh one: we do
   * not send BADCOOKIE (docs/design.md#edns-options). Undefined: cookies off, or malformed.
   */
  #cookieReply(data: Uint8Array): Buffer | undefined {
    const secret = this.#cookieSecret;
    const cookie = secret === undefined ? undefined : parseCookieOption(data);
    if (secret === undefined || cookie === undefined) return undefined;
    const ip = addressBytes(this.#peer);
    const now = this.#wallSeconds();
    const out = Buffer.allocUnsafe(COOKIE_REPLY_SIZE);
    out.writeUInt16BE(EdnsOption.COOKIE, 0);
    out.writeUInt16BE(COOKIE_REPLY_SIZE - 4, 2);
    out.set(cookie.client, 4);
    const server = cookie.server;
    if (server !== undefined && checkServerCookie(cookie.client, server, ip, secret, now) === 'valid') {
      out.set(server, 12);
    } else {
      writeServerCookie(cookie.client, ip, secret, now, out, 12);
    }
    return out;
  }

  /**
   * A query with a TSIG (RFC 8945 §5.2), verified before anything else: an unknown key is
   * NOTAUTH + BADKEY and a bad MAC NOTAUTH + BADSIG (or BADTRUNC), both with an unsigned TSIG
   * (§5.3.2); a time outside the fudge NOTAUTH + BADTIME, signed, with our time in other data
   * (§5.2.3); a valid one the normal answer — index, cache or store, unchanged — signed with
   * the same key over the request MAC, its size limit lowered by the TSIG's size. A malformed
   * TSIG is FORMERR, unsigned. The reply is built in a new Buffer, then signed, then copied into
   * the caller's slot (handleInto): signing appends, and a signed query is the rare case.
   */
  #signed(request: Buffer, query: ParsedQuery, proto: Proto): { reply: Buffer; rcode: number } {
    const { metrics } = this.#options;
    const result = verifyMessage(request, this.tsigKeys, { now: this.#clock });
    metrics.tsig(result.status, 'key' in result ? result.key.name : undefined);
    return this.#outsideSlot(() => {
      if (result.status !== 'ok') return this.#tsigFailure(request, query, proto, result);
      // A control name (`_rollout.<route>`, `_hold.<route>`) read with a key that may: the
      // operation's state (docs/design.md#remote-operations); unsigned queries never get here.
      const control =
        query.labels[0]?.charCodeAt(0) === 95 ? this.#options.updates?.controlRead(query, result.key.name) : undefined;
      const answered = this.#answer(
        request,
        query,
        proto,
        tsigSize(result.key),
        { key: result.key, mac: result.mac },
        control,
      );
      const reply = answered.signed
        ? answered.reply
        : signMessage(answered.reply, result.key, { requestMac: result.mac, now: this.#clock });
      return { reply, rcode: answered.rcode };
    });
  }

  /**
   * Runs `build` with every reply it makes in a new Buffer (a reply signed or changed after it
   * is built cannot be written into the slot first), then copies the result into the caller's
   * slot when handleInto gave one.
   */
  #outsideSlot(build: () => { reply: Buffer; rcode: number }): { reply: Buffer; rcode: number } {
    const out = this.#out;
    this.#out = undefined;
    let built: { reply: Buffer; rcode: number };
    try {
      built = build();
    } finally {
      this.#out = out;
    }
    const { reply, rcode } = built;
    if (out === undefined) return built;
    if (this.#outOffset + reply.length > out.length) throw new RangeError('a reply does not fit its slot');
    out.set(reply, this.#outOffset);
    return { reply: out.subarray(this.#outOffset, this.#outOffset + reply.length), rcode };
  }

  /**
   * The reply to a query whose TSIG did not verify (RFC 8945 §5.2): BADTIME signed with our time
   * in other data (§5.2.3); BADKEY, BADSIG, BADTRUNC with an unsigned TSIG (§5.3.2); a malformed
   * TSIG FORMERR, unsigned.
   */
  #tsigFailure(
    request: Buffer,
    query: ParsedQuery,
    proto: Proto,
    result: Exclude<TsigVerifyResult, { status: 'ok' }>,
  ): { reply: Buffer; rcode: number } {
    switch (result.status) {
      case 'badtime':
        return {
          reply: signMessage(this.#error(request, query, Rcode.NOTAUTH), result.key, {
            requestMac: result.mac,
            now: this.#clock,
            timeSigned: result.tsig.record.timeSigned,
            error: TsigError.BADTIME,
            otherData: badtimeOtherData(result.now),
          }),
          rcode: Rcode.NOTAUTH,
        };
      case 'badkey':
      case 'badsig':
      case 'badtrunc': {
        const error = { badkey: TsigError.BADKEY, badsig: TsigError.BADSIG, badtrunc: TsigError.BADTRUNC }[
          result.status
        ];
        return {
          reply: unsignedErrorTsig(this.#error(request, query, Rcode.NOTAUTH), result.tsig, error),
          rcode: Rcode.NOTAUTH,
        };
      }
      default:
        // 'formerr' (a malformed TSIG RR); the parser already placed it last, so nothing else.
        this.#options.metrics.formerr(proto);
        return { reply: this.#error(request, query, Rcode.FORMERR), rcode: Rcode.FORMERR };
    }
  }

  /**
   * An UPDATE, decided by the update server with this handler's TSIG keys, clock and reply
   * builders (#signed's verification, #tsigFailure, #error). Its reply is built in a new Buffer
   * (it is signed after), then copied into the caller's slot, as #signed does.
   */
  #update(request: Buffer, proto: Proto): { reply: Buffer; rcode: number } {
    const { metrics } = this.#options;
    return this.#outsideSlot(() =>
      this.#options.updates!.respond(request, {
        verify: () => {
          const result = verifyMessage(request, this.tsigKeys, { now: this.#clock });
          metrics.tsig(result.status, 'key' in result ? result.key.name : undefined);
          return result;
        },
        now: this.#clock,
        error: (query, rcode, ede) => this.#error(request, query, rcode, ede),
        reject: (parsed, rcode) => {
          metrics.formerr(proto);
          return this.#reject(request, parsed, rcode);
        },
        tsigFailure: (query, result) => this.#tsigFailure(request, query, proto, result),
      }),
    );
  }

  #servfail(request: Buffer, proto: Proto, error: unknown): Buffer | undefined {
    this.#options.metrics.internalError(proto);
    this.#errors.error({ err: error, proto }, 'internal error answering a query; replied SERVFAIL');
    if (request.length < 12) return undefined;
    try {
      const parsed = parseQuery(request);
      if (parsed.kind === 'query') return this.#error(request, parsed.query, Rcode.SERVFAIL, internalEde(error));
    } catch {
      // The codec itself failed: fall through to a bare header reply.
    }
    const header = {
      id: request.readUInt16BE(0),
      opcode: (request[2]! >> 3) & 0xf,
      rd: (request[2]! & 1) === 1,
      cd: false,
    };
    try {
      return errorResponse(request, header, Rcode.SERVFAIL, {
        udpPayloadSize: this.udpPayloadSize,
        out: this.#out,
        outOffset: this.#outOffset,
      });
    } catch {
      return undefined;
    }
  }
}

/**
 * EDE 0 Other for an internal error (RFC 8914 §4.1): "internal error", and the error's stable
 * code when it has one (ERR_STORE_READ): never its message, which may hold a path or data, nor a
 * stack. The log has the rest.
 */
function internalEde(error: unknown): Buffer {
  const code = (error as { code?: unknown } | null)?.code;
  const known = typeof code === 'string' && /^ERR_[A-Z0-9_]{1,40}$/.test(code);
  return edeOption(
    Ede.OTHER,
    known ? `internal error (${code}); see the server log` : 'internal error; see the server log',
  );
}
