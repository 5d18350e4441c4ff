/**
 * `psarn dig`: parse (dig-args.ts) -> exchange (client/transport.ts) -> print (dig-format.ts),
 * the way kdig is built. A reply with any rcode exits 0, as dig does; no reply exits 1.
 * A server given by host name (`@localhost`, `@psarnd`) is looked up first, both address
 * families, and its addresses are tried in order until one replies, as dig does.
 */
import { randomInt } from 'node:crypto';
import { PsarnClientError } from '../client/errors.js';
import { type HostLookup, lookupServer } from '../client/server-lookup.js';
import { exchange, formatServer, type ServerAddress, TransportError } from '../client/transport.js';
import type { Config } from '../config/config.js';
import { quote } from '../errors.js';
import { psarnToName } from '../psarn/name.js';
import { callerOption } from '../wire/caller.js';
import { encodeQuery } from '../wire/message.js';
import { signMessageMac, type TsigKey, verifyMessage } from '../wire/tsig.js';
import type { DigArgs } from './dig-args.js';
import { digJson, formatDig, formatShort } from './dig-format.js';
import { CliError, lookupFailure, oneLine, usageError } from './errors.js';

export interface DigDeps {
  /** Query id source (default crypto.randomInt(0, 65536)). */
  randomId?: () => number;
  /** Wall clock for `;; WHEN:`. */
  now?: () => Date;
  /** Addresses of a server host name (default: node:dns lookup, both families). */
  lookup?: HostLookup;
  /** Sign the query with this TSIG key (`psarn --server … --key …`) and require a reply signed by it (RFC 8945 §5.3). */
  key?: TsigKey;
}

/** Runs a dig and returns the text to print on stdout. @throws CliError */
export async function runDig(
  dig: DigArgs,
  rawArgs: readonly string[],
  config: Config,
  deps: DigDeps = {},
): Promise<string> {
  let name = dig.name;
  if (dig.psarn) {
    try {
      name = psarnToName(dig.psarn, config.namespace);
    } catch (err) {
      throw usageError(oneLine((err as Error).message), err);
    }
  }
  const id = (deps.randomId ?? (() => randomInt(0, 65536)))();
  let query: Buffer;
  try {
    // +caller=ID: the option a client library sends (docs/design.md#the-caller-map).
    const edns = dig.caller === undefined ? {} : { edns: { options: [callerOption(dig.caller)] } };
    query = encodeQuery({ id, name, qtype: dig.qtype, ...edns });
  } catch (err) {
    throw usageError(`invalid name ${quote(dig.name)}: ${oneLine((err as Error).message)}`, err);
  }
  let requestMac: Buffer | undefined;
  if (deps.key !== undefined) ({ message: query, mac: requestMac } = signMessageMac(query, deps.key));
  const given = { host: dig.server?.host ?? config.listen.host, port: dig.server?.port ?? config.listen.port };
  let addresses: ServerAddress[];
  try {
    addresses = await lookupServer(given, deps.lookup);
  } catch (err) {
    if (!(err instanceof PsarnClientError)) throw err;
    throw new CliError('ERR_RUNTIME', lookupFailure(given.host, err.cause), { cause: err });
  }
  let result: Awaited<ReturnType<typeof exchange>> | undefined;
  let server = addresses[0]!;
  let failure: unknown;
  for (const address of addresses) {
    server = address;
    try {
      result = await exchange(address, query, { tcp: dig.tcp, timeoutMs: dig.timeoutMs, tries: dig.tries });
      break;
    } catch (err) {
      // The next address of the name, as dig moves on; a malformed reply is an answer.
      failure = err;
      if (!(err instanceof TransportError) || err.code === 'ERR_DNS_MALFORMED') break;
    }
  }
  if (result === undefined) {
    const err = failure;
    if (err instanceof TransportError && err.code === 'ERR_DNS_MALFORMED') {
      throw new CliError('ERR_RUNTIME', `;; ${err.message}`, { cause: err });
    }
    if (err instanceof TransportError) {
      // dig's words for a timeout; a connect error's message already says "communications error to ...".
      const what = err.code === 'ERR_DNS_TIMEOUT' ? 'connection timed out; no servers could be reached: ' : '';
      throw new CliError('ERR_RUNTIME', `;; ${what}${err.message}; is psarnd running there? (see @HOST[:PORT])`, {
        cause: err,
      });
    }
    throw err;
  }
  if (deps.key !== undefined) {
    const checked = verifyMessage(result.reply, new Map([[deps.key.name, deps.key]]), { requestMac });
    // An unsigned error reply (BADKEY, BADSIG: RFC 8945 §5.3.2) is printed for its rcode, as dig does.
    if (checked.status !== 'ok' && checked.status !== 'peer-error') {
      throw new CliError(
        'ERR_RUNTIME',
        `;; the reply from ${formatServer(server)} is not signed with key '${deps.key.name.slice(0, -1)}' (${checked.status}); is it the right server and key?`,
      );
    }
  }
  const ctx = {
    args: rawArgs,
    server,
    transport: result.transport,
    rttMs: result.rttMs,
    when: (deps.now ?? (() => new Date()))(),
    namespace: config.namespace,
  };
  if (dig.json) return `${JSON.stringify(digJson(result.message, ctx), null, 2)}\n`;
  if (dig.short) return formatShort(result.message);
  return formatDig(result.message, ctx);
}
