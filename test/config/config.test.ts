import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ConfigError,
  defaultConfig,
  envKeyFor,
  loadConfig,
  parseHostPort,
  zoneParams,
} from '../../src/config/config.js';
import { projectRoot } from '../helpers/daemon.js';

const ROOT = projectRoot;
/** TSIG secrets (base64 of 32 and 64 bytes): a test below greps every message for them. */
const SECRET_32 = Buffer.alloc(32, 0xa5).toString('base64');
const SECRET_64 = Buffer.alloc(64, 0x5a).toString('base64');

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-config-'));
  dirs.push(dir);
  return dir;
}

/** A working directory holding config/psarnd.yaml with `yaml`. */
function withConfig(yaml: string): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config/psarnd.yaml'), yaml);
  return dir;
}

function configError(fn: () => unknown, key: string, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'ERR_CONFIG');
    assert.equal(err.message, message);
    assert.equal(err.key, key);
    return true;
  });
}

describe('loadConfig', () => {
  it('gives the defaults when there is no file, env or flag', () => {
    const cwd = tempDir();
    const { config, file } = loadConfig({ cwd, env: {} });
    assert.equal(file, undefined);
    assert.deepEqual(config, {
      listen: { host: '127.0.0.1', port: 8053 },
      http: { host: '127.0.0.1', port: 9153 },
      db: join(cwd, 'data/psarn.db'),
      dbMode: 0o600,
      namespace: 'psarn.internal.',
      nameservers: ['ns.psarn.internal.'],
      defaultTtl: 300,
      epochTtl: 5,
      soa: { refresh: 3600, retry: 600, expire: 86400, minimum: 30 },
      tcp: { idleTimeoutMs: 10000, maxConnections: 1000 },
      udpPayloadSize: 1232,
      udpIo: 'auto',
      workers: 1,
      routeIndex: true,
      log: { level: 'info' },
      // No demo routes without a config that names them: psarnd installed from the package or
      // run by a service unit never loads them (issue 9).
      demoRoutes: null,
      targets: { partitions: ['*'], accounts: ['*'], services: ['*'], httpsHosts: ['*'] },
      tsig: { keys: [] },
      notify: [],
      nsid: hostname(),
      cookieSecret: undefined,
      journal: { keep: 10000 },
      transfer: { allow: [] },
      update: { allow: [] },
      secondary: undefined,
      httpToken: undefined,
      callers: { maxCallers: 10000, maxEntries: 100000, persistEveryMs: 5000, reportEveryMs: 30000 },
    });
    assert.deepEqual(config, defaultConfig(cwd));
  });

  it("config/psarnd.yaml sets every key, to exactly the defaults but demoRoutes, the README's first run", () => {
    const { config, file } = loadConfig({ cwd: ROOT, env: {} });
    assert.equal(file, join(ROOT, 'config/psarnd.yaml'));
    assert.deepEqual(config, { ...defaultConfig(ROOT), demoRoutes: join(ROOT, 'config/demo-routes.yaml') });
    // Every key is written out in the shipped file (a commented-out key would load too).
    const text = readFileSync(file!, 'utf8');
    for (const key of [
      'listen',
      'http',
      'db',
      'namespace',
      'nameservers',
      'defaultTtl',
      'epochTtl',
      'soa',
      'refresh',
      'retry',
      'expire',
      'minimum',
      'tcp',
      'idleTimeoutMs',
      'maxConnections',
      'udpPayloadSize',
      'workers',
      'log',
      'level',
      'demoRoutes',
      'dbMode',
      'targets',
      'partitions',
      'accounts',
      'services',
      'httpsHosts',
      'tsig',
      'keys',
      'notify',
      'nsid',
      'cookieSecret',
    ]) {
      assert.match(text, new RegExp(`^\\s*${key}:`, 'm'), key);
    }
  });

  it('applies defaults < file < env < overrides', () => {
    const cwd = withConfig('listen: 127.0.0.1:1000\ndefaultTtl: 60\nepochTtl: 7\ntcp: { maxConnections: 5 }\n');
    const env = { PSARN_DEFAULT_TTL: '70', PSARN_EPOCH_TTL: '8', PSARN_TCP_IDLE_TIMEOUT_MS: '200' };
    const { config } = loadConfig({ cwd, env, overrides: { epochTtl: '9', db: '/tmp/x.db', http: '[::1]:0' } });
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 1000 }); // file
    assert.equal(config.defaultTtl, 70); // env over file
    assert.equal(config.epochTtl, 9); // flag over env
    assert.deepEqual(config.tcp, { idleTimeoutMs: 200, maxConnections: 5 }); // nested keys merge
    assert.equal(config.db, '/tmp/x.db');
    assert.deepEqual(config.http, { host: '::1', port: 0 });
    assert.equal(config.udpPayloadSize, 1232); // default
  });

  it('reads every env key', () => {
    const cwd = tempDir();
    const env = {
      PSARN_LISTEN: '0.0.0.0:53',
      PSARN_HTTP: 'localhost:0',
      PSARN_DB: 'db/p.db',
      PSARN_NAMESPACE: 'Routes.Example.COM',
      PSARN_NAMESERVERS: 'ns1.example.com, NS2.example.com.',
      PSARN_DEFAULT_TTL: '0',
      PSARN_EPOCH_TTL: '3600',
      PSARN_SOA_REFRESH: '1',
      PSARN_SOA_RETRY: '2',
      PSARN_SOA_EXPIRE: '2147483647',
      PSARN_SOA_MINIMUM: '0',
      PSARN_TCP_IDLE_TIMEOUT_MS: '100',
      PSARN_TCP_MAX_CONNECTIONS: '100000',
      PSARN_UDP_PAYLOAD_SIZE: '4096',
      PSARN_UDP_IO: 'dgram',
      PSARN_WORKERS: '2',
      PSARN_ROUTE_INDEX: 'false',
      PSARN_LOG_LEVEL: 'silent',
      PSARN_DEMO_ROUTES: '',
      PSARN_DB_MODE: '0640',
      PSARN_TARGETS_PARTITIONS: 'aws, aws-us-gov',
      PSARN_TARGETS_ACCOUNTS: '123456789012',
      PSARN_TARGETS_SERVICES: 'lambda,sqs',
      PSARN_TARGETS_HTTPS_HOSTS: '*.example.com,127.0.0.1,10.0.0.0/8',
      PSARN_TSIG_KEYS: `hmac-sha512:Transfer-Key:${SECRET_64}, update-key:${SECRET_32}`,
      PSARN_NOTIFY: '10.0.0.6:53 key transfer-key, [2001:db8::7]:5300,10.0.0.8',
      PSARN_NSID: 'sidecar-7 (eu-west-1a)',
      PSARN_COOKIE_SECRET: 'E5E973E5A6B2A43F48E7DC849E37BFCF',
      PSARN_JOURNAL_KEEP: '5',
      PSARN_TRANSFER_ALLOW: 'transfer-key, other_key.example.',
      PSARN_UPDATE_ALLOW: 'update-key',
      PSARN_SECONDARY_PRIMARY: '10.0.0.5:8053',
      PSARN_SECONDARY_KEY: 'transfer-key',
      PSARN_SECONDARY_ZONES: '123456789012.US-EAST-1.aws.psarn.internal, 123456789012.us-east-1.aws.psarn.internal.',
      PSARN_HTTP_TOKEN: 'c0ffee-c0ffee-c0ffee',
      PSARN_CALLERS_MAX_CALLERS: '5',
      PSARN_CALLERS_MAX_ENTRIES: '0',
      PSARN_CALLERS_PERSIST_EVERY: '2m',
      PSARN_CALLERS_REPORT_EVERY: '1s',
    };
    const { config } = loadConfig({ cwd, env });
    assert.deepEqual(config, {
      listen: { host: '0.0.0.0', port: 53 },
      http: { host: 'localhost', port: 0 },
      db: join(cwd, 'db/p.db'),
      dbMode: 0o640,
      namespace: 'routes.example.com.',
      nameservers: ['ns1.example.com.', 'ns2.example.com.'],
      defaultTtl: 0,
      epochTtl: 3600,
      soa: { refresh: 1, retry: 2, expire: 2147483647, minimum: 0 },
      tcp: { idleTimeoutMs: 100, maxConnections: 100000 },
      udpPayloadSize: 4096,
      udpIo: 'dgram',
      workers: 2,
      routeIndex: false,
      log: { level: 'silent' },
      demoRoutes: null,
      targets: {
        partitions: ['aws', 'aws-us-gov'],
        accounts: ['123456789012'],
        services: ['lambda', 'sqs'],
        httpsHosts: ['*.example.com', '127.0.0.1', '10.0.0.0/8'],
      },
      tsig: {
        keys: [
          { name: 'transfer-key.', algorithm: 'hmac-sha512', secret: Buffer.from(SECRET_64, 'base64') },
          { name: 'update-key.', algorithm: 'hmac-sha256', secret: Buffer.from(SECRET_32, 'base64') },
        ],
      },
      notify: [
        { address: { host: '10.0.0.6', port: 53 }, key: 'transfer-key' },
        { address: { host: '2001:db8::7', port: 5300 } },
        { address: { host: '10.0.0.8', port: 53 } },
      ],
      nsid: 'sidecar-7 (eu-west-1a)',
      cookieSecret: Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex'),
      journal: { keep: 5 },
      transfer: { allow: ['transfer-key', 'other_key.example.'] },
      update: { allow: ['update-key'] },
      secondary: {
        primary: { host: '10.0.0.5', port: 8053 },
        key: 'transfer-key',
        zones: ['123456789012.us-east-1.aws.psarn.internal.'],
      },
      httpToken: 'c0ffee-c0ffee-c0ffee',
      callers: { maxCallers: 5, maxEntries: 0, persistEveryMs: 120_000, reportEveryMs: 1000 },
    });
  });

  it('reads dbMode as octal digits: quoted, 0o-prefixed, or an unquoted YAML number', () => {
    for (const [yaml, mode] of [
      ['dbMode: "0640"', 0o640],
      ['dbMode: "600"', 0o600],
      ['dbMode: 0660', 0o660],
      ['dbMode: "0o644"', 0o644],
    ] as const) {
      assert.equal(loadConfig({ cwd: withConfig(`${yaml}\n`), env: {} }).config.dbMode, mode, yaml);
    }
  });

  it('reads journal.maxAge as a duration in ms, from the file or PSARN_JOURNAL_MAX_AGE; none by default', () => {
    assert.equal(loadConfig({ cwd: withConfig('journal: { keep: 7 }\n'), env: {} }).config.journal.maxAgeMs, undefined);
    const day = 86_400_000;
    for (const [yaml, ms] of [
      ['journal: { maxAge: 90d }', 90 * day],
      ['journal: { maxAge: 720h }', 30 * day],
      ['journal: { maxAge: 3600s }', 3_600_000],
      ['journal: { maxAge: null }', undefined],
    ] as const) {
      assert.equal(loadConfig({ cwd: withConfig(`${yaml}\n`), env: {} }).config.journal.maxAgeMs, ms, yaml);
    }
    const { config } = loadConfig({
      cwd: withConfig('journal: { maxAge: 90d }\n'),
      env: { PSARN_JOURNAL_MAX_AGE: '12h' },
    });
    assert.deepEqual(config.journal, { keep: 10000, maxAgeMs: 12 * 3_600_000 });
  });

  it('merges the targets keys one by one', () => {
    const cwd = withConfig('targets:\n  accounts: ["123456789012"]\n  httpsHosts: []\n');
    const { config } = loadConfig({ cwd, env: { PSARN_TARGETS_SERVICES: 'lambda' } });
    assert.deepEqual(config.targets, {
      partitions: ['*'],
      accounts: ['123456789012'],
      services: ['lambda'],
      httpsHosts: [],
    });
  });

  it('maps keys to env names', () => {
    assert.equal(envKeyFor('tcp.idleTimeoutMs'), 'PSARN_TCP_IDLE_TIMEOUT_MS');
    assert.equal(envKeyFor('udpPayloadSize'), 'PSARN_UDP_PAYLOAD_SIZE');
    assert.equal(envKeyFor('demoRoutes'), 'PSARN_DEMO_ROUTES');
    assert.equal(envKeyFor('soa.minimum'), 'PSARN_SOA_MINIMUM');
  });

  it('resolves db and demoRoutes against cwd; demoRoutes null or "" turns it off', () => {
    const cwd = withConfig('db: sub/x.db\ndemoRoutes: my/routes.yaml\n');
    const { config } = loadConfig({ cwd, env: {} });
    assert.equal(config.db, join(cwd, 'sub/x.db'));
    assert.equal(config.demoRoutes, join(cwd, 'my/routes.yaml'));
    assert.equal(loadConfig({ cwd: withConfig('demoRoutes: null\n'), env: {} }).config.demoRoutes, null);
    assert.equal(loadConfig({ cwd: withConfig('demoRoutes: ""\n'), env: {} }).config.demoRoutes, null);
    assert.equal(loadConfig({ cwd, env: {}, overrides: { demoRoutes: '' } }).config.demoRoutes, null);
    assert.equal(loadConfig({ cwd, env: {}, overrides: { db: ':memory:' } }).config.db, ':memory:');
  });

  it('treats an empty key or an empty file as not set', () => {
    const { config } = loadConfig({ cwd: withConfig('listen:\ntcp:\n'), env: {} });
    assert.deepEqual(config, defaultConfig(config.db.slice(0, -'/data/psarn.db'.length)));
    assert.equal(loadConfig({ cwd: withConfig('# nothing\n'), env: {} }).config.defaultTtl, 300);
  });

  it('chooses the file: option, then PSARN_CONFIG, then config/psarnd.yaml', () => {
    const cwd = withConfig('defaultTtl: 1\n');
    writeFileSync(join(cwd, 'a.yaml'), 'defaultTtl: 2\n');
    writeFileSync(join(cwd, 'b.yaml'), 'defaultTtl: 3\n');
    assert.equal(loadConfig({ cwd, env: {} }).config.defaultTtl, 1);
    assert.equal(loadConfig({ cwd, env: { PSARN_CONFIG: 'b.yaml' } }).config.defaultTtl, 3);
    const r = loadConfig({ cwd, file: 'a.yaml', env: { PSARN_CONFIG: 'b.yaml' } });
    assert.equal(r.config.defaultTtl, 2);
    assert.equal(r.file, join(cwd, 'a.yaml'));
  });

  it('refuses a named file that does not exist', () => {
    const cwd = tempDir();
    configError(
      () => loadConfig({ cwd, file: 'nope.yaml', env: {} }),
      '',
      "config file 'nope.yaml' (from --config) does not exist; fix the path or leave --config unset",
    );
    configError(
      () => loadConfig({ cwd, env: { PSARN_CONFIG: '/no/such.yaml' } }),
      '',
      "config file '/no/such.yaml' (from PSARN_CONFIG) does not exist; fix the path or leave PSARN_CONFIG unset",
    );
  });

  it('reports a YAML syntax error with the file and line', () => {
    const cwd = withConfig('listen: 127.0.0.1:8053\nnameservers: [a.example,\n');
    configError(
      () => loadConfig({ cwd, env: {} }),
      '',
      'config config/psarnd.yaml:3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the file',
    );
    configError(
      () => loadConfig({ cwd: withConfig('db: a\ndb: b\n'), env: {} }),
      '',
      'config config/psarnd.yaml:2:1: YAML syntax error: Map keys must be unique; fix the file',
    );
    configError(
      () => loadConfig({ cwd: withConfig('- listen\n'), env: {} }),
      '',
      'config config/psarnd.yaml: must be a YAML mapping of keys such as listen: 127.0.0.1:8053 (got ["listen"])',
    );
  });

  it('refuses unknown keys, naming them', () => {
    configError(
      () => loadConfig({ cwd: withConfig('listen: 127.0.0.1:1\nlisten_port: 53\n'), env: {} }),
      'listen_port',
      "config config/psarnd.yaml: unknown key 'listen_port'; check the spelling (known: listen, http, db, dbMode, namespace, nameservers, defaultTtl, epochTtl, soa, tcp, udpPayloadSize, udpIo, workers, routeIndex, log, demoRoutes, nsid, cookieSecret, targets, tsig, notify, journal, transfer, update, secondary, httpToken, callers)",
    );
    configError(
      () => loadConfig({ cwd: withConfig('tcp:\n  maxConnections: 0\n  idleTimeout: 5\n'), env: {} }),
      'tcp.idleTimeout',
      "config config/psarnd.yaml: unknown key 'tcp.idleTimeout'; check the spelling (known: tcp.idleTimeoutMs, tcp.maxConnections)",
    );
    configError(
      () => loadConfig({ cwd: withConfig('targets: { hosts: [] }\n'), env: {} }),
      'targets.hosts',
      "config config/psarnd.yaml: unknown key 'targets.hosts'; check the spelling (known: targets.partitions, targets.accounts, targets.services, targets.httpsHosts)",
    );
  });

  const F = 'config config/psarnd.yaml';
  const rangeErrors: [string, string, string][] = [
    [
      'listen: 127.0.0.1:65536',
      'listen',
      "listen must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8053 or [::1]:8053 (got '127.0.0.1:65536')",
    ],
    ['listen: 8053', 'listen', 'listen must be a HOST:PORT string, e.g. 127.0.0.1:8053 (got 8053)'],
    ['http: "::1:9153"', 'http', "http must put an IPv6 address in brackets, e.g. [::1]:8053 (got '::1:9153')"],
    [
      'http: "[nope]:1"',
      'http',
      "http must have an IPv6 address inside the brackets, e.g. [::1]:8053 (got '[nope]:1')",
    ],
    [
      'http: "bad_host:1"',
      'http',
      "http must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8053 or [::1]:8053 (got 'bad_host:1')",
    ],
    ['db: ""', 'db', "db must be a file path, not empty (got '')"],
    ['db: 5', 'db', 'db must be a file path (got 5)'],
    ['namespace: a..b', 'namespace', "namespace label 2 is empty; remove the extra '.' (got 'a..b')"],
    ['nameservers: []', 'nameservers', 'nameservers must list at least one name server (got [])'],
    ['nameservers: ns.example.', 'nameservers', "nameservers must be a list of host names (got 'ns.example.')"],
    [
      'nameservers: [ok.example, "bad name"]',
      'nameservers[1]',
      "nameservers[1] must be a host name: labels of letters, digits and inner hyphens (got 'bad name')",
    ],
    ['defaultTtl: -1', 'defaultTtl', 'defaultTtl must be an integer from 0 to 172800 (got -1)'],
    ['defaultTtl: 172801', 'defaultTtl', 'defaultTtl must be an integer from 0 to 172800 (got 172801)'],
    ['defaultTtl: 1.5', 'defaultTtl', 'defaultTtl must be an integer from 0 to 172800 (got 1.5)'],
    ['defaultTtl: "300"', 'defaultTtl', "defaultTtl must be an integer from 0 to 172800 (got '300')"],
    ['epochTtl: 0', 'epochTtl', 'epochTtl must be an integer from 1 to 3600 (got 0)'],
    ['epochTtl: 3601', 'epochTtl', 'epochTtl must be an integer from 1 to 3600 (got 3601)'],
    ['soa: { refresh: 0 }', 'soa.refresh', 'soa.refresh must be an integer from 1 to 2147483647 (got 0)'],
    ['soa: { retry: 2147483648 }', 'soa.retry', 'soa.retry must be an integer from 1 to 2147483647 (got 2147483648)'],
    ['soa: { expire: -5 }', 'soa.expire', 'soa.expire must be an integer from 1 to 2147483647 (got -5)'],
    ['soa: { minimum: 86401 }', 'soa.minimum', 'soa.minimum must be an integer from 0 to 86400 (got 86401)'],
    ['soa: 5', 'soa', 'soa must be a mapping of keys (got 5)'],
    [
      'tcp: { idleTimeoutMs: 99 }',
      'tcp.idleTimeoutMs',
      'tcp.idleTimeoutMs must be an integer from 100 to 600000 (got 99)',
    ],
    [
      'tcp: { idleTimeoutMs: 600001 }',
      'tcp.idleTimeoutMs',
      'tcp.idleTimeoutMs must be an integer from 100 to 600000 (got 600001)',
    ],
    [
      'tcp: { maxConnections: -3 }',
      'tcp.maxConnections',
      'tcp.maxConnections must be an integer from 1 to 100000 (got -3)',
    ],
    [
      'tcp: { maxConnections: 100001 }',
      'tcp.maxConnections',
      'tcp.maxConnections must be an integer from 1 to 100000 (got 100001)',
    ],
    ['udpPayloadSize: 511', 'udpPayloadSize', 'udpPayloadSize must be an integer from 512 to 4096 (got 511)'],
    ['udpPayloadSize: 4097', 'udpPayloadSize', 'udpPayloadSize must be an integer from 512 to 4096 (got 4097)'],
    ['workers: 0', 'workers', 'workers must be an integer from 1 to 64 (got 0)'],
    ['udpIo: epoll', 'udpIo', "udpIo must be one of auto, recvmmsg, dgram (got 'epoll')"],
    ['routeIndex: yes please', 'routeIndex', "routeIndex must be true or false (got 'yes please')"],
    [
      'log: { level: verbose }',
      'log.level',
      "log.level must be one of fatal, error, warn, info, debug, trace, silent (got 'verbose')",
    ],
    ['demoRoutes: 3', 'demoRoutes', 'demoRoutes must be a file path, or null for none (got 3)'],
    ['dbMode: "0o600x"', 'dbMode', "dbMode must be an octal mode such as '0600' (quote it in YAML) (got '0o600x')"],
    ['dbMode: 0o600', 'dbMode', "dbMode must be an octal mode such as '0600' (quote it in YAML) (got 384)"],
    ['dbMode: "0400"', 'dbMode', "dbMode must let the owner read and write (0600 at least) (got '0400')"],
    [
      'dbMode: "4755"',
      'dbMode',
      "dbMode must be a permission mode from 0600 to 0777 (no setuid, setgid or sticky bit) (got '4755')",
    ],
    ['dbMode: [1]', 'dbMode', "dbMode must be an octal mode such as '0600' (got [1])"],
    ['targets: 5', 'targets', 'targets must be a mapping of keys (got 5)'],
    [
      'targets: { accounts: "123456789012" }',
      'targets.accounts',
      "targets.accounts must be a list, each entry a 12-digit account id or '*' (got '123456789012')",
    ],
    [
      'transfer: { allow: ["transfer key"] }',
      'transfer.allow[0]',
      "transfer.allow[0] must be a key name: dot-separated labels of letters, digits, - and _ (got 'transfer key')",
    ],
    ['journal: { keep: 0 }', 'journal.keep', 'journal.keep must be an integer from 1 to 100000000 (got 0)'],
    [
      'journal: { maxAge: 90 }',
      'journal.maxAge',
      'journal.maxAge must be a duration such as 90d, 720h or 30m (s, m, h, d), from 1h to 36500d, or null for none (got 90)',
    ],
    [
      'journal: { maxAge: 30m }',
      'journal.maxAge',
      "journal.maxAge must be a duration such as 90d, 720h or 30m (s, m, h, d), from 1h to 36500d, or null for none (got '30m')",
    ],
    [
      'journal: { maxAge: 3w }',
      'journal.maxAge',
      "journal.maxAge must be a duration such as 90d, 720h or 30m (s, m, h, d), from 1h to 36500d, or null for none (got '3w')",
    ],
    [
      'targets: { accounts: ["12345"] }',
      'targets.accounts[0]',
      "targets.accounts[0] must be a 12-digit account id or '*' (got '12345')",
    ],
    [
      'targets: { partitions: ["AWS"] }',
      'targets.partitions[0]',
      "targets.partitions[0] must be lowercase letters, digits or - (e.g. aws, lambda), or '*' (got 'AWS')",
    ],
    [
      'targets: { httpsHosts: ["*", "10.0.0.0/33"] }',
      'targets.httpsHosts[1]',
      "targets.httpsHosts[1] must be a CIDR range such as 10.0.0.0/8 or fd00::/8 (got '10.0.0.0/33')",
    ],
    [
      'targets: { httpsHosts: ["https://x.example"] }',
      'targets.httpsHosts[0]',
      "targets.httpsHosts[0] must be a host, not a URL: write the host alone, e.g. hooks.example.com (got 'https://x.example')",
    ],
    [
      'targets: { httpsHosts: ["bad host"] }',
      'targets.httpsHosts[0]',
      "targets.httpsHosts[0] must be '*', a host name, '*.domain', an IP address or a CIDR range such as 10.0.0.0/8 (got 'bad host')",
    ],
  ];
  for (const [yaml, key, message] of rangeErrors) {
    it(`file: ${yaml}`, () =>
      configError(() => loadConfig({ cwd: withConfig(`${yaml}\n`), env: {} }), key, `${F}: ${message}`));
  }

  it('reads notify: a list of { address, key }, the port 53 when left out', () => {
    const cwd = withConfig(
      'notify:\n  - { address: 10.0.0.6:53, key: transfer-key }\n  - { address: "2001:db8::7" }\n  - address: 10.0.0.8:5300\n' +
        '  - { address: psarn-sidecars.apps.svc.cluster.local:8053, key: transfer-key }\n',
    );
    assert.deepEqual(loadConfig({ cwd, env: {} }).config.notify, [
      { address: { host: '10.0.0.6', port: 53 }, key: 'transfer-key' },
      { address: { host: '2001:db8::7', port: 53 } },
      { address: { host: '10.0.0.8', port: 5300 } },
      // A name: resolved at each change, every address a peer (docs/design.md#notify).
      { address: { host: 'psarn-sidecars.apps.svc.cluster.local', port: 8053 }, key: 'transfer-key' },
    ]);
    // The env replaces the file's list, as every list key does.
    assert.deepEqual(loadConfig({ cwd, env: { PSARN_NOTIFY: '10.0.0.9:53' } }).config.notify, [
      { address: { host: '10.0.0.9', port: 53 } },
    ]);
    assert.deepEqual(
      loadConfig({ cwd, env: { PSARN_NOTIFY: 'localhost:8053 key transfer-key,10.0.0.9' } }).config.notify,
      [
        { address: { host: 'localhost', port: 8053 }, key: 'transfer-key' },
        { address: { host: '10.0.0.9', port: 53 } },
      ],
    );
  });

  it('refuses a notify entry that is no address or host name with a port, a port 0, a bad key or a stray key', () => {
    const usage =
      'must be an IP address with an optional port, or a host name with a port, e.g. 10.0.0.6:53, 10.0.0.6, [2001:db8::6]:53 or secondaries.example.com:8053';
    const cases: [string, string, string][] = [
      // A name needs its port: a bare one is more likely a mistyped address.
      [
        'notify: [{ address: secondary.example.com }]',
        'notify[0].address',
        "notify[0].address must give a host name's port, e.g. secondaries.example.com:53 (got 'secondary.example.com')",
      ],
      ['notify: [{ address: "bad_host:53" }]', 'notify[0].address', `notify[0].address ${usage} (got 'bad_host:53')`],
      // LDH, but a mistyped IPv4 address, not a name (RFC 3696 §2).
      ['notify: [{ address: 10.0.0.300:53 }]', 'notify[0].address', `notify[0].address ${usage} (got '10.0.0.300:53')`],
      [
        'notify: [{ address: secondary.example.com:0 }]',
        'notify[0].address',
        "notify[0].address must have a port from 1 to 65535 (got 'secondary.example.com:0')",
      ],
      [
        'notify: [{ address: 10.0.0.6:0 }]',
        'notify[0].address',
        "notify[0].address must have a port from 1 to 65535 (got '10.0.0.6:0')",
      ],
      [
        'notify: [{ address: 10.0.0.6:53, key: "a key" }]',
        'notify[0].key',
        "notify[0].key must be a key name: dot-separated labels of letters, digits, - and _ (got 'a key')",
      ],
      [
        'notify: [10.0.0.6:53]',
        'notify[0]',
        "notify[0] must be a mapping such as { address: 10.0.0.6:53, key: transfer-key } (got '10.0.0.6:53')",
      ],
    ];
    for (const [yaml, key, message] of cases) {
      configError(() => loadConfig({ cwd: withConfig(`${yaml}\n`), env: {} }), key, `${F}: ${message}`);
    }
    configError(
      () => loadConfig({ cwd: withConfig('notify: [{ address: 10.0.0.6:53, port: 53 }]\n'), env: {} }),
      'notify[0].port',
      "config config/psarnd.yaml: unknown key 'notify[0].port'; check the spelling (known: address, key)",
    );
    configError(
      () => loadConfig({ cwd: tempDir(), env: { PSARN_NOTIFY: '10.0.0.6:53 transfer-key' } }),
      'notify[0]',
      "config env PSARN_NOTIFY: notify[0] must be a mapping such as { address: 10.0.0.6:53, key: transfer-key } (got '10.0.0.6:53 transfer-key')",
    );
  });

  it('names the env variable or flag a bad value came from', () => {
    const cwd = tempDir();
    configError(
      () => loadConfig({ cwd, env: { PSARN_TCP_MAX_CONNECTIONS: 'many' } }),
      'tcp.maxConnections',
      "config env PSARN_TCP_MAX_CONNECTIONS: tcp.maxConnections must be an integer from 1 to 100000 (got 'many')",
    );
    configError(
      () => loadConfig({ cwd, env: {}, overrides: { listen: 'localhost' } }),
      'listen',
      "config flag listen: listen must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8053 or [::1]:8053 (got 'localhost')",
    );
    configError(
      () => loadConfig({ cwd, env: {}, overrides: { ttl: '5' } }),
      'ttl',
      "config flag ttl: unknown key 'ttl'; check the spelling (known: listen, http, db, dbMode, namespace, nameservers, defaultTtl, epochTtl, soa, tcp, udpPayloadSize, udpIo, workers, routeIndex, log, demoRoutes, nsid, cookieSecret, targets, tsig, notify, journal, transfer, update, secondary, httpToken, callers)",
    );
  });
});

