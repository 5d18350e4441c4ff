/**
 * Strict parsing of an incoming query (docs/design.md#protocol-details, RFC 1035 §4.1, RFC 6891, RFC 8906).
 * Every byte is hostile: bounds-checked reads, labels <= 63, names <= 255 octets, only backward
 * compression pointers with a jump limit, section counts that match the bytes, OPT rules.
 * Parsing only classifies; the server decides the answer.
 */
import { CALLER_OPTION, type CallerIgnored, callerProblem } from './caller.js';
import { Cursor, Flag, Hdr, OPCODE_MASK, OPCODE_SHIFT, QUESTION_FIXED, u16At } from './cursor.js';
import { WireError } from './errors.js';
import { escapeLabel, readName } from './name.js';
import type { OptInfo, RrInfo, ScanState } from './scan.js';
import { scanRecords } from './scan.js';
import { Type } from './types.js';

/** EDNS(0) as the requester sent it (RFC 6891 §6.1.2). */
export interface EdnsInfo {
  /** The requester's UDP payload size, raised to 512 when it advertised less. */
  udpSize: number;
  version: number;
  /** DNSSEC OK bit (RFC 3225), copied into the reply's OPT. */
  do: boolean;
  /**
   * Where the OPT's options are in the request, and their length: 0 for the common query
   * without options, which then costs no option parsing at all (docs/design.md#edns-options).
   */
  optionsAt: number;
  optionsLength: number;
}

/** EDNS option codes psarnd answers (IANA "DNS EDNS0 Option Codes"). */
export const EdnsOption = {
  /** RFC 5001 */
  NSID: 3,
  /** RFC 7314 */
  EXPIRE: 9,
  /** RFC 7873 */
  COOKIE: 10,
  /** RFC 8914 */
  EDE: 15,
  /**
   * The caller id (docs/design.md#the-caller-map): a code of the Local/Experimental Use range
   * 65001-65534 (RFC 6891 §9), its data the caller's name in visible ASCII. Never echoed.
   */
  CALLER: CALLER_OPTION,
} as const;

/** What a query's EDNS options ask of the reply; unknown options are ignored (RFC 6891 §6.1.2). */
export interface EdnsRequest {
  /** An NSID option was present (RFC 5001 §2.3: its payload, if any, is ignored). */
  nsid: boolean;
  /** An EXPIRE option was present (RFC 7314 §2: empty in a query). */
  expire: boolean;
  /** The COOKIE option's data, as sent (RFC 7873 §4); checked by src/wire/cookie.ts. */
  cookie: Uint8Array | undefined;
  /** Why the options make the query FORMERR (two COOKIE options), or undefined. */
  malformed: string | undefined;
  /** The caller id of a valid CALLER option (docs/design.md#the-caller-map), or undefined. */
  caller: string | undefined;
  /**
   * Why a CALLER option was ignored (bad bytes, too long, empty, a second one), or undefined:
   * a bad caller option never fails the query (RFC 6891 §6.1.2 ignores what it cannot use).
   */
  callerIgnored: CallerIgnored | undefined;
}

/**
 * The options of a query's OPT, already validated by the scan (each fits, together they fill
 * the rdata). Views into `buf`: read them within the handler's call.
 */
export function readEdnsRequest(buf: Buffer, edns: EdnsInfo): EdnsRequest {
  const out: EdnsRequest = {
    nsid: false,
    expire: false,
    cookie: undefined,
    malformed: undefined,
    caller: undefined,
    callerIgnored: undefined,
  };
  let callers = 0;
  const end = edns.optionsAt + edns.optionsLength;
  let pos = edns.optionsAt;
  while (pos + 4 <= end) {
    const code = u16At(buf, pos);
    const length = u16At(buf, pos + 2);
    pos += 4 + length;
    if (code === EdnsOption.NSID) out.nsid = true;
    else if (code === EdnsOption.EXPIRE) out.expire = true;
    else if (code === EdnsOption.COOKIE) {
      // BIND and Knot answer FORMERR to a second COOKIE: which one to echo is not defined.
      if (out.cookie !== undefined) out.malformed = 'more than one COOKIE option';
      out.cookie = buf.subarray(pos - length, pos);
    } else if (code === EdnsOption.CALLER) {
      // Only the first counts: a second one is ignored (and counted), never a FORMERR.
      if (++callers > 1) {
        out.callerIgnored = 'duplicate';
        continue;
      }
      const problem = callerProblem(buf, pos - length, pos);
      if (problem !== undefined) out.callerIgnored = problem;
      else out.caller = buf.toString('latin1', pos - length, pos);
    }
  }
  return out;
}

