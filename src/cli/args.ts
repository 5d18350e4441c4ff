/**
 * Command-line parsing, pure: argv -> an Invocation, or a UsageError (exit 2) naming the input.
 * Values that need the config (zone names under the namespace) are checked in the commands,
 * still before any database is opened.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ECHO_LONG, echo, quote } from '../errors.js';
import type { Psarn } from '../psarn/psarn.js';
import { parsePsarn } from '../psarn/psarn.js';
import { parseTargetArg } from '../psarn/target.js';
import type { Policy, TargetSpec } from '../store/types.js';
import { COMMANDS, type FlagSpec, GLOBAL_FLAGS, GROUPS } from './commands.js';
import { type DigArgs, parseDigArgs, parseServerArg } from './dig-args.js';
import { oneLine, usageError } from './errors.js';
import { type RouteWriteCommand, routeWriteCommand } from './route-args.js';

export const MAX_TTL = 172800;

export interface GlobalFlags {
  db?: string;
  config?: string;
}

export type Command =
  | { kind: 'help'; topic?: string }
  | { kind: 'version' }
  | RouteWriteCommand
  | { kind: 'route get'; psarn: Psarn; json: boolean }
  | { kind: 'route list'; scope?: string; json: boolean }
  | { kind: 'flush'; scope: string }
  | { kind: 'dig'; dig: DigArgs; args: string[] }
  | { kind: 'resolve'; psarn: Psarn; server?: ServerArg; json: boolean }
  | { kind: 'invoke'; psarn: Psarn; server?: ServerArg; payload: PayloadArg; event: boolean; json: boolean }
  | { kind: 'zone export'; zone: string; output?: string }
  | { kind: 'zone import'; file: string }
  | { kind: 'db init' };

/** `@HOST[:PORT]` of `resolve` and `invoke`; no port means the config's listen port. */
export interface ServerArg {
  host: string;
  port?: number;
}

/** `--payload`: JSON text already parsed, or a file to read (`@FILE`). */
export type PayloadArg = { json: unknown } | { file: string };

export interface Invocation {
  global: GlobalFlags;
  command: Command;
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function optionsOf(flags: Record<string, FlagSpec>): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, f] of Object.entries(flags)) {
    out[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  }
  return out;
}

/** All flags of all commands: the first, lenient pass only has to find the command words. */
const ALL_FLAGS: Record<string, FlagSpec> = Object.assign(
  { version: { type: 'boolean' } as FlagSpec },
  GLOBAL_FLAGS,
  ...Object.values(COMMANDS).map((c) => c.flags),
);

function strictParse(argv: string[], name: string, flags: Record<string, FlagSpec>) {
  try {
    return parseArgs({
      args: argv,
      options: optionsOf({ ...GLOBAL_FLAGS, ...flags }),
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    const e = err as { code?: string; message: string };
    const help = `run 'psarn help ${name}' for its flags`;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(e.message)?.[1] ?? e.message;
      throw usageError(`unknown flag ${quote(flag)} for 'psarn ${name}'; ${help}`, err);
    }
    throw usageError(`${oneLine(e.message).replace(/\.$/, '')} (psarn ${name}); ${help}`, err);
  }
}

/** Finds the command words: 'route set', 'flush', ... */
function commandName(positionals: string[]): { name: string; words: number } | undefined {
  const [first, second] = positionals;
  if (first === undefined) return undefined;
  if ((GROUPS as readonly string[]).includes(first)) {
    const name = `${first} ${second ?? ''}`.trim();
    if (second === undefined || !(name in COMMANDS)) {
      const subs = Object.keys(COMMANDS)
        .filter((k) => k.startsWith(`${first} `))
        .map((k) => k.slice(first.length + 1));
      const what = second === undefined ? `missing command after ${quote(first)}` : `unknown command ${quote(name)}`;
      throw usageError(`${what}; use one of: ${subs.map((s) => `${first} ${s}`).join(', ')}`);
    }
    return { name, words: 2 };
  }
  if (first in COMMANDS) return { name: first, words: 1 };
  throw usageError(`unknown command ${quote(first)}; run 'psarn help' for the commands`);
}

/**
 * Parses argv (without node and the script). Global flags may appear anywhere.
 * @throws CliError ERR_USAGE
 */
export function parseArgv(argv: readonly string[]): Invocation {
  const args = [...argv];
  const loose = parseArgs({ args, options: optionsOf(ALL_FLAGS), strict: false, allowPositionals: true });
  const cmd = commandName(loose.positionals);
  if (cmd === undefined) {
    if (loose.values.version === true) return { global: {}, command: { kind: 'version' } };
    if (loose.values.help === true) return { global: {}, command: { kind: 'help' } };
    throw usageError("missing command; run 'psarn help' for the commands");
  }
  const dashdash = args.indexOf('--');
  const before = dashdash < 0 ? args : args.slice(0, dashdash);
  if (before.includes('--help') || before.includes('-h')) {
    return { global: {}, command: cmd.name === 'help' ? { kind: 'help' } : { kind: 'help', topic: cmd.name } };
  }
  const spec = COMMANDS[cmd.name]!;
  const { values, positionals } = strictParse(args, cmd.name, spec.flags);
  const v = values as Values;
  const global: GlobalFlags = {};
  if (typeof v.db === 'string') global.db = v.db;
  if (typeof v.config === 'string') global.config = v.config;
  const rest = positionals.slice(cmd.words);
  return { global, command: buildCommand(cmd.name, rest, v) };
}

function expectArgs(name: string, rest: string[], min: number, max: number, what: string): void {
  const usage = `usage: ${COMMANDS[name]!.usage}`;
  if (rest.length < min) throw usageError(`missing ${what} for 'psarn ${name}'; ${usage}`);
  if (rest.length > max) throw usageError(`unexpected argument ${quote(rest[max])} for 'psarn ${name}'; ${usage}`);
}

function psarnArg(input: string): Psarn {
  try {
    return parsePsarn(input);
  } catch (err) {
    throw usageError(oneLine((err as Error).message), err);
  }
}

/** Whole seconds 0..172800. */
export function parseTtl(input: string): number {
  if (!/^\d{1,7}$/.test(input) || Number(input) > MAX_TTL) {
    throw usageError(`invalid --ttl ${quote(input)}: use whole seconds from 0 to ${MAX_TTL}`);
  }
  return Number(input);
}

export function parsePolicy(input: string): Policy {
  if (input !== 'weighted' && input !== 'fanout') {
    throw usageError(`invalid --policy ${quote(input)}: use weighted or fanout`);
  }
  return input;
}

/** `--meta KEY=VALUE`, repeatable; a key given twice is an error. */
export function parseMeta(inputs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const input of inputs) {
    const eq = input.indexOf('=');
    const key = eq < 0 ? input : input.slice(0, eq);
    if (eq < 0 || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(key)) {
      throw usageError(
        `invalid --meta ${quote(input)}: write KEY=VALUE, KEY of letters, digits, '.', '-' or '_' (at most 63)`,
      );
    }
    if (Object.hasOwn(out, key)) throw usageError(`invalid --meta ${quote(input)}: key ${quote(key)} is given twice`);
    out[key] = input.slice(eq + 1);
  }
  return out;
}

