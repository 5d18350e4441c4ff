/**
 * Every error of `psarn` is one line on stderr, nothing on stdout, exit 2 for a wrong call and
 * 1 for a failure at run time (issue 9) — checked on the real binary, in a child process, over
 * every command and flag: a missing or extra argument, an unknown command, subcommand or flag,
 * an empty value, a flag without its value, `--ttl -5`, a bad `@HOST:PORT` or TYPE in dig, a
 * server name that does not resolve, a read-only database, a `--db` path under a file.
 * Help and the version, where users type them first, go to stdout with exit 0.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { Store } from '../../src/store/index.js';
import { entryArgs } from '../helpers/daemon.js';
import { PARAMS, tempDir, weighted, ZONE } from '../store/helpers.js';

const READ_ONLY = 'a read-only database';
const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const MISSING = 'arn:aws:psarn:us-east-1:123456789012:orders/missing';
const L1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';
/** A TSIG secret (base64 of 32 bytes) that no error line may show. */
const KEY_SECRET = Buffer.alloc(32, 7).toString('base64');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A UDP port on 127.0.0.1 where nothing listens (bound, then closed). */
const deadPort = await (async () => {
  const dead = createSocket('udp4');
  await new Promise<void>((r) => dead.bind(0, '127.0.0.1', r));
  const { port } = dead.address();
  await new Promise<void>((r) => dead.close(() => r()));
  return port;
})();

/** Runs the CLI binary in a child process (as nobody when asked: root ignores file modes). */
function psarn(
  argv: string[],
  options: { cwd?: string; env: Record<string, string>; asNobody?: boolean },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, ...entryArgs('cli'), ...argv];
    const drop = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const [cmd, ...args] = options.asNobody ? [...drop, ...node] : node;
    const child = spawn(cmd!, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs `fn` over `items`, four at a time (each is a node process of ~0.3 s). */
async function fourAtATime<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

/** Whether `setpriv` can drop root to nobody (a read-only file means nothing to root). */
function canDropRoot(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
    return true;
  } catch {
    return false;
  }
}

