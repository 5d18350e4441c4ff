/**
 * DNS UPDATE throughput (issue 10): route changes a second through signed UPDATE messages, as
 * nsupdate sends them (one route per message: delete its URI RRset, add two URIs with new
 * weights; hmac-sha256), against the real psarnd on a file database. Messages are built and
 * signed before the clock starts; every reply must be NOERROR, and the zone's serial must have
 * moved by the number of messages. Prints one table.
 *
 *   node dist/bench/update.js [MESSAGES=3000] [ROUTES=100] [WINDOW=16]
 *
 * Rows: UDP one message at a time (nsupdate's way), UDP with WINDOW in flight, TCP one
 * connection with WINDOW in flight (pipelined, RFC 7766 §6.2.1.1).
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { decodeMessage, encodeQuery } from '../src/wire/message.js';
import { FrameDecoder, frame } from '../src/wire/tcp.js';
import { makeTsigKey, signMessage } from '../src/wire/tsig.js';
import { Rcode, Type } from '../src/wire/types.js';
import { addRecord, deleteRRset, encodeUpdate } from '../src/wire/update.js';
import { type HostPort, startPsarnd } from './proc.js';
import { fmt, formatTable, machine, type Row, section } from './table.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const SECRET = randomBytes(32).toString('base64');
const key = makeTsigKey('bench-update', 'hmac-sha256', SECRET);
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:';

/** Message n: route n % routes gets weights that differ from its last ones. */
function messages(count: number, first: number, routes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const n = first + i;
    const route = n % routes;
    const name = `r${route}.bench.${ZONE}`;
    const w = 1 + (Math.floor(n / routes) % 99);
    const bytes = encodeUpdate({
      id: n & 0xffff,
      zone: ZONE,
      edns: false,
      updates: [
        deleteRRset(name, Type.URI),
        addRecord({ name, ttl: 60, type: 'URI', priority: 10, weight: w, target: `${FN}r${route}-a` }),
        addRecord({ name, ttl: 60, type: 'URI', priority: 10, weight: 100 - w, target: `${FN}r${route}-b` }),
      ],
    });
    out.push(signMessage(bytes, key));
  }
  return out;
}

/** Sends every message over UDP with at most `window` in flight; resolves with ms and the rcodes seen. */
function overUdp(server: HostPort, batch: Buffer[], window: number): Promise<{ ms: number; bad: number }> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    let next = 0;
    let done = 0;
    let bad = 0;
    const started = performance.now();
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`UDP: ${done} of ${batch.length} replies before the timeout`));
    }, 120_000);
    const send = () => {
      const message = batch[next++]!;
      socket.send(message, server.port, server.host);
    };
    socket.on('message', (reply) => {
      if ((reply[3]! & 0xf) !== Rcode.NOERROR) bad++;
      done++;
      if (done === batch.length) {
        clearTimeout(timer);
        socket.close();
        resolve({ ms: performance.now() - started, bad });
      } else if (next < batch.length) send();
    });
    socket.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < Math.min(window, batch.length); i++) send();
    });
  });
}

/** The same over one TCP connection, pipelined. */
function overTcp(server: HostPort, batch: Buffer[], window: number): Promise<{ ms: number; bad: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    const decoder = new FrameDecoder();
    let next = 0;
    let done = 0;
    let bad = 0;
    let started = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP: ${done} of ${batch.length} replies before the timeout`));
    }, 120_000);
    socket.on('error', reject);
    socket.on('connect', () => {
      started = performance.now();
      const first = batch.slice(0, Math.min(window, batch.length));
      next = first.length;
      socket.write(Buffer.concat(first.map(frame)));
    });
    socket.on('data', (chunk) => {
      for (const reply of decoder.push(chunk)) {
        if ((reply[3]! & 0xf) !== Rcode.NOERROR) bad++;
        done++;
        if (next < batch.length) socket.write(frame(batch[next++]!));
      }
      if (done === batch.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ms: performance.now() - started, bad });
      }
    });
  });
}

async function serial(server: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no SOA answer'));
    }, 2000);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve((decodeMessage(reply).answer[0] as { serial: number }).serial);
    });
    socket.send(encodeQuery({ id: 1, name: ZONE, qtype: Type.SOA }), server.port, server.host);
  });
}

/**
 * The UPDATE rows: a psarnd of its own on a file database in a temp dir, stopped again.
 * @example rows.push(...(await measureUpdates({ messages: 3000 })));
 */
export async function measureUpdates(
  options: { messages?: number; routes?: number; window?: number } = {},
): Promise<Row[]> {
  const count = options.messages ?? 3000;
  const routes = options.routes ?? 100;
  const window = options.window ?? 16;
  const dir = mkdtempSync(join(tmpdir(), 'psarn-update-bench-'));
  const env = {
    PSARN_TSIG_KEYS: `bench-update:${SECRET}`,
    PSARN_UPDATE_ALLOW: 'bench-update',
    PSARN_LOG_LEVEL: 'warn',
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let daemon: Awaited<ReturnType<typeof startPsarnd>> | undefined;
  const rows: Row[] = [section(`DNS UPDATE: ${fmt(count)} signed messages per row, one route each, ${routes} routes`)];
  try {
    daemon = await startPsarnd(join(dir, 'psarn.db'));
    const server = daemon.dns;
    // Creates the zone and the routes, so every timed message changes an existing route.
    await overUdp(server, messages(routes, 0, routes), window);
    let sent = routes;
    const cases: [string, (batch: Buffer[]) => Promise<{ ms: number; bad: number }>][] = [
      ['UDP, one at a time (nsupdate)', (b) => overUdp(server, b, 1)],
      [`UDP, ${window} in flight`, (b) => overUdp(server, b, window)],
      [`TCP, one connection, ${window} in flight`, (b) => overTcp(server, b, window)],
    ];
    for (const [label, run] of cases) {
      const batch = messages(count, sent, routes);
      sent += count;
      const before = await serial(server);
      const { ms, bad } = await run(batch);
      const moved = (await serial(server)) - before;
      rows.push({
        figure: `UPDATE throughput, ${label}`,
        value: fmt(count / (ms / 1000)),
        unit: 'changes/s',
        notes: `${fmt(ms / count, 2)} ms each; ${bad} not NOERROR; serial +${moved}${moved === count ? '' : ' (MISMATCH)'}`,
      });
    }
  } finally {
    await daemon?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await measureUpdates({
    messages: Number(process.argv[2] ?? 3000),
    routes: Number(process.argv[3] ?? 100),
    window: Number(process.argv[4] ?? 16),
  });
  process.stdout.write(`${machine()}\n${formatTable(rows)}\n`);
}
