/**
 * TCP under pressure (RFC 7766 §6.2.3): idle connections time out, a half-sent message does not
 * keep a connection alive, and at the connection cap the idlest connection makes room, so idle
 * peers cannot starve the service.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Rcode, Type } from '../../src/wire/types.js';
import { type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';

const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';

function open(d: RunningDaemon): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(d.dns.port, d.dns.host, () => resolve(s));
    s.on('error', reject);
  });
}

function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('TCP limits', () => {
  let d: RunningDaemon;
  before(async () => {
    d = await startPsarnd({ env: { PSARN_TCP_MAX_CONNECTIONS: '4', PSARN_TCP_IDLE_TIMEOUT_MS: '400' } });
  });
  after(async () => {
    await d?.stop();
  });

  it('closes an idle connection after the idle timeout', async () => {
    const s = await open(d);
    assert.equal(await closedWithin(s, 3000), true);
  });

  it('closes a connection that trickles a message without finishing it', async () => {
    const s = await open(d);
    s.on('error', () => {});
    // A 200-byte frame announced, then one byte of it every 100 ms: 20 s to finish it.
    s.write(Buffer.from([0, 200]));
    const trickle = setInterval(() => {
      if (!s.destroyed) s.write(Buffer.from([0]));
    }, 100);
    const closed = await closedWithin(s, 3000);
    clearInterval(trickle);
    s.destroy();
    assert.equal(closed, true);
  });

  it('at the cap, idle connections make room for a new client', async () => {
    const idle = await Promise.all([open(d), open(d), open(d), open(d)]);
    for (const s of idle) s.on('error', () => {});
    const m = await query(d.dns, NAME, Type.URI, { tcp: true });
    assert.equal(m.rcode, Rcode.NOERROR);
    for (const s of idle) s.destroy();
    const text = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
    assert.match(text, /psarn_dns_tcp_connections_evicted_total [1-9]/);
  });
});

// Issue 8, defect 5.5 at a small scale: under `ulimit -n 256`, 240 idle DNS connections (the
// configured cap is 1000) took every descriptor, and /health could not be reached.
describe('connection caps under the open-files limit', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  let d: RunningDaemon;
  const idle: Socket[] = [];
  before(async () => {
    d = await startPsarnd({ fdLimit: 256 });
  });
  after(async () => {
    for (const s of idle) s.destroy();
    await d?.stop();
  });

  it('logs the lowered caps', () => {
    const line = d.logs.find((l) => String(l.msg).startsWith('connection caps lowered'));
    assert.ok(line, 'the clamp is logged');
    assert.equal(line.fdLimit, 256);
    assert.deepEqual(line.caps, { tcp: 168, http: 24 });
  });

  it('240 idle DNS connections leave /health and DNS over TCP answering', async () => {
    for (let i = 0; i < 240; i++) {
      const s = await open(d);
      s.on('error', () => {});
      s.resume();
      idle.push(s);
    }
    const health = await fetch(`http://${d.http.host}:${d.http.port}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(health.status, 200);
    const m = await query(d.dns, NAME, Type.URI, { tcp: true });
    assert.equal(m.rcode, Rcode.NOERROR);
    const text = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
    const conns = Number(/^psarn_dns_tcp_connections (\d+)/m.exec(text)?.[1]);
    assert.ok(conns <= 168, `${conns} DNS connections open, cap 168`);
    assert.match(text, /psarn_dns_tcp_connections_evicted_total [1-9]/);
  });
});
