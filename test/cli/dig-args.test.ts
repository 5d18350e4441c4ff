import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDigArgs, parseServerArg } from '../../src/cli/dig-args.js';
import { CliError } from '../../src/cli/errors.js';

const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const defaults = { short: false, tcp: false, json: false, timeoutMs: 2000, tries: 3 };

describe('parseDigArgs', () => {
  it('takes a psARN and defaults to URI', () => {
    assert.deepEqual(parseDigArgs([P]), {
      name: P,
      psarn: { partition: 'aws', region: 'us-east-1', account: '123456789012', path: ['orders', 'created'] },
      qtype: 256,
      ...defaults,
    });
  });

  it('takes arguments in any order', () => {
    assert.deepEqual(parseDigArgs(['+short', 'txt', '@127.0.0.1:5353', 'created.orders.example.']), {
      name: 'created.orders.example.',
      qtype: 16,
      server: { host: '127.0.0.1', port: 5353 },
      ...defaults,
      short: true,
    });
  });

  it('reads TYPEnnn, +tcp, +json, +timeout, +tries and +noX', () => {
    const d = parseDigArgs(['x.example', 'TYPE65280', '+tcp', '+json', '+nojson', '+timeout=0.25', '+tries=1']);
    assert.equal(d.qtype, 65280);
    assert.equal(d.tcp, true);
    assert.equal(d.json, false);
    assert.equal(d.timeoutMs, 250);
    assert.equal(d.tries, 1);
  });

  it('reads +caller=ID (EDNS option 65001) and sends none by default', () => {
    assert.equal(parseDigArgs([P, '+caller=orders-handler']).caller, 'orders-handler');
    assert.equal(
      parseDigArgs([P, '+caller=arn:aws:lambda:us-east-1:123456789012:function:f']).caller,
      'arn:aws:lambda:us-east-1:123456789012:function:f',
    );
    assert.equal(parseDigArgs([P]).caller, undefined);
  });

  it('accepts the class IN after the name', () => {
    assert.equal(parseDigArgs(['x.example', 'IN', 'TXT']).qtype, 16);
  });

  const errors: [string, string[], RegExp][] = [
    ['no name', ['+short'], /missing <psARN\|name>/],
    ['unknown option', [P, '+trace'], /unknown dig option '\+trace'/],
    ['extra argument', [P, 'TXT', 'more.example'], /unexpected argument 'more.example'/],
    ['two servers', [P, '@a', '@b'], /second server '@b'/],
    ['bad port', [P, '@127.0.0.1:99999'], /invalid server '@127.0.0.1:99999'/],
    ['bad bracketed host', [P, '@[nothost]:53'], /invalid server/],
    ['empty server', [P, '@'], /invalid server '@'/],
    ['malformed psARN', ['arn:aws:psarn:us-east-1:123:orders'], /invalid psARN/],
    ['zero timeout', [P, '+timeout=0'], /invalid '\+timeout=0'/],
    ['fractional tries', [P, '+tries=1.5'], /invalid '\+tries=1.5'/],
    ['+caller without an id', [P, '+caller'], /'\+caller' needs a caller id/],
    ['+caller= empty', [P, '+caller='], /'\+caller=' needs a caller id/],
    ['+caller with a space', [P, '+caller=a b'], /invalid '\+caller=a b': not visible ASCII/],
    ['+caller not ASCII', [P, '+caller=café'], /not visible ASCII/],
    ['+caller too long', [P, `+caller=${'a'.repeat(129)}`], /over 128 bytes/],
  ];
  for (const [title, args, pattern] of errors) {
    it(`rejects ${title}`, () => {
      assert.throws(
        () => parseDigArgs(args),
        (err: unknown) => err instanceof CliError && err.exitCode === 2 && pattern.test(err.message),
      );
    });
  }
});

describe('parseServerArg', () => {
  const table: [string, { host: string; port?: number }][] = [
    ['@127.0.0.1', { host: '127.0.0.1' }],
    ['@127.0.0.1:8053', { host: '127.0.0.1', port: 8053 }],
    ['@localhost:53', { host: 'localhost', port: 53 }],
    ['@::1', { host: '::1' }],
    ['@[::1]', { host: '::1' }],
    ['@[::1]:8053', { host: '::1', port: 8053 }],
  ];
  for (const [input, expected] of table) {
    it(input, () => assert.deepEqual(parseServerArg(input), expected));
  }
});
