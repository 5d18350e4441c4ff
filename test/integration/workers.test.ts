/**
 * psarnd --workers 2 (node:cluster): both transports served, a CLI change picked up by every
 * worker, metrics summed over the workers, and SIGTERM stops the workers and exits 0.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { CORRUPT_ZONE, routePath, writeCorruptDatabase } from '../helpers/corrupt.js';
import { entryArgs, projectRoot, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query, udpRaw } from '../helpers/dns.js';
import { tempDir } from '../store/helpers.js';

const run = promisify(execFile);
const Z = '123456789012.us-east-1.aws.psarn.internal.';
const CREATED = `created.orders.${Z}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('psarnd --workers 2', () => {
  let d: RunningDaemon;
  before(async () => {
    d = await startPsarnd({ args: ['--workers', '2'] });
  });
  after(async () => {
    await d?.stop();
  });

  it('serves UDP and TCP', async () => {
    for (const tcp of [false, true]) {
      const m = await query(d.dns, CREATED, Type.URI, { tcp });
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.equal(m.answer.length, 2);
    }
  });

  it('every worker serves the one port the primary reports (listen port 0 picked once, by the primary)', () => {
    const workers = d.logs.filter((l) => l.msg === 'worker serving');
    assert.equal(workers.length, 2);
    for (const w of workers) assert.deepEqual(w.dns, d.dns);
    assert.notEqual(d.dns.port, 0);
  });

  it('every worker picks up a CLI change within 1 s', async () => {
    await run(
      process.execPath,
      [
        ...entryArgs('cli'),
        'route',
        'set',
        'arn:aws:psarn:us-east-1:123456789012:w/x',
        '--target',
        'arn:aws:sqs:us-east-1:123456789012:q',
        '--db',
        d.db,
      ],
      { cwd: projectRoot },
    );
    const deadline = performance.now() + 1000;
    let served = 0;
    // Many queries, so both workers (the kernel spreads datagrams) must have the route.
    while (performance.now() < deadline && served < 50) {
      const m = await query(d.dns, `x.w.${Z}`, Type.URI);
      served = m.rcode === Rcode.NOERROR && m.answer.length === 1 ? served + 1 : 0;
    }
    assert.equal(served, 50);
  });

  it('every worker takes the server cookie another gave: they share one secret (issue 10)', async () => {
    const client = Buffer.from('0123456789abcdef', 'hex');
    const withCookie = (cookie: Buffer) => {
      const base = encodeQuery({ id: 9, name: CREATED, qtype: Type.URI, edns: { udpSize: 1232 } });
      const option = Buffer.concat([Buffer.from([0, 10, 0, cookie.length]), cookie]);
      const out = Buffer.concat([base, option]);
      out.writeUInt16BE(option.length, base.length - 2);
      return out;
    };
    const cookieOf = (reply: Buffer | undefined) =>
      decodeMessage(reply!).edns?.options.find((o) => o.code === 10)?.data;
    const first = cookieOf(await udpRaw(d.dns, withCookie(client)));
    assert.equal(first?.length, 24);
    // A new socket (source port) per query: the kernel spreads them over both workers. A worker
    // with a secret of its own would answer with another server cookie.
    for (let i = 0; i < 30; i++)
      assert.deepEqual(cookieOf(await udpRaw(d.dns, withCookie(first!))), first, `query ${i}`);
  });

  it('sums the workers’ metrics on /metrics', async () => {
    const base = `http://${d.http.host}:${d.http.port}`;
    const count = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const m = /^psarn_dns_requests_total\{proto="udp",qtype="URI"\} (\d+)/m.exec(text);
      return Number(m?.[1] ?? 0);
    };
    const before = await count();
    for (let i = 0; i < 200; i++) await query(d.dns, CREATED, Type.URI);
    assert.equal((await count()) - before, 200);
    assert.equal((await fetch(`${base}/ready`)).status, 200);
  });

  it('stops its workers and exits 0 on SIGTERM', async () => {
    const { stdout } = await run('pgrep', ['-P', String(d.proc.pid)]);
    const workers = stdout.trim().split('\n').map(Number);
    assert.equal(workers.length, 2, `children of the primary: ${stdout}`);
    assert.equal(await d.stop('SIGTERM'), 0);
    // Reaped by the primary before it exits; allow the kernel a moment to forget them.
    for (let i = 0; i < 40 && workers.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(workers.filter(alive), []);
  });
});

describe('psarnd --workers 2 on a damaged database file', () => {
  const tmp = tempDir();
  let d: RunningDaemon | undefined;
  before(async () => {
    const db = tmp.file('corrupt.db');
    writeCorruptDatabase(db, { routes: 2000 });
    d = await startPsarnd({ db, demoRoutes: '', args: ['--workers', '2'] });
  });
  after(async () => {
    await d?.stop();
    tmp.cleanup();
  });

  it("the primary's /ready is 503 while the workers' store fails reads, /health stays 200", async () => {
    const base = `http://${d!.http.host}:${d!.http.port}`;
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    // Both workers get queries (SO_REUSEPORT or the primary's round robin): each meets a damaged page.
    for (let i = 0; i < 300; i++) {
      const reply = await query(d!.dns, `${routePath(i).split('/').reverse().join('.')}.${CORRUPT_ZONE}`, Type.URI);
      assert.equal(reply.rcode, Rcode.SERVFAIL);
    }
    // A worker tells the primary within a second; bounded wait.
    let status = 0;
    for (let i = 0; i < 40 && status !== 503; i++) {
      status = (await fetch(`${base}/ready`)).status;
      if (status !== 503) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 503);
    assert.equal((await fetch(`${base}/health`)).status, 200);
  });
});
