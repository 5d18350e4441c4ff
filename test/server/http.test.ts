/**
 * The HTTP listener on real sockets (127.0.0.1, port 0) under idle and slow peers (issue 8,
 * defect 5.5: 700 idle HTTP connections exhausted the fd limit and took /health down). Node's
 * HTTP deadlines run on its own clock, so these tests set them to a few hundred milliseconds
 * and wait for the socket's 'close' event, each wait bounded well below the old defaults.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { type HttpLimits, type HttpListener, listenHttp } from '../../src/server/http.js';

/** Well below Node's defaults (60 s headers, 5 s keep-alive) and far above the limits set here. */
const WITHIN_MS = 4000;

function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.closed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('HTTP listener limits', () => {
  let http: HttpListener | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await http?.close();
    http = undefined;
  });

  async function start(limits: HttpLimits): Promise<HttpListener> {
    http = await listenHttp(
      { host: '127.0.0.1', port: 0 },
      {
        ...limits,
        metrics: async () => '',
        contentType: 'text/plain',
        ready: () => true,
        log: pino({ level: 'silent' }),
      },
    );
    return http;
  }

  async function open(h: HttpListener, keepData = false): Promise<Socket> {
    const s = connect(h.address.port, h.address.host);
    sockets.push(s);
    s.on('error', () => {});
    await once(s, 'connect');
    // Read (and discard) what comes: a paused socket would never see the server close it.
    if (!keepData) s.resume();
    return s;
  }

  /** /health over a new connection, without keep-alive. */
  async function health(h: HttpListener): Promise<number> {
    const res = await fetch(`http://${h.address.host}:${h.address.port}/health`, {
      headers: { connection: 'close' },
      signal: AbortSignal.timeout(WITHIN_MS),
    });
    await res.text();
    return res.status;
  }

  it('at the cap, the connection idle longest makes room: /health answers while idle peers hold the cap', async () => {
    const h = await start({ maxConnections: 4 });
    const idle: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      idle.push(await open(h));
      // Known to the server before the next one connects, so "idle longest" is the first.
      while (h.connections < i + 1) await new Promise((r) => setImmediate(r));
    }
    assert.equal(await health(h), 200);
    assert.equal(await closedWithin(idle[0]!, WITHIN_MS), true, 'the oldest idle connection was closed');
    assert.equal(idle[1]!.destroyed, false);
    assert.ok(h.connections <= 4, `${h.connections} connections`);
    // Many more: still capped, still answering.
    for (let i = 0; i < 20; i++) await open(h);
    assert.equal(await health(h), 200);
    assert.ok(h.connections <= 4, `${h.connections} connections`);
  });

  it('closes a connection that never finishes its headers (headersTimeout)', async () => {
    const h = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300, checkIntervalMs: 50 });
    const silent = await open(h);
    const slow = await open(h);
    slow.write('GET /health HTTP/1.1\r\nhost: x\r\n');
    assert.equal(await closedWithin(slow, WITHIN_MS), true, 'half-sent headers');
    assert.equal(await closedWithin(silent, WITHIN_MS), true, 'nothing sent');
  });

  it('closes an idle keep-alive connection (keepAliveTimeout)', async () => {
    const h = await start({ keepAliveTimeoutMs: 200 });
    const s = await open(h, true);
    s.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    const [reply] = (await once(s, 'data')) as [Buffer];
    assert.match(reply.toString(), /^HTTP\/1\.1 200 /);
    assert.equal(await closedWithin(s, WITHIN_MS), true);
  });
});
