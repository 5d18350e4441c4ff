/**
 * `psarn resolve` and `psarn invoke`: the client library (docs/design.md#client-library) from the command line.
 * resolve shows the route as a caller sees it (cache, TTL, epoch, shares); invoke sends an
 * event through the real built-in invokers, so AWS calls follow the SDK's configuration of the
 * environment (AWS_REGION, the credential chain, AWS_ENDPOINT_URL*).
 *
 * Exit status: 0 done (invoke: some target accepted the event); 1 runtime failure (route not
 * found, no server answered, every target failed); 2 bad input.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { InvokeResult, TargetOutcome } from '../../client/client.js';
import { PsarnClient } from '../../client/client.js';
import { type ClientErrorCode, PsarnClientError } from '../../client/errors.js';
import { InvokerError } from '../../client/invokers/errors.js';
import type { InvokeResponse } from '../../client/invokers/invoker.js';
import { parseArn } from '../../client/invokers/invoker.js';
import { formatServer, type ServerAddress } from '../../client/transport.js';
import type { Route } from '../../client/types.js';
import { ECHO_LONG, echo, quote } from '../../errors.js';
import { edgeShares } from '../../map/shares.js';
import { formatPsarn } from '../../psarn/psarn.js';
import type { Command, PayloadArg } from '../args.js';
import type { Context } from '../context.js';
import { CliError, lookupFailure, oneLine, usageError } from '../errors.js';
import { table } from '../format.js';
import { formatShare } from '../shares.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

/** What each error code means, for the one-line message. */
const MEANING: Record<ClientErrorCode, string> = {
  ERR_INVALID_PSARN: 'invalid psARN',
  ERR_ROUTE_NOT_FOUND: 'route not found',
  ERR_NO_SERVER: 'no server answered',
  ERR_SERVER_LOOKUP: 'server not found',
  ERR_BAD_ANSWER: 'unusable answer',
  ERR_ALL_TARGETS_FAILED: 'not delivered',
  ERR_NO_INVOKER: 'no invoker for a target',
  ERR_INVALID_OPTION: 'invalid option',
};

/** A PsarnClientError as one CLI line: exit 2 for bad input, 1 for everything else. */
function clientError(err: unknown, server: ServerAddress, psarn: string): unknown {
  if (!(err instanceof PsarnClientError)) return err;
  let detail = oneLine(err.message);
  if (err.code === 'ERR_NO_SERVER') {
    // Say it the way `psarn dig` does: which server, what happened, what to check.
    const cause = err.cause instanceof Error ? oneLine(err.cause.message) : detail;
    detail = `${formatServer(server)} did not answer for ${psarn}: ${cause}; is psarnd running there? (see @HOST[:PORT])`;
  } else if (err.code === 'ERR_SERVER_LOOKUP') {
    detail = lookupFailure(server.host, err.cause);
  }
  const message = `${MEANING[err.code]} (${err.code}): ${detail}`;
  if (err.code === 'ERR_INVALID_PSARN' || err.code === 'ERR_INVALID_OPTION') return usageError(message, err);
  return new CliError(err.code === 'ERR_ROUTE_NOT_FOUND' ? 'ERR_NOT_FOUND' : 'ERR_RUNTIME', message, { cause: err });
}

function clientFor(cmd: Of<'resolve'> | Of<'invoke'>, ctx: Context): { client: PsarnClient; server: ServerAddress } {
  const server = { host: cmd.server?.host ?? ctx.config.listen.host, port: cmd.server?.port ?? ctx.config.listen.port };
  const client = new PsarnClient({ servers: [server], namespace: ctx.config.namespace, epochTtl: ctx.config.epochTtl });
  return { client, server };
}

/** The text of `psarn resolve`. Pure. */
export function formatResolved(route: Route, extra: { cache: string; queries: number; server: string }): string {
  const lines = table([
    ['psARN:', route.psarn],
    ['name:', route.name],
    ['policy:', route.policy],
    ['ttl:', String(route.ttl)],
    ['epoch:', String(route.epoch)],
    ['expires:', new Date(route.expiresAt).toISOString()],
    ['stale:', String(route.stale)],
    ['cache:', extra.cache],
    ['queries:', String(extra.queries)],
    ['server:', extra.server],
  ]);
  const shares = edgeShares(route.policy, route.targets);
  lines.push('targets:');
  const rows = [
    ['priority', 'weight', 'share', 'target'],
    ...route.targets.map((t, i) => [String(t.priority), String(t.weight), formatShare(shares[i]!), t.target]),
  ];
  lines.push(...table(rows).map((l) => `  ${l}`));
  return `${lines.join('\n')}\n`;
}

/** The route, or the resolve error as the CLI's one-line error. */
async function resolveOrExplain(client: PsarnClient, server: ServerAddress, psarn: string): Promise<Route> {
  try {
    return await client.resolve(psarn);
  } catch (err) {
    throw clientError(err, server, psarn);
  }
}

