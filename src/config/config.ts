/**
 * psarnd/psarn configuration (docs/design.md#configuration): YAML file, then env PSARN_<KEY>, then flags.
 * Validated once at start; a bad value is a ConfigError naming the key and the reason.
 *
 * Each layer (file, env, flags) is validated on its own, so an error names where the bad value
 * came from ("config config/psarnd.yaml: ...", "config env PSARN_DB: ...", "config flag listen: ...").
 * In the file, a key set to null (or left empty) means "not set", except `demoRoutes: null`,
 * which turns the demo routes off.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ECHO_LONG, echo, echoValue, invalidUtf8At, PsarnBaseError, quote } from '../errors.js';
import { normalizeNamespace } from '../psarn/name.js';
import type { TargetPolicy } from '../psarn/target-policy.js';
import type { ZoneParams } from '../store/types.js';
import { decodeSecret, makeTsigKey, parseTsigKey, type TsigKey } from '../wire/tsig.js';
import type { ConfigLayer, LogLevel, RawConfig, TsigKeyEntry, UdpIo } from './schema.js';
import {
  ageMs,
  CONFIG_KEYS,
  DEFAULTS,
  envKeyFor,
  hostPortProblem,
  LIST_ENTRY_KEYS,
  LIST_KEYS,
  layerSchema,
  NSID_MAX,
  NUMERIC_KEYS,
  parseFileMode,
  SECRET_KEYS,
} from './schema.js';

export type { UdpIo } from './schema.js';
export { CONFIG_KEYS, envKeyFor } from './schema.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  /** DNS, UDP and TCP. Default 127.0.0.1:8053. */
  listen: HostPort;
  /** /metrics /health /ready. Default 127.0.0.1:9153. */
  http: HostPort;
  /** SQLite file, resolved against the working directory. Default ./data/psarn.db. */
  db: string;
  /**
   * Mode of a database file psarn creates (its -wal and -shm files get the same); a folder
   * created for it gets x where r is set (0600 -> 0700). Default 0o600.
   */
  dbMode: number;
  /** Canonical (lowercase, trailing dot). Default psarn.internal. */
  namespace: string;
  /** Absolute names. Default [ns.psarn.internal.]. */
  nameservers: string[];
  /** 0..172800. Default 300. */
  defaultTtl: number;
  /** Default 5. */
  epochTtl: number;
  soa: { refresh: number; retry: number; expire: number; minimum: number };
  tcp: { idleTimeoutMs: number; maxConnections: number };
  /** 512..4096. Default 1232. */
  udpPayloadSize: number;
  /** UDP carrier: 'auto' (recvmmsg when the native addon is built, else dgram), 'recvmmsg' (required), 'dgram'. */
  udpIo: UdpIo;
  /** DNS worker processes sharing the sockets (node:cluster); 1 serves in the main process. Default 1. */
  workers: number;
  /** Answer URI/TXT/ANY questions of target routes from an in-memory index of every route. Default true. */
  routeIndex: boolean;
  log: { level: LogLevel };
  /** Resolved path, or null for none. Default config/demo-routes.yaml. */
  demoRoutes: string | null;
  /** Which targets a route may name, checked when routes are written. Default: any ARN, any public https host. */
  targets: TargetPolicy;
  /** TSIG keys (RFC 8945), secrets decoded (a secretFile read at load). Default none. */
  tsig: { keys: TsigKey[] };
  /**
   * Secondaries sent a NOTIFY after each change, each with the TSIG key that signs it. `host` is
   * an IP address, or a host name resolved at each change (every address a peer). Default none.
   */
  notify: { address: HostPort; key?: string }[];
  /** What NSID (RFC 5001) names this server by; undefined: off. Default: the host name. */
  nsid: string | undefined;
  /** DNS Cookies' 16-byte server secret; undefined: random at each start. Never logged. */
  cookieSecret: Buffer | undefined;
  /**
   * Changes kept per zone in the journal, for IXFR (docs/design.md#transfers) and route history
   * (docs/design.md#history-and-revert). Default 10000. `maxAgeMs`: rows older than it are pruned
   * too; absent: no age limit (the default).
   */
  journal: { keep: number; maxAgeMs?: number };
  /** TSIG key names that may transfer zones (AXFR/IXFR). Default none: every transfer is REFUSED. */
  transfer: { allow: string[] };
  /** TSIG key names that may change routes by DNS UPDATE (RFC 2136). Default none: every UPDATE is REFUSED. */
  update: { allow: string[] };
  /**
   * Present: this psarnd is a secondary of `primary` (docs/design.md#secondary-mode), transferring
   * with `key`; `zones` is 'catalog' (every zone the primary's catalog lists) or zone names
   * (lowercase, trailing dot). Default undefined: a primary.
   */
  secondary: { primary: HostPort; key?: string; zones: 'catalog' | string[] } | undefined;
  /**
   * The bearer token of the web console and its JSON API (docs/design.md#web-console); psarnd
   * refuses to start with `http` on a non-loopback address without one. Never logged.
   */
  httpToken: string | undefined;
  /**
   * The caller map (docs/design.md#the-caller-map): at most `maxCallers` caller ids and
   * `maxEntries` (caller, name) pairs in memory (0: no map), written to the database every
   * `persistEveryMs`, and sent by a secondary to its primary every `reportEveryMs`.
   */
  callers: { maxCallers: number; maxEntries: number; persistEveryMs: number; reportEveryMs: number };
}

