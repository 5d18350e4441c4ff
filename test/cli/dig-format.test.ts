import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digJson, formatDig, formatShort, psarnSummary } from '../../src/cli/dig-format.js';
import type { DecodedMessage } from '../../src/wire/message.js';

const NS = 'psarn.internal.';
const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const NAME = `created.orders.${ZONE}`;
const L1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';
const L2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v2';
const L3 = 'arn:aws:lambda:us-west-2:123456789012:function:orders-dr';

function message(overrides: Partial<DecodedMessage> = {}): DecodedMessage {
  return {
    id: 4242,
    qr: true,
    opcode: 0,
    aa: true,
    tc: false,
    rd: false,
    ra: false,
    ad: false,
    cd: false,
    rcode: 0,
    question: [{ name: 'Created.Orders.123456789012.us-east-1.aws.psarn.internal.', qtype: 256, qclass: 1 }],
    answer: [
      { name: NAME, ttl: 300, class: 1, type: 'URI', priority: 10, weight: 90, target: L1 },
      { name: NAME, ttl: 300, class: 1, type: 'URI', priority: 10, weight: 10, target: L2 },
      { name: NAME, ttl: 300, class: 1, type: 'URI', priority: 20, weight: 1, target: L3 },
    ],
    authority: [],
    additional: [{ name: NAME, ttl: 300, class: 1, type: 'TXT', strings: ['v=psarn1', 'policy=weighted', 'epoch=3'] }],
    edns: { udpSize: 1232, version: 0, do: false, options: [] },
    size: 321,
    ...overrides,
  };
}

const ctx = {
  args: ['arn:aws:psarn:us-east-1:123456789012:orders/created', '@127.0.0.1:8053'],
  server: { host: '127.0.0.1', port: 8053 },
  transport: 'udp' as const,
  rttMs: 1.4,
  when: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
  namespace: NS,
};

describe('formatDig', () => {
  it('prints a dig-like answer with the psARN summary', () => {
    const expected = [
      '; <<>> psarn dig <<>> arn:aws:psarn:us-east-1:123456789012:orders/created @127.0.0.1:8053',
      ';; Got answer:',
      ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242',
      ';; flags: qr aa; QUERY: 1, ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 2',
      '',
      ';; OPT PSEUDOSECTION:',
      '; EDNS: version: 0, flags:; udp: 1232',
      '',
      ';; QUESTION SECTION:',
      ';Created.Orders.123456789012.us-east-1.aws.psarn.internal.\t\tIN\tURI',
      '',
      ';; ANSWER SECTION:',
      `${NAME}\t300\tIN\tURI\t10 90 "${L1}"`,
      `${NAME}\t300\tIN\tURI\t10 10 "${L2}"`,
      `${NAME}\t300\tIN\tURI\t20 1 "${L3}"`,
      '',
      ';; ADDITIONAL SECTION:',
      `${NAME}\t300\tIN\tTXT\t"v=psarn1" "policy=weighted" "epoch=3"`,
      '',
      ';; PSARN SUMMARY:',
      '; psARN: arn:aws:psarn:us-east-1:123456789012:orders/created',
      '; policy: weighted, epoch: 3, ttl: 300',
      `; 90%       priority 10  weight 90  ${L1}`,
      `; 10%       priority 10  weight 10  ${L2}`,
      `; failover  priority 20  weight 1   ${L3}`,
      '',
      ';; Query time: 1 msec',
      ';; SERVER: 127.0.0.1#8053(UDP)',
      ';; WHEN: Thu, 02 Jan 2025 03:04:05 GMT',
      ';; MSG SIZE  rcvd: 321',
      '',
      '',
    ].join('\n');
    assert.equal(formatDig(message(), ctx), expected);
  });

  it('prints NXDOMAIN with the SOA in authority and no summary', () => {
    const text = formatDig(
      message({
        rcode: 3,
        answer: [],
        additional: [],
        edns: undefined,
        authority: [
          {
            name: ZONE,
            ttl: 30,
            class: 1,
            type: 'SOA',
            mname: 'ns.psarn.internal.',
            rname: 'hostmaster.psarn.internal.',
            serial: 7,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum: 30,
          },
        ],
      }),
      { ...ctx, transport: 'tcp' },
    );
    assert.match(text, /status: NXDOMAIN, id: 4242/);
    assert.match(text, /QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 0\n/);
    assert.ok(!text.includes('OPT PSEUDOSECTION'));
    assert.ok(
      text.includes(
        `;; AUTHORITY SECTION:\n${ZONE}\t30\tIN\tSOA\tns.psarn.internal. hostmaster.psarn.internal. 7 3600 600 86400 30\n`,
      ),
    );
    assert.ok(!text.includes('PSARN SUMMARY'));
    assert.ok(text.includes(';; SERVER: 127.0.0.1#8053(TCP)'));
  });

  it('prints unknown types as RFC 3597 generic rdata', () => {
    const text = formatDig(
      message({
        answer: [{ name: NAME, ttl: 60, class: 1, type: 65280, typeCode: 65280, rdata: Buffer.from([0xde, 0xad]) }],
        additional: [],
      }),
      ctx,
    );
    assert.ok(text.includes(`${NAME}\t60\tIN\tTYPE65280\t\\# 2 dead\n`), text);
  });
});

