import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Config, defaultConfig, loadConfig, zoneParams } from '../../src/config/config.js';
import { DEFAULT_TARGET_POLICY } from '../../src/psarn/target-policy.js';
import { demoRoutesFor, loadDemoRoutes, readDemoRoutes } from '../../src/server/demo.js';
import { Store } from '../../src/store/store.js';
import { projectRoot } from '../helpers/daemon.js';
import { tempDir } from '../store/helpers.js';

const DEMO = join(projectRoot, 'config', 'demo-routes.yaml');

function withDemo(overrides: Partial<Config> = {}): Config {
  return { ...defaultConfig(projectRoot), db: ':memory:', demoRoutes: DEMO, ...overrides };
}

describe('demo routes', () => {
  it('are named only by the checkout config, not by the built-in defaults (issue 9)', () => {
    assert.equal(defaultConfig(projectRoot).demoRoutes, null);
    assert.equal(loadConfig({ cwd: projectRoot, env: {} }).config.demoRoutes, DEMO);
    assert.equal(demoRoutesFor(defaultConfig(projectRoot)), undefined);
  });

  it('are not read when the database exists: an existing file never gets them', () => {
    const tmp = tempDir();
    try {
      const db = tmp.file('exists.db');
      Store.open(db).close();
      // A demo file that does not even exist is not looked at.
      assert.equal(demoRoutesFor(withDemo({ db, demoRoutes: tmp.file('missing.yaml') })), undefined);
    } finally {
      tmp.cleanup();
    }
  });

  it('loads the four demo routes in one import', () => {
    const store = Store.open(':memory:');
    const config = withDemo();
    assert.equal(loadDemoRoutes(store, demoRoutesFor(config)), 4);
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

  it('go only into a store that this open created', () => {
    const tmp = tempDir();
    try {
      const db = tmp.file('made-by-init.db');
      const demo = readDemoRoutes(DEMO, withDemo());
      Store.open(db).close();
      const store = Store.open(db);
      assert.equal(store.created, false);
      assert.equal(loadDemoRoutes(store, demo), 0);
      assert.equal(store.zones().length, 0);
      store.close();
    } finally {
      tmp.cleanup();
    }
  });

  it('the demo routes go through the targets policy: a refused target stops before any database is made', () => {
    const config = withDemo({ targets: { ...DEFAULT_TARGET_POLICY, services: ['lambda'] } });
    assert.throws(
      () => demoRoutesFor(config),
      /demo-routes\.yaml:\d+: arn:aws:psarn:us-east-1:123456789012:orders\/audit: targets\[0\] target 'arn:aws:sqs:[^']+' is not allowed: service 'sqs' is not in targets\.services/,
    );
  });
});
