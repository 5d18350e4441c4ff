/**
 * Strict scan of the resource-record sections (RFC 1035 §4.1.3) shared by the server's
 * parseQuery and the client's decodeMessage: every owner name validated, rdata inside the
 * message, counts that match the bytes, and the OPT rules of RFC 6891 §6.1.1 (only in the
 * additional section, at most one, owner is the root, options fit their rdata) and of RFC 8945
 * §5.1 (a TSIG only as the last record).
 */
import { Cursor, OptTtl, RR_FIXED, RR_MIN } from './cursor.js';
import { WireError } from './errors.js';
import { readName } from './name.js';
import { Type } from './types.js';

/** EDNS option header: code u16, length u16 (RFC 6891 §6.1.2). */
const OPTION_HEADER = 4;

export const Section = { ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2 } as const;
export type SectionValue = (typeof Section)[keyof typeof Section];

/** One RR as found on the wire, by offsets into the message. */
export interface RrInfo {
  section: SectionValue;
  nameStart: number;
  type: number;
  klass: number;
  ttl: number;
  rdataStart: number;
  rdlen: number;
}

/** The OPT pseudo-RR's fields (RFC 6891 §6.1.2, §6.1.3). */
export interface OptInfo {
  /** The CLASS field: the sender's UDP payload size, unclamped. */
  udpSize: number;
  extendedRcode: number;
  version: number;
  do: boolean;
  rdataStart: number;
  rdlen: number;
}

/** Filled as the scan goes, so a caller can still use the OPT when a later byte is bad. */
export interface ScanState {
  opt?: OptInfo;
  /** Offset of the TSIG RR's owner, when the message ends with one (RFC 8945 §5.1). */
  tsig?: number;
  /** Offset just past the last RR. */
  end: number;
}

/**
 * Scans `counts` = [ancount, nscount, arcount] RRs from `start` to the message end; trailing
 * bytes are an error. Calls `onRecord` for each RR (OPT included).
 * @throws WireError with the offset of the first bad byte
 */
export function scanRecords(
  buf: Uint8Array,
  start: number,
  counts: readonly [number, number, number],
  state: ScanState,
  onRecord?: (rr: RrInfo) => void,
): void {
  const cur = new Cursor(buf, start);
  const total = counts[0] + counts[1] + counts[2];
  if (cur.remaining < total * RR_MIN) {
    throw new WireError(`section counts claim ${total} records, more than the ${cur.remaining} bytes left hold`, start);
  }
  for (let section = 0; section < 3; section++) {
    for (let i = counts[section]!; i > 0; i--) {
      const nameStart = cur.pos;
      readName(cur);
      cur.need(RR_FIXED, 'record header');
      const type = cur.u16();
      const klass = cur.u16();
      const ttl = cur.u32();
      const rdlen = cur.u16();
      const rdataStart = cur.pos;
      cur.skip(rdlen, 'rdata');
      if (type === Type.OPT) {
        if (section !== Section.ADDITIONAL) throw new WireError('OPT outside the additional section', nameStart);
        if (state.opt) throw new WireError('more than one OPT record', nameStart);
        if (buf[nameStart] !== 0) throw new WireError('OPT owner is not the root', nameStart);
        checkOptions(buf, rdataStart, rdlen);
        state.opt = {
          udpSize: klass,
          extendedRcode: ttl >>> OptTtl.EXT_RCODE_SHIFT,
          version: (ttl >>> OptTtl.VERSION_SHIFT) & 0xff,
          do: (ttl & OptTtl.DO) !== 0,
          rdataStart,
          rdlen,
        };
      }
      // RFC 8945 §5.1: a TSIG is the last record of the additional section, and only one.
      if (type === Type.TSIG) {
        if (section !== Section.ADDITIONAL || i !== 1) throw new WireError('TSIG is not the last record', nameStart);
        state.tsig = nameStart;
      }
      onRecord?.({ section: section as SectionValue, nameStart, type, klass, ttl, rdataStart, rdlen });
    }
  }
  if (cur.pos !== buf.length)
    throw new WireError(`${buf.length - cur.pos} trailing bytes after the last record`, cur.pos);
  state.end = cur.pos;
}

/** Each option's code and length fit, and together they fill the rdata exactly. */
function checkOptions(buf: Uint8Array, start: number, rdlen: number): void {
  const cur = new Cursor(buf, start, start + rdlen);
  while (cur.remaining > 0) {
    cur.need(OPTION_HEADER, 'EDNS option header');
    cur.u16();
    cur.skip(cur.u16(), 'EDNS option data');
  }
}

/** The options of an OPT already validated by scanRecords. */
export function readOptions(buf: Uint8Array, opt: OptInfo): { code: number; data: Buffer }[] {
  const cur = new Cursor(buf, opt.rdataStart, opt.rdataStart + opt.rdlen);
  const out: { code: number; data: Buffer }[] = [];
  while (cur.remaining > 0) {
    const code = cur.u16();
    const data = cur.bytes(cur.u16(), 'EDNS option data');
    out.push({ code, data: Buffer.from(data) });
  }
  return out;
}
