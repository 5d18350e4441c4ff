/**
 * Where a remote command goes (docs/cli.md#remote): `--server HOST[:PORT]` or env PSARN_SERVER,
 * signed with `--key [ALG:]NAME:SECRET`, `--key-file FILE` or env PSARN_KEY (flags win over the
 * environment). Pure but for reading the key file.
 *
 * A secret never appears in a message: a key that does not parse is named by where it came from
 * (`--key`, `PSARN_KEY`, the file), never by its text. `--key` is accepted, as nsupdate's `-y`
 * is, but shows in `ps`; PSARN_KEY and --key-file do not.
 */
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import { ECHO_LONG, echo, quote } from '../../errors.js';
import { parseTsigKey, type TsigKey } from '../../wire/tsig.js';
import { CliError, oneLine, usageError } from '../errors.js';

/** The port of `--server HOST` without one: DNS's own (nsupdate's `server` default). */
export const DEFAULT_REMOTE_PORT = 53;

export interface RemoteServer {
  host: string;
  port: number;
}

export interface RemoteTarget {
  server: RemoteServer;
  /** Absent: unsigned (a psarnd refuses writes and transfers; queries are answered). */
  key?: TsigKey;
  /** `host:port` as the user wrote it (IPv6 in brackets), for messages. */
  label: string;
}

/** What the command line gave (args.ts), before the environment. */
export interface RemoteFlags {
  server?: string;
  key?: string;
  keyFile?: string;
}

/**
 * `HOST[:PORT]`, `[v6]:PORT` or a bare IPv6 address.
 * @throws CliError ERR_USAGE naming the input and the form
 */
export function parseRemoteServer(input: string, source = '--server'): RemoteServer {
  const bad = (why: string) =>
    usageError(`invalid ${source} ${quote(input, ECHO_LONG)}: ${why}; write HOST:PORT, IPv6 as [::1]:8053`);
  let host: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(input);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2];
    if (!isIPv6(host)) throw bad(`${quote(host, ECHO_LONG)} is not an IPv6 address`);
  } else if (isIPv6(input)) {
    host = input;
  } else {
    const colon = input.lastIndexOf(':');
    host = colon < 0 ? input : input.slice(0, colon);
    port = colon < 0 ? undefined : input.slice(colon + 1);
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) throw bad('the host is missing or invalid');
  }
  if (port === undefined) return { host, port: DEFAULT_REMOTE_PORT };
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw bad(`port ${quote(port, ECHO_LONG)} is not 1-65535`);
  }
  return { host, port: Number(port) };
}

/** `host:port`, IPv6 in brackets. */
export function serverLabel(server: RemoteServer): string {
  return `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`;
}

/**
 * A key from its `[ALG:]NAME:SECRET` text; the error names `source` and what is wrong, never the text.
 * @throws CliError (ERR_USAGE for the flag, ERR_RUNTIME for the environment or a file)
 */
function keyFrom(text: string, source: string, usage: boolean): TsigKey {
  try {
    return parseTsigKey(text.trim());
  } catch (err) {
    const message = `invalid ${source}: ${oneLine((err as Error).message)}`;
    throw usage ? usageError(message, err) : new CliError('ERR_RUNTIME', message, { cause: err });
  }
}

/**
 * The key file: one line `[ALG:]NAME:SECRET` (blank lines and `#` comments ignored), the form of
 * PSARN_KEY; `psarn key generate NAME | tail -1 | cut -c3-` writes one.
 */
function readKeyFile(file: string, cwd: string): TsigKey {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? echo(oneLine((err as Error).message), ECHO_LONG);
    throw new CliError('ERR_RUNTIME', `cannot read --key-file ${quote(file, ECHO_LONG)}: ${code}`, { cause: err });
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const source = `--key-file ${quote(file, ECHO_LONG)}`;
  if (lines.length !== 1) {
    throw new CliError(
      'ERR_RUNTIME',
      `invalid ${source}: it must hold one line [ALG:]NAME:SECRET (the -y form 'psarn key generate' prints)`,
    );
  }
  return keyFrom(lines[0]!, source, false);
}

/**
 * The remote target of a command, or undefined when it runs on the local database (no --server,
 * no PSARN_SERVER). A key given without a server is a usage error (it would be ignored).
 * @throws CliError
 */
export function remoteTarget(
  flags: RemoteFlags,
  env: Record<string, string | undefined>,
  cwd: string,
): RemoteTarget | undefined {
  if (flags.key !== undefined && flags.keyFile !== undefined) {
    throw usageError('give --key or --key-file, not both');
  }
  const envServer = env.PSARN_SERVER === '' ? undefined : env.PSARN_SERVER;
  const serverText = flags.server ?? envServer;
  if (serverText === undefined) {
    if (flags.key !== undefined || flags.keyFile !== undefined) {
      const flag = flags.key !== undefined ? '--key' : '--key-file';
      throw usageError(`${flag} needs --server HOST:PORT (or env PSARN_SERVER): the key signs requests to a server`);
    }
    return undefined;
  }
  const server = parseRemoteServer(serverText, flags.server !== undefined ? '--server' : 'PSARN_SERVER');
  let key: TsigKey | undefined;
  if (flags.key !== undefined) key = keyFrom(flags.key, '--key', true);
  else if (flags.keyFile !== undefined) key = readKeyFile(flags.keyFile, cwd);
  else if (env.PSARN_KEY !== undefined && env.PSARN_KEY !== '') key = keyFrom(env.PSARN_KEY, 'PSARN_KEY', false);
  return { server, label: serverLabel(server), ...(key === undefined ? {} : { key }) };
}
