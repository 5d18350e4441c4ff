/**
 * The config keys (docs/design.md#configuration): their defaults, ranges and env names, as one zod schema for
 * one "layer" (the file, the env, or the flags), where every key is optional.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { namespaceProblem } from '../psarn/name.js';
import { arnEntryProblem, httpsHostEntryProblem } from '../psarn/target-policy.js';
import { decodeSecret, TSIG_ALGORITHMS, type TsigAlgorithm } from '../wire/tsig.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How psarnd carries UDP: the native recvmmsg/sendmmsg batcher, node:dgram, or the first that works. */
export const UDP_IO = ['auto', 'recvmmsg', 'dgram'] as const;
export type UdpIo = (typeof UDP_IO)[number];

/** RFC 1982 serial-style 32-bit signed maximum: SOA timers are 32-bit and BIND treats them as signed. */
export const MAX_SOA_VALUE = 2 ** 31 - 1;

/** Defaults as they are written in YAML (paths relative to the working directory). */
export const DEFAULTS = {
  listen: '127.0.0.1:8053',
  http: '127.0.0.1:9153',
  db: './data/psarn.db',
  dbMode: '0600' as string | number,
  namespace: 'psarn.internal.',
  nameservers: ['ns.psarn.internal.'],
  defaultTtl: 300,
  epochTtl: 5,
  soa: { refresh: 3600, retry: 600, expire: 86400, minimum: 30 },
  tcp: { idleTimeoutMs: 10000, maxConnections: 1000 },
  udpPayloadSize: 1232,
  udpIo: 'auto' as UdpIo,
  workers: 1,
  routeIndex: true,
  log: { level: 'info' as LogLevel },
  // None: only a config that names them loads the demo (docs/design.md#demo-routes-only-into-a-new-database).
  demoRoutes: null as string | null,
  /** NSID (RFC 5001): null is the host name; false or '' turns it off. */
  nsid: null as string | boolean | null,
  /** DNS Cookies' server secret, 32 hex digits; null: random at each start. */
  cookieSecret: null as string | null,
  targets: {
    partitions: ['*'] as string[],
    accounts: ['*'] as string[],
    services: ['*'] as string[],
    httpsHosts: ['*'] as string[],
  },
  tsig: { keys: [] as TsigKeyEntry[] },
  /** Secondaries sent a NOTIFY after each change (docs/design.md#notify). */
  notify: [] as NotifyEntry[],
  // docs/design.md#transfers: changes kept per zone for IXFR; older ones are pruned.
  // maxAge (docs/design.md#history-and-revert): rows older than it are pruned too; null: no age limit.
  journal: { keep: 10000, maxAge: null as string | null },
  // TSIG key names allowed to transfer (AXFR/IXFR); none by default, so nothing is offered.
  transfer: { allow: [] as string[] },
  // TSIG key names allowed to change routes by DNS UPDATE (RFC 2136); none by default.
  update: { allow: [] as string[] },
  // docs/design.md#secondary-mode: a primary makes this psarnd a secondary (null: a primary).
  secondary: { primary: null as string | null, key: null as string | null, zones: 'catalog' as string | string[] },
  // docs/design.md#web-console: the bearer token of the web console and its JSON API; required
  // by psarnd whenever `http` is not a loopback address (null: none, loopback only).
  httpToken: null as string | null,
  // docs/design.md#the-caller-map: the bounded map of (caller, name, serial, last seen). maxEntries 0 turns it off.
  callers: { maxCallers: 10000, maxEntries: 100000, persistEvery: '5s', reportEvery: '30s' },
};

/** A TSIG key as written in the config: the secret inline (base64) or in a file read at load. */
export interface TsigKeyEntry {
  name: string;
  algorithm?: TsigAlgorithm;
  secret?: string;
  secretFile?: string;
}

/** A `notify` entry as written: `{ address: 10.0.0.6:53, key: transfer-key }` (or a host name with a port). */
export interface NotifyEntry {
  address: string;
  key?: string | undefined;
}

/** Most `notify` entries: each change sends one message per entry. */
export const MAX_NOTIFY_PEERS = 64;

export type RawConfig = typeof DEFAULTS;

