/**
 * One packet in, one reply out (or nothing). Decides nothing about sockets: the listeners carry
 * bytes, this classifies the query, serves ready answers from the cache, and on a miss asks the
 * answer function inside one store snapshot. One catch per packet: a bug answers SERVFAIL and
 * increments a counter instead of taking the daemon down (CoreDNS's recover in ServeDNS).
 */
import type { Logger } from 'pino';
import { Hdr, QUESTION_FIXED } from '../wire/cursor.js';
import { type ParsedQuery, parseQuery } from '../wire/query.js';
import { assembleResponse, encodeReady, errorResponse, type ReadyAnswer } from '../wire/response.js';
import { Class, Rcode, type RcodeValue, Type } from '../wire/types.js';
import { type Answer, answer } from '../zone/answer.js';
import type { AnswerCache } from '../zone/cache.js';
import type { IndexedBody, RouteIndex } from '../zone/route-index.js';
import type { ZoneView } from '../zone/view.js';
import type { DaemonMetrics, Proto } from './metrics.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** TCP replies may use the whole 16-bit length (RFC 7766 §8). */
const TCP_MAX = 65535;
/** Without EDNS a UDP reply must fit in 512 bytes (RFC 1035 §4.2.1). */
const UDP_CLASSIC = 512;

export interface HandlerOptions {
  view: ZoneView & { read<T>(fn: () => T): T };
  /**
   * Picks up store changes now (cheap when there are none). Called before every cache miss, so
   * the zone rows (serial, epoch) are as current as the routes the miss reads, and answers
   * cached for an older serial are dropped first.
   */
  refresh?: () => void;
  cache: AnswerCache;
  /** Every target route, answered without the store (src/zone/route-index.ts); checked before the cache. */
  routes?: { readonly index: RouteIndex | undefined };
  metrics: DaemonMetrics;
  log: Logger;
  /** Where internal errors are logged; default: `log`, at most 5 lines of a message per 10 s. */
  errorLog?: RateLimitedLog;
  /** Our EDNS(0) UDP payload size (config udpPayloadSize). */
  udpPayloadSize: number;
}

export class QueryHandler {
  readonly #options: HandlerOptions;
  udpPayloadSize: number;
  /** Where route-index answers are written, then copied into the reply (one per handler, reused). */
  readonly #scratch = Buffer.allocUnsafeSlow(TCP_MAX);
  readonly #body: IndexedBody = { length: 0, ancount: 0, arcount: 0 };
  /** A fault that fails every query (a damaged database) must not log a line per query. */
  readonly #errors: RateLimitedLog;

  constructor(options: HandlerOptions) {
    this.#options = options;
    this.udpPayloadSize = options.udpPayloadSize;
    this.#errors = options.errorLog ?? new RateLimitedLog(options.log);
  }

  /** The reply to one received message, or undefined when it must be dropped. */
  handle(request: Buffer, proto: Proto): Buffer | undefined {
    const { metrics } = this.#options;
    const started = performance.now();
    let reply: Buffer | undefined;
    let rcode: number = Rcode.SERVFAIL;
    try {
      const parsed = parseQuery(request);
      switch (parsed.kind) {
        case 'drop':
          metrics[proto].dropped.value++;
          return undefined;
        case 'notimp':
          rcode = Rcode.NOTIMP;
          reply = errorResponse(request, parsed.header, Rcode.NOTIMP, { udpPayloadSize: this.udpPayloadSize });
          break;
        case 'formerr':
          metrics[proto].formerr.value++;
          rcode = Rcode.FORMERR;
          reply = errorResponse(request, parsed.header, Rcode.FORMERR, {
            ...(parsed.questionEnd !== undefined ? { questionEnd: parsed.questionEnd } : {}),
            ...(parsed.edns !== undefined ? { edns: parsed.edns } : {}),
            udpPayloadSize: this.udpPayloadSize,
          });
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
    metrics.duration.observe(metrics[proto].duration, (performance.now() - started) / 1000);
    return reply;
  }

  #answer(request: Buffer, query: ParsedQuery, proto: Proto): { reply: Buffer; rcode: number } {
    // RFC 6891 §6.1.3: an EDNS version we do not implement gets BADVERS, and no answer data.
    if (query.edns !== undefined && query.edns.version > 0) {
      return { reply: this.#error(request, query, Rcode.BADVERS), rcode: Rcode.BADVERS };
    }
    // DESIGN.md §5: psarn serves class IN only; any other class is REFUSED.
    if (query.qclass !== Class.IN) return { reply: this.#error(request, query, Rcode.REFUSED), rcode: Rcode.REFUSED };
    const ready = this.#indexed(request, query) ?? this.#ready(query);
    const maxSize =
      proto === 'tcp'
        ? TCP_MAX
        : query.edns !== undefined
          ? Math.min(query.edns.udpSize, this.udpPayloadSize)
          : UDP_CLASSIC;
    const { buf, truncated } = assembleResponse(request, query, ready, {
      maxSize,
      udpPayloadSize: this.udpPayloadSize,
    });
    if (truncated) this.#options.metrics[proto].truncated.value++;
    return { reply: buf, rcode: ready.rcode };
  }

  /** The answer from the route index, for URI, TXT and ANY questions of an indexed route. */
  #indexed(request: Buffer, query: ParsedQuery): ReadyAnswer | undefined {
    const { qtype } = query;
    if (qtype !== Type.URI && qtype !== Type.TXT && qtype !== Type.ANY) return undefined;
    const index = this.#options.routes?.index;
    if (index === undefined) return undefined;
    const ref = index.lookup(request, Hdr.SIZE, query.questionEnd - QUESTION_FIXED);
    if (ref < 0 || !index.writeBody(ref, qtype, this.#scratch, this.#body)) return undefined;
    this.#options.metrics.indexHit.value++;
    const body = this.#body;
    return {
      rcode: Rcode.NOERROR,
      aa: true,
      ancount: body.ancount,
      nscount: 0,
      arcount: body.arcount,
      body: this.#scratch.subarray(0, body.length),
    };
  }

  #ready(query: ParsedQuery): ReadyAnswer {
    const { cache, view, metrics } = this.#options;
    const cached = cache.get(query.key);
    if (cached !== undefined) {
      metrics.hit.value++;
      return cached;
    }
    metrics.miss.value++;
    this.#options.refresh?.();
    const found: Answer = view.read(() => answer({ labels: query.labels, qtype: query.qtype }, view));
    const ready = encodeReady(Buffer.from(query.key, 'latin1'), found.reply);
    cache.set(query.key, ready, found.deps);
    return ready;
  }

  /** A reply without answer data to a well-formed query: its question and EDNS echoed. */
  #error(request: Buffer, query: ParsedQuery, rcode: RcodeValue): Buffer {
    return errorResponse(request, query, rcode, {
      questionEnd: query.questionEnd,
      ...(query.edns !== undefined ? { edns: query.edns } : {}),
      udpPayloadSize: this.udpPayloadSize,
    });
  }

  #servfail(request: Buffer, proto: Proto, error: unknown): Buffer | undefined {
    this.#options.metrics[proto].internalErrors.value++;
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
      return errorResponse(request, header, Rcode.SERVFAIL, { udpPayloadSize: this.udpPayloadSize });
    } catch {
      return undefined;
    }
  }
}
