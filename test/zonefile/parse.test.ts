import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { type ParsedLine, parseMasterFile } from '../../src/zonefile/parse.js';
import { formatRecord } from '../../src/zonefile/presentation.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';

/** Each parsed line as `line: presentation text` (or `line: owner TYPE?`), which reads better than objects. */
function show(lines: ParsedLine[]): string[] {
  return lines.map((l) => `${l.line}: ${l.record ? formatRecord(l.record) : `${l.owner} ${l.otherType}?`}`);
}

describe('parseMasterFile features', () => {
  it('reads $ORIGIN, $TTL with units, @, relative names, blank owners and comments', () => {
    const text = [
      `$ORIGIN ${Z} ; the zone`,
      '$TTL 1h30m',
      '@ IN SOA ns.psarn.internal. hostmaster ( 7 ; serial',
      '   1h 10m 1d 30 )',
      '  NS ns.psarn.internal.',
      '',
      '; a route',
      'Created.Orders 60 URI 10 90 "arn:aws:lambda:us-east-1:123456789012:function:MyFunc"',
      '\tIN 60 URI 20 0 "https://Example.com/A?b=c;d"',
      '               TXT "v=psarn1" policy=fanout',
      '$ORIGIN orders',
      'latest CNAME created',
    ].join('\n');
    assert.deepEqual(show(parseMasterFile(text)), [
      `3: ${Z}\t5400\tIN\tSOA\tns.psarn.internal. hostmaster.${Z} 7 3600 600 86400 30`,
      `5: ${Z}\t5400\tIN\tNS\tns.psarn.internal.`,
      `8: created.orders.${Z}\t60\tIN\tURI\t10 90 "arn:aws:lambda:us-east-1:123456789012:function:MyFunc"`,
      `9: created.orders.${Z}\t60\tIN\tURI\t20 0 "https://Example.com/A?b=c;d"`,
      `10: created.orders.${Z}\t5400\tIN\tTXT\t"v=psarn1" "policy=fanout"`,
      `12: latest.orders.${Z}\t5400\tIN\tCNAME\tcreated.orders.${Z}`,
    ]);
  });

  it('without $TTL, an omitted TTL is the last explicit one (RFC 1035 §5.1), else options.defaultTtl', () => {
    const lines = parseMasterFile('a. TXT "x"\nb. 42 TXT "y"\nc. TXT "z"', { defaultTtl: 7 });
    assert.deepEqual(
      lines.map((l) => l.record?.ttl),
      [7, 42, 42],
    );
  });

  it('decodes \\" \\\\ and \\DDD in quoted strings, and keeps ; ( ) inside quotes', () => {
    const [l] = parseMasterFile('a. 1 TXT "q\\"b\\\\s\\195\\169;(x)" plain\\032sp');
    assert.deepEqual(l!.record, { name: 'a.', ttl: 1, type: 'TXT', strings: ['q"b\\sé;(x)', 'plain sp'] });
  });

  it('lowercases owners and names but keeps the URI target byte-exact', () => {
    const [u, c] = parseMasterFile('A.B. 1 URI 1 1 "arn:aws:sqs:us-east-1:123456789012:Q"\nC.B. 1 CNAME X.Y.');
    assert.equal(u!.owner, 'a.b.');
    assert.equal(u!.record?.type === 'URI' && u!.record.target, 'arn:aws:sqs:us-east-1:123456789012:Q');
    assert.equal(c!.record?.type === 'CNAME' && c!.record.target, 'x.y.');
  });

  it('reads CRLF files, TYPE256 as URI, and returns other types by name', () => {
    const lines = parseMasterFile('a. 1 IN TYPE256 1 2 "arn:x"\r\na. 1 IN A 192.0.2.1\r\na. 1 MX 10 mx.a.\r\n');
    assert.deepEqual(show(lines), ['1: a.\t1\tIN\tURI\t1 2 "arn:x"', '2: a. A?', '3: a. MX?']);
  });

  it('applies the options origin and reports the file name', () => {
    const [l] = parseMasterFile('x 1 TXT "a"', { origin: 'Example.Org' });
    assert.equal(l!.owner, 'x.example.org.');
    assert.throws(
      () => parseMasterFile('\n\nx 1 IN URI 1 70000 "arn:x"', { file: 'z.txt', origin: 'a.' }),
      (e: unknown) => e instanceof ZoneFileError && e.line === 3 && e.message.startsWith('z.txt:3: URI weight'),
    );
  });
});

