import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatPsarn,
  labelsToPath,
  nameToPsarn,
  normalizeNamespace,
  PsarnError,
  parsePsarn,
  parseZoneArg,
  parseZoneName,
  psarnToName,
  zoneName,
} from '../../src/psarn/index.js';

const A = 'arn:aws:psarn:us-east-1:123456789012';
const ZONE = '123456789012.us-east-1.aws.psarn.internal.';

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function throwsWith(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PsarnError);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

/** A psARN text whose DNS name is exactly `length` characters (without the final dot). */
function psarnWithNameLength(length: number): string {
  let rest = length - ZONE.length; // the path labels joined by dots; ZONE has the dot before it
  const segments: string[] = [];
  while (rest > 0) {
    const len = rest <= 63 ? rest : Math.min(63, rest - 2);
    segments.push(`s${'x'.repeat(len - 1)}`);
    rest -= len + 1;
  }
  return `${A}:${segments.reverse().join('/')}`;
}

describe('psarnToName / nameToPsarn', () => {
  it('maps the design example both ways', () => {
    const name = `created.orders.${ZONE}`;
    assert.equal(psarnToName(`${A}:orders/created`), name);
    assert.equal(psarnToName(parsePsarn(`${A}:Orders/Created`)), name);
    assert.deepEqual(nameToPsarn(name), parsePsarn(`${A}:orders/created`));
    assert.deepEqual(
      nameToPsarn('CREATED.Orders.123456789012.US-EAST-1.AWS.PSARN.INTERNAL'),
      parsePsarn(`${A}:orders/created`),
    );
    assert.equal(
      psarnToName(`${A}:orders/created`, 'Corp.Example'),
      'created.orders.123456789012.us-east-1.aws.corp.example.',
    );
    assert.equal(formatPsarn(nameToPsarn('a.123456789012.us-east-1.aws.corp.example.', 'corp.example.')), `${A}:a`);
  });

  it('allows a name of exactly 253 characters and refuses 254', () => {
    const ok = psarnWithNameLength(253);
    assert.equal(psarnToName(ok).length, 254); // with the final dot
    assert.deepEqual(nameToPsarn(psarnToName(ok)), parsePsarn(ok));
    const bad = psarnWithNameLength(254);
    throwsWith(
      () => psarnToName(bad),
      'ERR_INVALID_NAME',
      `invalid psARN '${bad}': its DNS name is 254 characters, over the limit of 253; shorten the path`,
    );
    const badName = `x${psarnToName(ok)}`;
    throwsWith(
      () => nameToPsarn(badName),
      'ERR_INVALID_NAME',
      `invalid name '${badName}': is 254 characters; a DNS name has at most 253`,
    );
  });

  it('validates a hand-built Psarn object', () => {
    assert.throws(
      () => psarnToName({ partition: 'aws', region: 'us-east-1', account: '1', path: ['a'] }),
      /account '1' is invalid/,
    );
  });

  const badNames: [string, string][] = [
    [
      'created.orders.123456789012.us-east-1.aws.example.com',
      'is not under the namespace psarn.internal.; write SEGMENT...ACCOUNT.REGION.PARTITION.psarn.internal.',
    ],
    [
      'psarn.internal.',
      'is not under the namespace psarn.internal.; write SEGMENT...ACCOUNT.REGION.PARTITION.psarn.internal.',
    ],
    [ZONE, 'has 3 labels before the namespace, needs at least 4: SEGMENT...ACCOUNT.REGION.PARTITION.psarn.internal.'],
    [`a.b.c.d.e.f.g.h.i.${ZONE}`, 'has 9 path labels; a psARN has at most 8'],
    [`a..b.${ZONE}`, "label 2 is empty; remove the extra '.'"],
    [`_epoch.${ZONE}`, "label 1 starts with '_', which is reserved (e.g. _epoch); start with a letter or digit"],
    [`a.-b.${ZONE}`, "label 2 starts with '-'; start with a letter or digit"],
    [`a!.${ZONE}`, "label 1 has '!'; use letters, digits, - or _"],
    [`${'a'.repeat(64)}.${ZONE}`, 'label 1 is 64 characters; use at most 63'],
    [
      'a.12345678901x.us-east-1.aws.psarn.internal',
      "account label '12345678901x' is invalid; use the 12-digit account id (e.g. 123456789012)",
    ],
    [
      'a.123456789012.us_east.aws.psarn.internal',
      "region label 'us_east' is invalid; use 1 to 30 letters, digits or - (e.g. us-east-1)",
    ],
    [
      'a.123456789012.us-east-1.9aws.psarn.internal',
      "partition label '9aws' is invalid; use a letter then up to 30 letters, digits or - (e.g. aws)",
    ],
  ];
  it("nameToPsarn, parseZoneName and zoneName refuse a region of the AWS partitions not in AWS's form", () => {
    const problem = "region label 'useast1' is not an AWS region name in partition 'aws'; did you mean us-east-1?";
    throwsWith(
      () => nameToPsarn('a.123456789012.useast1.aws.psarn.internal'),
      'ERR_INVALID_NAME',
      `invalid name 'a.123456789012.useast1.aws.psarn.internal': ${problem}`,
    );
    throwsWith(
      () => parseZoneName('123456789012.useast1.aws.psarn.internal.'),
      'ERR_INVALID_ZONE',
      `invalid zone '123456789012.useast1.aws.psarn.internal.': ${problem}`,
    );
    throwsWith(
      () => zoneName({ partition: 'aws', region: 'useast1', account: '123456789012' }),
      'ERR_INVALID_ZONE',
      `invalid zone '123456789012.useast1.aws.psarn.internal.': ${problem}`,
    );
    assert.throws(() => parseZoneArg('arn:aws:psarn:useast1:123456789012:'), /did you mean us-east-1\?/);
    assert.equal(nameToPsarn('a.123456789012.useast1.minio.psarn.internal').region, 'useast1');
  });

  for (const [name, problem] of badNames) {
    it(`nameToPsarn rejects ${name.slice(0, 60)}`, () => {
      throwsWith(() => nameToPsarn(name), 'ERR_INVALID_NAME', `invalid name '${name}': ${problem}`);
    });
  }

  it('round-trips thousands of generated psARNs (seeded)', () => {
    const rand = mulberry32(0x5eed);
    const pick = (s: string) => s[Math.floor(rand() * s.length)]!;
    const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const tail = `${alnum}-_`;
    const word = (max: number) => {
      let s = pick(alnum);
      const len = Math.floor(rand() * max);
      for (let i = 0; i < len; i++) s += pick(tail);
      return s;
    };
    const partitions = ['aws', 'aws-cn', 'aws-us-gov', 'AWS', 'p'];
    let tooLong = 0;
    for (let n = 0; n < 5000; n++) {
      const partition = rand() < 0.8 ? partitions[n % partitions.length]! : `x${word(20).replace(/_/g, '-')}`;
      // The AWS partitions take only regions of AWS's form (a-b-1); the others any 1 to 30 of [a-z0-9-].
      const aws = ['aws', 'aws-cn', 'aws-us-gov'].includes(partition.toLowerCase());
      const region = aws
        ? `${pick('abcdefghijklmnopqrstuvwxyz')}${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}-${word(8).replace(/[^a-zA-Z]/g, '') || 'x'}-${Math.floor(rand() * 20)}`
        : word(29).replace(/_/g, '-');
      let account = '';
      for (let i = 0; i < 12; i++) account += pick('0123456789');
      const segments = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => word(rand() < 0.2 ? 62 : 10));
      const text = `arn:${partition}:${rand() < 0.5 ? 'psarn' : 'PSARN'}:${region}:${account}:${segments.join('/')}`;
      const p = parsePsarn(text);
      assert.equal(formatPsarn(p), text.toLowerCase());
      assert.deepEqual(parsePsarn(text.toLowerCase()), p);
      assert.deepEqual(parsePsarn(text.toUpperCase()), p);
      let name: string;
      try {
        name = psarnToName(text);
      } catch (err) {
        assert.equal((err as PsarnError).code, 'ERR_INVALID_NAME');
        assert.ok(text.length - 'arn::psarn:::'.length + 'psarn.internal'.length > 253 - 8);
        tooLong++;
        continue;
      }
      assert.equal(name, name.toLowerCase());
      assert.ok(name.length <= 254 && name.endsWith('.'));
      assert.equal(psarnToName(p), name);
      assert.deepEqual(nameToPsarn(name), p);
      assert.deepEqual(nameToPsarn(name.slice(0, -1)), p);
      assert.deepEqual(nameToPsarn(name.toUpperCase()), p);
      assert.equal(psarnToName(nameToPsarn(name)), name);
      const zone = zoneName(p);
      assert.ok(name.endsWith(`.${zone}`));
      assert.equal(parseZoneArg(text), zone);
      assert.equal(parseZoneArg(zone.toUpperCase()), zone);
      assert.deepEqual(parseZoneName(zone), { partition: p.partition, region: p.region, account: p.account });
      const relative = name.slice(0, -zone.length - 1).split('.');
      assert.deepEqual(labelsToPath(relative), p.path);
    }
    assert.ok(tooLong > 0 && tooLong < 2500, `some, not most, names were too long (${tooLong})`);
  });
});

