/**
 * The config files a checkout ships point only at commands that exist (issue 9:
 * config/demo-routes.yaml sent users to `psarn apply`, which does not exist yet).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { projectRoot } from '../helpers/daemon.js';

describe('config/*.yaml comments', () => {
  for (const file of ['demo-routes.yaml', 'psarnd.yaml']) {
    it(`${file} names only psarn commands that exist, or says that one does not yet`, () => {
      // Comment lines joined, so a sentence that wraps is read whole.
      const text = readFileSync(join(projectRoot, 'config', file), 'utf8')
        .split('\n')
        .filter((l) => l.trimStart().startsWith('#'))
        .map((l) => l.replace(/^\s*#\s?/, ''))
        .join(' ');
      const named = [...text.matchAll(/`psarn ([a-z]+)(?: ([a-z]+))?/g)];
      for (const m of named) {
        const command = COMMANDS[`${m[1]} ${m[2]}`] ?? COMMANDS[m[1]!];
        const after = text.slice(m.index, m.index + 120);
        assert.ok(
          command !== undefined || /does not exist yet/.test(after),
          `${file}: \`psarn ${m[1]}${m[2] ? ` ${m[2]}` : ''}\` is not a command and is not said to be missing`,
        );
      }
    });
  }
});