export interface ParsedQuery {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
  /** Labels of the question name, leftmost first, ASCII-lowercased, each the latin1 text of its bytes. */
  labels: string[];
  /** The question name in presentation form, lowercase, trailing dot; "." for the root. */
  qname: string;
  qtype: number;
  qclass: number;
  /** Byte offset just past the question (it starts at 12): `buf.subarray(12, questionEnd)`. */
  questionEnd: number;
  /**
   * The question section (name, type, class) with the name ASCII-lowercased, as latin1 text:
   * a cache key for ready answers, and the wire question they were built for.
   */
  key: string;
  /** Present when the query carried an OPT RR. */
  edns?: EdnsInfo;
  /** Offset of the TSIG RR, when the query is signed (it is then the last record: RFC 8945 §5.1). */
  tsig?: number;
}

/** Header fields that can be echoed in an error reply. */
export interface HeaderInfo {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
}

export type QueryParse =
  | { kind: 'query'; query: ParsedQuery }
  /** Too short for a header, or QR set: no reply at all. */
  | { kind: 'drop'; reason: string }
  /**
   * Opcode other than QUERY (RFC 8906 §3.1.2): reply NOTIMP. `questionEnd` is set when there is
   * one question and it parsed, so it can be echoed; `edns` when the whole message parsed and
   * carried an OPT, which the reply must then carry too (RFC 6891 §7).
   */
  | { kind: 'notimp'; header: HeaderInfo; reason: string; questionEnd?: number; edns?: EdnsInfo }
  /**
   * Malformed (QDCOUNT != 1, bad label, pointer loop, name > 255, bad counts, trailing bytes,
   * OPT misplaced/duplicated/non-root, question type OPT ...): reply FORMERR. `questionEnd` is
   * set when the question itself parsed, so it can be echoed; `edns` when an OPT parsed (for
   * QDCOUNT != 1: when the whole message parsed).
   */
  | { kind: 'formerr'; header: HeaderInfo; reason: string; offset: number; questionEnd?: number; edns?: EdnsInfo };

/** Classifies one received message. Never throws. */
export function parseQuery(buf: Buffer): QueryParse {
  if (buf.length < Hdr.SIZE) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const flags = u16At(buf, Hdr.FLAGS);
  if (flags & Flag.QR) return { kind: 'drop', reason: 'QR set: a response, not a query' };
  const header = headerOf(buf, flags);
  // RFC 8906 §3.1.2: an unknown opcode gets NOTIMP whatever follows the header.
  if (header.opcode !== 0) {
    const reason = `opcode ${header.opcode} not implemented`;
    return { kind: 'notimp', header, reason, ...salvage(buf, u16At(buf, Hdr.QDCOUNT)) };
  }
  return parseBody(buf, header);
}

/**
 * A message of another opcode that parseQuery classified `notimp` (so: a header at least, QR
 * clear), read by the same rules as a query: one question (a NOTIFY's SOA question, RFC 1996
 * §3.7; an UPDATE's zone section, RFC 2136 §2.3), then every record bounds-checked with the OPT
 * and TSIG rules, each record of the answer, authority and additional sections passed to
 * `onRecord` (a NOTIFY's SOA, an UPDATE's prerequisites and updates). The query it returns has
 * the message's opcode, so every reply built from it carries that opcode (RFC 1996 §4.7, RFC
 * 2136 §3.8). Never throws; a throw in `onRecord` is FORMERR at its offset.
 */
export function parseMessage(
  buf: Buffer,
  onRecord: (rr: RrInfo) => void,
): Exclude<QueryParse, { kind: 'drop' | 'notimp' }> {
  return parseBody(buf, headerOf(buf, u16At(buf, Hdr.FLAGS)), onRecord);
}

function headerOf(buf: Buffer, flags: number): HeaderInfo {
  return {
    id: u16At(buf, Hdr.ID),
    opcode: (flags >>> OPCODE_SHIFT) & OPCODE_MASK,
    rd: (flags & Flag.RD) !== 0,
    cd: (flags & Flag.CD) !== 0,
  };
}