export class ConfigError extends PsarnBaseError {
  readonly code = 'ERR_CONFIG';
  /** Dotted key, e.g. 'tcp.maxConnections', or '' for the file as a whole. */
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
    this.key = key;
  }
}

export interface LoadOptions {
  /** --config; else env PSARN_CONFIG; else config/psarnd.yaml when it exists; else defaults only. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Flag values by dotted key, e.g. { listen: '127.0.0.1:0', db: '/tmp/x.db' }: highest precedence. */
  overrides?: Record<string, string | undefined>;
  /** Base for relative paths. Default process.cwd(). */
  cwd?: string;
}

type Layer = Record<string, unknown>;

/** A config file is a few hundred bytes; anything this big is the wrong file, not a config. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Loads the configuration: defaults < file < env < overrides.
 * @throws ConfigError
 * @example const { config } = loadConfig({ overrides: { listen: '127.0.0.1:0' } });
 */
export function loadConfig(options: LoadOptions = {}): { config: Config; file: string | undefined } {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let merged: Layer = structuredClone(DEFAULTS);
  const file = chooseFile(options.file, env, cwd);
  if (file) {
    const shown = echo(relativeOrAbsolute(file, cwd), ECHO_LONG);
    merged = merge(
      merged,
      validate(readYamlLayer(file, shown), () => `config ${shown}`),
    );
  }
  const envLayer: Layer = {};
  for (const key of CONFIG_KEYS) {
    const value = env[envKeyFor(key)];
    if (value !== undefined && (value !== '' || key === 'demoRoutes' || key === 'nsid'))
      setDotted(envLayer, key, fromText(key, value));
  }
  merged = merge(
    merged,
    validate(envLayer, (key) => `config env ${envKeyFor(key)}`),
  );
  const flagLayer: Layer = {};
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setDotted(flagLayer, key, fromText(key, value));
  }
  merged = merge(
    merged,
    validate(flagLayer, (key) => `config flag ${key}`),
  );
  return { config: finish(merged as RawConfig, cwd), file };
}

/** The configuration with no file, env or flags, paths resolved against `cwd`. */
export function defaultConfig(cwd: string = process.cwd()): Config {
  return finish(structuredClone(DEFAULTS), cwd);
}

function chooseFile(
  given: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): string | undefined {
  const named = given || env.PSARN_CONFIG || undefined;
  if (named) {
    const path = resolve(cwd, named);
    if (!existsSync(path)) {
      const how = given ? '--config' : 'PSARN_CONFIG';
      throw new ConfigError(
        '',
        `config file ${quote(named, ECHO_LONG)} (from ${how}) does not exist; fix the path or leave ${how} unset`,
      );
    }
    return path;
  }
  const path = resolve(cwd, 'config/psarnd.yaml');
  return existsSync(path) ? path : undefined;
}

function relativeOrAbsolute(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function readYamlLayer(file: string, shown: string): Layer {
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(
        '',
        `config ${shown}: the file is ${size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit of a config file; check that --config or PSARN_CONFIG names the config file`,
      );
    }
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const reason = (err as NodeJS.ErrnoException).code ?? echo((err as Error).message);
    throw new ConfigError('', `config ${shown}: cannot read the file (${reason})`, { cause: err });
  }
  const text = utf8Text(bytes, shown);
  const doc = parseDocument(text);
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const reason = echo(error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), ECHO_LONG);
    throw new ConfigError(
      '',
      `config ${shown}${at ? `:${at.line}:${at.col}` : ''}: YAML syntax error: ${reason}; fix the file`,
      {
        cause: error,
      },
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(
      '',
      `config ${shown}: must be a YAML mapping of keys such as listen: 127.0.0.1:8053 (got ${echoValue(data)})`,
    );
  }
  return dropNulls(data as Layer);
}

