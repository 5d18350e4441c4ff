/**
 * NOTIFY (RFC 1996) from psarnd, a primary, to the secondaries of `notify` (docs/design.md#notify).
 * After a pickup that changed a zone (ZoneSync's onChange), every peer gets one NOTIFY for it:
 * opcode NOTIFY, AA, question `<zone> IN SOA`, and the zone's new SOA in the answer section
 * (RFC 1996 §3.7), signed when the peer names a TSIG key. It is sent again with backoff until
 * the peer answers it (same id, QR, opcode NOTIFY, from that peer's address and port: anything
 * else is ignored, RFC 1996 §3.6), then given up with one log line. A newer serial for the same
 * zone and peer replaces an outstanding one, so a burst of changes leaves one NOTIFY per zone
 * and peer; memory is bounded by zones × peers. Sends are paced by a token bucket, so the first
 * pickup (every zone, as Knot and BIND notify on load) does not leave in one burst.
 * Nothing here runs on the query path: it is fed by pickups and its own socket and timers.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config.js';
import type { ZoneRow } from '../store/types.js';
import { Flag, Hdr, OPCODE_MASK, OPCODE_SHIFT } from '../wire/cursor.js';
import { decodeMessage, encodeQuery } from '../wire/message.js';
import { rcodeName } from '../wire/mnemonics.js';
import { encodeReady } from '../wire/response.js';
import { Opcode, Rcode, Type } from '../wire/types.js';
import { soaRecord } from '../zone/records.js';
import type { ZoneChanges } from '../zone/store-view.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** What a NOTIFY carries of a zone: its name and its SOA (the catalog zone can build one too). */
export type NotifyZone = Pick<
  ZoneRow,
  'name' | 'serial' | 'soaTtl' | 'mname' | 'rname' | 'refresh' | 'retry' | 'expire' | 'minimum'
>;

/** One secondary to notify (config `notify`). */
export interface NotifyPeer {
  /** An IP address (the reply must come from it) and a port. */
  address: { host: string; port: number };
  /** TSIG key name the NOTIFY is signed with (config `tsig.keys`). */
  key?: string | undefined;
}

/** What happened to a NOTIFY: the values of psarn_notify_sent_total's `result` label. */
export type NotifyResult = 'acked' | 'rejected' | 'retried' | 'failed' | 'superseded';

/** The notifier's counters and gauge (DaemonMetrics implements it). */
export interface NotifyMetrics {
  notifyResult(peer: string, result: NotifyResult): void;
  notifyPending(count: number): void;
}

/** A UDP socket as the notifier uses it; tests give a fake peer. */
export interface NotifySocket {
  send(message: Buffer, port: number, host: string): void;
  close(): void;
}

/** Opens the socket of one address family; it calls `onMessage` for every datagram received. */
export type OpenNotifySocket = (
  family: 'udp4' | 'udp6',
  onMessage: (message: Buffer, from: { address: string; port: number }) => void,
  onError: (error: unknown) => void,
) => NotifySocket;

/** One-shot timers, injectable: tests drive retries with a fake clock. */
export interface NotifyTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface NotifierOptions {
  peers: readonly NotifyPeer[];
  log: Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;
  metrics?: NotifyMetrics;
  /**
   * Signs a message with the named TSIG key (RFC 8945), returning the message with its TSIG RR.
   * Called for every transmission (each needs its own time signed). Without it, a peer that
   * names a key is a configuration error.
   */
  sign?: (message: Buffer, keyName: string) => Buffer;
  /**
   * Checks the TSIG of a peer's answer against the signed request it answers (RFC 8945 §5.3:
   * the answer's MAC covers the request's). Given, an answer from a peer with a key that
   * verifies against none of the transmissions of its NOTIFY is ignored.
   */
  verify?: (reply: Buffer, request: Buffer, keyName: string) => boolean;
  /** Wait before the first retransmission, doubled for each next one. Default 2000 ms. */
  retryMs?: number;
  /** Longest wait between two transmissions. Default 60000 ms (RFC 1996 §3.6's interval). */
  maxRetryMs?: number;
  /** Transmissions before giving up: the first and up to 5 retransmissions (RFC 1996 §3.6). Default 6. */
  tries?: number;
  /** Messages a second, all peers together. Default 1000. */
  rate?: number;
  /** Messages that may leave at once after a quiet spell. Default 100. */
  burst?: number;
  timers?: NotifyTimers;
  /** Milliseconds, monotonic (default performance.now): the pacing's clock. */
  now?: () => number;
  /** A random message id, 0..65535 (default Math.random): ids a spoofer cannot guess. */
  randomId?: () => number;
  openSocket?: OpenNotifySocket;
}

