/**
 * `psarn graph` and `psarn route callers` (docs/design.md#the-graph, #change-confirmation): the
 * map's library functions (src/map/) over the local database, printed. Both read the caller map
 * psarnd persists; neither is served over DNS.
 */
import { printable } from '../../errors.js';
import { routeCallers } from '../../map/confirm.js';
import { renderDot } from '../../map/dot.js';
import { buildGraph } from '../../map/graph.js';
import { renderMermaid } from '../../map/mermaid.js';
import type { CallerState, Graph, RouteCallers } from '../../map/types.js';
import { PsarnError } from '../../psarn/psarn.js';
import { StoreError } from '../../store/types.js';
import type { Command } from '../args.js';
import type { Context } from '../context.js';
import { type CliError, oneLine, usageError } from '../errors.js';
import { table } from '../format.js';
import { locate, notFound } from './route.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

export function graph(cmd: Of<'graph'>, ctx: Context, wallClock: () => number = Date.now): void {
  const store = ctx.openStore();
  let g: Graph;
  try {
    g = buildGraph(store, {
      namespace: ctx.config.namespace,
      now: wallClock(),
      ...(cmd.scope === undefined ? {} : { zone: cmd.scope }),
    });
  } catch (err) {
    if (err instanceof PsarnError) throw usageError(oneLine(err.message), err);
    if (err instanceof StoreError && err.code === 'ERR_ZONE_NOT_FOUND') {
      throw notFound(
        `${oneLine(err.message).replace(/;.*$/, '')} in ${ctx.config.db}; 'psarn route list' shows the routes`,
        err,
      );
    }
    throw err;
  } finally {
    store.close();
  }
  const out = ctx.io.stdout;
  if (cmd.format === 'json') out.write(`${JSON.stringify(g, null, 2)}\n`);
  else out.write(cmd.format === 'mermaid' ? renderMermaid(g) : renderDot(g));
}

export function routeCallersCommand(cmd: Of<'route callers'>, ctx: Context, wallClock: () => number = Date.now): void {
  const at = locate(cmd.psarn, ctx.config.namespace);
  const now = wallClock();
  const store = ctx.openStore();
  let view: RouteCallers;
  try {
    view = routeCallers(store, at.text, { namespace: ctx.config.namespace, epochTtl: ctx.config.epochTtl, now });
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ERR_ROUTE_NOT_FOUND') {
      throw notFound(`route '${at.text}' not found in ${ctx.config.db}; 'psarn route list' shows the routes`, err);
    }
    throw err;
  } finally {
    store.close();
  }
  ctx.io.stdout.write(cmd.json ? `${JSON.stringify(view, null, 2)}\n` : formatRouteCallers(view, now));
}

/** `2026-12-03T16:40:05.123Z`: UTC, as `route history` shows times. */
const utc = (ms: number) => new Date(ms).toISOString();

/** The STATUS column: `current`, `old until <time>`, or `old, expired — refetches on its next call`. */
export function callerStatus(c: CallerState, now: number): string {
  if (c.current) return 'current';
  if (c.holdsUntil !== undefined && c.holdsUntil > now) return `old until ${utc(c.holdsUntil)}`;
  return 'old, expired — refetches on its next call';
}

/** The VIA column: who saw its lookups. */
const via = (c: CallerState) => c.reporters.map((r) => (r === '' ? 'this psarnd' : printable(r))).join(', ');

/** `psarn route callers`: a header, a table of callers (ids made printable: they are untrusted), a summary. */
export function formatRouteCallers(v: RouteCallers, now: number): string {
  const flushed = v.currentSerial !== v.serial ? ' (a flush, hold or release of the zone came after the change)' : '';
  const lines = [`${v.psarn}: route serial ${v.serial}, current serial ${v.currentSerial}${flushed}, ttl ${v.ttl}s`];
  if (v.callers.length === 0) {
    lines.push('no caller of this route seen yet (callers name themselves in their lookups: docs/client.md)');
  } else {
    lines.push(
      ...table([
        ['CALLER', 'SERIAL', 'LAST SEEN (UTC)', 'STATUS', 'VIA'],
        ...v.callers.map((c) => [printable(c.caller), String(c.serial), utc(c.lastSeen), callerStatus(c, now), via(c)]),
      ]),
    );
  }
  const current = v.callers.filter((c) => c.current).length;
  const m = v.callers.length;
  lines.push(
    `${current} of ${m} caller${m === 1 ? '' : 's'} ${current === 1 ? 'has' : 'have'} serial ${v.currentSerial}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `--server` with graph or route callers: refused (the caller map is not served over DNS), with what to do. */
export function remoteMapRefusal(kind: 'graph' | 'route callers', server: string): CliError {
  const api = kind === 'graph' ? '/api/v1/graph' : '/api/v1/callers?psarn=<psARN>';
  return usageError(
    `psarn ${kind} reads the caller map in the database, which psarnd does not serve over DNS (--server ${server}); run it where the database is, with --db FILE, or read the web console's JSON API: GET http://<psarnd http address>${api} with Authorization: Bearer <httpToken>`,
  );
}
