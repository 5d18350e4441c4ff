/**
 * Mnemonics of the codes in src/wire/types.ts, derived from those tables so a code has one
 * name everywhere (dig output, metrics labels, error messages). Unknown codes get the generic
 * forms of RFC 3597 §5 (TYPEnnn, CLASSnnn) and dig's (RCODEnn, OPCODEn).
 */
import { Class, Opcode, Rcode, Type } from './types.js';

function invert(table: Record<string, number>): Map<number, string> {
  return new Map(Object.entries(table).map(([name, code]) => [code, name]));
}

const TYPE_NAMES = invert(Type);
const CLASS_NAMES = invert(Class);
const RCODE_NAMES = invert(Rcode);
const OPCODE_NAMES = invert(Opcode);
const TYPE_CODES = new Map<string, number>(Object.entries(Type));

/** Type mnemonic for a code (URI for 256, TYPE1234 for unknown, RFC 3597 §5). */
export function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `TYPE${code}`;
}

/** Code for a mnemonic (case-insensitive; accepts TYPEnnn). undefined when unknown. */
export function typeCode(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = TYPE_CODES.get(upper);
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(upper);
  if (!m) return undefined;
  const code = Number(m[1]);
  return code <= 0xffff ? code : undefined;
}

/** Class mnemonic (IN, CH, ...), CLASSnnn for unknown (RFC 3597 §5). */
export function className(code: number): string {
  return CLASS_NAMES.get(code) ?? `CLASS${code}`;
}

/** Rcode mnemonic (NOERROR, NXDOMAIN, BADVERS, ...), RCODEnn for unknown. */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

/** Opcode mnemonic (QUERY, NOTIFY, ...), OPCODEn for unknown. */
export function opcodeName(opcode: number): string {
  return OPCODE_NAMES.get(opcode) ?? `OPCODE${opcode}`;
}
