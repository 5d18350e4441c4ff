/**
 * TSIG (RFC 8945): transaction signatures with a shared secret, hmac-sha256 and hmac-sha512 only.
 * Pure (node:crypto and the wire codec); the clock is an option. The API the server, the transfer
 * code, NOTIFY, UPDATE and the remote CLI call:
 *
 * - `signMessage(msg, key, { requestMac?, now?, error?, otherData?, timeSigned? })` → the message
 *   with a TSIG RR appended (ARCOUNT + 1). With `requestMac` it signs a reply (§4.3.1). Use
 *   `signMessageMac` when the MAC itself is needed (to verify the reply to a signed request).
 * - `verifyMessage(msg, keys, { requestMac?, now?, fudge? })` → a `TsigVerifyResult`: `unsigned`,
 *   `formerr` (malformed or misplaced TSIG: answer FORMERR), `badkey`, `badsig`, `badtrunc`,
 *   `badtime` (the MAC was good, the time not), `peer-error` (a reply whose TSIG carries an
 *   error from the other side), or `ok` with the key and the MAC (the request MAC of the reply).
 * - `unsignedErrorTsig(msg, tsig, error)` → the message with an unsigned TSIG (MAC size 0) that
 *   echoes the request's key and algorithm: the BADKEY/BADSIG reply of §5.3.2.
 * - `keyringSigner(keys)` / `keyringReplyVerifier(keys)`: the `sign(message, keyName)` and
 *   `verify(reply, request, keyName)` seams of NOTIFY (src/server/notify.ts) over a keyring.
 * - `TsigStreamSigner` / `TsigStreamVerifier`: the messages of one TCP transfer (§5.3.1), each
 *   signed message's MAC chained to the prior MAC; the verifier accepts up to 99 unsigned
 *   messages between signed ones and requires the last message to be signed.
 *
 * Keys are `TsigKey` values (`parseTsigKey` reads `[ALG:]NAME:SECRET`); a secret is a Buffer and
 * never goes into a message, an error or a log line: errors here name the key, never the secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Cursor, Hdr, RR_FIXED, u16At } from './cursor.js';
import { WireError } from './errors.js';
import { parseName, readName } from './name.js';
import { Class, Type } from './types.js';

/** The algorithms psarn signs and verifies with (RFC 8945 §6: both are "MUST implement"/"MAY"). */
export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha512'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

/** Bytes of each algorithm's full MAC, and the secret size `psarn key generate` uses. */
export const MAC_SIZE: Readonly<Record<TsigAlgorithm, number>> = { 'hmac-sha256': 32, 'hmac-sha512': 64 };
const HASH: Readonly<Record<TsigAlgorithm, string>> = { 'hmac-sha256': 'sha256', 'hmac-sha512': 'sha512' };

/** The TSIG error field (RFC 8945 §3, IANA "DNS RCODEs"). */
export const TsigError = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
export type TsigErrorValue = (typeof TsigError)[keyof typeof TsigError];

/** Seconds of clock difference accepted (RFC 8945 §10: 300 recommended). */
export const TSIG_FUDGE = 300;

/** A shared key. `name` is canonical: lowercase, trailing dot. */
export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

/** Keys by canonical name, or a lookup function (the config's keyring). */
export type TsigKeyring = ReadonlyMap<string, TsigKey> | ((name: string) => TsigKey | undefined);

/** The fields of a TSIG RR (RFC 8945 §4.2). Names canonical: lowercase, trailing dot. */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  /** Seconds since the epoch, 48 bits. */
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

/** A TSIG found in a message: its fields, and where its RR starts (the message before it is what was signed). */
export interface FoundTsig {
  record: TsigRecord;
  /** Offset of the TSIG RR's owner name. */
  start: number;
  /** Key and algorithm names in canonical wire form (lowercase, uncompressed), for the digest. */
  keyWire: Buffer;
  algorithmWire: Buffer;
}

