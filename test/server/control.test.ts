/**
 * Control records at psarnd (docs/design.md#remote-operations), with raw UPDATE messages and
 * signed queries through the handler: a control UPDATE runs the operation with the local CLI's
 * functions (actor key:<name>, served and NOTIFYed: `changed`), bad arguments are FORMERR, a
 * refusal REFUSED + EDE 18 with the CLI's words, and the state reads answer only a signed query
 * with a key that may.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controlRecord, decodeControl, encodeControl } from '../../src/ops/control.js';
import type { RolloutView } from '../../src/ops/rollout-view.js';
import { encodeQuery } from '../../src/wire/message.js';
import { makeTsigKey, signMessageMac, type TsigKey } from '../../src/wire/tsig.js';
import { Class, Rcode, Type } from '../../src/wire/types.js';
import { addRecord, txtRdata } from '../../src/wire/update.js';
import { at, bench, LAMBDA, NOW, txt, updateKey, uri, Z } from '../update/helpers.js';

const V1 = `${LAMBDA}v1`;
const V2 = `${LAMBDA}v2`;
const ROUTE = at('created.orders');
const PSARN = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:held';
const readKey = makeTsigKey('read-key', 'hmac-sha256', Buffer.alloc(32, 9).toString('base64'));

function seeded() {
  const b = bench((c) => ({
    ...c,
    transfer: { ...c.transfer, allow: ['read-key'] },
    tsig: { keys: [...c.tsig.keys, readKey] },
  }));
  assert.equal(b.send({ updates: [addRecord(uri('created.orders', V1))] }).rcode, 0);
  return b;
}

const START = { to: V2, steps: [10, 50, 100], everyMs: 60_000 };

/** A signed (or not) TXT query at `name`: the decoded reply and its TXT state. */
function read(b: ReturnType<typeof bench>, name: string, key: TsigKey | null = updateKey) {
  const bytes = encodeQuery({ id: 7, name, qtype: Type.TXT, edns: { udpSize: 4096 } });
  const request = key === null ? bytes : signMessageMac(bytes, key, { now: () => b.time }).message;
  const reply = b.raw(request, 'tcp')!;
  const rr = reply.answer.find((r) => r.type === 'TXT');
  const state =
    rr !== undefined && 'strings' in rr
      ? decodeControl(rr.strings.map((s: string) => Buffer.from(s, 'utf8')))
      : undefined;
  return { reply, state };
}

