/**
 * RouteResolver against a fake server function (no sockets) and a hand-moved clock: TTL expiry,
 * clamps, negative caching, CNAMEs, serve-stale, failover, single-flight, the epoch override.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PsarnClientError } from '../../src/client/errors.js';
import { ClientMetrics } from '../../src/client/metrics.js';
import { type ResolverOptions, RouteResolver } from '../../src/client/resolver.js';
import { TransportError } from '../../src/client/transport.js';
import { Rcode, Type } from '../../src/wire/types.js';
import {
  cname,
  fakeDns,
  type Handler,
  LAMBDA,
  manualClock,
  NAME,
  PSARN,
  routeTxt,
  type Sections,
  soa,
  txt,
  uri,
  ZONE,
} from './fake-dns.js';

const V1 = `${LAMBDA}orders-created-v1`;
const V2 = `${LAMBDA}orders-created-v2`;
const V3 = `${LAMBDA}orders-created-v3`;
const AUDIT = 'arn:aws:psarn:us-east-1:123456789012:orders/audit';
const AUDIT_NAME = `audit.orders.${ZONE}`;

/** A route reply at `name`: URI records with their TXT in additional, as psarnd answers. */
function route(name: string, ttl: number, epoch: number, ...targets: string[]): Sections {
  return {
    answer: targets.map((t, i) => uri(name, ttl, 10, i === 0 ? 90 : 10, t)),
    additional: [routeTxt(name, ttl, 'weighted', epoch)],
  };
}

function setup(handler: Handler, options: ResolverOptions = {}) {
  const fake = fakeDns(handler);
  const clock = manualClock();
  const registry = new Registry();
  const metrics = new ClientMetrics(registry);
  const resolver = new RouteResolver({
    servers: ['127.0.0.1:1'],
    now: clock.now,
    metrics,
    exchange: fake.exchange,
    ...options,
  });
  return { fake, clock, resolver, metrics };
}