export async function resolveCommand(cmd: Of<'resolve'>, ctx: Context): Promise<void> {
  const psarn = formatPsarn(cmd.psarn);
  const { client, server } = clientFor(cmd, ctx);
  const route = await resolveOrExplain(client, server, psarn);
  const cache = client.resolver.cacheState(psarn);
  const queries = client.resolver.queries;
  ctx.io.stdout.write(
    cmd.json
      ? `${JSON.stringify({ ...route, cache, queries }, null, 2)}\n`
      : formatResolved(route, { cache, queries, server: formatServer(server) }),
  );
}

/** The event: `--payload` JSON, or a file's contents (JSON when it parses, else the text). */
export async function loadPayload(arg: PayloadArg, cwd: string): Promise<unknown> {
  if ('json' in arg) return arg.json;
  let text: string;
  try {
    text = await readFile(resolvePath(cwd, arg.file), 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw usageError(
      `cannot read --payload file ${quote(arg.file, ECHO_LONG)}: ${e.code ?? echo(oneLine(e.message), ECHO_LONG)}`,
      err,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** One target's outcome, flattened for printing: errors as messages. */
export interface OutcomeView {
  target: string;
  service: string;
  ok: boolean;
  response?: InvokeResponse;
  error?: string;
  code?: string;
}

/** The invoker's name of a target, for failures the client lists without one. */
function serviceOf(target: string, error: Error): string {
  if (error instanceof InvokerError) return error.service;
  if (error instanceof PsarnClientError && error.code === 'ERR_NO_INVOKER') return 'none';
  return parseArn(target)?.service ?? (target.startsWith('https://') ? 'https' : 'none');
}

function outcomeView(o: TargetOutcome): OutcomeView {
  if (o.ok) return { target: o.target, service: o.service, ok: true, response: o.response };
  const code = (o.error as { code?: unknown }).code;
  return {
    target: o.target,
    service: o.service,
    ok: false,
    error: oneLine(o.error.message),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/** `ok     lambda  arn:...  (status 200)` / `error  sqs     arn:...  <message>`. Pure. */
export function formatOutcome(o: OutcomeView): string {
  const head = `${(o.ok ? 'ok' : 'error').padEnd(5)}  ${o.service.padEnd(6)}  ${o.target}`;
  if (!o.ok) return `${head}  ${o.error ?? ''}\n`;
  const parts = [
    ...(o.response?.id !== undefined ? [`id ${o.response.id}`] : []),
    ...(o.response?.statusCode !== undefined ? [`status ${o.response.statusCode}`] : []),
  ];
  return parts.length > 0 ? `${head}  (${parts.join(', ')})\n` : `${head}\n`;
}

/** The summary line after the outcomes. Pure. */
export function formatSummary(view: InvokeView): string {
  const ok = view.outcomes.filter((o) => o.ok).length;
  const n = view.outcomes.length;
  const what = view.delivered ? 'delivered' : 'not delivered';
  return `${what}: ${ok} of ${n} ${n === 1 ? 'target' : 'targets'} accepted the event (policy ${view.policy}, stale ${view.stale})\n`;
}

/** What `invoke --json` prints: the InvokeResult with errors as messages, and `delivered`. */
export interface InvokeView {
  psarn: string;
  policy: Route['policy'];
  stale: boolean;
  delivered: boolean;
  outcomes: OutcomeView[];
}

export async function invokeCommand(cmd: Of<'invoke'>, ctx: Context): Promise<void> {
  const psarn = formatPsarn(cmd.psarn);
  const payload = await loadPayload(cmd.payload, ctx.io.cwd);
  const { client, server } = clientFor(cmd, ctx);
  // Resolve first (the invoke then hits the cache): the summary needs the policy and staleness
  // even when every target fails, and a resolve error is reported as such.
  const route = await resolveOrExplain(client, server, psarn);
  let view: InvokeView;
  let failure: PsarnClientError | undefined;
  try {
    const result: InvokeResult = await client.invoke(psarn, payload, {
      ...(cmd.event ? { invocationType: 'Event' as const } : {}),
      ...(cmd.stickyKey !== undefined ? { key: cmd.stickyKey } : {}),
    });
    view = {
      psarn: result.psarn,
      policy: result.policy,
      stale: result.stale,
      delivered: true,
      outcomes: result.outcomes.map(outcomeView),
    };
  } catch (err) {
    if (!(err instanceof PsarnClientError && err.code === 'ERR_ALL_TARGETS_FAILED'))
      throw clientError(err, server, psarn);
    failure = err;
    view = {
      psarn: route.psarn,
      policy: route.policy,
      stale: route.stale,
      delivered: false,
      outcomes: err.failures.map((f) =>
        outcomeView({ target: f.target, service: serviceOf(f.target, f.error), ok: false, error: f.error }),
      ),
    };
  }
  ctx.io.stdout.write(
    cmd.json
      ? `${JSON.stringify(view, null, 2)}\n`
      : `${view.outcomes.map(formatOutcome).join('')}${formatSummary(view)}`,
  );
  if (failure !== undefined) {
    const why =
      failure.failures.length === 0
        ? oneLine(failure.message)
        : `every target tried failed; the failures are listed on stdout`;
    throw new CliError('ERR_RUNTIME', `not delivered to ${psarn} (ERR_ALL_TARGETS_FAILED): ${why}`, {
      cause: failure,
    });
  }
}
