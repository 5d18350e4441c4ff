import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig, zoneParams } from '../../src/config/config.js';
import { DEFAULT_TARGET_POLICY } from '../../src/psarn/target-policy.js';
import { demoRoutesFile, loadDemoRoutes } from '../../src/server/demo.js';
import { Store } from '../../src/store/store.js';

describe('demo routes', () => {
  it('the default path falls back to the package copy when run from another folder', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'psarn-cwd-'));
    const file = demoRoutesFile(join(elsewhere, 'config', 'demo-routes.yaml'), elsewhere);
    assert.ok(existsSync(file), file);
    assert.match(file, /config[/\\]demo-routes\.yaml$/);
  });

  it('a file the user named is kept as named, even when missing', () => {
    assert.equal(demoRoutesFile('/nowhere/routes.yaml', '/tmp'), '/nowhere/routes.yaml');
  });

  it('loads the four demo routes in one import', () => {
    const store = Store.open(':memory:');
    const config = defaultConfig(process.cwd());
    const file = demoRoutesFile(config.demoRoutes!);
    assert.equal(loadDemoRoutes(store, file, config), 4);
    const zone = store.zones()[0]!;
    assert.equal(zone.name, '123456789012.us-east-1.aws.psarn.internal.');
    assert.deepEqual(
      [...store.listRoutes()].map((r) => r.path),
      ['orders/audit', 'orders/created', 'orders/latest', 'payments/charge'],
    );
    assert.equal(
      store.getRoute(zone.name, 'orders/latest')?.alias,
      'created.orders.123456789012.us-east-1.aws.psarn.internal.',
    );
    assert.deepEqual(zoneParams(config).nameservers, zone.nameservers);
    store.close();
  });

  it('the demo routes go through the targets policy: a refused target loads nothing', () => {
    const store = Store.open(':memory:');
    const config = { ...defaultConfig(process.cwd()), targets: { ...DEFAULT_TARGET_POLICY, services: ['lambda'] } };
    assert.throws(
      () => loadDemoRoutes(store, demoRoutesFile(config.demoRoutes!), config),
      /routes\[1\]\.targets\[0\] target 'arn:aws:sqs:[^']+' is not allowed: service 'sqs' is not in targets\.services/,
    );
    assert.equal(store.zones().length, 0);
    store.close();
  });
});
