/**
 * Command-line parsing, pure: argv -> an Invocation, or a UsageError (exit 2) naming the input.
 * Values that need the config (zone names under the namespace) are checked in the commands,
 * still before any database is opened.
 */
import { parseArgs } from 'node:util';
import { keyNameProblem } from '../config/schema.js';
import { ECHO_LONG, echo, quote } from '../errors.js';
import type { Psarn } from '../psarn/psarn.js';
import { parsePsarn } from '../psarn/psarn.js';
import { parseTargetArg } from '../psarn/target.js';
import type { Policy, TargetSpec } from '../store/types.js';
import { isTsigAlgorithm, TSIG_ALGORITHMS, type TsigAlgorithm } from '../wire/tsig.js';
import { findCommand, helpTopic, optionsOf, scanArgv, unknownFlag } from './argv.js';
import { type HoldCommand, holdCommand } from './commands/hold.js';
import { DEFAULT_KEY_NAME } from './commands/key.js';
import { type RolloutCommand, rolloutCommand } from './commands/rollout.js';
import { COMMANDS, type FlagSpec, GLOBAL_FLAGS } from './commands.js';
import { type DigArgs, parseDigArgs, parseServerArg } from './dig-args.js';
import { oneLine, usageError } from './errors.js';
import { parseRemoteServer } from './remote/target.js';
import { type RouteWriteCommand, routeWriteCommand } from './route-args.js';

export const MAX_TTL = 172800;

export interface GlobalFlags {
  db?: string;
  config?: string;
  /** `--server HOST:PORT`, checked here; the key is read with the environment (remote/target.ts). */
  server?: string;
  key?: string;
  keyFile?: string;
}

export type Command =
  | { kind: 'help'; topic?: string }
  | { kind: 'version' }
  | RouteWriteCommand
  | RolloutCommand
  | HoldCommand
  | { kind: 'route get'; psarn: Psarn; json: boolean }
  | { kind: 'route list'; scope?: string; json: boolean }
  | { kind: 'route history'; psarn: Psarn; json: boolean; limit?: number }
  | { kind: 'route revert'; psarn: Psarn; to?: number; force: boolean }
  | { kind: 'route callers'; psarn: Psarn; json: boolean }
  | { kind: 'graph'; scope?: string; format: GraphFormat }
  | { kind: 'flush'; scope: string }
  | { kind: 'dig'; dig: DigArgs; args: string[] }
  | { kind: 'resolve'; psarn: Psarn; server?: ServerArg; json: boolean }
  | {
      kind: 'invoke';
      psarn: Psarn;
      server?: ServerArg;
      payload: PayloadArg;
      event: boolean;
      json: boolean;
      /** --sticky-key: pick by weighted rendezvous hashing of it (docs/client.md#sticky-picks). */
      stickyKey?: string;
    }
  | { kind: 'zone export'; zone: string; output?: string }
  | { kind: 'zone import'; file: string }
  | { kind: 'apply'; file: string; dryRun: boolean; prune: boolean; json: boolean }
  | { kind: 'db init' }
  | { kind: 'key generate'; name: string; algorithm: TsigAlgorithm };

/** `psarn graph --format` (docs/design.md#the-graph). */
export type GraphFormat = 'dot' | 'mermaid' | 'json';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['dot', 'mermaid', 'json'];

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

/** The command's own flags, strictly, over the scanned argv (string flags already `--name=value`). */
function strictParse(args: string[], name: string, flags: Record<string, FlagSpec>) {
  try {
    return parseArgs({ args, options: optionsOf({ ...GLOBAL_FLAGS, ...flags }), strict: true, allowPositionals: true });
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw unknownFlag(/'([^']+)'/.exec(e.message)?.[1] ?? e.message, name);
    }
    throw usageError(
      `${oneLine(e.message).replace(/\.$/, '')} (psarn ${name}); run 'psarn help ${name}' for its flags`,
      err,
    );
  }
}

/** The command of `words`, or undefined when they name none (for the context of a message). */
function quietCommand(words: readonly string[]): string | undefined {
  try {
    return findCommand(words).name;
  } catch {
    return undefined;
  }
}

/**
 * Parses argv (without node and the script). Global flags may appear anywhere. Help wins over
 * everything but an unknown flag: `psarn route --help`, `psarn route set <psARN> -h` and
 * `psarn help route set` print help whatever else is on the line.
 * @throws CliError ERR_USAGE
 */
