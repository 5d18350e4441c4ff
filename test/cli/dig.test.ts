/**
 * `psarn dig` end to end against the real psarnd (started as a child on 127.0.0.1, port 0).
 * Skipped while the daemon does not exist yet; dig's output is tested as a pure function in
 * dig-format.test.ts in any case.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Sandbox } from './helpers.js';

const daemonSource = ['../../src/server/daemon.ts', '../../src/server/daemon.js'].some((p) =>
  existsSync(fileURLToPath(new URL(p, import.meta.url))),
);

const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';
const V1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1';
const V2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v2';

interface Running {
  dns: { host: string; port: number };
  stop(): Promise<number | null>;
}

describe('psarn dig against psarnd', { skip: daemonSource ? false : 'src/server/daemon.ts does not exist yet' }, () => {
  const s = new Sandbox();
  let daemon: Running;
  let at = '';
  const dig = (...args: string[]) => s.run(['dig', ...args, at], { dig: { randomId: () => 4242 } });

  before(async () => {
    const { startPsarnd } = await import('../helpers/daemon.js');
    daemon = await startPsarnd();
    at = `@${daemon.dns.host}:${daemon.dns.port}`;
  });
  after(async () => {
    await daemon?.stop();
    s.cleanup();
  });

  it('answers a psARN with URI records, the TXT and a summary', async () => {
    const r = await dig(P);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242\n/);
    assert.match(r.stdout, /;; flags: qr aa; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 2\n/);
    assert.ok(r.stdout.includes(`${NAME}\t300\tIN\tURI\t10 90 "${V1}"\n`), r.stdout);
    assert.ok(r.stdout.includes(`${NAME}\t300\tIN\tURI\t10 10 "${V2}"\n`));
    assert.match(r.stdout, /;; ADDITIONAL SECTION:\n\S+\t300\tIN\tTXT\t"v=psarn1" "policy=weighted" "epoch=\d+"\n/);
    assert.ok(r.stdout.includes(`; psARN: ${P}\n`));
    assert.match(r.stdout, new RegExp(`; 90% +priority 10 +weight 90 +${V1}\\n`));
    assert.match(r.stdout, new RegExp(`;; SERVER: 127\\.0\\.0\\.1#${daemon.dns.port}\\(UDP\\)\\n`));
    assert.match(r.stdout, /;; MSG SIZE {2}rcvd: \d+\n/);
  });

  it('+short prints the rdata only, +tcp asks over TCP', async () => {
    const r = await dig(P, '+short', '+tcp');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `10 90 "${V1}"\n10 10 "${V2}"\n`);
    const full = await dig(P, '+tcp');
    assert.match(full.stdout, /\(TCP\)\n/);
  });

  it('+json is one JSON object with the summary', async () => {
    const r = await dig(P, '+json');
    const j = JSON.parse(r.stdout);
    assert.equal(j.status, 'NOERROR');
    assert.equal(j.id, 4242);
    assert.equal(j.transport, 'udp');
    assert.equal(j.psarn.psarn, P);
    assert.deepEqual(
      j.psarn.targets.map((t: { share: number }) => t.share),
      [0.9, 0.1],
    );
  });

  it('follows an alias, shows TXT and other types, and keeps the question case', async () => {
    const alias = await dig('arn:aws:psarn:us-east-1:123456789012:orders/latest');
    assert.match(alias.stdout, /\tCNAME\tcreated\.orders\./);
    assert.match(
      alias.stdout,
      /; alias: arn:aws:psarn:us-east-1:123456789012:orders\/latest -> arn:aws:psarn:us-east-1:123456789012:orders\/created/,
    );
    const txt = await dig('TXT', NAME.toUpperCase());
    assert.ok(txt.stdout.includes(`;${NAME.toUpperCase()}\t\tIN\tTXT`), txt.stdout);
    assert.match(txt.stdout, /\tTXT\t"v=psarn1" "policy=weighted"/);
    const soa = await dig('123456789012.us-east-1.aws.psarn.internal.', 'SOA', '+short');
    assert.match(soa.stdout, /^ns\.psarn\.internal\. hostmaster\.psarn\.internal\. \d+ /);
  });

  it('@localhost:PORT is looked up and asked; addresses that refuse are passed over (issue 9)', async () => {
    const port = String(daemon.dns.port);
    const r = await s.run(['dig', P, `@localhost:${port}`, '+short']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `10 90 "${V1}"\n10 10 "${V2}"\n`);
    const both = await s.run(['dig', P, `@psarnd:${port}`, '+json', '+timeout=2', '+tries=1'], {
      dig: { lookup: async () => ['::1', daemon.dns.host] },
    });
    assert.equal(both.status, 0, both.stderr);
    assert.equal(JSON.parse(both.stdout).server, `${daemon.dns.host}#${port}`);
  });

  it('NXDOMAIN and REFUSED are answers: exit 0', async () => {
    const nx = await dig('arn:aws:psarn:us-east-1:123456789012:orders/nope');
    assert.equal(nx.status, 0);
    assert.match(nx.stdout, /status: NXDOMAIN/);
    assert.match(nx.stdout, /;; AUTHORITY SECTION:\n\S+\t\d+\tIN\tSOA\t/);
    const refused = await dig('www.example.com.', 'A');
    assert.equal(refused.status, 0);
    assert.match(refused.stdout, /status: REFUSED/);
  });
});

describe('psarn dig without a server', () => {
  it('exits 1 with one line when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const s = new Sandbox();
    try {
      for (const extra of [['+tcp'], ['+timeout=0.05', '+tries=1']]) {
        const r = await s.run(['dig', P, `@127.0.0.1:${port}`, ...extra]);
        assert.equal(r.status, 1);
        assert.equal(r.stdout, '');
        assert.match(
          r.stderr,
          /^;; (connection timed out; no servers could be reached: no reply from|communications error to) 127\.0\.0\.1#\d+[^\n]*\n$/,
        );
      }
    } finally {
      s.cleanup();
    }
  });

  it('a server name that does not resolve is one line naming it, exit 1 (issue 9: ERR_SOCKET_BAD_PORT)', async () => {
    const s = new Sandbox();
    try {
      const r = await s.run(['dig', P, '@nohost.invalid']);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^psarn: cannot look up server 'nohost\.invalid': [A-Z_]+; check the host name in @HOST\[:PORT\] \(default: config listen\), or give an IP address\n$/,
      );
    } finally {
      s.cleanup();
    }
  });

  it('rejects bad dig arguments with exit 2', async () => {
    const s = new Sandbox();
    try {
      const r = await s.run(['dig', P, '+bogus']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^psarn: unknown dig option '\+bogus'[^\n]*\n$/);
    } finally {
      s.cleanup();
    }
  });
});
