/**
 * `psarn dig`: parse (dig-args.ts) -> exchange (client/transport.ts) -> print (dig-format.ts),
 * the way kdig is built. A reply with any rcode exits 0, as dig does; no reply exits 1.
 */
import { randomInt } from 'node:crypto';
import { exchange, TransportError } from '../client/transport.js';
import type { Config } from '../config/config.js';
import { quote } from '../errors.js';
import { psarnToName } from '../psarn/name.js';
import { encodeQuery } from '../wire/message.js';
import type { DigArgs } from './dig-args.js';
import { digJson, formatDig, formatShort } from './dig-format.js';
import { CliError, oneLine, usageError } from './errors.js';

export interface DigDeps {
  /** Query id source (default crypto.randomInt(0, 65536)). */
  randomId?: () => number;
  /** Wall clock for `;; WHEN:`. */
  now?: () => Date;
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
    query = encodeQuery({ id, name, qtype: dig.qtype });
  } catch (err) {
    throw usageError(`invalid name ${quote(dig.name)}: ${oneLine((err as Error).message)}`, err);
  }
  const server = { host: dig.server?.host ?? config.listen.host, port: dig.server?.port ?? config.listen.port };
  let result: Awaited<ReturnType<typeof exchange>>;
  try {
    result = await exchange(server, query, { tcp: dig.tcp, timeoutMs: dig.timeoutMs, tries: dig.tries });
  } catch (err) {
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
