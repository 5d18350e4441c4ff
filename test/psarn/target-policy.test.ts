/** The config's `targets` policy: which targets a route may name, and which get a warning. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_TARGET_POLICY,
  httpsHostEntryProblem,
  redactTarget,
  specialAddress,
  type TargetPolicy,
  TargetPolicyError,
  TargetRules,
} from '../../src/psarn/target-policy.js';

const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:f';

function refused(rules: TargetRules, target: string, reason: RegExp): void {
  assert.throws(
    () => rules.check(target),
    (err: unknown) => {
      assert.ok(err instanceof TargetPolicyError, String(err));
      assert.equal(err.code, 'ERR_TARGET_NOT_ALLOWED');
      assert.match(err.message, reason);
      return true;
    },
    target,
  );
}

const policy = (p: Partial<TargetPolicy>) => new TargetRules({ ...DEFAULT_TARGET_POLICY, ...p });

describe('TargetRules: https hosts under the default policy', () => {
  const rules = new TargetRules(DEFAULT_TARGET_POLICY);

  it('allows public hosts and addresses, and every ARN', () => {
    for (const t of [
      'https://hooks.example.com/orders',
      'https://203.0.113.7:8443/x',
      'https://[2001:db8::1]/x',
      'https://8.8.8.8/',
      'https://172.32.0.1/', // just outside 172.16.0.0/12
      'https://100.128.0.1/', // just outside 100.64.0.0/10
      LAMBDA,
      'arn:aws-cn:sqs:cn-north-1:123456789012:q',
    ]) {
      assert.deepEqual(rules.check(t), [], t);
    }
  });

  const refusedHosts: [string, RegExp][] = [
    ['https://169.254.169.254/latest/meta-data/iam/', /'169\.254\.169\.254' is a link-local address \(RFC 3927\)/],
    ['https://127.0.0.1:8443/hook', /loopback address/],
    ['https://127.1/hook', /'127\.0\.0\.1' is a loopback/], // the URL parser normalises the short form
    ['https://2130706433/', /'127\.0\.0\.1' is a loopback/], // and the decimal one
    ['https://0x7f.0.0.1/', /'127\.0\.0\.1' is a loopback/],
    ['https://localhost/x', /loopback name \(RFC 6761/],
    ['https://LOCALHOST./x', /'localhost' is a loopback name/],
    ['https://api.localhost/x', /loopback name/],
    ['https://[::1]/x', /the loopback address \(RFC 4291/],
    ['https://[::ffff:127.0.0.1]/x', /loopback address \(RFC 1122/], // IPv4-mapped
    ['https://[::ffff:169.254.169.254]/x', /link-local/],
    ['https://[fe80::1]/x', /link-local address \(RFC 4291/],
    ['https://[fd12:3456::1]/x', /unique local address \(RFC 4193\)/],
    ['https://10.1.2.3/x', /private address \(RFC 1918\)/],
    ['https://172.16.0.1/x', /private address \(RFC 1918\)/],
    ['https://172.31.255.255/x', /private address \(RFC 1918\)/],
    ['https://192.168.1.1/x', /private address \(RFC 1918\)/],
    ['https://100.64.0.1/x', /RFC 6598/],
    ['https://0.0.0.0/x', /this network/],
    ['https://0/x', /this network/],
    ['https://[::]/x', /unspecified/],
  ];
  for (const [target, reason] of refusedHosts) {
    it(`refuses ${target}`, () => refused(rules, target, reason));
  }

  it('says what to do, and does not echo query values', () => {
    refused(
      rules,
      'https://169.254.169.254/latest?token=s3cr3t',
      /^target 'https:\/\/169\.254\.169\.254\/latest\?token=…' is not allowed: .*; list it in targets\.httpsHosts only if clients must call it$/,
    );
    assert.throws(
      () => rules.check('https://10.0.0.1/?token=s3cr3t'),
      (err: Error) => !err.message.includes('s3cr3t'),
    );
  });
});

describe('TargetRules: explicit entries', () => {
  it('a loopback or private host is allowed only by an entry that names it: its address, a range or localhost', () => {
    const rules = policy({ httpsHosts: ['*', '127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'localhost'] });
    assert.deepEqual(rules.check('https://127.0.0.1:8443/hook'), []);
    assert.deepEqual(rules.check('https://[::ffff:127.0.0.1]/hook'), []);
    assert.deepEqual(rules.check('https://10.20.30.40/x'), []);
    assert.deepEqual(rules.check('https://[fd00::5]/x'), []);
    assert.deepEqual(rules.check('https://localhost:9000/x'), []);
    refused(rules, 'https://127.0.0.2/x', /loopback/);
    refused(rules, 'https://192.168.0.1/x', /RFC 1918/);
    refused(rules, 'https://169.254.169.254/', /link-local/);
    refused(rules, 'https://api.localhost/', /loopback name/);
  });

  it('a wildcard does not cover private addresses or localhost names', () => {
    const rules = policy({ httpsHosts: ['*.localhost', '*.example.com'] });
    refused(rules, 'https://api.localhost/', /loopback name/);
    assert.deepEqual(rules.check('https://a.b.example.com/'), []);
  });

  it('an allow list of names: exact names and *.domain, nothing else', () => {
    const rules = policy({ httpsHosts: ['hooks.example.com', '*.partner.example', '203.0.113.0/24'] });
    assert.deepEqual(rules.check('https://HOOKS.example.com./x'), []);
    assert.deepEqual(rules.check('https://a.partner.example/x'), []);
    assert.deepEqual(rules.check('https://a.b.partner.example/x'), []);
    assert.deepEqual(rules.check('https://203.0.113.99/x'), []);
    refused(rules, 'https://partner.example/x', /host 'partner\.example' is not in targets\.httpsHosts/);
    refused(rules, 'https://evil.example.com/x', /not in targets\.httpsHosts; add it to the config/);
    refused(rules, 'https://xpartner.example/x', /not in targets\.httpsHosts/);
  });

  it('httpsHosts [] allows no https target; ARNs are still fine', () => {
    const rules = policy({ httpsHosts: [] });
    refused(rules, 'https://hooks.example.com/', /not in targets\.httpsHosts/);
    assert.deepEqual(rules.check(LAMBDA), []);
  });

  it('ARN partitions, accounts and services', () => {
    const rules = policy({ partitions: ['aws'], accounts: ['123456789012'], services: ['lambda', 'sqs'] });
    assert.deepEqual(rules.check(LAMBDA), []);
    assert.deepEqual(rules.check('arn:aws:sqs:us-east-1:123456789012:q'), []);
    refused(
      rules,
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:f',
      /partition 'aws-cn' is not in targets\.partitions \(aws\); add it to the config or pick another target/,
    );
    refused(rules, 'arn:aws:sns:us-east-1:123456789012:t', /service 'sns' is not in targets\.services \(lambda, sqs\)/);
    refused(rules, 'arn:aws:lambda:us-east-1:210987654321:function:f', /account '210987654321' is not in/);
    refused(rules, 'arn:aws:sqs:us-east-1::q', /account '' is not in targets\.accounts/);
    assert.deepEqual(rules.check('https://hooks.example.com/'), [], 'https targets follow httpsHosts only');
  });

  it('a long list is cut in the message', () => {
    const accounts = Array.from({ length: 40 }, (_, i) => String(100000000000 + i));
    refused(policy({ accounts }), LAMBDA, /\(100000000000, .*100000000004, … 35 more\)/);
  });

  it('refuses an invalid entry at construction', () => {
    assert.throws(() => policy({ httpsHosts: ['10.0.0.0/40'] }), RangeError);
    assert.throws(() => policy({ accounts: ['1234'] }), RangeError);
  });
});

describe('TargetRules: the fast path agrees with the URL parser', () => {
  // 'https://H/' takes the fast path when H is a plain name; 'https://H/?' always goes through
  // new URL(): both must allow or refuse alike.
  const hosts = [
    'hooks.example.com',
    'HOOKS.Example.COM.',
    'localhost',
    'LocalHost.',
    'a.localhost',
    'localhost.example.com',
    '127.0.0.1',
    '127.1',
    '2130706433',
    '0x7f000001',
    '0x7F.1',
    '017700000001',
    '10.0.0.1',
    '1.2.3.4.example.com',
    'example.com.10',
    'x-1.example',
    '169.254.169.254',
    '0',
  ];
  for (const policy of [
    DEFAULT_TARGET_POLICY,
    { ...DEFAULT_TARGET_POLICY, httpsHosts: ['hooks.example.com', '127.0.0.0/8'] },
  ]) {
    const rules = new TargetRules(policy);
    for (const host of hosts) {
      it(`${host} under httpsHosts ${policy.httpsHosts.join(',')}`, () => {
        const outcome = (t: string) => {
          try {
            new URL(t);
          } catch {
            return 'invalid URL';
          }
          try {
            rules.check(t);
            return 'allowed';
          } catch (err) {
            return (err as Error).message.replace(/^target '[^']*'/, '');
          }
        };
        assert.equal(outcome(`https://${host}:8443/p`), outcome(`https://${host}:8443/p?`));
      });
    }
  }
});

describe('TargetRules: credential warnings', () => {
  const rules = new TargetRules(DEFAULT_TARGET_POLICY);
  const cases: [string, RegExp | undefined][] = [
    ['https://hooks.example.com/x?token=abc', /\('token'\)/],
    ['https://hooks.example.com/x?access_token=abc&page=2', /\('access_token'\)/],
    ['https://hooks.example.com/x?apiKey=abc', /\('apiKey'\)/],
    ['https://hooks.example.com/x?api_key=abc', /\('api_key'\)/],
    ['https://hooks.example.com/x?key=abc', /\('key'\)/],
    ['https://hooks.example.com/x?client_secret=abc', /\('client_secret'\)/],
    ['https://hooks.example.com/x?password=abc', /\('password'\)/],
    ['https://bucket.s3.amazonaws.com/o?X-Amz-Credential=a&X-Amz-Signature=b', /'X-Amz-Credential', 'X-Amz-Signature'/],
    ['https://acct.blob.core.windows.net/c?sv=2020&sig=abc', /\('sig'\)/],
    ['https://hooks.example.com/x?id=AKIAABCDEFGHIJKLMNOP', /\('id'\)/],
    ['https://hooks.example.com/x?q=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig', /\('q'\)/],
    ['https://hooks.example.com/x?page=2&sort=asc', undefined],
    ['https://hooks.example.com/token/x', undefined],
  ];
  for (const [target, names] of cases) {
    it(`${names ? 'warns about' : 'is quiet about'} ${target}`, () => {
      const warnings = rules.check(target);
      if (names === undefined) return assert.deepEqual(warnings, []);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, names);
      assert.match(warnings[0]!, /targets are served to anyone who can query psarnd: pass secrets another way$/);
      for (const secret of ['abc', 'AKIAABCDEFGHIJKLMNOP', 'eyJhbGciOiJIUzI1NiJ9']) {
        assert.ok(!warnings[0]!.includes(`=${secret}`), `echoes ${secret}: ${warnings[0]}`);
      }
    });
  }
});

describe('helpers', () => {
  it('redactTarget hides every query value, keeps the names, bounds and escapes', () => {
    assert.equal(redactTarget('https://h.example/p?a=1&token=s&flag#frag'), "'https://h.example/p?a=…&token=…&flag'");
    assert.equal(redactTarget('https://h.example/p'), "'https://h.example/p'");
    assert.ok(redactTarget(`https://h.example/${'x'.repeat(5000)}`).length < 320);
  });

  it('specialAddress', () => {
    assert.equal(specialAddress('169.254.169.254')?.kind, 'link-local');
    assert.equal(specialAddress('::ffff:10.0.0.1')?.kind, 'private');
    assert.equal(specialAddress('203.0.113.1'), undefined);
    assert.equal(specialAddress('example.com'), undefined);
  });

  it('httpsHostEntryProblem', () => {
    for (const ok of [
      '*',
      'a.example',
      '*.example.com',
      '127.0.0.1',
      '[::1]',
      '::1',
      '10.0.0.0/8',
      'fd00::/8',
      'localhost',
    ]) {
      assert.equal(httpsHostEntryProblem(ok), undefined, ok);
    }
    for (const bad of ['', 'a b', 'https://a.example', '10.0.0.0/33', 'x/8', '*.', '**.a']) {
      assert.ok(httpsHostEntryProblem(bad), bad);
    }
  });
});
