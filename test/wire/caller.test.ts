import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALLER_OPTION, callerOption, callerProblem, MAX_CALLER_LENGTH } from '../../src/wire/caller.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { type EdnsRequest, parseQuery, readEdnsRequest } from '../../src/wire/query.js';
import { Type } from '../../src/wire/types.js';

const NAME = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';

function option(code: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(code, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}

/** What readEdnsRequest reads from a query whose OPT carries `options`. */
function read(...options: Buffer[]): EdnsRequest {
  const query = encodeQuery({ id: 1, name: NAME, qtype: Type.URI, edns: { options } });
  const parsed = parseQuery(query);
  assert.equal(parsed.kind, 'query');
  if (parsed.kind !== 'query') throw new Error('unreachable');
  return readEdnsRequest(query, parsed.query.edns!);
}

const caller = (text: string | Buffer) => option(CALLER_OPTION, Buffer.isBuffer(text) ? text : Buffer.from(text));

describe('the caller option (EDNS 65001)', () => {
  it('reads a valid caller id: a Lambda name, a host name, an ARN', () => {
    for (const id of [
      'orders-handler',
      'ip-10-0-1-23.ec2.internal',
      'arn:aws:lambda:us-east-1:123456789012:function:orders-handler:live',
    ]) {
      const asked = read(caller(id));
      assert.equal(asked.caller, id);
      assert.equal(asked.callerIgnored, undefined);
    }
  });

  it(`accepts ${MAX_CALLER_LENGTH} bytes and ignores ${MAX_CALLER_LENGTH + 1}`, () => {
    assert.equal(read(caller('a'.repeat(MAX_CALLER_LENGTH))).caller, 'a'.repeat(MAX_CALLER_LENGTH));
    const long = read(caller('a'.repeat(MAX_CALLER_LENGTH + 1)));
    assert.equal(long.caller, undefined);
    assert.equal(long.callerIgnored, 'too_long');
  });

  it('ignores an empty id, and ids with a space, a control byte, DEL or a non-ASCII byte', () => {
    assert.equal(read(caller('')).callerIgnored, 'empty');
    for (const bad of [
      Buffer.from('a b'),
      Buffer.from('a\nb'),
      Buffer.from([0x61, 0x7f]),
      Buffer.from([0x61, 0xc3, 0xa9]),
      Buffer.from([0]),
    ]) {
      const asked = read(caller(bad));
      assert.equal(asked.caller, undefined, bad.toString('hex'));
      assert.equal(asked.callerIgnored, 'bad_bytes', bad.toString('hex'));
    }
  });

  it('keeps the first of two caller options and counts the second as ignored', () => {
    const asked = read(caller('first'), caller('second'));
    assert.equal(asked.caller, 'first');
    assert.equal(asked.callerIgnored, 'duplicate');
    assert.equal(asked.malformed, undefined, 'never a FORMERR');
  });

  it('reads the caller beside a COOKIE and an NSID, in any order, without changing them', () => {
    const cookie = Buffer.from('2464c4abcf10c957', 'hex');
    for (const options of [
      [caller('svc'), option(10, cookie), option(3, Buffer.alloc(0))],
      [option(3, Buffer.alloc(0)), option(10, cookie), caller('svc')],
    ]) {
      const asked = read(...options);
      assert.equal(asked.caller, 'svc');
      assert.equal(asked.nsid, true);
      assert.deepEqual(Buffer.from(asked.cookie!), cookie);
      assert.equal(asked.malformed, undefined);
    }
  });

  it('leaves caller undefined when no caller option is present', () => {
    const asked = read(option(3, Buffer.alloc(0)));
    assert.equal(asked.caller, undefined);
    assert.equal(asked.callerIgnored, undefined);
  });

  it('callerOption encodes what readEdnsRequest and decodeMessage read back', () => {
    const bytes = callerOption('orders-handler');
    const query = encodeQuery({ id: 9, name: NAME, qtype: Type.TXT, edns: { udpSize: 1232, options: [bytes] } });
    const decoded = decodeMessage(query);
    assert.deepEqual(
      decoded.edns?.options.map((o) => [o.code, o.data.toString('latin1')]),
      [[CALLER_OPTION, 'orders-handler']],
    );
    assert.equal(read(bytes).caller, 'orders-handler');
  });

  it('callerProblem is the one rule: visible ASCII, 1-128 bytes', () => {
    assert.equal(callerProblem(Buffer.from('!~')), undefined);
    assert.equal(callerProblem(Buffer.from(' ')), 'bad_bytes');
    assert.equal(callerProblem(Buffer.alloc(0)), 'empty');
    assert.equal(callerProblem(Buffer.alloc(129, 0x61)), 'too_long');
  });
});
