/**
 * The client's caller option (docs/design.md#the-caller-map): validated at construction, sent in
 * the OPT of every query the resolver makes (route, `_epoch`), none with `caller: false`.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { afterEach, describe, it } from 'node:test';
import { PsarnClient } from '../../src/client/client.js';
import { PsarnClientError } from '../../src/client/errors.js';
import { type ResolverOptions, RouteResolver } from '../../src/client/resolver.js';
import { resolveCaller } from '../../src/client/resolver-options.js';
import { CALLER_OPTION } from '../../src/wire/caller.js';
import { decodeMessage } from '../../src/wire/message.js';
import { fakeDns, LAMBDA, manualClock, PSARN, routeTxt, txt, uri, ZONE } from './fake-dns.js';

/** A resolver over a fake server that answers a route, remembering each query's caller option. */
function setup(options: ResolverOptions) {
  const sent: { name: string; caller: string | undefined; options: number }[] = [];
  const fake = fakeDns(({ name }) =>
    name.startsWith('_epoch.')
      ? { answer: [txt(name, 5, 'epoch=0')] }
      : { answer: [uri(name, 60, 10, 1, `${LAMBDA}v1`)], additional: [routeTxt(name, 60, 'weighted', 0)] },
  );
  const clock = manualClock();
  const resolver = new RouteResolver({
    servers: ['127.0.0.1:1'],
    now: clock.now,
    exchange: (server, query) => {
      const options = decodeMessage(query).edns?.options ?? [];
      const caller = options.find((o) => o.code === CALLER_OPTION)?.data.toString('latin1');
      sent.push({ name: decodeMessage(query).question[0]!.name, caller, options: options.length });
      return fake.exchange(server, query);
    },
    ...options,
  });
  return { resolver, sent, clock };
}

function invalidOption(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PsarnClientError);
    assert.equal(err.code, 'ERR_INVALID_OPTION');
    assert.match(err.message, pattern);
    return true;
  });
}

describe('the client caller option', () => {
  const saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    else process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
  });

  it('sends the caller in every query: the route and the epoch check', async () => {
    const { resolver, sent, clock } = setup({ caller: 'orders-handler' });
    await resolver.resolve(PSARN);
    clock.advance(6000);
    await resolver.resolve(PSARN);
    assert.ok(
      sent.some((q) => q.name.startsWith('_epoch.')),
      'an epoch query was sent',
    );
    assert.ok(sent.length >= 2);
    for (const q of sent) assert.equal(q.caller, 'orders-handler', q.name);
  });

  it('sends no option at all with caller: false', async () => {
    const { resolver, sent } = setup({ caller: false });
    await resolver.resolve(PSARN);
    assert.deepEqual(
      sent.map((q) => q.options),
      [0],
    );
  });

  it('defaults to AWS_LAMBDA_FUNCTION_NAME, read once at construction', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'orders-created-v1';
    const { resolver, sent } = setup({});
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'changed-later';
    await resolver.resolve(PSARN);
    assert.equal(sent[0]!.caller, 'orders-created-v1');
  });

  it('defaults to the host name outside Lambda', async () => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    const { resolver, sent } = setup({});
    await resolver.resolve(PSARN);
    assert.equal(sent[0]!.caller, resolveCaller(undefined, hostname));
    assert.ok(sent[0]!.caller !== undefined && sent[0]!.caller.length > 0);
  });

  it('cuts a default that is too long to 128 characters, and sends none for one that is not ASCII', () => {
    assert.equal(
      resolveCaller(undefined, () => 'h'.repeat(300)),
      'h'.repeat(128),
    );
    assert.equal(
      resolveCaller(undefined, () => 'hôte'),
      undefined,
    );
    assert.equal(
      resolveCaller(undefined, () => ''),
      undefined,
    );
  });

  it('rejects a bad explicit caller at construction with ERR_INVALID_OPTION', () => {
    invalidOption(() => new RouteResolver({ caller: '' }), /invalid option caller: ''; it is empty/);
    invalidOption(() => new RouteResolver({ caller: 'a'.repeat(129) }), /over 128 bytes/);
    invalidOption(() => new RouteResolver({ caller: 'orders handler' }), /outside visible ASCII/);
    invalidOption(() => new RouteResolver({ caller: 'café' }), /outside visible ASCII/);
    invalidOption(() => new RouteResolver({ caller: 42 as unknown as string }), /invalid option caller: 'number'/);
    invalidOption(() => new PsarnClient({ caller: 'x y' }), /caller/);
    assert.equal(resolveCaller('a'.repeat(128)), 'a'.repeat(128));
  });

  it('the zone of the fixtures is served: the route resolves', async () => {
    const { resolver } = setup({ caller: 'x' });
    const route = await resolver.resolve(PSARN);
    assert.equal(route.targets[0]!.target, `${LAMBDA}v1`);
    assert.ok(ZONE.length > 0);
  });
});
