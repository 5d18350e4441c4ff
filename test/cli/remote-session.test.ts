/**
 * The remote CLI's connection (src/cli/remote/session.ts) against fake TCP servers written here:
 * replies are matched by id whatever their order (pipelined reads), a reply to a signed request
 * must be signed by the key over the request's MAC (RFC 8945 §5.3) or it is an error and never
 * data, a transfer's messages are verified as one chain (§5.3.1) and must end signed, and an
 * unsigned BADSIG refusal (§5.3.2) is reported by its TSIG error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.js';
import { RemoteSession } from '../../src/cli/remote/session.js';
import type { RemoteTarget } from '../../src/cli/remote/target.js';
import { Flag, Hdr } from '../../src/wire/cursor.js';
import { decodeMessage } from '../../src/wire/message.js';
import { writeRecord } from '../../src/wire/rdata.js';
import { FrameDecoder, frame } from '../../src/wire/tcp.js';
import {
  findTsig,
  makeTsigKey,
  readTsig,
  requestMacOf,
  signMessageMac,
  TsigError,
  TsigStreamSigner,
  unsignedErrorTsig,
} from '../../src/wire/tsig.js';
import { type DnsRecord, Rcode, Type } from '../../src/wire/types.js';
import { Writer } from '../../src/wire/writer.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const key = makeTsigKey('remote-key', 'hmac-sha256', randomBytes(32).toString('base64'));
const otherKey = makeTsigKey('remote-key', 'hmac-sha256', randomBytes(32).toString('base64'));
const soa: DnsRecord = {
  name: Z,
  ttl: 3600,
  type: 'SOA',
  mname: 'ns.psarn.internal.',
  rname: 'hostmaster.psarn.internal.',
  serial: 7,
  refresh: 3600,
  retry: 600,
  expire: 86400,
  minimum: 30,
};
const uri = (i: number): DnsRecord => ({
  name: `r${i}.svc.${Z}`,
  ttl: 300,
  type: 'URI',
  priority: 10,
  weight: 1,
  target: `arn:aws:sqs:us-east-1:123456789012:q${i}`,
});

/** A reply to `request`: its id and question, QR and AA, these records in the answer section. */
function reply(request: Buffer, records: readonly DnsRecord[], rcode: number = Rcode.NOERROR): Buffer {
  const q = decodeMessage(request).question[0]!;
  const w = new Writer(512);
  w.room(Hdr.SIZE);
  w.buf.fill(0, 0, Hdr.SIZE);
  w.len = Hdr.SIZE;
  w.buf.writeUInt16BE(request.readUInt16BE(Hdr.ID), Hdr.ID);
  w.buf.writeUInt16BE(Flag.QR | Flag.AA | rcode, Hdr.FLAGS);
  w.buf.writeUInt16BE(1, Hdr.QDCOUNT);
  w.buf.writeUInt16BE(records.length, Hdr.ANCOUNT);
  w.nameText(q.name);
  w.u16(q.qtype);
  w.u16(q.qclass);
  for (const r of records) writeRecord(w, r);
  return Buffer.from(w.buf.subarray(0, w.len));
}

/** The reply signed with `k` over the request's MAC. */
const signed = (request: Buffer, message: Buffer, k = key) =>
  signMessageMac(message, k, { requestMac: requestMacOf(request) }).message;

type Handler = (request: Buffer, socket: Socket) => Buffer[] | Promise<Buffer[]>;

const servers: Server[] = [];
const sockets = new Set<Socket>();
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A TCP DNS server on 127.0.0.1 that answers each framed request with `handler`'s messages. */
async function fake(handler: Handler): Promise<RemoteTarget> {
  const server = createServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on('data', async (chunk: Buffer) => {
      for (const m of decoder.push(chunk)) {
        for (const out of await handler(Buffer.from(m), socket)) socket.write(frame(out));
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server: { host: '127.0.0.1', port }, label: `127.0.0.1:${port}`, key };
}

async function rejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CliError, String(err));
    assert.equal(err.exitCode, 1);
    assert.match(err.message, message);
    return true;
  });
}

