/**
 * NOTIFY (RFC 1996) from psarnd, a primary, to the secondaries of `notify` (docs/design.md#notify).
 * After a pickup that changed a zone (ZoneSync's onChange), every peer gets one NOTIFY for it:
 * opcode NOTIFY, AA, question `<zone> IN SOA`, and the zone's new SOA in the answer section
 * (RFC 1996 §3.7), signed when the peer names a TSIG key. A peer named by a host name (a
 * Kubernetes headless Service) is resolved at each change: every address it yields is a peer of
 * its own, for that change. It is sent again with backoff until
 * the peer answers it (same id, QR, opcode NOTIFY, from that peer's address and port: anything
 * else is ignored, RFC 1996 §3.6), then given up with one log line. A newer serial for the same
 * zone and peer replaces an outstanding one, so a burst of changes leaves one NOTIFY per zone
 * and peer; memory is bounded by zones × peers. Sends are paced by a token bucket, so the first
 * pickup (every zone, as Knot and BIND notify on load) does not leave in one burst.
 * Nothing here runs on the query path: it is fed by pickups and its own socket and timers.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
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

/** One secondary to notify (config `notify`), or a host name standing for several. */
export interface NotifyPeer {
  /**
   * An IP address (the reply must come from it) and a port; or a host name, resolved each time
   * a change is notified, each address it yields then being a peer of its own.
   */
  address: { host: string; port: number };
  /** TSIG key name the NOTIFY is signed with (config `tsig.keys`). */
  key?: string | undefined;
}

/** What happened to a NOTIFY: the values of psarn_notify_sent_total's `result` label. */
export type NotifyResult = 'acked' | 'rejected' | 'retried' | 'failed' | 'superseded' | 'unresolved';

/** Most addresses one `notify` name yields that are notified; the rest are left out, logged. */
export const MAX_NAME_ADDRESSES = 1024;

/** Resolves a host name to its addresses, both families (default: node:dns lookup, all: true). */
export type NotifyResolver = (host: string) => Promise<readonly string[]>;

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
  /** Resolves the host names of `peers` (default: node:dns lookup, all: true, both families). */
  resolve?: NotifyResolver;
}

/** A `notify` entry: who is notified, with which key, under which name in metrics and logs. */
interface Entry {
  index: number;
  /** The entry as written (HOST:PORT, [IPv6]:PORT): psarn_notify_sent_total's `peer` label. */
  label: string;
  key: string | undefined;
  port: number;
  /** The host name to resolve, or undefined for an IP entry. */
  name: string | undefined;
}

/** One address notified: what an answer is matched against (RFC 1996 §3.6). */
interface Peer {
  /** Unique for the notifier's life: the namespace of its message ids. */
  serial: number;
  host: string;
  port: number;
  family: 'udp4' | 'udp6';
  /** HOST:PORT of the address, for logs. */
  address: string;
  /** Of an IP entry: kept for the notifier's life. Else dropped once nothing is pending for it. */
  fixed: boolean;
  /** NOTIFYs outstanding to it. */
  pendings: number;
}