/** The question and the records after the header: a query, or FORMERR. */
function parseBody(
  buf: Buffer,
  header: HeaderInfo,
  onRecord?: (rr: RrInfo) => void,
): Exclude<QueryParse, { kind: 'drop' | 'notimp' }> {
  const qdcount = u16At(buf, Hdr.QDCOUNT);
  if (qdcount !== 1) {
    const { edns } = salvage(buf, qdcount);
    const reason = `QDCOUNT is ${qdcount}, not 1`;
    return { kind: 'formerr', header, reason, offset: Hdr.QDCOUNT, ...(edns ? { edns } : {}) };
  }

  const cur = new Cursor(buf, Hdr.SIZE);
  const labelAt: number[] = [];
  let qtype: number;
  let qclass: number;
  try {
    // A pointer here could only point into the header (RFC 1035 §4.1.4: prior occurrence).
    readName(cur, labelAt, false);
    qtype = cur.u16('question type');
    qclass = cur.u16('question class');
  } catch (err) {
    return formerr(header, err);
  }
  const questionEnd = cur.pos;

  const state: ScanState = { end: questionEnd };
  try {
    scanRecords(
      buf,
      questionEnd,
      [u16At(buf, Hdr.ANCOUNT), u16At(buf, Hdr.NSCOUNT), u16At(buf, Hdr.ARCOUNT)],
      state,
      onRecord,
    );
  } catch (err) {
    const bad = formerr(header, err);
    bad.questionEnd = questionEnd;
    if (state.opt) bad.edns = ednsInfo(state.opt);
    return bad;
  }
  if (qtype === Type.OPT) {
    // RFC 6891 §6.1.1: OPT is a pseudo-RR; it cannot be asked for.
    const bad: FormErr = { kind: 'formerr', header, reason: 'question type OPT', offset: questionEnd - 4, questionEnd };
    if (state.opt) bad.edns = ednsInfo(state.opt);
    return bad;
  }

  const query = new Query(buf, header, labelAt, qtype, qclass, questionEnd);
  if (state.opt) query.edns = ednsInfo(state.opt);
  if (state.tsig !== undefined) query.tsig = state.tsig;
  return { kind: 'query', query };
}

/**
 * A parsed query. `key`, `labels` and `qname` are built on first use: a query answered from the
 * route index needs none of them, one answered from a ready answer only `key`. The request
 * buffer is read for them, so they must be read while it is (within the handler's call).
 */
class Query implements ParsedQuery {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  readonly cd: boolean;
  readonly qtype: number;
  readonly qclass: number;
  readonly questionEnd: number;
  edns?: EdnsInfo;
  tsig?: number;
  readonly #buf: Buffer;
  /** Offset and length pairs of each label in the request. */
  readonly #labelAt: number[];
  #key: string | undefined;
  #labels: string[] | undefined;
  #qname: string | undefined;

  constructor(buf: Buffer, header: HeaderInfo, labelAt: number[], qtype: number, qclass: number, questionEnd: number) {
    this.id = header.id;
    this.opcode = header.opcode;
    this.rd = header.rd;
    this.cd = header.cd;
    this.#buf = buf;
    this.#labelAt = labelAt;
    this.qtype = qtype;
    this.qclass = qclass;
    this.questionEnd = questionEnd;
  }

  /**
   * The question with A-Z lowered in the name only (type and class are binary: 0x0041 is
   * HTTPS, not 'A'). Most queries are lowercase already, and then need no copy.
   */
  get key(): string {
    if (this.#key === undefined) {
      const buf = this.#buf;
      const end = this.questionEnd;
      const nameEnd = end - QUESTION_FIXED;
      let upper = false;
      for (let i = Hdr.SIZE; i < nameEnd; i++) {
        const b = buf[i]!;
        if (b >= 0x41 && b <= 0x5a) {
          upper = true;
          break;
        }
      }
      if (!upper) this.#key = buf.toString('latin1', Hdr.SIZE, end);
      else {
        const lowered = Buffer.allocUnsafe(end - Hdr.SIZE);
        for (let i = 0; i < lowered.length; i++) {
          const b = buf[Hdr.SIZE + i]!;
          lowered[i] = Hdr.SIZE + i < nameEnd && b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
        }
        this.#key = lowered.toString('latin1');
      }
    }
    return this.#key;
  }

