/**
 * The resolver through the real exchange(), against a tiny UDP server on 127.0.0.1 that first
 * sends a forged reply (wrong id, other targets) and then the real one: the forgery must not
 * reach the cache (RFC 5452 §9.1).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PsarnClientError } from '../../src/client/errors.js';
import { RouteResolver } from '../../src/client/resolver.js';
import { parseQuery } from '../../src/wire/query.js';
import { assembleResponse, encodeReady } from '../../src/wire/response.js';
import type { Reply } from '../../src/wire/types.js';
import { Rcode } from '../../src/wire/types.js';
import { LAMBDA, NAME, PSARN } from './fake-dns.js';

const GOOD = `${LAMBDA}orders-created-v1`;
const EVIL = `${LAMBDA}attacker`;

function routeReply(target: string): Reply {
  return {
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [{ name: NAME, ttl: 300, type: 'URI', priority: 10, weight: 1, target }],
    authority: [],
    // As psarnd answers: the route TXT in additional, so no TXT query follows.
    additional: [{ name: NAME, ttl: 300, type: 'TXT', strings: ['v=psarn1', 'epoch=1'] }],
  };
}

describe('RouteResolver over real UDP', () => {
  let server: Socket;
  let port: number;
  let received = 0;

  before(async () => {
    server = createSocket('udp4');
    server.on('message', (buf, rinfo) => {
      received++;
      const parsed = parseQuery(buf);
      if (parsed.kind !== 'query') return;
      const q = parsed.query;
      const send = (id: number, target: string) => {
        const ready = encodeReady(Buffer.from(q.key, 'latin1'), routeReply(target));
        const { buf: out } = assembleResponse(buf, { ...q, id }, ready, { maxSize: 1232, udpPayloadSize: 1232 });
        server.send(out, rinfo.port, rinfo.address);
      };
      send((q.id + 1) & 0xffff, EVIL); // a forged reply: wrong id
      send(q.id, GOOD);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it('ignores a reply with the wrong id and caches the matching one', async () => {
    const resolver = new RouteResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 2000, tries: 1 });
    const r = await resolver.resolve(PSARN);
    assert.deepEqual(
      r.targets.map((t) => t.target),
      [GOOD],
    );
    assert.deepEqual(
      (await resolver.resolve(PSARN)).targets.map((t) => t.target),
      [GOOD],
    );
    assert.equal(received, 1);
    assert.equal(resolver.queries, 1);
  });

  it('a server given by host name: localhost is looked up and asked (issue 9)', async () => {
    const resolver = new RouteResolver({ servers: [`localhost:${port}`], timeoutMs: 2000, tries: 1 });
    assert.deepEqual(
      (await resolver.resolve(PSARN)).targets.map((t) => t.target),
      [GOOD],
    );
  });

  it('a name that resolves to ::1 first and 127.0.0.1 second: the refused address is passed over', async () => {
    const resolver = new RouteResolver({
      servers: [`localhost:${port}`],
      timeoutMs: 2000,
      tries: 1,
      lookup: async () => ['::1', '127.0.0.1'],
    });
    assert.deepEqual(
      (await resolver.resolve(PSARN)).targets.map((t) => t.target),
      [GOOD],
    );
    assert.equal(resolver.queries, 2);
  });

  it('a name that does not resolve is ERR_SERVER_LOOKUP naming it, not ERR_SOCKET_BAD_PORT (issue 9)', async () => {
    const resolver = new RouteResolver({ servers: ['nohost.invalid:8053'], timeoutMs: 200, tries: 1 });
    await assert.rejects(resolver.resolve(PSARN), (err: unknown) => {
      assert.ok(err instanceof PsarnClientError, String(err));
      assert.equal(err.code, 'ERR_SERVER_LOOKUP');
      assert.match(err.message, /cannot look up server 'nohost\.invalid': /);
      assert.ok(err.cause instanceof Error);
      return true;
    });
  });

  it('a closed port fails over to the next server', async () => {
    const dead = createSocket('udp4');
    await new Promise<void>((resolve) => dead.bind(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    dead.close();
    const resolver = new RouteResolver({
      servers: [`127.0.0.1:${deadPort}`, `127.0.0.1:${port}`],
      timeoutMs: 200,
      tries: 1,
    });
    assert.deepEqual(
      (await resolver.resolve(PSARN)).targets.map((t) => t.target),
      [GOOD],
    );
    assert.equal(resolver.queries, 2);
  });
});

/**
 * A server whose reply matches the query (id, question) but whose URI rdata does not decode (a
 * target that is not UTF-8): a bad answer from that server, reported at once as ERR_BAD_ANSWER,
 * not ERR_NO_SERVER after every timeout.
 */
describe('RouteResolver against a server that sends malformed records', () => {
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) s.close();
  });

  /** A route server on 127.0.0.1; `corrupt` spoils the URI target's first byte. */
  async function routeServer(corrupt: boolean): Promise<{ port: number; received: () => number }> {
    const server = createSocket('udp4');
    sockets.push(server);
    let received = 0;
    server.on('message', (buf, rinfo) => {
      received++;
      const parsed = parseQuery(buf);
      if (parsed.kind !== 'query') return;
      const q = parsed.query;
      const ready = encodeReady(Buffer.from(q.key, 'latin1'), routeReply(GOOD));
      const { buf: out } = assembleResponse(buf, q, ready, { maxSize: 1232, udpPayloadSize: 1232 });
      if (corrupt) out[out.indexOf(GOOD)] = 0xff;
      server.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, received: () => received };
  }

  it('is ERR_BAD_ANSWER at once, naming the server and the fault', async () => {
    const bad = await routeServer(true);
    const resolver = new RouteResolver({ servers: [`127.0.0.1:${bad.port}`], timeoutMs: 2000, tries: 2 });
    const started = performance.now();
    await assert.rejects(resolver.resolve(PSARN), (err: unknown) => {
      assert.ok(err instanceof PsarnClientError);
      assert.equal(err.code, 'ERR_BAD_ANSWER', err.message);
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1#${bad.port} .*URI target is not valid UTF-8`));
      return true;
    });
    assert.ok(performance.now() - started < 1500, 'before the first 2 s timeout');
    assert.equal(bad.received(), 1, 'no retry of the same server');
    assert.equal(resolver.cacheState(PSARN), 'absent');
  });

  it('fails over to a sound server when there is one', async () => {
    const bad = await routeServer(true);
    const good = await routeServer(false);
    const resolver = new RouteResolver({
      servers: [`127.0.0.1:${bad.port}`, `127.0.0.1:${good.port}`],
      timeoutMs: 2000,
      tries: 2,
    });
    const started = performance.now();
    assert.deepEqual(
      (await resolver.resolve(PSARN)).targets.map((t) => t.target),
      [GOOD],
    );
    assert.ok(performance.now() - started < 1500, 'before the first 2 s timeout');
    assert.equal(bad.received(), 1);
    assert.equal(good.received(), 1);
  });
});
