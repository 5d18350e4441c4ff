/**
 * DNS UPDATE messages (RFC 2136), as the remote CLI sends them: the zone, prerequisites that pin
 * what the command read (so a concurrent change fails instead of being overwritten) and the
 * updates. Pure; the caller signs the message (RFC 8945) and sends it.
 *
 * RFC 2136 §2.3: the header's QDCOUNT/ANCOUNT/NSCOUNT are ZOCOUNT/PRCOUNT/UPCOUNT; the zone
 * section is one "question" `<zone> SOA IN`. Names are compressed (§2.1 allows it); each RR is
 * written by the encoder the server's answers use (src/wire/rdata.ts), then its CLASS set.
 */
import { Cursor, Hdr, OPCODE_SHIFT } from '../../wire/cursor.js';
import { readName } from '../../wire/name.js';
import { writeRecord } from '../../wire/rdata.js';
import { Class, type DnsRecord, Opcode, Type } from '../../wire/types.js';
import { Writer } from '../../wire/writer.js';

/** A prerequisite (RFC 2136 §2.4). */
export type Prerequisite =
  /** §2.4.2 "RRset exists (value dependent)": exactly these RRs (TTL not compared), all of one name and type. */
  | { kind: 'rrset-equals'; records: readonly DnsRecord[] }
  /** §2.4.1 "RRset exists (value independent)". */
  | { kind: 'rrset-exists'; name: string; type: number }
  /** §2.4.3 "RRset does not exist". */
  | { kind: 'rrset-absent'; name: string; type: number };

/** An update (RFC 2136 §2.5). */
export type UpdateOp =
  /** §2.5.1 "Add to an RRset". */
  | { kind: 'add'; record: DnsRecord }
  /** §2.5.2 "Delete an RRset". */
  | { kind: 'delete-rrset'; name: string; type: number }
  /** §2.5.4 "Delete an RR from an RRset". */
  | { kind: 'delete-rr'; record: DnsRecord };

export interface UpdateMessage {
  id: number;
  /** The zone's name, absolute. */
  zone: string;
  prerequisites: readonly Prerequisite[];
  updates: readonly UpdateOp[];
  /**
   * Add an OPT (RFC 6891 §6.1.1: any message may carry one) so that a refusal can say why in an
   * Extended DNS Error (RFC 8914 §3: sent only to a requester that sent an OPT). Default true.
   */
  edns?: boolean;
}

/** Our EDNS payload size: the replies to an UPDATE are small, and come over TCP anyway. */
const UDP_SIZE = 1232;

/** The RCODEs an UPDATE is answered with beyond RFC 1035's (RFC 2136 §2.2). */
export const UpdateRcode = { YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10 } as const;

/**
 * The unsigned UPDATE message.
 * @throws WireError on a name or record that cannot be encoded, or a message over 65535 bytes
 * @example encodeUpdate({ id: 1, zone: 'z.', prerequisites: [{ kind: 'rrset-absent', name: 'r.z.', type: Type.URI }], updates: [{ kind: 'add', record }] })
 */
export function encodeUpdate(update: UpdateMessage): Buffer {
  const w = new Writer(512);
  w.room(Hdr.SIZE);
  w.buf.fill(0, 0, Hdr.SIZE);
  w.len = Hdr.SIZE;
  w.buf.writeUInt16BE(update.id, Hdr.ID);
  // QR 0, opcode UPDATE, every other flag 0 (RFC 2136 §2.2).
  w.buf.writeUInt16BE(Opcode.UPDATE << OPCODE_SHIFT, Hdr.FLAGS);
  w.buf.writeUInt16BE(1, Hdr.QDCOUNT);
  w.buf.writeUInt16BE(update.updates.length, Hdr.NSCOUNT);
  // Zone section (§2.3): ZNAME, ZTYPE SOA, ZCLASS IN.
  w.nameText(update.zone);
  w.u16(Type.SOA);
  w.u16(Class.IN);
  for (const p of update.prerequisites) {
    switch (p.kind) {
      case 'rrset-equals':
        // §2.4.2: CLASS is the zone's, TTL 0, the RRs of the set.
        for (const record of p.records) writeWithClass(w, { ...record, ttl: 0 }, Class.IN);
        break;
      case 'rrset-exists':
        empty(w, p.name, p.type, Class.ANY);
        break;
      case 'rrset-absent':
        empty(w, p.name, p.type, Class.NONE);
        break;
    }
  }
  for (const u of update.updates) {
    switch (u.kind) {
      case 'add':
        writeWithClass(w, u.record, Class.IN);
        break;
      case 'delete-rrset':
        empty(w, u.name, u.type, Class.ANY);
        break;
      case 'delete-rr':
        // §2.5.4: CLASS NONE, TTL 0, the RR's data.
        writeWithClass(w, { ...u.record, ttl: 0 }, Class.NONE);
        break;
    }
  }
  // Prerequisites that pin a set write one RR each: the counts are of records, not of entries.
  const prCount = update.prerequisites.reduce((n, p) => n + (p.kind === 'rrset-equals' ? p.records.length : 1), 0);
  w.buf.writeUInt16BE(prCount, Hdr.ANCOUNT);
  if (update.edns !== false) {
    // OPT (RFC 6891 §6.1.2): root owner, CLASS = payload size, TTL 0, no options.
    w.u8(0);
    w.u16(Type.OPT);
    w.u16(UDP_SIZE);
    w.u32(0);
    w.u16(0);
    w.buf.writeUInt16BE(1, Hdr.ARCOUNT);
  }
  return Buffer.from(w.buf.subarray(0, w.len));
}

/** An RR with no data (TTL 0, RDLENGTH 0): §2.4.1, §2.4.3, §2.5.2. */
function empty(w: Writer, name: string, type: number, klass: number): void {
  w.nameText(name);
  w.u16(type);
  w.u16(klass);
  w.u32(0);
  w.u16(0);
}

/** An RR as the server's encoder writes it, with its CLASS field set to `klass`. */
function writeWithClass(w: Writer, record: DnsRecord, klass: number): void {
  const start = w.len;
  writeRecord(w, record);
  const cur = new Cursor(w.buf, start, w.len);
  readName(cur);
  // After the owner: TYPE (2), then CLASS.
  w.buf.writeUInt16BE(klass, cur.pos + 2);
}
