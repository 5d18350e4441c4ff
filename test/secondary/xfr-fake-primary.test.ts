/**
 * The transfer engine against a scripted primary on 127.0.0.1 (docs/design.md#transfers-in):
 * the reply forms and failures a real primary rarely shows on demand. Several difference
 * sequences with records outside the route model; a deletion of a record we lack, and a
 * difference from another serial, falling back to AXFR; a stream cut short, a closing SOA of
 * another serial, a stall, bytes that do not parse: each a TransferError and nothing applied;
 * a truncated SOA answer asked again over TCP; a catalog of another version.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { TransferError } from '../../src/secondary/errors.js';
import { TransferClient } from '../../src/secondary/transfer-client.js';
import { Store } from '../../src/store/store.js';
import { Flag, Hdr } from '../../src/wire/cursor.js';
import { decodeMessage } from '../../src/wire/message.js';
import { parseQuery } from '../../src/wire/query.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';
import type { DnsRecord, SoaRecord } from '../../src/wire/types.js';
import { packMessages } from '../../src/zonefile/transfer.js';
import { PARAMS } from '../helpers/fixtures.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const NS = 'psarn.internal.';
const A = `a.svc.${Z}`;
const B = `b.svc.${Z}`;
const C = `c.svc.${Z}`;
const soa = (serial: number): SoaRecord => ({ name: Z, ttl: 3600, type: 'SOA', ...PARAMS, serial });
const uri = (name: string, target: string, weight = 1): DnsRecord => ({
  name,
  ttl: 300,
  type: 'URI',
  priority: 10,
  weight,
  target: `arn:aws:sqs:us-east-1:123456789012:${target}`,
});
const txt = (name: string, epoch = 1): DnsRecord => ({
  name,
  ttl: 300,
  type: 'TXT',
  strings: ['v=psarn1', 'policy=weighted', `epoch=${epoch}`],
});
/** Version 1 of the zone: a (two targets), b (an alias of a). */
const ZONE_V1: DnsRecord[] = [
  soa(10),
  { name: Z, ttl: 3600, type: 'NS', target: 'ns.psarn.internal.' },
  { name: `_epoch.${Z}`, ttl: 5, type: 'TXT', strings: ['epoch=1'] },
  uri(A, 'one', 90),
  uri(A, 'two', 10),
  txt(A),
  { name: B, ttl: 60, type: 'CNAME', target: A },
];

/** What the scripted primary does with one TCP query: reply messages, then close or stall. */
type Script = (query: Buffer) => { messages: Buffer[]; after?: 'close' | 'stall' };

/** The query's reply messages carrying `records`, packed as psarnd packs a transfer. */
function replies(query: Buffer, records: DnsRecord[], maxSize = 65535): Buffer[] {
  const parsed = parseQuery(query);
  assert.equal(parsed.kind, 'query');
  const q = parsed.kind === 'query' ? parsed.query : undefined!;
  const t = { id: q.id, opcode: q.opcode, rd: q.rd, cd: q.cd, questionEnd: q.questionEnd };
  return [...packMessages(query, t, records, { maxSize, udpPayloadSize: 1232 })];
}

