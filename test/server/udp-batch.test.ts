/**
 * The batched UDP socket (src/native/udp_batch.c through src/server/udp-batch.ts) on 127.0.0.1,
 * port 0, with node:dgram clients. Skipped where the addon is not built, except on Linux CI,
 * where a missing addon must fail the run instead of hiding behind a skip.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import {
  addonCandidates,
  type BatchUdpSocket,
  listenUdpBatch,
  loadUdpBatch,
  statSlots,
} from '../../src/server/udp-batch.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const MODULE_URL = new URL('../../src/server/udp-batch.js', import.meta.url).href;
const loaded = loadUdpBatch();
const required = process.env.CI === 'true' && process.platform === 'linux';
const skip = loaded.ok || required ? false : `native UDP batching unavailable: ${loaded.reason}`;

/** A node:dgram client that collects every reply; waitFor bounds each wait with a timeout. */
class Client {
  readonly replies: Buffer[] = [];
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('message', (message) => {
      this.replies.push(message);
      this.wake?.();
    });
  }

  static async open(): Promise<Client> {
    const socket = createSocket('udp4');
    socket.bind(0, HOST);
    await once(socket, 'listening');
    return new Client(socket);
  }

  send(port: number, data: Buffer | string): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, HOST);
  }

  /** Resolves once `count` replies arrived in all; rejects after timeoutMs. */
  waitFor(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    if (this.replies.length >= count) return Promise.resolve(this.replies);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(new Error(`${this.replies.length} of ${count} replies after ${timeoutMs} ms`));
      }, timeoutMs);
      this.wake = () => {
        if (this.replies.length < count) return;
        clearTimeout(timer);
        this.wake = undefined;
        resolve(this.replies);
      };
    });
  }

  close(): void {
    this.socket.close();
  }
}

const texts = (buffers: Buffer[]) => buffers.map((b) => b.toString());

