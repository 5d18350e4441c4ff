/**
 * The config's `targets` policy where the CLI writes routes (`route set`, `zone import`): a
 * refused target writes nothing and says why in one line; a credential-like query parameter is
 * written with a warning on stderr that does not repeat the secret.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const L1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';

describe('psarn and the targets policy', () => {
  const s = new Sandbox();
  before(() => s.ok(['db', 'init']));
  after(() => s.cleanup());

  const routes = async () => s.ok(['route', 'list', '--json']);

  it('route set refuses the cloud metadata address, loopback and private hosts by default; nothing is written', async () => {
    const before = await routes();
    for (const [target, why] of [
      ['https://169.254.169.254/latest/meta-data/iam/security-credentials/', /link-local address \(RFC 3927\)/],
      ['https://127.0.0.1:8443/hook', /loopback address/],
      ['https://localhost/hook', /loopback name/],
      ['https://10.0.0.7/hook', /private address \(RFC 1918\)/],
      ['https://[fd00::7]/hook', /unique local address/],
    ] as const) {
      const r = await s.run(['route', 'set', P, '--target', L1, '--target', target]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^psarn: target '[^\n]+' is not allowed: [^\n]+ \(config key targets\)\n$/);
      assert.match(r.stderr, why);
    }
    assert.equal(await routes(), before);
  });

  it('an explicit httpsHosts entry allows a loopback target (env PSARN_TARGETS_HTTPS_HOSTS)', async () => {
    s.env.PSARN_TARGETS_HTTPS_HOSTS = '*,127.0.0.1';
    try {
      const r = await s.run(['route', 'set', P, '--target', 'https://127.0.0.1:8443/hook']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
    } finally {
      delete s.env.PSARN_TARGETS_HTTPS_HOSTS;
    }
  });

  it('route set refuses an ARN outside the allowed accounts', async () => {
    s.env.PSARN_TARGETS_ACCOUNTS = '210987654321';
    try {
      const r = await s.run(['route', 'set', P, '--target', L1]);
      assert.equal(r.status, 2);
      assert.match(
        r.stderr,
        /^psarn: [^\n]*account '123456789012' is not in targets\.accounts \(210987654321\)[^\n]*\n$/,
      );
    } finally {
      delete s.env.PSARN_TARGETS_ACCOUNTS;
    }
  });

  it('route set writes a target with a token in its query, with one warning that hides the value', async () => {
    const r = await s.run(['route', 'set', P, '--target', 'https://hooks.example.com/in?page=2&token=s3cr3t']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^updated /);
    // What changed is printed too, with the value hidden: output ends up in logs.
    assert.match(
      r.stdout,
      /^ {2}target 'https:\/\/hooks\.example\.com\/in\?page=…&token=…': \(none\) → weight 1, priority 10$/m,
    );
    assert.ok(!r.stdout.includes('s3cr3t'));
    assert.match(
      r.stderr,
      /^psarn: warning: target 'https:\/\/hooks\.example\.com\/in\?page=…&token=…' has what looks like a credential in its query string \('token'\); [^\n]+\n$/,
    );
    assert.ok(!r.stderr.includes('s3cr3t'));
  });

  it('zone import refuses a private target and imports nothing', async () => {
    const before = await routes();
    const file = s.path('private.zone');
    writeFileSync(
      file,
      `$ORIGIN ${ZONE}\n$TTL 300\nnew.orders 300 IN URI 10 1 "${L1}"\nhook.orders 300 IN URI 10 1 "https://192.168.1.10/x"\n`,
    );
    const r = await s.run(['zone', 'import', file]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^psarn: '[^']*private\.zone': target 'https:\/\/192\.168\.1\.10\/x' is not allowed: [^\n]*; nothing imported\n$/,
    );
    assert.equal(await routes(), before);
  });

  it('zone import warns about credential-like parameters: five lines at most, then a count', async () => {
    const file = s.path('tokens.zone');
    const lines = Array.from(
      { length: 8 },
      (_, i) => `r${i}.hooks 300 IN URI 10 1 "https://h${i}.example.com/?api_key=k${i}"`,
    );
    writeFileSync(file, `$ORIGIN ${ZONE}\n$TTL 300\n${lines.join('\n')}\n`);
    const r = await s.run(['zone', 'import', file]);
    assert.equal(r.status, 0, r.stderr);
    const err = r.stderr.trimEnd().split('\n');
    assert.equal(err.length, 6);
    assert.ok(
      err.slice(0, 5).every((l) => /^psarn: warning: target 'https:\/\/h\d\.example\.com\/\?api_key=…'/.test(l)),
    );
    assert.equal(err[5], 'psarn: warning: 3 more targets look like they carry credentials');
    assert.ok(!r.stderr.includes('=k1'));
  });
});
