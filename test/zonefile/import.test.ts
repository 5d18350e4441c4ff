import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelsToPath } from '../../src/psarn/name.js';
import type { ZoneContent, ZoneImport } from '../../src/store/types.js';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { buildZones, importMasterFile, routePath } from '../../src/zonefile/import.js';
import { parseMasterFile } from '../../src/zonefile/parse.js';
import { prng } from '../wire/build.js';
import { ZONE } from './fixtures.js';

const NS = 'psarn.internal.';
/** The two ways in: parsed records as objects (buildZones), and the file's bytes read into columns (the CLI's). */
const build = (text: string) => buildZones(parseMasterFile(text, { file: 'in.zone' }), NS, 'in.zone');
const read = (text: string | Uint8Array) => materialize(importMasterFile(text, { namespace: NS, file: 'in.zone' }));
const BOTH: [string, (text: string) => ZoneContent[]][] = [
  ['buildZones', build],
  ['importMasterFile', read],
];

/** The routes of each zone as an array (by index; iterating gives the same, checked below). */
function materialize(zones: ZoneImport[]): ZoneContent[] {
  for (const zone of zones)
    assert.deepEqual(
      [...zone.routes],
      Array.from({ length: zone.routes.length }, (_, i) => zone.routes.at(i)),
    );
  return zones.map((zone) => ({
    ...zone,
    routes: Array.from({ length: zone.routes.length }, (_, i) => zone.routes.at(i)!),
  }));
}

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
      'route TXT with a bad epoch',
      `x.${ZONE} 1 URI 1 1 ${Q}\nx.${ZONE} 1 TXT "v=psarn1" "policy=weighted" "epoch=1x"`,
      2,
      /TXT at x\..*epoch must be a non-negative integer/,
    ],
    [
      'route TXT with a 16-digit epoch',
      `x.${ZONE} 1 URI 1 1 ${Q}\nx.${ZONE} 1 TXT "v=psarn1" "policy=fanout" "epoch=1234567890123456"`,
      2,
      /epoch must be a non-negative integer/,
    ],
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
    for (const [via, fn] of BOTH) {
      it(`${what} (${via})`, () => {
        assert.throws(
          () => fn(text),
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
  }
});

describe('routes whose records are not all in one run', () => {
  const A = '"arn:aws:sqs:us-east-1:123456789012:a"';
  const B = '"arn:aws:sqs:us-east-1:123456789012:b"';
  for (const [via, fn] of BOTH) {
    it(`merges them in file order: targets, smallest TTL, the TXT (${via})`, () => {
      const [zone] = fn(
        [
          `$ORIGIN ${ZONE}`,
          `x 300 URI 10 1 ${A}`,
          `y 60 URI 10 1 ${B}`,
          `x 100 URI 10 2 ${B}`,
          `y 60 TXT "v=psarn1" "policy=fanout"`,
          `x 50 URI 10 1 ${A} ; a repeat: one record, but its TTL counts`,
          'x 20 TXT "v=psarn1" "policy=fanout"',
        ].join('\n'),
      );
      assert.deepEqual(zone!.routes, [
        {
          path: 'x',
          spec: {
            policy: 'fanout',
            ttl: 50,
            targets: [
              { target: A.slice(1, -1), weight: 1, priority: 10 },
              { target: B.slice(1, -1), weight: 2, priority: 10 },
            ],
          },
        },
        {
          path: 'y',
          spec: { policy: 'fanout', ttl: 60, targets: [{ target: B.slice(1, -1), weight: 1, priority: 10 }] },
        },
      ]);
    });
  }

  const table: [string, string, number, RegExp][] = [
    [
      'second TXT',
      `$ORIGIN ${ZONE}\nx 1 URI 1 1 ${A}\nx 1 TXT "v=psarn1"\ny 1 URI 1 1 ${A}\nx 1 TXT "v=psarn1"`,
      5,
      /second TXT at x\..* \(first on line 3\)/,
    ],
    ['second CNAME', `$ORIGIN ${ZONE}\nx 1 CNAME y\nz 1 URI 1 1 ${A}\nx 1 CNAME z`, 4, /second CNAME at x\..*line 2/],
    [
      'CNAME beside URI',
      `$ORIGIN ${ZONE}\nx 1 CNAME y\nz 1 URI 1 1 ${A}\nx 1 URI 1 1 ${A}`,
      2,
      /beside other data \(line 4\)/,
    ],
    [
      'the earliest of two',
      `$ORIGIN ${ZONE}\nx 1 CNAME y\nz 1 CNAME y\nz 1 TXT "v=psarn1"\nx 1 TXT "v=psarn1"`,
      2,
      /CNAME at x\./,
    ],
  ];
  for (const [what, text, line, message] of table) {
    for (const [via, fn] of BOTH) {
      it(`${what} (${via})`, () => {
        assert.throws(
          () => fn(text),
          (e: unknown) => e instanceof ZoneFileError && e.line === line && message.test(e.message),
        );
      });
    }
  }

  it('reading the file reports the first problem in file order, a rule broken across runs included', () => {
    // Line 5 breaks the one-TXT rule; line 6 has a bad weight, found while reading.
    const text = `$ORIGIN ${ZONE}\nx 1 URI 1 1 ${A}\nx 1 TXT "v=psarn1"\ny 1 URI 1 1 ${A}\nx 1 TXT "v=psarn1"\nz 1 URI 1 70000 ${A}`;
    assert.throws(() => read(text), { line: 5, message: /second TXT/ });
    // Without the earlier problem, the bad weight is the one.
    assert.throws(() => read(text.replace('x 1 TXT "v=psarn1"\nz', 'z')), { line: 5, message: /URI weight/ });
  });
});

describe('importMasterFile reads bytes', () => {
  it('takes UTF-8 targets as they are, and \\DDD escapes as the bytes they stand for', () => {
    const text = [
      `$ORIGIN ${ZONE}`,
      'a 1 URI 1 1 "https://example.org/café/€"',
      'b 1 URI 1 1 "https://example.org/caf\\195\\169/\\226\\130\\172"',
    ].join('\n');
    const [zone] = read(Buffer.from(text, 'utf8'));
    assert.deepEqual(
      zone!.routes.map((r) => 'targets' in r.spec && r.spec.targets[0]!.target),
      ['https://example.org/café/€', 'https://example.org/café/€'],
    );
  });

  it('refuses a file that is not UTF-8, naming the line of the first bad byte', () => {
    const text = Buffer.concat([
      Buffer.from(`$ORIGIN ${ZONE}\na 1 URI 1 1 "https://example.org/ok"\n; caf`),
      Buffer.from([0xe9]),
      Buffer.from('\nb 1 URI 1 1 "https://example.org/x"\n'),
    ]);
    assert.throws(() => read(text), { line: 3, message: /^in\.zone:3: the file is not UTF-8/ });
    // The same bytes as text were read (and replaced by U+FFFD) before; bytes in order are fine.
    assert.equal(read(Buffer.from(`a.${ZONE} 1 URI 1 1 "https://example.org/\u00e9"`))[0]!.routes.length, 1);
  });
});

describe('importMasterFile against buildZones(parseMasterFile) on generated files', () => {
  /** A master file of `count` routes in varied layouts, from a seeded generator. */
  function generate(random: () => number, count: number): string {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const targets = [
      'arn:aws:lambda:us-east-1:123456789012:function:F',
      'arn:aws:sqs:us-east-1:123456789012:q',
      'https://hooks.example.com/p;a(b)?x=1',
      'arn:aws:states:us-east-1:123456789012:stateMachine:Order(Flow);V2',
    ];
    const quoted = (t: string) =>
      pick([
        `"${t}"`,
        `"${t.replace('a', '\\097')}"`,
        `"${t.replace(':', '\\:')}"`,
        `"${t}/caf\u00e9"`,
        `"${t}/caf\\195\\169"`,
      ]);
    const txts = [
      '"v=psarn1" "policy=weighted" "epoch=3"',
      '"v=psarn1" "policy=fanout"',
      'v=psarn1 policy=fanout',
      '"v=psarn1" "policy=weighted" "epoch=1234567890123456"'.replace('1234567890123456', '12'),
      '"v=psarn1" "policy=fanout" "epoch=7" "x=y"',
      '"v\\=psarn1" "policy=fanout"',
      '"v=psarn1"',
    ];
    const runs: string[][] = [];
    for (let i = 0; i < count; i++) {
      const owner = pick([`r${i}.svc${i % 5}`, `R${i}.Svc${i % 5}`, `r${i}.svc${i % 5}.${ZONE}`]);
      const records: string[] = [];
      const ttl = () => pick(['300 ', '60 IN ', 'IN 1m ', '']);
      if (random() < 0.1) records.push(`${owner} ${ttl()}CNAME r${(i + 1) % count}.svc${(i + 1) % 5}`);
      else {
        for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
          const rdata = `${Math.floor(random() * 3)} ${Math.floor(random() * 3)} ${quoted(pick(targets))}`;
          records.push(`${owner} ${ttl()}URI ${random() < 0.1 ? `( ${rdata}\n )` : rdata}`);
        }
        if (random() < 0.8) records.push(`${owner} ${ttl()}TXT ${pick(txts)}`);
      }
      // Some routes come in two runs, far apart.
      if (records.length > 1 && random() < 0.2) {
        const cut = 1 + Math.floor(random() * (records.length - 1));
        runs.push(records.slice(0, cut), records.slice(cut));
      } else runs.push(records);
    }
    for (let i = runs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [runs[i], runs[j]] = [runs[j]!, runs[i]!];
    }
    // A blank owner for the records after a run's first; comments here and there.
    const lines = [`$ORIGIN ${ZONE}`, '$TTL 120', `@ 3600 SOA ns.psarn.internal. h.psarn.internal. 7 1 2 3 4`];
    for (const run of runs) {
      run.forEach((record, k) => {
        lines.push(k > 0 && random() < 0.5 ? `\t${record.slice(record.indexOf(' ') + 1)}` : record);
      });
      if (random() < 0.1) lines.push('; a comment');
    }
    return `${lines.join('\n')}\n`;
  }

  it('gives the same zones for 300 files', () => {
    const random = prng(11);
    let routes = 0;
    for (let round = 0; round < 300; round++) {
      const text = generate(random, 1 + Math.floor(random() * 40));
      let expected: ZoneContent[] | Error;
      try {
        expected = build(text);
      } catch (err) {
        expected = err as Error;
      }
      if (expected instanceof Error) {
        // The same problem, on the same line (one problem per file at most: CNAME + other data).
        assert.throws(() => read(text), { line: (expected as ZoneFileError).line, message: expected.message });
        continue;
      }
      assert.deepEqual(read(text), expected, text);
      routes += expected[0]!.routes.length;
    }
    assert.ok(routes > 2000, `only ${routes} routes compared`);
  });
});

