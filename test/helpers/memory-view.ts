/**
 * An in-memory ZoneView built from master-file text, so answer tests are written in zone-file
 * syntax (STYLE.md) and need no database.
 */
import { normalizeNamespace } from '../../src/psarn/name.js';
import type { StoredRoute, ZoneRow } from '../../src/store/types.js';
import { findDeepestZone, type ZoneView } from '../../src/zone/view.js';
import { buildZones } from '../../src/zonefile/import.js';
import { parseMasterFile } from '../../src/zonefile/parse.js';
import { PARAMS } from './fixtures.js';

export class MemoryView implements ZoneView {
  readonly epochTtl: number;
  readonly zones = new Map<string, ZoneRow>();
  readonly routes = new Map<string, Map<string, StoredRoute>>();

  constructor(text: string, options: { epochTtl?: number; namespace?: string } = {}) {
    this.epochTtl = options.epochTtl ?? 5;
    const namespace = normalizeNamespace(options.namespace ?? 'psarn.internal.');
    let id = 1;
    for (const content of buildZones(parseMasterFile(text), namespace)) {
      const zone: ZoneRow = {
        ...PARAMS,
        ...content.params,
        id: id++,
        name: content.name,
        serial: content.serial ?? 1,
        epoch: content.epoch ?? 1,
      };
      this.zones.set(zone.name, zone);
      const routes = new Map<string, StoredRoute>();
      for (const { path, spec } of content.routes) {
        const base = {
          zone: zone.name,
          path,
          ttl: spec.ttl,
          metadata: { ...spec.metadata },
          serial: zone.serial,
          updatedAt: 0,
        };
        routes.set(
          path,
          'alias' in spec
            ? { ...base, targets: [], alias: spec.alias }
            : { ...base, policy: spec.policy, targets: spec.targets },
        );
      }
      this.routes.set(zone.name, routes);
    }
  }

  read<T>(fn: () => T): T {
    return fn();
  }

  findZone(labels: readonly string[]): ZoneRow | undefined {
    return findDeepestZone(this.zones, labels);
  }

  getRoute(zone: ZoneRow, path: string): StoredRoute | undefined {
    return this.routes.get(zone.name)?.get(path);
  }

  getMetadata(zone: ZoneRow, path: string): Record<string, string> | undefined {
    return this.routes.get(zone.name)?.get(path)?.metadata;
  }

  hasDescendants(zone: ZoneRow, path: string): boolean {
    for (const key of this.routes.get(zone.name)?.keys() ?? []) if (key.startsWith(`${path}/`)) return true;
    return false;
  }
}