describe('listenUdpBatch (recvmmsg/sendmmsg addon)', { skip }, () => {
  const open: BatchUdpSocket[] = [];
  const clients: Client[] = [];
  const listen = async (...args: Parameters<typeof listenUdpBatch>) => {
    const socket = await listenUdpBatch(...args);
    open.push(socket);
    return socket;
  };
  const client = async () => {
    const c = await Client.open();
    clients.push(c);
    return c;
  };
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(open.map((s) => s.close()));
  });

  it('loads (a Linux CI run without the addon fails here rather than skipping)', () => {
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.reason);
  });

  it('binds port 0 and reports the port it got', async () => {
    const server = await listen({ host: HOST, port: 0 }, (m) => m, {});
    assert.equal(server.address.host, HOST);
    assert.ok(server.address.port > 0 && server.address.port < 65536);
  });

  it('echoes many datagrams from several clients, each reply to its own sender, intact', async () => {
    const server = await listen({ host: HOST, port: 0 }, (m) => Buffer.concat([Buffer.from('re:'), m]), {});
    const senders = await Promise.all([client(), client(), client(), client()]);
    const sent = senders.map((c, k) => {
      // Sizes 1..~1.6 KB with varied bytes; 25 per client keeps all 100 within the receive buffer.
      const messages = Array.from({ length: 25 }, (_, j) =>
        Buffer.concat([Buffer.from(`c${k}:m${j}:`), Buffer.alloc(j * 64, (k * 31 + j) & 0xff)]),
      );
      for (const m of messages) c.send(server.address.port, m);
      return messages;
    });
    for (const [k, c] of senders.entries()) {
      const replies = await c.waitFor(25);
      assert.equal(replies.length, 25);
      const expected = sent[k]!.map((m) => Buffer.concat([Buffer.from('re:'), m]).toString('hex')).sort();
      assert.deepEqual(replies.map((r) => r.toString('hex')).sort(), expected);
    }
  });

  it('answers all of a 500-datagram burst, well over one 64-datagram batch', async () => {
    const server = await listen({ host: HOST, port: 0 }, (m) => m, {});
    const c = await client();
    // 100 in flight at a time: more than one batch per wakeup, well within the socket's receive buffer.
    for (let sent = 0; sent < 500; ) {
      const window = Math.min(100, 500 - sent);
      for (let i = 0; i < window; i++) c.send(server.address.port, `q${sent + i}`);
      sent += window;
      await c.waitFor(sent);
    }
    assert.deepEqual(new Set(texts(c.replies)), new Set(Array.from({ length: 500 }, (_, i) => `q${i}`)));
    assert.deepEqual(server.stats(), { received: 500, sent: 500, sendErrors: 0, truncated: 0 });
  });

  it('sends nothing when onPacket returns undefined, and drops a reply over 64 KiB', async () => {
    const server = await listen(
      { host: HOST, port: 0 },
      (m) => {
        const text = m.toString();
        if (text === 'drop') return undefined;
        if (text === 'huge') return Buffer.alloc(70_000);
        return m;
      },
      {},
    );
    const c = await client();
    // Replies to one client leave in order: had 'drop' or 'huge' been answered, it would come before 'ping'.
    for (const text of ['drop', 'huge', 'ping']) c.send(server.address.port, text);
    assert.deepEqual(texts(await c.waitFor(1)), ['ping']);
    assert.deepEqual(server.stats(), { received: 3, sent: 1, sendErrors: 1, truncated: 0 });
  });

  it('writeInto writes each reply in its send slot of one shared buffer, nothing copied', async () => {
    const calls: { out: Buffer; offset: number }[] = [];
    const server = await listen(
      { host: HOST, port: 0 },
      {
        writeInto: (message, out, offset) => {
          calls.push({ out, offset });
          const prefix = out.write('in-place:', offset, 'latin1');
          out.set(message, offset + prefix);
          return prefix + message.length;
        },
      },
      {},
    );
    const c = await client();
    for (const text of ['a', 'bb', 'ccc']) c.send(server.address.port, text);
    assert.deepEqual(texts(await c.waitFor(3)).sort(), ['in-place:a', 'in-place:bb', 'in-place:ccc']);
    // One output buffer of 64 slots of 64 KiB for the socket's life; each reply at its slot's start.
    assert.equal(calls.length, 3);
    assert.equal(new Set(calls.map((call) => call.out)).size, 1);
    assert.equal(calls[0]!.out.length, 64 * 65536);
    for (const { offset } of calls) assert.equal(offset % 65536, 0);
    assert.deepEqual(server.stats(), { received: 3, sent: 3, sendErrors: 0, truncated: 0 });
  });

  it("writeInto gets each datagram's source address, as bytes made when asked (issue 10: cookies)", async () => {
    const server = await listen(
      { host: HOST, port: 0 },
      {
        writeInto: (_message, out, offset, peer) => {
          const bytes = Buffer.from(peer.bytes());
          out.set(bytes, offset);
          return bytes.length;
        },
      },
      {},
    );
    const c = await client();
    c.send(server.address.port, 'x');
    assert.deepEqual(await c.waitFor(1), [Buffer.from([127, 0, 0, 1])]);
  });

  it('writeInto: -1 and 0 send nothing, over 64 KiB is a send error, a throw goes to onError', async () => {
    const errors: unknown[] = [];
    const server = await listen(
      { host: HOST, port: 0 },
      {
        writeInto: (message, out, offset) => {
          const text = message.toString();
          if (text === 'drop') return -1;
          if (text === 'empty') return 0;
          if (text === 'huge') return 65537;
          if (text === 'boom') throw new Error('bug in the writer');
          return out.write(`ok:${text}`, offset, 'latin1');
        },
      },
      { onError: (error) => errors.push(error) },
    );
    const c = await client();
    // Replies to one client leave in order: had any of the first four been sent, it would come first.
    for (const text of ['drop', 'empty', 'huge', 'boom', 'ping']) c.send(server.address.port, text);
    assert.deepEqual(texts(await c.waitFor(1)), ['ok:ping']);
    assert.deepEqual(server.stats(), { received: 5, sent: 1, sendErrors: 1, truncated: 0 });
    assert.equal(errors.length, 1);
    assert.match((errors[0] as Error).message, /bug in the writer/);
  });

  it('hands a throwing onPacket to onError and keeps serving, even when onError throws too', async () => {
    const errors: unknown[] = [];
    const server = await listen(
      { host: HOST, port: 0 },
      (m) => {
        if (m.toString() === 'boom') throw new Error('bug in the handler');
        return m;
      },
      {
        onError: (error) => {
          errors.push(error);
          throw new Error('and a bug in onError');
        },
      },
    );
    const c = await client();
    c.send(server.address.port, 'boom');
    c.send(server.address.port, 'boom');
    c.send(server.address.port, 'ping');
    assert.deepEqual(texts(await c.waitFor(1)), ['ping']);
    assert.equal(errors.length, 2);
    assert.match((errors[0] as Error).message, /bug in the handler/);
    c.send(server.address.port, 'again');
    assert.deepEqual(texts(await c.waitFor(2)), ['ping', 'again']);
  });

  it('drops a datagram over 4096 bytes, counts it as truncated, and still takes exactly 4096', async () => {
    const seen: number[] = [];
    const server = await listen(
      { host: HOST, port: 0 },
      (m) => {
        seen.push(m.length);
        return Buffer.from(`len=${m.length}`);
      },
      {},
    );
    const c = await client();
    c.send(server.address.port, Buffer.alloc(5000, 0xaa));
    c.send(server.address.port, Buffer.alloc(4096, 0xbb));
    c.send(server.address.port, 'ping');
    assert.deepEqual(texts(await c.waitFor(2)), ['len=4096', 'len=4']);
    assert.deepEqual(seen, [4096, 4]);
    assert.deepEqual(server.stats(), { received: 3, sent: 2, sendErrors: 0, truncated: 1 });
  });

  it('counts received, sent, send errors and truncated datagrams', async () => {
    const server = await listen({ host: HOST, port: 0 }, (m) => (m.length === 1 ? undefined : m), {});
    assert.deepEqual(server.stats(), { received: 0, sent: 0, sendErrors: 0, truncated: 0 });
    const c = await client();
    for (const data of ['a', Buffer.alloc(8192), 'bb', 'cc', 'd', 'ee']) c.send(server.address.port, data);
    assert.deepEqual(texts(await c.waitFor(3)), ['bb', 'cc', 'ee']);
    assert.deepEqual(server.stats(), { received: 6, sent: 3, sendErrors: 0, truncated: 1 });
  });

  it('still sends the replies of the batch whose handler called close()', async () => {
    let closed: Promise<void> | undefined;
    const socket: BatchUdpSocket = await listenUdpBatch(
      { host: HOST, port: 0 },
      (m) => {
        closed ??= socket.close();
        return m;
      },
      {},
    );
    const c = await client();
    c.send(socket.address.port, 'bye');
    assert.deepEqual(texts(await c.waitFor(1)), ['bye']);
    await closed;
  });

  it('close() frees the port, is safe to call twice, and the port binds again', async () => {
    const first = await listenUdpBatch({ host: HOST, port: 0 }, (m) => m, {});
    const { port } = first.address;
    const closing = first.close();
    assert.equal(first.close(), closing);
    await closing;
    const second = await listen({ host: HOST, port }, (m) => m, {});
    assert.equal(second.address.port, port);
    const c = await client();
    c.send(port, 'ping');
    assert.deepEqual(texts(await c.waitFor(1)), ['ping']);
  });

  it('lets the process exit once closed (no leaked handle)', async () => {
    const script = `
      import { createSocket } from 'node:dgram';
      import { once } from 'node:events';
      const { listenUdpBatch } = await import(${JSON.stringify(MODULE_URL)});
      const server = await listenUdpBatch({ host: '127.0.0.1', port: 0 }, (m) => m, {});
      const client = createSocket('udp4');
      client.send('ping', server.address.port, '127.0.0.1');
      const [reply] = await once(client, 'message');
      client.close();
      await server.close();
      console.log(reply.toString());
    `;
    // A leaked handle keeps the child alive until the timeout kills it, and run() rejects.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    assert.equal(stdout.trim(), 'ping');
  });

  it('a worker thread terminated with the socket open closes it cleanly (env cleanup hook)', async () => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.url)
         .then((m) => m.listenUdpBatch({ host: '127.0.0.1', port: 0 }, (x) => x, {}))
         .then((s) => parentPort.postMessage(s.address.port));`,
      { eval: true, workerData: { url: MODULE_URL } },
    );
    const [port] = (await once(worker, 'message')) as [number];
    const c = await client();
    c.send(port, 'from-worker');
    assert.deepEqual(texts(await c.waitFor(1)), ['from-worker']);
    await worker.terminate();
    // The port is free again only if the cleanup hook closed the fd; the process did not abort.
    const again = await listen({ host: HOST, port }, (m) => m, {});
    assert.equal(again.address.port, port);
  });

  it('two sockets with reusePort bind the same port and share the datagrams', async () => {
    const a = await listen({ host: HOST, port: 0 }, (m) => m, { reusePort: true });
    const b = await listen({ host: HOST, port: a.address.port }, (m) => m, { reusePort: true });
    assert.equal(b.address.port, a.address.port);
    const senders = await Promise.all(Array.from({ length: 8 }, () => client()));
    for (const [k, c] of senders.entries()) for (let j = 0; j < 5; j++) c.send(a.address.port, `c${k}:${j}`);
    for (const [k, c] of senders.entries()) {
      assert.deepEqual(
        texts(await c.waitFor(5)).sort(),
        ['0', '1', '2', '3', '4'].map((j) => `c${k}:${j}`),
      );
    }
    assert.equal(a.stats().received + b.stats().received, 40);
  });

  it('rejects a taken port with EADDRINUSE, like node:dgram', async () => {
    const taken = await listen({ host: HOST, port: 0 }, (m) => m, {});
    const { port } = taken.address;
    await assert.rejects(
      listenUdpBatch({ host: HOST, port }, (m) => m, {}),
      (error: NodeJS.ErrnoException) => {
        assert.equal(error.code, 'EADDRINUSE');
        assert.equal(error.syscall, 'bind');
        assert.equal(error.message, `bind EADDRINUSE ${HOST}:${port}`);
        return true;
      },
    );
    // reusePort on the second socket alone does not share a port the first one holds exclusively.
    await assert.rejects(
      listenUdpBatch({ host: HOST, port }, (m) => m, { reusePort: true }),
      { code: 'EADDRINUSE' },
    );
  });

  it('rejects an address that is not on this host, and a bad port', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): binding fails locally, nothing is sent.
    await assert.rejects(
      listenUdpBatch({ host: '192.0.2.1', port: 0 }, (m) => m, {}),
      {
        code: 'EADDRNOTAVAIL',
        syscall: 'bind',
      },
    );
    await assert.rejects(
      listenUdpBatch({ host: HOST, port: 70_000 }, (m) => m, {}),
      {
        code: 'ERR_SOCKET_BAD_PORT',
      },
    );
  });
});

describe('finding the addon', () => {
  it('looks only inside the package: src/native from dist/src/server/ and from src/server/', () => {
    // The Dockerfile's layout: /app/dist/src/server/udp-batch.js and the addon copied to /app/src/native/...
    assert.deepEqual(addonCandidates('file:///app/dist/src/server/udp-batch.js'), [
      '/app/src/native/build/Release/udp_batch.node',
      '/app/dist/src/native/build/Release/udp_batch.node',
    ]);
    assert.deepEqual(addonCandidates('file:///repo/src/server/udp-batch.ts'), [
      '/repo/src/native/build/Release/udp_batch.node',
    ]);
    // Anywhere else (a bundle): no guess above the module's folder.
    assert.deepEqual(addonCandidates('file:///opt/bundle/psarnd.js'), []);
  });

  it('takes the counter names and slots the addon exports, and refuses ones this module does not read', () => {
    const good = { received: 0, sent: 1, sendErrors: 2, truncated: 3 };
    assert.deepEqual(statSlots(good, 4), good);
    // Any order of slots, as long as each name has its own.
    const shuffled = { truncated: 0, sendErrors: 1, received: 2, sent: 3 };
    assert.deepEqual(statSlots(shuffled, 4), shuffled);
    assert.match(String(statSlots(undefined, 4)), /no STAT/);
    assert.match(
      String(statSlots({ received: 0, sent: 1, sendErrors: 2 }, 4)),
      /counters are \[received,sendErrors,sent\]/,
    );
    assert.match(String(statSlots({ ...good, dropped: 4 }, 5)), /counters are/);
    assert.match(String(statSlots({ ...good, truncated: 2 }, 4)), /truncated has slot 2/);
    assert.match(String(statSlots({ ...good, truncated: 4 }, 4)), /truncated has slot 4/);
    assert.match(String(statSlots({ ...good, sent: 1.5 }, 4)), /sent has slot 1.5/);
  });

  describe('from a copy of the compiled module, under a package.json that is not psarn', { skip }, () => {
    const root = mkdtempSync(join(tmpdir(), 'psarn-addon-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const compiled = fileURLToPath(MODULE_URL);
    const addon = addonCandidates(MODULE_URL).find((path) => existsSync(path));
    const place = (from: string, to: string): void => {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
    };
    /** loadUdpBatch() of the module at `path`, in a child process (a module loads its addon once). */
    const loadIn = async (path: string): Promise<{ ok: boolean; reason?: string }> => {
      const script = `const m = await import(${JSON.stringify(new URL(`file://${path}`).href)});
        console.log(JSON.stringify(m.loadUdpBatch()));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
      return JSON.parse(stdout) as { ok: boolean; reason?: string };
    };
    // "type": "module" so the copied .js runs as ESM; the name is not psarn, and no parent has a psarn package.json.
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'not-psarn', type: 'module' }));

    it('says where it looked when the addon is not built', async () => {
      place(compiled, join(root, 'dist/src/server/udp-batch.js'));
      const result = await loadIn(join(root, 'dist/src/server/udp-batch.js'));
      assert.equal(result.ok, false);
      assert.match(result.reason!, /not built \(run npm run build:native\)/);
      assert.ok(result.reason!.includes(join(root, 'src/native/build/Release/udp_batch.node')), result.reason);
    });

    it('loads it from src/native beside dist/ (the Dockerfile layout) and beside src/server/', async () => {
      assert.ok(addon, 'the addon is built');
      place(addon, join(root, 'src/native/build/Release/udp_batch.node'));
      assert.deepEqual(await loadIn(join(root, 'dist/src/server/udp-batch.js')), { ok: true });
      place(compiled, join(root, 'src/server/udp-batch.js'));
      assert.deepEqual(await loadIn(join(root, 'src/server/udp-batch.js')), { ok: true });
    });
  });
});
