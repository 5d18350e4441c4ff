/**
 * The first pass over `psarn`'s argv, pure: which words name the command, whether help or the
 * version was asked for, and every flag checked against the command table before anything
 * else, so that a typo is reported as what it is:
 *
 * - `psarn --dbb x route list`: an unknown flag, with a "did you mean --db?", not an unknown
 *   command 'x' (a lenient parse takes `--dbb` for a boolean and `x` for the command);
 * - `--ttl -5`: the value -5, for the command's own check ("whole seconds from 0 to 172800"),
 *   not node:util parseArgs' "argument is ambiguous"; `--target --ttl 5`: a missing value;
 * - `psarn route --help`, `psarn help route`, `psarn route set -h`: help, whatever follows.
 *
 * Every error is a UsageError (exit 2) of one line.
 */
import { parseArgs } from 'node:util';
import { quote } from '../errors.js';
import { COMMANDS, type FlagSpec, GLOBAL_FLAGS, GROUPS, groupCommands, VERSION_FLAG } from './commands.js';
import { type CliError, usageError } from './errors.js';

/** Every flag of every command: what the first pass knows. */
const ALL_FLAGS: Record<string, FlagSpec> = Object.assign(
  {},
  VERSION_FLAG,
  GLOBAL_FLAGS,
  ...Object.values(COMMANDS).map((c) => c.flags),
);

/** `--name` and `-x` of every known flag. */
const SPELLINGS = new Set(
  Object.entries(ALL_FLAGS).flatMap(([name, f]) => [`--${name}`, ...(f.short ? [`-${f.short}`] : [])]),
);

export interface Scan {
  /** The words that are not flags or flag values, in order (those after `--` too). */
  positionals: string[];
  /**
   * argv with every string flag written `--name=value`: a value that starts with '-'
   * (`--ttl -5`, `--payload -1`) then reaches the command's own check unchanged.
   */
  args: string[];
  help: boolean;
  version: boolean;
  /** The first flag that no command knows, as typed. */
  unknown?: string;
  /**
   * The first flag with a bad value, as typed: a string flag without one (`missing`) or with an
   * empty one (`empty`), or a boolean flag given one (`--json=yes`: `unwanted`).
   */
  badValue?: { flag: string; problem: 'missing' | 'empty' | 'unwanted' };
}

/** Options for node:util parseArgs from the table's flags. */
export function optionsOf(flags: Record<string, FlagSpec>): NonNullable<Parameters<typeof parseArgs>[0]>['options'] {
  const out: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']> = {};
  for (const [name, f] of Object.entries(flags)) {
    out[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  }
  return out;
}

/**
 * A value that is really the next flag: `--target --ttl 5` forgot the target. Only whole known
 * spellings and `--words` count, so `--ttl -5` and `--payload -1` keep their values.
 */
function isFlag(value: string): boolean {
  return SPELLINGS.has(value.split('=', 1)[0]!) || /^--[A-Za-z]/.test(value);
}

export function scanArgv(argv: readonly string[]): Scan {
  const { tokens } = parseArgs({
    args: [...argv],
    options: optionsOf(ALL_FLAGS),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const scan: Scan = { positionals: [], args: [], help: false, version: false };
  for (const t of tokens) {
    if (t.kind === 'positional') {
      scan.positionals.push(t.value);
      scan.args.push(t.value);
    } else if (t.kind === 'option-terminator') {
      scan.args.push('--');
    } else {
      const spec = ALL_FLAGS[t.name];
      if (spec === undefined) {
        scan.unknown ??= t.rawName;
        continue;
      }
      if (t.name === 'help') scan.help = true;
      if (t.name === 'version') scan.version = true;
      if (spec.type === 'boolean') {
        if (t.inlineValue) scan.badValue ??= { flag: t.rawName, problem: 'unwanted' };
        else scan.args.push(t.rawName);
        continue;
      }
      const value = t.value;
      if (value === undefined || value === '' || (!t.inlineValue && isFlag(value))) {
        scan.badValue ??= { flag: t.rawName, problem: value === '' ? 'empty' : 'missing' };
        // `--target --help`: the help the user asked for, not a target named --help.
        if (value === '--help' || value === '-h') scan.help = true;
        continue;
      }
      scan.args.push(`--${t.name}=${value}`);
    }
  }
  return scan;
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` when it is close enough to be a typo (at most 2 edits, and
 * fewer than half its length), or one that `word` begins; else undefined.
 * @example closest('dbb', ['db', 'config']) // 'db'
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length === 0 || word.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= 2 && bestDistance * 2 < Math.max(word.length, best.length)) return best;
  return word.length >= 3 ? candidates.find((c) => c.startsWith(word.toLowerCase())) : undefined;
}

/** " (did you mean X?)" or "". */
function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
}

/** The flag spellings a command accepts (global flags included); all of them without a command. */
export function flagSpellings(command: string | undefined): string[] {
  const flags =
    command === undefined ? { ...VERSION_FLAG, ...ALL_FLAGS } : { ...GLOBAL_FLAGS, ...COMMANDS[command]!.flags };
  return Object.keys(flags).map((name) => `--${name}`);
}

/** `unknown flag '--dbb' (did you mean --db?)` for the command, or for psarn as a whole. */
export function unknownFlag(flag: string, command: string | undefined): CliError {
  const name = flag.split('=', 1)[0]!;
  const hint = name.startsWith('--')
    ? closest(
        name.slice(2),
        flagSpellings(command).map((s) => s.slice(2)),
      )
    : undefined;
  const mean = didYouMean(hint === undefined ? undefined : `--${hint}`);
  if (command === undefined) return usageError(`unknown flag ${quote(flag)}${mean}; run 'psarn help' for the flags`);
  return usageError(
    `unknown flag ${quote(flag)} for 'psarn ${command}'${mean}; run 'psarn help ${command}' for its flags`,
  );
}

/**
 * The command the positional words name: `route set` (two words) or `flush` (one), or a
 * UsageError naming what is missing or unknown, with the commands it could be.
 */
export function findCommand(positionals: readonly string[]): { name: string; words: number } {
  const [first, second] = positionals;
  if (first === undefined) throw usageError("missing command; run 'psarn help' for the commands");
  if (GROUPS.includes(first)) {
    const subs = groupCommands(first);
    const name = `${first} ${second ?? ''}`.trim();
    if (second === undefined) throw usageError(`missing command after ${quote(first)}; use one of: ${subs.join(', ')}`);
    if (!(name in COMMANDS)) {
      const hint = closest(
        second,
        subs.map((s) => s.slice(first.length + 1)),
      );
      throw usageError(
        `unknown command ${quote(name)}${didYouMean(hint === undefined ? undefined : `'${first} ${hint}'`)}; use one of: ${subs.join(', ')}`,
      );
    }
    return { name, words: 2 };
  }
  if (first in COMMANDS) return { name: first, words: 1 };
  const tops = [...new Set(Object.keys(COMMANDS).map((k) => k.split(' ')[0]!))];
  const hint = closest(first, tops);
  throw usageError(
    `unknown command ${quote(first)}${didYouMean(hint === undefined ? undefined : `'${hint}'`)}; run 'psarn help' for the commands`,
  );
}

/**
 * What `psarn help <words>` (and `psarn <words> --help`) shows: undefined for the general help,
 * a group (`route`), or a command (`route set`); words after a whole command are its arguments.
 */
export function helpTopic(words: readonly string[]): string | undefined {
  if (words.length === 0) return undefined;
  if (GROUPS.includes(words[0]!) && words.length === 1) return words[0];
  return findCommand(words).name;
}