interface Peer extends NotifyPeer {
  index: number;
  /** HOST:PORT as written in the config: the metrics' and logs' name for it. */
  label: string;
  family: 'udp4' | 'udp6';
}

/** The NOTIFY of one zone to one peer, from its first transmission until answered or given up. */
interface Pending {
  key: string;
  peer: Peer;
  zone: NotifyZone;
  /** Message id, unique among this peer's outstanding NOTIFYs; -1 until the first transmission. */
  id: number;
  /** Transmissions so far. */
  tries: number;
  timer: unknown;
  queued: boolean;
  /** The signed transmissions of this serial, kept only to verify an answer's TSIG. */
  signed: Buffer[] | undefined;
}

const realTimers: NotifyTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const openUdp: OpenNotifySocket = (family, onMessage, onError) => {
  const socket: Socket = createSocket(family);
  socket.on('message', (message, rinfo) => onMessage(message, rinfo));
  socket.on('error', onError);
  socket.unref();
  return {
    send: (message, port, host) =>
      socket.send(message, port, host, (error) => {
        if (error) onError(error);
      }),
    close: () => socket.close(),
  };
};

/**
 * The NOTIFY message for `zone` (RFC 1996 §3.7): opcode NOTIFY, AA, question `<zone> IN SOA`,
 * the zone's SOA as the answer, no EDNS. Exported for tests and for the catalog zone.
 */
export function encodeNotify(id: number, zone: NotifyZone): Buffer {
  const query = encodeQuery({ id, name: zone.name, qtype: Type.SOA, edns: false });
  const soa = soaRecord({ ...zone } as ZoneRow);
  const ready = encodeReady(query.subarray(Hdr.SIZE), {
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [soa],
    authority: [],
    additional: [],
  });
  const message = Buffer.concat([query, ready.body]);
  // RFC 1996 §3.7: QR clear, opcode NOTIFY, AA set; RD and the rest clear.
  message.writeUInt16BE((Opcode.NOTIFY << OPCODE_SHIFT) | Flag.AA, Hdr.FLAGS);
  message.writeUInt16BE(ready.ancount, Hdr.ANCOUNT);
  return message;
}

export class Notifier {
  readonly #peers: Peer[];
  readonly #options: NotifierOptions;
  readonly #timers: NotifyTimers;
  readonly #now: () => number;
  readonly #randomId: () => number;
  readonly #openSocket: OpenNotifySocket;
  readonly #log: RateLimitedLog;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #tries: number;
  readonly #rate: number;
  readonly #burst: number;
  /** By peer index and zone name. */
  readonly #pending = new Map<string, Pending>();
  /** By peer index and message id: what a reply can answer. */
  readonly #byId = new Map<string, Pending>();
  /** Waiting for a token, in order. */
  readonly #queue = new Set<Pending>();
  readonly #sockets = new Map<'udp4' | 'udp6', NotifySocket>();
  #tokens: number;
  #refilledAt: number;
  #pumpTimer: unknown;
  #closed = false;

