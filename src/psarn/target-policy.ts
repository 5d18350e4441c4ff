/**
 * Which route targets an operator allows (config `targets`), checked when a route is written:
 * `psarn route set`, `psarn zone import`, the demo routes. Targets are published in DNS, so
 * anyone who can query psarnd reads them, and every client that resolves a route calls them.
 *
 * - ARN targets: the partition, account and service must each be in their list ('*': any).
 *   An ARN without an account (arn:aws:s3:::bucket) matches only '*'.
 * - https:// targets: the host must be in `httpsHosts`: '*' (any public host), a name, a
 *   '*.example.com' wildcard (names under it), an IP address or a CIDR range. A loopback,
 *   link-local or private address (RFC 1918, RFC 6598, fc00::/7, fe80::/10, ::1, 0.0.0.0/8;
 *   169.254.169.254 is the cloud instance metadata service) or `localhost` is refused unless an
 *   entry names it explicitly (its address, a CIDR range holding it, or the name `localhost`):
 *   '*' never covers them. A name that merely resolves to such an address is not detected here
 *   (resolving at write time says nothing about what a client resolves later): list the allowed
 *   names instead of '*' to close that.
 * - Warnings, not errors: a query parameter that looks like a credential (token=, api_key=,
 *   X-Amz-Signature=, a JWT, an AWS access key id) would be served to anyone who asks.
 *
 * Messages never echo a query string's values: they are the secrets being warned about.
 */

import { BlockList, isIP } from 'node:net';
import { PsarnBaseError } from '../errors.js';
import { quoteInput } from './psarn.js';

export interface TargetPolicy {
  /** ARN partitions allowed (aws, aws-cn, aws-us-gov, ...); '*' = any. */
  partitions: readonly string[];
  /** 12-digit account ids allowed in ARNs; '*' = any. */
  accounts: readonly string[];
  /** ARN services allowed (lambda, sqs, sns, events, states, ...); '*' = any. */
  services: readonly string[];
  /** Hosts allowed in https:// targets; '*' = any public host. */
  httpsHosts: readonly string[];
}

/** The default: any ARN, any public https host; loopback, link-local and private hosts refused. */
export const DEFAULT_TARGET_POLICY: TargetPolicy = Object.freeze({
  partitions: Object.freeze(['*']),
  accounts: Object.freeze(['*']),
  services: Object.freeze(['*']),
  httpsHosts: Object.freeze(['*']),
});

export class TargetPolicyError extends PsarnBaseError {
  readonly code = 'ERR_TARGET_NOT_ALLOWED';
  /** The target, with query values hidden. */
  readonly input: string;
  constructor(input: string, message: string) {
    super(message);
    this.name = 'TargetPolicyError';
    this.input = input;
  }
}

type Special = { kind: string; why: string };

/** Address ranges an https target may not point at unless listed: [first address, prefix, kind]. */
const SPECIAL_RANGES: [string, number, 'ipv4' | 'ipv6', Special][] = [
  [
    '0.0.0.0',
    8,
    'ipv4',
    { kind: 'this-network', why: '"this network" (RFC 1122 §3.2.1.3), 0.0.0.0 reaches the local host' },
  ],
  ['10.0.0.0', 8, 'ipv4', { kind: 'private', why: 'a private address (RFC 1918)' }],
  ['100.64.0.0', 10, 'ipv4', { kind: 'private', why: 'a shared (carrier-grade NAT) address (RFC 6598)' }],
  ['127.0.0.0', 8, 'ipv4', { kind: 'loopback', why: 'a loopback address (RFC 1122 §3.2.1.3)' }],
  [
    '169.254.0.0',
    16,
    'ipv4',
    {
      kind: 'link-local',
      why: 'a link-local address (RFC 3927), where cloud instance metadata (169.254.169.254) lives',
    },
  ],
  ['172.16.0.0', 12, 'ipv4', { kind: 'private', why: 'a private address (RFC 1918)' }],
  ['192.168.0.0', 16, 'ipv4', { kind: 'private', why: 'a private address (RFC 1918)' }],
  ['::', 128, 'ipv6', { kind: 'unspecified', why: 'the unspecified address (RFC 4291 §2.5.2)' }],
  ['::1', 128, 'ipv6', { kind: 'loopback', why: 'the loopback address (RFC 4291 §2.5.3)' }],
  ['fc00::', 7, 'ipv6', { kind: 'private', why: 'a unique local address (RFC 4193)' }],
  ['fe80::', 10, 'ipv6', { kind: 'link-local', why: 'a link-local address (RFC 4291 §2.5.6)' }],
  ['fec0::', 10, 'ipv6', { kind: 'private', why: 'a site-local address (RFC 3879)' }],
];

