/**
 * The one error family (src/errors.ts): every error class of psarn extends PsarnBaseError and
 * carries a code from the one list, ERROR_CODES; and the helpers that show input in messages.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError, type CliErrorCode, OutputClosedError } from '../src/cli/errors.js';
import { type ClientErrorCode, PsarnClientError } from '../src/client/errors.js';
import { InvokerError, type InvokerErrorCode } from '../src/client/invokers/errors.js';
import { TransportError, type TransportErrorCode } from '../src/client/transport.js';
import { ConfigError } from '../src/config/config.js';
import { RoutesFileError } from '../src/config/routes-file.js';
import {
  ECHO_MAX,
  ERROR_CODES,
  type ErrorCode,
  echo,
  echoValue,
  invalidUtf8At,
  PsarnBaseError,
  printable,
  quote,
} from '../src/errors.js';
import { ReportError } from '../src/map/report-codec.js';
import { ControlError } from '../src/ops/control.js';
import { HoldError, type HoldErrorCode } from '../src/ops/hold.js';
import { SqsSourceError } from '../src/ops/replay-sqs.js';
import { PsarnError, type PsarnErrorCode } from '../src/psarn/psarn.js';
import { TargetError } from '../src/psarn/target.js';
import { TargetPolicyError } from '../src/psarn/target-policy.js';
import { TransferError, type TransferErrorCode } from '../src/secondary/errors.js';
import { ListenError } from '../src/server/listen.js';
import { StoreError, type StoreErrorCode } from '../src/store/types.js';
import { UpdateError } from '../src/update/errors.js';
import { WireError } from '../src/wire/errors.js';
import { ZoneFileError } from '../src/zonefile/errors.js';

/** Every code of a union, listed; `Exhaustive` fails to compile when the list misses one. */
type Exhaustive<Union, List extends readonly Union[]> = [Exclude<Union, List[number]>] extends [never] ? List : never;

const CLIENT = [
  'ERR_INVALID_PSARN',
  'ERR_ROUTE_NOT_FOUND',
  'ERR_NO_SERVER',
  'ERR_SERVER_LOOKUP',
  'ERR_BAD_ANSWER',
  'ERR_ALL_TARGETS_FAILED',
  'ERR_NO_INVOKER',
  'ERR_INVALID_OPTION',
] as const;
const INVOKER = [
  'ERR_INVALID_TARGET',
  'ERR_SDK_MISSING',
  'ERR_TARGET_FAILED',
  'ERR_TARGET_REJECTED',
  'ERR_INVALID_PAYLOAD',
] as const;
const TRANSPORT = ['ERR_DNS_TIMEOUT', 'ERR_DNS_CONNECT', 'ERR_DNS_MALFORMED'] as const;
const GRAMMAR = ['ERR_INVALID_PSARN', 'ERR_INVALID_NAME', 'ERR_INVALID_ZONE', 'ERR_INVALID_TXT'] as const;
const STORE = [
  'ERR_DB_MISSING',
  'ERR_DB_OPEN',
  'ERR_DB_SCHEMA',
  'ERR_DB_NOT_PSARN',
  'ERR_DB_CORRUPT',
  'ERR_DB_READ',
  'ERR_DB_LOCKED',
  'ERR_ZONE_NOT_FOUND',
  'ERR_INVALID_ZONE',
  'ERR_ROUTE_NOT_FOUND',
  'ERR_INVALID_ROUTE',
  'ERR_ALIAS_LOOP',
  'ERR_ALIAS_CHAIN',
  'ERR_ALIAS_DANGLING',
  'ERR_ROUTE_ALIASED',
  'ERR_JOURNAL_PRUNED',
  'ERR_SERIAL_UNKNOWN',
  'ERR_HISTORY_GAP',
  'ERR_OPERATION_CONFLICT',
  'ERR_OPERATION_NOT_FOUND',
] as const;
const CLI = ['ERR_USAGE', 'ERR_NOT_FOUND', 'ERR_RUNTIME'] as const;
const HOLD = ['ERR_HOLD_INPUT', 'ERR_ROUTE_NOT_FOUND', 'ERR_HOLD_STATE', 'ERR_HOLD_CHANGED'] as const;
const TRANSFER = [
  'ERR_XFR_CONNECT',
  'ERR_XFR_TIMEOUT',
  'ERR_XFR_TSIG',
  'ERR_XFR_RCODE',
  'ERR_XFR_MALFORMED',
  'ERR_XFR_DATA',
] as const;

