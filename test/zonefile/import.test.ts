import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { buildZones } from '../../src/zonefile/import.js';
import { parseMasterFile } from '../../src/zonefile/parse.js';
import { ZONE } from './fixtures.js';

const NS = 'psarn.internal.';
const build = (text: string) => buildZones(parseMasterFile(text, { file: 'in.zone' }), NS, 'in.zone');

describe('buildZones', () => {
  it('turns SOA, NS, _epoch, URI, TXT and CNAME into one zone, routes in path order', () => {
    const text = [
      `$ORIGIN ${ZONE}`,
      '$TTL 300',
      '@ 600 SOA ns.psarn.internal. hostmaster.psarn.internal. 42 3600 600 86400 30',
      '@ 3600 NS ns.psarn.internal.',
      '@ 7200 NS ns2.example.net.',
      '_epoch 5 TXT "epoch=9"',
      'created.orders 120 URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:A"',
      '  100 URI 10 10 "arn:aws:lambda:us-east-1:123456789012:function:B"',
      '  URI 10 10 "arn:aws:lambda:us-east-1:123456789012:function:B" ; duplicate, kept once',
      '  TXT "v=psarn1" "policy=weighted" "epoch=1"',
      'audit.orders 60 URI 10 1 "arn:aws:sqs:us-east-1:123456789012:audit"',
      '  URI 10 1 "arn:aws:sns:us-east-1:123456789012:audit"',
      '  TXT "v=psarn1" "policy=fanout"',
      'charge.payments 30 URI 20 1 "https://backup.example.com/charge"',
      'latest.orders 15 CNAME created.orders',
    ].join('\n');
    assert.deepEqual(build(text), [
      {
        name: ZONE,
        serial: 42,
        epoch: 9,
        params: {
          soaTtl: 600,
          mname: 'ns.psarn.internal.',
          rname: 'hostmaster.psarn.internal.',
          refresh: 3600,
          retry: 600,
          expire: 86400,
          minimum: 30,
          nameservers: ['ns.psarn.internal.', 'ns2.example.net.'],
          nsTtl: 3600,
        },
        routes: [
          {
            path: 'orders/audit',
            spec: {
              policy: 'fanout',
              ttl: 60,
              targets: [
                { target: 'arn:aws:sqs:us-east-1:123456789012:audit', weight: 1, priority: 10 },
                { target: 'arn:aws:sns:us-east-1:123456789012:audit', weight: 1, priority: 10 },
              ],
            },
          },
          {
            path: 'orders/created',
            spec: {
              policy: 'weighted',
              ttl: 100,
              targets: [
                { target: 'arn:aws:lambda:us-east-1:123456789012:function:A', weight: 90, priority: 10 },
                { target: 'arn:aws:lambda:us-east-1:123456789012:function:B', weight: 10, priority: 10 },
              ],
            },
          },
          { path: 'orders/latest', spec: { ttl: 15, alias: `created.orders.${ZONE}` } },
          {
            path: 'payments/charge',
            spec: {
              policy: 'weighted',
              ttl: 30,
              targets: [{ target: 'https://backup.example.com/charge', weight: 1, priority: 20 }],
            },
          },
        ],
      },
    ]);
  });

  it('splits records of several zones and leaves params/serial/epoch out when absent', () => {
    const other = '210987654321.eu-west-1.aws.psarn.internal.';
    const zones = build(
      [
        `a.${ZONE} 1 URI 1 1 "arn:aws:sqs:us-east-1:123456789012:q"`,
        `b.${other} 2 URI 1 1 "arn:aws:sqs:eu-west-1:210987654321:q"`,
        `${other} 3 NS ns.psarn.internal.`,
      ].join('\n'),
    );
    assert.deepEqual(
      zones.map((z) => [z.name, z.routes.map((r) => r.path), z.params, z.serial, z.epoch]),
      [
        [ZONE, ['a'], undefined, undefined, undefined],
        [other, ['b'], { nameservers: ['ns.psarn.internal.'], nsTtl: 3 }, undefined, undefined],
      ],
    );
  });

  it('accepts TTL 0 and 172800 and weight 0 and 65535', () => {
    const [zone] = build(
      `a.${ZONE} 0 URI 0 0 "arn:aws:sqs:us-east-1:123456789012:q"\nb.${ZONE} 172800 URI 65535 65535 "arn:aws:sqs:us-east-1:123456789012:q"`,
    );
    assert.deepEqual(
      zone!.routes.map((r) => r.spec),
      [
        {
          policy: 'weighted',
          ttl: 0,
          targets: [{ target: 'arn:aws:sqs:us-east-1:123456789012:q', weight: 0, priority: 0 }],
        },
        {
          policy: 'weighted',
          ttl: 172800,
          targets: [{ target: 'arn:aws:sqs:us-east-1:123456789012:q', weight: 65535, priority: 65535 }],
        },
      ],
    );
  });
});