export type TsigVerifyResult =
  | { status: 'unsigned' }
  | { status: 'formerr'; reason: string }
  | { status: 'badkey'; tsig: FoundTsig }
  | { status: 'badsig'; tsig: FoundTsig; key: TsigKey }
  | { status: 'badtrunc'; tsig: FoundTsig; key: TsigKey }
  | { status: 'badtime'; tsig: FoundTsig; key: TsigKey; mac: Buffer; now: number }
  | { status: 'peer-error'; tsig: FoundTsig; error: number }
  | { status: 'ok'; tsig: FoundTsig; key: TsigKey; mac: Buffer };

export interface SignOptions {
  /** The validated MAC of the request this message answers (RFC 8945 §4.3.1); absent for a request. */
  requestMac?: Buffer | undefined;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Time Signed, seconds; default now. A BADTIME reply carries the client's (RFC 8945 §5.2.3). */
  timeSigned?: number;
  fudge?: number;
  error?: number;
  otherData?: Buffer;
}

export interface VerifyOptions {
  /** The MAC of the signed request, when verifying its reply. */
  requestMac?: Buffer | undefined;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** The largest clock difference accepted, seconds: min(this, the message's fudge). Default 300. */
  fudge?: number;
}

/** Time Signed is an unsigned 48-bit count of seconds (RFC 8945 §4.2). */
const MAX_TIME = 2 ** 48 - 1;
/** The fixed part of TSIG RDATA around the algorithm name and MAC: time 6, fudge 2, MAC size 2, original id 2, error 2, other len 2. */
const RDATA_FIXED = 16;

/** True for the algorithms we implement. */
export function isTsigAlgorithm(name: string): name is TsigAlgorithm {
  return (TSIG_ALGORITHMS as readonly string[]).includes(name);
}

/** Canonical form of a key or algorithm name: lowercase, trailing dot. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/**
 * A key from `[ALG:]NAME:SECRET` (nsupdate's and dig's `-y` form; ALG defaults to hmac-sha256).
 * @throws WireError naming what is wrong, never echoing the secret
 */
export function parseTsigKey(text: string): TsigKey {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new WireError('a TSIG key must be [ALG:]NAME:SECRET, e.g. hmac-sha256:transfer-key:c2VjcmV0...');
  }
  const [algorithm, name, secret] = parts.length === 3 ? parts : ['hmac-sha256', parts[0]!, parts[1]!];
  return makeTsigKey(name!, algorithm!.toLowerCase(), secret!);
}

/**
 * A key from its parts; the secret is base64 (RFC 4648 §4, padding optional).
 * @throws WireError on an unknown algorithm, a bad name or a secret that is not base64
 */
export function makeTsigKey(name: string, algorithm: string, secretBase64: string): TsigKey {
  if (!isTsigAlgorithm(algorithm)) {
    throw new WireError(`TSIG algorithm must be one of ${TSIG_ALGORITHMS.join(', ')}`);
  }
  const secret = decodeSecret(secretBase64);
  if (secret === undefined) throw new WireError(`the secret of TSIG key '${name}' is not base64`);
  if (secret.length === 0) throw new WireError(`the secret of TSIG key '${name}' is empty`);
  const canonical = canonicalName(name);
  parseName(canonical); // throws on a bad name
  return { name: canonical, algorithm, secret };
}

/** The bytes of a base64 secret, or undefined when it is not base64. */
export function decodeSecret(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'base64');
}

/** The canonical wire form of an absolute name (RFC 4034 §6.2: lowercase, uncompressed). */
export function nameWire(name: string): Buffer {
  const labels = parseName(canonicalName(name));
  const out = Buffer.alloc(labels.reduce((n, l) => n + l.length + 1, 1));
  let pos = 0;
  for (const label of labels) {
    out[pos++] = label.length;
    for (const b of label) out[pos++] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
  }
  out[pos] = 0;
  return out;
}

/**
 * The TSIG RR of `msg`, when its last record is one. Does not check that it is the only TSIG and
 * the last RR (the scanner does: src/wire/scan.ts); pass `start` when the caller knows it.
 * @throws WireError on a malformed TSIG RR
 */
