/**
 * An in-process UPDATE bench for the unit tests: a QueryHandler with an UpdateServer over a
 * ':memory:' store, a TSIG key in update.allow, an injected clock, and helpers that sign, send
 * and decode (test/update/*.test.ts).
 */
import { pino } from 'pino';
import { type Config, defaultConfig } from '../../src/config/config.js';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { UpdateServer } from '../../src/server/update.js';
import { Store } from '../../src/store/store.js';
import type { StoredRoute } from '../../src/store/types.js';
import { type DecodedMessage, decodeMessage } from '../../src/wire/message.js';
import { makeTsigKey, signMessageMac, type TsigKey, verifyMessage } from '../../src/wire/tsig.js';
import type { DnsRecord } from '../../src/wire/types.js';
import { encodeUpdate, type UpdateRecordSpec } from '../../src/wire/update.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { MemoryView } from '../helpers/memory-view.js';

export const Z = '123456789012.us-east-1.aws.psarn.internal.';
export const NOW = 1_800_000_000_000;
export const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
export const updateKey = makeTsigKey('update-key', 'hmac-sha256', Buffer.alloc(32, 7).toString('base64'));
export const otherKey = makeTsigKey('other-key', 'hmac-sha256', Buffer.alloc(32, 8).toString('base64'));

/** `name` under the zone: 'created.orders' -> 'created.orders.<Z>'. */
export const at = (relative: string): string => `${relative}.${Z}`;

export function uri(name: string, target: string, weight = 1, priority = 10, ttl = 300): DnsRecord {
  return { name: at(name), ttl, type: 'URI', priority, weight, target };
}

export function txt(name: string, strings: string[], ttl = 300): DnsRecord {
  return { name: at(name), ttl, type: 'TXT', strings };
}

export function cname(name: string, target: string, ttl = 300): DnsRecord {
  return { name: at(name), ttl, type: 'CNAME', target };
}

export interface Bench {
  store: Store;
  handler: QueryHandler;
  metrics: DaemonMetrics;
  changed: number;
  /** The handler's TSIG clock, ms since the epoch (starts at NOW); a test may move it. */
  time: number;
  /** Sends raw bytes; the decoded reply (undefined when dropped). */
  raw(bytes: Buffer, proto?: 'udp' | 'tcp'): (DecodedMessage & { bytes: Buffer }) | undefined;
  /** Signs (with `key`, at `now`), sends, checks the reply's TSIG, decodes. */
  send(
    message: { prerequisites?: UpdateRecordSpec[]; updates?: UpdateRecordSpec[]; zone?: string },
    options?: { key?: TsigKey | null; now?: number; proto?: 'udp' | 'tcp' },
  ): DecodedMessage & { ede: { code: number; text: string }[]; signed: boolean };
  route(path: string): StoredRoute | undefined;
  serial(): number | undefined;
  logs: Record<string, unknown>[];
}

export function bench(configure: (config: Config) => Config = (c) => c): Bench {
  const base = defaultConfig();
  const config = configure({
    ...base,
    update: { allow: ['update-key'] },
    tsig: { keys: [updateKey, otherKey] },
  });
  const store = Store.open(':memory:');
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  let changed = 0;
  let time = NOW;
  const updates = new UpdateServer({ store: () => store, metrics, log, changed: () => changed++ }, config);
  const handler = new QueryHandler({
    view: new MemoryView(''),
    cache: new AnswerCache(),
    metrics,
    log,
    udpPayloadSize: 1232,
    tsigKeys: new Map(config.tsig.keys.map((k) => [k.name, k])),
    clock: () => time,
    updates,
  });
  let id = 1;
  const out: Bench = {
    store,
    handler,
    metrics,
    logs,
    get changed() {
      return changed;
    },
    get time() {
      return time;
    },
    set time(value: number) {
      time = value;
    },
    raw(bytes, proto = 'udp') {
      const reply = handler.handle(bytes, proto);
      return reply === undefined ? undefined : Object.assign(decodeMessage(reply), { bytes: reply });
    },
    send(message, options = {}) {
      const bytes = encodeUpdate({ id: id++, zone: message.zone ?? Z, ...message });
      const key = options.key === undefined ? updateKey : options.key;
      let request = bytes;
      let mac: Buffer | undefined;
      if (key !== null) ({ message: request, mac } = signMessageMac(bytes, key, { now: () => options.now ?? time }));
      const reply = handler.handle(request, options.proto ?? 'udp');
      if (reply === undefined) throw new Error('no reply');
      const decoded = decodeMessage(reply);
      const signed = decoded.additional.some((r) => r.type === 'TSIG' || (r as { typeCode?: number }).typeCode === 250);
      if (key !== null && signed) {
        const check = verifyMessage(reply, new Map([[key.name, key]]), { requestMac: mac, now: () => time });
        if (check.status !== 'ok' && !(check.status === 'peer-error')) {
          throw new Error(`reply TSIG did not verify: ${check.status}`);
        }
      }
      const ede = (decoded.edns?.options ?? [])
        .filter((o) => o.code === 15)
        .map((o) => ({ code: o.data.readUInt16BE(0), text: o.data.subarray(2).toString('utf8') }));
      return Object.assign(decoded, { ede, signed });
    },
    route: (path) => store.getRoute(Z, path),
    serial: () => store.zone(Z)?.serial,
  };
  return out;
}
