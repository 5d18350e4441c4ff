import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { QueryHandler } from '../../src/server/handler.js';
import { DaemonMetrics } from '../../src/server/metrics.js';
import { RateLimitedLog } from '../../src/server/rate-limited-log.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { AnswerCache } from '../../src/zone/cache.js';
import { zoneHead } from '../helpers/fixtures.js';
import { MemoryView } from '../helpers/memory-view.js';

type Line = { level: 'error' | 'warn'; fields: Record<string, unknown>; message: string };

function recorder(): {
  lines: Line[];
  log: { error: (f: object, m: string) => void; warn: (f: object, m: string) => void };
} {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      error: (fields, message) => lines.push({ level: 'error', fields: fields as Record<string, unknown>, message }),
      warn: (fields, message) => lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
    },
  };
}

describe('RateLimitedLog', () => {
  it('writes at most `limit` lines of a message per interval, then counts the rest', () => {
    const { lines, log } = recorder();
    let now = 0;
    const limited = new RateLimitedLog(log as never, { limit: 3, intervalMs: 1000, now: () => now });
    for (let i = 0; i < 1000; i++) limited.error({ i }, 'read failed');
    assert.deepEqual(
      lines.map((l) => l.fields),
      [{ i: 0 }, { i: 1 }, { i: 2, rateLimited: 'at most 3 lines of this message per 1000 ms' }],
    );
    assert.equal(limited.suppressed('read failed'), 997);
    // Other messages have their own budget.
    limited.warn({}, 'something else');
    assert.equal(lines.length, 4);
    assert.equal(lines[3]!.level, 'warn');
    // Still inside the interval: nothing.
    now = 999;
    limited.error({ i: 1000 }, 'read failed');
    assert.equal(lines.length, 4);
    // The next interval: the first line says how many were dropped.
    now = 1000;
    limited.error({ i: 1001 }, 'read failed');
    assert.deepEqual(lines[4]!.fields, { i: 1001, suppressed: 998 });
    assert.equal(limited.suppressed('read failed'), 0);
    limited.error({ i: 1002 }, 'read failed');
    assert.deepEqual(lines[5]!.fields, { i: 1002 });
  });
});

describe('QueryHandler internal errors', () => {
  const Z = '123456789012.us-east-1.aws.psarn.internal.';
  const ZONE = `
${zoneHead(Z)}
created.orders 300 IN URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:v1"
`;

  it('a fault on every query answers SERVFAIL each time but logs 5 lines per 10 s, not one per query', () => {
    const view = new MemoryView(ZONE);
    view.getRoute = () => {
      throw new Error('database disk image is malformed');
    };
    const { lines, log } = recorder();
    let now = 0;
    const handler = new QueryHandler({
      view,
      cache: new AnswerCache(),
      metrics: new DaemonMetrics({ defaultMetrics: false }),
      log: pino({ level: 'silent' }),
      errorLog: new RateLimitedLog(log as never, { now: () => now }),
      udpPayloadSize: 1232,
    });
    const ask = (id: number) =>
      decodeMessage(handler.handle(encodeQuery({ id, name: `created.orders.${Z}`, qtype: Type.URI }), 'udp')!);
    for (let i = 1; i <= 2000; i++) assert.equal(ask(i).rcode, Rcode.SERVFAIL);
    assert.equal(lines.length, 5);
    assert.equal(lines[0]!.message, 'internal error answering a query; replied SERVFAIL');
    now = 10_000;
    ask(1);
    assert.equal(lines.length, 6);
    assert.equal(lines[5]!.fields.suppressed, 1995);
  });

  it('by default, the handler rate-limits its own logger', () => {
    const view = new MemoryView(ZONE);
    view.getRoute = () => {
      throw new Error('boom');
    };
    let written = 0;
    const log = pino({ level: 'error' }, { write: () => written++ });
    const handler = new QueryHandler({
      view,
      cache: new AnswerCache(),
      metrics: new DaemonMetrics({ defaultMetrics: false }),
      log,
      udpPayloadSize: 1232,
    });
    for (let i = 1; i <= 500; i++)
      handler.handle(encodeQuery({ id: i, name: `created.orders.${Z}`, qtype: Type.URI }), 'tcp');
    assert.equal(written, 5);
  });
});
