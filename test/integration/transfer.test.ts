/**
 * Zone transfers out of the real daemon (startDaemon, in this process so that the test can put
 * in an allow-all ACL without keys; signed transfers: transfer-tsig.test.ts): AXFR over TCP with our decoder, dig and kdig,
 * named-checkzone on dig's output, condensed IXFR over TCP and UDP, and the refusals.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { type Config, defaultConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { Store } from '../../src/store/index.js';
import type { RouteSpec } from '../../src/store/types.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';
import { makeTsigKey, signMessageMac, TsigStreamVerifier } from '../../src/wire/tsig.js';
import type { DnsRecord } from '../../src/wire/types.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { exportZone } from '../../src/zonefile/export.js';
import { formatRecord } from '../../src/zonefile/presentation.js';
import { encodeIxfrQuery } from '../../src/zonefile/transfer.js';
import { projectRoot } from '../helpers/daemon.js';
import { tcpRaw, udpRaw } from '../helpers/dns.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';
import { tempDir, ZONE2 } from '../store/helpers.js';
import { makeRoutes } from '../zonefile/fixtures.js';

const run = promisify(execFile);
const tmp = tempDir();
const ROUTES = 3000;
const BIG = 40_000;

function config(db: string): Config {
  return {
    ...defaultConfig(projectRoot),
    db,
    listen: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    demoRoutes: null,
    routeIndex: false,
    udpIo: 'dgram',
  };
}

function logger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const target = (name: string) => ({
  target: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  weight: 1,
  priority: 10,
});
const spec = (...names: string[]): RouteSpec => ({ policy: 'weighted', ttl: 300, targets: names.map(target) });

let open: Daemon | undefined;
let closed: Daemon | undefined;
/** transfer.allow lists KEY: the real ACL, with TSIG. */
let signed: Daemon | undefined;
const KEY = makeTsigKey('transfer-key', 'hmac-sha256', randomBytes(32).toString('base64'));
let writer: Store | undefined;
let logs: Record<string, unknown>[] = [];
const file = tmp.file();

before(async () => {
  const store = Store.open(file);
  const routes = makeRoutes(ROUTES).map((r) => ({
    path: r.path,
    spec: (r.alias !== undefined
      ? { ttl: r.ttl, alias: r.alias }
      : { policy: r.policy ?? 'weighted', ttl: r.ttl, targets: r.targets }) as RouteSpec,
  }));
  store.importZones([{ name: ZONE, routes }], PARAMS);
  // A zone bigger than the sockets' buffers (several MB), so that a transfer must wait for its reader.
  const big = makeRoutes(BIG, ZONE2).filter((r) => r.alias === undefined);
  store.importZones(
    [
      {
        name: ZONE2,
        routes: big.map((r) => ({
          path: r.path,
          spec: { policy: 'weighted', ttl: 300, targets: r.targets } as RouteSpec,
        })),
      },
    ],
    PARAMS,
  );
  store.setRoute(ZONE, 'meta/route', { ...spec('m'), metadata: { team: 'orders' } }, PARAMS);
  store.close();
  const { log, lines } = logger();
  logs = lines;
  // TEST ONLY: an ACL that allows every transfer, injected in-process; no config key does this.
  open = await startDaemon(config(file), {
    log,
    http: false,
    allowTransfer: () => ({ allowed: true, key: 'test-allow-all' }),
  });
  closed = await startDaemon(config(file), { log: pino({ level: 'silent' }), http: false });
  signed = await startDaemon(
    { ...config(file), tsig: { keys: [KEY] }, transfer: { allow: ['transfer-key'] } },
    { log: pino({ level: 'silent' }), http: false },
  );
  writer = Store.open(file, { create: false });
});

after(async () => {
  writer?.close();
  await open?.close();
  await closed?.close();
  await signed?.close();
  tmp.cleanup();
});

function exportLines(): string[] {
  const store = Store.open(file, { readonly: true });
  try {
    const zone = store.zone(ZONE)!;
    const text = [...exportZone(zone, store.listRoutes(ZONE), { epochTtl: 5 })].join('');
    return text.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !l.startsWith('$'));
  } finally {
    store.close();
  }
}

/** Every message of a transfer over one TCP connection, until the closing SOA. */
function transfer(d: Daemon, request: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const replies: Buffer[] = [];
    const decoder = new FrameDecoder();
    let soas = 0;
    const socket = connect(d.dns.port, d.dns.host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`transfer incomplete after 60 s: ${replies.length} messages`));
    }, 60_000);
    socket.on('connect', () => socket.write(frame(request)));
    socket.on('data', (chunk) => {
      for (const m of decoder.push(chunk)) {
        replies.push(m);
        const decoded = decodeMessage(m);
        soas += decoded.answer.filter((rr) => rr.type === 'SOA').length;
        if (decoded.rcode !== 0 || soas >= 2 || (replies.length === 1 && decoded.answer.length === 1)) {
          clearTimeout(timer);
          socket.destroy();
          resolve(replies);
          return;
        }
      }
    });
    socket.on('error', reject);
  });
}