describe('psarn errors through the real binary: one line on stderr, exit 2 (usage) or 1 (runtime)', () => {
  const tmp = tempDir();
  const db = tmp.file();
  const results = new Map<string, Result>();
  const dropRoot = canDropRoot();
  const isRoot = process.getuid?.() === 0;

  /** [title, argv, exit status, the line (after 'psarn: ' or ';; ')] */
  const cases: [string, string[], number, RegExp][] = [];
  const usage = (title: string, argv: string[], line: RegExp) => cases.push([title, argv, 2, line]);
  const runtime = (title: string, argv: string[], line: RegExp) => cases.push([title, argv, 1, line]);

  // Commands and subcommands.
  usage('no command', [], /^missing command; run 'psarn help'/);
  usage('only a global flag', ['--db', 'x.db'], /^missing command/);
  usage('unknown command', ['frobnicate'], /^unknown command 'frobnicate'; run 'psarn help'/);
  usage('a typo in a command', ['rout', 'list'], /^unknown command 'rout' \(did you mean 'route'\?\)/);
  usage('unknown subcommand', ['route', 'move'], /^unknown command 'route move'; use one of: route set, /);
  usage('missing subcommand', ['zone'], /^missing command after 'zone'; use one of: zone export, zone import$/);
  usage('help for an unknown command', ['help', 'nope'], /^unknown command 'nope'/);
  usage('help for an unknown subcommand', ['help', 'route', 'nope'], /^unknown command 'route nope'/);
  usage('help with an extra word', ['help', 'route', 'set', 'x'], /^unexpected argument 'x' for 'psarn help'/);
  // Flags.
  usage(
    'unknown flag before the command',
    ['--dbb', 'x', 'route', 'list'],
    /^unknown flag '--dbb' \(did you mean --db\?\)/,
  );
  usage('unknown flag', ['route', 'list', '--bogus'], /^unknown flag '--bogus' for 'psarn route list'/);
  usage('unknown short flag', ['route', 'list', '-x'], /^unknown flag '-x' for 'psarn route list'/);
  usage('a flag of another command', ['route', 'get', P, '--ttl', '5'], /^unknown flag '--ttl' for 'psarn route get'/);
  usage('--version after a command', ['route', 'list', '--version'], /^unknown flag '--version'/);
  usage('-v after a command', ['flush', P, '-v'], /^unknown flag '-v' for 'psarn flush'/);
  usage(
    'a flag without its value',
    ['route', 'set', P, '--target'],
    /^missing value for --target in 'psarn route set'/,
  );
  usage('a flag where a value belongs', ['route', 'set', P, '--target', '--ttl', '5'], /^missing value for --target/);
  usage('--db without a value', ['route', 'list', '--db'], /^missing value for --db in 'psarn route list'/);
  usage('-o without a value', ['zone', 'export', P, '-o'], /^missing value for -o in 'psarn zone export'/);
  usage('--payload without a value', ['invoke', P, '--payload'], /^missing value for --payload/);
  usage('an empty --target', ['route', 'set', P, '--target', ''], /^empty value for --target/);
  usage('an empty --db', ['route', 'list', '--db', ''], /^empty value for --db/);
  usage('an empty --config', ['route', 'list', '--config='], /^empty value for --config/);
  usage('an empty --ttl', ['route', 'alias', P, MISSING, '--ttl', ''], /^empty value for --ttl/);
  usage('an empty --policy', ['route', 'set', P, '--target', L1, '--policy='], /^empty value for --policy/);
  usage('an empty --output', ['zone', 'export', P, '--output', ''], /^empty value for --output/);
  usage('a value for a boolean flag', ['route', 'list', '--json=yes'], /^--json takes no value in 'psarn route list'/);
  // --server, --key, --key-file (docs/cli.md#remote).
  usage('--server without a value', ['route', 'list', '--server'], /^missing value for --server in 'psarn route list'/);
  usage('an empty --key', ['route', 'list', '--server', '127.0.0.1:53', '--key='], /^empty value for --key/);
  usage(
    '--server with a bad port',
    ['route', 'list', '--server', '127.0.0.1:99999'],
    /^invalid --server '127\.0\.0\.1:99999': port '99999' is not 1-65535; write HOST:PORT/,
  );
  usage('--server without a host', ['flush', P, '--server', ':53'], /^invalid --server ':53': the host is missing/);
  usage('--key without --server', ['route', 'list', '--key', `k:${KEY_SECRET}`], /^--key needs --server HOST:PORT/);
  usage(
    '--key-file without --server',
    ['route', 'list', '--key-file', 'k.key'],
    /^--key-file needs --server HOST:PORT/,
  );
  usage(
    '--key with a secret that is not base64, never echoed',
    ['route', 'list', '--server', '127.0.0.1:53', '--key', 'k:not*base64'],
    /^invalid --key: the secret of TSIG key 'k' is not base64$/,
  );
  usage(
    '--key with another algorithm',
    ['route', 'get', P, '--server', '127.0.0.1:53', '--key', `hmac-md5:k:${KEY_SECRET}`],
    /^invalid --key: TSIG algorithm must be one of hmac-sha256, hmac-sha512$/,
  );
  usage(
    '--key and --key-file',
    ['route', 'list', '--server', '127.0.0.1:53', '--key', `k:${KEY_SECRET}`, '--key-file', 'k.key'],
    /^give --key or --key-file, not both$/,
  );
  usage(
    'zone import with --server',
    ['zone', 'import', 'x.zone', '--server', '127.0.0.1:53'],
    /^psarn zone import does not work with --server: run it on the server's host/,
  );
  usage(
    '--db and --server',
    ['route', 'get', P, '--db', 'x.db', '--server', '127.0.0.1:53'],
    /^give --db FILE \(the local database\) or --server \(127\.0\.0\.1:53\), not both$/,
  );
  usage(
    'a bad zone with --server: checked before connecting',
    ['flush', 'example.com', '--server', `127.0.0.1:${deadPort}`],
    /^invalid zone 'example\.com'/,
  );
  usage('db init with --server', ['db', 'init', '--server', '127.0.0.1:53'], /^psarn db init creates a local database/);
  usage(
    'route delete --force with --server',
    ['route', 'delete', P, '--force', '--server', '127.0.0.1:53'],
    /^--force cannot travel in a DNS UPDATE/,
  );
  // Values.
  usage(
    '--ttl -5',
    ['route', 'set', P, '--target', L1, '--ttl', '-5'],
    /^invalid --ttl '-5': use whole seconds from 0 to 172800$/,
  );
  usage('--ttl=-5', ['route', 'set', P, '--target', L1, '--ttl=-5'], /^invalid --ttl '-5'/);
  usage('--ttl 5m', ['route', 'set', P, '--target', L1, '--ttl', '5m'], /^invalid --ttl '5m'/);
  usage('--ttl over the maximum', ['route', 'alias', MISSING, P, '--ttl', '172801'], /^invalid --ttl '172801'/);
  usage('--policy random', ['route', 'set', P, '--target', L1, '--policy', 'random'], /^invalid --policy 'random'/);
  usage('--meta without =', ['route', 'set', P, '--target', L1, '--meta', 'team'], /^invalid --meta 'team'/);
  usage('a weight out of range', ['route', 'set', P, '--target', `${L1}=70000`], /weight 70000 is out of range/);
  usage('not a target', ['route', 'set', P, '--target', 'orders-v1'], /^--target: invalid target 'orders-v1'/);
  usage('no --target for a new route', ['route', 'set', MISSING], /^missing --target: route '.*' does not exist yet/);
  usage('route weight without a target', ['route', 'weight', P], /^missing .* for 'psarn route weight'/);
  usage('route weight: not a number', ['route', 'weight', P, `${L1}=abc`], /weight/);
  usage(
    'route weight: a target not on the route',
    ['route', 'weight', P, `${L1}x=5`],
    /^target '.*orders-v1x' is not on route '.*orders\/created' \(its targets: /,
  );
  usage('--payload not JSON', ['invoke', P, '--payload', '{x'], /^invalid --payload '\{x': not JSON/);
  usage('--payload @', ['invoke', P, '--payload', '@'], /^invalid --payload '@'/);
  usage(
    '--payload file missing',
    ['invoke', P, '--payload', '@missing.json'],
    /^cannot read --payload file 'missing\.json'/,
  );
  // Arguments.
  usage('missing psARN', ['route', 'get'], /^missing <psARN> for 'psarn route get'; usage: psarn route get/);
  usage('missing alias target', ['route', 'alias', P], /^missing <target psARN> for 'psarn route alias'/);
  usage('missing zone', ['flush'], /^missing <psARN\|zone> for 'psarn flush'/);
  usage(
    'hold: not an SQS queue',
    ['hold', P, '--queue', 'arn:aws:sns:us-east-1:123456789012:t'],
    /^invalid --queue .*is not sqs/,
  );
  runtime('release: not held', ['release', P], /^route '.*orders\/created' is not held; nothing released$/);
  usage('missing file', ['zone', 'import'], /^missing <file> for 'psarn zone import'/);
  usage('apply without a file', ['apply', '--dry-run'], /^missing <routes\.yaml> for 'psarn apply'/);
  runtime(
    'apply of a missing file',
    ['apply', 'missing.yaml'],
    /^routes file missing\.yaml: cannot read it \(ENOENT\)$/,
  );
  usage('extra argument', ['route', 'get', P, 'extra'], /^unexpected argument 'extra' for 'psarn route get'/);
  usage('extra list argument', ['route', 'list', 'a', 'b'], /^unexpected argument 'b' for 'psarn route list'/);
  usage('extra db init argument', ['db', 'init', 'x'], /^unexpected argument 'x' for 'psarn db init'/);
  usage(
    'extra key generate argument',
    ['key', 'generate', 'a', 'b'],
    /^unexpected argument 'b' for 'psarn key generate'/,
  );
  usage(
    'key generate: another algorithm',
    ['key', 'generate', '--algorithm', 'hmac-md5'],
    /^invalid --algorithm 'hmac-md5': use hmac-sha256 or hmac-sha512$/,
  );
  usage('key generate: a bad name', ['key', 'generate', 'a b'], /^invalid key name 'a b': must be a key name/);
  usage('an empty psARN', ['route', 'delete', ''], /^empty argument 1 for 'psarn route delete'/);
  usage('an empty file', ['zone', 'import', ''], /^empty argument 1 for 'psarn zone import'/);
  usage(
    'a malformed psARN',
    ['route', 'get', 'arn:aws:psarn:us-east-1:12345:orders'],
    /^invalid psARN 'arn:aws:psarn:us-east-1:12345:orders'/,
  );
  usage('not a zone', ['flush', 'example.com'], /^invalid zone 'example\.com'/);
  usage('an alias to itself', ['route', 'alias', P, P], /cannot alias .* to itself/);
  // route history, route revert (docs/design.md#history-and-revert).
  usage('history without a psARN', ['route', 'history'], /^missing <psARN> for 'psarn route history'/);
  usage('history --limit 0', ['route', 'history', P, '--limit', '0'], /^invalid --limit '0': use a whole number/);
  usage('revert --to x', ['route', 'revert', P, '--to', 'x'], /^invalid --to 'x': use a whole number from 1 to/);
  usage(
    'revert --to a serial the zone never had',
    ['route', 'revert', P, '--to', '99'],
    /^serial 99 is not one of zone .*: its journal keeps serials 1 to 2; 'psarn route history .*' lists the serials/,
  );
  usage(
    'history with --server',
    ['route', 'history', P, '--server', '127.0.0.1:53'],
    /^psarn route history reads the change journal, which psarnd does not serve over DNS .*--db FILE/,
  );
  usage(
    'revert with --server',
    ['route', 'revert', P, '--server', '127.0.0.1:53'],
    /^psarn route revert reads the change journal, which psarnd does not serve over DNS/,
  );
  runtime('history of a route never written', ['route', 'history', MISSING], /^route '.*orders\/missing' not found/);
  // route callers, graph (docs/design.md#the-graph, #change-confirmation).
  usage('callers without a psARN', ['route', 'callers'], /^missing <psARN> for 'psarn route callers'/);
  usage('callers of a bad psARN', ['route', 'callers', 'arn:aws:psarn:x'], /^invalid psARN 'arn:aws:psarn:x'/);
  usage(
    'callers with --server',
    ['route', 'callers', P, '--server', '127.0.0.1:53'],
    /^psarn route callers reads the caller map in the database, which psarnd does not serve over DNS .*\/api\/v1\/callers/,
  );
  runtime('callers of a missing route', ['route', 'callers', MISSING], /^route '.*orders\/missing' not found in /);
  usage('graph --format png', ['graph', '--format', 'png'], /^invalid --format 'png': use dot, mermaid, json$/);
  usage('graph of a bad zone', ['graph', 'example.com'], /^invalid zone 'example\.com'/);
  usage('graph with two zones', ['graph', ZONE, ZONE], /^unexpected argument '.*' for 'psarn graph'/);
  usage(
    'graph with --server',
    ['graph', '--server', '127.0.0.1:53'],
    /^psarn graph reads the caller map in the database, which psarnd does not serve over DNS .*\/api\/v1\/graph/,
  );
  runtime(
    'graph of a missing zone',
    ['graph', '999999999999.us-east-1.aws.psarn.internal'],
    /^zone '999999999999\..*' not found in /,
  );
  // dig, resolve, invoke.
  usage('dig without a name', ['dig', '+short'], /^missing <psARN\|name> for 'psarn dig'/);
  usage('dig: an unknown TYPE', ['dig', P, 'BOGUS'], /^unknown type 'BOGUS'; use URI/);
  usage('dig: TYPEnnn out of range', ['dig', P, 'TYPE70000'], /^invalid type 'TYPE70000'/);
  usage(
    'dig: a bad port',
    ['dig', P, '@127.0.0.1:99999'],
    /^invalid server '@127\.0\.0\.1:99999': port '99999' is not 1-65535/,
  );
  usage('dig: no port after the colon', ['dig', P, '@127.0.0.1:'], /^invalid server '@127\.0\.0\.1:'/);
  usage('dig: no host', ['dig', P, '@'], /^invalid server '@': the host is missing/);
  usage('dig: no host before the port', ['dig', P, '@:53'], /^invalid server '@:53'/);
  usage('dig: an unclosed bracket', ['dig', P, '@[::1'], /^invalid server '@\[::1'/);
  usage('dig: two servers', ['dig', P, '@127.0.0.1', '@127.0.0.2'], /^unexpected second server '@127\.0\.0\.2'/);
  usage('dig: an unknown option', ['dig', P, '+trace'], /^unknown dig option '\+trace'/);
  usage('dig: +timeout=0', ['dig', P, '+timeout=0'], /^invalid '\+timeout=0'/);
  usage('dig: a flag', ['dig', P, '--short'], /^unknown flag '--short' for 'psarn dig'/);
  usage('resolve without a psARN', ['resolve'], /^missing <psARN> for 'psarn resolve'/);
  usage('resolve: a bad server', ['resolve', P, '@bad_host!'], /^invalid server '@bad_host!'/);
  usage('invoke: two servers', ['invoke', P, '@a', '@b'], /^unexpected second server '@b'/);
  // rollout (docs/cli.md#psarn-rollout).
  usage('rollout start without --to', ['rollout', 'start', P], /^missing --to <ARN\|URL> for 'psarn rollout start'/);
  usage(
    'rollout start: bad --steps',
    ['rollout', 'start', P, '--to', L1, '--steps', '50,10'],
    /^invalid --steps '50,10'/,
  );
  usage(
    'rollout status: two psARNs',
    ['rollout', 'status', P, P],
    /^unexpected argument .* for 'psarn rollout status'/,
  );
  usage('rollout pause without a psARN', ['rollout', 'pause'], /^missing <psARN> for 'psarn rollout pause'/);
  usage('rollout resume without a psARN', ['rollout', 'resume'], /^missing <psARN> for 'psarn rollout resume'/);
  usage('rollout promote: extra argument', ['rollout', 'promote', P, 'x'], /^unexpected argument 'x'/);
  usage('rollout abort: a bad psARN', ['rollout', 'abort', 'arn:x'], /^invalid psARN 'arn:x'/);
  // Runtime failures.
  runtime(
    'a missing database',
    ['route', 'list', '--db', 'none.db'],
    /^database '.*none\.db' does not exist; .*psarn db init/,
  );
  runtime(
    'a --db path under a file',
    ['db', 'init', '--db', 'afile/x.db'],
    /^cannot create database '.*afile\/x\.db': '.*afile' is a file, not a folder; give a database path inside a folder$/,
  );
  runtime(
    'a --db path deeper under a file',
    ['db', 'init', '--db', 'afile/a/b/x.db'],
    /^cannot create database .*'.*afile' is a file, not a folder/,
  );
  runtime(
    'a --db that is a folder',
    ['route', 'list', '--db', 'afolder'],
    /^database '.*afolder' is a folder, not a database file; pass --db FILE/,
  );
  runtime(
    'zone export -o a folder',
    ['zone', 'export', P, '-o', 'afolder'],
    /^cannot write 'afolder': EISDIR \(a folder; give a file path\)$/,
  );
  runtime(
    'zone export -o under a file',
    ['zone', 'export', P, '-o', 'afile/x.zone'],
    /^cannot write 'afile\/x\.zone': ENOTDIR$/,
  );
  runtime('db init on a folder', ['db', 'init', '--db', 'afolder'], /^database '.*afolder' is a folder/);
  runtime('a route that does not exist', ['route', 'get', MISSING], /^route '.*orders\/missing' not found/);
  runtime('rollout abort of no rollout', ['rollout', 'abort', P], /^no rollout in progress on '.*orders\/created'/);
  runtime('a zone file that does not exist', ['zone', 'import', 'nope.zone'], /^cannot read zone file 'nope\.zone'/);
  runtime('a config file that does not exist', ['route', 'list', '--config', 'missing.yaml'], /missing\.yaml/);
  runtime(
    'dig: a server name that does not resolve',
    ['dig', P, '@nohost.invalid'],
    /^cannot look up server 'nohost\.invalid': \S+; check the host name/,
  );
  runtime(
    'dig: nothing listens',
    ['dig', P, `@127.0.0.1:${deadPort}`, '+timeout=0.5', '+tries=1'],
    /^(connection timed out|communications error to 127\.0\.0\.1#\d+)/,
  );
  runtime(
    'resolve: a server name that does not resolve',
    ['resolve', P, '@nohost.invalid'],
    /^server not found \(ERR_SERVER_LOOKUP\): cannot look up server 'nohost\.invalid'/,
  );
  runtime(
    '--key-file that does not exist',
    ['route', 'list', '--server', '127.0.0.1:53', '--key-file', 'none.key'],
    /^cannot read --key-file 'none\.key': ENOENT$/,
  );
  runtime(
    '--server: nothing listens',
    ['route', 'get', P, '--server', `127.0.0.1:${deadPort}`],
    /^cannot reach server 127\.0\.0\.1:\d+ over TCP: ECONNREFUSED; is psarnd running there\?/,
  );
  runtime(
    '--server: a name that does not resolve',
    ['route', 'set', P, '--target', L1, '--server', 'nohost.invalid:53'],
    /^cannot look up server nohost\.invalid:53: \S+; check --server/,
  );
  if (!isRoot || dropRoot) {
    runtime(
      READ_ONLY,
      ['route', 'set', P, '--target', L1, '--db', 'ro/psarn.db'],
      /^database '.*ro\/psarn\.db' is read-only for this user \(SQLITE_READONLY\w*\); .*write access to the file and its folder$/,
    );
  }

  before(async () => {
    const store = Store.open(db);
    store.setRoute(ZONE, 'orders/created', weighted('orders-v1'), PARAMS);
    store.close();
    writeFileSync(tmp.file('afile'), 'not a folder\n');
    mkdirSync(tmp.file('afolder'));
    // A database this user may read but not write (root: run that case as nobody).
    mkdirSync(tmp.file('ro'));
    Store.open(tmp.file('ro/psarn.db')).close();
    chmodSync(tmp.file('ro/psarn.db'), 0o444);
    chmodSync(tmp.file('ro'), 0o555);
    if (dropRoot) chmodSync(tmp.dir, 0o755);

    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PSARN_DB: db };
    await fourAtATime(cases, async ([title, argv]) => {
      results.set(title, await psarn(argv, { cwd: tmp.dir, env, asNobody: dropRoot && title === READ_ONLY }));
    });
  });
  after(() => {
    chmodSync(tmp.file('ro'), 0o755);
    tmp.cleanup();
  });

  it('covers every command of the table (a new command needs its cases here)', () => {
    for (const name of Object.keys(COMMANDS)) {
      const words = name.split(' ');
      assert.ok(
        cases.some(([, argv]) => argv.slice(0, words.length).join(' ') === name),
        `no case for 'psarn ${name}'`,
      );
    }
  });

  it('a failed zone export leaves no temporary file', () => {
    assert.deepEqual(
      readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  for (const [title, argv, status, line] of cases) {
    it(`${title}: exit ${status}, one line`, () => {
      const r = results.get(title);
      assert.ok(r !== undefined, 'ran');
      assert.equal(r.status, status, `psarn ${argv.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^(psarn: |;; )[^\n]+\n$/, 'one line');
      assert.doesNotMatch(r.stderr, /\n\s+at |Error:|node:internal/, 'no stack trace');
      assert.match(r.stderr.replace(/^(psarn: |;; )/, '').trimEnd(), line);
      assert.ok(!r.stderr.includes(KEY_SECRET), 'no secret in the line');
    });
  }
});

describe('help and the version through the real binary: stdout, exit 0', () => {
  const cases: [string[], RegExp][] = [
    [
      ['help', 'route'],
      /^Usage: psarn route <command>[\s\S]*\n {2}route set +create a route, or change one[^\n]*\n[\s\S]*psarn route delete <psARN>/,
    ],
    [['route', '--help'], /^Usage: psarn route <command>/],
    [['route', '-h'], /^Usage: psarn route <command>/],
    [['help', 'route', 'set'], /^Usage: psarn route set <psARN> \[--target/],
    [['route', 'set', '--help'], /^Usage: psarn route set <psARN> \[--target[\s\S]*--ttl S/],
    [['route', 'set', P, '--target', L1, '-h'], /^Usage: psarn route set /],
    [['zone', 'export', '-h'], /^Usage: psarn zone export <zone>/],
    [['dig', '--help'], /^Usage: psarn dig <psARN\|name>/],
    [['key', 'generate', '--help'], /^Usage: psarn key generate \[NAME\]/],
    [['help'], /^psarn \d+\.\d+\.\d+: [\s\S]*\nCommands:\n/],
    [['--help'], /^psarn \d+\.\d+\.\d+: /],
    [['-h'], /^psarn \d+\.\d+\.\d+: /],
    [['-v'], /^psarn \d+\.\d+\.\d+\n$/],
    [['--version'], /^psarn \d+\.\d+\.\d+\n$/],
  ];
  const results = new Map<string, Result>();
  before(async () => {
    await fourAtATime(cases, async ([argv]) => {
      results.set(argv.join(' '), await psarn(argv, { env: { PATH: process.env.PATH ?? '' } }));
    });
  });
  for (const [argv, pattern] of cases) {
    it(`psarn ${argv.join(' ')}`, () => {
      const r = results.get(argv.join(' '))!;
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, pattern);
    });
  }
});
