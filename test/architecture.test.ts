/**
 * The import direction of STYLE.md: psarn and wire import nothing of ours; store and zone build
 * on them; client uses psarn and wire only; only the main files wire real collaborators. The
 * base error module, src/errors.ts, is below them all: anything may import it, it imports nothing.
 * And dns-packet is for tests only: the independent decoder our encoders are checked against,
 * never what they are built on.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const underTsx = import.meta.url.endsWith('.ts');
const root = fileURLToPath(new URL(underTsx ? '../src/' : '../../src/', import.meta.url));

/** The base error module: importable from everywhere, importing nothing (not even node:). */
const BASE = 'errors.ts';

/** Folders each folder may import from (besides itself and BASE). */
const ALLOWED: Record<string, string[]> = {
  psarn: [],
  wire: [],
  store: ['psarn', 'wire'],
  zone: ['psarn', 'store', 'wire'],
  zonefile: ['psarn', 'store', 'wire', 'zone'],
  config: ['psarn', 'store', 'wire'],
  client: ['psarn', 'wire'],
  secondary: ['client', 'config', 'map', 'psarn', 'store', 'wire', 'zone', 'zonefile'],
  // DNS UPDATE's meaning on the routes (docs/design.md#dns-update): pure, over store values and records.
  update: ['psarn', 'store', 'wire', 'zone', 'zonefile'],
  // Route operations (docs/design.md#operations): rollouts, gates, holds and replay, apply, history.
  ops: ['client', 'config', 'psarn', 'store', 'wire', 'zone', 'zonefile'],
  // The map (docs/design.md#the-caller-map): the caller map, the graph and change confirmation,
  // over store values, routes and the operations on them.
  map: ['config', 'ops', 'psarn', 'store', 'wire', 'zone', 'zonefile'],
  // The web console's browser code (docs/design.md#web-console): it reads the JSON API only, and
  // may share the map's types.
  console: ['map'],
  server: ['config', 'map', 'ops', 'psarn', 'secondary', 'store', 'update', 'wire', 'zone', 'zonefile', '.'],
  cli: ['client', 'config', 'map', 'ops', 'psarn', 'store', 'wire', 'zone', 'zonefile', '.'],
  '.': ['psarn', 'wire', 'client', 'store', 'zone', 'zonefile', 'config'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.map') ? [p] : [];
  });
}

describe('architecture', () => {
  it('modules import only in the allowed direction', () => {
    const problems: string[] = [];
    for (const file of files(root)) {
      const rel = relative(root, file);
      const folder = rel.includes(sep) ? rel.split(sep)[0]! : '.';
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
        const target = relative(root, join(file, '..', match[1]!));
        if (target.replace(/\.js$/, '.ts') === BASE) continue;
        const targetFolder = target.includes(sep) ? target.split(sep)[0]! : '.';
        if (targetFolder === folder) continue;
        if (!(ALLOWED[folder] ?? []).includes(targetFolder)) problems.push(`${rel} imports ${target}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('nothing under src/ imports dns-packet, and the package does not depend on it', () => {
    const importers = files(root).filter((file) =>
      /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"]dns-packet(?:\/[^'"]*)?['"]/.test(
        readFileSync(file, 'utf8'),
      ),
    );
    assert.deepEqual(
      importers.map((f) => relative(root, f)),
      [],
    );
    const pkg = createRequire(import.meta.url)(join(root, '..', 'package.json')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    assert.equal(pkg.dependencies?.['dns-packet'], undefined, 'dns-packet is a devDependency');
    assert.ok(pkg.devDependencies?.['dns-packet'], 'the tests decode with dns-packet');
  });

  it('the base error module imports nothing, so the client stays light', () => {
    const file = files(root).find((f) => relative(root, f).replace(/\.js$/, '.ts') === BASE);
    assert.ok(file, `${BASE} exists`);
    const text = readFileSync(file, 'utf8');
    assert.deepEqual(
      [...text.matchAll(/^\s*(?:import|export)\b[^;]*\bfrom\s+'[^']+'/gm)].map((m) => m[0]),
      [],
    );
    assert.doesNotMatch(text, /\bimport\s*\(|\brequire\s*\(/);
  });
});