/** Every leaf key, dotted, in file order. */
export const CONFIG_KEYS = [
  'listen',
  'http',
  'db',
  'dbMode',
  'namespace',
  'nameservers',
  'defaultTtl',
  'epochTtl',
  'soa.refresh',
  'soa.retry',
  'soa.expire',
  'soa.minimum',
  'tcp.idleTimeoutMs',
  'tcp.maxConnections',
  'udpPayloadSize',
  'udpIo',
  'workers',
  'routeIndex',
  'log.level',
  'demoRoutes',
  'nsid',
  'cookieSecret',
  'targets.partitions',
  'targets.accounts',
  'targets.services',
  'targets.httpsHosts',
  'tsig.keys',
  'notify',
  'journal.keep',
  'journal.maxAge',
  'transfer.allow',
  'update.allow',
  'secondary.primary',
  'secondary.key',
  'secondary.zones',
  'httpToken',
  'callers.maxCallers',
  'callers.maxEntries',
  'callers.persistEvery',
  'callers.reportEvery',
] as const;

/** Keys whose env/flag text is a comma-separated list. */
export const LIST_KEYS: ReadonlySet<string> = new Set([
  'nameservers',
  'targets.partitions',
  'targets.accounts',
  'targets.services',
  'targets.httpsHosts',
  'transfer.allow',
  'update.allow',
]);

/** The keys of each entry of a key that is a list of mappings. */
export const LIST_ENTRY_KEYS: Readonly<Record<string, readonly string[]>> = { notify: ['address', 'key'] };

/** Keys whose env/flag text is converted to a number before validation: those with a numeric default. */
export const NUMERIC_KEYS: ReadonlySet<string> = new Set(
  CONFIG_KEYS.filter(
    (key) =>
      typeof key.split('.').reduce<unknown>((o, part) => (o as Record<string, unknown>)[part], DEFAULTS) === 'number',
  ),
);

/** 'tcp.idleTimeoutMs' -> 'PSARN_TCP_IDLE_TIMEOUT_MS'. */
export function envKeyFor(key: string): string {
  return `PSARN_${key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`;
}

/** Why `value` is not HOST:PORT, or undefined. The host is an IPv4 address, a [bracketed] IPv6 address or a host name. */
export function hostPortProblem(value: string): string | undefined {
  const usage = 'must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8053 or [::1]:8053';
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (!m) {
    if (!value.startsWith('[') && (value.match(/:/g)?.length ?? 0) > 1) {
      return 'must put an IPv6 address in brackets, e.g. [::1]:8053';
    }
    return usage;
  }
  if (Number(m[3]) > 65535) return usage;
  if (m[1] !== undefined)
    return isIPv6(m[1]) ? undefined : 'must have an IPv6 address inside the brackets, e.g. [::1]:8053';
  return isIPv4(m[2]!) || hostnameProblem(m[2]!) === undefined ? undefined : usage;
}

/**
 * Why `value` is not a `notify` address, or undefined: an IP address with an optional port (53
 * when left out, Knot's and BIND's default), or a host name with a port. A name is resolved at
 * each change and every address it yields is a peer of its own, whose answer must come from
 * that address (Knot's `remote.address` and BIND's `also-notify` take addresses for the same
 * reason; docs/design.md#notify). A name's port is required: a bare name is more likely a
 * mistyped address than a secondary on port 53.
 */
export function notifyAddressProblem(value: string): string | undefined {
  const usage =
    'must be an IP address with an optional port, or a host name with a port, e.g. 10.0.0.6:53, 10.0.0.6, [2001:db8::6]:53 or secondaries.example.com:8053';
  if (isIPv4(value) || isIPv6(value)) return undefined;
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (!m)
    return hostnameProblem(value) === undefined && !numericTld(value)
      ? "must give a host name's port, e.g. secondaries.example.com:53"
      : usage;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return 'must have a port from 1 to 65535';
  if (m[1] !== undefined) return isIPv6(m[1]) ? undefined : usage;
  const host = m[2]!;
  if (isIPv4(host)) return undefined;
  // 10.0.0.300 is LDH but no host name (RFC 3696 §2: a top-level label is not all digits).
  return hostnameProblem(host) === undefined && !numericTld(host) ? undefined : usage;
}

/** The last label is all digits: a mistyped IPv4 address, not a host name (RFC 3696 §2). */
function numericTld(name: string): boolean {
  return /(^|\.)\d+\.?$/.test(name);
}