describe('transfers in from a scripted primary', () => {
  let server: Server;
  let udp: UdpSocket;
  let script: Script = () => ({ messages: [] });
  let udpScript: (query: Buffer) => Buffer = (q) => q;
  const queries: { qtype: number; serial?: number }[] = [];
  const sockets = new Set<Socket>();
  let store: Store;
  let port = 0;
  let udpPort = 0;
  const client = (options: { idleMs?: number; address?: number } = {}) =>
    new TransferClient({
      store,
      primary: { address: { host: '127.0.0.1', port: options.address ?? port } },
      namespace: NS,
      params: PARAMS,
      idleMs: options.idleMs ?? 5000,
      soaTimeoutMs: 2000,
    });
  const routes = () => [...store.listRoutes(Z)].map((r) => ({ path: r.path, targets: r.targets, alias: r.alias }));

  before(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const query of decoder.push(chunk)) {
          const m = decodeMessage(query);
          const serial = m.authority.find((r) => r.type === 'SOA') as SoaRecord | undefined;
          queries.push({ qtype: m.question[0]!.qtype, ...(serial ? { serial: serial.serial } : {}) });
          const { messages, after: next } = script(Buffer.from(query));
          for (const message of messages) socket.write(frame(message));
          if (next === 'close') socket.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    udp = createSocket('udp4');
    udp.on('message', (msg, rinfo) => udp.send(udpScript(msg), rinfo.port, rinfo.address));
    // The UDP socket on the TCP port, as a DNS server has both.
    await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
    udpPort = port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    udp?.close();
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => {
    store?.close();
  });

  /** A store holding version 1 (serial 10), by AXFR from the script. */
  const v1 = async () => {
    store = Store.open(':memory:');
    script = (q) => ({ messages: replies(q, [...ZONE_V1, soa(10)]) });
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    queries.length = 0;
  };

  it('several difference sequences (Knot), with records outside the model: folded and applied', async () => {
    await v1();
    script = (q) => ({
      messages: replies(q, [
        soa(12),
        // 10 -> 11: a's weights change; a PTR appears (outside the model).
        soa(10),
        uri(A, 'one', 90),
        uri(A, 'two', 10),
        soa(11),
        uri(A, 'one', 50),
        uri(A, 'two', 50),
        { name: `www.${Z}`, ttl: 300, type: 'PTR', target: 'host.example.' },
        // 11 -> 12: c appears, b goes, a non-psarn TXT at c (outside the model).
        soa(11),
        { name: B, ttl: 60, type: 'CNAME', target: A },
        soa(12),
        uri(C, 'three'),
        txt(C),
        { name: C, ttl: 300, type: 'TXT', strings: ['hello'] },
        soa(12),
      ]),
    });
    const outcome = await client().refresh(Z);
    assert.deepEqual(
      { kind: outcome.kind, serial: outcome.serial, sequences: outcome.sequences, skipped: outcome.skipped },
      { kind: 'ixfr', serial: 12, sequences: 2, skipped: 2 },
    );
    assert.deepEqual(queries, [{ qtype: 251, serial: 10 }]);
    assert.deepEqual(routes(), [
      {
        path: 'svc/a',
        alias: undefined,
        targets: [
          { target: 'arn:aws:sqs:us-east-1:123456789012:one', weight: 50, priority: 10 },
          { target: 'arn:aws:sqs:us-east-1:123456789012:two', weight: 50, priority: 10 },
        ],
      },
      {
        path: 'svc/c',
        alias: undefined,
        targets: [{ target: 'arn:aws:sqs:us-east-1:123456789012:three', weight: 1, priority: 10 }],
      },
    ]);
    assert.equal(store.zone(Z)!.serial, 12);
  });

  it('a deletion of a record we lack: AXFR instead, with the reason', async () => {
    await v1();
    script = (q) =>
      decodeMessage(q).question[0]!.qtype === 251
        ? { messages: replies(q, [soa(11), soa(10), uri(A, 'nothere'), soa(11), soa(11)]) }
        : { messages: replies(q, [...ZONE_V1.map((r) => (r.type === 'SOA' ? soa(11) : r)), uri(C, 'x'), soa(11)]) };
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    assert.match(outcome.kind === 'axfr' ? outcome.reason : '', /deletes .*nothere.*which we do not have/);
    assert.deepEqual(
      queries.map((q) => q.qtype),
      [251, 252],
    );
    assert.deepEqual(
      routes().map((r) => r.path),
      ['svc/a', 'svc/b', 'svc/c'],
    );
  });

  it('a difference from a serial other than ours: AXFR instead', async () => {
    await v1();
    script = (q) =>
      decodeMessage(q).question[0]!.qtype === 251
        ? { messages: replies(q, [soa(11), soa(9), soa(11), soa(11)]) }
        : { messages: replies(q, [...ZONE_V1.map((r) => (r.type === 'SOA' ? soa(11) : r)), soa(11)]) };
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    assert.match(outcome.kind === 'axfr' ? outcome.reason : '', /starts at serial 9, ours is 10/);
    assert.equal(store.zone(Z)!.serial, 11);
  });

  it('targets that are not ASCII, among ASCII ones and across many messages, are stored byte for byte', async () => {
    store = Store.open(':memory:');
    const https = (name: string, path: string): DnsRecord => ({
      name,
      ttl: 300,
      type: 'URI',
      priority: 10,
      weight: 1,
      target: `https://example.com/${path}`,
    });
    const many: DnsRecord[] = [];
    // Enough bytes to grow the target buffer (1 MiB at first) several times, in small messages.
    for (let i = 0; i < 3000; i++) many.push(https(`r${i}.svc.${Z}`, `${'x'.repeat(400)}/${i}`));
    const records = [
      ...ZONE_V1,
      https(`e1.svc.${Z}`, 'plain'),
      https(`e2.svc.${Z}`, 'pfad/é/日本'),
      ...many,
      https(`e3.svc.${Z}`, 'ascii-after'),
      soa(10),
    ];
    script = (q) => ({ messages: replies(q, records, 16384) });
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    assert.ok(outcome.kind === 'axfr' && outcome.messages > 50, String(outcome.kind === 'axfr' && outcome.messages));
    const target = (path: string) => store.getRoute(Z, path)!.targets[0]!.target;
    assert.equal(target('svc/e1'), 'https://example.com/plain');
    assert.equal(target('svc/e2'), 'https://example.com/pfad/é/日本');
    assert.equal(target('svc/e3'), 'https://example.com/ascii-after');
    assert.equal(target('svc/r2999'), `https://example.com/${'x'.repeat(400)}/2999`);
    assert.equal(target('svc/a'), 'arn:aws:sqs:us-east-1:123456789012:one');
  });

  it('an IXFR that makes an alias loop (refused by a route write): the zone comes by AXFR, loop and all', async () => {
    await v1();
    const loop = { name: A, ttl: 60, type: 'CNAME' as const, target: B };
    const v2 = [...ZONE_V1.filter((r) => r.name !== A).map((r) => (r.type === 'SOA' ? soa(11) : r)), loop, soa(11)];
    script = (q) =>
      decodeMessage(q).question[0]!.qtype === 251
        ? {
            messages: replies(q, [
              soa(11),
              soa(10),
              uri(A, 'one', 90),
              uri(A, 'two', 10),
              txt(A),
              soa(11),
              loop,
              soa(11),
            ]),
          }
        : { messages: replies(q, v2) };
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    assert.match(outcome.kind === 'axfr' ? outcome.reason : '', /loop/);
    assert.equal(store.getRoute(Z, 'svc/a')!.alias, B);
    assert.equal(store.zone(Z)!.serial, 11);
  });

  it('an IXFR answered with a newer SOA alone: AXFR instead, never "current"', async () => {
    await v1();
    script = (q) =>
      decodeMessage(q).question[0]!.qtype === 251
        ? { messages: replies(q, [soa(11)]) }
        : { messages: replies(q, [...ZONE_V1.map((r) => (r.type === 'SOA' ? soa(11) : r)), uri(C, 'x'), soa(11)]) };
    const outcome = await client().refresh(Z);
    assert.equal(outcome.kind, 'axfr');
    assert.match(outcome.kind === 'axfr' ? outcome.reason : '', /SOA alone \(serial 11, ahead of our 10\)/);
    assert.equal(store.zone(Z)!.serial, 11);
    assert.ok(store.getRoute(Z, 'svc/c'));
  });

  it('an IXFR answered with our own SOA alone: current, nothing written', async () => {
    await v1();
    script = (q) => ({ messages: replies(q, [soa(10)]) });
    const outcome = await client().refresh(Z);
    assert.deepEqual([outcome.kind, outcome.serial], ['current', 10]);
    assert.deepEqual(
      queries.map((q) => q.qtype),
      [251],
    );
  });

  it('an older serial from the primary, by AXFR, is taken exactly (RFC 1995: the primary is the authority)', async () => {
    await v1();
    store.deleteZone(Z);
    script = (q) => ({ messages: replies(q, [...ZONE_V1.map((r) => (r.type === 'SOA' ? soa(3) : r)), soa(3)]) });
    assert.equal((await client().refresh(Z)).serial, 3);
    assert.equal(store.zone(Z)!.serial, 3);
  });

  for (const [what, make, code] of [
    [
      'the connection closes before the closing SOA',
      (q: Buffer) => ({ messages: replies(q, [...ZONE_V1, uri(C, 'x')]), after: 'close' as const }),
      'ERR_XFR_MALFORMED',
    ],
    [
      'the closing SOA has another serial',
      (q: Buffer) => ({ messages: replies(q, [...ZONE_V1.map((r) => (r.type === 'SOA' ? soa(11) : r)), soa(12)]) }),
      'ERR_XFR_MALFORMED',
    ],
    [
      'the primary stalls mid-transfer (idle timeout)',
      (q: Buffer) => ({ messages: replies(q, [soa(11), uri(C, 'x')]), after: 'stall' as const }),
      'ERR_XFR_TIMEOUT',
    ],
    [
      'a message does not parse',
      (q: Buffer) => {
        const [m] = replies(q, [soa(11), uri(C, 'x'), soa(11)]);
        return { messages: [m!.subarray(0, m!.length - 3)] };
      },
      'ERR_XFR_MALFORMED',
    ],
    [
      'a route TXT without URI records (in the model, but no route)',
      (q: Buffer) => ({
        messages: replies(q, [...ZONE_V1.map((r) => (r.type === 'SOA' ? soa(11) : r)), txt(C), soa(11)]),
      }),
      'ERR_XFR_DATA',
    ],
    [
      'the primary answers NOTAUTH',
      (q: Buffer) => {
        const [m] = replies(q, []);
        m!.writeUInt16BE(m!.readUInt16BE(Hdr.FLAGS) | 9, Hdr.FLAGS);
        return { messages: [m!] };
      },
      'ERR_XFR_RCODE',
    ],
  ] as const) {
    it(`${what}: TransferError ${code}, nothing applied`, async () => {
      await v1();
      const before = routes();
      script = make;
      // Asked by IXFR, answered in AXFR form (or not at all): the whole-zone path's failures.
      await assert.rejects(client({ idleMs: 300 }).refresh(Z), (err: Error) => {
        assert.ok(err instanceof TransferError, String(err));
        assert.equal(err.code, code, err.message);
        assert.match(err.message, new RegExp(`${Z.replaceAll('.', '\\.')} from primary 127\\.0\\.0\\.1:${port}`));
        return true;
      });
      assert.equal(store.zone(Z)!.serial, 10);
      assert.deepEqual(routes(), before);
    });
  }

  it('a truncated SOA answer over UDP is asked again over TCP', async () => {
    store = Store.open(':memory:');
    udpScript = (q) => {
      const [m] = replies(q, []);
      m!.writeUInt16BE(m!.readUInt16BE(Hdr.FLAGS) | Flag.TC, Hdr.FLAGS);
      return m!;
    };
    script = (q) => ({ messages: replies(q, [soa(77)]) });
    queries.length = 0;
    const info = await client({ address: udpPort }).soa(Z);
    assert.equal(info.serial, 77);
    assert.deepEqual(queries, [{ qtype: 6 }]);
  });

  it('a catalog of another schema version is refused; version 2 lists its PTR members', async () => {
    store = Store.open(':memory:');
    const cat = `catalog.${NS}`;
    const catSoa = { ...soa(5), name: cat };
    const records = (version: string): DnsRecord[] => [
      catSoa,
      { name: cat, ttl: 0, type: 'NS', target: 'invalid.' },
      { name: `version.${cat}`, ttl: 0, type: 'TXT', strings: [version] },
      { name: `abc.zones.${cat}`, ttl: 0, type: 'PTR', target: Z },
      { name: `def.zones.${cat}`, ttl: 0, type: 'PTR', target: `210987654321.eu-west-1.aws.${NS}` },
      catSoa,
    ];
    script = (q) => ({ messages: replies(q, records('1')) });
    await assert.rejects(client().catalogMembers(cat), { code: 'ERR_XFR_DATA' });
    script = (q) => ({ messages: replies(q, records('2')) });
    assert.deepEqual(await client().catalogMembers(cat), [Z, `210987654321.eu-west-1.aws.${NS}`].sort());
  });
});
