/**
 * Every `$ psarn ...` example of docs/cli.md, run in the order the page gives them on the demo
 * routes with psarnd serving them, prints what the page shows (issue 9: the `route list` example
 * said `ttl 60` where the command prints 300). Times, dates, message ids and the server's port
 * are the only differences allowed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { entryArgs, projectRoot } from '../helpers/daemon.js';
import { tempDir } from '../store/helpers.js';

const run = promisify(execFile);

interface Example {
  argv: string[];
  expected: string;
  line: number;
}

/** The code blocks of the page that start with `$ psarn`: the command (`\` continues it) and its output. */
function examples(page: string): Example[] {
  const found: Example[] = [];
  const lines = page.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('```') || !lines[i + 1]?.startsWith('$ psarn ')) continue;
    const start = i + 1;
    let command = '';
    let j = start;
    for (; ; j++) {
      const part = lines[j]!.replace(/^\$ /, '');
      command += part.replace(/\\$/, ' ');
      if (!part.endsWith('\\')) break;
    }
    const end = lines.indexOf('```', j + 1);
    found.push({
      argv: command.trim().split(/\s+/).slice(1),
      expected: lines.slice(j + 1, end).join('\n'),
      line: start + 1,
    });
    i = end;
  }
  return found;
}

/** What varies from run to run. */
function normalized(text: string): string {
  return text
    .replace(/^(updated:\s+)\S+$/gm, '$1<time>')
    .replace(/"updatedAt": "[^"]+"/g, '"updatedAt": "<time>"')
    .replace(/, id: \d+$/gm, ', id: <id>')
    .replace(/^;; Query time: \d+ msec$/gm, ';; Query time: <n> msec')
    .replace(/^;; SERVER: 127\.0\.0\.1#\d+\(UDP\)$/gm, ';; SERVER: 127.0.0.1#<port>(UDP)')
    .replace(/^;; WHEN: .*$/gm, ';; WHEN: <date>')
    .replace(/ in \d+ ms$/gm, ' in <n> ms')
    .trimEnd();
}

describe('docs/cli.md examples', () => {
  const tmp = tempDir();
  let daemon: Daemon | undefined;
  const db = tmp.file('psarn.db');
  const var_ = join(tmp.dir, 'var');

  before(async () => {
    mkdirSync(var_);
    const config = {
      ...defaultConfig(projectRoot),
      db,
      listen: { host: '127.0.0.1', port: 0 },
      demoRoutes: join(projectRoot, 'config', 'demo-routes.yaml'),
      routeIndex: false,
      udpIo: 'dgram' as const,
    };
    daemon = await startDaemon(config, { log: pino({ level: 'silent' }), http: false });
  });
  after(async () => {
    await daemon?.close();
    tmp.cleanup();
  });

  it('print what the page shows, run in its order on the demo routes', async () => {
    const page = readFileSync(join(projectRoot, 'docs', 'cli.md'), 'utf8');
    const all = examples(page);
    assert.ok(all.length >= 12, `${all.length} examples`);
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSARN_'))),
      PSARN_DB: db,
      PSARN_LISTEN: `127.0.0.1:${daemon!.dns.port}`,
    };
    for (const example of all) {
      const argv = example.argv.map((a) => a.replace('/var/lib/psarn/', `${var_}/`));
      const { stdout } = await run(process.execPath, [...entryArgs('cli'), ...argv], { cwd: tmp.dir, env });
      // The running daemon picks a change up within 100 ms; a dig right after a write waits for it.
      daemon!.poll();
      assert.equal(
        normalized(stdout.replaceAll(`${var_}/`, '/var/lib/psarn/')),
        normalized(example.expected),
        `docs/cli.md:${example.line}: psarn ${example.argv.join(' ')}`,
      );
    }
  });
});