describe('buildZones errors name the line', () => {
  const Q = '"arn:aws:sqs:us-east-1:123456789012:q"';
  const table: [string, string, number, RegExp][] = [
    ['other type', `$ORIGIN ${ZONE}\nx 1 URI 1 1 ${Q}\nx 1 A 192.0.2.1`, 3, /type A is not supported at x\./],
    ['outside the namespace', `x.example.com. 1 URI 1 1 ${Q}`, 1, /outside the namespace psarn\.internal\./],
    ['above every zone', `us-east-1.aws.psarn.internal. 1 NS ns.`, 1, /above every zone/],
    ['invalid zone', `x.12345.us-east-1.aws.psarn.internal. 1 URI 1 1 ${Q}`, 1, /in no valid zone/],
    ['bad route label', `-x.${ZONE} 1 URI 1 1 ${Q}`, 1, /not a route name/],
    ['reserved _label', `_other.${ZONE} 1 TXT "a"`, 1, /not a route name/],
    ['nine segments', `${'a.'.repeat(9)}${ZONE} 1 URI 1 1 ${Q}`, 1, /not a route name/],
    ['TXT without URI', `$ORIGIN ${ZONE}\nx 1 URI 1 1 ${Q}\ny 1 TXT "v=psarn1"`, 3, /TXT at y\..* has no URI/],
    [
      'TXT without v=psarn1',
      `x.${ZONE} 1 URI 1 1 ${Q}\nx.${ZONE} 1 TXT "policy=fanout"`,
      2,
      /must start with "v=psarn1"/,
    ],
    ['bad policy', `x.${ZONE} 1 URI 1 1 ${Q}\nx.${ZONE} 1 TXT "v=psarn1" "policy=random"`, 2, /policy must be/],
    [
      'second TXT',
      `x.${ZONE} 1 URI 1 1 ${Q}\nx.${ZONE} 1 TXT "v=psarn1"\nx.${ZONE} 1 TXT "v=psarn1"`,
      3,
      /second TXT.*line 2/,
    ],
    [
      'CNAME beside URI',
      `$ORIGIN ${ZONE}\nx 1 CNAME y\nx 1 URI 1 1 ${Q}`,
      2,
      /CNAME at x\..* beside other data \(line 3\).*RFC 1034/,
    ],
    ['CNAME beside TXT', `$ORIGIN ${ZONE}\nx 1 TXT "v=psarn1"\nx 1 CNAME y`, 3, /beside other data \(line 2\)/],
    ['two CNAMEs', `$ORIGIN ${ZONE}\nx 1 CNAME y\nx 1 CNAME z`, 3, /second CNAME/],
    ['CNAME out of namespace', `x.${ZONE} 1 CNAME www.example.com.`, 1, /target must be a psARN name/],
    ['TTL over 172800', `x.${ZONE} 172801 URI 1 1 ${Q}`, 1, /TTL 172801 .* over 172800/],
    ['URI at the apex', `${ZONE} 1 URI 1 1 ${Q}`, 1, /apex .* holds only SOA and NS/],
    ['NS below the apex', `x.${ZONE} 1 NS ns.`, 1, /no delegations/],
    ['bad target', `x.${ZONE} 1 URI 1 1 "http://insecure.example.com/"`, 1, /only https:\/\//],
    ['epoch TXT without epoch', `_epoch.${ZONE} 1 TXT "v=psarn1"`, 1, /must be "epoch=<n>"/],
    ['epoch not a number', `_epoch.${ZONE} 1 TXT "epoch=x"`, 1, /epoch must be a non-negative integer/],
    ['URI at _epoch', `_epoch.${ZONE} 1 URI 1 1 ${Q}`, 1, /holds only the epoch TXT/],
    ['second SOA', `${ZONE} 1 SOA a. b. 1 2 3 4 5\n${ZONE} 1 SOA a. b. 1 2 3 4 5`, 2, /second SOA .* line 1/],
  ];
  for (const [what, text, line, message] of table) {
    it(what, () => {
      assert.throws(
        () => build(text),
        (e: unknown) => {
          assert.ok(e instanceof ZoneFileError, `not a ZoneFileError: ${e}`);
          assert.equal(e.line, line, e.message);
          assert.match(e.message, message);
          assert.match(e.message, new RegExp(`^in\\.zone:${line}: `));
          return true;
        },
      );
    });
  }
});