const SPECIAL = SPECIAL_RANGES.map(([address, prefix, family, special]) => {
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return { list, special };
});

/** Why an address is special (loopback, private, ...), or undefined for a public one. IPv4-mapped IPv6 counts as IPv4. */
export function specialAddress(address: string): Special | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, special } of SPECIAL) if (list.check(address, type)) return special;
  return undefined;
}

const LOCALHOST: Special = { kind: 'loopback', why: 'a loopback name (RFC 6761 §6.3)' };

/** `localhost` and names under it are loopback by definition (RFC 6761 §6.3). */
function specialName(name: string): Special | undefined {
  return name === 'localhost' || name.endsWith('.localhost') ? LOCALHOST : undefined;
}

const HOST_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const PARTITION = /^[a-z][a-z0-9-]{0,62}$/;
const SERVICE = /^[a-z0-9-]{1,63}$/;
const ACCOUNT = /^[0-9]{12}$/;

/** Why `entry` is not a valid `targets.httpsHosts` entry, or undefined. */
export function httpsHostEntryProblem(entry: string): string | undefined {
  if (entry === '*') return undefined;
  if (entry.includes('://')) return 'must be a host, not a URL: write the host alone, e.g. hooks.example.com';
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const address = entry.slice(0, slash);
    const prefix = entry.slice(slash + 1);
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
      return 'must be a CIDR range such as 10.0.0.0/8 or fd00::/8';
    }
    return undefined;
  }
  if (isIP(entry.replace(/^\[(.*)\]$/, '$1'))) return undefined;
  const name = entry.toLowerCase().replace(/\.$/, '');
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  return HOST_NAME.test(bare)
    ? undefined
    : "must be '*', a host name, '*.domain', an IP address or a CIDR range such as 10.0.0.0/8";
}

/** Why `entry` is not valid in the ARN list `list`, or undefined. */
export function arnEntryProblem(list: 'partitions' | 'accounts' | 'services', entry: string): string | undefined {
  if (entry === '*') return undefined;
  if (list === 'accounts') return ACCOUNT.test(entry) ? undefined : "must be a 12-digit account id or '*'";
  const re = list === 'partitions' ? PARTITION : SERVICE;
  return re.test(entry) ? undefined : "must be lowercase letters, digits or - (e.g. aws, lambda), or '*'";
}

/** The host part of an https target as the URL parser normalises it: lowercase, no brackets, no trailing dot. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** `https://host/path?token=…`: the target with every query value hidden, bounded and escaped. */
export function redactTarget(target: string): string {
  return quoteInput(hideQueryValues(target));
}

/**
 * `https://host/path?token=…&x=…`: the target with every query value hidden (the names kept),
 * as it is otherwise; for labels that escape on their own (the graph, history).
 */
export function hideQueryValues(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const hash = target.indexOf('#', q);
  const query = target.slice(q + 1, hash < 0 ? undefined : hash);
  const names = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? pair : `${pair.slice(0, eq)}=…`;
  });
  return `${target.slice(0, q)}?${names.join('&')}`;
}

