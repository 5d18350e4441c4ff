import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import {
  checkRoutesPolicy,
  loadRoutesFile,
  parseRoutesYaml,
  RoutesFileError,
  toStoreRoute,
} from '../../src/config/routes-file.js';
import { formatPsarn, parsePsarn } from '../../src/psarn/index.js';
import { DEFAULT_TARGET_POLICY } from '../../src/psarn/target-policy.js';
import { projectRoot } from '../helpers/daemon.js';

const ROOT = projectRoot;
const A = 'arn:aws:psarn:us-east-1:123456789012';
const L = 'arn:aws:lambda:us-east-1:123456789012:function';

function fails(yaml: string, key: string, message: string): void {
  assert.throws(
    () => parseRoutesYaml(yaml, 'r.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof RoutesFileError, String(err));
      assert.equal(err.code, 'ERR_ROUTES_FILE');
      assert.equal(err.key, key);
      assert.equal(err.message, message);
      // The line is the one the message names; the route too, when it names one.
      assert.equal(err.line, Number(/^r\.yaml:(\d+)/.exec(message)![1]));
      if (err.route !== undefined) assert.ok(message.includes(`: ${err.route}: `));
      return true;
    },
  );
}

describe('demo routes', () => {
  it('config/demo-routes.yaml holds the four routes of docs/design.md#demo-routes', () => {
    const routes = loadRoutesFile(resolve(ROOT, 'config/demo-routes.yaml'));
    assert.deepEqual(
      routes.map((r) => [formatPsarn(r.psarn), r.ttl, r.spec]),
      [
        [
          `${A}:orders/created`,
          undefined,
          {
            policy: 'weighted',
            targets: [
              { target: `${L}:orders-created-v1`, weight: 90, priority: 10 },
              { target: `${L}:orders-created-v2`, weight: 10, priority: 10 },
            ],
          },
        ],
        [
          `${A}:orders/audit`,
          undefined,
          {
            policy: 'fanout',
            targets: [
              { target: 'arn:aws:sqs:us-east-1:123456789012:orders-audit', weight: 1, priority: 10 },
              { target: 'arn:aws:sns:us-east-1:123456789012:orders-audit', weight: 1, priority: 10 },
            ],
          },
        ],
        [
          `${A}:payments/charge`,
          undefined,
          {
            policy: 'weighted',
            targets: [
              { target: `${L}:payments-charge`, weight: 1, priority: 10 },
              { target: `${L}:payments-charge-backup`, weight: 1, priority: 20 },
            ],
          },
        ],
        [`${A}:orders/latest`, undefined, { alias: parsePsarn(`${A}:orders/created`) }],
      ],
    );
  });
});