/** The NOTIFY of one zone to one peer, from its first transmission until answered or given up. */
interface Pending {
  /** Peer and zone: its key in #pending. */
  slot: string;
  peer: Peer;
  /** The entry that named the peer for this serial: its key signs, its label counts. */
  entry: Entry;
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

const lookupAll: NotifyResolver = async (host) =>
  (await dnsLookup(host, { all: true, family: 0 })).map((a) => a.address);

/** An address as the socket reports a sender's: IPv6 compressed, lowercase (2001:DB8:0::6 -> 2001:db8::6). */
function canonicalAddress(host: string): string {
  return isIPv6(host) ? new URL(`http://[${host}]`).hostname.slice(1, -1) : host;
}

const addressLabel = (host: string, port: number): string => (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

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
  readonly #entries: Entry[];
  /** The entries naming a host, in config order. */
  readonly #named: Entry[];
  /** Every address with something pending, and those of the IP entries: by HOST|PORT. */
  readonly #peers = new Map<string, Peer>();
  /** The IP entries' peers with the entry each first came from, in config order (deduplicated). */
  readonly #fixed: { peer: Peer; entry: Entry }[] = [];
  readonly #options: NotifierOptions;
  readonly #timers: NotifyTimers;
  readonly #now: () => number;
  readonly #randomId: () => number;
  readonly #openSocket: OpenNotifySocket;
  readonly #resolve: NotifyResolver;
  readonly #log: RateLimitedLog;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #tries: number;
  readonly #rate: number;
  readonly #burst: number;
  /** By peer and zone name. */
  readonly #pending = new Map<string, Pending>();
  /** By peer and message id: what a reply can answer. */
  readonly #byId = new Map<string, Pending>();
  /** Waiting for a token, in order. */
  readonly #queue = new Set<Pending>();
  readonly #sockets = new Map<'udp4' | 'udp6', NotifySocket>();
  /** Zones changed since the names were last resolved: the next resolution notifies them. */
  readonly #unresolved = new Map<string, NotifyZone>();
  /** A resolution is scheduled or running: zones changed meanwhile wait for the next one. */
  #resolving = false;
  /** Zones removed while the names were being resolved: that resolution does not notify them. */
  readonly #forgottenWhileResolving = new Set<string>();
  #peerSerial = 0;
  #tokens: number;
  #refilledAt: number;
  #pumpTimer: unknown;
  #closed = false;

  /** @throws ConfigError when a peer names a key and there is no signer */
  constructor(options: NotifierOptions) {
    this.#options = options;
    this.#entries = options.peers.map((peer, index) => {
      if (peer.key !== undefined && options.sign === undefined) {
        throw new ConfigError(
          `notify[${index}].key`,
          `config notify[${index}].key: tsig key '${peer.key}' is not configured; add it under tsig.keys, or remove the key to send unsigned`,
        );
      }
      const { host, port } = peer.address;
      if (isIP(host) === 0) return { index, label: `${host}:${port}`, key: peer.key, port, name: host };
      const address = canonicalAddress(host);
      return { index, label: addressLabel(address, port), key: peer.key, port, name: undefined };
    });
    this.#named = this.#entries.filter((e) => e.name !== undefined);
    for (const entry of this.#entries) {
      if (entry.name !== undefined) continue;
      const host = canonicalAddress(this.#options.peers[entry.index]!.address.host);
      // The same address twice is notified once, as the first entry says.
      if (this.#peers.has(`${host}|${entry.port}`)) continue;
      this.#fixed.push({ peer: this.#peer(host, entry.port, true), entry });
    }
    this.#timers = options.timers ?? realTimers;
    this.#now = options.now ?? (() => performance.now());
    this.#randomId = options.randomId ?? (() => Math.floor(Math.random() * 0x10000));
    this.#openSocket = options.openSocket ?? openUdp;
    this.#resolve = options.resolve ?? lookupAll;
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

  /**
   * Notifies every peer of `zone`'s serial, replacing an outstanding NOTIFY of an older one. IP
   * peers at once; the addresses of the names once they are resolved again (one resolution for
   * every zone of a pickup: it starts after the current task).
   */
  notify(zone: NotifyZone): void {
    if (this.#closed) return;
    for (const { peer, entry } of this.#fixed) this.#notifyPeer(peer, entry, zone);
    if (this.#named.length > 0) {
      this.#unresolved.set(zone.name, zone);
      this.#scheduleResolution();
    }
    this.#gauge();
  }

  /** Drops the outstanding NOTIFYs of a zone that is gone. */
  forget(zoneName: string): void {
    this.#unresolved.delete(zoneName);
    if (this.#resolving) this.#forgottenWhileResolving.add(zoneName);
    for (const peer of [...this.#peers.values()]) {
      const entry = this.#pending.get(`${peer.serial}\0${zoneName}`);
      if (entry !== undefined) this.#drop(entry);
    }
    this.#gauge();
  }

  /** Cancels every pending NOTIFY and retry, closes the sockets. */
  close(): void {
    this.#closed = true;
    this.#unresolved.clear();
    if (this.#pumpTimer !== undefined) this.#timers.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    for (const entry of [...this.#pending.values()]) this.#drop(entry);
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
    this.#gauge();
  }

  /** The peer at `host` (canonical) and `port`, made when it is new. */
  #peer(host: string, port: number, fixed: boolean): Peer {
    const at = `${host}|${port}`;
    let peer = this.#peers.get(at);
    if (peer === undefined) {
      peer = {
        serial: this.#peerSerial++,
        host,
        port,
        family: isIPv6(host) ? 'udp6' : 'udp4',
        address: addressLabel(host, port),
        fixed,
        pendings: 0,
      };
      this.#peers.set(at, peer);
    }
    return peer;
  }

  /** `zone`'s serial to one peer, as `entry` names it: a new NOTIFY, or one replacing an older serial's. */
  #notifyPeer(peer: Peer, entry: Entry, zone: NotifyZone): void {
    const slot = `${peer.serial}\0${zone.name}`;
    const pending = this.#pending.get(slot);
    if (pending === undefined) {
      const created: Pending = {
        slot,
        peer,
        entry,
        zone,
        id: -1,
        tries: 0,
        timer: undefined,
        queued: false,
        signed: undefined,
      };
      this.#pending.set(slot, created);
      peer.pendings++;
      this.#enqueue(created);
      return;
    }
    if (pending.zone.serial === zone.serial) return;
    // A newer serial: the peer needs only the latest (RFC 1996 §4.7: one refresh reads it all).
    if (pending.tries > 0) this.#options.metrics?.notifyResult(pending.entry.label, 'superseded');
    this.#release(pending);
    pending.entry = entry;
    pending.zone = zone;
    pending.tries = 0;
    this.#enqueue(pending);
  }

  /**
   * Starts a resolution of the names after the current task (so every zone of a pickup waits for
   * one), unless one is running: the zones changed meanwhile get the next one, which starts when
   * it ends. Every change is thus notified to the addresses of a lookup begun after it.
   */
  #scheduleResolution(): void {
    if (this.#resolving || this.#closed) return;
    this.#resolving = true;
    queueMicrotask(() => {
      this.#resolveNames()
        .catch((error: unknown) => this.#log.error({ err: error }, 'notifying the addresses of a name failed'))
        .finally(() => {
          this.#resolving = false;
          if (this.#unresolved.size > 0) this.#scheduleResolution();
        });
    });
  }

  /**
   * Resolves every name entry (in parallel) for the zones changed since the last resolution, and
   * notifies each address found. An address is notified once per change: an IP entry's, or the
   * first name's (config order) that yields it. A name that fails or yields no address is one
   * rate-limited log line and `result="unresolved"`; its secondaries wait for the next change
   * (or their SOA refresh).
   */
  async #resolveNames(): Promise<void> {
    const zones = [...this.#unresolved.values()];
    this.#unresolved.clear();
    this.#forgottenWhileResolving.clear();
    const found = await Promise.all(
      this.#named.map(async (entry): Promise<readonly string[] | { error: unknown }> => {
        try {
          return await this.#resolve(entry.name!);
        } catch (error) {
          return { error };
        }
      }),
    );
    if (!this.#closed) {
      const claimed = new Set(this.#fixed.map(({ peer }) => `${peer.host}|${peer.port}`));
      for (const [i, entry] of this.#named.entries()) {
        const result = found[i]!;
        const addresses = 'error' in result ? [] : this.#addresses(entry, result);
        if (addresses.length === 0) {
          this.#log.warn(
            { peer: entry.label, ...('error' in result ? { err: result.error } : {}), zones: zones.length },
            'notify name resolved to no address; its secondaries are not notified of this change',
          );
          this.#options.metrics?.notifyResult(entry.label, 'unresolved');
          continue;
        }
        for (const host of addresses) {
          const at = `${host}|${entry.port}`;
          if (claimed.has(at)) continue;
          claimed.add(at);
          const peer = this.#peer(host, entry.port, false);
          for (const zone of zones) {
            // A zone removed while the name was being resolved is not notified.
            if (!this.#forgottenWhileResolving.has(zone.name)) this.#notifyPeer(peer, entry, zone);
          }
          if (peer.pendings === 0 && !peer.fixed) this.#peers.delete(at);
        }
      }
      this.#gauge();
    }
  }

  /** A name's addresses: IP addresses only, canonical, each once, at most MAX_NAME_ADDRESSES. */
  #addresses(entry: Entry, result: readonly string[]): string[] {
    const out = new Set<string>();
    for (const address of result) if (isIP(address) !== 0) out.add(canonicalAddress(address));
    if (out.size <= MAX_NAME_ADDRESSES) return [...out];
    this.#log.warn(
      { peer: entry.label, addresses: out.size, notified: MAX_NAME_ADDRESSES },
      `notify name resolved to more than ${MAX_NAME_ADDRESSES} addresses; the rest are not notified`,
    );
    return [...out].slice(0, MAX_NAME_ADDRESSES);
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

  /** Log fields naming a pending's peer: the entry, and the address when the entry is a name. */
  #who(entry: Pending): Record<string, unknown> {
    return entry.entry.name === undefined
      ? { peer: entry.entry.label }
      : { peer: entry.entry.label, address: entry.peer.address };
  }

  #transmit(entry: Pending): void {
    const { peer } = entry;
    const { label, key } = entry.entry;
    if (entry.id < 0) entry.id = this.#freeId(peer);
    if (entry.id < 0) {
      // 65536 NOTIFYs outstanding to one peer: wait for one to end.
      this.#armRetry(entry, this.#retryMs);
      return;
    }
    this.#byId.set(`${peer.serial}:${entry.id}`, entry);
    entry.tries++;
    if (entry.tries > 1) this.#options.metrics?.notifyResult(label, 'retried');
    try {
      let message = encodeNotify(entry.id, entry.zone);
      if (key !== undefined) {
        message = this.#options.sign!(message, key);
        if (this.#options.verify !== undefined) {
          entry.signed ??= [];
          entry.signed.push(message);
        }
      }
      this.#socket(peer.family).send(message, peer.port, peer.host);
    } catch (error) {
      // A zone name or a key the encoder or signer refuses would fail every try: give up now.
      this.#log.error({ err: error, zone: entry.zone.name, ...this.#who(entry) }, 'cannot send NOTIFY; gave up');
      this.#options.metrics?.notifyResult(label, 'failed');
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
        { zone: entry.zone.name, serial: entry.zone.serial, ...this.#who(entry), tries: entry.tries },
        'NOTIFY not answered; gave up (the secondary refreshes on its SOA timers)',
      );
      this.#options.metrics?.notifyResult(entry.entry.label, 'failed');
      this.#drop(entry);
      this.#gauge();
    }, ms);
  }

  /** A random id no other outstanding NOTIFY to this peer has, or -1 when all are taken. */
  #freeId(peer: Peer): number {
    for (let i = 0; i < 16; i++) {
      const id = this.#randomId() & 0xffff;
      if (!this.#byId.has(`${peer.serial}:${id}`)) return id;
    }
    const start = this.#randomId() & 0xffff;
    for (let i = 0; i < 0x10000; i++) {
      const id = (start + i) & 0xffff;
      if (!this.#byId.has(`${peer.serial}:${id}`)) return id;
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
   * (RFC 1996 §3.6, §4.7): for a name, the address resolved and notified. Anything else, a
   * spoof among them, is ignored.
   */
  #reply(message: Buffer, from: { address: string; port: number }): void {
    if (message.length < Hdr.SIZE) return;
    const flags = message.readUInt16BE(Hdr.FLAGS);
    if ((flags & Flag.QR) === 0 || ((flags >>> OPCODE_SHIFT) & OPCODE_MASK) !== Opcode.NOTIFY) return;
    const peer = this.#peers.get(`${from.address}|${from.port}`);
    if (peer === undefined) return;
    const entry = this.#byId.get(`${peer.serial}:${message.readUInt16BE(Hdr.ID)}`);
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
    const { key, label } = entry.entry;
    if (key !== undefined && verify !== undefined) {
      if (!(entry.signed ?? []).some((request) => verify(message, request, key))) {
        this.#log.warn(
          { zone: entry.zone.name, ...this.#who(entry) },
          'NOTIFY answer failed TSIG verification; ignored',
        );
        return;
      }
    }
    if (rcode === Rcode.NOERROR) {
      this.#options.log.debug(
        { zone: entry.zone.name, serial: entry.zone.serial, ...this.#who(entry), tries: entry.tries },
        'NOTIFY answered',
      );
      this.#options.metrics?.notifyResult(label, 'acked');
    } else {
      // The peer answered: asking again would get the same answer (BIND and Knot stop too).
      this.#log.warn(
        { zone: entry.zone.name, serial: entry.zone.serial, ...this.#who(entry), rcode: rcodeName(rcode) },
        'NOTIFY refused by the secondary',
      );
      this.#options.metrics?.notifyResult(label, 'rejected');
    }
    this.#drop(entry);
    this.#gauge();
  }

  /** Stops the entry's timer and frees its id (it stays in #pending). */
  #release(entry: Pending): void {
    if (entry.timer !== undefined) this.#timers.clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.id >= 0) this.#byId.delete(`${entry.peer.serial}:${entry.id}`);
    entry.id = -1;
    entry.signed = undefined;
  }

  /** Ends a NOTIFY; a resolved address with nothing left pending is forgotten (pods come and go). */
  #drop(entry: Pending): void {
    this.#release(entry);
    if (entry.queued) this.#queue.delete(entry);
    entry.queued = false;
    if (this.#pending.delete(entry.slot)) {
      const { peer } = entry;
      peer.pendings--;
      if (peer.pendings === 0 && !peer.fixed) this.#peers.delete(`${peer.host}|${peer.port}`);
    }
  }

  #gauge(): void {
    this.#options.metrics?.notifyPending(this.#pending.size);
  }
}
