/**
 * Servers given by host name (issue 9: `servers: ['nohost.invalid:8053']` failed with
 * ERR_SOCKET_BAD_PORT, and a crash in `psarn dig`): looked up lazily, both families, cached,
 * looked up again after a failure; a failed lookup is ERR_SERVER_LOOKUP naming the host.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PsarnClientError } from '../../src/client/errors.js';
import { LOOKUP_MAX_AGE_MS, lookupServer, ServerEndpoints, systemLookup } from '../../src/client/server-lookup.js';
import { manualClock } from './fake-dns.js';

/** A lookup that answers from a table (or fails) and counts its calls. */
function fakeLookup(table: Record<string, readonly string[] | Error>) {
  const calls: string[] = [];
  const lookup = async (host: string) => {
    calls.push(host);
    await Promise.resolve();
    const out = table[host];
    if (out === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    if (out instanceof Error) throw out;
    return out;
  };
  return { lookup, calls, table };
}

function endpoints(host: string, lookup: ReturnType<typeof fakeLookup>, clock = manualClock()) {
  const opened: string[] = [];
  const closed: string[] = [];
  const e = new ServerEndpoints<string>(
    { host, port: 8053 },
    {
      lookup: lookup.lookup,
      now: clock.now,
      open: (a) => {
        opened.push(a.host);
        return `channel ${a.host}`;
      },
      close: (c) => closed.push(c),
    },
  );
  const hosts = async () => (await e.endpoints()).map((x) => x.address.host);
  return { e, opened, closed, clock, hosts };
}

describe('lookupServer', () => {
  it('an IP literal is never looked up', async () => {
    const l = fakeLookup({});
    assert.deepEqual(await lookupServer({ host: '10.0.0.53', port: 8053 }, l.lookup), [
      { host: '10.0.0.53', port: 8053 },
    ]);
    assert.deepEqual(await lookupServer({ host: '::1', port: 53 }, l.lookup), [{ host: '::1', port: 53 }]);
    assert.deepEqual(l.calls, []);
  });

  it('a host name gives each of its addresses, both families, in the order looked up', async () => {
    const l = fakeLookup({ psarnd: ['172.18.0.3', 'fd00::3', '172.18.0.3'] });
    assert.deepEqual(await lookupServer({ host: 'psarnd', port: 8053 }, l.lookup), [
      { host: '172.18.0.3', port: 8053 },
      { host: 'fd00::3', port: 8053 },
    ]);
  });

  it('a name that does not resolve is ERR_SERVER_LOOKUP naming the host, with the lookup error as cause', async () => {
    const l = fakeLookup({ empty: [] });
    const err = await lookupServer({ host: 'nohost.invalid', port: 8053 }, l.lookup).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof PsarnClientError);
    assert.equal(err.code, 'ERR_SERVER_LOOKUP');
    assert.equal(
      err.message,
      "cannot look up server 'nohost.invalid': ENOTFOUND; check the host name, or give an IP address",
    );
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOTFOUND');
    await assert.rejects(lookupServer({ host: 'empty', port: 1 }, l.lookup), {
      code: 'ERR_SERVER_LOOKUP',
      message: /'empty': no addresses/,
    });
  });

  it('the system lookup finds localhost (/etc/hosts, no network)', async () => {
    const addresses = await systemLookup('localhost');
    assert.ok(
      addresses.some((a) => a === '127.0.0.1' || a === '::1'),
      addresses.join(),
    );
  });
});

describe('ServerEndpoints', () => {
  it('an IP literal: one endpoint at once, no lookup, no promise', () => {
    const l = fakeLookup({});
    const { e, opened } = endpoints('127.0.0.1', l);
    const list = e.endpoints();
    assert.ok(Array.isArray(list));
    assert.deepEqual(
      list.map((x) => x.channel),
      ['channel 127.0.0.1'],
    );
    e.failed();
    assert.ok(Array.isArray(e.endpoints()));
    assert.deepEqual(opened, ['127.0.0.1']);
    assert.deepEqual(l.calls, []);
  });

  it('a name: no lookup at construction; one lookup shared by concurrent queries; cached for a while', async () => {
    const l = fakeLookup({ psarnd: ['172.18.0.3'] });
    const { e, hosts, clock } = endpoints('psarnd', l);
    assert.deepEqual(l.calls, []);
    const [a, b] = await Promise.all([e.endpoints(), e.endpoints()]);
    assert.equal(a, b);
    assert.deepEqual(l.calls, ['psarnd']);
    clock.advance(LOOKUP_MAX_AGE_MS - 1);
    assert.deepEqual(await hosts(), ['172.18.0.3']);
    assert.deepEqual(l.calls, ['psarnd']);
    clock.advance(1);
    l.table.psarnd = ['172.18.0.9'];
    assert.deepEqual(await hosts(), ['172.18.0.9']);
    assert.equal(l.calls.length, 2);
  });

  it('looks the name up again after every address failed; closes the channels of addresses gone', async () => {
    const l = fakeLookup({ psarnd: ['172.18.0.3'] });
    const { e, hosts, opened, closed } = endpoints('psarnd', l);
    assert.deepEqual(await hosts(), ['172.18.0.3']);
    l.table.psarnd = ['172.18.0.4'];
    assert.deepEqual(await hosts(), ['172.18.0.3'], 'cached');
    e.failed();
    assert.deepEqual(await hosts(), ['172.18.0.4']);
    assert.deepEqual(opened, ['172.18.0.3', '172.18.0.4']);
    assert.deepEqual(closed, ['channel 172.18.0.3']);
    e.close();
    assert.deepEqual(closed, ['channel 172.18.0.3', 'channel 172.18.0.4']);
  });

  it('a lookup that fails while addresses are known keeps them; a first one that fails throws, and is not remembered', async () => {
    const l = fakeLookup({ psarnd: ['172.18.0.3'] });
    const { e, hosts } = endpoints('psarnd', l);
    await hosts();
    e.failed();
    l.table.psarnd = Object.assign(new Error('getaddrinfo EAI_AGAIN psarnd'), { code: 'EAI_AGAIN' });
    assert.deepEqual(await hosts(), ['172.18.0.3']);
    assert.deepEqual(await hosts(), ['172.18.0.3']);
    assert.equal(l.calls.length, 2, 'not looked up again at once');

    const fresh = endpoints('later', l);
    await assert.rejects(Promise.resolve(fresh.e.endpoints()), { code: 'ERR_SERVER_LOOKUP', message: /'later'/ });
    l.table.later = ['10.1.1.1'];
    assert.deepEqual(await fresh.hosts(), ['10.1.1.1']);
  });

  it('the address that answered is asked first, also after the next lookup', async () => {
    const l = fakeLookup({ localhost: ['::1', '127.0.0.1'] });
    const { e, hosts, clock } = endpoints('localhost', l);
    const list = await e.endpoints();
    e.answered(list[1]!.address);
    assert.deepEqual(await hosts(), ['127.0.0.1', '::1']);
    clock.advance(LOOKUP_MAX_AGE_MS);
    assert.deepEqual(await hosts(), ['127.0.0.1', '::1']);
    assert.equal(l.calls.length, 2);
  });
});
