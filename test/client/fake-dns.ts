/**
 * A fake DNS server for resolver unit tests: an `exchange` replacement that answers with
 * hand-built DecodedMessage values (no sockets), records every call, and can time out.
 */
import type { ExchangeResult, ServerAddress } from '../../src/client/transport.js';
import { TransportError } from '../../src/client/transport.js';
import type { DecodedMessage, DecodedRecord } from '../../src/wire/message.js';
import { decodeMessage } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/types.js';

export const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
export const PSARN = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
export const NAME = `created.orders.${ZONE}`;
export const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';

export const uri = (name: string, ttl: number, priority: number, weight: number, target: string): DecodedRecord => ({
  name,
  ttl,
  class: 1,
  type: 'URI',
  priority,
  weight,
  target,
});
export const txt = (name: string, ttl: number, ...strings: string[]): DecodedRecord => ({
  name,
  ttl,
  class: 1,
  type: 'TXT',
  strings,
});
export const routeTxt = (name: string, ttl: number, policy: string, epoch: number): DecodedRecord =>
  txt(name, ttl, 'v=psarn1', `policy=${policy}`, `epoch=${epoch}`);
export const cname = (name: string, ttl: number, target: string): DecodedRecord => ({
  name,
  ttl,
  class: 1,
  type: 'CNAME',
  target,
});
export const soa = (zone: string, ttl: number, minimum: number): DecodedRecord => ({
  name: zone,
  ttl,
  class: 1,
  type: 'SOA',
  mname: 'ns.psarn.internal.',
  rname: 'hostmaster.psarn.internal.',
  serial: 1,
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum,
});

export interface Sections {
  rcode?: number;
  answer?: DecodedRecord[];
  authority?: DecodedRecord[];
  additional?: DecodedRecord[];
}

/** A reply to `question` (as the real exchange would return it). */
export function message(id: number, question: DecodedMessage['question'], s: Sections): DecodedMessage {
  return {
    id,
    qr: true,
    opcode: 0,
    aa: true,
    tc: false,
    rd: false,
    ra: false,
    ad: false,
    cd: false,
    rcode: s.rcode ?? Rcode.NOERROR,
    question,
    answer: s.answer ?? [],
    authority: s.authority ?? [],
    additional: s.additional ?? [],
    size: 0,
  };
}

export interface Call {
  server: string;
  name: string;
  qtype: number;
  id: number;
}

/** What the fake answers: sections, or 'timeout', 'connect' or 'malformed' (a TransportError). */
export type Handler = (q: {
  name: string;
  qtype: number;
  server: string;
}) => Sections | 'timeout' | 'connect' | 'malformed';

export interface FakeDns {
  exchange: (server: ServerAddress, query: Buffer) => Promise<ExchangeResult>;
  calls: Call[];
  handler: Handler;
}

/** A fake exchange; replace `fake.handler` between steps of a test. */
export function fakeDns(handler: Handler): FakeDns {
  const fake: FakeDns = {
    calls: [],
    handler,
    async exchange(server, query) {
      const q = decodeMessage(query);
      const question = q.question[0]!;
      const key = `${server.host}:${server.port}`;
      fake.calls.push({ server: key, name: question.name.toLowerCase(), qtype: question.qtype, id: q.id });
      await Promise.resolve();
      const out = fake.handler({ name: question.name.toLowerCase(), qtype: question.qtype, server: key });
      if (out === 'timeout') throw new TransportError('ERR_DNS_TIMEOUT', server, `no reply from ${key}`);
      if (out === 'connect') throw new TransportError('ERR_DNS_CONNECT', server, `refused by ${key}`);
      if (out === 'malformed') {
        throw new TransportError(
          'ERR_DNS_MALFORMED',
          server,
          `malformed reply from ${key}: URI target is not valid UTF-8`,
        );
      }
      return { reply: Buffer.alloc(0), message: message(q.id, q.question, out), rttMs: 0.25, transport: 'udp' };
    },
  };
  return fake;
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; t: number; advance(ms: number): void } {
  const clock = {
    t: start,
    now: () => clock.t,
    advance(ms: number) {
      clock.t += ms;
    },
  };
  return clock;
}
