/**
 * UDP and TCP on one port (issue 8, defect 5.10): with `listen: host:0` the kernel picks a UDP
 * port without looking at TCP, and under load that port's TCP twin was taken, so psarnd failed
 * to start with EADDRINUSE. Real sockets on 127.0.0.1; the "unlucky pick" is forced by binding
 * UDP on a port whose TCP twin this test holds.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { freeDnsPort, listenOn, listenPair } from '../../src/server/listen.js';

const HOST = '127.0.0.1';

interface Udp {
  readonly address: { host: string; port: number };
  closed: boolean;
  close(): Promise<void>;
}

async function bindUdp(port: number): Promise<Udp> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, HOST, () => resolve());
  });
  const udp: Udp = {
    address: { host: HOST, port: socket.address().port },
    closed: false,
    close: () =>
      new Promise<void>((resolve) => {
        udp.closed = true;
        socket.close(() => resolve());
      }),
  };
  return udp;
}

async function bindTcp(port: number): Promise<Server> {
  const server = createServer();
  await listenOn(server, { host: HOST, port });
  return server;
}

const closeTcp = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('listenPair: UDP and TCP on one port', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });

  /** A port whose TCP side this test holds (and whose UDP side is free). */
  async function takenTwin(): Promise<{ port: number; holder: Server }> {
    for (let i = 0; i < 20; i++) {
      const holder = await bindTcp(0);
      const { port } = holder.address() as { port: number };
      const probe = await bindUdp(port).catch(() => undefined);
      if (probe !== undefined) {
        await probe.close();
        return { port, holder };
      }
      await closeTcp(holder);
    }
    throw new Error('no port with a free UDP side in 20 tries');
  }

  it('with port 0, closes the UDP socket whose TCP twin is taken and tries another port', async () => {
    const { port: taken, holder } = await takenTwin();
    try {
      const udps: Udp[] = [];
      const { udp, tcp } = await listenPair(
        { host: HOST, port: 0 },
        {
          // The first pick is the unlucky one; later picks are the kernel's.
          udp: async (at) => {
            const u = await bindUdp(udps.length === 0 ? taken : at.port);
            udps.push(u);
            return u;
          },
          tcp: (at) => bindTcp(at.port),
        },
      );
      closers.push(
        () => udp.close(),
        () => closeTcp(tcp),
      );
      assert.equal(udps.length, 2);
      assert.equal(udps[0]!.address.port, taken);
      assert.equal(udps[0]!.closed, true, 'the first UDP socket was closed');
      assert.notEqual(udp.address.port, taken);
      assert.equal((tcp.address() as { port: number }).port, udp.address.port, 'one port for both');
      // Really closed: the port's UDP side can be bound again.
      await (await bindUdp(taken)).close();
    } finally {
      await closeTcp(holder);
    }
  });

  it('with a fixed port, fails at once with EADDRINUSE and leaves no UDP socket open', async () => {
    const { port: taken, holder } = await takenTwin();
    try {
      let tries = 0;
      let last: Udp | undefined;
      await assert.rejects(
        listenPair(
          { host: HOST, port: taken },
          {
            udp: async (at) => {
              tries++;
              last = await bindUdp(at.port);
              return last;
            },
            tcp: (at) => bindTcp(at.port),
          },
        ),
        { code: 'EADDRINUSE' },
      );
      assert.equal(tries, 1);
      assert.equal(last?.closed, true);
    } finally {
      await closeTcp(holder);
    }
  });

  it('gives up after its attempts when every pick collides, every UDP socket closed', async () => {
    const { port: taken, holder } = await takenTwin();
    try {
      const udps: Udp[] = [];
      await assert.rejects(
        listenPair(
          { host: HOST, port: 0 },
          {
            udp: async () => {
              const u = await bindUdp(taken);
              udps.push(u);
              return u;
            },
            tcp: (at) => bindTcp(at.port),
          },
          5,
        ),
        { code: 'EADDRINUSE' },
      );
      assert.equal(udps.length, 5);
      assert.ok(udps.every((u) => u.closed));
    } finally {
      await closeTcp(holder);
    }
  });

  it('another error is not retried', async () => {
    let tries = 0;
    await assert.rejects(
      listenPair(
        { host: HOST, port: 0 },
        {
          udp: async () => {
            tries++;
            return bindUdp(0);
          },
          tcp: async () => {
            throw Object.assign(new Error('no'), { code: 'EACCES' });
          },
        },
      ),
      { code: 'EACCES' },
    );
    assert.equal(tries, 1);
  });

  it('freeDnsPort gives a port whose UDP and TCP sides are both free', async () => {
    const port = await freeDnsPort({ host: HOST, port: 0 });
    const udp = await bindUdp(port);
    const tcp = await bindTcp(port);
    await udp.close();
    await closeTcp(tcp);
  });
});
