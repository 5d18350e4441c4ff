import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgv } from '../../src/cli/args.js';
import { usage } from './helpers.js';

const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const L1 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v1';
const L2 = 'arn:aws:lambda:us-east-1:123456789012:function:orders-v2';
const psarn = { partition: 'aws', region: 'us-east-1', account: '123456789012', path: ['orders', 'created'] };

describe('parseArgv: accepted', () => {
  const table: [string[], unknown][] = [
    [
      ['route', 'set', P, '--target', `${L1}=90`, '--target', `${L2}=10@20`],
      {
        global: {},
        command: {
          kind: 'route set',
          psarn,
          meta: { clear: false, remove: [], set: {} },
          targets: [
            { target: L1, weight: 90, priority: 10 },
            { target: L2, weight: 10, priority: 20 },
          ],
        },
      },
    ],
    [
      [
        '--db',
        'x.db',
        'route',
        'set',
        P.toUpperCase().replace('ARN:AWS:PSARN', 'arn:aws:psarn'),
        `--target=${L1}`,
        '--policy',
        'fanout',
        '--ttl',
        '0',
        '--meta',
        'team=orders',
        '--meta',
        'k=a=b',
      ],
      {
        global: { db: 'x.db' },
        command: {
          kind: 'route set',
          psarn,
          policy: 'fanout',
          ttl: 0,
          meta: { clear: false, remove: [], set: { team: 'orders', k: 'a=b' } },
          targets: [{ target: L1, weight: 1, priority: 10 }],
        },
      },
    ],
    [
      ['route', 'get', P, '--json', '--config', 'c.yaml'],
      { global: { config: 'c.yaml' }, command: { kind: 'route get', psarn, json: true } },
    ],
    [['route', 'get', P], { global: {}, command: { kind: 'route get', psarn, json: false } }],
    [['route', 'list'], { global: {}, command: { kind: 'route list', json: false } }],
    [['route', 'list', 'x.y', '--json'], { global: {}, command: { kind: 'route list', scope: 'x.y', json: true } }],
    [['route', 'delete', P], { global: {}, command: { kind: 'route delete', psarn, force: false } }],
    [['route', 'delete', P, '--force'], { global: {}, command: { kind: 'route delete', psarn, force: true } }],
    [
      ['route', 'alias', 'arn:aws:psarn:us-east-1:123456789012:orders/latest', P, '--ttl', '172800'],
      {
        global: {},
        command: {
          kind: 'route alias',
          psarn: { ...psarn, path: ['orders', 'latest'] },
          target: psarn,
          ttl: 172800,
          force: false,
        },
      },
    ],
    // Issue 9: a flag not given keeps what the route has, so `route set` may leave out
    // --target (the route keeps its targets) and say how to reset one.
    [
      ['route', 'set', P, '--ttl', 'default', '--meta', 'team-', '--meta', 'env=prod', '--clear-meta'],
      {
        global: {},
        command: {
          kind: 'route set',
          psarn,
          targets: [],
          ttl: 'default',
          meta: { clear: true, remove: ['team'], set: { env: 'prod' } },
        },
      },
    ],
    [
      ['route', 'weight', P, `${L1}=80`, `${L2}=0@20`],
      {
        global: {},
        command: {
          kind: 'route weight',
          psarn,
          changes: [
            { target: L1, weight: 80 },
            { target: L2, weight: 0, priority: 20 },
          ],
        },
      },
    ],
    [
      ['route', 'alias', 'arn:aws:psarn:us-east-1:123456789012:orders/latest', P, '--ttl', 'default', '--force'],
      {
        global: {},
        command: {
          kind: 'route alias',
          psarn: { ...psarn, path: ['orders', 'latest'] },
          target: psarn,
          ttl: 'default',
          force: true,
        },
      },
    ],
    [['flush', P], { global: {}, command: { kind: 'flush', scope: P } }],
    [
      ['zone', 'export', 'z', '-o', 'out.zone'],
      { global: {}, command: { kind: 'zone export', zone: 'z', output: 'out.zone' } },
    ],
    [['zone', 'export', 'z'], { global: {}, command: { kind: 'zone export', zone: 'z' } }],
    [['zone', 'import', 'f.zone'], { global: {}, command: { kind: 'zone import', file: 'f.zone' } }],
    [['db', 'init', '--db', '/tmp/x.db'], { global: { db: '/tmp/x.db' }, command: { kind: 'db init' } }],
    [['--version'], { global: {}, command: { kind: 'version' } }],
    [['--help'], { global: {}, command: { kind: 'help' } }],
    [['help'], { global: {}, command: { kind: 'help' } }],
    [['help', 'route', 'set'], { global: {}, command: { kind: 'help', topic: 'route set' } }],
    [['route', 'set', '--help'], { global: {}, command: { kind: 'help', topic: 'route set' } }],
    [['dig', '-h'], { global: {}, command: { kind: 'help', topic: 'dig' } }],
    // Issue 9: help where users type it first, and -v.
    [['help', 'route'], { global: {}, command: { kind: 'help', topic: 'route' } }],
    [['route', '--help'], { global: {}, command: { kind: 'help', topic: 'route' } }],
    [['zone', '-h'], { global: {}, command: { kind: 'help', topic: 'zone' } }],
    [['route', 'set', P, '--target', '--help'], { global: {}, command: { kind: 'help', topic: 'route set' } }],
    [['dig', P, '@127.0.0.1', '--help'], { global: {}, command: { kind: 'help', topic: 'dig' } }],
    [['help', '--help'], { global: {}, command: { kind: 'help', topic: 'help' } }],
    [['help', 'route', 'set', '-h'], { global: {}, command: { kind: 'help', topic: 'route set' } }],
    [['-v'], { global: {}, command: { kind: 'version' } }],
    [['--db', 'x.db', '-v'], { global: {}, command: { kind: 'version' } }],
    // A value that starts with '-' is the flag's value, for the command's own check.
    [
      ['invoke', P, '--payload', '-1'],
      { global: {}, command: { kind: 'invoke', psarn, payload: { json: -1 }, event: false, json: false } },
    ],
    [['zone', 'export', 'z', '-o', '-'], { global: {}, command: { kind: 'zone export', zone: 'z', output: '-' } }],
  ];
  for (const [argv, expected] of table) {
    it(argv.join(' '), () => {
      assert.deepEqual(parseArgv(argv), expected);
    });
  }
});