export function parseArgv(argv: readonly string[]): Invocation {
  const scan = scanArgv(argv);
  const words = scan.positionals;
  if (scan.unknown !== undefined) throw unknownFlag(scan.unknown, quietCommand(words));
  if (scan.help) {
    // `psarn help route --help` is help on route; `psarn help --help` on help itself.
    const topic = helpTopic(words[0] === 'help' && words.length > 1 ? words.slice(1, 3) : words);
    return { global: {}, command: topic === undefined ? { kind: 'help' } : { kind: 'help', topic } };
  }
  if (scan.version && words.length === 0) return { global: {}, command: { kind: 'version' } };
  const cmd = findCommand(words);
  if (scan.badValue !== undefined) {
    const { flag, problem } = scan.badValue;
    const what = problem === 'unwanted' ? `${flag} takes no value` : `${problem} value for ${flag}`;
    throw usageError(`${what} in 'psarn ${cmd.name}'; usage: ${COMMANDS[cmd.name]!.usage}`);
  }
  const spec = COMMANDS[cmd.name]!;
  const { values, positionals } = strictParse(scan.args, cmd.name, spec.flags);
  const v = values as Values;
  const global: GlobalFlags = {};
  if (typeof v.db === 'string') global.db = v.db;
  if (typeof v.config === 'string') global.config = v.config;
  if (typeof v.server === 'string') {
    parseRemoteServer(v.server);
    global.server = v.server;
  }
  if (typeof v.key === 'string') global.key = v.key;
  if (typeof v['key-file'] === 'string') global.keyFile = v['key-file'];
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

/** A whole number from min to max, for `flag`. */
function wholeNumber(flag: string, input: string, min: number, max: number): number {
  if (!/^\d{1,10}$/.test(input) || Number(input) < min || Number(input) > max) {
    throw usageError(`invalid ${flag} ${quote(input)}: use a whole number from ${min} to ${max}`);
  }
  return Number(input);
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
  // No argument of any command may be empty (a file, a psARN, a zone, a name).
  const empty = rest.indexOf('');
  if (empty >= 0) throw usageError(`empty argument ${empty + 1} for 'psarn ${name}'; usage: ${COMMANDS[name]!.usage}`);
  // What the command groups that parse their own arguments (route writes, rollout, hold) are given.
  const helpers = {
    psarn: psarnArg,
    expect: (min: number, max: number, what: string) => expectArgs(name, rest, min, max, what),
  };
  switch (name) {
    case 'help': {
      expectArgs(name, rest, 0, 2, 'command');
      const topic = helpTopic(rest);
      return topic === undefined ? { kind: 'help' } : { kind: 'help', topic };
    }
    case 'route set':
    case 'route weight':
    case 'route alias':
    case 'route delete':
      return routeWriteCommand(name, rest, v, helpers);
    case 'rollout start':
    case 'rollout status':
    case 'rollout pause':
    case 'rollout resume':
    case 'rollout promote':
    case 'rollout abort':
      return rolloutCommand(name, rest, v, helpers);
    case 'route get': {
      expectArgs(name, rest, 1, 1, '<psARN>');
      return { kind: name, psarn: psarnArg(rest[0]!), json: v.json === true };
    }
    case 'route list':
      expectArgs(name, rest, 0, 1, '<prefix psARN or zone>');
      return { kind: name, ...(rest[0] === undefined ? {} : { scope: rest[0] }), json: v.json === true };
    case 'hold':
    case 'release':
      return holdCommand(name, rest, v, helpers);
    case 'route history': {
      expectArgs(name, rest, 1, 1, '<psARN>');
      const limit = typeof v.limit === 'string' ? wholeNumber('--limit', v.limit, 1, 1_000_000_000) : undefined;
      return {
        kind: name,
        psarn: psarnArg(rest[0]!),
        json: v.json === true,
        ...(limit === undefined ? {} : { limit }),
      };
    }
    case 'route revert': {
      expectArgs(name, rest, 1, 1, '<psARN>');
      // A zone serial (RFC 1982: 32 bits; psarn never gives a zone serial 0).
      const to = typeof v.to === 'string' ? wholeNumber('--to', v.to, 1, 4294967295) : undefined;
      return { kind: name, psarn: psarnArg(rest[0]!), force: v.force === true, ...(to === undefined ? {} : { to }) };
    }
    case 'route callers':
      expectArgs(name, rest, 1, 1, '<psARN>');
      return { kind: name, psarn: psarnArg(rest[0]!), json: v.json === true };
    case 'graph': {
      expectArgs(name, rest, 0, 1, '<zone or psARN prefix>');
      const format = typeof v.format === 'string' ? v.format : 'dot';
      if (!(GRAPH_FORMATS as readonly string[]).includes(format)) {
        throw usageError(`invalid --format ${quote(format)}: use ${GRAPH_FORMATS.join(', ')}`);
      }
      return { kind: name, ...(rest[0] === undefined ? {} : { scope: rest[0] }), format: format as GraphFormat };
    }
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
        ...stickyKeyArg(v['sticky-key']),
      };
    case 'zone export':
      expectArgs(name, rest, 1, 1, '<zone>');
      return { kind: name, zone: rest[0]!, ...(typeof v.output === 'string' ? { output: v.output } : {}) };
    case 'zone import':
      expectArgs(name, rest, 1, 1, '<file>');
      return { kind: name, file: rest[0]! };
    case 'apply':
      expectArgs(name, rest, 1, 1, '<routes.yaml>');
      return {
        kind: name,
        file: rest[0]!,
        dryRun: v['dry-run'] === true,
        prune: v.prune === true,
        json: v.json === true,
      };
    case 'db init':
      expectArgs(name, rest, 0, 0, '');
      return { kind: name };
    case 'key generate': {
      expectArgs(name, rest, 0, 1, 'NAME');
      const keyName = rest[0] ?? DEFAULT_KEY_NAME;
      const problem = keyNameProblem(keyName);
      if (problem) throw usageError(`invalid key name ${quote(keyName)}: ${problem}`);
      const algorithm = typeof v.algorithm === 'string' ? v.algorithm.toLowerCase() : 'hmac-sha256';
      if (!isTsigAlgorithm(algorithm)) {
        throw usageError(`invalid --algorithm ${quote(v.algorithm as string)}: use ${TSIG_ALGORITHMS.join(' or ')}`);
      }
      return { kind: name, name: keyName, algorithm };
    }
    default:
      throw usageError(`unknown command ${quote(name)}; run 'psarn help' for the commands`);
  }
}

/** `--sticky-key KEY` (not `--key`, the global TSIG key flag); the flag parser refuses an empty value. */
function stickyKeyArg(value: Values[string]): { stickyKey?: string } {
  return typeof value === 'string' ? { stickyKey: value } : {};
}