/** Query parameter names that carry credentials by convention (OAuth, SigV4, SAS, API keys). */
const SECRET_PARAM =
  /token|secret|passw|pwd|api[-_]?key|credential|signature|session[-_]?id|bearer|jwt|^(?:auth|authorization|key|sig|x-amz-[a-z-]+)$/i;
/** Values that are credentials whatever their name: a JWT, an AWS access key id. */
const SECRET_VALUE = /^(?:eyJ[\w-]{8,}\.[\w-]{8,}\.|(?:AKIA|ASIA)[A-Z0-9]{16}$)/;

const NONE: readonly string[] = Object.freeze([]);

/** `https://` then a host of letters, digits, '-' and '.', then a port, a path or the end. */
const FAST_HOST = /^https:\/\/([a-z0-9.-]+)(?::\d{1,5})?(?:[/#]|$)/i;
/**
 * The URL parser reads a host whose last label is a number (decimal, 0x hex, or octal with a
 * leading 0) as an IPv4 address (WHATWG URL "ends in a number"): 2130706433 and 0x7f.1 are
 * 127.0.0.1. Such hosts take the slow path through the parser.
 */
const IPV4_LIKE_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)\.?$/i;

/** A config list for a message: the first five entries. */
function shortList(list: readonly string[]): string {
  if (list.length === 0) return 'empty';
  return list.length > 5 ? `${list.slice(0, 5).join(', ')}, … ${list.length - 5} more` : list.join(', ');
}

/**
 * True when a target's query looks like it carries a credential (the values `redactTarget`
 * hides): what a write prints shows such a target redacted, since output ends up in logs.
 */
export function hasCredentialQuery(target: string): boolean {
  if (!target.includes('?')) return false;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  for (const [name, value] of url.searchParams) if (SECRET_PARAM.test(name) || SECRET_VALUE.test(value)) return true;
  return false;
}

/** The warning for a URL whose query looks like it carries a credential, if it does. */
function secretWarnings(target: string, url: URL): readonly string[] {
  const flagged = new Set<string>();
  for (const [name, value] of url.searchParams) {
    if (SECRET_PARAM.test(name) || SECRET_VALUE.test(value)) flagged.add(name);
  }
  if (flagged.size === 0) return NONE;
  const names = [...flagged].slice(0, 5).map((n) => quoteInput(n.slice(0, 40)));
  return [
    `target ${redactTarget(target)} has what looks like a credential in its query string (${names.join(', ')}); targets are served to anyone who can query psarnd: pass secrets another way`,
  ];
}

/**
 * Compiled once from a policy: checks targets and says which look like they carry secrets.
 * @example
 *   const rules = new TargetRules({ ...DEFAULT_TARGET_POLICY, httpsHosts: ['*', '127.0.0.1'] });
 *   rules.check('https://127.0.0.1:8443/hook'); // [] : allowed, listed explicitly
 *   rules.check('https://hooks.example.com/x?token=abc'); // [one warning line]
 *   rules.check('https://169.254.169.254/latest/meta-data/'); // throws ERR_TARGET_NOT_ALLOWED
 */
export class TargetRules {
  readonly #partitions: ReadonlySet<string> | undefined;
  readonly #accounts: ReadonlySet<string> | undefined;
  readonly #services: ReadonlySet<string> | undefined;
  readonly #anyHost: boolean;
  readonly #names = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #addresses = new BlockList();
  readonly #policy: TargetPolicy;
  readonly #anyArn: boolean;

  constructor(policy: TargetPolicy) {
    this.#policy = policy;
    const set = (list: readonly string[], name: 'partitions' | 'accounts' | 'services') => {
      for (const e of list) {
        const problem = arnEntryProblem(name, e);
        if (problem) throw new RangeError(`targets.${name} entry ${quoteInput(e)} ${problem}`);
      }
      return list.includes('*') ? undefined : new Set(list);
    };
    this.#partitions = set(policy.partitions, 'partitions');
    this.#accounts = set(policy.accounts, 'accounts');
    this.#services = set(policy.services, 'services');
    this.#anyArn = this.#partitions === undefined && this.#accounts === undefined && this.#services === undefined;
    this.#anyHost = policy.httpsHosts.includes('*');
    for (const entry of policy.httpsHosts) {
      const problem = httpsHostEntryProblem(entry);
      if (problem) throw new RangeError(`targets.httpsHosts entry ${quoteInput(entry)} ${problem}`);
      if (entry === '*') continue;
      const slash = entry.indexOf('/');
      if (slash >= 0) {
        const address = entry.slice(0, slash);
        this.#addresses.addSubnet(address, Number(entry.slice(slash + 1)), isIP(address) === 4 ? 'ipv4' : 'ipv6');
        continue;
      }
      const bare = entry.replace(/^\[(.*)\]$/, '$1');
      const family = isIP(bare);
      if (family !== 0) this.#addresses.addAddress(bare, family === 4 ? 'ipv4' : 'ipv6');
      else if (entry.startsWith('*.')) this.#suffixes.push(entry.slice(1).toLowerCase().replace(/\.$/, ''));
      else this.#names.add(entry.toLowerCase().replace(/\.$/, ''));
    }
  }

  /**
   * Checks one target (already syntax-checked by validateTarget) and returns what to warn about
   * (one line each, query values hidden); usually nothing.
   * @throws TargetPolicyError ERR_TARGET_NOT_ALLOWED saying which rule refused it and what to do
   */
  check(target: string): readonly string[] {
    if (target.startsWith('arn:')) {
      if (!this.#anyArn) this.#checkArn(target);
      return NONE;
    }
    if (!/^https:\/\//i.test(target)) return NONE;
    // Fast path (an import may hold a million of them): a plain LDH host name whose last label
    // cannot be read as an IPv4 number, and no query: what the URL parser would give, unparsed.
    const fast = FAST_HOST.exec(target);
    if (fast !== null && !target.includes('?')) {
      const host = fast[1]!.toLowerCase().replace(/\.$/, '');
      if (!IPV4_LIKE_LAST_LABEL.test(host)) {
        this.#checkHost(target, host, 0);
        return NONE;
      }
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return NONE; // validateTarget reports it
    }
    const host = hostOf(url);
    this.#checkHost(target, host, isIP(host));
    return url.search === '' ? NONE : secretWarnings(target, url);
  }

  #checkArn(target: string): void {
    const [, partition = '', service = '', , account = ''] = target.split(':', 5);
    const refuse = (what: string, value: string, list: keyof TargetPolicy): never => {
      throw new TargetPolicyError(
        target,
        `target ${quoteInput(target)} is not allowed: ${what} ${quoteInput(value)} is not in targets.${list} (${shortList(this.#policy[list])}); add it to the config or pick another target`,
      );
    };
    if (this.#partitions && !this.#partitions.has(partition)) refuse('partition', partition, 'partitions');
    if (this.#services && !this.#services.has(service)) refuse('service', service, 'services');
    if (this.#accounts && !this.#accounts.has(account)) refuse('account', account, 'accounts');
  }

  /** `family`: isIP(host), 0 for a name. */
  #checkHost(target: string, host: string, family: number): void {
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const listed = family !== 0 ? this.#addresses.check(host, type) : this.#names.has(host);
    const special = family !== 0 ? specialAddress(host) : specialName(host);
    if (special !== undefined) {
      if (listed) return;
      throw new TargetPolicyError(
        redactTarget(target),
        `target ${redactTarget(target)} is not allowed: ${quoteInput(host)} is ${special.why}, and a target is served to anyone who can query DNS and called by every client; list it in targets.httpsHosts only if clients must call it`,
      );
    }
    if (listed || this.#anyHost || this.#suffixes.some((s) => host.endsWith(s))) return;
    throw new TargetPolicyError(
      redactTarget(target),
      `target ${redactTarget(target)} is not allowed: host ${quoteInput(host)} is not in targets.httpsHosts; add it to the config or pick another target`,
    );
  }
}
