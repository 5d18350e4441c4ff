/**
 * `psarn zone export` of the demo zone, as a user runs it: named-checkzone and kzonecheck accept
 * the file, and `zone import` into a fresh database then `zone export` gives the same text.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { entryArgs, projectRoot, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { skipUnlessTool } from '../helpers/tools.js';

const run = promisify(execFile);
const ZONE = '123456789012.us-east-1.aws.psarn.internal';

describe('psarn zone export', () => {
  let d: RunningDaemon;
  let file: string;
  const cli = (...args: string[]) => run(process.execPath, [...entryArgs('cli'), ...args], { cwd: projectRoot });

  before(async () => {
    d = await startPsarnd();
    file = join(d.dir, 'zone.txt');
    await cli('zone', 'export', ZONE, '--output', file, '--db', d.db);
  });
  after(async () => {
    await d?.stop();
  });

  it('holds the demo routes', () => {
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^created\.orders\.\S+\s+300\s+IN\s+URI\s+10 90 "arn:aws:lambda:/m);
    assert.match(text, /^latest\.orders\.\S+\s+300\s+IN\s+CNAME\s+created\.orders\./m);
    assert.match(text, /IN\s+SOA\s+ns\.psarn\.internal\. hostmaster\.psarn\.internal\./);
  });

  it('named-checkzone accepts it', async (t) => {
    if (!skipUnlessTool(t, 'named-checkzone')) return;
    const { stdout } = await run('named-checkzone', [ZONE, file]);
    assert.match(stdout, /OK/);
  });

  it('kzonecheck accepts it', async (t) => {
    if (!skipUnlessTool(t, 'kzonecheck')) return;
    await run('kzonecheck', ['-o', ZONE, file]);
  });

  it('import into a fresh database, then export, gives the same file', async () => {
    const db = join(d.dir, 'copy.db');
    await cli('db', 'init', '--db', db);
    await cli('zone', 'import', file, '--db', db);
    const again = (await cli('zone', 'export', ZONE, '--db', db)).stdout;
    assert.equal(again, readFileSync(file, 'utf8'));
  });
});
