import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTargetArg, TargetError, validateTarget } from '../../src/psarn/index.js';
import { checkTarget, isPlainArn, parseTargetWeight } from '../../src/psarn/target.js';
import { prng } from '../wire/build.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-created-v1';
const FORBIDDEN =
  'targets may not contain whitespace, quotes, backslashes or control characters (percent-encode them in a URL)';

function rejects(fn: () => unknown, input: string, problem: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TargetError);
    assert.equal(err.code, 'ERR_INVALID_TARGET');
    assert.equal(err.message, `invalid target '${input}': ${problem}`);
    return true;
  });
}

describe('validateTarget', () => {
  const valid = [
    FN,
    `${FN}:live`,
    'arn:aws:sqs:us-east-1:123456789012:orders-audit',
    'arn:aws:sns:us-east-1:123456789012:orders-audit',
    'arn:aws:events:us-east-1:123456789012:event-bus/default',
    'arn:aws:states:us-east-1:123456789012:stateMachine:Checkout',
    'arn:aws:s3:::my-bucket/key=1',
    'arn:aws-cn:lambda:cn-north-1:123456789012:function:F',
    'https://example.com',
    'https://hooks.example.com:8443/orders/created?token=abc&x=%20y#frag',
    'HTTPS://Example.COM/Path',
    'https://[::1]:8443/x',
    `https://example.com/${'a'.repeat(1980)}`,
  ];
  for (const target of valid) {
    it(`accepts ${target.slice(0, 70)}`, () => validateTarget(target));
  }

  const six = 'an ARN has 6 parts arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE';
  const invalid: [string, string, string?][] = [
    ['', 'is empty; give an ARN (arn:...) or an https:// URL'],
    ['arn:aws:lambda', six],
    ['arn:aws:lambda:us-east-1:123456789012', six],
    ['arn:aws:lambda:us-east-1:123456789012:', `resource is empty; ${six}`],
    [
      'arn::lambda:us-east-1:123456789012:function:f',
      "partition '' is invalid; use lowercase letters, digits or - (e.g. aws)",
    ],
    [
      'arn:AWS:lambda:us-east-1:123456789012:function:f',
      "partition 'AWS' is invalid; use lowercase letters, digits or - (e.g. aws)",
    ],
    [
      'arn:aws::us-east-1:123456789012:function:f',
      "service '' is invalid; use lowercase letters, digits or - (e.g. lambda)",
    ],
    [
      'arn:aws:Lambda:us-east-1:123456789012:function:f',
      "service 'Lambda' is invalid; use lowercase letters, digits or - (e.g. lambda)",
    ],
    [
      'arn:aws:lambda:us_east_1:123456789012:function:f',
      "region 'us_east_1' is invalid; use lowercase letters, digits or - (e.g. us-east-1), or leave it empty",
    ],
    [
      'arn:aws:lambda:us-east-1:1234:function:f',
      "account '1234' is invalid; use the 12-digit account id or leave it empty",
    ],
    [`${FN} `, `has whitespace at position ${FN.length + 1}; ${FORBIDDEN}`],
    [`${FN}"`, `has '"' at position ${FN.length + 1}; ${FORBIDDEN}`],
    [`${FN}'`, `has ''' at position ${FN.length + 1}; ${FORBIDDEN}`],
    ['https://a.example/\\x', `has '\\' at position 19; ${FORBIDDEN}`],
    ['https://a.example/\tx', `has a control character at position 19; ${FORBIDDEN}`, 'https://a.example/\\x09x'],
    ['https://a.example/\u00a0', `has whitespace at position 19; ${FORBIDDEN}`],
    ['http://example.com/x', 'uses http://; only https:// URLs are allowed'],
    ['example.com/x', 'is neither an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) nor an https:// URL'],
    [
      'ARN:aws:lambda:us-east-1:123456789012:function:f',
      'is neither an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) nor an https:// URL',
    ],
    ['https://', 'is not a valid URL; write https://HOST[:PORT]/PATH'],
    ['https://exa mple', `has whitespace at position 12; ${FORBIDDEN}`],
    // The message must not repeat the password: it goes to terminals, logs and CI output.
    [
      'https://a:s3cret@example.com/',
      'has user or password information; targets are public in DNS, so pass credentials another way',
      'https://a:***@example.com/',
    ],
    [
      'https://token123@example.com/',
      'has user or password information; targets are public in DNS, so pass credentials another way',
      'https://***@example.com/',
    ],
  ];
  for (const [target, problem, shown] of invalid) {
    it(`rejects ${JSON.stringify(target)}`, () => rejects(() => validateTarget(target), shown ?? target, problem));
  }

  it('limits a target to 2000 bytes, counting UTF-8', () => {
    const ok = `https://example.com/${'a'.repeat(2000 - 20)}`;
    validateTarget(ok);
    assert.throws(() => validateTarget(`${ok}a`), /is 2001 bytes; the limit is 2000$/);
    assert.throws(() => validateTarget(`https://example.com/${'é'.repeat(991)}`), /is 2002 bytes/);
  });
});