export function parseTarget(input: string): TargetSpec {
  try {
    return parseTargetArg(input);
  } catch (err) {
    throw usageError(`--target: ${oneLine((err as Error).message)}`, err);
  }
}

/**
 * `--payload` of `psarn invoke`: `@FILE` names a file (read by the command), anything else must
 * be JSON text. The default, when the flag is absent, is `{}`.
 */
export function parsePayloadArg(input: string): PayloadArg {
  if (input.startsWith('@')) {
    if (input.length === 1) throw usageError("invalid --payload '@': give a file after @, e.g. --payload @event.json");
    return { file: input.slice(1) };
  }
  try {
    return { json: JSON.parse(input) as unknown };
  } catch (err) {
    throw usageError(
      `invalid --payload ${quote(input, 40)}: not JSON (${echo(oneLine((err as Error).message), ECHO_LONG)}); give JSON text such as '{"id":42}' or @FILE`,
      err,
    );
  }
}

/** `<psARN> [@HOST[:PORT]]` in any order, for `resolve` and `invoke`. */
function psarnAndServer(name: string, rest: string[]): { psarn: Psarn; server?: ServerArg } {
  const servers = rest.filter((a) => a.startsWith('@'));
  const others = rest.filter((a) => !a.startsWith('@'));
  if (servers.length > 1) throw usageError(`unexpected second server ${quote(servers[1])}; give one @HOST[:PORT]`);
  expectArgs(name, others, 1, 1, '<psARN>');
  const psarn = psarnArg(others[0]!);
  return servers[0] === undefined ? { psarn } : { psarn, server: parseServerArg(servers[0]) };
}

function buildCommand(name: string, rest: string[], v: Values): Command {
  switch (name) {
    case 'help':
      expectArgs(name, rest, 0, 2, 'command');
      return rest.length > 0 ? { kind: 'help', topic: helpTopic(rest.join(' ')) } : { kind: 'help' };
    case 'route set':
    case 'route weight':
    case 'route alias':
    case 'route delete':
      return routeWriteCommand(name, rest, v, {
        psarn: psarnArg,
        expect: (min, max, what) => expectArgs(name, rest, min, max, what),
      });
    case 'route get': {
      expectArgs(name, rest, 1, 1, '<psARN>');
      return { kind: name, psarn: psarnArg(rest[0]!), json: v.json === true };
    }
    case 'route list':
      expectArgs(name, rest, 0, 1, '<prefix psARN or zone>');
      return { kind: name, ...(rest[0] === undefined ? {} : { scope: rest[0] }), json: v.json === true };
    case 'flush':
      expectArgs(name, rest, 1, 1, '<psARN|zone>');
      return { kind: name, scope: rest[0]! };
    case 'dig':
      return { kind: name, dig: parseDigArgs(rest), args: rest };
    case 'resolve':
      return { kind: name, ...psarnAndServer(name, rest), json: v.json === true };
    case 'invoke':
      return {
        kind: name,
        ...psarnAndServer(name, rest),
        payload: typeof v.payload === 'string' ? parsePayloadArg(v.payload) : { json: {} },
        event: v.event === true,
        json: v.json === true,
      };
    case 'zone export':
      expectArgs(name, rest, 1, 1, '<zone>');
      return { kind: name, zone: rest[0]!, ...(typeof v.output === 'string' ? { output: v.output } : {}) };
    case 'zone import':
      expectArgs(name, rest, 1, 1, '<file>');
      return { kind: name, file: rest[0]! };
    case 'db init':
      expectArgs(name, rest, 0, 0, '');
      return { kind: name };
    default:
      throw usageError(`unknown command ${quote(name)}; run 'psarn help' for the commands`);
  }
}

function helpTopic(topic: string): string {
  if (!(topic in COMMANDS)) throw usageError(`unknown command ${quote(topic)}; run 'psarn help' for the commands`);
  return topic;
}
