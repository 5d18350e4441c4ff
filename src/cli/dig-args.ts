/**
 * `psarn dig` arguments, in any order like dig: the name (a psARN or a DNS name), an optional
 * TYPE, `@HOST[:PORT]` and `+options`. Pure; errors are UsageError (exit 2).
 */
import { isIPv6 } from 'node:net';
import { quote } from '../errors.js';
import type { Psarn } from '../psarn/psarn.js';
import { parsePsarn } from '../psarn/psarn.js';
import { callerProblem, MAX_CALLER_LENGTH } from '../wire/caller.js';
import { typeCode } from '../wire/mnemonics.js';
import { Type } from '../wire/types.js';
import { oneLine, usageError } from './errors.js';

export interface DigArgs {
  /** The name as typed: a psARN (`psarn` set) or a DNS name. */
  name: string;
  psarn?: Psarn;
  /** Numeric type; Type.URI (256) by default. */
  qtype: number;
  /** The server; port undefined means the config's listen port. */
  server?: { host: string; port?: number };
  short: boolean;
  tcp: boolean;
  json: boolean;
  timeoutMs: number;
  tries: number;
  /** The caller id to send in EDNS option 65001 (docs/design.md#the-caller-map), or none. */
  caller?: string;
}

const USAGE = 'usage: psarn dig <psARN|name> [TYPE] [@HOST[:PORT]] [+short] [+tcp] [+json] [+caller=ID]';

/** `+caller=ID`: the wire rule of the option, checked here so a bad id is exit 2, not a silent ignore. */
function callerArg(arg: string, value: string | undefined): string {
  const rule = `give 1-${MAX_CALLER_LENGTH} characters of visible ASCII, e.g. +caller=orders-handler`;
  if (value === undefined || value === '') throw usageError(`${quote(arg)} needs a caller id; ${rule}`);
  const problem = callerProblem(Buffer.from(value, 'utf8'));
  if (problem === 'too_long')
    throw usageError(`invalid ${quote(arg.slice(0, 60))}: over ${MAX_CALLER_LENGTH} bytes; ${rule}`);
  if (problem !== undefined) throw usageError(`invalid ${quote(arg)}: not visible ASCII; ${rule}`);
  return value;
}

/** `@127.0.0.1`, `@127.0.0.1:8053`, `@localhost:53`, `@::1`, `@[::1]:8053`. */
export function parseServerArg(input: string): { host: string; port?: number } {
  const text = input.slice(1);
  const bad = (why: string) =>
    usageError(`invalid server ${quote(input)}: ${why}; write @HOST[:PORT], IPv6 as @[::1]:8053`);
  let host: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2];
    if (!isIPv6(host)) throw bad(`${quote(host)} is not an IPv6 address`);
  } else if (isIPv6(text)) {
    host = text;
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    port = colon < 0 ? undefined : text.slice(colon + 1);
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) throw bad('the host is missing or invalid');
  }
  if (port === undefined) return { host };
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw bad(`port ${quote(port)} is not 1-65535`);
  }
  return { host, port: Number(port) };
}

/** A word that can only be meant as a TYPE: letters, digits and '-', no dots or colons. */
function isTypeLike(word: string): boolean {
  return /^[A-Za-z][A-Za-z0-9-]*$/.test(word);
}

function unknownType(word: string): Error {
  if (/^TYPE[0-9]+$/i.test(word)) {
    return usageError(`invalid type ${quote(word)}: TYPEnnn takes a number from 0 to 65535 (RFC 3597 §5)`);
  }
  return usageError(
    `unknown type ${quote(word)}; use URI (the default), TXT, CNAME, SOA, NS, ANY, another type name, or TYPEnnn`,
  );
}

function positiveNumber(option: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw usageError(`invalid ${quote(`+${option}=${value}`)}: use a ${integer ? 'whole ' : ''}number greater than 0`);
  }
  return n;
}

/** @throws CliError ERR_USAGE */
export function parseDigArgs(args: readonly string[]): DigArgs {
  let name: string | undefined;
  let qtype: number | undefined;
  const out: Omit<DigArgs, 'name' | 'qtype'> = { short: false, tcp: false, json: false, timeoutMs: 2000, tries: 3 };
  for (const arg of args) {
    if (arg.startsWith('@')) {
      if (out.server) throw usageError(`unexpected second server ${quote(arg)}; give one @HOST[:PORT]`);
      out.server = parseServerArg(arg);
    } else if (arg.startsWith('+')) {
      const m = /^\+(no)?([a-z]+)(?:=(.*))?$/.exec(arg);
      const [, no, option, value] = m ?? [];
      if (m && value === undefined && (option === 'short' || option === 'tcp' || option === 'json')) {
        out[option] = no === undefined;
      } else if (m && no === undefined && value !== undefined && option === 'timeout') {
        out.timeoutMs = Math.round(positiveNumber(option, value, false) * 1000);
      } else if (m && no === undefined && value !== undefined && option === 'tries') {
        out.tries = positiveNumber(option, value, true);
      } else if (arg === '+caller' || arg.startsWith('+caller=')) {
        out.caller = callerArg(arg, arg.startsWith('+caller=') ? arg.slice('+caller='.length) : undefined);
      } else {
        throw usageError(
          `unknown dig option ${quote(arg)}; use +short, +tcp, +json, +timeout=S, +tries=N or +caller=ID`,
        );
      }
    } else if (!arg.includes('.') && !arg.includes(':') && qtype === undefined && typeCode(arg) !== undefined) {
      // A word that is a type mnemonic is the type (dig does the same); names have dots.
      qtype = typeCode(arg);
    } else if (arg.toUpperCase() === 'IN' && name !== undefined) {
      // The class, as dig accepts it; psarn serves class IN only.
    } else if (name === undefined) {
      if (arg === '') throw usageError(`empty name; ${USAGE}`);
      name = arg;
    } else if (isTypeLike(arg) || (isTypeLike(name) && qtype === undefined)) {
      // Two words where one name is expected: the word without dots is a TYPE that does not
      // exist (`dig <psARN> BOGUS`, `dig BOGUS <psARN>`), not a second name.
      throw unknownType(isTypeLike(arg) ? arg : name);
    } else {
      throw usageError(`unexpected argument ${quote(arg)} for 'psarn dig'; ${USAGE}`);
    }
  }
  if (name === undefined) throw usageError(`missing <psARN|name> for 'psarn dig'; ${USAGE}`);
  const result: DigArgs = { name, qtype: qtype ?? Type.URI, ...out };
  if (name.toLowerCase().startsWith('arn:')) {
    try {
      result.psarn = parsePsarn(name);
    } catch (err) {
      throw usageError(oneLine((err as Error).message), err);
    }
  }
  return result;
}
