import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DnsRecord } from '../../src/wire/types.js';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { formatRdata, formatRecord, parseRecord, quoteString } from '../../src/zonefile/presentation.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const R = `created.orders.${Z}`;

describe('formatRecord', () => {
  const table: [DnsRecord, string][] = [
    [
      {
        name: R,
        ttl: 300,
        type: 'URI',
        priority: 10,
        weight: 90,
        target: 'arn:aws:lambda:us-east-1:123456789012:function:A',
      },
      `${R}\t300\tIN\tURI\t10 90 "arn:aws:lambda:us-east-1:123456789012:function:A"`,
    ],
    [
      { name: R, ttl: 0, type: 'TXT', strings: ['v=psarn1', 'policy=fanout', 'epoch=7'] },
      `${R}\t0\tIN\tTXT\t"v=psarn1" "policy=fanout" "epoch=7"`,
    ],
    [{ name: `latest.orders.${Z}`, ttl: 60, type: 'CNAME', target: R }, `latest.orders.${Z}\t60\tIN\tCNAME\t${R}`],
    [{ name: Z, ttl: 3600, type: 'NS', target: 'ns.psarn.internal.' }, `${Z}\t3600\tIN\tNS\tns.psarn.internal.`],
    [
      {
        name: Z,
        ttl: 300,
        type: 'SOA',
        mname: 'ns.psarn.internal.',
        rname: 'hostmaster.psarn.internal.',
        serial: 4294967295,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 30,
      },
      `${Z}\t300\tIN\tSOA\tns.psarn.internal. hostmaster.psarn.internal. 4294967295 3600 600 86400 30`,
    ],
  ];
  for (const [record, text] of table) {
    it(`formats ${record.type}`, () => {
      assert.equal(formatRecord(record), text);
      assert.deepEqual(parseRecord(text), record);
    });
  }

  it('formatRdata gives the rdata alone', () => {
    assert.equal(
      formatRdata({ name: R, ttl: 1, type: 'URI', priority: 0, weight: 65535, target: 'https://x/y' }),
      '0 65535 "https://x/y"',
    );
  });
});

describe('quoteString', () => {
  const table: [string, string][] = [
    ['plain text', '"plain text"'],
    ['', '""'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['tab\there', '"tab\\009here"'],
    ['é', '"\\195\\169"'],
    ['€', '"\\226\\130\\172"'],
    ['\u007f', '"\\127"'],
    [';()$@', '";()$@"'],
  ];
  for (const [input, quoted] of table) {
    it(`quotes ${JSON.stringify(input)} as ${quoted}`, () => {
      assert.equal(quoteString(input), quoted);
      // And it reads back to the same string.
      const rec = parseRecord(`a. 1 TXT ${quoted}`);
      assert.deepEqual(rec.type === 'TXT' && rec.strings, [input]);
    });
  }
});

describe('parseRecord', () => {
  it('reads class and TTL in either order, type case-insensitive', () => {
    const a = parseRecord(`${R} IN 300 uri 1 2 "arn:x"`);
    const b = parseRecord(`${R.toUpperCase()} 300 uri 1 2 "arn:x"`);
    assert.deepEqual(a, { name: R, ttl: 300, type: 'URI', priority: 1, weight: 2, target: 'arn:x' });
    assert.deepEqual(b, a);
  });
  it('rejects a relative owner (no origin) and more than one record', () => {
    assert.throws(() => parseRecord('rel 300 TXT "x"'), ZoneFileError);
    assert.throws(() => parseRecord('a. 300 TXT "x"\nb. 300 TXT "y"'), /exactly one record, found 2/);
  });
  it('rejects a type psarn does not read', () => {
    assert.throws(() => parseRecord('a. 300 IN A 192.0.2.1'), /type A is not one psarn reads/);
  });
});