const server = { host: '127.0.0.1', port: 53 };
/** One instance per class and code: the whole family. */
const instances: PsarnBaseError[] = [
  ...(CLIENT satisfies Exhaustive<ClientErrorCode, typeof CLIENT>).map((c) => new PsarnClientError(c, 'm')),
  ...(INVOKER satisfies Exhaustive<InvokerErrorCode, typeof INVOKER>).map(
    (c) => new InvokerError(c, 'm', { service: 'lambda', target: 't' }),
  ),
  ...(TRANSPORT satisfies Exhaustive<TransportErrorCode, typeof TRANSPORT>).map(
    (c) => new TransportError(c, server, 'm'),
  ),
  ...(GRAMMAR satisfies Exhaustive<PsarnErrorCode, typeof GRAMMAR>).map((c) => new PsarnError(c, 'x', 'm')),
  ...(STORE satisfies Exhaustive<StoreErrorCode, typeof STORE>).map((c) => new StoreError(c, 'm')),
  ...(CLI satisfies Exhaustive<CliErrorCode, typeof CLI>).map((c) => new CliError(c, 'm')),
  ...(TRANSFER satisfies Exhaustive<TransferErrorCode, typeof TRANSFER>).map((c) => new TransferError(c, 'm')),
  ...(HOLD satisfies Exhaustive<HoldErrorCode, typeof HOLD>).map((c) => new HoldError(c, 'm')),
  new SqsSourceError('m'),
  new ControlError('m'),
  new ReportError('m'),
  new TargetError('x', 'm'),
  new TargetPolicyError('x', 'm'),
  new OutputClosedError(),
  new WireError('m'),
  new UpdateError(5, 'm', 18),
  new ConfigError('key', 'm'),
  new RoutesFileError('key', 'm'),
  new ZoneFileError('m'),
  new ListenError('dns', 'udp', server, Object.assign(new Error('bind'), { code: 'EADDRINUSE' })),
];

const underTsx = import.meta.url.endsWith('.ts');
const srcRoot = fileURLToPath(new URL(underTsx ? '../src/' : '../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') ? [p] : [];
  });
}

describe('the error family', () => {
  it('every error class of src/ extends PsarnBaseError, and this test builds each one', () => {
    const declared = new Map<string, string>();
    for (const file of sources(srcRoot)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/class (\w+) extends (\w*Error)\b/g)) {
        declared.set(m[1]!, m[2]!);
      }
    }
    assert.deepEqual(
      [...declared].filter(([name, base]) => base === 'Error' && name !== 'PsarnBaseError'),
      [],
      'classes that extend Error directly',
    );
    const built = new Set(instances.map((e) => e.constructor.name));
    assert.deepEqual([...declared.keys()].filter((n) => n !== 'PsarnBaseError' && !built.has(n)).sort(), []);
  });

  it('every instance has a name, a listed code, and is a PsarnBaseError and an Error', () => {
    for (const e of instances) {
      assert.ok(e instanceof PsarnBaseError && e instanceof Error, e.constructor.name);
      assert.equal(e.name, e.constructor.name);
      assert.ok(Object.hasOwn(ERROR_CODES, e.code), `${e.name} ${e.code} is not in ERROR_CODES`);
      const entry = ERROR_CODES[e.code];
      assert.ok((entry.by as readonly string[]).includes(e.name), `ERROR_CODES.${e.code}.by lacks ${e.name}`);
    }
  });

  it('the list is exact: each code, for each class it names, is raised by that class; one meaning each', () => {
    const raised = new Set(instances.map((e) => `${e.name} ${e.code}`));
    const meanings = new Set<string>();
    for (const [code, { by, meaning }] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^ERR_[A-Z_]+$/);
      assert.ok(meaning.length > 10, code);
      assert.ok(!meanings.has(meaning), `two codes mean '${meaning}'`);
      meanings.add(meaning);
      for (const name of by) assert.ok(raised.has(`${name} ${code}`), `${name} never raises ${code}`);
    }
    // Codes are the keys of one object literal (a duplicate key does not compile), so the list
    // cannot name a code twice; the type of `code` keeps every class to the list.
    const code: ErrorCode = instances[0]!.code;
    assert.ok(code in ERROR_CODES);
  });

  it('wraps with cause, and has no cause property when there is none', () => {
    const inner = new Error('disk');
    assert.equal(new StoreError('ERR_DB_READ', 'm', { cause: inner }).cause, inner);
    assert.equal(Object.hasOwn(new StoreError('ERR_DB_READ', 'm'), 'cause'), false);
    assert.equal(Object.hasOwn(new StoreError('ERR_DB_READ', 'm', { cause: undefined }), 'cause'), false);
  });

  it("the client's public errors look exactly as they did: keys, order, name, JSON", () => {
    const e = new PsarnClientError('ERR_NO_SERVER', 'm');
    assert.deepEqual(Reflect.ownKeys(e), ['stack', 'message', 'code', 'psarn', 'failures', 'name']);
    assert.equal(JSON.stringify(e), '{"code":"ERR_NO_SERVER","failures":[],"name":"PsarnClientError"}');
    assert.equal(String(e), 'PsarnClientError: m');
    const cause = new Error('c');
    const wrapped = new PsarnClientError('ERR_BAD_ANSWER', 'n', { cause, psarn: 'p' });
    assert.deepEqual(Reflect.ownKeys(wrapped), ['stack', 'message', 'cause', 'code', 'psarn', 'failures', 'name']);
    assert.equal(wrapped.cause, cause);
    const inv = new InvokerError('ERR_TARGET_FAILED', 'm', { service: 'sqs', target: 't' });
    assert.deepEqual(Object.keys(inv), ['code', 'service', 'target', 'statusCode', 'name']);
    // The stack starts at the caller, not inside the constructors.
    assert.match(e.stack!.split('\n')[1]!, /errors\.test\./);
  });
});

