/**
 * The demo routes: something to dig on the README's first run, and nowhere else
 * (docs/design.md#demo-routes-only-into-a-new-database). psarnd loads them only when both hold:
 * - the config in use names `demoRoutes`. The checkout's config/psarnd.yaml does (that is the
 *   file `npm start` reads); the built-in default is none, so psarnd installed from the package
 *   or run by a service unit without that file never loads them, and the container sets none;
 * - psarnd created the database at this very start. A file that existed — one `psarn db init`
 *   made, one a copy restored, even an empty one — may be someone's data and never gets them.
 * The file is read and checked before the database is created, so a bad or missing demo file
 * stops the start with no database made; the load is one import: a crash half-way leaves the
 * new database empty (and it stays so).
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { zoneParams } from '../config/config.js';
import { checkRoutesPolicy, loadRoutesFile, toStoreRoute } from '../config/routes-file.js';
import type { Store } from '../store/store.js';
import type { ZoneContent, ZoneParams } from '../store/types.js';

/** Demo routes read and checked, ready to go into a database this start creates. */
export interface DemoRoutes {
  readonly file: string;
  readonly routes: number;
  readonly zones: readonly ZoneContent[];
  readonly params: ZoneParams;
}

/**
 * The demo routes this start would load: read and checked (grammar, limits, the targets
 * policy) now, before the database exists. Undefined when none will be: the config names no
 * `demoRoutes`, or the database file exists already.
 * `warn` gets a line per target whose query looks like it carries a credential.
 * @throws RoutesFileError naming the file and key.
 */
export function demoRoutesFor(config: Config, warn: (line: string) => void = () => {}): DemoRoutes | undefined {
  if (config.demoRoutes === null) return undefined;
  if (config.db !== ':memory:' && existsSync(config.db)) return undefined;
  return readDemoRoutes(config.demoRoutes, config, warn);
}

/**
 * Reads a routes file into zones for one import; targets go through the config's `targets`
 * policy like any other write. @throws RoutesFileError naming the file and key.
 */
export function readDemoRoutes(file: string, config: Config, warn: (line: string) => void = () => {}): DemoRoutes {
  const zones = new Map<string, ZoneContent>();
  const entries = loadRoutesFile(file);
  for (const line of checkRoutesPolicy(entries, config.targets, file)) warn(line);
  for (const entry of entries) {
    const { zone, path, spec } = toStoreRoute(entry, { defaultTtl: config.defaultTtl, namespace: config.namespace });
    const content = zones.get(zone) ?? { name: zone, routes: [] };
    zones.set(zone, content);
    content.routes.push({ path, spec });
  }
  return { file, routes: entries.length, zones: [...zones.values()], params: zoneParams(config) };
}

/**
 * Loads `demo` into `store` when this very open created the database (Store.created), in one
 * import. @returns the number of routes loaded: 0 when the store did not create the file.
 */
export function loadDemoRoutes(store: Store, demo: DemoRoutes | undefined): number {
  if (demo === undefined || !store.created) return 0;
  store.importZones([...demo.zones], demo.params, { actor: 'psarnd:demo-routes' });
  return demo.routes;
}
