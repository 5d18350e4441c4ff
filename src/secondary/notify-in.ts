/**
 * A NOTIFY received (RFC 1996 §3.7–3.11), parsed as the handler needs it: the question, EDNS and
 * TSIG offsets of a query (parseQuery's checks, the opcode aside), and the serial of the SOA the
 * primary may put in the answer section (§3.7: a hint; the secondary still asks the primary).
 * Deciding whether to accept it is the secondary's (src/secondary/secondary.ts), answering it the
 * handler's (src/server/handler.ts).
 */
import type { HostPort } from '../config/config.js';
import { addressBytes } from '../wire/cookie.js';
import { Cursor } from '../wire/cursor.js';
import { readName } from '../wire/name.js';
import { type ParsedQuery, parseMessage, type QueryParse } from '../wire/query.js';
import { Section } from '../wire/scan.js';
import { canonicalName } from '../wire/tsig.js';
import { Type } from '../wire/types.js';

export type NotifyParse =
  | { kind: 'notify'; query: ParsedQuery; serial: number | undefined }
  /** As parseQuery: malformed (FORMERR, its question echoed when it parsed). */
  | Extract<QueryParse, { kind: 'formerr' }>;

/** What the secondary is told of a NOTIFY whose TSIG (if any) verified. */
export interface IncomingNotify {
  /** The question's name: the zone (lowercase, trailing dot). */
  zone: string;
  /** The verified TSIG key's name (canonical), or undefined when unsigned. */
  key: string | undefined;
  /** The SOA serial in the answer section, when the primary sent one. */
  serial: number | undefined;
  /** The sender's address bytes (4 or 16; empty when the carrier does not know it). */
  peer: Uint8Array;
}

/**
 * Parses a message with opcode NOTIFY by parseMessage's rules (one question, names, counts,
 * OPT and TSIG placement); the answer section may hold records (§3.7: the SOA).
 */
export function parseNotify(request: Buffer): NotifyParse {
  let serial: number | undefined;
  const parsed = parseMessage(request, (rr) => {
    if (serial !== undefined || rr.section !== Section.ANSWER || rr.type !== Type.SOA) return;
    // SOA rdata: MNAME, RNAME, then SERIAL (RFC 1035 §3.3.13).
    const cur = new Cursor(request, rr.rdataStart, rr.rdataStart + rr.rdlen);
    try {
      readName(cur);
      readName(cur);
      serial = cur.u32('SOA serial');
    } catch {
      // A malformed SOA is no hint; the NOTIFY still asks for a refresh.
    }
  });
  if (parsed.kind === 'formerr') return parsed;
  return { kind: 'notify', query: parsed.query, serial };
}

/**
 * Which NOTIFYs a secondary accepts (RFC 1996 §3.10; docs/design.md#secondary-mode): with
 * secondary.key, only those signed with it (from any address: the key is the proof, as a Knot
 * ACL with a key); without, only those from the primary's address (BIND's default
 * allow-notify), or from any when the primary is named by a host name or the carrier does not
 * report the sender. Then the zone must be one the secondary follows.
 */
export function notifyAcceptor(options: {
  /** config secondary.key (any case, trailing dot or not); undefined: unsigned. */
  key: string | undefined;
  primary: HostPort;
  /** The scheduler's NOTIFY entry: false for a zone it does not follow. */
  notify: (zone: string, serial: number | undefined) => boolean;
}): (notice: IncomingNotify) => boolean {
  const key = options.key === undefined ? undefined : canonicalName(options.key);
  const primary = addressBytes(options.primary.host).slice();
  return (notice) => {
    if (key !== undefined) {
      if (notice.key === undefined || canonicalName(notice.key) !== key) return false;
    } else if (notice.key === undefined && primary.length > 0 && notice.peer.length > 0) {
      if (!sameBytes(primary, notice.peer)) return false;
    }
    return options.notify(notice.zone, notice.serial);
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