describe('parseMasterFile errors name the line', () => {
  const table: [string, string, number, RegExp][] = [
    ['class CH', 'a. 1 CH TXT "x"', 1, /class CH is not supported; use IN/],
    ['CLASS3', '\na. CLASS3 1 TXT "x"', 2, /class CLASS3 is not supported/],
    ['$INCLUDE', '$ORIGIN a.\n$INCLUDE other.zone', 2, /\$INCLUDE is not supported/],
    ['$GENERATE', '$GENERATE 1-2 x CNAME y', 1, /unknown directive \$GENERATE/],
    ['unterminated quote', 'a. 1 TXT "ok"\na. 1 TXT "open\nb. 1 TXT "x"', 2, /unterminated quoted string/],
    ['unclosed (', 'a. 1 TXT "x"\na. 1 URI ( 1 2\n"arn:x"\n', 2, /'\(' is never closed/],
    ['stray )', 'a. 1 TXT "x" )', 1, /'\)' without a matching '\('/],
    ['weight 70000', '$ORIGIN a.\n\nx 1 URI 10 70000 "arn:x"', 3, /URI weight '70000' must be an integer 0\.\.65535/],
    ['priority -1', 'x. 1 URI -1 1 "arn:x"', 1, /URI priority '-1'/],
    ['empty URI target', 'x. 1 URI 1 1 ""', 1, /URI target is empty/],
    ['URI arity', 'x. 1 URI 1 "arn:x"', 1, /URI needs priority weight "target"/],
    ['no TTL', 'x. TXT "a"', 1, /no TTL/],
    ['bad TTL', 'x. 1x TXT "a"', 1, /'1x' is not a TTL/],
    ['TTL too big', 'x. 2147483648 TXT "a"', 1, /over 2147483647/],
    ['two TTLs', 'x. 1 IN 2 TXT "a"', 1, /two TTLs/],
    ['no type', 'x. 1 IN', 1, /has no type/],
    ['relative without origin', 'x 1 TXT "a"', 1, /relative name 'x' before any \$ORIGIN/],
    ['@ without origin', '@ 1 TXT "a"', 1, /'@' used before any \$ORIGIN/],
    ['blank owner first', '  1 TXT "a"', 1, /blank owner but no record came before/],
    ['bad \\DDD', 'x. 1 TXT "\\999"', 1, /over 255/],
    ['short \\DD', 'x. 1 TXT "\\12x"', 1, /three decimal digits/],
    ['not UTF-8', 'x. 1 TXT "\\255"', 1, /not UTF-8/],
    ['TXT over 255 bytes', `x. 1 TXT "${'a'.repeat(256)}"`, 1, /over 255 bytes/],
    ['empty label', 'a..b. 1 TXT "a"', 1, /empty label/],
    ['name too long', `${'a.'.repeat(127)}b. 1 TXT "a"`, 1, /longer than 253/],
    ['SOA arity', 'a. 1 SOA ns. host. 1 2 3 4', 1, /SOA needs mname rname/],
    ['RFC 3597 rdata', 'a. 1 TXT \\# 2 0141', 1, /generic rdata/],
  ];
  for (const [what, text, line, message] of table) {
    it(what, () => {
      assert.throws(
        () => parseMasterFile(text),
        (e: unknown) => {
          assert.ok(e instanceof ZoneFileError, `not a ZoneFileError: ${e}`);
          assert.equal(e.code, 'ERR_ZONEFILE');
          assert.equal(e.line, line, e.message);
          assert.match(e.message, message);
          assert.match(e.message, new RegExp(`^line ${line}: `));
          return true;
        },
      );
    });
  }
});

describe('parseMasterFile errors are bounded and printable (issue 8, defect 5.7)', () => {
  const fails = (text: string, options: Parameters<typeof parseMasterFile>[1] = {}): string => {
    try {
      parseMasterFile(text, options);
    } catch (err) {
      assert.ok(err instanceof ZoneFileError, String(err));
      return err.message;
    }
    assert.fail('no error');
  };

  it('a 1 MB name gives one short line with the name cut and its size', () => {
    const name = 'a'.repeat(1_000_000);
    assert.equal(
      fails(`$ORIGIN psarn.internal.\n${name} 300 IN TXT "x"\n`),
      `line 2: name '${'a'.repeat(80)}…' (1000000 bytes) is longer than 253 characters`,
    );
  });

  it('huge tokens elsewhere are cut too: TTL, type, class, directive, rdata, file name', () => {
    const big = 'Z'.repeat(100_000);
    for (const text of [
      `a. ${'9'.repeat(100_000)}x TXT "a"`,
      `a. 1 CLASS${'9'.repeat(100_000)} TXT "a"`,
      `$${big} x`,
      `a. 1 URI 1 ${big} "arn:x"`,
      `a. 1 TXT "${'\\255'.repeat(50_000)}"`,
    ]) {
      const message = fails(text);
      assert.ok(message.length < 500, `${message.length}: ${message.slice(0, 120)}`);
    }
    const message = fails('a. 1 URI 1 70000 "arn:x"', { file: `/tmp/${'d'.repeat(100_000)}.zone` });
    assert.ok(message.length < 400 && message.includes('… (100010 bytes):1: URI weight'), message.slice(0, 400));
  });

  it('control characters from the file are escaped in the message', () => {
    assert.equal(
      fails('a. 1\u001b[2J TXT "a"'),
      "line 1: '1\\x1b[2J' is not a TTL; use seconds or units like 1h, 30m, 2d",
    );
    assert.equal(fails('$ORIGIN\u0007 a.'), 'line 1: unknown directive $ORIGIN\\x07; psarn reads $ORIGIN and $TTL');
    assert.equal(
      fails(`a. 1 CNAME ${'b\u001b'.repeat(200)}.`),
      `line 1: name '${'b\\x1b'.repeat(40)}…' (401 bytes) is longer than 253 characters`,
    );
    assert.equal(
      fails('a. 1 TXT "\\255\\254ok"'),
      "line 1: '\\xff\\xfeok' has bytes that are not UTF-8; psarn strings are UTF-8 text",
    );
  });
});