describe('normalizeNamespace', () => {
  it('canonicalises', () => {
    assert.equal(normalizeNamespace('Psarn.Internal'), 'psarn.internal.');
    assert.equal(normalizeNamespace('psarn.internal.'), 'psarn.internal.');
    assert.equal(normalizeNamespace('internal'), 'internal.');
  });
  const bad: [string, string][] = [
    ['', 'is empty; use a domain such as psarn.internal.'],
    ['.', 'is empty; use a domain such as psarn.internal.'],
    ['a..b', "label 2 is empty; remove the extra '.'"],
    ['-a.b', "label 1 '-a' is invalid; use letters, digits and inner hyphens"],
    ['a_b.c', "label 1 'a_b' is invalid; use letters, digits and inner hyphens"],
    [`${'a'.repeat(64)}.b`, 'label 1 is 64 characters; use at most 63'],
    [`${'a.'.repeat(100)}bc`, 'is 202 characters; use at most 200 so routes fit in 253'],
  ];
  for (const [ns, problem] of bad) {
    it(`rejects '${ns.slice(0, 30)}'`, () => {
      throwsWith(() => normalizeNamespace(ns), 'ERR_INVALID_NAME', `invalid namespace '${ns}': ${problem}`);
    });
  }
});

describe('zones', () => {
  it('zoneName takes a psARN, its text or a ZoneKey', () => {
    assert.equal(zoneName(`${A}:orders/created`), ZONE);
    assert.equal(zoneName({ partition: 'aws', region: 'us-east-1', account: '123456789012' }), ZONE);
    throwsWith(
      () => zoneName({ partition: 'aws', region: 'us east', account: '123456789012' }),
      'ERR_INVALID_ZONE',
      "invalid zone '123456789012.us east.aws.psarn.internal.': region label 'us east' is invalid; use 1 to 30 letters, digits or - (e.g. us-east-1)",
    );
  });

  it('parseZoneArg accepts a zone name (dot optional, any case) or any psARN in the zone', () => {
    for (const arg of [
      '123456789012.us-east-1.aws.psarn.internal',
      '123456789012.US-EAST-1.aws.psarn.internal.',
      `${A}:orders`,
      `${A}:orders/created/x`,
      `${A}:`,
    ]) {
      assert.equal(parseZoneArg(arg), ZONE, arg);
    }
    assert.equal(
      parseZoneArg('123456789012.us-east-1.aws.corp.example', 'corp.example'),
      '123456789012.us-east-1.aws.corp.example.',
    );
  });

  const forms = 'give a zone name like 123456789012.us-east-1.aws.psarn.internal. or a psARN inside the zone';
  const bad: [string, string][] = [
    [
      'foo.psarn.internal',
      'zone name has 1 label before the namespace, needs 3: ACCOUNT.REGION.PARTITION.psarn.internal.',
    ],
    [`a.${ZONE}`, 'zone name has 4 labels before the namespace, needs 3: ACCOUNT.REGION.PARTITION.psarn.internal.'],
    ['example.com', 'zone name is not under the namespace psarn.internal.'],
    [
      '123456789012.us_east.aws.psarn.internal',
      "zone name region label 'us_east' is invalid; use 1 to 30 letters, digits or - (e.g. us-east-1)",
    ],
    ['123456789012.us-east-1.aws.psarn.internal..', 'zone name is not under the namespace psarn.internal.'],
    [
      'arn:aws:psarn:us-east-1:1234',
      "psARN has 5 ':'-separated parts, needs 6: arn:PARTITION:psarn:REGION:ACCOUNT:PATH",
    ],
    [`${A}:a/.b`, "psARN segment 2 has '.'; use letters, digits, - or _"],
    ['arn:aws:sqs:us-east-1:123456789012:q', "psARN service is 'sqs', not 'psarn'"],
  ];
  for (const [arg, problem] of bad) {
    it(`parseZoneArg rejects '${arg}'`, () => {
      throwsWith(() => parseZoneArg(arg), 'ERR_INVALID_ZONE', `invalid zone '${arg}': ${problem}; ${forms}`);
    });
  }
});

describe('labelsToPath', () => {
  it('reverses valid labels', () => {
    assert.deepEqual(labelsToPath(['created', 'orders']), ['orders', 'created']);
    assert.deepEqual(labelsToPath(['Created', 'x-_']), ['x-_', 'created']);
    assert.deepEqual(labelsToPath(['h', 'g', 'f', 'e', 'd', 'c', 'b', 'a']), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    assert.deepEqual(labelsToPath(['a'.repeat(63)]), ['a'.repeat(63)]);
  });
  it('returns undefined, never throws, for labels that cannot be a path', () => {
    for (const labels of [
      [],
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'],
      ['_epoch'],
      ['-a'],
      [''],
      ['a.b'],
      ['a b'],
      ['é'],
      ['a'.repeat(64)],
      [undefined as unknown as string],
    ]) {
      assert.equal(labelsToPath(labels), undefined, JSON.stringify(labels));
    }
  });
});
