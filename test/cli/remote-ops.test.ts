/**
 * What `psarn --server … rollout|hold|release` sends and how it reads the answers
 * (docs/design.md#remote-operations), against a scripted TCP DNS server: the UPDATE, decoded by
 * dns-packet (an independent decoder), is the route's zone with ONE update RR, TXT class IN TTL
 * 0 at the control name, `v=psarn1` `op=<verb>` and the JSON arguments; usage errors exit 2
 * before anything is sent; an operation's refusal prints the server's words, exit 1; a FORMERR
 * with a reason (the server parses otherwise) exits 2; an access refusal gets the key hint.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { main } from '../../src/cli/main.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const V2 = 'arn:aws:lambda:us-east-1:123456789012:function:v2';

const servers: Server[] = [];
const sockets = new Set<Socket>();
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

type Packet = ReturnType<typeof dnsPacket.decode>;

/**
 * A server that answers every query NOERROR with nothing (no zone data), and every UPDATE with
 * `rcode` and an EDE (RFC 8914) of `ede`; `updates` collects the UPDATEs it got.
 */
async function scripted(rcode: number, ede?: { code: number; text: string }) {
  const updates: Packet[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const m of decoder.push(chunk)) {
        const request = dnsPacket.decode(Buffer.from(m));
        const update = (request as unknown as { opcode: string }).opcode === 'UPDATE';
        if (update) updates.push(request);
        const data = ede === undefined ? undefined : Buffer.concat([Buffer.from([0, ede.code]), Buffer.from(ede.text)]);
        const reply = dnsPacket.encode({
          type: 'response',
          id: request.id,
          flags: (update ? (5 << 11) | (rcode & 0xf) : 0) | dnsPacket.AUTHORITATIVE_ANSWER,
          questions: request.questions,
          additionals:
            update && data !== undefined
              ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 15, data }] } as never]
              : [],
        });
        socket.write(frame(reply));
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { updates, server: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

async function run(server: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const status = await main(
    argv,
    {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { PSARN_SERVER: server },
      cwd: process.cwd(),
    },
    { remote: { timeoutMs: 5000 } },
  );
  return { status, stdout, stderr };
}

describe('psarn --server rollout/hold/release: the request', () => {
  it('rollout start sends one TXT IN TTL 0 at _rollout.<route> with the parsed schedule and gate', async () => {
    const s = await scripted(5, { code: 18, text: `rollout on '${P}' refused: it is an alias of x` });
    const r = await run(
      s.server,
      'rollout',
      'start',
      P,
      '--to',
      V2,
      '--steps',
      '10,50',
      '--every',
      '90s',
      '--abort-if',
      'up == 0',
      '--prometheus',
      'http://prom:9090',
    );
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `psarn: rollout on '${P}' refused: it is an alias of x\n`, 'the server’s words, alone');
    assert.equal(s.updates.length, 1);
    const u = s.updates[0]!;
    assert.deepEqual(
      u.questions!.map((q) => [q.name, q.type, q.class]),
      [[Z.slice(0, -1), 'SOA', 'IN']],
    );
    assert.equal(u.answers!.length, 0, 'no prerequisites');
    assert.equal(u.authorities!.length, 1, 'one update RR');
    const rr = u.authorities![0] as { name: string; type: string; class: string; ttl: number; data: Buffer[] };
    assert.deepEqual(
      [rr.name, rr.type, rr.class, rr.ttl],
      [`_rollout.created.orders.${Z.slice(0, -1)}`, 'TXT', 'IN', 0],
    );
    const [v, op, ...json] = rr.data.map(String);
    assert.deepEqual([v, op], ['v=psarn1', 'op=start']);
    assert.deepEqual(JSON.parse(json.join('')), {
      to: V2,
      steps: [10, 50, 100],
      everyMs: 90_000,
      gate: { query: 'up == 0', prometheus: 'http://prom:9090' },
    });
  });

  it('hold, release --force, pause: their verbs and arguments', async () => {
    const s = await scripted(5, { code: 18, text: 'no' });
    await run(s.server, 'hold', P, '--queue', 'arn:aws:sqs:us-east-1:123456789012:held');
    await run(s.server, 'release', P, '--force');
    await run(s.server, 'rollout', 'pause', P);
    const sent = s.updates.map((u) => {
      const rr = u.authorities![0] as { name: string; data: Buffer[] };
      const [, op, ...json] = rr.data.map(String);
      return [rr.name.split('.')[0], op, JSON.parse(json.join('') || '{}')];
    });
    assert.deepEqual(sent, [
      ['_hold', 'op=hold', { queue: 'arn:aws:sqs:us-east-1:123456789012:held' }],
      ['_hold', 'op=release', { force: true }],
      ['_rollout', 'op=pause', {}],
    ]);
  });

  it('usage errors exit 2 before anything is sent', async () => {
    const s = await scripted(0);
    for (const argv of [
      ['rollout', 'start', P, '--to', V2, '--steps', '50,10'],
      ['rollout', 'start', P, '--to', V2, '--abort-if', 'x'],
      ['hold', P, '--queue', 'arn:aws:sqs:us-east-1:1:q'],
      ['release', P, '--rate', '5'],
    ]) {
      const r = await run(s.server, ...argv);
      assert.equal(r.status, 2, `${argv.join(' ')}: ${r.stderr}`);
    }
    assert.equal(s.updates.length, 0);
  });

  it('FORMERR with a reason exits 2 naming the server; an access refusal keeps the key hint', async () => {
    const bad = await scripted(1, { code: 0, text: '--to: target not allowed by config key targets' });
    const r = await run(bad.server, 'rollout', 'abort', P);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      `psarn: server ${bad.server} refused the arguments: --to: target not allowed by config key targets\n`,
    );
    const unsigned = await scripted(5, { code: 18, text: 'UPDATE needs a TSIG signature by a key of update.allow' });
    const u = await run(unsigned.server, 'rollout', 'abort', P);
    assert.equal(u.status, 1);
    assert.match(
      u.stderr,
      new RegExp(
        `^psarn: server ${unsigned.server} refused the rollout abort of '${P}': REFUSED \\(EDE 18: UPDATE needs a TSIG`,
      ),
    );
  });
});