describe('psarnSummary', () => {
  it('follows an alias and reads fanout from the TXT', () => {
    const latest = `latest.orders.${ZONE}`;
    const s = psarnSummary(
      message({
        answer: [
          { name: latest, ttl: 60, class: 1, type: 'CNAME', target: NAME },
          { name: NAME, ttl: 300, class: 1, type: 'URI', priority: 10, weight: 1, target: L1 },
          { name: NAME, ttl: 200, class: 1, type: 'URI', priority: 20, weight: 0, target: L2 },
          { name: NAME, ttl: 300, class: 1, type: 'TXT', strings: ['v=psarn1', 'policy=fanout', 'epoch=9'] },
        ],
        additional: [],
      }),
      NS,
    );
    assert.deepEqual(s, {
      psarn: 'arn:aws:psarn:us-east-1:123456789012:orders/created',
      name: NAME,
      aliases: [
        {
          from: 'arn:aws:psarn:us-east-1:123456789012:orders/latest',
          to: 'arn:aws:psarn:us-east-1:123456789012:orders/created',
        },
      ],
      policy: 'fanout',
      epoch: 9,
      ttl: 200,
      targets: [
        { target: L1, priority: 10, weight: 1, share: 1, role: 'primary' },
        { target: L2, priority: 20, weight: 0, share: 0, role: 'drained' },
      ],
    });
  });

  it('is undefined without URI records', () => {
    assert.equal(psarnSummary(message({ answer: [] }), NS), undefined);
  });
});

describe('formatShort and digJson', () => {
  it('+short prints rdata one per line', () => {
    assert.equal(formatShort(message()), `10 90 "${L1}"\n10 10 "${L2}"\n20 1 "${L3}"\n`);
  });

  it('+json is one object with status, flags, sections and summary', () => {
    const j = digJson(message(), ctx) as Record<string, unknown>;
    assert.equal(j.status, 'NOERROR');
    assert.deepEqual(j.flags, ['qr', 'aa']);
    assert.deepEqual(j.question, [
      { name: 'Created.Orders.123456789012.us-east-1.aws.psarn.internal.', class: 'IN', type: 'URI' },
    ]);
    assert.deepEqual((j.answer as unknown[])[0], {
      name: NAME,
      ttl: 300,
      class: 'IN',
      type: 'URI',
      data: `10 90 "${L1}"`,
      priority: 10,
      weight: 90,
      target: L1,
    });
    assert.equal((j.psarn as { policy: string }).policy, 'weighted');
    assert.equal(j.server, '127.0.0.1#8053');
    assert.equal(j.rttMs, 1.4);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(j)));
  });
});