const lines = (messages: Buffer[]) =>
  messages.flatMap((m) => decodeMessage(m).answer.map((rr) => formatRecord(rr as DnsRecord)));

describe('zone transfers out of psarnd', () => {
  it('refuses AXFR and IXFR by default (transfer.allow lists no key)', async () => {
    const axfr = await tcpRaw(closed!.dns, [encodeQuery({ id: 1, name: ZONE, qtype: Type.AXFR })]);
    assert.equal(decodeMessage(axfr[0]!).rcode, Rcode.REFUSED);
    const ixfr = await udpRaw(closed!.dns, encodeIxfrQuery(ZONE, 1, 2));
    assert.equal(decodeMessage(ixfr!).rcode, Rcode.REFUSED);
  });

  it('signs every message of a many-message AXFR in one chain (RFC 8945 §5.3.1); the same records', async () => {
    const { message, mac } = signMessageMac(encodeQuery({ id: 12, name: ZONE2, qtype: Type.AXFR }), KEY);
    const messages = await transfer(signed!, message);
    assert.ok(messages.length > 5, `${messages.length} messages`);
    const verifier = new TsigStreamVerifier(KEY, mac);
    for (const [i, m] of messages.entries()) {
      assert.ok(m.length <= 65535);
      assert.equal(verifier.verify(m).status, 'ok', `message ${i}`);
    }
    assert.ok(verifier.end(), 'the last message signed');
    const unsigned = await transfer(open!, encodeQuery({ id: 13, name: ZONE2, qtype: Type.AXFR }));
    assert.deepEqual(lines(messages), lines(unsigned));
  });

  it('kdig -y verifies every message of a many-message AXFR', async (t) => {
    if (!skipUnlessTool(t, 'kdig')) return;
    const { stdout } = await run(
      toolPath('kdig')!,
      [
        `@${signed!.dns.host}`,
        '-p',
        String(signed!.dns.port),
        '-y',
        `hmac-sha256:transfer-key:${KEY.secret.toString('base64')}`,
        '-t',
        'AXFR',
        ZONE2,
      ],
      { maxBuffer: 256 << 20 },
    );
    assert.doesNotMatch(stdout, /^;; (WARNING|ERROR)/m);
    assert.match(stdout, /;; Received \d+ B \(([6-9]|\d\d+) messages, \d+ records\)/);
  });

  it('answers AXFR over UDP with NOTIMP (RFC 5936 §4.2: TCP only)', async () => {
    const reply = await udpRaw(open!.dns, encodeQuery({ id: 3, name: ZONE, qtype: Type.AXFR }));
    assert.equal(decodeMessage(reply!).rcode, Rcode.NOTIMP);
  });

  it('answers NOTAUTH for a name that is no zone of ours', async () => {
    const reply = await tcpRaw(open!.dns, [encodeQuery({ id: 4, name: `orders.${ZONE}`, qtype: Type.AXFR })]);
    assert.equal(decodeMessage(reply[0]!).rcode, Rcode.NOTAUTH);
  });

  it('streams the whole zone over TCP: the records of zone export, SOA first and last', async () => {
    const messages = await transfer(open!, encodeQuery({ id: 5, name: ZONE, qtype: Type.AXFR }));
    assert.ok(messages.length > 1);
    const got = lines(messages);
    assert.deepEqual(got.slice(0, -1), exportLines());
    assert.equal(got.at(-1), got[0]);
    const logged = logs.find((l) => l.msg === 'zone transfer' && l.qtype === 'AXFR');
    assert.equal(logged?.key, 'test-allow-all');
  });

  it('dig AXFR gets the zone, and named-checkzone accepts what dig wrote', async (t) => {
    if (!skipUnlessTool(t, 'dig') || !skipUnlessTool(t, 'named-checkzone')) return;
    const { stdout } = await run(
      toolPath('dig')!,
      [`@${open!.dns.host}`, '-p', String(open!.dns.port), ZONE, 'AXFR', '+nocmd', '+nostats'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const out = join(tmp.dir, 'dig-axfr.zone');
    writeFileSync(out, stdout);
    const records = stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';'));
    // Every record, and the SOA twice (dig prints the closing one).
    assert.equal(records.length, exportLines().length + 1);
    const check = await run(toolPath('named-checkzone')!, [ZONE, out]);
    assert.match(check.stdout, /OK/);
  });

  it('kdig -t AXFR gets the zone', async (t) => {
    if (!skipUnlessTool(t, 'kdig')) return;
    const { stdout } = await run(
      toolPath('kdig')!,
      [`@${open!.dns.host}`, '-p', String(open!.dns.port), '-t', 'AXFR', ZONE, '+noall', '+answer'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const records = stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';'));
    assert.equal(records.length, exportLines().length + 1);
  });

  it('IXFR gives the condensed difference, over TCP (dig IXFR=serial) and over UDP', async (t) => {
    const from = writer!.zone(ZONE)!.serial;
    writer!.setRoute(ZONE, 'ixfr/one', spec('a'), PARAMS);
    writer!.setRoute(ZONE, 'ixfr/one', spec('b'), PARAMS);
    const now = writer!.zone(ZONE)!.serial;
    const uri = (name: string) =>
      `one.ixfr.${ZONE}\t300\tIN\tURI\t10 1 "arn:aws:lambda:us-east-1:123456789012:function:${name}"`;
    const tcp = lines(await transfer(open!, encodeIxfrQuery(ZONE, from, 6)));
    assert.equal(tcp.length, 6);
    assert.match(tcp[1]!, new RegExp(`SOA\\t\\S+ \\S+ ${from} `));
    // A new route: nothing deleted; SOA new, SOA old, SOA new, the route's records, SOA new.
    assert.deepEqual(tcp.slice(2), [
      tcp[0],
      uri('b'),
      `one.ixfr.${ZONE}\t300\tIN\tTXT\t"v=psarn1" "policy=weighted" "epoch=1"`,
      tcp[0],
    ]);
    assert.match(tcp[0]!, new RegExp(`SOA\\t\\S+ \\S+ ${now} `));

    const udp = decodeMessage((await udpRaw(open!.dns, encodeIxfrQuery(ZONE, from, 7)))!);
    assert.deepEqual(
      udp.answer.map((rr) => formatRecord(rr as DnsRecord)),
      tcp.slice(0, 6),
    );

    if (!skipUnlessTool(t, 'dig')) return;
    const { stdout } = await run(
      toolPath('dig')!,
      [`@${open!.dns.host}`, '-p', String(open!.dns.port), ZONE, `IXFR=${from}`, '+tcp', '+nocmd', '+nostats'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const records = stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';'));
    assert.equal(records.length, 6);
    assert.match(stdout, /function:b"/);
  });

  it('over UDP, a difference too big for one message is the current SOA alone (RFC 1995 §2)', async () => {
    const from = writer!.zone(ZONE)!.serial;
    for (let i = 0; i < 40; i++) writer!.setRoute(ZONE, `big/r${i}`, spec(`f${i}`), PARAMS);
    const reply = decodeMessage((await udpRaw(open!.dns, encodeIxfrQuery(ZONE, from, 8)))!);
    assert.equal(reply.rcode, 0);
    assert.equal(reply.answer.length, 1);
    assert.equal((reply.answer[0] as { serial: number }).serial, writer!.zone(ZONE)!.serial);
    // Over TCP the same question gets the whole difference.
    const tcp = lines(await transfer(open!, encodeIxfrQuery(ZONE, from, 9)));
    assert.equal(tcp.length, 4 + 80);
  });

  it('queries pipelined behind a transfer are answered after it, in order', async () => {
    const n = (await transfer(open!, encodeQuery({ id: 12, name: ZONE, qtype: Type.AXFR }))).length;
    const replies = await tcpRaw(
      open!.dns,
      [
        encodeQuery({ id: 13, name: ZONE, qtype: Type.SOA }),
        encodeQuery({ id: 14, name: ZONE, qtype: Type.AXFR }),
        encodeQuery({ id: 15, name: ZONE, qtype: Type.NS }),
      ],
      n + 2,
      60_000,
    );
    assert.deepEqual(
      replies.map((r) => decodeMessage(r).id),
      [13, ...Array(n).fill(14), 15],
    );
  });

  it('a connection closed mid-transfer stops it, and the connection after it is served', async () => {
    const before = logs.length;
    await new Promise<void>((resolve) => {
      const socket = connect(open!.dns.port, open!.dns.host);
      socket.on('connect', () => socket.write(frame(encodeQuery({ id: 10, name: ZONE2, qtype: Type.AXFR }))));
      socket.once('data', () => {
        socket.destroy();
        resolve();
      });
    });
    const full = await transfer(open!, encodeQuery({ id: 11, name: ZONE2, qtype: Type.AXFR }));
    const done = logs.slice(before).filter((l) => l.msg === 'zone transfer');
    assert.equal(done.length, 2);
    assert.ok((done[0]!.messages as number) < full.length, `${done[0]!.messages} of ${full.length} messages sent`);
  });
});
