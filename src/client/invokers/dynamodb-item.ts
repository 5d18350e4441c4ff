/**
 * The event as a DynamoDB item (docs/design.md#database-and-stream-targets). Written here rather
 * than taken from @aws-sdk/util-dynamodb, which is not part of the Lambda runtime's SDK set we
 * rely on and would be one more package a caller installs; the mapping is small and is the
 * contract of the dynamodb target, so it lives beside it, with its table in docs/client.md.
 *
 * The rule: the item is the event as JSON would carry it — what the other targets receive —
 * with two additions JSON cannot express (bytes as B, bigint as an exact N), and with every value
 * that JSON would silently change or lose refused instead (a database write should not store
 * `null` where the caller had NaN):
 *
 *   string → S · finite number → N · bigint → N (exact) · boolean → BOOL · null → NULL
 *   array → L (undefined in it → NULL, as JSON) · plain object → M (undefined attributes dropped)
 *   Uint8Array (Buffer) → B · an object with toJSON() (Date) → what toJSON returns (ISO text → S)
 *   NaN, ±Infinity, functions, symbols, other class instances (Map, Set, …) → ERR_INVALID_PAYLOAD
 *
 * String sets, number sets and binary sets are never produced: JSON has no sets.
 */
import { InvokerError } from './errors.js';

/**
 * The attribute values psarn writes: @aws-sdk/client-dynamodb's AttributeValue, restated so the
 * package's types do not need the SDK installed.
 */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: Uint8Array }
  | { BOOL: boolean }
  | { NULL: true }
  | { L: AttributeValue[] }
  | { M: Record<string, AttributeValue> };

/** DynamoDB nests documents at most 32 levels deep; deeper is refused here, which also stops cycles. */
const MAX_DEPTH = 32;

/**
 * The item of an event. An object is the item; a string or bytes are the event's JSON text and
 * must parse to a JSON object. Anything else (an array, a number, text that is not a JSON object)
 * cannot be an item: it has no attribute names, so it could not hold the table's key.
 * @throws InvokerError ERR_INVALID_PAYLOAD naming the attribute path and what to send instead
 */
export function eventItem(payload: unknown, target: string): Record<string, AttributeValue> {
  let event = payload;
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
    try {
      event = JSON.parse(text) as unknown;
    } catch {
      throw refuse(target, 'the payload is text that is not JSON; send an object, or JSON text of one');
    }
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event) || !isPlain(event)) {
    throw refuse(
      target,
      `the payload is ${describe(event)}, not an object; a dynamodb target stores the event as an item, so send an object with the table's key attributes`,
    );
  }
  return attributes(event as Record<string, unknown>, '', 1, target);
}

function attributes(
  object: Record<string, unknown>,
  path: string,
  depth: number,
  target: string,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const name of Object.keys(object)) {
    const value = object[name];
    if (value === undefined) continue; // as JSON.stringify drops it
    out[name] = attribute(value, path === '' ? name : `${path}.${name}`, depth, target);
  }
  return out;
}

/** One value as an AttributeValue. `path` names it in errors (`order.items[2].price`). */
function attribute(value: unknown, path: string, depth: number, target: string): AttributeValue {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      if (!Number.isFinite(value)) {
        throw refuse(target, `attribute ${path} is ${value}, which DynamoDB cannot store; send null or a string`);
      }
      return { N: String(value) };
    case 'bigint':
      return { N: value.toString() };
    case 'boolean':
      return { BOOL: value };
    case 'object':
      break;
    default: // function, symbol, undefined (in a list: handled below)
      throw refuse(target, `attribute ${path} is a ${typeof value}, which is not data`);
  }
  if (value === null) return { NULL: true };
  if (depth >= MAX_DEPTH) {
    throw refuse(target, `attribute ${path} is nested deeper than DynamoDB's ${MAX_DEPTH} levels (or is a cycle)`);
  }
  if (value instanceof Uint8Array) return { B: value };
  if (Array.isArray(value)) {
    return {
      L: value.map((v, i) => (v === undefined ? { NULL: true } : attribute(v, `${path}[${i}]`, depth + 1, target))),
    };
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return attribute(toJSON.call(value, path), path, depth + 1, target);
  if (!isPlain(value)) {
    throw refuse(
      target,
      `attribute ${path} is ${describe(value)}, which JSON would flatten to {}; convert it to a plain object or array`,
    );
  }
  return { M: attributes(value as Record<string, unknown>, path, depth + 1, target) };
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    if (!name) return 'an object';
    return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
  }
  return `a ${typeof value}`;
}

function refuse(target: string, why: string): InvokerError {
  return new InvokerError('ERR_INVALID_PAYLOAD', `cannot write the event to '${target}': ${why}`, {
    service: 'dynamodb',
    target,
  });
}