export function readTsig(msg: Buffer, start: number): FoundTsig {
  const cur = new Cursor(msg, start);
  const keyLabels: number[] = [];
  readName(cur, keyLabels);
  const type = cur.u16('TSIG type');
  if (type !== Type.TSIG) throw new WireError('the last record is not a TSIG', start);
  // RFC 8945 §4.2: CLASS ANY, TTL 0.
  if (cur.u16('TSIG class') !== Class.ANY) throw new WireError('TSIG class is not ANY', cur.pos - 2);
  if (cur.u32('TSIG ttl') !== 0) throw new WireError('TSIG TTL is not 0', cur.pos - 4);
  const rdlen = cur.u16('TSIG rdlength');
  const end = cur.pos + rdlen;
  if (end !== msg.length) throw new WireError('TSIG rdata does not end the message', cur.pos);
  const rdata = new Cursor(msg, cur.pos, end);
  const algLabels: number[] = [];
  readName(rdata, algLabels);
  rdata.need(RDATA_FIXED, 'TSIG rdata');
  const timeSigned = rdata.u16() * 2 ** 32 + rdata.u32();
  const fudge = rdata.u16();
  const mac = Buffer.from(rdata.bytes(rdata.u16(), 'TSIG MAC'));
  const originalId = rdata.u16('TSIG original id');
  const error = rdata.u16('TSIG error');
  const otherData = Buffer.from(rdata.bytes(rdata.u16('TSIG other length'), 'TSIG other data'));
  if (rdata.remaining !== 0) throw new WireError('bytes after the TSIG other data', rdata.pos);
  const keyWire = labelsWire(msg, keyLabels);
  const algorithmWire = labelsWire(msg, algLabels);
  return {
    record: {
      keyName: wireToName(keyWire),
      algorithm: wireToName(algorithmWire),
      timeSigned,
      fudge,
      mac,
      originalId,
      error,
      otherData,
    },
    start,
    keyWire,
    algorithmWire,
  };
}

/**
 * Where the TSIG RR of `msg` starts, or -1 when the message has none. Walks the records
 * (bounds-checked); a TSIG that is not the last record of the additional section is a WireError
 * (RFC 8945 §5.1: FORMERR).
 */
export function findTsig(msg: Buffer): number {
  if (msg.length < Hdr.SIZE) throw new WireError('shorter than a DNS header', 0);
  const cur = new Cursor(msg, Hdr.SIZE);
  for (let i = u16At(msg, Hdr.QDCOUNT); i > 0; i--) {
    readName(cur);
    cur.skip(4, 'question type and class');
  }
  const counts = [u16At(msg, Hdr.ANCOUNT), u16At(msg, Hdr.NSCOUNT), u16At(msg, Hdr.ARCOUNT)];
  let found = -1;
  for (let section = 0; section < 3; section++) {
    for (let i = counts[section]!; i > 0; i--) {
      const start = cur.pos;
      readName(cur);
      cur.need(RR_FIXED, 'record header');
      const type = cur.u16();
      cur.skip(6, 'record class and ttl');
      cur.skip(cur.u16(), 'rdata');
      if (type === Type.TSIG) {
        if (section !== 2 || i !== 1) throw new WireError('TSIG is not the last record', start);
        found = start;
      }
    }
  }
  if (cur.pos !== msg.length) throw new WireError('trailing bytes after the last record', cur.pos);
  return found;
}

/** The message as it was before its TSIG was added: without the RR, ARCOUNT - 1, the original id (RFC 8945 §4.3.2). */
function strippedMessage(msg: Buffer, tsig: FoundTsig): Buffer {
  const out = Buffer.from(msg.subarray(0, tsig.start));
  out.writeUInt16BE(tsig.record.originalId, Hdr.ID);
  out.writeUInt16BE(u16At(msg, Hdr.ARCOUNT) - 1, Hdr.ARCOUNT);
  return out;
}

/** Time Signed (48 bits) and Fudge: the "TSIG timers" of RFC 8945 §4.3.3, 8 bytes. */
function timers(timeSigned: number, fudge: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt16BE(Math.floor(timeSigned / 2 ** 32), 0);
  out.writeUInt32BE(timeSigned % 2 ** 32, 2);
  out.writeUInt16BE(fudge, 6);
  return out;
}

