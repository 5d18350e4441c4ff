/**
 * psarnd in secondary mode, in this process, with a fake transfer engine that copies zones from
 * a "primary" database (the real engine is src/secondary/transfer-client.ts; the tests with real
 * peers are test/integration/secondary-*.test.ts): the copy is served right after each refresh
 * (on a file, written through a second connection; on ':memory:', through the daemon's own), a
 * NOTIFY is answered and refreshes, /ready waits for every zone, the metrics, the database marked
 * as a secondary's and unmarked on promotion, a restart serves a copy that has not expired and
 * answers SERVFAIL with EDE 22 for one that has.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { type Config, defaultConfig } from '../../src/config/config.js';
import { PRIMARY_SETTING, refreshedSetting } from '../../src/secondary/state-store.js';
import type { Primary, RefreshOutcome, SoaInfo, ZoneTransferer } from '../../src/secondary/types.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { encodeNotify } from '../../src/server/notify.js';
import { Store } from '../../src/store/index.js';
import type { RouteSpec } from '../../src/store/types.js';
import { decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Ede } from '../../src/wire/response.js';
import { makeTsigKey, signMessageMac, verifyMessage } from '../../src/wire/tsig.js';
import { Opcode, Rcode, type SoaRecord, Type } from '../../src/wire/types.js';
import { projectRoot } from '../helpers/daemon.js';
import { query, udpRaw } from '../helpers/dns.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';
import { httpGet } from '../helpers/http.js';
import { tempDir, weighted } from '../store/helpers.js';

const tmp = tempDir();
const NAME = (path: string) => `${path.split('/').reverse().join('.')}.${ZONE}`;
const KEY = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 7).toString('base64'));

function config(
  db: string,
  secondary: Config['secondary'] = { primary: { host: '127.0.0.1', port: 1 }, zones: [ZONE] },
): Config {
  return {
    ...defaultConfig(projectRoot),
    db,
    listen: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    demoRoutes: null,
    udpIo: 'dgram',
    secondary,
  };
}

/** A fake engine that copies zones from `primary` into the secondary's store, as IXFR would. */
function mirror(primary: Store) {
  const state = { down: false, gate: undefined as Promise<void> | undefined, kinds: [] as string[] };
  const make = (store: Store): ZoneTransferer => {
    const soaOf = (zone: string): SoaInfo => {
      if (state.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const row = primary.zone(zone);
      if (row === undefined) throw new Error(`primary has no ${zone}`);
      return { serial: row.serial, refresh: row.refresh, retry: row.retry, expire: row.expire, minimum: row.minimum };
    };
    return {
      async soa(zone) {
        await state.gate;
        return soaOf(zone);
      },
      async refresh(zone): Promise<RefreshOutcome> {
        await state.gate;
        const soa = soaOf(zone);
        const had = store.zone(zone);
        const wanted = new Map<string, RouteSpec>();
        for (const r of primary.listRoutes(zone)) {
          wanted.set(
            r.path,
            r.alias !== undefined
              ? { ttl: r.ttl, alias: r.alias }
              : { policy: r.policy!, ttl: r.ttl, targets: r.targets },
          );
        }
        const paths = new Set([...wanted.keys(), ...(had ? [...store.listRoutes(zone)].map((r) => r.path) : [])]);
        store.editRoutes(
          zone,
          [...paths].map((path) => ({ path, make: () => wanted.get(path) ?? null })),
          PARAMS,
          { serial: soa.serial, actor: 'primary:127.0.0.1:1', force: true },
        );
        const kind = had === undefined ? 'axfr' : 'ixfr';
        state.kinds.push(kind);
        return kind === 'axfr'
          ? {
              kind,
              from: undefined,
              serial: soa.serial,
              soa,
              routes: wanted.size,
              bytes: 1,
              messages: 1,
              reason: 'no copy',
            }
          : { kind, from: had!.serial, serial: soa.serial, soa, routes: wanted.size, bytes: 1, messages: 1 };
      },
      async catalogMembers() {
        return primary.zones().map((z) => z.name);
      },
      dropZone() {},
    };
  };
  return { state, make };
}

/** Asks until `done` holds, every 5 ms, at most `ms`. */
async function until<T>(ask: () => Promise<T>, done: (value: T) => boolean, ms = 2000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await ask();
    if (done(value) || performance.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const edeOf = (m: ReturnType<typeof decodeMessage>) => m.edns?.options.find((o) => o.code === 15)?.data.readUInt16BE(0);

const daemons: Daemon[] = [];
const stores: Store[] = [];
after(async () => {
  for (const d of daemons) await d.close();
  for (const s of stores) s.close();
  tmp.cleanup();
});

describe('psarnd as a secondary (fake transfer engine)', () => {
  for (const where of ['file', ':memory:'] as const) {
    it(`serves the copy after the first transfer, and a change right after its NOTIFY (${where})`, async () => {
      const primary = Store.open(tmp.file(`primary-${where === 'file' ? 'f' : 'm'}.db`));
      stores.push(primary);
      primary.setRoute(ZONE, 'orders/created', weighted('v1'), PARAMS);
      const fake = mirror(primary);
      let release!: () => void;
      fake.state.gate = new Promise((resolve) => {
        release = resolve;
      });
      const db = where === 'file' ? tmp.file('secondary-a.db') : ':memory:';
      const d = await startDaemon(config(db), {
        log: pino({ level: 'silent' }),
        transferer: ({ store }) => fake.make(store),
      });
      daemons.push(d);
      // Before the first transfer: not ready, naming the zone; its names REFUSED (no zone yet).
      const waiting = await httpGet(d.http!, '/ready');
      assert.equal(waiting.status, 503);
      assert.deepEqual(JSON.parse(waiting.body), { status: 'zones not transferred', missing: [ZONE], missingCount: 1 });
      release();
      fake.state.gate = undefined;
      const first = await until(
        () => query(d.dns, NAME('orders/created'), Type.URI),
        (m) => m.rcode === Rcode.NOERROR,
      );
      assert.equal(first.rcode, Rcode.NOERROR);
      assert.equal(first.answer.length, 1);
      assert.equal((await httpGet(d.http!, '/ready')).status, 200);

      // A change on the primary, then its NOTIFY: answered NOERROR + AA, and served at once.
      const { serial } = primary.setRoute(ZONE, 'orders/created', weighted('v1', 'v2'), PARAMS);
      const reply = await udpRaw(d.dns, encodeNotify(77, { ...PARAMS, name: ZONE, serial }));
      const ack = decodeMessage(reply!);
      assert.equal(ack.rcode, Rcode.NOERROR);
      assert.equal(ack.aa, true);
      assert.equal(ack.opcode, Opcode.NOTIFY);
      const started = performance.now();
      const served = await until(
        () => query(d.dns, NAME('orders/created'), Type.URI),
        (m) => m.answer.length === 2,
      );
      assert.equal(served.answer.length, 2, 'the refreshed copy is served');
      // Served right after the refresh: well under the 100 ms poll when the pickup is immediate.
      assert.ok(performance.now() - started < 1000);
      const soa = await query(d.dns, ZONE, Type.SOA);
      assert.equal((soa.answer[0] as SoaRecord).serial, serial, "the primary's serial");
      assert.deepEqual(fake.state.kinds, ['axfr', 'ixfr']);

      const metrics = (await httpGet(d.http!, '/metrics')).body;
      assert.match(metrics, new RegExp(`psarn_secondary_serial\\{zone="${ZONE}"\\} ${serial}\\n`));
      assert.match(
        metrics,
        new RegExp(`psarn_secondary_refresh_total\\{zone="${ZONE}",kind="ixfr",result="ok"\\} 1\\n`),
      );
      assert.match(
        metrics,
        new RegExp(`psarn_secondary_refresh_total\\{zone="${ZONE}",kind="axfr",result="ok"\\} 1\\n`),
      );
      assert.match(metrics, new RegExp(`psarn_secondary_lag_seconds\\{zone="${ZONE}"\\} 0\\n`));
      assert.match(metrics, new RegExp(`psarn_secondary_expired\\{zone="${ZONE}"\\} 0\\n`));
      assert.match(metrics, new RegExp(`psarn_secondary_last_refresh_timestamp_seconds\\{zone="${ZONE}"\\} \\d+`));
      // A NOTIFY for a zone it does not follow: NOTAUTH.
      const other = decodeMessage(
        (await udpRaw(d.dns, encodeNotify(78, { ...PARAMS, name: 'x.aws.psarn.internal.', serial: 1 })))!,
      );
      assert.equal(other.rcode, Rcode.NOTAUTH);
    });
  }

  it('marks the database as a copy of its primary, and a start without `secondary` unmarks it (promotion)', async () => {
    const primary = Store.open(tmp.file('primary-b.db'));
    stores.push(primary);
    primary.setRoute(ZONE, 'a/b', weighted('x'), PARAMS);
    const fake = mirror(primary);
    const db = tmp.file('secondary-b.db');
    const d = await startDaemon(config(db, { primary: { host: '10.0.0.5', port: 8053 }, zones: [ZONE] }), {
      log: pino({ level: 'silent' }),
      http: false,
      transferer: ({ store }) => fake.make(store),
    });
    await until(
      () => query(d.dns, NAME('a/b'), Type.URI),
      (m) => m.rcode === Rcode.NOERROR,
    );
    await d.close();
    const copy = Store.open(db, { create: false });
    assert.equal(copy.setting(PRIMARY_SETTING), '10.0.0.5:8053');
    assert.ok(Number(copy.setting(refreshedSetting(ZONE))) > 0);
    copy.close();
    const promoted = await startDaemon(
      { ...config(db), secondary: undefined },
      { log: pino({ level: 'silent' }), http: false },
    );
    daemons.push(promoted);
    const after = Store.open(db, { create: false });
    assert.equal(after.setting(PRIMARY_SETTING), undefined);
    assert.equal(after.setting(refreshedSetting(ZONE)), undefined);
    after.close();
    // Still serves what it had.
    assert.equal((await query(promoted.dns, NAME('a/b'), Type.URI)).rcode, Rcode.NOERROR);
  });

  it('a restart with the primary down serves a copy within expire at once, and SERVFAIL + EDE 22 past it until the primary answers', async () => {
    const primary = Store.open(tmp.file('primary-c.db'));
    stores.push(primary);
    primary.setRoute(ZONE, 'a/b', weighted('x'), { ...PARAMS, expire: 1000 });
    const fake = mirror(primary);
    fake.state.down = true;
    // A copy refreshed 10 s ago: within expire.
    const db = tmp.file('secondary-c.db');
    const seed = Store.open(db);
    seed.setRoute(ZONE, 'a/b', weighted('x'), { ...PARAMS, expire: 1000 });
    const now = 1_800_000_000_000;
    seed.putSetting(refreshedSetting(ZONE), String(now - 10_000));
    seed.close();
    let clock = now;
    const d = await startDaemon(config(db), {
      log: pino({ level: 'silent' }),
      transferer: ({ store }) => fake.make(store),
      wallClock: () => clock,
    });
    daemons.push(d);
    assert.equal((await query(d.dns, NAME('a/b'), Type.URI)).rcode, Rcode.NOERROR);
    assert.equal((await httpGet(d.http!, '/ready')).status, 200);
    // EDNS EXPIRE (RFC 7314): the seconds the copy has left.
    const expire = await query(d.dns, ZONE, Type.SOA, { edns: { udpSize: 1232 } });
    assert.equal(expire.rcode, Rcode.NOERROR);
    await d.close();
    daemons.pop();

    // The same copy, a restart 2000 s later: past expire.
    clock = now + 2_000_000;
    const late = await startDaemon(config(db), {
      log: pino({ level: 'silent' }),
      transferer: ({ store }) => fake.make(store),
      wallClock: () => clock,
    });
    daemons.push(late);
    const failed = await query(late.dns, NAME('a/b'), Type.URI);
    assert.equal(failed.rcode, Rcode.SERVFAIL);
    assert.equal(edeOf(failed), Ede.NO_REACHABLE_AUTHORITY);
    const ready = await httpGet(late.http!, '/ready');
    assert.equal(ready.status, 503);
    assert.deepEqual(JSON.parse(ready.body).expired, [ZONE]);
    assert.match(
      (await httpGet(late.http!, '/metrics')).body,
      new RegExp(`psarn_secondary_expired\\{zone="${ZONE}"\\} 1\\n`),
    );
    // The primary is back and NOTIFYs: the SOA check succeeds, the copy is served again.
    fake.state.down = false;
    await udpRaw(late.dns, encodeNotify(9, { ...PARAMS, name: ZONE, serial: 1 }));
    const back = await until(
      () => query(late.dns, NAME('a/b'), Type.URI),
      (m) => m.rcode === Rcode.NOERROR,
    );
    assert.equal(back.rcode, Rcode.NOERROR);
  });

  it('with secondary.key, a NOTIFY must be signed with it: unsigned is NOTAUTH, signed is answered signed', async () => {
    const primary = Store.open(tmp.file('primary-d.db'));
    stores.push(primary);
    primary.setRoute(ZONE, 'a/b', weighted('x'), PARAMS);
    const fake = mirror(primary);
    const d = await startDaemon(
      {
        ...config(tmp.file('secondary-d.db'), {
          primary: { host: '127.0.0.1', port: 1 },
          key: 'transfer-key',
          zones: [ZONE],
        }),
        tsig: { keys: [KEY] },
      },
      { log: pino({ level: 'silent' }), http: false, transferer: ({ store }) => fake.make(store) },
    );
    daemons.push(d);
    const notify = encodeNotify(5, { ...PARAMS, name: ZONE, serial: 1 });
    assert.equal(decodeMessage((await udpRaw(d.dns, notify))!).rcode, Rcode.NOTAUTH);
    const { message, mac } = signMessageMac(notify, KEY);
    const reply = (await udpRaw(d.dns, message))!;
    assert.equal(decodeMessage(reply).rcode, Rcode.NOERROR);
    assert.equal(verifyMessage(reply, new Map([[KEY.name, KEY]]), { requestMac: mac }).status, 'ok');
    // UPDATE: REFUSED with EDE 18.
    const update = encodeQuery({ id: 6, name: ZONE, qtype: Type.SOA, edns: {} });
    update.writeUInt16BE(Opcode.UPDATE << 11, 2);
    const refused = decodeMessage((await udpRaw(d.dns, update))!);
    assert.equal(refused.rcode, Rcode.REFUSED);
    assert.equal(edeOf(refused), Ede.PROHIBITED);
  });

  it('a SIGHUP that rotates the secret of secondary.key applies to the next transfer', async () => {
    const primary = Store.open(tmp.file('primary-e.db'));
    stores.push(primary);
    const fake = mirror(primary);
    let seen: Primary | undefined;
    const base = {
      ...config(tmp.file('secondary-e.db'), {
        primary: { host: '127.0.0.1', port: 1 },
        key: 'transfer-key',
        zones: [ZONE],
      }),
      tsig: { keys: [KEY] },
    };
    const d = await startDaemon(base, {
      log: pino({ level: 'silent' }),
      http: false,
      transferer: ({ store, primary: p }) => {
        seen = p;
        return fake.make(store);
      },
    });
    daemons.push(d);
    assert.deepEqual(seen?.key?.secret, KEY.secret);
    const rotated = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 9).toString('base64'));
    d.reload({ ...base, tsig: { keys: [rotated] } });
    assert.deepEqual(seen?.key?.secret, rotated.secret);
    // Dropped from tsig.keys: the last secret stays until a restart.
    d.reload({ ...base, tsig: { keys: [] } });
    assert.deepEqual(seen?.key?.secret, rotated.secret);
  });

  it('refuses a secondary with workers > 1, and a secondary.key that tsig.keys lacks', async () => {
    await assert.rejects(
      startDaemon({ ...config(':memory:'), workers: 2 }, { log: pino({ level: 'silent' }), http: false }),
      /workers: 1/,
    );
    await assert.rejects(
      startDaemon(config(':memory:', { primary: { host: '127.0.0.1', port: 1 }, key: 'nope', zones: [ZONE] }), {
        log: pino({ level: 'silent' }),
        http: false,
      }),
      /secondary\.key: tsig key 'nope' is not configured/,
    );
  });
});
