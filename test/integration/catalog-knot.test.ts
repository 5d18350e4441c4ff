/**
 * Knot DNS as a consumer of psarn's catalog zone (RFC 9432): knotd loads the catalog that
 * `psarn zone export catalog.psarn.internal` writes, with `catalog-role: interpret`, adds every
 * member zone (their files exported beside it), and after a zone is created and the catalog
 * exported again, `knotc zone-reload` adds the new member, with the catalog's serial moved: the
 * format is one a real consumer reads. Over files, not transfers: AXFR comes with another part
 * of issue 10, and then the same check runs against psarnd as Knot's primary.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../../bench/knot.js';
import { Type } from '../../src/wire/types.js';
import { cliOn } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';
import { skipUnlessTool, toolPath } from '../helpers/tools.js';

const run = promisify(execFile);
const CAT = 'catalog.psarn.internal';
const A = '123456789012.us-east-1.aws.psarn.internal';
const B = '210987654321.eu-west-1.aws.psarn.internal';
const C = '444455556666.ap-southeast-2.aws.psarn.internal';

describe('Knot interprets the catalog zone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-catalog-knot-'));
  const db = { db: join(dir, 'psarn.db') };
  const conf = join(dir, 'knot.conf');
  const logFile = join(dir, 'knot.log');
  let knot: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port = 0;

  const exportZone = (zone: string, file: string) => cliOn(db, 'zone', 'export', zone, '--output', file);
  const knotLog = () => readFileSync(logFile, 'utf8');
  /** Asks knotd for a zone's SOA until it answers, for at most 5 s. */
  async function knotServes(zone: string): Promise<boolean> {
    for (let i = 0; i < 100; i++) {
      const m = await query({ host: '127.0.0.1', port }, `${zone}.`, Type.SOA).catch(() => undefined);
      if (m?.answer[0]?.type === 'SOA') return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  /** The catalog's SOA serial as knotd holds it (Knot does not answer queries for a catalog it interprets). */
  async function knotSerial(zone: string): Promise<number> {
    const { stdout } = await run(toolPath('knotc')!, ['-c', conf, 'zone-read', zone, '@', 'SOA']);
    const serial = /\sSOA\s+\S+\s+\S+\s+(\d+)\s/.exec(stdout)?.[1];
    assert.ok(serial !== undefined, `no SOA for ${zone} from knotc: ${stdout}`);
    return Number(serial);
  }

  before(async () => {
    if (toolPath('knotd') === undefined) return;
    await cliOn(db, 'db', 'init');
    await cliOn(db, 'route', 'set', 'arn:aws:psarn:us-east-1:123456789012:a/b', '--target', 'https://a.example/');
    await cliOn(db, 'route', 'set', 'arn:aws:psarn:eu-west-1:210987654321:c', '--target', 'https://b.example/');
    for (const zone of [A, B]) await exportZone(zone, join(dir, `${zone}.zone`));
    await exportZone(CAT, join(dir, 'catalog.zone'));
    mkdirSync(join(dir, 'knot'));
    port = await freePort();
    writeFileSync(
      conf,
      [
        'server:',
        `    listen: 127.0.0.1@${port}`,
        `    rundir: ${join(dir, 'knot')}`,
        '    background-workers: 1',
        '    udp-workers: 1',
        '    tcp-workers: 1',
        'database:',
        `    storage: ${join(dir, 'knot')}`,
        'log:',
        '  - target: stderr',
        '    any: info',
        'template:',
        '  - id: default',
        `    storage: ${dir}`,
        '  - id: member',
        `    storage: ${dir}`,
        `    file: ${dir}/%s.zone`,
        'zone:',
        `  - domain: ${CAT}`,
        `    file: ${join(dir, 'catalog.zone')}`,
        '    catalog-role: interpret',
        '    catalog-template: member',
        '',
      ].join('\n'),
    );
    const fd = openSync(logFile, 'w');
    try {
      knot = spawn(toolPath('knotd')!, ['-c', conf], { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    exited = new Promise((resolve) => {
      knot!.once('exit', () => resolve());
      knot!.once('error', () => resolve());
    });
  });

  after(async () => {
    if (knot !== undefined && knot.exitCode === null && knot.signalCode === null) {
      knot.kill('SIGTERM');
      const grace = setTimeout(() => knot?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(grace);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds every zone the catalog lists, and serves it', async (t) => {
    if (!skipUnlessTool(t, 'knotd')) return;
    assert.ok(await knotServes(A), `knotd did not serve ${A}: ${knotLog().slice(-600)}`);
    assert.ok(await knotServes(B), `knotd did not serve ${B}: ${knotLog().slice(-600)}`);
    for (const zone of [A, B])
      assert.match(knotLog(), new RegExp(`\\[${zone.replaceAll('.', '\\.')}\\.\\] zone added from catalog`));
  });

  it('adds a zone created later, once the catalog is exported again and reloaded', async (t) => {
    if (!skipUnlessTool(t, 'knotd') || !skipUnlessTool(t, 'knotc')) return;
    const serialBefore = await knotSerial(CAT);
    await cliOn(
      db,
      'route',
      'set',
      'arn:aws:psarn:ap-southeast-2:444455556666:billing/paid',
      '--target',
      'https://c.example/',
    );
    await exportZone(C, join(dir, `${C}.zone`));
    await exportZone(CAT, join(dir, 'catalog.zone'));
    await run(toolPath('knotc')!, ['-c', conf, 'zone-reload', CAT]);
    assert.ok(await knotServes(C), `knotd did not serve ${C}: ${knotLog().slice(-600)}`);
    assert.match(knotLog(), new RegExp(`\\[${C.replaceAll('.', '\\.')}\\.\\] zone added from catalog`));
    // What a secondary compares before it transfers the catalog again (RFC 1995 §2, RFC 1982).
    assert.ok((await knotSerial(CAT)) > serialBefore);
  });
});
