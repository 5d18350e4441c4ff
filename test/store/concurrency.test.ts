/**
 * Two connections on one file, as the daemon (reader) and the CLI (writer) are: WAL gives each
 * reader a snapshot, so a setRoute is seen whole or not at all (docs/design.md#atomicity).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { extname } from 'node:path';
import { after, describe, it } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Store } from '../../src/store/index.js';
import { lambda, PARAMS, tempDir, weighted, ZONE } from './helpers.js';

const tmp = tempDir();
after(tmp.cleanup);

const AB = [lambda('A'), lambda('B')].join(',');
const CDE = [lambda('C'), lambda('D'), lambda('E')].join(',');

describe('two connections on one file', () => {
  it("the reader's dataVersion changes when the writer commits, not otherwise", () => {
    const file = tmp.file('two.db');
    const writer = Store.open(file);
    const reader = Store.open(file, { create: false });
    const v0 = reader.dataVersion();
    assert.equal(reader.dataVersion(), v0, 'stable without commits');
    writer.setRoute(ZONE, 'orders/created', weighted('A', 'B'), PARAMS);
    const v1 = reader.dataVersion();
    assert.notEqual(v1, v0);
    assert.equal(reader.getRoute(ZONE, 'orders/created')?.targets.length, 2);
    assert.throws(() => writer.deleteRoute(ZONE, 'nope'), { code: 'ERR_ROUTE_NOT_FOUND' });
    assert.equal(reader.dataVersion(), v1, 'a rolled-back write is not a commit');
    writer.flush(ZONE);
    assert.notEqual(reader.dataVersion(), v1);
    writer.close();
    reader.close();
  });

  it('read() holds one snapshot: a commit in the middle is invisible until it ends', () => {
    const file = tmp.file('snapshot.db');
    const writer = Store.open(file);
    const reader = Store.open(file, { readonly: true, create: false });
    writer.setRoute(ZONE, 'orders/created', weighted('A', 'B'), PARAMS);
    const seen = reader.read(() => {
      const before = reader.getRoute(ZONE, 'orders/created');
      writer.setRoute(ZONE, 'orders/created', weighted('C', 'D', 'E'), PARAMS);
      writer.setRoute(ZONE, 'orders/other', weighted('X'), PARAMS);
      return {
        before,
        after: reader.getRoute(ZONE, 'orders/created'),
        other: reader.getRoute(ZONE, 'orders/other'),
        serial: reader.zone(ZONE)?.serial,
      };
    });
    assert.deepEqual(seen.after, seen.before);
    assert.equal(seen.other, undefined);
    assert.equal(seen.serial, 2);
    assert.equal(reader.getRoute(ZONE, 'orders/created')?.targets.length, 3, 'visible once read() ends');
    assert.equal(reader.zone(ZONE)?.serial, 4);
    writer.close();
    reader.close();
  });

  it('a reader in another process sees each setRoute whole: targets exactly {A,B} or {C,D,E}', async (t) => {
    const file = tmp.file('procs.db');
    const setup = Store.open(file);
    setup.setRoute(ZONE, 'orders/created', weighted('A', 'B'), PARAMS);
    setup.close();

    const self = fileURLToPath(import.meta.url);
    const script = self.replace(/concurrency\.test(\.[cm]?[jt]s)$/, `writer-process${extname(self)}`);
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    const exited = once(child, 'exit');
    try {
      while (!out.includes('ready')) {
        assert.equal(child.exitCode, null, 'writer exited early');
        await once(child.stdout, 'data');
      }
      const reader = Store.open(file, { create: false });
      const counts = { AB: 0, CDE: 0 };
      let versions = 0;
      let last = reader.dataVersion();
      // Bounded: stop after enough observed commits or a fixed number of reads.
      for (let round = 0; round < 2000 && versions < 200; round++) {
        for (let i = 0; i < 50; i++) {
          const seen = reader.read(() => ({ route: reader.getRoute(ZONE, 'orders/created'), zone: reader.zone(ZONE) }));
          const targets = seen.route?.targets.map((t) => t.target).join(',');
          if (targets === AB) counts.AB++;
          else if (targets === CDE) counts.CDE++;
          else assert.fail(`saw a mixed route: ${targets}`);
          // One snapshot across statements: the zone serial is the serial of its only changing route.
          assert.equal(seen.zone?.serial, seen.route?.serial);
          const v = reader.dataVersion();
          if (v !== last) versions++;
          last = v;
        }
        await yieldToLoop();
      }
      reader.close();
      child.stdin.end();
      const [code] = await exited;
      assert.equal(code, 0);
      const writes = Number(/writes (\d+)/.exec(out)?.[1]);
      t.diagnostic(`writer: ${writes} setRoute; reader: ${JSON.stringify(counts)}, ${versions} commits observed`);
      assert.ok(writes >= 20, `writer made ${writes} writes`);
      assert.ok(versions > 0, 'the reader saw commits from the other process');
      assert.ok(counts.AB > 0 && counts.CDE > 0, `saw both states: ${JSON.stringify(counts)}`);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });
});