async function rejects(p: Promise<unknown>, code: string): Promise<PsarnClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PsarnClientError, `not a PsarnClientError: ${err}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** What prom-client's metric objects give (ClientMetrics types them structurally, without `get`). */
type Gettable = {
  get(): Promise<{ values: { labels: Record<string, unknown>; value: number; metricName?: string }[] }>;
};

async function counter(c: unknown) {
  const out: Record<string, number> = {};
  for (const v of (await (c as Gettable).get()).values) out[String(Object.values(v.labels)[0] ?? '')] = v.value;
  return out;
}

describe('RouteResolver: answers and TTL', () => {
  it('resolves a route: targets in order, policy, epoch, TTL, expiry; one URI query', async () => {
    const { resolver, fake, clock } = setup(() => route(NAME, 300, 4, V1, V2));
    const r = await resolver.resolve('arn:aws:psarn:us-east-1:123456789012:Orders/Created');
    assert.deepEqual(r, {
      psarn: PSARN,
      name: NAME,
      policy: 'weighted',
      ttl: 300,
      expiresAt: clock.t + 300_000,
      epoch: 4,
      stale: false,
      targets: [
        { target: V1, priority: 10, weight: 90 },
        { target: V2, priority: 10, weight: 10 },
      ],
    });
    assert.deepEqual(
      fake.calls.map((c) => [c.server, c.name, c.qtype]),
      [['127.0.0.1:1', NAME, Type.URI]],
    );
    assert.equal(resolver.queries, 1);
  });

  it('serves from the cache until exactly expiresAt, then asks again', async () => {
    const { resolver, fake, clock } = setup(() => route(NAME, 300, 1, V1), { epochTtl: 86400 });
    await resolver.resolve(PSARN);
    clock.advance(299_999);
    assert.equal((await resolver.resolve(PSARN)).stale, false);
    assert.equal(resolver.cacheState(PSARN), 'fresh');
    assert.equal(fake.calls.length, 1);
    clock.advance(1);
    assert.equal(resolver.cacheState(PSARN), 'stale');
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 2);
  });

  it('a cached route is frozen: no caller can change what the others see', async () => {
    const { resolver } = setup(() => route(NAME, 300, 1, V1));
    const a = await resolver.resolve(PSARN);
    assert.throws(() => {
      a.targets[0]!.weight = 0;
    }, TypeError);
    assert.throws(() => a.targets.pop(), TypeError);
    assert.throws(() => {
      a.stale = true;
    }, TypeError);
    const b = await resolver.resolve(PSARN);
    assert.equal(b, a, 'a hit hands out the cached object, no copy');
    assert.deepEqual(b.targets, [{ target: V1, priority: 10, weight: 90 }]);
  });

  it('clamps the TTL to minTtl and maxTtl', async () => {
    const { resolver, fake, clock } = setup(() => route(NAME, 5, 1, V1), { minTtl: 60, maxTtl: 120, epochTtl: 86400 });
    assert.equal((await resolver.resolve(PSARN)).ttl, 60);
    clock.advance(59_999);
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 1);
    clock.advance(1);
    fake.handler = () => route(NAME, 100_000, 1, V1);
    const r = await resolver.resolve(PSARN);
    assert.equal(r.ttl, 120);
    assert.equal(r.expiresAt, clock.t + 120_000);
  });

  it('follows a CNAME chain in the reply to the final targets', async () => {
    const latest = `latest.orders.${ZONE}`;
    const { resolver } = setup(({ name }) => {
      assert.equal(name, latest);
      return {
        answer: [cname(latest, 100, NAME), uri(NAME, 300, 10, 1, V1)],
        additional: [routeTxt(NAME, 300, 'fanout', 2)],
      };
    });
    const r = await resolver.resolve('arn:aws:psarn:us-east-1:123456789012:orders/latest');
    assert.equal(r.name, latest);
    assert.equal(r.policy, 'fanout');
    assert.equal(r.ttl, 100);
    assert.deepEqual(r.targets, [{ target: V1, priority: 10, weight: 1 }]);
  });

  it('a TTL >= 2^31 is not cached for 48 h but treated as 0 (RFC 2181 §8)', async () => {
    const { resolver, fake } = setup(() => route(NAME, 2 ** 31, 1, V1));
    const r = await resolver.resolve(PSARN);
    assert.equal(r.ttl, 0);
    assert.equal(resolver.cacheState(PSARN), 'absent');
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 2);
  });

  it('a TTL >= 2^31 lives minTtl when a minTtl is set', async () => {
    const { resolver, fake, clock } = setup(() => route(NAME, 0xffff_ffff, 1, V1), { minTtl: 10, epochTtl: 86400 });
    assert.equal((await resolver.resolve(PSARN)).ttl, 10);
    clock.advance(10_000);
    assert.equal(resolver.cacheState(PSARN), 'stale');
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 2);
  });

  it('TTL 0: returned, not cached, still single-flighted', async () => {
    const { resolver, fake } = setup(() => route(NAME, 0, 1, V1));
    const all = await Promise.all(Array.from({ length: 10 }, () => resolver.resolve(PSARN)));
    assert.equal(fake.calls.length, 1);
    assert.ok(all.every((r) => r.ttl === 0 && r.targets[0]!.target === V1));
    assert.equal(resolver.cacheState(PSARN), 'absent');
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 2);
  });
});

describe('RouteResolver: negative answers', () => {
  it('NXDOMAIN is cached for min(SOA TTL, MINIMUM), then asked again', async () => {
    const { resolver, fake, clock } = setup(() => ({ rcode: Rcode.NXDOMAIN, authority: [soa(ZONE, 3600, 30)] }), {
      epochTtl: 86400,
    });
    const err = await rejects(resolver.resolve(PSARN), 'ERR_ROUTE_NOT_FOUND');
    assert.equal(err.psarn, PSARN);
    assert.match(err.message, /NXDOMAIN/);
    clock.advance(29_999);
    assert.equal(resolver.cacheState(PSARN), 'negative');
    await rejects(resolver.resolve(PSARN), 'ERR_ROUTE_NOT_FOUND');
    assert.equal(fake.calls.length, 1);
    clock.advance(1);
    assert.equal(resolver.cacheState(PSARN), 'expired');
    fake.handler = () => route(NAME, 300, 1, V1);
    assert.equal((await resolver.resolve(PSARN)).targets[0]!.target, V1);
    assert.equal(fake.calls.length, 2);
  });

  it('NODATA is negative as well', async () => {
    const { resolver, fake } = setup(() => ({ authority: [soa(ZONE, 3600, 45)] }));
    const err = await rejects(resolver.resolve(PSARN), 'ERR_ROUTE_NOT_FOUND');
    assert.match(err.message, /NODATA/);
    await rejects(resolver.resolve(PSARN), 'ERR_ROUTE_NOT_FOUND');
    assert.equal(fake.calls.length, 1);
  });

  it('a negative answer without SOA is not cached', async () => {
    const { resolver, fake } = setup(() => ({ rcode: Rcode.NXDOMAIN }));
    await rejects(resolver.resolve(PSARN), 'ERR_ROUTE_NOT_FOUND');
    await rejects(resolver.resolve(PSARN), 'ERR_ROUTE_NOT_FOUND');
    assert.equal(fake.calls.length, 2);
  });

  it('REFUSED is ERR_BAD_ANSWER, not cached, and not answered from stale', async () => {
    const { resolver, fake, clock } = setup(() => route(NAME, 60, 1, V1));
    await resolver.resolve(PSARN);
    clock.advance(60_000);
    fake.handler = () => ({ rcode: Rcode.REFUSED });
    const err = await rejects(resolver.resolve(PSARN), 'ERR_BAD_ANSWER');
    assert.match(err.message, /REFUSED/);
    await rejects(resolver.resolve(PSARN), 'ERR_BAD_ANSWER');
    assert.equal(fake.calls.length, 3);
  });
});

describe('RouteResolver: malformed replies', () => {
  it('a malformed reply from every server is ERR_BAD_ANSWER, not ERR_NO_SERVER, and not answered from stale', async () => {
    const { resolver, fake, clock, metrics } = setup(() => route(NAME, 60, 1, V1), {
      servers: ['10.0.0.1:53', '10.0.0.2:53'],
    });
    await resolver.resolve(PSARN);
    clock.advance(60_000);
    fake.handler = ({ server }) => (server === '10.0.0.1:53' ? 'timeout' : 'malformed');
    const err = await rejects(resolver.resolve(PSARN), 'ERR_BAD_ANSWER');
    assert.match(err.message, /^10\.0\.0\.2#53 gave no usable answer .*not valid UTF-8/);
    assert.ok(err.cause instanceof TransportError && err.cause.code === 'ERR_DNS_MALFORMED');
    assert.deepEqual(await counter(metrics.dnsErrors), { timeout: 1, answer: 1 });
  });

  it('a malformed reply fails over to the next server, which answers', async () => {
    const { resolver, fake } = setup(
      ({ server }) => (server === '10.0.0.1:53' ? 'malformed' : route(NAME, 60, 1, V1)),
      { servers: ['10.0.0.1:53', '10.0.0.2:53'] },
    );
    assert.equal((await resolver.resolve(PSARN)).targets[0]!.target, V1);
    assert.deepEqual(
      fake.calls.map((c) => c.server),
      ['10.0.0.1:53', '10.0.0.2:53'],
    );
  });

  it('a malformed _epoch reply keeps the cache and waits epochTtl before asking again', async () => {
    const { resolver, fake, clock } = setup(() => route(NAME, 300, 1, V1), { epochTtl: 5 });
    await resolver.resolve(PSARN);
    clock.advance(5_000);
    fake.handler = ({ qtype }) => (qtype === Type.TXT ? 'malformed' : route(NAME, 300, 1, V1));
    assert.equal((await resolver.resolve(PSARN)).stale, false);
    assert.equal((await resolver.resolve(PSARN)).stale, false);
    assert.deepEqual(
      fake.calls.map((c) => c.qtype),
      [Type.URI, Type.TXT],
    );
  });
});

describe('RouteResolver: servers by host name (issue 9)', () => {
  /** A lookup from a table; a missing name fails as getaddrinfo does. */
  function lookupOf(table: Record<string, string[]>) {
    const calls: string[] = [];
    const lookup = async (host: string) => {
      calls.push(host);
      const found = table[host];
      if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return found;
    };
    return { lookup, calls, table };
  }

  it('an IP literal server is never looked up, and a name is not looked up at construction', async () => {
    const l = lookupOf({ psarnd: ['172.18.0.3'] });
    const { resolver } = setup(() => route(NAME, 60, 1, V1), { lookup: l.lookup });
    await resolver.resolve(PSARN);
    setup(() => route(NAME, 60, 1, V1), { servers: ['psarnd:8053'], lookup: l.lookup });
    assert.deepEqual(l.calls, []);
  });

  it('a name that does not resolve is ERR_SERVER_LOOKUP naming the host, the lookup error as cause', async () => {
    const l = lookupOf({});
    const { resolver, fake, metrics } = setup(() => route(NAME, 60, 1, V1), {
      servers: ['nohost.invalid:8053'],
      lookup: l.lookup,
    });
    const err = await rejects(resolver.resolve(PSARN), 'ERR_SERVER_LOOKUP');
    assert.equal(
      err.message,
      `no server could be asked for psARN '${PSARN}': cannot look up server 'nohost.invalid': ENOTFOUND; check the host name, or give an IP address (servers option)`,
    );
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOTFOUND');
    assert.equal(err.psarn, PSARN);
    assert.equal(fake.calls.length, 0);
    assert.deepEqual(await counter(metrics.dnsErrors), { lookup: 1 });
    // Not remembered: the next call looks up again.
    await rejects(resolver.resolve(PSARN), 'ERR_SERVER_LOOKUP');
    assert.equal(l.calls.length, 2);
  });

  it('a name that does not resolve fails over to the next server', async () => {
    const l = lookupOf({});
    const { resolver, fake } = setup(() => route(NAME, 60, 1, V1), {
      servers: ['nohost.invalid:8053', '10.0.0.2:53'],
      lookup: l.lookup,
    });
    assert.equal((await resolver.resolve(PSARN)).targets[0]!.target, V1);
    assert.deepEqual(
      fake.calls.map((c) => c.server),
      ['10.0.0.2:53'],
    );
  });

  it('each address of a name is tried in order; the one that answered is asked first next time', async () => {
    const l = lookupOf({ localhost: ['::1', '127.0.0.1'] });
    const { resolver, fake, clock } = setup(
      ({ server }) => (server === '::1:8053' ? 'connect' : route(NAME, 30, 1, V1)),
      { servers: ['localhost:8053'], lookup: l.lookup },
    );
    assert.equal((await resolver.resolve(PSARN)).targets[0]!.target, V1);
    clock.advance(30_000); // the route expired, the addresses (60 s) did not
    await resolver.resolve(PSARN);
    assert.deepEqual(
      fake.calls.map((c) => c.server),
      ['::1:8053', '127.0.0.1:8053', '127.0.0.1:8053'],
    );
    assert.deepEqual(l.calls, ['localhost'], 'looked up once');
  });

  it('a sidecar that moved: after every address failed, the name is looked up again; stale meanwhile', async () => {
    const l = lookupOf({ psarnd: ['172.18.0.3'] });
    const { resolver, fake, clock } = setup(() => route(NAME, 30, 1, V1), {
      servers: ['psarnd:8053'],
      lookup: l.lookup,
      staleRefreshMs: 0,
    });
    await resolver.resolve(PSARN);
    clock.advance(30_000); // the route expired, the addresses (60 s) did not
    fake.handler = ({ server }) => (server === '172.18.0.3:8053' ? 'timeout' : route(NAME, 30, 1, V2));
    l.table.psarnd = ['172.18.0.7'];
    const stale = await resolver.resolve(PSARN);
    assert.equal(stale.stale, true);
    assert.equal(stale.targets[0]!.target, V1);
    const fresh = await resolver.resolve(PSARN);
    assert.equal(fresh.stale, false);
    assert.equal(fresh.targets[0]!.target, V2);
    assert.deepEqual(
      fake.calls.map((c) => c.server),
      ['172.18.0.3:8053', '172.18.0.3:8053', '172.18.0.7:8053'],
    );
  });

  it('a lookup option that is not a function is ERR_INVALID_OPTION', () => {
    assert.throws(() => new RouteResolver({ lookup: 'dns' as never }), {
      code: 'ERR_INVALID_OPTION',
      message: /lookup/,
    });
  });
});

describe('RouteResolver: serve-stale (RFC 8767)', () => {
  it('serves stale when no server answers, waits staleRefreshMs before asking again, fails past maxStale', async () => {
    const { resolver, fake, clock, metrics } = setup(() => route(NAME, 60, 1, V1), {
      maxStale: 3600,
      staleRefreshMs: 30_000,
    });
    const fresh = await resolver.resolve(PSARN);
    clock.advance(60_000);
    fake.handler = () => 'timeout';
    const stale = await resolver.resolve(PSARN);
    assert.equal(stale.stale, true);
    assert.deepEqual(stale.targets, fresh.targets);
    assert.equal(stale.expiresAt, fresh.expiresAt);
    assert.equal(fake.calls.length, 2);
    clock.advance(29_999);
    assert.equal((await resolver.resolve(PSARN)).stale, true);
    assert.equal(fake.calls.length, 2, 'no query during staleRefreshMs');
    clock.advance(1);
    assert.equal((await resolver.resolve(PSARN)).stale, true);
    assert.equal(fake.calls.length, 3, 'asked again after staleRefreshMs');
    // The server is back: the route is fresh again.
    clock.advance(30_000);
    fake.handler = () => route(NAME, 60, 1, V2);
    const back = await resolver.resolve(PSARN);
    assert.equal(back.stale, false);
    assert.equal(back.targets[0]!.target, V2);
    // Down again, past expiresAt + maxStale: nothing to serve.
    fake.handler = () => 'connect';
    clock.advance(60_000 + 3600_000);
    assert.equal(resolver.cacheState(PSARN), 'expired');
    const err = await rejects(resolver.resolve(PSARN), 'ERR_NO_SERVER');
    assert.match(err.message, /127\.0\.0\.1#1/);
    assert.ok(err.cause instanceof TransportError);
    assert.equal(resolver.cacheState(PSARN), 'absent');
    assert.deepEqual(await counter(metrics.lookups), { miss: 2, stale: 3 });
    assert.deepEqual(await counter(metrics.dnsErrors), { timeout: 2, connect: 1 });
  });

  it('SERVFAIL counts as no answer: stale is served', async () => {
    const { resolver, fake, clock } = setup(() => route(NAME, 60, 1, V1));
    await resolver.resolve(PSARN);
    clock.advance(61_000);
    fake.handler = () => ({ rcode: Rcode.SERVFAIL });
    assert.equal((await resolver.resolve(PSARN)).stale, true);
  });

  it('no cache and no answer: ERR_NO_SERVER naming every server tried', async () => {
    const { resolver, fake } = setup(() => ({ rcode: Rcode.SERVFAIL }), { servers: ['127.0.0.1:1', '[::1]:2'] });
    const err = await rejects(resolver.resolve(PSARN), 'ERR_NO_SERVER');
    assert.match(err.message, /127\.0\.0\.1#1, ::1#2/);
    assert.equal(fake.calls.length, 2);
  });
});

describe('RouteResolver: servers', () => {
  it('fails over to the second server and starts with it next time', async () => {
    const { resolver, fake } = setup(
      ({ server, name }) => (server === '127.0.0.1:1' ? 'timeout' : route(name, 300, 1, V1)),
      {
        servers: ['127.0.0.1:1', { host: '127.0.0.1', port: 2 }],
      },
    );
    assert.equal((await resolver.resolve(PSARN)).targets[0]!.target, V1);
    await resolver.resolve(AUDIT);
    assert.deepEqual(
      fake.calls.map((c) => c.server),
      ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:2'],
    );
  });

  it('query ids come from the injected random', async () => {
    const values = [0, 0.5, 0.999999999];
    const { resolver, fake } = setup(({ name }) => route(name, 0, 1, V1), { random: () => values.shift()! });
    for (let i = 0; i < 3; i++) await resolver.resolve(PSARN);
    assert.deepEqual(
      fake.calls.map((c) => c.id),
      [1, 32768, 65535],
    );
  });

  it('100 concurrent misses for one psARN send one query and all get the route', async () => {
    const { resolver, fake } = setup(() => route(NAME, 300, 1, V1, V2));
    const all = await Promise.all(Array.from({ length: 100 }, () => resolver.resolve(PSARN)));
    assert.equal(fake.calls.length, 1);
    assert.equal(all.length, 100);
    for (const r of all)
      assert.deepEqual(
        r.targets.map((t) => t.target),
        [V1, V2],
      );
    assert.ok(Object.isFrozen(all[0]) && all.every((r) => r === all[0]), 'one shared, frozen route');
  });

  it('concurrent misses share a failure too', async () => {
    const { resolver, fake } = setup(() => 'timeout');
    const all = await Promise.allSettled(Array.from({ length: 5 }, () => resolver.resolve(PSARN)));
    assert.equal(fake.calls.length, 1);
    assert.ok(all.every((s) => s.status === 'rejected' && (s.reason as PsarnClientError).code === 'ERR_NO_SERVER'));
  });
});

describe('RouteResolver: epoch override (docs/design.md#the-epoch-override)', () => {
  it('re-reads _epoch after epochTtl, drops the zone when it grew, refetches', async () => {
    let epoch = 1;
    let targets = [V1];
    const { resolver, fake, clock, metrics } = setup(({ name, qtype }) =>
      name === `_epoch.${ZONE}` && qtype === Type.TXT
        ? { answer: [txt(name, 5, `epoch=${epoch}`)] }
        : route(name, 3600, epoch, ...targets),
    );
    assert.deepEqual(
      (await resolver.resolve(PSARN)).targets.map((t) => t.target),
      [V1],
    );
    // psarn flush: the epoch grows and the route changes.
    epoch = 2;
    targets = [V3];
    clock.advance(4999);
    assert.deepEqual(
      (await resolver.resolve(PSARN)).targets.map((t) => t.target),
      [V1],
    );
    assert.equal(fake.calls.length, 1, 'no _epoch query before epochTtl');
    clock.advance(1);
    const r = await resolver.resolve(PSARN);
    assert.deepEqual(
      r.targets.map((t) => t.target),
      [V3],
    );
    assert.equal(r.epoch, 2);
    assert.deepEqual(
      fake.calls.slice(1).map((c) => [c.name, c.qtype]),
      [
        [`_epoch.${ZONE}`, Type.TXT],
        [NAME, Type.URI],
      ],
    );
    assert.deepEqual(await counter(metrics.epochFlushes), { '': 1 });
    // Unchanged epoch: one _epoch read per epochTtl, the route stays.
    clock.advance(5000);
    await resolver.resolve(PSARN);
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 4);
    assert.equal(fake.calls[3]!.name, `_epoch.${ZONE}`);
    assert.equal(resolver.cacheState(PSARN), 'fresh');
  });

  it('a psARN never looked at does not trigger an _epoch query', async () => {
    const { resolver, fake, clock } = setup(({ name }) => route(name, 3600, 1, V1));
    await resolver.resolve(PSARN);
    clock.advance(10_000);
    await resolver.resolve(AUDIT);
    assert.deepEqual(
      fake.calls.map((c) => c.name),
      [NAME, AUDIT_NAME],
    );
  });

  it('a route answer under a grown epoch drops the older entries of its zone', async () => {
    let epoch = 1;
    const { resolver, clock, metrics } = setup(({ name }) => route(name, 3600, epoch, V1));
    await resolver.resolve(PSARN);
    epoch = 2;
    clock.advance(1000);
    await resolver.resolve(AUDIT);
    assert.equal(resolver.cacheState(PSARN), 'absent');
    assert.equal(resolver.cacheState(AUDIT), 'fresh');
    assert.deepEqual(await counter(metrics.epochFlushes), { '': 1 });
  });

  it('a failed _epoch read keeps the cache and is retried after staleRefreshMs', async () => {
    const { resolver, fake, clock } = setup(({ name }) => route(name, 3600, 1, V1), { staleRefreshMs: 10_000 });
    await resolver.resolve(PSARN);
    clock.advance(5000);
    fake.handler = () => 'timeout';
    const r = await resolver.resolve(PSARN);
    assert.equal(r.stale, false);
    assert.equal(fake.calls.length, 2);
    clock.advance(9999);
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 2);
    clock.advance(1);
    await resolver.resolve(PSARN);
    assert.equal(fake.calls.length, 3);
    assert.equal(fake.calls[2]!.name, `_epoch.${ZONE}`);
  });

  it('concurrent calls share one _epoch read', async () => {
    const { resolver, fake, clock } = setup(({ name, qtype }) =>
      qtype === Type.TXT ? { answer: [txt(name, 5, 'epoch=1')] } : route(name, 3600, 1, V1),
    );
    await Promise.all([resolver.resolve(PSARN), resolver.resolve(AUDIT)]);
    clock.advance(5000);
    await Promise.all([resolver.resolve(PSARN), resolver.resolve(AUDIT), resolver.resolve(PSARN)]);
    assert.equal(fake.calls.filter((c) => c.qtype === Type.TXT).length, 1);
    assert.equal(fake.calls.length, 3);
  });

  it('a cached NXDOMAIN is dropped by a flush too', async () => {
    let epoch = 1;
    const { resolver, fake, clock } = setup(({ name, qtype }) =>
      qtype === Type.TXT
        ? { answer: [txt(name, 5, `epoch=${epoch}`)] }
        : name === NAME
          ? route(name, 3600, epoch, V1)
          : { rcode: Rcode.NXDOMAIN, authority: [soa(ZONE, 3600, 600)] },
    );
    await resolver.resolve(PSARN);
    await rejects(resolver.resolve(AUDIT), 'ERR_ROUTE_NOT_FOUND');
    epoch = 2;
    clock.advance(5000);
    await resolver.resolve(PSARN);
    assert.equal(resolver.cacheState(AUDIT), 'absent');
    assert.equal(fake.calls.length, 4);
  });
});

describe('RouteResolver: input and options', () => {
  it('an invalid psARN is ERR_INVALID_PSARN, without a query', async () => {
    const { resolver, fake } = setup(() => route(NAME, 300, 1, V1));
    for (const bad of ['arn:aws:psarn:us-east-1:123:orders', 'arn:aws:psarn:us-east-1:123456789012:a.b', '']) {
      const err = await rejects(resolver.resolve(bad), 'ERR_INVALID_PSARN');
      assert.match(err.message, /invalid psARN/);
    }
    assert.throws(() => resolver.cacheState('nope'), { code: 'ERR_INVALID_PSARN' });
    assert.equal(fake.calls.length, 0);
  });

  const invalid: [string, ResolverOptions][] = [
    ['servers', { servers: [] }],
    ['servers[0]', { servers: ['127.0.0.1'] }],
    ['servers[1]', { servers: ['127.0.0.1:53', '127.0.0.1:70000'] }],
    ['servers[0]', { servers: ['::1:53'] }],
    ['servers[0]', { servers: [{ host: '', port: 53 }] }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['tries', { tries: 1.5 }],
    ['minTtl', { minTtl: -1 }],
    ['maxTtl', { minTtl: 100, maxTtl: 10 }],
    ['maxStale', { maxStale: Number.NaN }],
    ['staleRefreshMs', { staleRefreshMs: -5 }],
    ['epochTtl', { epochTtl: 0 }],
    ['maxEntries', { maxEntries: 0 }],
    ['namespace', { namespace: 'bad..name' }],
    ['now', { now: 5 as unknown as () => number }],
    ['random', { random: 'x' as unknown as () => number }],
    ['metrics', { metrics: {} as ClientMetrics }],
  ];
  for (const [option, options] of invalid) {
    it(`rejects a bad ${option} at construction`, () => {
      assert.throws(
        () => new RouteResolver(options),
        (err: unknown) =>
          err instanceof PsarnClientError &&
          err.code === 'ERR_INVALID_OPTION' &&
          err.message.startsWith(`invalid option ${option}:`),
      );
    });
  }

  it('accepts IPv6 and object servers and the defaults', () => {
    new RouteResolver();
    new RouteResolver({ servers: ['[::1]:8053', 'localhost:53', { host: '10.0.0.1', port: 8053 }] });
  });

  it('counts hits, misses and negatives', async () => {
    const { resolver, metrics } = setup(({ name }) =>
      name === NAME ? route(name, 300, 1, V1) : { rcode: Rcode.NXDOMAIN, authority: [soa(ZONE, 60, 60)] },
    );
    await resolver.resolve(PSARN);
    await resolver.resolve(PSARN);
    await resolver.resolve(PSARN);
    await rejects(resolver.resolve(AUDIT), 'ERR_ROUTE_NOT_FOUND');
    await rejects(resolver.resolve(AUDIT), 'ERR_ROUTE_NOT_FOUND');
    assert.deepEqual(await counter(metrics.lookups), { miss: 1, hit: 2, negative: 2 });
    const duration = await (metrics.dnsDuration as unknown as Gettable).get();
    const count = duration.values.find((v) => v.metricName?.endsWith('_count'));
    assert.equal(count?.value, 2);
    assert.equal(count?.labels.transport, 'udp');
  });
});

describe('RouteResolver against a secondary (plain zone data: no TXT in additional, its own CNAME limit)', () => {
  /** A secondary's URI reply: the URIs only. */
  const plain = (name: string, ttl: number, ...targets: string[]): Sections => ({
    answer: targets.map((t, i) => uri(name, ttl, 10, i === 0 ? 90 : 10, t)),
  });

  it('a URI answer without the TXT: one TXT query for the final name, policy and epoch right, cached', async () => {
    const { resolver, fake, clock } = setup(
      ({ name, qtype }) => {
        assert.equal(name, NAME);
        if (qtype === Type.URI) return plain(NAME, 300, V1, V2);
        return { answer: [txt(NAME, 5, 'other=1'), routeTxt(NAME, 120, 'fanout', 4)] };
      },
      { epochTtl: 86400 },
    );
    const r = await resolver.resolve(PSARN);
    assert.deepEqual(
      fake.calls.map((c) => c.qtype),
      [Type.URI, Type.TXT],
    );
    assert.equal(r.policy, 'fanout');
    assert.equal(r.epoch, 4);
    assert.equal(r.ttl, 120, 'the TXT TTL counts, as when it comes in additional');
    assert.deepEqual(
      r.targets.map((t) => t.target),
      [V1, V2],
    );
    clock.advance(119_000);
    assert.equal(await resolver.resolve(PSARN), r);
    assert.equal(fake.calls.length, 2, 'served from the cache: no query');
  });

  it('with the TXT in additional (psarnd): one query, no TXT query', async () => {
    const { resolver, fake } = setup(() => route(NAME, 300, 3, V1));
    assert.equal((await resolver.resolve(PSARN)).epoch, 3);
    assert.equal(fake.calls.length, 1);
  });

  it('100 concurrent misses share the URI and the TXT query', async () => {
    const { resolver, fake } = setup(({ qtype }) =>
      qtype === Type.URI ? plain(NAME, 300, V1) : { answer: [routeTxt(NAME, 300, 'weighted', 2)] },
    );
    const all = await Promise.all(Array.from({ length: 100 }, () => resolver.resolve(PSARN)));
    assert.equal(fake.calls.length, 2);
    for (const r of all) assert.equal(r.epoch, 2);
  });

  it('no route TXT at the name (NODATA): the defaults, as from psarnd without one', async () => {
    const { resolver } = setup(({ qtype }) =>
      qtype === Type.URI ? plain(NAME, 300, V1) : { authority: [soa(ZONE, 3600, 60)] },
    );
    const r = await resolver.resolve(PSARN);
    assert.equal(r.policy, 'weighted');
    assert.equal(r.epoch, 0);
    assert.equal(r.ttl, 300);
  });

  it('the TXT query times out: stale if cached, else ERR_NO_SERVER (never a guessed policy)', async () => {
    let txtDown = true;
    const { resolver, clock } = setup(({ qtype }) => {
      if (qtype === Type.URI) return plain(NAME, 60, V1);
      return txtDown ? 'timeout' : { answer: [routeTxt(NAME, 60, 'fanout', 1)] };
    });
    await rejects(resolver.resolve(PSARN), 'ERR_NO_SERVER');
    assert.equal(resolver.cacheState(PSARN), 'absent');
    txtDown = false;
    const r = await resolver.resolve(PSARN);
    assert.equal(r.policy, 'fanout');
    clock.advance(61_000);
    txtDown = true;
    const stale = await resolver.resolve(PSARN);
    assert.equal(stale.stale, true);
    assert.equal(stale.policy, 'fanout');
  });

  it('a bad route TXT or a REFUSED TXT query is ERR_BAD_ANSWER', async () => {
    let reply: Sections = { answer: [txt(NAME, 60, 'v=psarn1', 'policy=random')] };
    const { resolver } = setup(({ qtype }) => (qtype === Type.URI ? plain(NAME, 60, V1) : reply));
    await rejects(resolver.resolve(PSARN), 'ERR_BAD_ANSWER');
    reply = { rcode: Rcode.REFUSED };
    await rejects(resolver.resolve(PSARN), 'ERR_BAD_ANSWER');
  });

  it('a CNAME chain the server stopped short is continued from the last name', async () => {
    const names = Array.from({ length: 9 }, (_, i) => `a${i}.orders.${ZONE}`);
    const hop = (from: number, to: number) =>
      names.slice(from, to).map((n, i) => cname(n, 50 + i, names[from + i + 1]!));
    const { resolver, fake } = setup(({ name, qtype }) => {
      // Like Knot: follows at most 3 CNAMEs per reply, then stops without the SOA.
      const at = names.indexOf(name);
      if (qtype === Type.TXT) return { answer: [routeTxt(names[8]!, 300, 'fanout', 6)] };
      if (at + 3 >= 8) return { answer: [...hop(at, 8), ...plain(names[8]!, 300, V3).answer!] };
      return { answer: hop(at, at + 3) };
    });
    const r = await resolver.resolve('arn:aws:psarn:us-east-1:123456789012:orders/a0');
    assert.deepEqual(
      fake.calls.map((c) => `${c.name} ${c.qtype}`),
      [`${names[0]} ${Type.URI}`, `${names[3]} ${Type.URI}`, `${names[6]} ${Type.URI}`, `${names[8]} ${Type.TXT}`],
    );
    assert.deepEqual(
      r.targets.map((t) => t.target),
      [V3],
    );
    assert.equal(r.policy, 'fanout');
    assert.equal(r.epoch, 6);
    assert.equal(r.ttl, 50, 'the smallest CNAME TTL of every hop counts');
  });

  it('a continued chain longer than MAX_CNAME_CHAIN in all, or a loop, is ERR_BAD_ANSWER', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `a${i}.orders.${ZONE}`);
    const { resolver, fake } = setup(({ name }) => {
      const at = names.indexOf(name);
      return { answer: [cname(name, 60, names[at + 1]!)] };
    });
    const err = await rejects(resolver.resolve('arn:aws:psarn:us-east-1:123456789012:orders/a0'), 'ERR_BAD_ANSWER');
    assert.match(err.message, /longer than 8/);
    assert.equal(fake.calls.length, 9);
    const a = `a.orders.${ZONE}`;
    const b = `b.orders.${ZONE}`;
    const loop = setup(({ name }) => ({ answer: [cname(name, 60, name === a ? b : a)] }));
    const e2 = await rejects(loop.resolver.resolve('arn:aws:psarn:us-east-1:123456789012:orders/a'), 'ERR_BAD_ANSWER');
    assert.match(e2.message, /CNAME loop/);
    assert.equal(loop.fake.calls.length, 2);
  });
});
