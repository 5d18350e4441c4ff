/**
 * The handler's cost per query, in process (no sockets): a URI question of a route from the
 * route index and an SOA from the answer cache, each without EDNS, with EDNS and no option (the
 * common query: what the EDNS options of issue 10 must not slow down), and with a COOKIE or an
 * NSID option. `node dist/bench/handler-hot-path.js [OTHER_ROOT]`; not part of `npm test` nor
 * `npm run bench`. Given the root of another built checkout (e.g. main's), both handlers run in
 * this one process, rounds alternating, so that a busy machine slows both alike. Prints ns per
 * query: the fastest of 41 rounds of 20k queries (the least disturbed), for each checkout.
 * Compare both ways round: the checkout the script runs from measures 3–6% slower than the other
 * one, whichever it is (measured 2026-12-03: 862987d against main, run from each; the lean
 * follows the runner, not the code), so a difference smaller than that is this harness's.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { encodeQuery } from '../src/wire/message.js';
import { Type } from '../src/wire/types.js';
import { zoneHead } from '../test/helpers/fixtures.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';
type Handler = { handleInto(q: Buffer, p: 'udp', out: Buffer, at: number, peer?: string): number };

/** A handler (route index, answer cache, NSID, cookies) built from the dist of the checkout at `root`. */
async function handlerOf(root: string): Promise<Handler> {
  const load = (path: string) => import(pathToFileURL(resolve(root, 'dist', path)).href);
  const { QueryHandler } = await load('src/server/handler.js');
  const { DaemonMetrics } = await load('src/server/metrics.js');
  const { AnswerCache } = await load('src/zone/cache.js');
  const { RouteIndex } = await load('src/zone/route-index.js');
  const { MemoryView } = await load('test/helpers/memory-view.js');
  const view = new MemoryView(`${zoneHead(Z)}
created.orders 300 IN URI 10 90 "${LAMBDA}v1"
created.orders 300 IN URI 10 10 "${LAMBDA}v2"
`);
  const index = new RouteIndex();
  for (const zone of view.zones.values()) {
    index.setZone(zone.name, zone.epoch);
    for (const [path, route] of view.routes.get(zone.name)!) index.set(zone.name, path, route);
  }
  return new QueryHandler({
    view,
    cache: new AnswerCache(),
    routes: { index },
    metrics: new DaemonMetrics({ defaultMetrics: false }),
    log: pino({ level: 'silent' }),
    udpPayloadSize: 1232,
    nsid: Buffer.from('sidecar-1'),
    cookieSecret: Buffer.alloc(16, 7),
  });
}

/** encodeQuery's OPT is last with RDLENGTH 0: append one option. */
function withOption(query: Buffer, code: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(code, 0);
  head.writeUInt16BE(data.length, 2);
  const out = Buffer.concat([query, head, data]);
  out.writeUInt16BE(4 + data.length, query.length - 2);
  return out;
}

const route = (edns: false | object) =>
  encodeQuery({ id: 1, name: `created.orders.${Z}`, qtype: Type.URI, edns: edns as false });
const soa = (edns: false | object) => encodeQuery({ id: 1, name: Z, qtype: Type.SOA, edns: edns as false });
const cases: [string, Buffer][] = [
  ['index URI, no EDNS', route(false)],
  ['index URI, EDNS', route({ udpSize: 1232 })],
  ['index URI, EDNS + COOKIE', withOption(route({ udpSize: 1232 }), 10, Buffer.alloc(8, 1))],
  ['index URI, EDNS + NSID', withOption(route({ udpSize: 1232 }), 3, Buffer.alloc(0))],
  ['cache SOA, no EDNS', soa(false)],
  ['cache SOA, EDNS', soa({ udpSize: 1232 })],
];

const here = resolve(import.meta.dirname, '../..');
const roots = [here, ...process.argv.slice(2).map((r) => resolve(r))];
const handlers = await Promise.all(roots.map(handlerOf));
const out = Buffer.alloc(65536);
const N = 20_000;
const ROUNDS = 41;
// Warm-up: every case through every handler, so the JIT has seen them all before any round counts.
for (const [, query] of cases)
  for (const handler of handlers) for (let i = 0; i < N; i++) handler.handleInto(query, 'udp', out, 0, '192.0.2.1');
console.log(`${''.padEnd(28)} ${roots.map((r) => r.slice(-24).padStart(24)).join(' ')}`);
for (const [name, query] of cases) {
  const best = handlers.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < ROUNDS; r++) {
    // Each round in the other order: neither checkout always runs first.
    const order = r % 2 === 0 ? handlers.map((_, h) => h) : handlers.map((_, h) => handlers.length - 1 - h);
    for (const h of order) {
      const handler = handlers[h]!;
      const start = process.hrtime.bigint();
      for (let i = 0; i < N; i++) handler.handleInto(query, 'udp', out, 0, '192.0.2.1');
      best[h] = Math.min(best[h]!, Number(process.hrtime.bigint() - start) / N);
    }
  }
  console.log(`${name.padEnd(28)} ${best.map((ns) => `${ns.toFixed(0)} ns`.padStart(24)).join(' ')}`);
}
