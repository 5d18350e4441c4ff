import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatShare } from '../../src/cli/shares.js';
import { edgeShares } from '../../src/map/shares.js';
import type { Policy } from '../../src/store/types.js';

/** [policy, targets as `weight@priority`, expected shares as formatShare prints them] */
const table: [string, Policy, string[], string[]][] = [
  ['90/10 split', 'weighted', ['90@10', '10@10'], ['90%', '10%']],
  ['single target', 'weighted', ['1@10'], ['100%']],
  ['thirds round to one decimal', 'weighted', ['1@10', '1@10', '1@10'], ['33.3%', '33.3%', '33.3%']],
  ['weight 0 is drained', 'weighted', ['0@10', '5@10'], ['drained', '100%']],
  ['all weights 0 split evenly', 'weighted', ['0@10', '0@10'], ['50%', '50%']],
  ['higher priority value is failover', 'weighted', ['1@20', '3@10', '1@10'], ['failover', '75%', '25%']],
  ['failover even when its weight is 0', 'weighted', ['0@30', '1@0'], ['failover', '100%']],
  ['priority 0 is the lowest', 'weighted', ['1@0', '1@65535'], ['100%', 'failover']],
  ['fanout: every positive weight gets all', 'fanout', ['1@10', '7@20'], ['100%', '100%']],
  ['fanout: weight 0 drained', 'fanout', ['0@10', '1@10'], ['drained', '100%']],
  ['no targets', 'weighted', [], []],
];

function targets(specs: string[]) {
  return specs.map((s) => {
    const [w, p] = s.split('@');
    return { weight: Number(w), priority: Number(p) };
  });
}

describe('edgeShares', () => {
  for (const [title, policy, specs, expected] of table) {
    it(title, () => {
      assert.deepEqual(edgeShares(policy, targets(specs)).map(formatShare), expected);
    });
  }

  it('returns exact fractions that sum to 1 in the primary group', () => {
    const shares = edgeShares('weighted', targets(['90@10', '10@10', '5@20']));
    assert.equal(shares[0]!.share, 0.9);
    assert.equal(shares[1]!.share, 0.1);
    assert.deepEqual(shares[2], { share: 0, role: 'failover' });
  });
});