describe('parseArgv: usage errors (exit 2, one line naming the input)', () => {
  const table: [string, string[], RegExp][] = [
    ['no command', [], /missing command/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['unknown subcommand', ['route', 'move'], /unknown command 'route move'.*route set/],
    ['missing subcommand', ['zone'], /missing command after 'zone'.*zone export/],
    ['unknown flag', ['route', 'list', '--bogus'], /unknown flag '--bogus' for 'psarn route list'/],
    ['flag of another command', ['route', 'get', P, '--ttl', '5'], /unknown flag '--ttl' for 'psarn route get'/],
    ['missing flag value', ['route', 'set', P, '--target'], /--target/],
    [
      'malformed psARN',
      ['route', 'get', 'arn:aws:psarn:us-east-1:12345:orders'],
      /invalid psARN 'arn:aws:psarn:us-east-1:12345:orders'/,
    ],
    ['psARN with a dot', ['route', 'delete', 'arn:aws:psarn:us-east-1:123456789012:orders/a.b'], /invalid psARN/],
    ['missing psARN', ['route', 'get'], /missing <psARN> for 'psarn route get'/],
    ['extra argument', ['route', 'get', P, 'extra'], /unexpected argument 'extra'/],
    // Issue 9: '=abc' was stored as part of the target; a repeated --target exited 1 with "(StoreError)".
    ['weight not a number', ['route', 'set', P, '--target', `${L1}=abc`], /'=abc' is not a weight/],
    [
      'target given twice',
      ['route', 'set', P, '--target', L1, '--target', `${L1}=5`],
      /--target '.*orders-v1' is given twice/,
    ],
    ['meta removed twice', ['route', 'set', P, '--meta', 'a-', '--meta', 'a=1'], /key 'a' is given twice/],
    ['meta removal of a bad key', ['route', 'set', P, '--meta', '-'], /invalid --meta '-'/],
    ['route weight without a target', ['route', 'weight', P], /missing <target>=<WEIGHT> for 'psarn route weight'/],
    ['route weight without a weight', ['route', 'weight', P, L1], /has no weight; write TARGET=WEIGHT/],
    ['route weight with a bad weight', ['route', 'weight', P, `${L1}=ten`], /'=ten' is not a weight/],
    [
      'route weight of a target twice',
      ['route', 'weight', P, `${L1}=1`, `${L1}=2`],
      /target '.*orders-v1' is given twice/,
    ],
    ['route weight with --ttl', ['route', 'weight', P, `${L1}=1`, '--ttl', '5'], /unknown flag '--ttl'/],
    ['TTL word', ['route', 'set', P, '--ttl', 'defaults'], /invalid --ttl 'defaults'/],
    ['malformed ARN target', ['route', 'set', P, '--target', 'arn:aws:lambda'], /invalid target 'arn:aws:lambda'/],
    ['not an ARN or URL', ['route', 'set', P, '--target', 'orders-v1'], /invalid target 'orders-v1'/],
    ['http URL', ['route', 'set', P, '--target', 'http://example.com/x'], /only https/],
    ['weight 70000', ['route', 'set', P, '--target', `${L1}=70000`], /weight 70000 is out of range/],
    ['priority -1', ['route', 'set', P, '--target', `${L1}=1@-1`], /not a weight/],
    ['priority 65536', ['route', 'set', P, '--target', `${L1}=1@65536`], /priority 65536 is out of range/],
    ['TTL 172801', ['route', 'set', P, '--target', L1, '--ttl', '172801'], /invalid --ttl '172801'/],
    ['TTL not a number', ['route', 'set', P, '--target', L1, '--ttl', '5m'], /invalid --ttl '5m'/],
    ['negative TTL', ['route', 'set', P, '--target', L1, '--ttl=-1'], /invalid --ttl '-1'/],
    ['bad policy', ['route', 'set', P, '--target', L1, '--policy', 'random'], /invalid --policy 'random'/],
    ['bad meta', ['route', 'set', P, '--target', L1, '--meta', 'novalue'], /invalid --meta 'novalue'/],
    ['meta twice', ['route', 'set', P, '--target', L1, '--meta', 'a=1', '--meta', 'a=2'], /given twice/],
    ['alias missing target', ['route', 'alias', P], /missing <target psARN>/],
    ['zone import without file', ['zone', 'import'], /missing <file>/],
    ['db init with an argument', ['db', 'init', 'x'], /unexpected argument 'x'/],
    ['help for an unknown command', ['help', 'nope'], /unknown command 'nope'/],
    // Issue 9.
    [
      'unknown flag before the command',
      ['--dbb', 'x', 'route', 'list'],
      /^unknown flag '--dbb' \(did you mean --db\?\); run 'psarn help' for the flags$/,
    ],
    [
      'unknown short flag',
      ['-x', 'route', 'list'],
      /^unknown flag '-x' for 'psarn route list'; run 'psarn help route list'/,
    ],
    ['unknown flag, no command', ['-x'], /^unknown flag '-x'; run 'psarn help' for the flags$/],
    [
      'a typo in a flag of the command',
      ['route', 'set', P, '--targt', L1],
      /^unknown flag '--targt' for 'psarn route set' \(did you mean --target\?\)/,
    ],
    ['--version after a command', ['route', 'list', '--version'], /^unknown flag '--version' for 'psarn route list'/],
    ['a typo in a command', ['rout', 'list'], /^unknown command 'rout' \(did you mean 'route'\?\)/],
    ['a typo in a subcommand', ['route', 'lst'], /^unknown command 'route lst' \(did you mean 'route list'\?\)/],
    [
      'help for an unknown subcommand',
      ['help', 'route', 'bogus'],
      /^unknown command 'route bogus'; use one of: route set/,
    ],
    ['--help after an unknown subcommand', ['route', 'bogus', '--help'], /^unknown command 'route bogus'/],
    ['help with three words', ['help', 'route', 'set', 'x'], /^unexpected argument 'x' for 'psarn help'/],
    [
      'negative TTL as a separate word',
      ['route', 'set', P, '--target', L1, '--ttl', '-5'],
      /^invalid --ttl '-5': use whole seconds from 0 to 172800$/,
    ],
    ['negative alias TTL', ['route', 'alias', P, P, '--ttl', '-1'], /^invalid --ttl '-1'/],
    ['a flag where a value belongs', ['route', 'set', P, '--target', '--ttl', '5'], /^missing value for --target in/],
    ['an empty flag value', ['route', 'set', P, '--target', ''], /^empty value for --target in 'psarn route set'/],
    ['an empty --db', ['route', 'list', '--db', ''], /^empty value for --db in 'psarn route list'/],
    ['an empty --output', ['zone', 'export', 'z', '--output='], /^empty value for --output in/],
    ['a value for a boolean flag', ['route', 'list', '--json=yes'], /^--json takes no value in 'psarn route list'/],
    ['an empty argument', ['zone', 'import', ''], /^empty argument 1 for 'psarn zone import'/],
    ['dig: an unknown TYPE', ['dig', P, 'BOGUS'], /^unknown type 'BOGUS'; use URI/],
    ['dig: an unknown TYPE first', ['dig', 'BOGUS', P], /^unknown type 'BOGUS'/],
    [
      'dig: TYPEnnn out of range',
      ['dig', P, 'TYPE70000'],
      /^invalid type 'TYPE70000': TYPEnnn takes a number from 0 to 65535/,
    ],
    ['dig: a server without a host', ['dig', P, '@:53'], /^invalid server '@:53'/],
    ['dig: an unclosed bracket', ['dig', P, '@[::1'], /^invalid server '@\[::1'/],
  ];
  for (const [title, argv, pattern] of table) {
    it(title, () => {
      assert.match(usage(argv).message, pattern);
    });
  }
});