/**
 * The "TSIG variables" (RFC 8945 §4.3.3): key name, class ANY, TTL 0, algorithm name (both in
 * canonical wire form), time signed, fudge, error, other len, other data.
 */
function variables(
  keyWire: Buffer,
  algorithmWire: Buffer,
  r: Omit<TsigRecord, 'keyName' | 'algorithm' | 'mac' | 'originalId'>,
): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(Class.ANY, 0);
  fixed.writeUInt32BE(0, 2);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(r.error, 0);
  tail.writeUInt16BE(r.otherData.length, 2);
  return Buffer.concat([keyWire, fixed, algorithmWire, timers(r.timeSigned, r.fudge), tail, r.otherData]);
}

/** MAC size (u16) and MAC: how a request MAC or a prior MAC enters a digest (RFC 8945 §4.3.1, §5.3.1). */
function macField(mac: Buffer): Buffer {
  const size = Buffer.alloc(2);
  size.writeUInt16BE(mac.length, 0);
  return Buffer.concat([size, mac]);
}

function hmac(key: TsigKey, parts: readonly Buffer[]): Buffer {
  const h = createHmac(HASH[key.algorithm], key.secret);
  for (const part of parts) h.update(part);
  return h.digest();
}

/** The TSIG RR's bytes: owner = key name, TYPE TSIG, CLASS ANY, TTL 0, rdata (RFC 8945 §4.2), names uncompressed. */
function tsigRr(keyWire: Buffer, algorithmWire: Buffer, r: Omit<TsigRecord, 'keyName' | 'algorithm'>): Buffer {
  const rdlen = algorithmWire.length + RDATA_FIXED + r.mac.length + r.otherData.length;
  const out = Buffer.alloc(keyWire.length + RR_FIXED + rdlen);
  let pos = keyWire.copy(out, 0);
  pos = out.writeUInt16BE(Type.TSIG, pos);
  pos = out.writeUInt16BE(Class.ANY, pos);
  pos = out.writeUInt32BE(0, pos);
  pos = out.writeUInt16BE(rdlen, pos);
  pos += algorithmWire.copy(out, pos);
  pos += timers(r.timeSigned, r.fudge).copy(out, pos);
  pos = out.writeUInt16BE(r.mac.length, pos);
  pos += r.mac.copy(out, pos);
  pos = out.writeUInt16BE(r.originalId, pos);
  pos = out.writeUInt16BE(r.error, pos);
  pos = out.writeUInt16BE(r.otherData.length, pos);
  r.otherData.copy(out, pos);
  return out;
}

/** `msg` with `rr` appended and ARCOUNT + 1. */
function append(msg: Buffer, rr: Buffer): Buffer {
  const out = Buffer.concat([msg, rr]);
  out.writeUInt16BE(u16At(msg, Hdr.ARCOUNT) + 1, Hdr.ARCOUNT);
  return out;
}

function seconds(now: () => number): number {
  return Math.floor(now() / 1000);
}

/** How many bytes a TSIG by `key` adds to a message (with no other data): for size limits. */
export function tsigSize(key: TsigKey, otherData = 0): number {
  return (
    nameWire(key.name).length +
    nameWire(key.algorithm).length +
    RR_FIXED +
    RDATA_FIXED +
    MAC_SIZE[key.algorithm] +
    otherData
  );
}

/**
 * `msg` (unsigned, no TSIG) signed with `key`, and the MAC, which a requester keeps to verify
 * the reply. With `requestMac`, a reply (RFC 8945 §4.3.1).
 */
