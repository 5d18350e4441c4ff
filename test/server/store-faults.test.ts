/**
 * psarnd on a faulty database file (issue 8, defect 5.6), in-process on 127.0.0.1 port 0:
 * the demo routes go only into a database it created; a damaged file answers SERVFAIL with a
 * bounded log and /ready 503 while reads fail.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { type Config, defaultConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { Store } from '../../src/store/store.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { CORRUPT_ZONE, routePath, writeCorruptDatabase } from '../helpers/corrupt.js';
import { projectRoot } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';
import { tempDir } from '../store/helpers.js';

const tmp = tempDir();
after(tmp.cleanup);

function config(db: string, demo: boolean): Config {
  const base = defaultConfig(projectRoot);
  return {
    ...base,
    db,
    listen: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    demoRoutes: demo ? join(projectRoot, 'config', 'demo-routes.yaml') : null,
    routeIndex: false,
    udpIo: 'dgram',
  };
}

function logger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

async function get(d: Daemon, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${d.http!.host}:${d.http!.port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('psarnd and the demo routes', () => {
  it('loads the demo into a database it creates', async () => {
    const file = tmp.file('fresh.db');
    const { log, lines } = logger();
    const d = await startDaemon(config(file, true), { log, http: false });
    await d.close();
    assert.ok(lines.some((l) => l.msg === 'new database: loaded the demo routes'));
    const store = Store.open(file, { create: false });
    assert.equal(store.zones().length, 1);
    store.close();
  });

  it('gives an existing database without zones nothing', async () => {
    const file = tmp.file('existing.db');
    Store.open(file).close();
    const { log } = logger();
    const d = await startDaemon(config(file, true), { log, http: false });
    await d.close();
    const store = Store.open(file, { create: false });
    assert.equal(store.zones().length, 0);
    store.close();
  });

  it('refuses to start on a 0-byte file, which stays 0 bytes: a truncated copy never serves the demo', async () => {
    const file = tmp.file('truncated.db');
    writeFileSync(file, '');
    const { log } = logger();
    await assert.rejects(startDaemon(config(file, true), { log, http: false }), {
      code: 'ERR_DB_NOT_PSARN',
      message: new RegExp(`database '${file}' is not a psarn database: the file is empty \\(0 bytes\\)`),
    });
    assert.equal(statSync(file).size, 0);
  });
});

describe('psarnd on a damaged database file', () => {
  const file = tmp.file('corrupt.db');
  let d: Daemon | undefined;
  const { log, lines } = logger();

  before(async () => {
    writeCorruptDatabase(file, { routes: 2000 });
    d = await startDaemon(config(file, false), { log });
  });
  after(async () => {
    await d?.close();
  });

  it('starts, since the zones table is intact, and is ready', async () => {
    assert.deepEqual(await get(d!, '/ready'), { status: 200, body: '{"status":"ready"}\n' });
    const soa = await query(d!.dns, CORRUPT_ZONE, Type.SOA);
    assert.equal(soa.rcode, Rcode.NOERROR);
  });

  it('answers SERVFAIL for routes on damaged pages, logs 5 lines for 300 queries, and /ready is 503', async () => {
    for (let i = 0; i < 300; i++) {
      const reply = await query(d!.dns, `${routePath(i).split('/').reverse().join('.')}.${CORRUPT_ZONE}`, Type.URI);
      assert.equal(reply.rcode, Rcode.SERVFAIL);
    }
    const errors = lines.filter((l) => l.msg === 'internal error answering a query; replied SERVFAIL');
    assert.equal(errors.length, 5);
    assert.equal((errors[0]!.err as { type: string }).type, 'StoreError');
    assert.deepEqual(await get(d!, '/ready'), { status: 503, body: '{"status":"store failing"}\n' });
    assert.equal((await get(d!, '/health')).status, 200, 'alive, so it is not restarted in a loop');
  });
});
