/**
 * EDNS EXPIRE down a chain of secondaries (RFC 7314; docs/design.md#secondary-mode): primary ->
 * middle psarnd -> last psarnd, in this process so that the secondaries' wall clocks are injected
 * (the scheduler's time only; TSIG keeps the real one). The middle's SOA answers and its
 * transfers out (dig and kdig +expire for the SOA, our decoder for AXFR) carry the seconds its copy has
 * left, below the SOA's expire; the last secondary takes that as its own expire timer, so it
 * expires when the middle's copy would, not a whole SOA expire after its last transfer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { type Config, defaultConfig } from '../../src/config/config.js';
import { askExpire } from '../../src/secondary/transfer-client.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { Store } from '../../src/store/index.js';
import { type DecodedMessage, decodeMessage, encodeQuery } from '../../src/wire/message.js';
import { Ede } from '../../src/wire/response.js';
import { makeTsigKey, signMessageMac } from '../../src/wire/tsig.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { projectRoot } from '../helpers/daemon.js';
import { query, tcpRaw } from '../helpers/dns.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';
import { tempDir, weighted } from '../store/helpers.js';

const run = promisify(execFile);
const tmp = tempDir();
const SECRET = randomBytes(32).toString('base64');
const KEY = makeTsigKey('transfer-key', 'hmac-sha256', SECRET);
const TSIG = `hmac-sha256:transfer-key:${SECRET}`;
const EXPIRE = PARAMS.expire;
const NAME = `b.a.${ZONE}`;

function config(db: string, secondary?: Config['secondary']): Config {
  return {
    ...defaultConfig(projectRoot),
    db,
    listen: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    demoRoutes: null,
    udpIo: 'dgram',
    tsig: { keys: [KEY] },
    transfer: { allow: ['transfer-key'] },
    ...(secondary !== undefined ? { secondary } : {}),
  };
}

/** Polls `ask` until `done` (at most 15 s): a secondary's first transfer. */
async function until(ask: () => Promise<DecodedMessage>, done: (m: DecodedMessage) => boolean) {
  let last: DecodedMessage | undefined;
  for (let i = 0; i < 750; i++) {
    try {
      last = await ask();
      if (done(last)) return last;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return last;
}

const expireOf = (m: DecodedMessage): number | undefined =>
  m.edns?.options.find((o) => o.code === 9 && o.data.length === 4)?.data.readUInt32BE(0);
const edeOf = (m: DecodedMessage): number | undefined =>
  m.edns?.options.find((o) => o.code === 15)?.data.readUInt16BE(0);
const soaWithExpire = async (at: Daemon['dns']) => {
  const q = askExpire(encodeQuery({ id: 11, name: ZONE, qtype: Type.SOA, edns: { udpSize: 1232 } }), true);
  return decodeMessage((await tcpRaw(at, [q]))[0]!);
};

describe('EDNS EXPIRE down a chain of secondaries (RFC 7314)', () => {
  const daemons: Daemon[] = [];
  after(async () => {
    for (const d of daemons.reverse()) await d.close().catch(() => {});
    tmp.cleanup();
  });
  const T0 = Date.now();
  let middleClock = T0;

  it("the middle secondary's SOA answers and transfers carry its copy's seconds left; the last expires with it", async (t) => {
    const primaryDb = tmp.file('primary.db');
    const seed = Store.open(primaryDb);
    seed.setRoute(ZONE, 'a/b', weighted('x'), PARAMS);
    seed.close();
    const primary = await startDaemon(config(primaryDb), { log: pino({ level: 'silent' }), http: false });
    daemons.push(primary);
    const middle = await startDaemon(
      config(tmp.file('middle.db'), { primary: primary.dns, key: 'transfer-key', zones: [ZONE] }),
      { log: pino({ level: 'silent' }), http: false, wallClock: () => middleClock },
    );
    daemons.push(middle);
    const served = await until(
      () => query(middle.dns, NAME, Type.URI),
      (m) => m.rcode === Rcode.NOERROR,
    );
    assert.equal(served?.rcode, Rcode.NOERROR);

    // 1000 s after the middle's last refresh (its clock; the primary stays up but is not asked).
    middleClock = T0 + 1_000_000;
    const left = EXPIRE - 1000;
    assert.equal(expireOf(await soaWithExpire(middle.dns)), left, 'SOA answer (RFC 7314 §3.2)');
    const axfr = askExpire(encodeQuery({ id: 12, name: ZONE, qtype: Type.AXFR, edns: { udpSize: 1232 } }), true);
    const replies = await tcpRaw(middle.dns, [signMessageMac(axfr, KEY).message]);
    assert.ok(replies.length >= 1);
    for (const reply of replies) assert.equal(expireOf(decodeMessage(reply)), left, 'every AXFR message');

    if (skipUnlessTool(t, 'dig') && skipUnlessTool(t, 'kdig')) {
      const at = ['-p', String(middle.dns.port), `@${middle.dns.host}`];
      const dig = await run(toolPath('dig')!, [...at, '+expire', '+norec', ZONE, 'SOA']);
      assert.match(dig.stdout, new RegExp(`EXPIRE: ${left}\\b`), dig.stdout);
      // kdig and dig print no OPT for the messages of a transfer (AXFR: our decoder above).
      const kdig = await run(toolPath('kdig')!, [...at, '-y', TSIG, '+expire', ZONE, 'SOA']);
      assert.match(kdig.stdout, new RegExp(`EXPIRE: ${left} `), kdig.stdout);
    }

    // The last secondary transfers from the middle: its timer is the middle's seconds left.
    let lastClock = T0;
    const lastDb = tmp.file('last.db');
    const lastConfig = config(lastDb, { primary: middle.dns, key: 'transfer-key', zones: [ZONE] });
    const start = () =>
      startDaemon(lastConfig, { log: pino({ level: 'silent' }), http: false, wallClock: () => lastClock });
    let last = await start();
    daemons.push(last);
    const copied = await until(
      () => query(last.dns, NAME, Type.URI),
      (m) => m.rcode === Rcode.NOERROR,
    );
    assert.equal(copied?.rcode, Rcode.NOERROR);
    assert.equal(expireOf(await soaWithExpire(last.dns)), left);

    // The middle goes away. A restart of the last one 400 s before the middle's copy would have
    // expired still serves; one a second after it answers SERVFAIL (EDE 22), though its own last
    // transfer is well within the SOA's expire.
    await middle.close();
    await last.close();
    lastClock = T0 + (left - 400) * 1000;
    last = await start();
    daemons.push(last);
    assert.equal((await query(last.dns, NAME, Type.URI)).rcode, Rcode.NOERROR);
    assert.equal(expireOf(await soaWithExpire(last.dns)), 400);
    await last.close();
    lastClock = T0 + (left + 1) * 1000;
    last = await start();
    daemons.push(last);
    const expired = await query(last.dns, NAME, Type.URI, { edns: { udpSize: 1232 } });
    assert.equal(expired.rcode, Rcode.SERVFAIL);
    assert.equal(edeOf(expired), Ede.NO_REACHABLE_AUTHORITY);
  });
});