export function signMessageMac(msg: Buffer, key: TsigKey, options: SignOptions = {}): { message: Buffer; mac: Buffer } {
  const keyWire = nameWire(key.name);
  const algorithmWire = nameWire(key.algorithm);
  const timeSigned = options.timeSigned ?? seconds(options.now ?? Date.now);
  if (!(Number.isInteger(timeSigned) && timeSigned >= 0 && timeSigned <= MAX_TIME)) {
    throw new WireError('TSIG time signed out of range');
  }
  const fields = {
    timeSigned,
    fudge: options.fudge ?? TSIG_FUDGE,
    error: options.error ?? TsigError.NOERROR,
    otherData: options.otherData ?? Buffer.alloc(0),
  };
  const parts: Buffer[] = [];
  if (options.requestMac !== undefined) parts.push(macField(options.requestMac));
  parts.push(msg, variables(keyWire, algorithmWire, fields));
  const mac = hmac(key, parts);
  const rr = tsigRr(keyWire, algorithmWire, { ...fields, mac, originalId: u16At(msg, Hdr.ID) });
  return { message: append(msg, rr), mac };
}

/**
 * `msg` signed with `key` (a request, or with `requestMac` a reply).
 * @example const signed = signMessage(query, key); // send it; keep signMessageMac's mac to check the reply
 */
export function signMessage(msg: Buffer, key: TsigKey, options: SignOptions = {}): Buffer {
  return signMessageMac(msg, key, options).message;
}

/**
 * `msg` with an unsigned TSIG (MAC size 0) echoing the request's key name, algorithm, time and
 * fudge, and `error`: the reply to a request whose key or MAC failed (RFC 8945 §5.3.2).
 */
export function unsignedErrorTsig(msg: Buffer, request: FoundTsig, error: number): Buffer {
  const { record } = request;
  return append(
    msg,
    tsigRr(request.keyWire, request.algorithmWire, {
      timeSigned: record.timeSigned,
      fudge: record.fudge,
      mac: Buffer.alloc(0),
      originalId: u16At(msg, Hdr.ID),
      error,
      otherData: Buffer.alloc(0),
    }),
  );
}

function lookup(keys: TsigKeyring, name: string): TsigKey | undefined {
  return typeof keys === 'function' ? keys(name) : keys.get(name);
}

/**
 * Verifies the TSIG of `msg` (a request, or with `requestMac` a reply) in the order of RFC 8945
 * §5.2: the key (BADKEY), the MAC (BADSIG, BADTRUNC), then the time (BADTIME). MACs are compared
 * in constant time.
 */
export function verifyMessage(msg: Buffer, keys: TsigKeyring, options: VerifyOptions = {}): TsigVerifyResult {
  let tsig: FoundTsig;
  try {
    const start = findTsig(msg);
    if (start < 0) return { status: 'unsigned' };
    tsig = readTsig(msg, start);
  } catch (err) {
    return { status: 'formerr', reason: err instanceof WireError ? err.message : String(err) };
  }
  return verifyFound(tsig, keys, options, (key) => {
    const parts: Buffer[] = [];
    if (options.requestMac !== undefined) parts.push(macField(options.requestMac));
    parts.push(strippedMessage(msg, tsig), variables(tsig.keyWire, tsig.algorithmWire, tsig.record));
    return hmac(key, parts);
  });
}

