/**
 * The resolver through the real exchange(), against a tiny UDP server on 127.0.0.1 that first
 * sends a forged reply (wrong id, other targets) and then the real one: the forgery must not
 * reach the cache (RFC 5452 §9.1).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
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
    additional: [],
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