describe('validateTarget fast path (isPlainArn)', () => {
  const accepts = (target: string) => {
    try {
      checkTarget(target);
      return true;
    } catch {
      return false;
    }
  };
  /** ARN-shaped strings, many one character away from valid, from a seeded generator. */
  function arnLike(random: () => number): string {
    const pick = (chars: string | string[]) => chars[Math.floor(random() * chars.length)]!;
    const field = (chars: string, max: number) => {
      let out = '';
      for (let n = Math.floor(random() * max); n > 0; n--) out += pick(chars);
      return out;
    };
    const usual = 'abz09-';
    const odd = 'aZ9-_:. "\\\'`é\t\u007f\u0085\u00a0';
    const parts = [
      random() < 0.95 ? 'arn' : pick(['ARN', 'arn ', 'urn']),
      field(random() < 0.9 ? usual : odd, random() < 0.05 ? 70 : 6),
      field(random() < 0.9 ? usual : odd, random() < 0.05 ? 70 : 6),
      field(random() < 0.9 ? usual : odd, random() < 0.05 ? 70 : 10),
      random() < 0.8 ? '123456789012' : field('0123456789a', 14),
      field(random() < 0.8 ? 'abcXYZ/:=@$%()09-_' : odd, random() < 0.01 ? 2100 : 12),
    ];
    const joined = parts.join(':');
    return random() < 0.05 ? joined.slice(0, Math.floor(random() * joined.length)) : joined;
  }

  it('accepts exactly the ASCII ARNs the full checks accept (20,000 seeded strings)', () => {
    const random = prng(8);
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      const target = arnLike(random);
      const full = accepts(target);
      // Never accepts what the full checks refuse; takes every valid printable-ASCII ARN.
      const expected = full && target.startsWith('arn:') && /^[\x21-\x7e]*$/.test(target);
      assert.equal(isPlainArn(target), expected, JSON.stringify(target));
      // The same answer from the UTF-8 bytes, inside a larger buffer as in a zone file.
      const bytes = Buffer.from(`"${target}"\n`);
      assert.equal(isPlainArn(bytes, 1, bytes.length - 2), expected, `bytes of ${JSON.stringify(target)}`);
      if (expected) plain++;
    }
    // The generator reaches both sides (a test that only ever sees one side proves nothing).
    assert.ok(plain > 2000 && plain < 18_000, `${plain} plain ARNs`);
  });

  it('takes the bench and export targets, and leaves URLs to the full checks', () => {
    assert.ok(isPlainArn('arn:aws:lambda:us-east-1:123456789012:function:svc12-route123456-blue'));
    assert.ok(isPlainArn('arn:aws:s3:::my-bucket/key=1'));
    assert.ok(!isPlainArn('https://example.com/x'));
    assert.ok(!isPlainArn(`arn:aws:sqs:us-east-1:123456789012:${'q'.repeat(2000)}`));
  });
});