describe('routePath', () => {
  it('maps labels to a path as labelsToPath does (20,000 seeded names)', () => {
    const random = prng(5);
    const chars = 'abzAZ09-_.\\é';
    let paths = 0;
    for (let i = 0; i < 20_000; i++) {
      let rel = '';
      const length = random() < 0.02 ? 60 + Math.floor(random() * 600) : Math.floor(random() * 24);
      for (let k = 0; k < length; k++) rel += random() < 0.2 ? '.' : chars[Math.floor(random() * chars.length)];
      const expected = labelsToPath(rel.split('.'))?.join('/');
      assert.equal(routePath(rel), expected, JSON.stringify(rel));
      if (expected !== undefined) paths++;
    }
    assert.ok(paths > 1000 && paths < 19_000, `${paths} paths`);
    assert.equal(routePath('Created.Orders'), 'orders/created');
  });
});
describe('buildZones messages are printable (issue 8, defect 5.7)', () => {
  it('a name with raw control characters is shown escaped, the type bounded', () => {
    assert.throws(
      () => build(`$ORIGIN ${ZONE}\nbad\u001b[31m.orders 60 URI 1 1 "arn:aws:sqs:us-east-1:123456789012:q"`),
      (e: unknown) =>
        e instanceof ZoneFileError &&
        e.message ===
          `in.zone:2: bad\\x1b[31m.orders.${ZONE} is not a route name: labels must be 1..8 psARN segments (letters, digits, - or _)`,
    );
    assert.throws(
      () => build(`$ORIGIN ${ZONE}\nx 60 ${'T'.repeat(100_000)} 1`),
      (e: unknown) => e instanceof ZoneFileError && e.message.length < 300 && e.message.includes('… (100000 bytes)'),
    );
  });
});
