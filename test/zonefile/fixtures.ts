/** Hand-built zones and routes for the zonefile tests (no store needed). */
import type { StoredRoute, ZoneRow } from '../../src/store/types.js';
import { PARAMS, ZONE } from '../helpers/fixtures.js';

export { ZONE } from '../helpers/fixtures.js';

export function makeZone(overrides: Partial<ZoneRow> = {}): ZoneRow {
  return {
    id: 1,
    name: ZONE,
    serial: 2024061501,
    epoch: 3,
    ...PARAMS,
    soaTtl: 300,
    nameservers: ['ns.psarn.internal.', 'ns2.example.net.'],
    ...overrides,
  };
}

/** Legal targets with characters a master file must quote or escape: ; ( ) $ @ & = # %, UTF-8, mixed case. */
const ODD_TARGETS = [
  'https://hooks.example.com/p;a(b)$c@d?x=1&y=%20#frag',
  'https://example.org/caf\u00e9/\u20ac?q=(1)',
  'arn:aws:states:us-east-1:123456789012:stateMachine:Order(Flow);V2',
  'arn:aws:events:us-east-1::event-bus/My$Bus@Prod',
  'arn:aws-cn:sqs:cn-north-1:123456789012:Queue_With-Case',
];

/**
 * `count` routes in path order: weighted (one to three targets, priorities for failover),
 * fanout, and every seventh an alias of the route before it.
 */
export function makeRoutes(count: number, zone = ZONE): StoredRoute[] {
  const routes: StoredRoute[] = [];
  for (let i = 0; i < count; i++) {
    const path = i % 11 === 0 ? `a/b/c/d/e/f/g/deep_${i}` : `svc${i % 37}/event-${i}`;
    const base = { zone, path, metadata: {}, serial: 1, updatedAt: 0 };
    if (i % 7 === 6) {
      const prev = routes[routes.length - 1]!;
      const alias = `${prev.path.split('/').reverse().join('.')}.${zone}`;
      routes.push({ ...base, ttl: i % 300, targets: [], alias });
      continue;
    }
    const n = 1 + (i % 3);
    const targets = Array.from({ length: n }, (_, j) => ({
      target:
        j === 1 ? ODD_TARGETS[i % ODD_TARGETS.length]! : `arn:aws:lambda:us-east-1:123456789012:function:Fn-${i}-${j}`,
      weight: (i * 7 + j * 13) % 65536,
      priority: j === 2 ? 20 : 10,
    }));
    routes.push({ ...base, ttl: (i * 17) % 172801, policy: i % 5 === 0 ? 'fanout' : 'weighted', targets });
  }
  return routes;
}