/**
 * The file as text. YAML is Unicode (YAML 1.2 §5.2) and psarn reads UTF-8: bytes that are not
 * UTF-8 are an error naming where they are, rather than U+FFFD in a value that then fails with
 * a puzzling message.
 */
function utf8Text(bytes: Buffer, shown: string): string {
  const at = invalidUtf8At(bytes);
  if (at < 0) return bytes.toString('utf8');
  const before = bytes.subarray(0, at);
  const line = before.filter((b) => b === 0x0a).length + 1;
  const column = at - (before.lastIndexOf(0x0a) + 1) + 1;
  throw new ConfigError(
    '',
    `config ${shown}:${line}:${column}: byte ${echo(bytes.subarray(at, at + 1))} is not UTF-8; save the file as UTF-8`,
  );
}

/** null means "not set" (an emptied key), except demoRoutes where it means "none". */
function dropNulls(layer: Layer, prefix = ''): Layer {
  const out: Layer = {};
  for (const [k, v] of Object.entries(layer)) {
    const key = prefix + k;
    if (v === null && key !== 'demoRoutes') continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && !prefix ? dropNulls(v as Layer, `${key}.`) : v;
  }
  return out;
}

/** Env and flag values are text: numbers for numeric keys, lists for nameservers. */
function fromText(key: string, value: string): unknown {
  if (NUMERIC_KEYS.has(key)) return /^[+-]?\d+$/.test(value.trim()) ? Number(value) : value;
  if (LIST_KEYS.has(key))
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (key === 'demoRoutes' && value === '') return null;
  if ((key === 'routeIndex' || key === 'nsid') && (value === 'true' || value === 'false')) return value === 'true';
  if (key === 'tsig.keys') return tsigKeysFromText(value);
  if (key === 'notify') return notifyFromText(value);
  // PSARN_SECONDARY_ZONES=catalog, or a comma-separated list of zone names.
  if (key === 'secondary.zones')
    return value.trim() === 'catalog'
      ? 'catalog'
      : value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  return value;
}

/**
 * PSARN_NOTIFY: comma-separated entries `ADDRESS` or `ADDRESS key NAME`, the words of
 * BIND's also-notify (`10.0.0.6:53 key transfer-key,10.0.0.7:53`). An entry of another shape is
 * left as text, for the schema to name it.
 */
function notifyFromText(value: string): unknown[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const m = /^(\S+)(?:\s+key\s+(\S+))?$/.exec(entry);
      if (!m) return entry;
      return m[2] === undefined ? { address: m[1] } : { address: m[1], key: m[2] };
    });
}

/**
 * PSARN_TSIG_KEYS: comma-separated `[ALG:]NAME:SECRET` (nsupdate's -y form), e.g.
 * `hmac-sha256:transfer-key:c2Vj…,update-key:ZGVm…`. An entry that is not that shape is an
 * error naming its position, never its text (it holds a secret).
 */
function tsigKeysFromText(value: string): TsigKeyEntry[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry, i) => {
      const parts = entry.split(':');
      if (parts.length < 2 || parts.length > 3) {
        throw new ConfigError(
          'tsig.keys',
          `config env PSARN_TSIG_KEYS: entry ${i + 1} must be [ALG:]NAME:SECRET (the value is not shown: it holds a secret)`,
        );
      }
      const [algorithm, name, secret] = parts.length === 3 ? parts : ['hmac-sha256', parts[0]!, parts[1]!];
      return {
        name: name!,
        algorithm: algorithm!.toLowerCase() as TsigKeyEntry['algorithm'] & string,
        secret: secret!,
      };
    });
}

function setDotted(layer: Layer, key: string, value: unknown): void {
  const [head, tail] = key.split(/\.(.*)/s) as [string, string | undefined];
  if (tail === undefined) {
    layer[head] = value;
  } else {
    const existing = layer[head];
    const inner: Layer = existing !== null && typeof existing === 'object' ? (existing as Layer) : {};
    inner[tail] = value;
    layer[head] = inner;
  }
}