/** Key, MAC, then time, with `digest` computing the expected MAC. */
function verifyFound(
  tsig: FoundTsig,
  keys: TsigKeyring,
  options: VerifyOptions,
  digest: (key: TsigKey) => Buffer,
): TsigVerifyResult {
  const { record } = tsig;
  const key = lookup(keys, record.keyName);
  // RFC 8945 §5.2.1: an unknown key, or a known key used with another algorithm, is BADKEY.
  if (key === undefined || key.algorithm !== record.algorithm.slice(0, -1)) {
    return options.requestMac !== undefined && record.error !== 0
      ? { status: 'peer-error', tsig, error: record.error }
      : { status: 'badkey', tsig };
  }
  // A reply carrying BADKEY/BADSIG is unsigned (MAC size 0): nothing to verify (§5.3.2).
  if (options.requestMac !== undefined && record.error !== 0 && record.mac.length === 0) {
    return { status: 'peer-error', tsig, error: record.error };
  }
  const full = MAC_SIZE[key.algorithm];
  const size = record.mac.length;
  // RFC 8945 §5.2.2.1: a MAC longer than the hash, or shorter than max(10, half of it), is FORMERR.
  if (size > full || size < Math.max(10, full / 2)) {
    return { status: 'formerr', reason: `TSIG MAC of ${size} bytes for ${key.algorithm}` };
  }
  // Our local policy accepts only full-length MACs (RFC 8945 §5.2.2.1 lets it): a truncated one is BADTRUNC.
  if (size < full) return { status: 'badtrunc', tsig, key };
  const expected = digest(key);
  if (!timingSafeEqual(expected, record.mac)) return { status: 'badsig', tsig, key };
  if (options.requestMac !== undefined && record.error !== 0)
    return { status: 'peer-error', tsig, error: record.error };
  const now = seconds(options.now ?? Date.now);
  const window = Math.min(record.fudge, options.fudge ?? TSIG_FUDGE);
  if (Math.abs(now - record.timeSigned) > window) return { status: 'badtime', tsig, key, mac: record.mac, now };
  return { status: 'ok', tsig, key, mac: record.mac };
}

/** The MAC of a signed request (to verify its reply with), or undefined when it has no valid TSIG. */
export function requestMacOf(request: Buffer): Buffer | undefined {
  try {
    const start = findTsig(request);
    return start < 0 ? undefined : readTsig(request, start).record.mac;
  } catch {
    return undefined;
  }
}

/**
 * `sign(message, keyName)` over a keyring: the NOTIFY sender's seam (each call its own time).
 * @throws WireError naming the key (never its secret) when the keyring does not hold it
 */
export function keyringSigner(
  keys: TsigKeyring,
  options: { now?: () => number } = {},
): (message: Buffer, keyName: string) => Buffer {
  return (message, keyName) => {
    const key = lookup(keys, canonicalName(keyName));
    if (key === undefined) throw new WireError(`TSIG key '${keyName}' is not in tsig.keys`);
    return signMessage(message, key, options);
  };
}

/**
 * `verify(reply, request, keyName)` over a keyring: true when `reply` carries a valid TSIG by
 * that key over the request's MAC (RFC 8945 §5.3) with no TSIG error, within the fudge.
 */
export function keyringReplyVerifier(
  keys: TsigKeyring,
  options: Omit<VerifyOptions, 'requestMac'> = {},
): (reply: Buffer, request: Buffer, keyName: string) => boolean {
  return (reply, request, keyName) => {
    const key = lookup(keys, canonicalName(keyName));
    const requestMac = requestMacOf(request);
    if (key === undefined || requestMac === undefined) return false;
    const result = verifyMessage(reply, new Map([[key.name, key]]), { ...options, requestMac });
    return result.status === 'ok';
  };
}

/** The server's time as BADTIME's other data: 48-bit seconds (RFC 8945 §5.2.3). */
export function badtimeOtherData(nowSeconds: number): Buffer {
  return timers(nowSeconds, 0).subarray(0, 6);
}

/**
 * Signs the messages of one multi-message reply (an AXFR/IXFR over TCP) per RFC 8945 §5.3.1:
 * the first as a reply to the request (its MAC covers the request MAC), each next one covering
 * the prior MAC, the message, and only the timers. Every message is signed.
 * @example const s = new TsigStreamSigner(key, requestMac); for (const m of messages) send(s.sign(m));
 */
export class TsigStreamSigner {
  readonly #key: TsigKey;
  readonly #now: () => number;
  #prior: Buffer;
  #first = true;

  constructor(key: TsigKey, requestMac: Buffer, options: { now?: () => number } = {}) {
    this.#key = key;
    this.#prior = requestMac;
    this.#now = options.now ?? Date.now;
  }