describe('loadConfig: update and secondary (issue 10)', () => {
  it("reads secondary from the file, 'catalog' by default, and refuses a key or zones without a primary", () => {
    const cwd = withConfig('secondary: { primary: "primary.internal:53", key: transfer-key }\n');
    assert.deepEqual(loadConfig({ cwd, env: {} }).config.secondary, {
      primary: { host: 'primary.internal', port: 53 },
      key: 'transfer-key',
      zones: 'catalog',
    });
    assert.equal(loadConfig({ cwd, env: { PSARN_SECONDARY_ZONES: 'catalog' } }).config.secondary?.zones, 'catalog');
    configError(
      () => loadConfig({ cwd: withConfig('secondary: { key: transfer-key }\n'), env: {} }),
      'secondary.primary',
      'secondary.primary must be set when secondary.key or secondary.zones is',
    );
    configError(
      () => loadConfig({ cwd: withConfig('secondary: { primary: 10.0.0.5:53, zones: [] }\n'), env: {} }),
      'secondary.zones',
      "config config/psarnd.yaml: secondary.zones must list at least one zone, or be 'catalog' (got [])",
    );
    configError(
      () => loadConfig({ cwd: withConfig('secondary: { primary: 10.0.0.5:53, zones: ["a b."] }\n'), env: {} }),
      'secondary.zones[0]',
      "config config/psarnd.yaml: secondary.zones[0] must be a zone name: dot-separated labels of letters, digits, - and _ (got 'a b.')",
    );
  });
});