describe('RemoteSession', () => {
  it('matches pipelined replies by id, whatever order they come in; every request signed', async () => {
    const held: Buffer[] = [];
    const target = await fake((request) => {
      assert.ok(findTsig(request) > 0, 'the request is signed');
      assert.equal(readTsig(request, findTsig(request)).record.keyName, 'remote-key.');
      held.push(request);
      if (held.length < 3) return [];
      // All three at once, last first.
      return held.reverse().map((r) => signed(r, reply(r, [{ ...soa, serial: r.readUInt16BE(0) }])));
    });
    const session = await RemoteSession.open(target, { timeoutMs: 2000 });
    try {
      const replies = await Promise.all([0, 1, 2].map(() => session.query(Z, Type.SOA)));
      for (const r of replies) {
        const answer = r.message.answer[0]!;
        assert.equal(answer.type, 'SOA');
        assert.equal((answer as { serial: number }).serial, r.message.id, 'each reply to its own query');
      }
    } finally {
      session.close();
    }
  });

  it('a reply not signed by the key is an error, never data', async () => {
    // Unsigned; signed with the key's name but another secret.
    for (const answer of [(r: Buffer) => reply(r, [soa]), (r: Buffer) => signed(r, reply(r, [soa]), otherKey)]) {
      const target = await fake((r) => [answer(r)]);
      const session = await RemoteSession.open(target, { timeoutMs: 2000 });
      try {
        await rejects(
          session.query(Z, Type.SOA),
          new RegExp(`^server ${target.label} sent a reply that is not signed with key 'remote-key' \\(\\w+\\)`),
        );
      } finally {
        session.close();
      }
    }
  });

  it('an unsigned BADSIG refusal (RFC 8945 §5.3.2) is reported by its TSIG error', async () => {
    const target = await fake((r) => [unsignedErrorTsig(reply(r, [], Rcode.NOTAUTH), readTsigOf(r), TsigError.BADSIG)]);
    const session = await RemoteSession.open(target, { timeoutMs: 2000 });
    try {
      const r = await session.query(Z, Type.SOA);
      assert.equal(r.message.rcode, Rcode.NOTAUTH);
      assert.match(
        session.refused(r, 'a query').message,
        /refused a query: NOTAUTH, TSIG BADSIG \(the secret is wrong\)$/,
      );
    } finally {
      session.close();
    }
  });

  it('a transfer: messages verified as one chain (RFC 8945 §5.3.1), the records between the two SOAs', async () => {
    const target = await fake((r) => {
      const signer = new TsigStreamSigner(key, requestMacOf(r)!);
      return [
        [soa, uri(1)],
        [uri(2), uri(3)],
        [uri(4), soa],
      ].map((records) => signer.sign(reply(r, records)));
    });
    const session = await RemoteSession.open(target, { timeoutMs: 2000 });
    try {
      const got: string[] = [];
      for await (const batch of session.transfer(Z)) for (const rr of batch) got.push(`${rr.name} ${rr.type}`);
      assert.deepEqual(got, [`${Z} SOA`, ...[1, 2, 3, 4].map((i) => `r${i}.svc.${Z} URI`)]);
    } finally {
      session.close();
    }
  });

  it('a transfer whose last message is unsigned, or whose chain breaks, is an error', async () => {
    for (const [how, message] of [
      ['last unsigned', /did not sign the last message of the transfer/],
      ['middle signed over the wrong MAC', /sent a reply that is not signed with key 'remote-key' \(badsig\)/],
    ] as const) {
      const target = await fake((r) => {
        const signer = new TsigStreamSigner(key, requestMacOf(r)!);
        const first = signer.sign(reply(r, [soa, uri(1)]));
        if (how === 'last unsigned') return [first, reply(r, [uri(2), soa])];
        const wrong = new TsigStreamSigner(key, randomBytes(32));
        wrong.sign(reply(r, [soa]));
        return [first, wrong.sign(reply(r, [uri(2), soa]))];
      });
      const session = await RemoteSession.open(target, { timeoutMs: 2000 });
      try {
        await rejects(
          (async () => {
            for await (const _ of session.transfer(Z)) {
              // read on
            }
          })(),
          message,
        );
      } finally {
        session.close();
      }
    }
  });

  it('a transfer refused: one error naming the server, the zone and the rcode', async () => {
    const target = await fake((r) => [signed(r, reply(r, [], Rcode.NOTAUTH))]);
    const session = await RemoteSession.open(target, { timeoutMs: 2000 });
    try {
      await rejects(
        (async () => {
          for await (const _ of session.transfer(Z)) {
            // read on
          }
        })(),
        new RegExp(`^server ${target.label} refused a transfer of ${Z.replaceAll('.', '\\.')}: NOTAUTH`),
      );
    } finally {
      session.close();
    }
  });

  it('a connection closed before the reply: an error naming the server', async () => {
    const target = await fake((_r, socket) => {
      socket.destroy();
      return [];
    });
    const session = await RemoteSession.open(target, { timeoutMs: 2000 });
    try {
      await rejects(
        session.query(Z, Type.SOA),
        new RegExp(`^server ${target.label} closed the connection before it answered`),
      );
    } finally {
      session.close();
    }
  });
});

function readTsigOf(request: Buffer) {
  return readTsig(request, findTsig(request));
}