  get labels(): string[] {
    if (this.#labels === undefined) {
      const labels: string[] = [];
      for (let i = 0; i < this.#labelAt.length; i += 2) {
        const start = this.#labelAt[i]! - Hdr.SIZE;
        labels.push(this.key.substring(start, start + this.#labelAt[i + 1]!));
      }
      this.#labels = labels;
    }
    return this.#labels;
  }

  /**
   * One flat string, built once: from the request bytes in one pass when no label needs an
   * escape (every psARN name), else label by label with escapes. The caller map keys on it
   * (docs/design.md#the-caller-map): a rope of labels would be flattened at every lookup.
   */
  get qname(): string {
    if (this.#qname === undefined)
      this.#qname = plainName(this.#buf, this.questionEnd - QUESTION_FIXED) ?? this.#escapedName();
    return this.#qname;
  }

  #escapedName(): string {
    let qname = '';
    for (const label of this.labels) qname += `${escapeLabel(label)}.`;
    return qname || '.';
  }
}

/** Where plainName writes (a name is at most 255 octets, RFC 1035 §2.3.4). */
const NAME_SCRATCH = Buffer.alloc(256);

/**
 * The question name at buf[12, end) (plain labels: the parser allows no pointer there) in
 * presentation form, lowercase, trailing dot, as one latin1 decode; undefined when a byte needs
 * an escape (outside 0x21-0x7e, or "." or "\" inside a label): escapeLabel's rule.
 */
function plainName(buf: Buffer, end: number): string | undefined {
  let pos: number = Hdr.SIZE;
  let n = 0;
  while (pos < end) {
    const len = buf[pos]!;
    if (len === 0) break;
    for (let i = pos + 1; i <= pos + len; i++) {
      const b = buf[i]!;
      if (b < 0x21 || b > 0x7e || b === 0x2e || b === 0x5c) return undefined;
      NAME_SCRATCH[n++] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
    }
    NAME_SCRATCH[n++] = 0x2e;
    pos += 1 + len;
  }
  return n === 0 ? '.' : NAME_SCRATCH.toString('latin1', 0, n);
}

/** RFC 6891 §6.2.5: a payload size under 512 is treated as 512. */
function ednsInfo(opt: OptInfo): EdnsInfo {
  return {
    udpSize: Math.max(512, opt.udpSize),
    version: opt.version,
    do: opt.do,
    optionsAt: opt.rdataStart,
    optionsLength: opt.rdlen,
  };
}

type FormErr = Extract<QueryParse, { kind: 'formerr' }>;

/**
 * What an error reply to a message we do not process (NOTIMP, QDCOUNT != 1) can still echo:
 * the end of its question when it has exactly one and it parses, and its EDNS when the whole
 * message parses and carries an OPT (RFC 6891 §7: a reply to a request with an OPT has one).
 * A message that does not parse gets neither field it could not read, never a guess.
 */
function salvage(buf: Buffer, qdcount: number): { questionEnd?: number; edns?: EdnsInfo } {
  const out: { questionEnd?: number; edns?: EdnsInfo } = {};
  const cur = new Cursor(buf, Hdr.SIZE);
  try {
    // Each question is at least a root label, type and class: a count the bytes cannot hold
    // is rejected before any loop.
    cur.need(qdcount * (1 + QUESTION_FIXED), 'questions');
    for (let i = 0; i < qdcount; i++) {
      // Only later questions may point back (RFC 1035 §4.1.4: a prior occurrence).
      readName(cur, undefined, i > 0);
      cur.skip(QUESTION_FIXED, 'question type and class');
    }
    if (qdcount === 1) out.questionEnd = cur.pos;
    const state: ScanState = { end: cur.pos };
    scanRecords(buf, cur.pos, [u16At(buf, Hdr.ANCOUNT), u16At(buf, Hdr.NSCOUNT), u16At(buf, Hdr.ARCOUNT)], state);
    if (state.opt) out.edns = ednsInfo(state.opt);
  } catch {
    // Malformed beyond the header: the reply carries what parsed so far, without EDNS.
  }
  return out;
}

function formerr(header: HeaderInfo, err: unknown): FormErr {
  if (err instanceof WireError) return { kind: 'formerr', header, reason: err.message, offset: err.offset };
  // A bug in the scanner must not escape parseQuery; it still classifies the packet.
  return { kind: 'formerr', header, reason: `internal: ${String(err)}`, offset: -1 };
}