describe('parseRoutesYaml', () => {
  it('parses both target forms, defaults, ttl, metadata and aliases', () => {
    const routes = parseRoutesYaml(`
routes:
  - psarn: ${A}:Orders/X
    ttl: 60
    metadata: { owner: team-a }
    targets:
      - ${L}:f=5@20
      - { target: "https://h.example/hook?a=b", weight: 0 }
  - psarn: ${A}:y
    ttl: 0
    alias: ${A}:orders/x
`);
    assert.deepEqual(routes, [
      {
        psarn: parsePsarn(`${A}:orders/x`),
        ttl: 60,
        metadata: { owner: 'team-a' },
        spec: {
          policy: 'weighted',
          targets: [
            { target: `${L}:f`, weight: 5, priority: 20 },
            { target: 'https://h.example/hook?a=b', weight: 0, priority: 10 },
          ],
        },
        line: 3,
        targetLines: [7, 8],
      },
      {
        psarn: parsePsarn(`${A}:y`),
        ttl: 0,
        spec: { alias: parsePsarn(`${A}:orders/x`) },
        line: 9,
        targetLines: [],
        aliasLine: 11,
      },
    ]);
    assert.deepEqual(parseRoutesYaml('routes: []\n'), []);
  });

  // Every error names the file, the line and the route (`routes[i]` while its psARN is what is wrong).
  const cases: [string, string, string][] = [
    ['', '', 'r.yaml:1: the file must be a mapping with a routes: list (got null)'],
    ['routes: 5\n', 'routes', 'r.yaml:1: routes must be a list of routes (got 5)'],
    ['# routes\nroute: []\n', 'route', "r.yaml:2: unknown key 'route'; check the spelling"],
    [
      'routes:\n  - targets: [x]\n',
      'routes[0].psarn',
      'r.yaml:2: routes[0]: psarn must be a psARN such as arn:aws:psarn:us-east-1:123456789012:orders/created (got nothing)',
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets: [${L}:f]\n  - targets: [${L}:f]\n    psarn:\n`,
      'routes[1].psarn',
      'r.yaml:5: routes[1]: psarn must be a psARN such as arn:aws:psarn:us-east-1:123456789012:orders/created (got null)',
    ],
    [
      `routes:\n  - targets: [${L}:f]\n    psarn: ${A}:a/.b\n`,
      'routes[0].psarn',
      `r.yaml:3: routes[0]: psarn is not a valid psARN: '${A}:a/.b': segment 2 has '.'; use letters, digits, - or _`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n`,
      'routes[0].targets',
      `r.yaml:2: ${A}:a: targets must be a list of targets (got nothing)`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets: []\n`,
      'routes[0].targets',
      `r.yaml:3: ${A}:a: targets must list at least one target (got [])`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets: [${L}:f]\n    policy: random\n`,
      'routes[0].policy',
      `r.yaml:4: ${A}:a: policy must be weighted or fanout (got 'random')`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    ttl: 172801\n    targets: [${L}:f]\n`,
      'routes[0].ttl',
      `r.yaml:3: ${A}:a: ttl 172801 is out of range 0..172800`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets: [${L}:f]\n  - psarn: ${A}:orders/created\n    targets:\n      - { target: ${L}:g, weight: 70000 }\n`,
      'routes[1].targets[0].weight',
      `r.yaml:6: ${A}:orders/created: targets[0].weight 70000 is out of range 0..65535`,
    ],
    [
      `routes:\n  - psarn: ${A}:b\n    targets:\n      - target: ${L}:g\n        weight: 5\n      - target: ${L}:h\n        priority: 1.5\n`,
      'routes[0].targets[1].priority',
      `r.yaml:7: ${A}:b: targets[1].priority must be an integer from 0 to 65535 (got 1.5)`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets:\n      - ${L}:f\n      - 5\n`,
      'routes[0].targets[1]',
      `r.yaml:5: ${A}:a: targets[1] must be a target: { target, weight?, priority? } or the text ARN=WEIGHT@PRIORITY (got 5)`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets:\n      - { target: ${L}:g, wieght: 7 }\n`,
      'routes[0].targets[0].wieght',
      `r.yaml:4: ${A}:a: unknown key 'targets[0].wieght'; check the spelling`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets:\n      - { target: "arn:aws:lambda" }\n`,
      'routes[0].targets[0].target',
      `r.yaml:4: ${A}:a: targets[0].target is not a valid target: 'arn:aws:lambda': an ARN has 6 parts arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets:\n      - ${L}:f\n      - "http://x.example/=5"\n`,
      'routes[0].targets[1]',
      `r.yaml:5: ${A}:a: targets[1] is not a valid target: 'http://x.example/': uses http://; only https:// URLs are allowed`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets: [${L}:f]\n\n  - psarn: ${A}:A\n    targets: [${L}:f]\n`,
      'routes[1].psarn',
      `r.yaml:5: ${A}:a: repeats the route of line 2; keep one`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    alias: ${A}:A\n`,
      'routes[0].alias',
      `r.yaml:3: ${A}:a: alias points to the route itself; an alias must name another psARN`,
    ],
    [
      `routes:\n  - psarn: ${A}:b\n    alias: nope\n`,
      'routes[0].alias',
      `r.yaml:3: ${A}:b: alias is not a valid psARN: 'nope': must start with 'arn:'; write arn:PARTITION:psarn:REGION:ACCOUNT:PATH`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    alias: ${A}:b\n    targets: [${L}:f]\n`,
      'routes[0]',
      `r.yaml:2: ${A}:a: has both alias and targets; a route is one or the other`,
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    alias: ${A}:b\n    policy: fanout\n`,
      'routes[0].policy',
      `r.yaml:4: ${A}:a: unknown key 'policy'; check the spelling`,
    ],
    [
      'routes: [a,\n',
      '',
      'r.yaml:2:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the file',
    ],
    [
      `routes:\n  - psarn: ${A}:a\n    targets: [${L}:f]\n    targets: [${L}:g]\n`,
      '',
      'r.yaml:4:5: YAML syntax error: Map keys must be unique; fix the file',
    ],
  ];
  for (const [yaml, key, message] of cases) {
    it(`rejects ${JSON.stringify(yaml.slice(0, 60))} at '${key}'`, () => fails(yaml, key, message));
  }

  it('names an unreadable file', () => {
    assert.throws(
      () => loadRoutesFile('/no/such/routes.yaml'),
      /^RoutesFileError: routes file \/no\/such\/routes\.yaml: cannot read it \(ENOENT/,
    );
  });
});

describe('toStoreRoute', () => {
  it('gives the zone, path and store spec, with the default TTL and the alias as a DNS name', () => {
    const [target, alias] = parseRoutesYaml(`
routes:
  - { psarn: "${A}:orders/created", targets: ["${L}:f=90"] }
  - { psarn: "${A}:orders/latest", ttl: 30, alias: "${A}:orders/created" }
`);
    const options = { defaultTtl: 300, namespace: 'psarn.internal.' };
    assert.deepEqual(toStoreRoute(target!, options), {
      zone: '123456789012.us-east-1.aws.psarn.internal.',
      path: 'orders/created',
      spec: { ttl: 300, policy: 'weighted', targets: [{ target: `${L}:f`, weight: 90, priority: 10 }] },
    });
    assert.deepEqual(toStoreRoute(alias!, options), {
      zone: '123456789012.us-east-1.aws.psarn.internal.',
      path: 'orders/latest',
      spec: { ttl: 30, alias: 'created.orders.123456789012.us-east-1.aws.psarn.internal.' },
    });
  });
});

describe('checkRoutesPolicy', () => {
  const entries = parseRoutesYaml(`
routes:
  - { psarn: "${A}:orders/created", targets: ["${L}:f", "https://hooks.example.com/in?page=2&token=abc"] }
  - { psarn: "${A}:orders/latest", alias: "${A}:orders/created" }
  - { psarn: "${A}:orders/meta", targets: ["https://169.254.169.254/latest/meta-data/"] }
`);

  it('names the file and the target the policy refuses', () => {
    assert.throws(
      () => checkRoutesPolicy(entries, DEFAULT_TARGET_POLICY, 'r.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof RoutesFileError);
        assert.equal(err.key, 'routes[2].targets[0]');
        assert.equal(err.line, 5);
        assert.match(
          err.message,
          /^r\.yaml:5: arn:aws:psarn:us-east-1:123456789012:orders\/meta: targets\[0\] target '[^']+' is not allowed: .*link-local/,
        );
        return true;
      },
    );
  });

  it('returns the warnings, each naming its entry, when every target is allowed', () => {
    const policy = { ...DEFAULT_TARGET_POLICY, httpsHosts: ['*', '169.254.169.254'] };
    const warnings = checkRoutesPolicy(entries, policy, 'r.yaml');
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^r\.yaml:3: arn:aws:psarn:us-east-1:123456789012:orders\/created: targets\[1\]: target '[^']*token=…' has what looks like a credential/,
    );
    assert.ok(!warnings[0]!.includes('abc'));
  });
});
