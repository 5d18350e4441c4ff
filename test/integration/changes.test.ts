/**
 * Two processes: the CLI writes the database, the daemon serves it. A change is served within
 * 1 s without a restart, bumps the SOA serial, and is atomic: every reply holds the old target
 * set or the new one, never a mix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DecodedMessage } from '../../src/wire/message.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { cliOn, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';

const Z = '123456789012.us-east-1.aws.psarn.internal.';
const PSARN = 'arn:aws:psarn:us-east-1:123456789012:flip/flop';
const NAME = `flop.flip.${Z}`;
const SET_A = ['arn:aws:sqs:us-east-1:123456789012:a1', 'arn:aws:sqs:us-east-1:123456789012:a2'];
const SET_B = [
  'arn:aws:sqs:us-east-1:123456789012:b1',
  'arn:aws:sqs:us-east-1:123456789012:b2',
  'arn:aws:sqs:us-east-1:123456789012:b3',
];

function targets(m: DecodedMessage): string[] {
  return m.answer.flatMap((r) => ('target' in r && r.type === 'URI' ? [r.target] : [])).sort();
}

async function serial(d: RunningDaemon): Promise<number> {
  const soa = (await query(d.dns, Z, Type.SOA)).answer[0];
  assert.ok(soa && 'serial' in soa);
  return soa.serial;
}

describe('changes written by the CLI', () => {
  let d: RunningDaemon;
  const cli = (...args: string[]) => cliOn(d, ...args);

  before(async () => {
    d = await startPsarnd();
  });
  after(async () => {
    await d?.stop();
  });

  it('are served within 1 s, with the serial bumped', async () => {
    const before = await serial(d);
    await cli('route', 'set', PSARN, ...SET_A.flatMap((t) => ['--target', `${t}=1`]), '--ttl', '60');
    const committed = performance.now();
    let m: DecodedMessage | undefined;
    while (performance.now() - committed < 1000) {
      m = await query(d.dns, NAME, Type.URI);
      if (m.rcode === Rcode.NOERROR && m.answer.length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(m && m.answer.length > 0, 'the new route was not served within 1 s');
    assert.deepEqual(targets(m), SET_A);
    assert.ok((await serial(d)) > before);
  });

  it('are atomic: a reader sees the old target set or the new one, never a mix', async () => {
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 6; i++) {
        const set = i % 2 === 0 ? SET_B : SET_A;
        await cli('route', 'set', PSARN, ...set.flatMap((t) => ['--target', t]));
      }
      writing = false;
    })();
    const seen = new Set<string>();
    let replies = 0;
    while (writing && replies < 20000) {
      const m = await query(d.dns, NAME, Type.URI);
      const got = targets(m);
      assert.ok(
        JSON.stringify(got) === JSON.stringify(SET_A) || JSON.stringify(got) === JSON.stringify(SET_B),
        `mixed reply: ${got.join(',')}`,
      );
      seen.add(got.join(','));
      replies++;
    }
    await writer;
    assert.ok(replies > 10);
    assert.equal(seen.size, 2, 'both versions were served during the writes');
  });

  it('flush bumps the epoch in _epoch and in route TXTs', async () => {
    const epochOf = async (name: string, type: number, section: 'answer' | 'additional') => {
      const rr = (await query(d.dns, name, type))[section].find((r) => r.type === 'TXT');
      const s = rr && 'strings' in rr ? rr.strings.find((x) => x.startsWith('epoch=')) : undefined;
      return Number(s?.slice(6));
    };
    const before = await epochOf(`_epoch.${Z}`, Type.TXT, 'answer');
    await cli('flush', PSARN);
    const deadline = performance.now() + 1000;
    let now = before;
    while (now === before && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      now = await epochOf(`_epoch.${Z}`, Type.TXT, 'answer');
    }
    assert.equal(now, before + 1);
    assert.equal(await epochOf(NAME, Type.URI, 'additional'), before + 1);
  });

  it('leave the cached answers of other routes warm', async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(`http://${d.http.host}:${d.http.port}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
    };
    const created = `created.orders.${Z}`;
    await query(d.dns, created, Type.URI); // cached now
    await cli('route', 'set', `${PSARN}2`, '--target', 'arn:aws:sqs:us-east-1:123456789012:other');
    const deadline = performance.now() + 1000;
    while ((await query(d.dns, `flop2.flip.${Z}`, Type.URI)).answer.length === 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const misses = await metric('psarn_answer_cache_misses_total');
    assert.equal((await query(d.dns, created, Type.URI)).rcode, Rcode.NOERROR);
    assert.equal(await metric('psarn_answer_cache_misses_total'), misses, 'served from the cache');
  });

  it('delete turns the route into NXDOMAIN', async () => {
    await cli('route', 'delete', PSARN);
    const deadline = performance.now() + 1000;
    let rcode: number = Rcode.NOERROR;
    while (rcode !== Rcode.NXDOMAIN && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      rcode = (await query(d.dns, NAME, Type.URI)).rcode;
    }
    assert.equal(rcode, Rcode.NXDOMAIN);
  });
});
