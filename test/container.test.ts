/**
 * The Dockerfile, read as a reviewer reads it (no Docker engine runs here or in CI, so the image
 * is never built): the build context holds only what the build stage copies, psarn and psarnd
 * are on the image's PATH as the files the build makes, and the database lives on /data.
 * test/integration/first-start.test.ts runs psarnd with the image's config (its ENV).
 */
import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from './helpers/daemon.js';

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(): { stage: number; op: string; args: string }[] {
  const text = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '');
  let stage = -1;
  return lines.map((line) => {
    const [, op, args] = /^\s*(\w+)\s+(.*)$/.exec(line)!;
    if (op!.toUpperCase() === 'FROM') stage++;
    return { stage, op: op!.toUpperCase(), args: args!.trim() };
  });
}

const dockerignore = () =>
  readFileSync(join(projectRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('the container image (Dockerfile, read, not built)', () => {
  it('.dockerignore sends only what the build copies: no node_modules, dist, data, databases or .git', () => {
    const rules = dockerignore();
    // Everything is left out first, then the sources are let back in.
    assert.equal(rules[0], '*');
    const allowed = new Set(rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1)));
    const copied = instructions()
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    assert.ok(copied.length >= 4, `COPY sources: ${copied}`);
    for (const source of copied) assert.ok(allowed.has(source.replace(/\/$/, '')), `${source} is copied but ignored`);
    for (const kept of allowed) {
      assert.doesNotMatch(kept, /^(node_modules|dist|data|\.git)\b/, `${kept} must stay out of the context`);
    }
    for (const rule of ['**/node_modules', 'src/native/build', '**/*.db']) assert.ok(rules.includes(rule), rule);
  });

  it('puts psarn and psarnd on the PATH as the bin entries the build makes, executable', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const final = instructions().filter((i) => i.stage === 1);
    const workdir = final.find((i) => i.op === 'WORKDIR')?.args;
    assert.equal(workdir, '/app');
    const links = new Map(
      final
        .filter((i) => i.op === 'RUN')
        .flatMap((i) => [...i.args.matchAll(/ln -s (\S+) (\S+)/g)])
        .map(([, from, to]) => [to!, from!]),
    );
    for (const [name, file] of Object.entries(pkg.bin)) {
      assert.equal(links.get(`/usr/local/bin/${name}`), `/app/${file}`, name);
      // The final stage copies dist/src whole from the build, which made these files executable.
      assert.ok(file.startsWith('dist/src/'));
      assert.doesNotThrow(() => accessSync(join(projectRoot, file), constants.X_OK), file);
    }
    assert.ok(final.some((i) => i.op === 'COPY' && /^--from=build \/app\/dist\/src \.\/dist\/src$/.test(i.args)));
  });

  it('runs as uid 1000 (node) with /data owned by it, the database on /data', () => {
    const final = instructions().filter((i) => i.stage === 1);
    assert.match(final.find((i) => i.op === 'FROM')!.args, /^node:24-bookworm-slim$/);
    assert.equal(final.find((i) => i.op === 'USER')?.args, 'node');
    assert.ok(final.some((i) => i.op === 'RUN' && /chown node:node \/data/.test(i.args)));
    assert.ok(final.some((i) => i.op === 'ENV' && /\bPSARN_DB=\/data\/psarn\.db\b/.test(i.args)));
    assert.ok(final.some((i) => i.op === 'VOLUME' && i.args.includes('/data')));
  });

  it("copies each workspace package the image's node_modules links to: its package.json and entry module", () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { workspaces?: string[] };
    const copied = new Set(
      instructions()
        .filter((i) => i.stage === 1 && i.op === 'COPY' && i.args.startsWith('--from=build '))
        .map((i) => i.args.split(/\s+/)[1]!),
    );
    assert.ok((pkg.workspaces ?? []).length > 0);
    for (const workspace of pkg.workspaces ?? []) {
      // npm ci links node_modules/<name> -> ../<workspace>; without these the link dangles.
      const manifest = JSON.parse(readFileSync(join(projectRoot, workspace, 'package.json'), 'utf8')) as {
        exports: Record<string, { default: string }>;
      };
      assert.ok(copied.has(`/app/${workspace}/package.json`), `${workspace}/package.json is not copied`);
      const entry = join(workspace, manifest.exports['.']!.default);
      assert.ok(copied.has(`/app/${entry}`), `${entry} is not copied`);
    }
  });
});
