/**
 * The words of a history line (src/cli/history-format.ts), pure: short target names that stay
 * unambiguous and hide credential-like query values, and the line of each kind of change.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeEntry, targetLabels } from '../../src/cli/history-format.js';
import type { RouteHistoryEntry } from '../../src/store/history.js';
import type { SavedRoute } from '../../src/store/types.js';

const NS = 'psarn.internal.';
const route = (targets: [string, number, number?][], extra: Partial<SavedRoute> = {}): SavedRoute => ({
  path: 'orders/created',
  ttl: 300,
  policy: 'weighted',
  targets: targets.map(([target, weight, priority]) => ({ target, weight, priority: priority ?? 10 })),
  metadata: {},
  updatedAt: 0,
  ...extra,
});
const entry = (e: Partial<RouteHistoryEntry>): RouteHistoryEntry => ({
  seq: 1,
  serial: 1,
  at: 0,
  op: 'set',
  change: 'updated',
  ...e,
});

describe('history lines', () => {
  it('names an ARN by its resource (a Lambda by its function), and two that would collide in full', () => {
    const a = 'arn:aws:lambda:us-east-1:123456789012:function:orders';
    const b = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';
    const q = 'arn:aws:sqs:us-east-1:123456789012:orders-dlq';
    const live = 'arn:aws:lambda:us-east-1:123456789012:function:pay:live';
    const hook = 'https://hooks.example.com/in?token=s3cret&x=1';
    const plain = 'https://hooks.example.com/in?region=eu';
    const labels = targetLabels([
      route([
        [a, 1],
        [q, 1],
        [live, 1],
      ]),
      route([
        [b, 1],
        [hook, 1],
        [plain, 1],
      ]),
      null,
      undefined,
    ]);
    assert.deepEqual(Object.fromEntries(labels), {
      [a]: a,
      [q]: 'orders-dlq',
      [live]: 'pay:live',
      [b]: b,
      [hook]: 'https://hooks.example.com/in?token=…&x=…',
      [plain]: plain,
    });
    assert.ok(![...labels.values()].some((l) => l.includes('s3cret')), 'no secret shown');
  });

  it('says each kind of change in words', () => {
    const v1 = 'arn:aws:lambda:us-east-1:123456789012:function:v1';
    const v2 = 'arn:aws:lambda:us-east-1:123456789012:function:v2';
    const before = route(
      [
        [v1, 90],
        [v2, 10],
      ],
      { metadata: { team: 'a', gone: 'x' } },
    );
    const after = route(
      [
        [v1, 50],
        [v2, 50, 5],
      ],
      { ttl: 60, policy: 'fanout', metadata: { team: 'b', new: 'y' } },
    );
    const labels = targetLabels([before, after]);
    const line = (e: Partial<RouteHistoryEntry>) => describeEntry(entry(e), labels, NS);
    assert.equal(
      line({ before, after }),
      'set  v1=90 v2=10 → v1=50 v2=50@5, policy weighted → fanout, ttl 300 → 60, meta team=a → team=b, meta -gone, meta +new=y',
    );
    assert.equal(
      line({ change: 'created', before: null, after }),
      'created  v1=50 v2=50@5, fanout, ttl 60, meta team=b, meta new=y',
    );
    assert.equal(
      line({ change: 'deleted', before, after: null }),
      'deleted  (was v1=90 v2=10, weighted, ttl 300, meta team=a, meta gone=x)',
    );
    const alias = route([], { policy: undefined, alias: 'latest.orders.123456789012.us-east-1.aws.psarn.internal.' });
    assert.equal(
      line({ before, after: { ...alias, metadata: before.metadata } }),
      'set  v1=90 v2=10 → alias arn:aws:psarn:us-east-1:123456789012:orders/latest',
    );
    assert.equal(
      line({ op: 'import', change: 'created', before: null, after }),
      'zone import  created  v1=50 v2=50@5, fanout, ttl 60, meta team=b, meta new=y',
    );
    assert.equal(
      line({ op: 'import', change: 'unknown', before }),
      'zone import  may have changed it (an import journals the zone, not each route)',
    );
    assert.equal(
      line({ op: 'flush', change: 'flush', epoch: { before: 3, after: 4 } }),
      "flush  epoch 3 → 4: every caller refetches the zone's routes",
    );
    assert.equal(line({ op: 'create', change: 'zone created' }), 'zone created');
  });
});