describe('loadConfig: messages are bounded and printable (issue 8, defect 5.7)', () => {
  const F = 'config config/psarnd.yaml';

  it('a huge value is shown cut to 80 characters and its size, not whole', () => {
    const value = 'a'.repeat(900_000);
    configError(
      () => loadConfig({ cwd: withConfig(`listen: ${value}\n`), env: {} }),
      'listen',
      `${F}: listen must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8053 or [::1]:8053 (got '${'a'.repeat(80)}…' (900000 bytes))`,
    );
  });

  it('a 20 MB file is refused by its size before it is parsed', () => {
    const cwd = withConfig(`db: ${'a'.repeat(20_000_000)}\n`);
    const before = process.memoryUsage().rss;
    assert.throws(
      () => loadConfig({ cwd, env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          `${F}: the file is 20000005 bytes, over the 1048576-byte limit of a config file; check that --config or PSARN_CONFIG names the config file`,
    );
    // Nothing read: the RSS did not grow by the file's 20 MB (the old code read, parsed and echoed it).
    assert.ok(process.memoryUsage().rss - before < 15_000_000);
  });

  it('paths are at most 4096 characters, and a longer one is not echoed whole', () => {
    for (const key of ['db', 'demoRoutes']) {
      const cwd = withConfig(`${key}: /tmp/${'p'.repeat(100_000)}\n`);
      assert.throws(
        () => loadConfig({ cwd, env: {} }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.key === key &&
          err.message.startsWith(`${F}: ${key} must be a file path of at most 4096 characters`) &&
          err.message.endsWith(`…' (100005 bytes))`) &&
          err.message.length < 300,
      );
    }
  });

  it('control bytes are escaped, and bytes that are not UTF-8 are an error naming where', () => {
    configError(
      () => loadConfig({ cwd: withConfig('listen: \u001b[31mred\u0007\n'), env: {} }),
      'listen',
      `${F}: listen must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8053 or [::1]:8053 (got '\\x1b[31mred\\x07')`,
    );
    const cwd = withConfig('');
    writeFileSync(join(cwd, 'config/psarnd.yaml'), Buffer.from('# ok\nlisten: \xff\xfe:53\n', 'latin1'));
    configError(() => loadConfig({ cwd, env: {} }), '', `${F}:2:9: byte \\xff is not UTF-8; save the file as UTF-8`);
  });

  it('an unknown key and a non-mapping file are shown bounded', () => {
    const key = `k${'x'.repeat(1000)}`;
    assert.throws(
      () => loadConfig({ cwd: withConfig(`${key}: 1\n`), env: {} }),
      (err: unknown) =>
        err instanceof ConfigError && err.message.startsWith(`${F}: unknown key 'kxxx`) && err.message.length < 500,
    );
    const list = `[${Array.from({ length: 50_000 }, (_, i) => i).join(', ')}]`;
    assert.throws(
      () => loadConfig({ cwd: withConfig(`${list}\n`), env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          `${F}: must be a YAML mapping of keys such as listen: 127.0.0.1:8053 (got [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29… (50000 items))`,
    );
  });
});

describe('parseHostPort', () => {
  it('parses IPv4, [IPv6] and names, port 0..65535', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:8053', 'listen'), { host: '127.0.0.1', port: 8053 });
    assert.deepEqual(parseHostPort('[::1]:53', 'listen'), { host: '::1', port: 53 });
    assert.deepEqual(parseHostPort('localhost:0', 'listen'), { host: 'localhost', port: 0 });
    assert.deepEqual(parseHostPort('h.example:65535', 'x'), { host: 'h.example', port: 65535 });
  });
  it('throws ConfigError naming the key', () => {
    for (const bad of ['127.0.0.1', ':53', '127.0.0.1:-1', '127.0.0.1:99999', '1.2.3.4:5x', '']) {
      configError(
        () => parseHostPort(bad, 'http'),
        'http',
        `http must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8053 or [::1]:8053 (got '${bad}')`,
      );
    }
  });
});

describe('zoneParams', () => {
  it('derives SOA and NS parameters from the config', () => {
    const config = loadConfig({
      cwd: tempDir(),
      env: { PSARN_NAMESERVERS: 'a.example,b.example', PSARN_SOA_MINIMUM: '10' },
    }).config;
    assert.deepEqual(zoneParams(config), {
      soaTtl: 3600,
      mname: 'a.example.',
      rname: 'hostmaster.psarn.internal.',
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 10,
      nsTtl: 3600,
      nameservers: ['a.example.', 'b.example.'],
    });
  });
});

describe('loadConfig: nsid and cookieSecret (issue 10)', () => {
  it('nsid: the host name by default and for true; false, "" and PSARN_NSID=false or "" turn it off', () => {
    const cwd = tempDir();
    assert.equal(loadConfig({ cwd, env: {} }).config.nsid, hostname());
    assert.equal(loadConfig({ cwd: withConfig('nsid: true\n'), env: {} }).config.nsid, hostname());
    assert.equal(loadConfig({ cwd: withConfig('nsid: false\n'), env: {} }).config.nsid, undefined);
    assert.equal(loadConfig({ cwd: withConfig('nsid: ""\n'), env: {} }).config.nsid, undefined);
    assert.equal(loadConfig({ cwd, env: { PSARN_NSID: 'false' } }).config.nsid, undefined);
    assert.equal(loadConfig({ cwd, env: { PSARN_NSID: '' } }).config.nsid, undefined);
    assert.equal(loadConfig({ cwd: withConfig('nsid: edge-3\n'), env: {} }).config.nsid, 'edge-3');
  });

  it('nsid: refuses text that is not printable ASCII or over 128 characters', () => {
    const cwd = tempDir();
    configError(
      () => loadConfig({ cwd, env: { PSARN_NSID: 'a'.repeat(129) } }),
      'nsid',
      `config env PSARN_NSID: nsid must be at most 128 characters (got '${'a'.repeat(80)}…' (129 bytes))`,
    );
    assert.throws(() => loadConfig({ cwd, env: { PSARN_NSID: 'caf\u00e9' } }), /nsid must be printable ASCII/);
  });

  it('cookieSecret: 32 hex digits, and a wrong one is never shown in the error', () => {
    const cwd = tempDir();
    assert.equal(loadConfig({ cwd, env: {} }).config.cookieSecret, undefined);
    const wrong = '0123456789abcdef0123456789abcdeZ';
    configError(
      () => loadConfig({ cwd, env: { PSARN_COOKIE_SECRET: wrong } }),
      'cookieSecret',
      'config env PSARN_COOKIE_SECRET: cookieSecret must be 32 hex digits (16 bytes), e.g. from: openssl rand -hex 16 (got a value of 32 characters, not shown)',
    );
    assert.throws(
      () => loadConfig({ cwd: withConfig(`cookieSecret: ${wrong}\n`), env: {} }),
      (err: Error) => !err.message.includes('0123456789abcdef'),
    );
  });
});

describe('loadConfig: tsig.keys (issue 10)', () => {
  it('reads inline secrets and secretFiles (relative to the working directory), default hmac-sha256', () => {
    const cwd = withConfig(
      `tsig:\n  keys:\n    - { name: transfer-key, algorithm: hmac-sha512, secret: "${SECRET_64}" }\n    - { name: Update-Key., secretFile: secrets/update }\n`,
    );
    mkdirSync(join(cwd, 'secrets'));
    writeFileSync(join(cwd, 'secrets/update'), `${SECRET_32}\n`, { mode: 0o600 });
    const { config } = loadConfig({ cwd, env: {} });
    assert.deepEqual(config.tsig.keys, [
      { name: 'transfer-key.', algorithm: 'hmac-sha512', secret: Buffer.from(SECRET_64, 'base64') },
      { name: 'update-key.', algorithm: 'hmac-sha256', secret: Buffer.from(SECRET_32, 'base64') },
    ]);
  });

  it('refuses bad entries, naming the key and never showing a secret', () => {
    const notBase64 = `${SECRET_32.slice(0, 20)}!!`;
    const cases: [string, string, RegExp][] = [
      [`{ name: k, secret: "${notBase64}" }`, 'tsig.keys[0].secret', /must be base64/],
      [`{ name: k, secret: "${SECRET_32.slice(0, 8)}" }`, 'tsig.keys[0].secret', /at least 16 bytes/],
      [`{ name: k, secret: "${SECRET_32}", secretFile: x }`, 'tsig.keys[0]', /exactly one of secret and secretFile/],
      ['{ name: k }', 'tsig.keys[0]', /exactly one of secret and secretFile/],
      [
        `{ name: k, algorithm: hmac-md5, secret: "${SECRET_32}" }`,
        'tsig.keys[0].algorithm',
        /hmac-sha256, hmac-sha512/,
      ],
      [`{ name: "bad name", secret: "${SECRET_32}" }`, 'tsig.keys[0].name', /must be a key name/],
      [`{ name: k, secret: "${SECRET_32}" }\n    - { name: K., secret: "${SECRET_64}" }`, 'tsig.keys[1].name', /twice/],
      [`{ name: k, secret: "${SECRET_32}", extra: 1 }`, 'tsig.keys.0.extra', /unknown key/],
    ];
    for (const [entry, key, message] of cases) {
      const cwd = withConfig(`tsig:\n  keys:\n    - ${entry}\n`);
      assert.throws(
        () => loadConfig({ cwd, env: {} }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.equal(err.key, key, err.message);
          assert.match(err.message, message);
          for (const secret of [SECRET_32, SECRET_64, notBase64, SECRET_32.slice(0, 8)]) {
            assert.ok(!err.message.includes(secret), `secret in: ${err.message}`);
          }
          return true;
        },
      );
    }
  });

  it('a secretFile that is missing, too big or not base64 is an error naming the file, not its content', () => {
    const cwd = withConfig('tsig:\n  keys:\n    - { name: k, secretFile: s }\n');
    configError(
      () => loadConfig({ cwd, env: {} }),
      'tsig.keys[0].secretFile',
      "config tsig.keys[0].secretFile 's': cannot read the file (ENOENT)",
    );
    writeFileSync(join(cwd, 's'), `${SECRET_32}-not-base64`);
    assert.throws(
      () => loadConfig({ cwd, env: {} }),
      (err: Error) => /must hold one base64 secret/.test(err.message) && !err.message.includes(SECRET_32),
    );
    writeFileSync(join(cwd, 's'), 'x'.repeat(5000));
    assert.throws(() => loadConfig({ cwd, env: {} }), /over 4096 bytes/);
  });

  it('PSARN_TSIG_KEYS: a bad entry names its position, never its text', () => {
    for (const value of [`${SECRET_32}`, `a:b:c:${SECRET_32}`, `k:${SECRET_32}!`]) {
      assert.throws(
        () => loadConfig({ cwd: tempDir(), env: { PSARN_TSIG_KEYS: value } }),
        (err: unknown) =>
          err instanceof ConfigError && !err.message.includes(SECRET_32) && /PSARN_TSIG_KEYS/.test(err.message),
      );
    }
  });
});
