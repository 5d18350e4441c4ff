/**
 * A secondary's database refuses local writes (docs/design.md#secondary-mode): `route set`,
 * `route delete`, `route alias`, `route weight`, `flush` and `zone import` fail with one line
 * naming the primary and exit 1, and write nothing; reads, `zone export` and `db init` work.
 * Once the mark is gone (a promotion), writes work again.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { Sandbox } from '../cli/helpers.js';
import { ZONE } from '../helpers/fixtures.js';

const ARN = 'arn:aws:psarn:us-east-1:123456789012:orders/created';
const OTHER = 'arn:aws:psarn:us-east-1:123456789012:orders/other';
const TARGET = 'arn:aws:lambda:us-east-1:123456789012:function:v1';

describe('psarn on a secondary copy', () => {
  const box = new Sandbox();
  after(() => box.cleanup());

  it('refuses every write with one line naming the primary, exit 1, and writes nothing', async () => {
    await box.ok(['db', 'init']);
    await box.ok(['route', 'set', ARN, '--target', TARGET]);
    await box.ok(['route', 'set', OTHER, '--target', TARGET]);
    const exported = box.path('zone.txt');
    writeFileSync(exported, await box.ok(['zone', 'export', ZONE]));
    const store = Store.open(box.db, { create: false });
    store.putSetting('secondary.primary', '10.0.0.5:8053');
    const before = { serial: store.zone(ZONE)!.serial, journal: store.journal(ZONE).length };
    store.close();

    for (const argv of [
      ['route', 'set', ARN, '--target', `${TARGET}x`],
      ['route', 'delete', ARN],
      ['route', 'alias', OTHER, ARN],
      ['route', 'weight', ARN, `${TARGET}=5`],
      ['flush', ARN],
      ['zone', 'import', exported],
    ]) {
      const r = await box.run(argv);
      assert.equal(r.status, 1, `${argv.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^psarn: database ${box.db.replaceAll('/', '\\/')} is a secondary copy of 10\\.0\\.0\\.5:8053; change routes on the primary \\(psarn --server 10\\.0\\.0\\.5:8053 --key`,
        ),
        argv.join(' '),
      );
    }
    const check = Store.open(box.db, { create: false });
    assert.deepEqual(
      { serial: check.zone(ZONE)!.serial, journal: check.journal(ZONE).length },
      before,
      'nothing written',
    );
    check.close();

    // Reads, export and db init still work.
    assert.match(await box.ok(['route', 'get', ARN]), /v1/);
    assert.match(await box.ok(['route', 'list']), /orders\/created/);
    assert.match(await box.ok(['zone', 'export', ZONE]), /SOA/);
    await box.ok(['db', 'init']);

    // Promoted (psarnd clears the mark when its config has no secondary): writes work again.
    const promote = Store.open(box.db, { create: false });
    promote.putSetting('secondary.primary', undefined);
    promote.close();
    await box.ok(['route', 'set', ARN, '--target', `${TARGET}x`]);
  });
});