describe('control UPDATE: _rollout', () => {
  it('start runs the rollout as the CLI does: first step written, actor key:update-key, changed', () => {
    const b = seeded();
    const changed = b.changed;
    const serial = b.serial();
    const reply = b.send({ updates: [controlRecord('rollout', ROUTE, 'start', START)] });
    assert.equal(reply.rcode, Rcode.NOERROR, JSON.stringify(reply.ede));
    assert.ok(reply.signed);
    assert.equal(b.changed, changed + 1, 'served and NOTIFYed before the reply');
    assert.ok(b.serial()! > serial!);
    const op = b.store.operations({ zone: Z, path: 'orders/created', kind: 'rollout' })[0]!;
    assert.equal(op.status, 'running');
    assert.equal(op.actor, 'key:update-key');
    assert.equal(op.dueAt, NOW + 60_000, 'due `every` after the TSIG clock');
    assert.equal(b.store.journal(Z).at(-1)?.actor, 'key:update-key');
    assert.deepEqual(
      b.route('orders/created')!.targets.map((t) => t.target),
      [V1, V2],
    );
    // Nothing stored at the control name.
    assert.equal(b.store.getRoute(Z, '_rollout.orders.created'), undefined);
  });

  it('pause, resume, promote, abort; a refusal is REFUSED + EDE 18 with the CLI words', () => {
    const b = seeded();
    const send = (verb: string, args: unknown = {}) =>
      b.send({ updates: [controlRecord('rollout', ROUTE, verb, args)] });
    const none = send('pause');
    assert.equal(none.rcode, Rcode.REFUSED);
    assert.deepEqual(none.ede[0], {
      code: 18,
      text: `no rollout in progress on '${PSARN}' ('psarn rollout status' lists them)`,
    });
    assert.equal(send('start', START).rcode, Rcode.NOERROR);
    const again = send('start', START);
    assert.equal(again.rcode, Rcode.REFUSED);
    assert.match(
      again.ede[0]!.text,
      new RegExp(`^rollout on '${PSARN}' refused: it already has rollout #\\d+ \\(running\\)`),
    );
    assert.equal(send('pause').rcode, Rcode.NOERROR);
    const op = () => b.store.operations({ zone: Z, kind: 'rollout' })[0]!;
    assert.equal(op().status, 'paused');
    assert.equal((op().state as { pauseReason?: string }).pauseReason, 'paused by key:update-key');
    assert.equal(
      send('pause').ede[0]?.text,
      `rollout on '${PSARN}' refused: rollout #${op().id} is paused, not running`,
    );
    assert.equal(send('resume').rcode, Rcode.NOERROR);
    assert.equal(op().status, 'running');
    assert.equal(send('promote').rcode, Rcode.NOERROR);
    assert.equal(op().status, 'done');
    assert.deepEqual(
      b.route('orders/created')!.targets.map((t) => t.target),
      [V2],
    );
    assert.equal(send('start', { ...START, to: V1 }).rcode, Rcode.NOERROR);
    assert.equal(send('abort').rcode, Rcode.NOERROR);
    assert.equal(op().status, 'aborted');
    assert.deepEqual(
      b.route('orders/created')!.targets.map((t) => t.target),
      [V2],
    );
  });

  it('bad arguments are FORMERR with EDE text naming the problem; nothing written', () => {
    const b = seeded();
    const serial = b.serial();
    const bad = (args: unknown, text: RegExp, verb = 'start') => {
      const reply = b.send({ updates: [controlRecord('rollout', ROUTE, verb, args)] });
      assert.equal(reply.rcode, Rcode.FORMERR);
      assert.match(reply.ede[0]!.text, text);
    };
    bad({ ...START, steps: [50, 10] }, /percents must increase/);
    bad({ ...START, everyMs: 10 }, /everyMs/);
    bad({ ...START, to: 'not a target' }, /^--to: /);
    bad({ ...START, preset: 'nope' }, /unknown --preset 'nope'/);
    bad({ ...START, gate: { query: 'up == 0', prometheus: 'ftp://x' } }, /invalid --prometheus/);
    bad({ to: V2, steps: [100], everyMs: 60_000, gate: { query: 'x', prometheus: 'http://p:9090' } }, /one step/);
    bad({}, /takes op=start/, 'explode');
    bad({ now: true }, /pause takes no arguments/, 'pause');
    assert.equal(b.serial(), serial);
    assert.equal(b.store.operations({ zone: Z }).length, 0);
  });

  it('a control RR with another RR, or not TXT IN TTL 0, or undecodable, is FORMERR', () => {
    const b = seeded();
    const alone = b.send({ updates: [controlRecord('rollout', ROUTE, 'pause', {}), addRecord(uri('x', V1))] });
    assert.equal(alone.rcode, Rcode.FORMERR);
    assert.equal(alone.ede[0]?.text, 'a control record travels alone');
    const ttl = b.send({ updates: [{ ...controlRecord('rollout', ROUTE, 'pause', {}), ttl: 60 }] });
    assert.equal(ttl.rcode, Rcode.FORMERR);
    assert.match(ttl.ede[0]!.text, /one TXT RR of class IN and TTL 0/);
    const junk = b.send({
      updates: [{ name: `_hold.${ROUTE}`, type: Type.TXT, klass: Class.IN, ttl: 0, rdata: txtRdata(['hello']) }],
    });
    assert.equal(junk.rcode, Rcode.FORMERR);
    assert.match(junk.ede[0]!.text, /starts with "v=psarn1"/);
    assert.equal(b.route('x'), undefined);
  });

  it('prerequisites are checked as for any UPDATE', () => {
    const b = seeded();
    const reply = b.send({
      prerequisites: [{ name: ROUTE, type: Type.CNAME, klass: Class.ANY }],
      updates: [controlRecord('rollout', ROUTE, 'start', START)],
    });
    assert.equal(reply.rcode, Rcode.NXRRSET);
    assert.equal(b.store.operations({ zone: Z }).length, 0);
  });

  it('unsigned, a key not in update.allow, and a secondary are refused as any UPDATE', () => {
    const b = seeded();
    const record = controlRecord('rollout', ROUTE, 'start', START);
    const unsigned = b.send({ updates: [record] }, { key: null });
    assert.equal(unsigned.rcode, Rcode.REFUSED);
    assert.equal(unsigned.ede[0]?.code, 18);
    const other = b.send({ updates: [record] }, { key: readKey });
    assert.equal(other.rcode, Rcode.REFUSED);
    assert.match(other.ede[0]!.text, /not in update\.allow/);
    assert.equal(b.store.operations({ zone: Z }).length, 0);
    const s = bench((c) => ({ ...c, secondary: { primary: { host: '192.0.2.1', port: 53 } } as typeof c.secondary }));
    const reply = s.send({ updates: [record] });
    assert.equal(reply.rcode, Rcode.REFUSED);
    assert.match(reply.ede[0]!.text, /secondary of 192\.0\.2\.1:53/);
  });
});

