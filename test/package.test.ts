/** The package as a user imports it: the `exports` map's "." entry (self-reference by name). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe("import from 'psarn'", () => {
  it('exports the psARN grammar and name mapping', async () => {
    const psarn = await import('psarn');
    assert.equal(
      psarn.psarnToName('arn:aws:psarn:us-east-1:123456789012:orders/created'),
      'created.orders.123456789012.us-east-1.aws.psarn.internal.',
    );
    assert.deepEqual(psarn.nameToPsarn('created.orders.123456789012.us-east-1.aws.psarn.internal.').path, [
      'orders',
      'created',
    ]);
    assert.throws(() => psarn.parsePsarn('arn:aws:psarn:us-east-1:1:x'), { code: 'ERR_INVALID_PSARN' });
  });
});
