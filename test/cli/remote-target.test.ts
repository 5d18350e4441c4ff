/**
 * Where `--server` sends a command and with which key (src/cli/remote/target.ts): flags win over
 * PSARN_SERVER / PSARN_KEY, `--key-file` reads the `-y` form, and no error ever shows a secret.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.js';
import { parseRemoteServer, remoteTarget } from '../../src/cli/remote/target.js';
import { Sandbox } from './helpers.js';

const SECRET = randomBytes(32).toString('base64');
const OTHER = randomBytes(32).toString('base64');

/** The CliError `fn` throws (fails the test when none). */
function error(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CliError, String(err));
    return err;
  }
  assert.fail('expected a CliError');
}

describe('remoteTarget', () => {
  const box = new Sandbox();
  after(() => box.cleanup());

  it('is undefined without --server and PSARN_SERVER: the command runs on the local database', () => {
    assert.equal(remoteTarget({}, { PSARN_KEY: `k:${SECRET}` }, box.dir), undefined);
    assert.equal(remoteTarget({}, { PSARN_SERVER: '' }, box.dir), undefined);
  });

  it('takes the server and key from the environment, and the flags over it', () => {
    const env = { PSARN_SERVER: 'psarnd.internal:8053', PSARN_KEY: `hmac-sha512:env-key:${SECRET}` };
    const fromEnv = remoteTarget({}, env, box.dir)!;
    assert.deepEqual(fromEnv.server, { host: 'psarnd.internal', port: 8053 });
    assert.equal(fromEnv.key?.name, 'env-key.');
    assert.equal(fromEnv.key?.algorithm, 'hmac-sha512');
    const fromFlags = remoteTarget({ server: '[::1]:5353', key: `flag-key:${OTHER}` }, env, box.dir)!;
    assert.deepEqual(fromFlags.server, { host: '::1', port: 5353 });
    assert.equal(fromFlags.label, '[::1]:5353');
    assert.equal(fromFlags.key?.name, 'flag-key.');
    assert.equal(fromFlags.key?.algorithm, 'hmac-sha256', 'ALG defaults to hmac-sha256, as nsupdate -y');
    assert.deepEqual(fromFlags.key?.secret, Buffer.from(OTHER, 'base64'));
  });

  it('an explicit --db runs locally whatever PSARN_SERVER says; --db with --server is refused', async () => {
    box.env = { PSARN_SERVER: '127.0.0.1:1', PSARN_KEY: `k:${SECRET}` };
    const local = await box.run(['route', 'list', '--db', 'none.db']);
    assert.equal(local.status, 1);
    assert.match(local.stderr, /^psarn: database '.*none\.db' does not exist/);
    const both = await box.run(['route', 'list', '--db', 'none.db', '--server', '127.0.0.1:1']);
    assert.equal(both.status, 2);
    assert.equal(both.stderr, 'psarn: give --db FILE (the local database) or --server (127.0.0.1:1), not both\n');
  });

  it('without a key: unsigned', () => {
    assert.equal(remoteTarget({ server: '10.0.0.5:8053' }, {}, box.dir)!.key, undefined);
  });

  it('the port defaults to 53, as nsupdate', () => {
    assert.deepEqual(parseRemoteServer('10.0.0.5'), { host: '10.0.0.5', port: 53 });
    assert.deepEqual(parseRemoteServer('2001:db8::5'), { host: '2001:db8::5', port: 53 });
  });

  it('reads --key-file: one line [ALG:]NAME:SECRET, comments and blank lines ignored', () => {
    const file = box.path('update.key');
    writeFileSync(file, `# the update key\n\nhmac-sha256:file-key:${SECRET}\n`);
    const t = remoteTarget({ server: '127.0.0.1:53', keyFile: 'update.key' }, { PSARN_KEY: `k:${OTHER}` }, box.dir)!;
    assert.equal(t.key?.name, 'file-key.');
  });

  it('refuses a bad server, a key without a server, --key with --key-file: usage errors', () => {
    for (const bad of ['', 'host:0', 'host:99999', 'ho st:53', '[nope]:53', ':53']) {
      const e = error(() => parseRemoteServer(bad));
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /^invalid --server '.*': .*; write HOST:PORT/);
    }
    assert.match(error(() => remoteTarget({ key: `k:${SECRET}` }, {}, box.dir)).message, /--key needs --server/);
    assert.match(
      error(() => remoteTarget({ server: 'h:53', key: `k:${SECRET}`, keyFile: 'f' }, {}, box.dir)).message,
      /--key or --key-file, not both/,
    );
  });

  it('never shows the secret: a bad key is named by where it came from', () => {
    const cases: [Parameters<typeof remoteTarget>[0], Record<string, string>, RegExp, number][] = [
      [{ server: 'h:53', key: `hmac-md5:k:${SECRET}` }, {}, /^invalid --key: TSIG algorithm must be one of/, 2],
      [{ server: 'h:53', key: `k:${SECRET}!` }, {}, /^invalid --key: the secret of TSIG key 'k' is not base64/, 2],
      [
        { server: 'h:53' },
        { PSARN_KEY: `a:b:c:${SECRET}` },
        /^invalid PSARN_KEY: a TSIG key must be \[ALG:\]NAME:SECRET/,
        1,
      ],
    ];
    for (const [flags, env, message, exit] of cases) {
      const e = error(() => remoteTarget(flags, env, box.dir));
      assert.match(e.message, message);
      assert.equal(e.exitCode, exit);
      assert.ok(!e.message.includes(SECRET.slice(0, 12)), e.message);
    }
    const file = box.path('two.key');
    writeFileSync(file, `k:${SECRET}\nj:${SECRET}\n`);
    const e = error(() => remoteTarget({ server: 'h:53', keyFile: file }, {}, box.dir));
    assert.match(e.message, /must hold one line \[ALG:\]NAME:SECRET/);
    assert.ok(!e.message.includes(SECRET.slice(0, 12)));
    assert.match(
      error(() => remoteTarget({ server: 'h:53', keyFile: 'missing.key' }, {}, box.dir)).message,
      /cannot read --key-file 'missing.key': ENOENT/,
    );
  });
});