describe('control UPDATE: _hold', () => {
  it('hold and release as the CLI: epoch bumped, refusals in its words', () => {
    const b = seeded();
    const send = (verb: string, args: unknown = {}) => b.send({ updates: [controlRecord('hold', ROUTE, verb, args)] });
    const epoch = b.store.zone(Z)!.epoch;
    assert.equal(send('hold', { queue: QUEUE }).rcode, Rcode.NOERROR);
    assert.equal(b.store.zone(Z)!.epoch, epoch + 1);
    assert.deepEqual(
      b.route('orders/created')!.targets.map((t) => t.target),
      [QUEUE],
    );
    const twice = send('hold', { queue: QUEUE });
    assert.equal(twice.rcode, Rcode.REFUSED);
    assert.match(
      twice.ede[0]!.text,
      new RegExp(`^route '${PSARN}' is already held in ${QUEUE} \\(hold #\\d+ by key:update-key\\)`),
    );
    const badQueue = send('hold', { queue: 'arn:aws:sqs:us-east-1:1:q' });
    assert.equal(badQueue.rcode, Rcode.FORMERR);
    assert.match(badQueue.ede[0]!.text, /^invalid --queue/);
    assert.equal(send('release').rcode, Rcode.NOERROR);
    assert.equal(b.store.zone(Z)!.epoch, epoch + 2);
    assert.deepEqual(
      b.route('orders/created')!.targets.map((t) => t.target),
      [V1],
    );
    const notHeld = send('release');
    assert.equal(notHeld.rcode, Rcode.REFUSED);
    assert.match(notHeld.ede[0]!.text, /is not held \(hold #\d+ was released\); nothing released$/);
    const missing = b.send({ updates: [controlRecord('hold', at('nope'), 'hold', { queue: QUEUE })] });
    assert.equal(missing.rcode, Rcode.REFUSED);
    assert.match(missing.ede[0]!.text, /not found; nothing held \('psarn route list' shows the routes\)$/);
  });

  it('a route changed while held: refused without force, released with it', () => {
    const b = seeded();
    const send = (verb: string, args: unknown = {}) => b.send({ updates: [controlRecord('hold', ROUTE, verb, args)] });
    assert.equal(send('hold', { queue: QUEUE }).rcode, Rcode.NOERROR);
    assert.equal(b.send({ updates: [addRecord(uri('created.orders', V2, 1, 10, 300))] }).rcode, Rcode.NOERROR);
    const refused = send('release');
    assert.equal(refused.rcode, Rcode.REFUSED);
    assert.match(refused.ede[0]!.text, /was changed while held .* pass --force/);
    assert.equal(send('release', { force: 'yes' }).rcode, Rcode.FORMERR);
    assert.equal(send('release', { force: true }).rcode, Rcode.NOERROR);
    assert.deepEqual(
      b.route('orders/created')!.targets.map((t) => t.target),
      [V1],
    );
  });
});

describe('control reads', () => {
  it('answers a key of update.allow or transfer.allow with the state, TTL 0, signed', () => {
    const b = seeded();
    assert.equal(b.send({ updates: [controlRecord('rollout', ROUTE, 'start', START)] }).rcode, 0);
    for (const key of [updateKey, readKey]) {
      const { reply, state } = read(b, `_rollout.${ROUTE}`, key);
      assert.equal(reply.rcode, Rcode.NOERROR);
      assert.equal(reply.answer.length, 1);
      assert.equal(reply.answer[0]!.ttl, 0);
      assert.ok(reply.additional.some((r) => r.type === 'TSIG' || (r as { typeCode?: number }).typeCode === 250));
      assert.equal(state?.verb, 'status');
      const view = state!.args as unknown as RolloutView;
      assert.equal(view.psarn, PSARN);
      assert.equal(view.status, 'running');
      assert.equal(view.nextStepAt, new Date(NOW + 60_000).toISOString());
    }
    // The zone apex: the zone's active rollouts.
    const list = read(b, `_rollout.${Z}`).state!.args as { rollouts: RolloutView[] };
    assert.deepEqual(
      list.rollouts.map((v) => [v.psarn, v.status]),
      [[PSARN, 'running']],
    );
    assert.equal(read(b, `_rollout.${at('other')}`).reply.answer.length, 0, 'no rollout of that route: NODATA');
  });

  it('a password in the gate URL stays redacted; non-ASCII JSON survives', () => {
    const b = seeded();
    const gate = { query: 'sum(x{l="é"}) > 0', prometheus: 'http://u:secret@prom:9090' };
    assert.equal(b.send({ updates: [controlRecord('rollout', ROUTE, 'start', { ...START, gate })] }).rcode, 0);
    const view = read(b, `_rollout.${ROUTE}`).state!.args as unknown as RolloutView;
    assert.deepEqual(view.gate, { query: gate.query, prometheus: 'http://u:***@prom:9090/' });
  });

  it('no operation: NODATA with the SOA; a hold state once held', () => {
    const b = seeded();
    const { reply } = read(b, `_hold.${ROUTE}`);
    assert.equal(reply.rcode, Rcode.NOERROR);
    assert.equal(reply.answer.length, 0);
    assert.equal(reply.authority[0]?.type, 'SOA');
    assert.equal(b.send({ updates: [controlRecord('hold', ROUTE, 'hold', { queue: QUEUE })] }).rcode, 0);
    const state = read(b, `_hold.${ROUTE}`).state!.args as {
      psarn: string;
      hold: { status: string; state: { queue: string } };
    };
    assert.equal(state.psarn, PSARN);
    assert.equal(state.hold.status, 'held');
    assert.equal(state.hold.state.queue, QUEUE);
  });

  it('unsigned or another key: answered as today, no operation state', () => {
    const b = bench((c) => ({ ...c, tsig: { keys: [...c.tsig.keys] } }));
    assert.equal(b.send({ updates: [addRecord(uri('created.orders', V1))] }).rcode, 0);
    assert.equal(b.send({ updates: [controlRecord('rollout', ROUTE, 'start', START)] }).rcode, 0);
    const today = (key: TsigKey | null) => {
      const { reply } = read(b, `_rollout.${ROUTE}`, key);
      return { rcode: reply.rcode, answer: reply.answer.length };
    };
    const unsigned = today(null);
    assert.equal(unsigned.answer, 0);
    // otherKey is in tsig.keys but in neither update.allow nor transfer.allow.
    const { otherKey } = { otherKey: makeTsigKey('other-key', 'hmac-sha256', Buffer.alloc(32, 8).toString('base64')) };
    assert.deepEqual(today(otherKey), unsigned);
    const withState = read(b, `_rollout.${ROUTE}`).reply;
    assert.equal(withState.answer.length, 1);
  });

  it('a secondary answers a control read as any query', () => {
    const s = bench((c) => ({ ...c, secondary: { primary: { host: '192.0.2.1', port: 53 } } as typeof c.secondary }));
    const { reply } = read(s, `_rollout.${ROUTE}`);
    assert.equal(reply.answer.length, 0);
  });
});

// encodeControl is used by the reads above through the server; keep its import checked.
void encodeControl;
void txt;