describe('echo and quote: input in messages', () => {
  it('shows short printable input as it is', () => {
    assert.equal(echo('orders/created'), 'orders/created');
    assert.equal(quote('a b'), "'a b'");
    assert.equal(echo('é日本🙂'), 'é日本🙂');
  });

  it('cuts past 80 characters and gives the size in bytes, costing what 80 characters cost', () => {
    const big = 'a'.repeat(20_000_000);
    const started = performance.now();
    assert.equal(echo(big), `${'a'.repeat(ECHO_MAX)}… (20000000 bytes)`);
    assert.equal(quote(big), `'${'a'.repeat(ECHO_MAX)}…' (20000000 bytes)`);
    assert.ok(performance.now() - started < 500);
    assert.equal(echo('é'.repeat(100)), `${'é'.repeat(80)}… (200 bytes)`);
    assert.equal(echo('x'.repeat(81), 81), 'x'.repeat(81));
    // A character outside the BMP is not split in two.
    assert.equal(echo('🙂'.repeat(3), 2), '🙂🙂… (12 bytes)');
  });

  it('escapes control characters, separators, bidi overrides and lone surrogates', () => {
    assert.equal(echo('a\u0000b\u001b[31mc\u007f\u0085\n'), 'a\\x00b\\x1b[31mc\\x7f\\x85\\x0a');
    assert.equal(echo('x\u2028y\u202ez\u2066'), 'x\\u{2028}y\\u{202E}z\\u{2066}');
    assert.equal(echo('\ud800'), '\\u{D800}');
    assert.equal(printable('ok\tline\u001b'), 'ok\\x09line\\x1b');
    assert.equal(printable('plain'), 'plain');
  });

  it('shows bytes that are not UTF-8 as \\xNN', () => {
    assert.equal(echo(Buffer.from([0x6c, 0xff, 0xfe, 0xc3, 0xa9, 0x00])), 'l\\xff\\xfeé\\x00');
    // Overlong, surrogate and truncated sequences are not UTF-8 either (RFC 3629 §3).
    assert.equal(echo(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xe2, 0x82])), '\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82');
    assert.equal(echo(Buffer.alloc(100, 0x41)), `${'A'.repeat(80)}… (100 bytes)`);
    assert.equal(invalidUtf8At(Buffer.from('héllo')), -1);
    assert.equal(invalidUtf8At(Buffer.from([0x61, 0x62, 0xff])), 2);
  });

  it("never shows a URL's password, even when the cut falls inside it", () => {
    assert.equal(echo('https://user:s3cret@example.com/x'), 'https://user:***@example.com/x');
    assert.equal(echo('--target=https://tok3n@example.com'), '--target=https://***@example.com');
    assert.equal(echo('HTTPS://u:p@h/a https://v:q@i/'), 'HTTPS://u:***@h/a https://v:***@i/');
    // Not credentials: a port, an '@' in the path or query.
    assert.equal(echo('https://example.com:8443/a@b?c=d@e'), 'https://example.com:8443/a@b?c=d@e');
    const long = `https://user:${'s'.repeat(200)}@example.com/`;
    assert.equal(echo(long), `https://user:***… (${long.length} bytes)`);
    assert.doesNotMatch(quote(long), /sss/);
  });

  it('echoValue: strings quoted, other values as JSON cut without serializing them whole', () => {
    assert.equal(echoValue('x'), "'x'");
    assert.equal(echoValue(undefined), 'nothing');
    assert.equal(echoValue(5), '5');
    assert.equal(echoValue(null), 'null');
    assert.equal(echoValue([1, 'a', { b: true }]), '[1,"a",{"b":true}]');
    const list = Array.from({ length: 1_000_000 }, (_, i) => `item-${i}`);
    const shown = echoValue(list);
    assert.ok(shown.length < 120, shown);
    assert.match(shown, /^\["item-0","item-1",.*… \(1000000 items\)$/);
    assert.equal(echoValue(['\u001b']), '["\\u001b"]');
  });
});