  /** @throws ConfigError when a peer names a key and there is no signer */
  constructor(options: NotifierOptions) {
    this.#options = options;
    this.#peers = options.peers.map((peer, index) => {
      if (peer.key !== undefined && options.sign === undefined) {
        throw new ConfigError(
          `notify[${index}].key`,
          `config notify[${index}].key: tsig key '${peer.key}' is not configured; add it under tsig.keys, or remove the key to send unsigned`,
        );
      }
      const { port } = peer.address;
      const v6 = isIPv6(peer.address.host);
      // The form the socket reports a sender's address in (2001:DB8:0::6 -> 2001:db8::6).
      const host = v6 ? new URL(`http://[${peer.address.host}]`).hostname.slice(1, -1) : peer.address.host;
      return {
        ...peer,
        address: { host, port },
        index,
        label: v6 ? `[${host}]:${port}` : `${host}:${port}`,
        family: v6 ? 'udp6' : 'udp4',
      };
    });
    this.#timers = options.timers ?? realTimers;
    this.#now = options.now ?? (() => performance.now());
    this.#randomId = options.randomId ?? (() => Math.floor(Math.random() * 0x10000));
    this.#openSocket = options.openSocket ?? openUdp;
    this.#log = new RateLimitedLog(options.log);
    this.#retryMs = options.retryMs ?? 2000;
    this.#maxRetryMs = options.maxRetryMs ?? 60_000;
    this.#tries = options.tries ?? 6;
    this.#rate = options.rate ?? 1000;
    this.#burst = options.burst ?? 100;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#now();
  }

  /** NOTIFYs not yet answered or given up (waiting to be sent, or for a reply). */
  get pending(): number {
    return this.#pending.size;
  }

  /** A ZoneSync listener: notifies every zone added or changed; forgets removed zones. */
  onChange(changes: ZoneChanges): void {
    for (const name of changes.removed) this.forget(name);
    for (const zone of changes.added) this.notify(zone);
    for (const zone of changes.changed) this.notify(zone);
    // The catalog (RFC 9432) moved: a zone was created or deleted. Its NOTIFY is what makes a
    // secondary with catalog-role interpret pick up the new zone now, not at its SOA refresh.
    if (changes.catalog !== undefined) {
      const { name, ttl, serial, mname, rname, refresh, retry, expire, minimum } = changes.catalog.soa();
      this.notify({ name, serial, soaTtl: ttl, mname, rname, refresh, retry, expire, minimum });
    }
  }

  /** Notifies every peer of `zone`'s serial, replacing an outstanding NOTIFY of an older one. */
  notify(zone: NotifyZone): void {
    if (this.#closed) return;
    for (const peer of this.#peers) {
      const key = `${peer.index}\0${zone.name}`;
      const entry = this.#pending.get(key);
      if (entry === undefined) {
        const created: Pending = {
          key,
          peer,
          zone,
          id: -1,
          tries: 0,
          timer: undefined,
          queued: false,
          signed: undefined,
        };
        this.#pending.set(key, created);
        this.#enqueue(created);
        continue;
      }
      if (entry.zone.serial === zone.serial) continue;
      // A newer serial: the peer needs only the latest (RFC 1996 §4.7: one refresh reads it all).
      if (entry.tries > 0) this.#options.metrics?.notifyResult(peer.label, 'superseded');
      this.#release(entry);
      entry.zone = zone;
      entry.tries = 0;
      this.#enqueue(entry);
    }
    this.#gauge();
  }

  /** Drops the outstanding NOTIFYs of a zone that is gone. */
  forget(zoneName: string): void {
    for (const peer of this.#peers) {
      const entry = this.#pending.get(`${peer.index}\0${zoneName}`);
      if (entry !== undefined) this.#drop(entry);
    }
    this.#gauge();
  }

  /** Cancels every pending NOTIFY and retry, closes the sockets. */
  close(): void {
    this.#closed = true;
    if (this.#pumpTimer !== undefined) this.#timers.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    for (const entry of [...this.#pending.values()]) this.#drop(entry);
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
    this.#gauge();
  }

  #enqueue(entry: Pending): void {
    entry.queued = true;
    this.#queue.add(entry);
    this.#pump();
  }

  /** Sends what the token bucket allows; arms a timer for the rest. */
  #pump(): void {
    if (this.#pumpTimer !== undefined || this.#closed) return;
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) * this.#rate) / 1000);
    this.#refilledAt = now;
    for (const entry of this.#queue) {
      if (this.#tokens < 1) break;
      this.#tokens--;
      this.#queue.delete(entry);
      entry.queued = false;
      this.#transmit(entry);
    }
    if (this.#queue.size > 0) {
      const wait = Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#rate));
      this.#pumpTimer = this.#timers.setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, wait);
    }
  }

  #transmit(entry: Pending): void {
    const { peer } = entry;
    if (entry.id < 0) entry.id = this.#freeId(peer);
    if (entry.id < 0) {
      // 65536 NOTIFYs outstanding to one peer: wait for one to end.
      this.#armRetry(entry, this.#retryMs);
      return;
    }
    this.#byId.set(`${peer.index}:${entry.id}`, entry);
    entry.tries++;
    if (entry.tries > 1) this.#options.metrics?.notifyResult(peer.label, 'retried');
    try {
      let message = encodeNotify(entry.id, entry.zone);
      if (peer.key !== undefined) {
        message = this.#options.sign!(message, peer.key);
        if (this.#options.verify !== undefined) {
          entry.signed ??= [];
          entry.signed.push(message);
        }
      }
      this.#socket(peer.family).send(message, peer.address.port, peer.address.host);
    } catch (error) {
      // A zone name or a key the encoder or signer refuses would fail every try: give up now.
      this.#log.error({ err: error, zone: entry.zone.name, peer: peer.label }, 'cannot send NOTIFY; gave up');
      this.#options.metrics?.notifyResult(peer.label, 'failed');
      this.#drop(entry);
      this.#gauge();
      return;
    }
    const wait = Math.min(this.#maxRetryMs, this.#retryMs * 2 ** (entry.tries - 1));
    this.#armRetry(entry, wait);
  }

  #armRetry(entry: Pending, ms: number): void {
    entry.timer = this.#timers.setTimeout(() => {
      entry.timer = undefined;
      if (entry.tries < this.#tries) {
        this.#enqueue(entry);
        return;
      }
      // RFC 1996 §3.6: a bounded number of retransmissions, then the peer is left to its SOA timers.
      this.#log.warn(
        { zone: entry.zone.name, serial: entry.zone.serial, peer: entry.peer.label, tries: entry.tries },
        'NOTIFY not answered; gave up (the secondary refreshes on its SOA timers)',
      );
      this.#options.metrics?.notifyResult(entry.peer.label, 'failed');
      this.#drop(entry);
      this.#gauge();
    }, ms);
  }

  /** A random id no other outstanding NOTIFY to this peer has, or -1 when all are taken. */
  #freeId(peer: Peer): number {
    for (let i = 0; i < 16; i++) {
      const id = this.#randomId() & 0xffff;
      if (!this.#byId.has(`${peer.index}:${id}`)) return id;
    }
    const start = this.#randomId() & 0xffff;
    for (let i = 0; i < 0x10000; i++) {
      const id = (start + i) & 0xffff;
      if (!this.#byId.has(`${peer.index}:${id}`)) return id;
    }
    return -1;
  }

  #socket(family: 'udp4' | 'udp6'): NotifySocket {
    let socket = this.#sockets.get(family);
    if (socket === undefined) {
      socket = this.#openSocket(
        family,
        (message, from) => this.#reply(message, from),
        (error) => this.#log.warn({ err: error }, 'NOTIFY socket error'),
      );
      this.#sockets.set(family, socket);
    }
    return socket;
  }

  /**
   * A datagram on our socket. Only the answer to an outstanding NOTIFY counts: same id, QR,
   * opcode NOTIFY, the question of its zone when there is one, from the peer's address and port
   * (RFC 1996 §3.6, §4.7). Anything else, a spoof among them, is ignored.
   */
  #reply(message: Buffer, from: { address: string; port: number }): void {
    if (message.length < Hdr.SIZE) return;
    const flags = message.readUInt16BE(Hdr.FLAGS);
    if ((flags & Flag.QR) === 0 || ((flags >>> OPCODE_SHIFT) & OPCODE_MASK) !== Opcode.NOTIFY) return;
    const peer = this.#peers.find((p) => p.address.port === from.port && p.address.host === from.address);
    if (peer === undefined) return;
    const entry = this.#byId.get(`${peer.index}:${message.readUInt16BE(Hdr.ID)}`);
    if (entry === undefined) return;
    let rcode: number;
    try {
      const decoded = decodeMessage(message);
      const question = decoded.question[0];
      if (question !== undefined && question.name.toLowerCase() !== entry.zone.name.toLowerCase()) return;
      rcode = decoded.rcode;
    } catch {
      return;
    }
    const { verify } = this.#options;
    if (peer.key !== undefined && verify !== undefined) {
      const key = peer.key;
      if (!(entry.signed ?? []).some((request) => verify(message, request, key))) {
        this.#log.warn({ zone: entry.zone.name, peer: peer.label }, 'NOTIFY answer failed TSIG verification; ignored');
        return;
      }
    }
    if (rcode === Rcode.NOERROR) {
      this.#options.log.debug(
        { zone: entry.zone.name, serial: entry.zone.serial, peer: peer.label, tries: entry.tries },
        'NOTIFY answered',
      );
      this.#options.metrics?.notifyResult(peer.label, 'acked');
    } else {
      // The peer answered: asking again would get the same answer (BIND and Knot stop too).
      this.#log.warn(
        { zone: entry.zone.name, serial: entry.zone.serial, peer: peer.label, rcode: rcodeName(rcode) },
        'NOTIFY refused by the secondary',
      );
      this.#options.metrics?.notifyResult(peer.label, 'rejected');
    }
    this.#drop(entry);
    this.#gauge();
  }

  /** Stops the entry's timer and frees its id (it stays in #pending). */
  #release(entry: Pending): void {
    if (entry.timer !== undefined) this.#timers.clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.id >= 0) this.#byId.delete(`${entry.peer.index}:${entry.id}`);
    entry.id = -1;
    entry.signed = undefined;
  }

  #drop(entry: Pending): void {
    this.#release(entry);
    if (entry.queued) this.#queue.delete(entry);
    entry.queued = false;
    this.#pending.delete(entry.key);
  }

  #gauge(): void {
    this.#options.metrics?.notifyPending(this.#pending.size);
  }
}