/** Why `name` is not a TSIG key name (a domain name, RFC 8945 §4.2), or undefined. */
export function keyNameProblem(name: string): string | undefined {
  const body = name.endsWith('.') ? name.slice(0, -1) : name;
  if (body.length === 0 || body.length > 253) return 'must be a key name of 1 to 253 characters';
  const ok = body.split('.').every((l) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l));
  return ok ? undefined : 'must be a key name: dot-separated labels of letters, digits, - and _';
}

/** Why `name` is not a DNS zone name (labels of 1 to 63 printable characters, 253 in all), or undefined. */
export function zoneNameProblem(name: string): string | undefined {
  const body = name.endsWith('.') ? name.slice(0, -1) : name;
  if (body.length === 0 || body.length > 253) return 'must be a zone name of 1 to 253 characters';
  const ok = body.split('.').every((l) => /^[A-Za-z0-9_-]{1,63}$/.test(l));
  return ok ? undefined : 'must be a zone name: dot-separated labels of letters, digits, - and _';
}

/** Why `name` is not a host name (LDH labels, RFC 1123 §2.1), or undefined. Trailing dot optional. */
export function hostnameProblem(name: string): string | undefined {
  const body = name.endsWith('.') ? name.slice(0, -1) : name;
  if (body.length === 0 || body.length > 253) return 'must be a host name of 1 to 253 characters';
  const ok = body.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
  return ok ? undefined : 'must be a host name: labels of letters, digits and inner hyphens';
}

/**
 * Why `value` is not a file mode, or undefined. Octal digits as chmod takes them: '0600', '640';
 * a YAML number such as 600 (unquoted 0600 reads as the decimal 600) is read the same way.
 */
export function fileModeProblem(value: string | number): string | undefined {
  const text = typeof value === 'number' ? String(value) : value.replace(/^0o/i, '');
  if (!/^[0-7]{3,4}$/.test(text)) return "must be an octal mode such as '0600' (quote it in YAML)";
  const mode = Number.parseInt(text, 8);
  if (mode > 0o777) return 'must be a permission mode from 0600 to 0777 (no setuid, setgid or sticky bit)';
  if ((mode & 0o600) !== 0o600) return 'must let the owner read and write (0600 at least)';
  return undefined;
}

/** The mode of a valid `dbMode` value. */
export function parseFileMode(value: string | number): number {
  return Number.parseInt(typeof value === 'number' ? String(value) : value.replace(/^0o/i, ''), 8);
}

const AGE_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const AGE_MIN_MS = AGE_UNITS.h!;
const AGE_MAX_MS = 36_500 * AGE_UNITS.d!;
const AGE_USAGE = 'must be a duration such as 90d, 720h or 30m (s, m, h, d), from 1h to 36500d, or null for none';

/** Why `value` is not a journal.maxAge duration, or undefined. */
export function ageProblem(value: string): string | undefined {
  const ms = ageMs(value);
  return ms === undefined || ms < AGE_MIN_MS || ms > AGE_MAX_MS ? AGE_USAGE : undefined;
}

const INTERVAL_USAGE = 'must be a duration such as 5s, 30s or 2m (s, m, h), from 1s to 1h';

/** Why `value` is not a callers.persistEvery / reportEvery interval (1s..1h), or undefined. */
export function intervalProblem(value: string): string | undefined {
  const ms = /d$/.test(value.trim()) ? undefined : ageMs(value);
  return ms === undefined || ms < AGE_UNITS.s! || ms > AGE_UNITS.h! ? INTERVAL_USAGE : undefined;
}

/** Why `value` is not an httpToken (16 to 256 visible ASCII characters), or undefined. */
export function httpTokenProblem(value: string): string | undefined {
  return /^[\x21-\x7e]{16,256}$/.test(value)
    ? undefined
    : 'must be 16 to 256 visible ASCII characters (no spaces), e.g. from `openssl rand -hex 32`';
}

/** A duration `<digits><s|m|h|d>` in ms, or undefined when it is not one. */
export function ageMs(value: string): number | undefined {
  const m = /^(\d{1,9})([smhd])$/.exec(value.trim());
  return m ? Number(m[1]) * AGE_UNITS[m[2]!]! : undefined;
}

