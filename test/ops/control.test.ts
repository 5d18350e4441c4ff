/** Control records (docs/design.md#remote-operations): the TXT form of a remote operation request. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControlError, controlKindOf, controlName, decodeControl, encodeControl } from '../../src/ops/control.js';

const ROUTE = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';

describe('control records', () => {
  it('names a route’s control records and tells a control label from others', () => {
    assert.equal(controlName('rollout', ROUTE), `_rollout.${ROUTE}`);
    assert.equal(controlKindOf('_hold'), 'hold');
    assert.equal(controlKindOf('_rollout'), 'rollout');
    assert.equal(controlKindOf(ROUTE.split('.')[0]), undefined);
    assert.equal(controlKindOf('_meta'), undefined);
    assert.equal(controlKindOf(undefined), undefined);
  });

  it('round-trips arguments longer than one string, with a multi-byte character split across strings', () => {
    const query = `sum(increase(psarn_client_invocations_total{target="${'é'.repeat(300)}",outcome="error"}[1m])) > 0`;
    const args = { to: 'arn:aws:lambda:us-east-1:123456789012:function:v2', steps: [10, 100], gate: { query } };
    const strings = encodeControl('start', args);
    assert.ok(strings.length > 4);
    for (const s of strings) assert.ok(s.length <= 255);
    assert.deepEqual(decodeControl(strings), { verb: 'start', args });
    assert.deepEqual(decodeControl(encodeControl('abort', undefined)), { verb: 'abort', args: {} });
  });

  it('refuses what is not a control record, naming why', () => {
    const bad = (strings: string[], why: RegExp) =>
      assert.throws(
        () => decodeControl(strings.map((s) => Buffer.from(s))),
        (e: unknown) => e instanceof ControlError && why.test(e.message),
      );
    bad([], /starts with "v=psarn1"/);
    bad(['v=psarn2', 'op=start'], /starts with "v=psarn1"/);
    bad(['v=psarn1'], /op=<verb>/);
    bad(['v=psarn1', 'op='], /op=<verb>/);
    bad(['v=psarn1', 'op=start', '{"to":'], /not JSON/);
    bad(['v=psarn1', 'op=start', '[1]'], /JSON object/);
  });
});