function validate(layer: Layer, source: (key: string) => string): ConfigLayer {
  const result = layerSchema.safeParse(layer);
  if (result.success) return result.data;
  // An unknown key first: a typo usually explains the other complaints.
  const issues = result.error.issues;
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const parent = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const list = issue.path[0] !== undefined ? LIST_ENTRY_KEYS[String(issue.path[0])] : undefined;
    if (list !== undefined && typeof issue.path[1] === 'number') {
      // An entry of a list of mappings (notify): name it by its index.
      const key = `${formatPath(issue.path)}.${issue.keys[0]}`;
      throw new ConfigError(
        key,
        `${source(dotted(issue.path))}: unknown key ${quote(key)}; check the spelling (known: ${list.join(', ')})`,
      );
    }
    const key = parent ? `${parent}.${issue.keys[0]}` : issue.keys[0]!;
    const known = CONFIG_KEYS.filter((k) => k.startsWith(parent ? `${parent}.` : '')).map((k) =>
      parent ? k : k.split('.')[0],
    );
    throw new ConfigError(
      key,
      `${source(key)}: unknown key ${quote(key)}; check the spelling (known: ${[...new Set(known)].join(', ')})`,
    );
  }
  const key = formatPath(issue.path);
  // A TSIG key's values are never echoed: a secret must not reach a log or a terminal.
  if (issue.path[0] === 'tsig') throw new ConfigError(key, `${source(dotted(issue.path))}: ${key} ${issue.message}`);
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k as PropertyKey], layer);
  // A secret is never echoed, not even a wrong one: it may be the right one mistyped.
  const got = SECRET_KEYS.has(key)
    ? typeof value === 'string'
      ? `a value of ${value.length} characters, not shown`
      : `a ${value === null ? 'null' : typeof value}, not shown`
    : echoValue(value);
  throw new ConfigError(key, `${source(dotted(issue.path))}: ${key} ${issue.message} (got ${got})`);
}

function dotted(path: z.core.$ZodIssue['path']): string {
  return path.filter((p) => typeof p === 'string').join('.');
}

function formatPath(path: z.core.$ZodIssue['path']): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

function merge(base: Layer, top: Layer): Layer {
  const out: Layer = { ...base };
  for (const [k, v] of Object.entries(top)) {
    const b = base[k];
    const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
    out[k] = isObj(b) && isObj(v) ? { ...(b as Layer), ...(v as Layer) } : v;
  }
  return out;
}

function finish(raw: RawConfig, cwd: string): Config {
  return {
    listen: parseHostPort(raw.listen, 'listen'),
    http: parseHostPort(raw.http, 'http'),
    // ':memory:' is better-sqlite3's in-memory database, not a file name.
    db: raw.db === ':memory:' ? raw.db : resolve(cwd, raw.db),
    dbMode: parseFileMode(raw.dbMode),
    namespace: normalizeNamespace(raw.namespace),
    nameservers: raw.nameservers.map((n) => `${n.endsWith('.') ? n.slice(0, -1) : n}.`.toLowerCase()),
    defaultTtl: raw.defaultTtl,
    epochTtl: raw.epochTtl,
    soa: { ...raw.soa },
    tcp: { ...raw.tcp },
    udpPayloadSize: raw.udpPayloadSize,
    udpIo: raw.udpIo,
    workers: raw.workers,
    routeIndex: raw.routeIndex,
    log: { ...raw.log },
    demoRoutes: raw.demoRoutes ? resolve(cwd, raw.demoRoutes) : null,
    targets: {
      partitions: [...raw.targets.partitions],
      accounts: [...raw.targets.accounts],
      services: [...raw.targets.services],
      httpsHosts: [...raw.targets.httpsHosts],
    },
    tsig: { keys: raw.tsig.keys.map((entry, i) => tsigKeyFrom(entry, `tsig.keys[${i}]`, cwd)) },
    notify: raw.notify.map((entry) => ({
      address: parseNotifyAddress(entry.address),
      ...(entry.key !== undefined ? { key: entry.key } : {}),
    })),
    nsid: nsidOf(raw.nsid),
    cookieSecret: raw.cookieSecret ? Buffer.from(raw.cookieSecret, 'hex') : undefined,
    journal: {
      keep: raw.journal.keep,
      ...(raw.journal.maxAge === null ? {} : { maxAgeMs: ageMs(raw.journal.maxAge)! }),
    },
    transfer: { allow: [...raw.transfer.allow] },
    update: { allow: [...raw.update.allow] },
    secondary: secondaryOf(raw.secondary),
    httpToken: raw.httpToken ?? undefined,
    callers: {
      maxCallers: raw.callers.maxCallers,
      maxEntries: raw.callers.maxEntries,
      persistEveryMs: ageMs(raw.callers.persistEvery)!,
      reportEveryMs: ageMs(raw.callers.reportEvery)!,
    },
  };
}