  sign(msg: Buffer): Buffer {
    if (this.#first) {
      this.#first = false;
      const { message, mac } = signMessageMac(msg, this.#key, { requestMac: this.#prior, now: this.#now });
      this.#prior = mac;
      return message;
    }
    const key = this.#key;
    const timeSigned = seconds(this.#now);
    const t = timers(timeSigned, TSIG_FUDGE);
    const mac = hmac(key, [macField(this.#prior), msg, t]);
    this.#prior = mac;
    const rr = tsigRr(nameWire(key.name), nameWire(key.algorithm), {
      timeSigned,
      fudge: TSIG_FUDGE,
      mac,
      originalId: u16At(msg, Hdr.ID),
      error: TsigError.NOERROR,
      otherData: Buffer.alloc(0),
    });
    return append(msg, rr);
  }
}

/** RFC 8945 §5.3.1: at most 99 unsigned messages between signed ones. */
export const MAX_UNSIGNED_RUN = 99;

/**
 * Verifies the messages of one multi-message reply (RFC 8945 §5.3.1). The first message must
 * be signed (as a reply to the request); later ones may be unsigned, up to 99 in a row; call
 * `end()` after the last message: it fails unless the last one was signed.
 */
export class TsigStreamVerifier {
  readonly #key: TsigKey;
  readonly #options: VerifyOptions;
  #prior: Buffer;
  #first = true;
  #pending: Buffer[] = [];

  constructor(key: TsigKey, requestMac: Buffer, options: Omit<VerifyOptions, 'requestMac'> = {}) {
    this.#key = key;
    this.#prior = requestMac;
    this.#options = options;
  }

  /** One message in order; an `unsigned` result is fine for a middle message. */
  verify(msg: Buffer): TsigVerifyResult {
    let tsig: FoundTsig;
    try {
      const start = findTsig(msg);
      if (start < 0) {
        if (this.#first) return { status: 'unsigned' };
        if (this.#pending.length >= MAX_UNSIGNED_RUN) {
          return { status: 'formerr', reason: `more than ${MAX_UNSIGNED_RUN} unsigned messages in a row` };
        }
        this.#pending.push(msg);
        return { status: 'unsigned' };
      }
      tsig = readTsig(msg, start);
    } catch (err) {
      return { status: 'formerr', reason: err instanceof WireError ? err.message : String(err) };
    }
    const keys = new Map([[this.#key.name, this.#key]]);
    const options = { ...this.#options, requestMac: this.#prior };
    const first = this.#first;
    const result = verifyFound(tsig, keys, options, (key) => {
      if (first) {
        return hmac(key, [
          macField(this.#prior),
          strippedMessage(msg, tsig),
          variables(tsig.keyWire, tsig.algorithmWire, tsig.record),
        ]);
      }
      return hmac(key, [
        macField(this.#prior),
        ...this.#pending,
        strippedMessage(msg, tsig),
        timers(tsig.record.timeSigned, tsig.record.fudge),
      ]);
    });
    if (result.status === 'ok') {
      this.#first = false;
      this.#prior = result.mac;
      this.#pending = [];
    }
    return result;
  }

  /** True when the stream ended on a signed message (RFC 8945 §5.3.1: the last must be signed). */
  end(): boolean {
    return !this.#first && this.#pending.length === 0;
  }
}

/** Wire bytes of a name read by readName (labels as offset/length pairs), lowercased. */
function labelsWire(msg: Buffer, labels: readonly number[]): Buffer {
  let size = 1;
  for (let i = 1; i < labels.length; i += 2) size += labels[i]! + 1;
  const out = Buffer.alloc(size);
  let pos = 0;
  for (let i = 0; i < labels.length; i += 2) {
    const start = labels[i]!;
    const len = labels[i + 1]!;
    out[pos++] = len;
    for (let j = 0; j < len; j++) {
      const b = msg[start + j]!;
      out[pos++] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
    }
  }
  return out;
}

/** Presentation text of a canonical wire name (latin1 labels, escapes for '.' and '\'). */
function wireToName(wire: Buffer): string {
  let out = '';
  let pos = 0;
  while (wire[pos]! !== 0) {
    const len = wire[pos]!;
    const label = wire.toString('latin1', pos + 1, pos + 1 + len);
    out += `${label.replace(/[.\\]/g, (c) => `\\${c}`)}.`;
    pos += len + 1;
  }
  return out || '.';
}
