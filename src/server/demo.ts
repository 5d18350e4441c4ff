/**
 * First start: a database psarnd creates gets the demo routes (config demoRoutes), so a new user
 * has something to dig at once. Only one it creates: an existing file, even an empty one, may be
 * a truncated production copy, and must not start serving the demo. All zones in one
 * transaction: a crash half-way leaves the new database empty (and it stays so).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { zoneParams } from '../config/config.js';
import { checkRoutesPolicy, loadRoutesFile, toStoreRoute } from '../config/routes-file.js';
import type { Store } from '../store/store.js';
import type { ZoneContent } from '../store/types.js';
import { packageRoot } from '../version.js';

const DEFAULT_FILE = join('config', 'demo-routes.yaml');

/**
 * The demo routes file to load. The default path is relative to the working directory; when
 * psarnd runs elsewhere (installed globally, a service unit) and that file is absent, the
 * package's own copy is used. A file the user named must exist.
 */
export function demoRoutesFile(configured: string, cwd = process.cwd()): string {
  if (existsSync(configured) || configured !== resolve(cwd, DEFAULT_FILE)) return configured;
  return join(packageRoot(), DEFAULT_FILE);
}

/**
 * Targets go through the config's `targets` policy like any other write; `warn` gets a line per
 * target whose query looks like it carries a credential.
 * @returns the number of routes loaded. @throws RoutesFileError naming the file and key.
 */
export function loadDemoRoutes(
  store: Store,
  file: string,
  config: Config,
  warn: (line: string) => void = () => {},
): number {
  const zones = new Map<string, ZoneContent>();
  const entries = loadRoutesFile(file);
  for (const line of checkRoutesPolicy(entries, config.targets, file)) warn(line);
  for (const entry of entries) {
    const { zone, path, spec } = toStoreRoute(entry, { defaultTtl: config.defaultTtl, namespace: config.namespace });
    const content = zones.get(zone) ?? { name: zone, routes: [] };
    zones.set(zone, content);
    content.routes.push({ path, spec });
  }
  store.importZones([...zones.values()], zoneParams(config));
  return entries.length;
}
