/**
 * RouteResolver against the real psarnd (demo routes loaded): the demo routes, single-flight,
 * the epoch override after a CLI change + `psarn flush`, and serve-stale once the daemon is gone.
 * Time is the injected clock; the only real waits are for the daemon to pick up a CLI write.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RouteResolver } from '../../src/client/resolver.js';
import type { Route } from '../../src/client/types.js';
import { Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';
import { manualClock, ZONE } from './fake-dns.js';

const ARN = 'arn:aws:psarn:us-east-1:123456789012:';
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:';

const targets = (r: Route) => r.targets.map((t) => [t.target, t.weight, t.priority]);

/** Polls the daemon (bounded) until `check` holds: the daemon picks CLI writes up within 100 ms. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`the daemon did not serve ${what} within 2 s`);
}

describe('RouteResolver against psarnd', () => {
  let d: RunningDaemon;
  const clock = manualClock();
  let resolver: RouteResolver;
  const cli = (...args: string[]) => cliOn(d, ...args);

  before(async () => {
    d = await startPsarnd();
    resolver = new RouteResolver({
      servers: [`${d.dns.host}:${d.dns.port}`],
      now: clock.now,
      timeoutMs: 300,
      tries: 1,
      epochTtl: 5,
    });
  });
  after(async () => {
    await d?.stop();
  });

  it('resolves the demo routes', async () => {
    const created = await resolver.resolve(`${ARN}orders/created`);
    assert.equal(created.policy, 'weighted');
    assert.equal(created.ttl, 300);
    assert.deepEqual(targets(created), [
      [`${FN}orders-created-v1`, 90, 10],
      [`${FN}orders-created-v2`, 10, 10],
    ]);
    const audit = await resolver.resolve(`${ARN}orders/audit`);
    assert.equal(audit.policy, 'fanout');
    assert.deepEqual(targets(audit), [
      ['arn:aws:sqs:us-east-1:123456789012:orders-audit', 1, 10],
      ['arn:aws:sns:us-east-1:123456789012:orders-audit', 1, 10],
    ]);
    const charge = await resolver.resolve(`${ARN}payments/charge`);
    assert.deepEqual(targets(charge), [
      [`${FN}payments-charge`, 1, 10],
      [`${FN}payments-charge-backup`, 1, 20],
    ]);
    const latest = await resolver.resolve(`${ARN}orders/latest`);
    assert.equal(latest.name, `latest.orders.${ZONE}`);
    assert.equal(latest.psarn, `${ARN}orders/latest`);
    assert.deepEqual(targets(latest), targets(created));
    await assert.rejects(resolver.resolve(`${ARN}orders/nothing`), { code: 'ERR_ROUTE_NOT_FOUND' });
    await assert.rejects(resolver.resolve('arn:aws:psarn:us-east-1:999999999999:a/b'), { code: 'ERR_BAD_ANSWER' });
  });

  it('100 concurrent misses send one query', async () => {
    const r = new RouteResolver({ servers: [`${d.dns.host}:${d.dns.port}`] });
    const all = await Promise.all(Array.from({ length: 100 }, () => r.resolve(`${ARN}orders/created`)));
    assert.equal(r.queries, 1);
    for (const route of all) assert.equal(route.targets.length, 2);
  });

  it('a CLI change plus psarn flush overrides a 3600 s TTL after epochTtl', async () => {
    const psarn = `${ARN}epoch/test`;
    const name = `test.epoch.${ZONE}`;
    await cli('route', 'set', psarn, '--target', `${FN}old`, '--ttl', '3600');
    await until(async () => (await query(d.dns, name, Type.URI)).answer.length > 0, 'the new route');
    const first = await resolver.resolve(psarn);
    assert.equal(first.ttl, 3600);
    assert.deepEqual(targets(first), [[`${FN}old`, 1, 10]]);

    await cli('route', 'set', psarn, '--target', `${FN}new=5`, '--ttl', '3600');
    await cli('flush', psarn);
    const epochNow = async () => {
      const rr = (await query(d.dns, `_epoch.${ZONE}`, Type.TXT)).answer[0];
      return rr && 'strings' in rr ? Number(rr.strings[0]!.slice('epoch='.length)) : -1;
    };
    await until(async () => (await epochNow()) > first.epoch, 'the flushed epoch');

    const sent = resolver.queries;
    clock.advance(4999);
    assert.deepEqual(targets(await resolver.resolve(psarn)), [[`${FN}old`, 1, 10]], 'cached before epochTtl');
    assert.equal(resolver.queries, sent);
    clock.advance(1);
    const next = await resolver.resolve(psarn);
    assert.deepEqual(targets(next), [[`${FN}new`, 5, 10]]);
    assert.ok(next.epoch > first.epoch);
    assert.equal(resolver.queries, sent + 2, '_epoch then the route');
  });

  it('serves the last route stale once the daemon is gone', async () => {
    const r = await resolver.resolve(`${ARN}orders/created`);
    await d.stop();
    clock.advance(r.expiresAt - clock.t + 1000);
    const stale = await resolver.resolve(`${ARN}orders/created`);
    assert.equal(stale.stale, true);
    assert.deepEqual(targets(stale), targets(r));
    await assert.rejects(resolver.resolve(`${ARN}never/seen`), { code: 'ERR_NO_SERVER' });
  });
});