describe('parseTargetArg', () => {
  const cases: [string, string, number, number][] = [
    [FN, FN, 1, 10],
    [`${FN}=90`, FN, 90, 10],
    [`${FN}=0@20`, FN, 0, 20],
    [`${FN}=65535@65535`, FN, 65535, 65535],
    [`${FN}=007@0`, FN, 7, 0],
    ['https://h.example/p?a=b', 'https://h.example/p?a=b', 1, 10],
    ['https://h.example/p?a=b=5', 'https://h.example/p?a=b', 5, 10],
    ['https://h.example/p?n=5=1@2', 'https://h.example/p?n=5', 1, 2],
    ['https://h.example/p?x=', 'https://h.example/p?x=', 1, 10],
    ['https://h.example/p?a=1&b=x', 'https://h.example/p?a=1&b=x', 1, 10],
    ['https://h.example/p?e=a@b', 'https://h.example/p?e=a@b', 1, 10],
    ['https://h.example/p?a=1&b=2=3', 'https://h.example/p?a=1&b=2', 3, 10],
    ['https://h.example/p#k=v', 'https://h.example/p#k=v', 1, 10],
    ['https://h.example/p=5', 'https://h.example/p', 5, 10],
    ['https://h.example/a=b=5', 'https://h.example/a=b', 5, 10],
    ['https://h.example/p=5@0', 'https://h.example/p', 5, 0],
    ['arn:aws:s3:::bucket/k=v=1', 'arn:aws:s3:::bucket/k=v', 1, 10],
  ];
  for (const [arg, target, weight, priority] of cases) {
    it(`parses ${arg.slice(-40)}`, () => assert.deepEqual(parseTargetArg(arg), { target, weight, priority }));
  }

  const form = 'write =WEIGHT or =WEIGHT@PRIORITY with integers from 0 to 65535';
  const bad: [string, string][] = [
    [`${FN}=65536`, 'weight 65536 is out of range; use an integer from 0 to 65535'],
    [`${FN}=1@70000`, 'priority 70000 is out of range; use an integer from 0 to 65535'],
    [`${FN}=99999999999999999999`, 'weight 99999999999999999999 is out of range; use an integer from 0 to 65535'],
    [`${FN}=`, `'=' is not a weight; ${form}; if '=' is part of the target, give the weight after it: '${FN}==1'`],
    [
      `${FN}=-1`,
      `'=-1' is not a weight; ${form}; if '=-1' is part of the target, give the weight after it: '${FN}=-1=1'`,
    ],
    [
      `${FN}=5@`,
      `'=5@' is not a weight; ${form}; if '=5@' is part of the target, give the weight after it: '${FN}=5@=1'`,
    ],
    [
      `${FN}=@5`,
      `'=@5' is not a weight; ${form}; if '=@5' is part of the target, give the weight after it: '${FN}=@5=1'`,
    ],
    // Issue 9: these were stored as the literal targets '…:function:x=abc', '…=9O'.
    [
      `${FN}=abc`,
      `'=abc' is not a weight; ${form}; if '=abc' is part of the target, give the weight after it: '${FN}=abc=1'`,
    ],
    [
      `${FN}=9O`,
      `'=9O' is not a weight; ${form}; if '=9O' is part of the target, give the weight after it: '${FN}=9O=1'`,
    ],
    [
      `${FN}=1.5`,
      `'=1.5' is not a weight; ${form}; if '=1.5' is part of the target, give the weight after it: '${FN}=1.5=1'`,
    ],
    [
      `${FN}= 5`,
      `'= 5' is not a weight; ${form}; if '= 5' is part of the target, give the weight after it: '${FN}= 5=1'`,
    ],
    [
      `${FN}=+5`,
      `'=+5' is not a weight; ${form}; if '=+5' is part of the target, give the weight after it: '${FN}=+5=1'`,
    ],
    [
      'arn:aws:s3:::bucket/k=v',
      `'=v' is not a weight; ${form}; if '=v' is part of the target, give the weight after it: 'arn:aws:s3:::bucket/k=v=1'`,
    ],
    [
      'https://h.example/a=b',
      `'=b' is not a weight; ${form}; if '=b' is part of the target, give the weight after it: 'https://h.example/a=b=1'`,
    ],
    [
      'https://h.example/p?a=1&b=2=x',
      `'=x' is not a weight; ${form}; if '=x' is part of the target, give the weight after it: 'https://h.example/p?a=1&b=2=x=1'`,
    ],
    // A query value of digits could be a weight: refused rather than guessed.
    [
      'https://h.example/p?n=5',
      "'=5' could be the value of the query parameter 'n' or a weight; write 'https://h.example/p?n=5=1' to keep it in the URL (weight 1)",
    ],
    [
      'https://h.example/p?a=b&page=2@3',
      "'=2@3' could be the value of the query parameter 'page' or a weight; write 'https://h.example/p?a=b&page=2@3=1' to keep it in the URL (weight 1)",
    ],
  ];
  for (const [arg, problem] of bad) {
    it(`rejects ${arg.slice(-30)}`, () => rejects(() => parseTargetArg(arg), arg, problem));
  }

  it('names the target part when the target itself is bad', () => {
    rejects(
      () => parseTargetArg('arn:aws:lambda=90'),
      'arn:aws:lambda',
      'an ARN has 6 parts arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE',
    );
  });
});

describe('parseTargetWeight (psarn route weight)', () => {
  it('takes the last = as the weight, whatever precedes it; the priority only when given', () => {
    assert.deepEqual(parseTargetWeight(`${FN}=80`), { target: FN, weight: 80 });
    assert.deepEqual(parseTargetWeight(`${FN}=0@20`), { target: FN, weight: 0, priority: 20 });
    assert.deepEqual(parseTargetWeight('https://h.example/p?n=5'), { target: 'https://h.example/p?n', weight: 5 });
    assert.deepEqual(parseTargetWeight('https://h.example/p?n=5=2'), { target: 'https://h.example/p?n=5', weight: 2 });
  });

  it('refuses a target without a weight, or with one that is not a number', () => {
    rejects(() => parseTargetWeight(FN), FN, `has no weight; write TARGET=WEIGHT[@PRIORITY], e.g. '${FN}=50'`);
    rejects(
      () => parseTargetWeight(`${FN}=x`),
      `${FN}=x`,
      "'=x' is not a weight; write =WEIGHT or =WEIGHT@PRIORITY with integers from 0 to 65535",
    );
    rejects(
      () => parseTargetWeight(`${FN}=1@99999`),
      `${FN}=1@99999`,
      'priority 99999 is out of range; use an integer from 0 to 65535',
    );
  });
});
