/**
 * One packet in, one reply out (or nothing). Decides nothing about sockets: the listeners carry
 * bytes, this classifies the query, serves ready answers from the cache, and on a miss asks the
 * answer function inside one store snapshot. One catch per packet: a bug answers SERVFAIL and
 * increments a counter instead of taking the daemon down (CoreDNS's recover in ServeDNS).
 */
import type { Logger } from 'pino';
import { Hdr, QUESTION_FIXED } from '../wire/cursor.js';
import { type EdnsInfo, type HeaderInfo, type ParsedQuery, parseQuery } from '../wire/query.js';
import { assembleResponse, errorResponse, type ReadyAnswer } from '../wire/response.js';
import { Class, Rcode, type RcodeValue, Type } from '../wire/types.js';
import { type Answer, answer } from '../zone/answer.js';
import type { AnswerCache } from '../zone/cache.js';
import { encodeAnswer } from '../zone/encode.js';
import type { RouteIndex } from '../zone/route-index.js';
import { isRouteQuestion, type RouteRecords } from '../zone/route-wire.js';
import type { ZoneView } from '../zone/view.js';
import type { DaemonMetrics, Proto } from './metrics.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { type TransferPeer, type TransferServer, transferQtype } from './transfer.js';

/** TCP replies may use the whole 16-bit length (RFC 7766 §8). */
const TCP_MAX = 65535;
const EMPTY = Buffer.alloc(0);
/** Without EDNS a UDP reply must fit in 512 bytes (RFC 1035 §4.2.1). */
const UDP_CLASSIC = 512;

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
  /** Zone transfers (AXFR, IXFR; src/server/transfer.ts). Without, they are REFUSED. */
  transfers?: TransferServer;
}

export class QueryHandler {
  readonly #options: HandlerOptions;
  readonly #now: () => number;
  udpPayloadSize: number;
  /** Where route-index answers are written, then copied into the reply (one per handler, reused). */
  readonly #scratch = Buffer.allocUnsafeSlow(TCP_MAX);
  readonly #records: RouteRecords = { end: 0, ancount: 0, arcount: 0, additionalAt: 0 };
  /** Where the reply of the current handleInto goes (ReplyTarget of wire/response.ts); undefined: a new Buffer. */
  #out: Buffer | undefined;
  #outOffset = 0;
  /** A fault that fails every query (a damaged database) must not log a line per query. */
  readonly #errors: RateLimitedLog;

  constructor(options: HandlerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.udpPayloadSize = options.udpPayloadSize;
    this.#errors = options.errorLog ?? new RateLimitedLog(options.log);
  }

  /**
   * handle, with the reply written into `out` at `offset` instead of a new Buffer (the native UDP
   * carrier's send slot): returns its length, or -1 when the message must be dropped. The bytes
   * are handle's, to the byte; a reply that does not fit in `out` is a bug, answered as one.
   */
  handleInto(request: Buffer, proto: Proto, out: Buffer, offset: number): number {
    this.#out = out;
    this.#outOffset = offset;
    try {
      return this.handle(request, proto)?.length ?? -1;
    } finally {
      this.#out = undefined;
    }
  }

  /** The reply to one received message, or undefined when it must be dropped. */
  handle(request: Buffer, proto: Proto): Buffer | undefined {
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
        case 'notimp':
          rcode = Rcode.NOTIMP;
          reply = this.#reject(request, parsed, Rcode.NOTIMP);
          break;
        case 'formerr':
          metrics.formerr(proto);
          rcode = Rcode.FORMERR;
          reply = this.#reject(request, parsed, Rcode.FORMERR);
          break;
        case 'query': {
          const query = parsed.query;
          metrics.request(proto, query.qtype);
          ({ reply, rcode } = this.#answer(request, query, proto));
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

  #answer(request: Buffer, query: ParsedQuery, proto: Proto): { reply: Buffer; rcode: number } {
    // RFC 6891 §6.1.3: an EDNS version we do not implement gets BADVERS, and no answer data.
    if (query.edns !== undefined && query.edns.version > 0) {
      return { reply: this.#error(request, query, Rcode.BADVERS), rcode: Rcode.BADVERS };
    }
    // docs/design.md#protocol-details: psarn serves class IN only; any other class is REFUSED.
    if (query.qclass !== Class.IN) return { reply: this.#error(request, query, Rcode.REFUSED), rcode: Rcode.REFUSED };
    // QTYPE 0 is reserved (RFC 6895 §3.1), never a type to look up: NOTIMP, as Knot answers.
    if (query.qtype === 0) return { reply: this.#error(request, query, Rcode.NOTIMP), rcode: Rcode.NOTIMP };
    // docs/design.md#transfers: AXFR and IXFR go to the transfer server, whose ACL decides; over
    // TCP the listener takes them through transfer() instead, for the many messages.
    if (query.qtype === Type.AXFR || query.qtype === Type.IXFR) {
      const replies = this.#options.transfers?.respond(request, query, proto);
      if (replies === undefined) return { reply: this.#error(request, query, Rcode.REFUSED), rcode: Rcode.REFUSED };
      const [first] = replies.messages;
      const out = this.#out;
      if (out === undefined) return { reply: first!, rcode: replies.rcode };
      // handleInto: the carrier sends what is in its slot.
      out.set(first!, this.#outOffset);
      return { reply: out.subarray(this.#outOffset, this.#outOffset + first!.length), rcode: replies.rcode };
    }
    const ready = this.#indexed(request, query) ?? this.#ready(query, proto);
    const maxSize =
      proto === 'tcp'
        ? TCP_MAX
        : query.edns !== undefined
          ? Math.min(query.edns.udpSize, this.udpPayloadSize)
          : UDP_CLASSIC;
    const { buf, truncated } = assembleResponse(request, query, ready, {
      maxSize,
      udpPayloadSize: this.udpPayloadSize,
      out: this.#out,
      outOffset: this.#outOffset,
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
    if (transfers === undefined || query.qclass !== Class.IN || (query.edns !== undefined && query.edns.version > 0))
      return undefined;
    metrics.request('tcp', query.qtype);
    let replies: ReturnType<TransferServer['respond']>;
    try {
      replies = transfers.respond(request, query, 'tcp', peer);
    } catch (error) {
      const reply = this.#servfail(request, 'tcp', error);
      metrics.response('tcp', Rcode.SERVFAIL);
      return reply === undefined ? [] : [reply];
    }
    metrics.response('tcp', replies.rcode);
    return replies.messages;
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
      ready = { rcode: Rcode.SERVFAIL, aa: false, ancount: 0, nscount: 0, arcount: 0, body: EMPTY, additionalAt: 0 };
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

  /** A reply without answer data to a well-formed query: its question and EDNS echoed. */
  #error(request: Buffer, query: ParsedQuery, rcode: RcodeValue): Buffer {
    return errorResponse(request, query, rcode, {
      questionEnd: query.questionEnd,
      ...(query.edns !== undefined ? { edns: query.edns } : {}),
      udpPayloadSize: this.udpPayloadSize,
      out: this.#out,
      outOffset: this.#outOffset,
    });
  }

  #servfail(request: Buffer, proto: Proto, error: unknown): Buffer | undefined {
    this.#options.metrics.internalError(proto);
    this.#errors.error({ err: error, proto }, 'internal error answering a query; replied SERVFAIL');
    if (request.length < 12) return undefined;
    try {
      const parsed = parseQuery(request);
      if (parsed.kind === 'query') return this.#error(request, parsed.query, Rcode.SERVFAIL);
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