/** The `secondary` section, or undefined when it names no primary (a primary). @throws ConfigError */
function secondaryOf(raw: RawConfig['secondary']): Config['secondary'] {
  if (raw.primary === null) {
    if (raw.key !== null || raw.zones !== 'catalog') {
      throw new ConfigError(
        'secondary.primary',
        'secondary.primary must be set when secondary.key or secondary.zones is',
      );
    }
    return undefined;
  }
  const zones: 'catalog' | string[] =
    raw.zones === 'catalog'
      ? 'catalog'
      : [...new Set((raw.zones as string[]).map((z) => `${z.replace(/\.$/, '')}.`.toLowerCase()))];
  return {
    primary: parseHostPort(raw.primary, 'secondary.primary'),
    ...(raw.key !== null ? { key: raw.key } : {}),
    zones,
  };
}

/** A validated `notify` address: an IP's port 53 when left out (Knot's and BIND's default); a name has its port. */
function parseNotifyAddress(value: string): HostPort {
  if (isIPv4(value) || isIPv6(value)) return { host: value, port: 53 };
  return parseHostPort(value, 'notify');
}

/** Largest secretFile read: a base64 secret is under 100 bytes; a bigger file is the wrong file. */
const MAX_SECRET_FILE = 4096;

/**
 * The key of a validated tsig.keys entry, its secretFile read now (relative to `cwd`). Errors
 * name the key and the file, never the content.
 * @throws ConfigError
 */
function tsigKeyFrom(entry: TsigKeyEntry, key: string, cwd: string): TsigKey {
  const algorithm = entry.algorithm ?? 'hmac-sha256';
  let secret = entry.secret;
  if (entry.secretFile !== undefined) {
    const path = resolve(cwd, entry.secretFile);
    const shown = quote(entry.secretFile, ECHO_LONG);
    let bytes: Buffer;
    try {
      if (statSync(path).size > MAX_SECRET_FILE) {
        throw new ConfigError(
          `${key}.secretFile`,
          `config ${key}.secretFile ${shown} is over ${MAX_SECRET_FILE} bytes; it must hold one base64 secret`,
        );
      }
      bytes = readFileSync(path);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(
        `${key}.secretFile`,
        `config ${key}.secretFile ${shown}: cannot read the file (${reason})`,
        {
          cause: err,
        },
      );
    }
    secret = bytes.toString('utf8').trim();
    const decoded = decodeSecret(secret);
    if (decoded === undefined || decoded.length < 16) {
      throw new ConfigError(
        `${key}.secretFile`,
        `config ${key}.secretFile ${shown} must hold one base64 secret of at least 16 bytes (psarn key generate prints one)`,
      );
    }
  }
  return makeTsigKey(entry.name, algorithm, secret!);
}

/** A key from `[ALG:]NAME:SECRET` (the --key flag, PSARN_KEY), as a ConfigError when it is not one. */
export function tsigKeyFromText(text: string, source: string): TsigKey {
  try {
    return parseTsigKey(text);
  } catch (err) {
    throw new ConfigError('', `${source}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * null or true: the host name (what `hostname` prints, as Knot's and BIND's `nsid` default does),
 * cut to NSID_MAX printable characters; false or '': off; else the text.
 */
function nsidOf(value: string | boolean | null): string | undefined {
  if (value === false || value === '') return undefined;
  if (typeof value === 'string') return value;
  const host = hostname()
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, NSID_MAX);
  return host === '' ? undefined : host;
}

/**
 * "127.0.0.1:8053", "[::1]:53", "localhost:0" (port 0: any free port).
 * @throws ConfigError(key)
 */
export function parseHostPort(value: string, key: string): HostPort {
  const problem = typeof value === 'string' ? hostPortProblem(value) : 'must be a HOST:PORT string';
  if (problem) throw new ConfigError(key, `${key} ${problem} (got ${echoValue(value)})`);
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(colon + 1)) };
}

/** SOA/NS parameters for a zone created under this config (mname = first nameserver, rname = hostmaster.<namespace>, soaTtl and nsTtl 3600). */
export function zoneParams(config: Config): ZoneParams {
  return {
    soaTtl: 3600,
    mname: config.nameservers[0]!,
    rname: `hostmaster.${config.namespace}`,
    refresh: config.soa.refresh,
    retry: config.soa.retry,
    expire: config.soa.expire,
    minimum: config.soa.minimum,
    nsTtl: 3600,
    nameservers: [...config.nameservers],
  };
}