function int(min: number, max: number) {
  const error = `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function refined(problem: (v: string) => string | undefined, error: string) {
  return z.string({ error }).superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });
}

const mapping = 'must be a mapping of keys';

function entries(problem: (v: string) => string | undefined, what: string) {
  return z.array(refined(problem, `must be ${what}`), { error: `must be a list, each entry ${what}` });
}
/** RFC 5001 sets no limit; a name for dig to show fits in 128 bytes, and keeps replies small. */
export const NSID_MAX = 128;

/** Why `value` is not an NSID: printable ASCII, at most NSID_MAX characters. */
export function nsidProblem(value: string): string | undefined {
  if (value.length > NSID_MAX) return `must be at most ${NSID_MAX} characters`;
  if (!/^[\x20-\x7e]*$/.test(value)) return 'must be printable ASCII (letters, digits, punctuation, spaces)';
  return undefined;
}

/** Keys whose value is a secret: an error about one never shows it (docs/design.md#messages-are-bounded-and-never-echo-a-secret). */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['cookieSecret']);

/**
 * One tsig.keys entry. A secret's problems are stated without the secret: the loader never
 * echoes a value under `tsig` (docs/design.md#tsig).
 */
const tsigKey = z
  .strictObject(
    {
      name: refined(keyNameProblem, 'must be a key name such as transfer-key'),
      algorithm: z.enum(TSIG_ALGORITHMS, { error: `must be one of ${TSIG_ALGORITHMS.join(', ')}` }),
      secret: z.string({ error: 'must be a base64 string' }).superRefine((v, ctx) => {
        const bytes = decodeSecret(v);
        if (bytes === undefined)
          ctx.addIssue({ code: 'custom', message: 'must be base64 (psarn key generate prints one)' });
        else if (bytes.length < 16)
          ctx.addIssue({
            code: 'custom',
            message: 'must be at least 16 bytes once decoded (psarn key generate makes 32 or 64)',
          });
      }),
      secretFile: z
        .string({ error: 'must be a file path' })
        .min(1, { error: 'must be a file path, not empty' })
        .max(4096, { error: 'must be a file path of at most 4096 characters' }),
    },
    { error: 'must be a mapping with name, algorithm and secret or secretFile' },
  )
  .partial({ algorithm: true, secret: true, secretFile: true })
  .superRefine((v, ctx) => {
    if ((v.secret === undefined) === (v.secretFile === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must have exactly one of secret and secretFile' });
    }
  });

/** Linux's PATH_MAX: a longer path cannot be opened anyway, and would only fill error messages. */
const MAX_PATH = 4096;
const hostPort = refined(hostPortProblem, 'must be a HOST:PORT string, e.g. 127.0.0.1:8053');

/** One layer of configuration: every key optional, unknown keys refused (they are typos). */
export const layerSchema = z
  .strictObject({
    listen: hostPort,
    http: hostPort,
    db: z
      .string({ error: 'must be a file path' })
      .min(1, { error: 'must be a file path, not empty' })
      .max(MAX_PATH, { error: `must be a file path of at most ${MAX_PATH} characters` }),
    dbMode: z
      .union([z.string(), z.number()], { error: "must be an octal mode such as '0600'" })
      .superRefine((v, ctx) => {
        const p = fileModeProblem(v);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
    namespace: refined(namespaceProblem, 'must be a domain name such as psarn.internal.'),
    nameservers: z
      .array(refined(hostnameProblem, 'must be a host name'), { error: 'must be a list of host names' })
      .min(1, { error: 'must list at least one name server' }),
    defaultTtl: int(0, 172800),
    epochTtl: int(1, 3600),
    soa: z
      .strictObject(
        {
          refresh: int(1, MAX_SOA_VALUE),
          retry: int(1, MAX_SOA_VALUE),
          expire: int(1, MAX_SOA_VALUE),
          minimum: int(0, 86400),
        },
        { error: mapping },
      )
      .partial(),
    tcp: z
      .strictObject({ idleTimeoutMs: int(100, 600000), maxConnections: int(1, 100000) }, { error: mapping })
      .partial(),
    udpPayloadSize: int(512, 4096),
    udpIo: z.enum(UDP_IO, { error: `must be one of ${UDP_IO.join(', ')}` }),
    workers: int(1, 64),
    routeIndex: z.boolean({ error: 'must be true or false' }),
    log: z
      .strictObject(
        { level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }) },
        { error: mapping },
      )
      .partial(),
    demoRoutes: z
      .string({ error: 'must be a file path, or null for none' })
      .max(MAX_PATH, { error: `must be a file path of at most ${MAX_PATH} characters, or null for none` })
      .nullable(),
    nsid: z.union([z.boolean(), refined(nsidProblem, 'must be text, true (the host name) or false (off)')], {
      error: 'must be text, true (the host name) or false (off)',
    }),
    cookieSecret: z
      .string({ error: 'must be 32 hex digits (16 bytes), e.g. from: openssl rand -hex 16' })
      .regex(/^[0-9a-fA-F]{32}$/, { error: 'must be 32 hex digits (16 bytes), e.g. from: openssl rand -hex 16' })
      .nullable(),
    targets: z
      .strictObject(
        {
          partitions: entries((v) => arnEntryProblem('partitions', v), "an ARN partition or '*'"),
          accounts: entries((v) => arnEntryProblem('accounts', v), "a 12-digit account id or '*'"),
          services: entries((v) => arnEntryProblem('services', v), "an ARN service or '*'"),
          httpsHosts: entries(httpsHostEntryProblem, "a host name, '*.domain', an address, a CIDR range or '*'"),
        },
        { error: mapping },
      )
      .partial(),
    tsig: z
      .strictObject(
        {
          keys: z
            .array(tsigKey, { error: 'must be a list of { name, algorithm, secret | secretFile }' })
            .superRefine((keys, ctx) => {
              const seen = new Set<string>();
              for (const [i, k] of keys.entries()) {
                const name = k.name.toLowerCase().replace(/\.$/, '');
                if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'names a key twice' });
                seen.add(name);
              }
            }),
        },
        { error: mapping },
      )
      .partial(),
    journal: z
      .strictObject(
        {
          keep: int(1, 100_000_000),
          maxAge: z
            .string({ error: AGE_USAGE })
            .superRefine((v, ctx) => {
              const p = ageProblem(v);
              if (p) ctx.addIssue({ code: 'custom', message: p });
            })
            .nullable(),
        },
        { error: mapping },
      )
      .partial(),
    transfer: z
      .strictObject(
        {
          allow: z.array(refined(keyNameProblem, 'must be a TSIG key name'), {
            error: 'must be a list of TSIG key names',
          }),
        },
        { error: mapping },
      )
      .partial(),
    update: z
      .strictObject(
        {
          allow: z.array(refined(keyNameProblem, 'must be a TSIG key name'), {
            error: 'must be a list of TSIG key names',
          }),
        },
        { error: mapping },
      )
      .partial(),
    secondary: z
      .strictObject(
        {
          primary: hostPort.nullable(),
          key: refined(keyNameProblem, 'must be the name of a key of tsig.keys').nullable(),
          zones: z.union(
            [
              z.literal('catalog'),
              z
                .array(refined(zoneNameProblem, 'must be a zone name'), {
                  error: "must be 'catalog' or a list of zone names",
                })
                .min(1, { error: "must list at least one zone, or be 'catalog'" }),
            ],
            { error: "must be 'catalog' or a list of zone names" },
          ),
        },
        { error: mapping },
      )
      .partial(),
    httpToken: refined(httpTokenProblem, 'must be a token of 16 to 256 visible ASCII characters').nullable(),
    callers: z
      .strictObject(
        {
          maxCallers: int(1, 10_000_000),
          maxEntries: int(0, 100_000_000),
          persistEvery: refined(intervalProblem, INTERVAL_USAGE),
          reportEvery: refined(intervalProblem, INTERVAL_USAGE),
        },
        { error: mapping },
      )
      .partial(),
    notify: z
      .array(
        z.strictObject(
          {
            address: refined(
              notifyAddressProblem,
              'must be an IP address with an optional port, or a host name with a port',
            ),
            key: refined(keyNameProblem, 'must be the name of a key of tsig.keys').optional(),
          },
          { error: 'must be a mapping such as { address: 10.0.0.6:53, key: transfer-key }' },
        ),
        { error: 'must be a list of { address: HOST:PORT, key: NAME }' },
      )
      .max(MAX_NOTIFY_PEERS, { error: `must list at most ${MAX_NOTIFY_PEERS} secondaries` }),
  })
  .partial();

export type ConfigLayer = z.infer<typeof layerSchema>;
