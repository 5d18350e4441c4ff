/**
 * Control records (docs/design.md#remote-operations): how the remote CLI asks the primary psarnd
 * for an operation (a rollout step, a hold, a release) over signed DNS UPDATE, and reads its
 * state back over a signed query. The operations table is in the primary's database only, so an
 * operation cannot travel as route records: it travels as one TXT record at a control name
 * beside the route, which psarnd acts on and never stores.
 *
 * - Names: `_rollout.<route name>` and `_hold.<route name>` (underscore labels, as `_meta` and
 *   `_epoch`: outside the psARN grammar, so no route can have them).
 * - A request is an UPDATE of the route's zone whose update section is exactly one TXT RR (class
 *   IN, TTL 0) at a control name: character-strings `v=psarn1`, `op=<verb>`, then the request's
 *   arguments as JSON, split into strings of at most 255 bytes (concatenated before parsing, so a
 *   split may fall inside a UTF-8 sequence).
 * - A state read is a TSIG-signed TXT query at the control name; the answer is one TXT RR in the
 *   same form with `op=status` and the state as JSON.
 */

import { PsarnBaseError } from '../errors.js';
import { Class, Type } from '../wire/types.js';
import { txtRdata, type UpdateRecordSpec } from '../wire/update.js';

/** The operation kinds that have a control name. */
export type ControlKind = 'rollout' | 'hold';

/** The first label of each control name. */
export const CONTROL_LABEL: Readonly<Record<ControlKind, string>> = { rollout: '_rollout', hold: '_hold' };

/** The verbs each control name takes in an UPDATE. */
export const CONTROL_VERBS: Readonly<Record<ControlKind, readonly string[]>> = {
  rollout: ['start', 'pause', 'resume', 'promote', 'abort'],
  hold: ['hold', 'release'],
};

/** The verb of a state read's answer. */
export const STATUS_VERB = 'status';

const VERSION = 'v=psarn1';
const OP = 'op=';
/** A TXT character-string holds at most 255 bytes (RFC 1035 §3.3). */
const MAX_STRING = 255;

/** A control record's content that cannot be read: the UPDATE is answered FORMERR. */
export class ControlError extends PsarnBaseError {
  readonly code = 'ERR_CONTROL_RECORD';
  constructor(message: string) {
    super(message);
    this.name = 'ControlError';
  }
}

/** The control name of a route's operation kind: `_rollout.<routeName>`. */
export function controlName(kind: ControlKind, routeName: string): string {
  return `${CONTROL_LABEL[kind]}.${routeName}`;
}

/** The control kind a name's first label names (`_rollout`, `_hold`), or undefined. */
export function controlKindOf(label: string | undefined): ControlKind | undefined {
  if (label === CONTROL_LABEL.rollout) return 'rollout';
  if (label === CONTROL_LABEL.hold) return 'hold';
  return undefined;
}

/**
 * The TXT character-strings of a request or a state: `v=psarn1`, `op=<verb>`, the JSON in ≤255-byte pieces.
 * `ascii`: every non-ASCII character of the JSON written as a `\uXXXX` escape (the same JSON
 * value), so no piece splits a UTF-8 sequence: psarnd's TXT writer takes strings, not bytes.
 */
export function encodeControl(verb: string, args: unknown, options: { ascii?: boolean } = {}): Buffer[] {
  let text = JSON.stringify(args ?? {});
  if (options.ascii === true) {
    text = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  const json = Buffer.from(text, 'utf8');
  const out = [Buffer.from(VERSION), Buffer.from(`${OP}${verb}`)];
  for (let p = 0; p < json.length; p += MAX_STRING) out.push(json.subarray(p, p + MAX_STRING));
  return out;
}

/**
 * Reads the strings encodeControl made.
 * @throws ControlError naming what is wrong (version, verb, JSON)
 */
export function decodeControl(strings: readonly Uint8Array[]): { verb: string; args: Record<string, unknown> } {
  const [version, op, ...rest] = strings.map((s) => Buffer.from(s));
  if (version?.toString('latin1') !== VERSION) throw new ControlError(`a control record starts with "${VERSION}"`);
  const opText = op?.toString('latin1') ?? '';
  if (!opText.startsWith(OP) || opText.length === OP.length) {
    throw new ControlError(`a control record's second string is "${OP}<verb>"`);
  }
  let args: unknown;
  try {
    args = rest.length === 0 ? {} : JSON.parse(Buffer.concat(rest).toString('utf8'));
  } catch (err) {
    throw new ControlError(`a control record's arguments are not JSON: ${(err as Error).message}`);
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new ControlError("a control record's arguments are a JSON object");
  }
  return { verb: opText.slice(OP.length), args: args as Record<string, unknown> };
}

/** The update RR of a request: TXT, class IN, TTL 0, at the route's control name (encodeUpdate sends it). */
export function controlRecord(kind: ControlKind, routeName: string, verb: string, args: unknown): UpdateRecordSpec {
  return {
    name: controlName(kind, routeName),
    type: Type.TXT,
    klass: Class.IN,
    ttl: 0,
    rdata: txtRdata(encodeControl(verb, args)),
  };
}
