import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RouteSpec, StoredRoute, ZoneContent, ZoneRow } from '../../src/store/types.js';
import { buildCatalog, catalogRecords } from '../../src/zone/catalog.js';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { exportCatalog, exportZone } from '../../src/zonefile/export.js';
import { buildZones } from '../../src/zonefile/import.js';
import { parseMasterFile } from '../../src/zonefile/parse.js';
import { formatRecord } from '../../src/zonefile/presentation.js';
import { PARAMS } from '../helpers/fixtures.js';
import { skipUnlessTool } from '../helpers/tools.js';
import { makeRoutes, makeZone, ZONE } from './fixtures.js';

const NS = 'psarn.internal.';
const dir = mkdtempSync(join(tmpdir(), 'psarn-zonefile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const exportText = (zone: ZoneRow, routes: StoredRoute[]) => [...exportZone(zone, routes, { epochTtl: 5 })].join('');

/** What import should give back for a zone and its stored routes. */
function expected(zone: ZoneRow, routes: StoredRoute[]): ZoneContent {
  const spec = (r: StoredRoute): RouteSpec =>
    r.alias !== undefined
      ? { ttl: r.ttl, alias: r.alias }
      : { policy: r.policy ?? 'weighted', ttl: r.ttl, targets: r.targets };
  return {
    name: zone.name,
    serial: zone.serial,
    epoch: zone.epoch,
    params: {
      soaTtl: zone.soaTtl,
      mname: zone.mname,
      rname: zone.rname,
      refresh: zone.refresh,
      retry: zone.retry,
      expire: zone.expire,
      minimum: zone.minimum,
      nameservers: zone.nameservers,
      nsTtl: zone.nsTtl,
    },
    // The reader gives a zone's routes in path order, the order the store writes them in.
    routes: routes.map((r) => ({ path: r.path, spec: spec(r) })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

describe('exportZone', () => {
  const zone = makeZone();
  const routes = makeRoutes(3000);

  it('writes header, SOA, NS, _epoch, then URI+TXT or CNAME per route', () => {
    const text = exportText(zone, makeRoutes(7));
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(2, 12), [
      `$ORIGIN ${ZONE}`,
      '$TTL 300',
      `${ZONE}\t300\tIN\tSOA\tns.psarn.internal. hostmaster.psarn.internal. 2024061501 3600 600 86400 30`,
      `${ZONE}\t3600\tIN\tNS\tns.psarn.internal.`,
      `${ZONE}\t3600\tIN\tNS\tns2.example.net.`,
      `_epoch.${ZONE}\t5\tIN\tTXT\t"epoch=3"`,
      `deep_0.g.f.e.d.c.b.a.${ZONE}\t0\tIN\tURI\t10 0 "arn:aws:lambda:us-east-1:123456789012:function:Fn-0-0"`,
      `deep_0.g.f.e.d.c.b.a.${ZONE}\t0\tIN\tTXT\t"v=psarn1" "policy=fanout" "epoch=3"`,
      `event-1.svc1.${ZONE}\t17\tIN\tURI\t10 7 "arn:aws:lambda:us-east-1:123456789012:function:Fn-1-0"`,
      `event-1.svc1.${ZONE}\t17\tIN\tURI\t10 20 "https://example.org/caf\\195\\169/\\226\\130\\172?q=(1)"`,
    ]);
    assert.match(lines[0]!, /^; psarn zone 123456789012\.us-east-1\.aws\.psarn\.internal\. serial 2024061501 epoch 3$/);
    assert.ok(lines.includes(`event-6.svc6.${ZONE}\t6\tIN\tCNAME\tevent-5.svc5.${ZONE}`));
  });

  it('streams in chunks rather than one string', () => {
    const chunks = [...exportZone(zone, routes, { epochTtl: 5 })];
    assert.ok(chunks.length > 10, `only ${chunks.length} chunks`);
  });

  it('export -> parse -> buildZones is the identity for 3000 routes (weighted, fanout, alias, odd targets)', () => {
    const text = exportText(zone, routes);
    const built = buildZones(parseMasterFile(text, { file: 'export.zone' }), NS, 'export.zone');
    assert.deepEqual(built, [expected(zone, routes)]);
    // The fixture really holds each kind of route.
    assert.ok(
      routes.some((r) => r.alias) &&
        routes.some((r) => r.policy === 'fanout') &&
        routes.some((r) => r.policy === 'weighted'),
    );
  });

  it('refuses a stored route with neither targets nor alias', () => {
    const bad: StoredRoute = { ...makeRoutes(1)[0]!, targets: [] };
    assert.throws(
      () => exportText(zone, [bad]),
      (e: unknown) => e instanceof ZoneFileError && /neither targets nor an alias/.test(e.message),
    );
  });

  it('named-checkzone accepts the exported zone', (t) => {
    if (!skipUnlessTool(t, 'named-checkzone')) return;
    const file = join(dir, 'named.zone');
    writeFileSync(file, exportText(zone, routes));
    // execFileSync throws on a non-zero exit, with the tool's output in the error.
    const out = execFileSync('named-checkzone', [ZONE, file], { encoding: 'utf8' });
    assert.match(out, /loaded serial 2024061501/);
    assert.match(out, /^OK$/m);
  });

  it('kzonecheck accepts the exported zone', (t) => {
    if (!skipUnlessTool(t, 'kzonecheck')) return;
    const file = join(dir, 'knot.zone');
    writeFileSync(file, exportText(zone, routes));
    execFileSync('kzonecheck', ['-o', ZONE, file], { encoding: 'utf8' });
  });

  it('the checkers reject a broken file (so the two checks above can fail)', (t) => {
    if (!skipUnlessTool(t, 'named-checkzone') || !skipUnlessTool(t, 'kzonecheck')) return;
    const file = join(dir, 'broken.zone');
    writeFileSync(file, `${exportText(zone, makeRoutes(3))}x.${ZONE} 1 IN URI 1 70000 "arn:x"\n`);
    assert.throws(() => execFileSync('named-checkzone', [ZONE, file], { stdio: 'pipe' }));
    assert.throws(() => execFileSync('kzonecheck', ['-o', ZONE, file], { stdio: 'pipe' }));
  });

  it('parses and builds a 100k-route file (timing printed, not asserted)', (t) => {
    const big = makeRoutes(100_000);
    const t0 = performance.now();
    const chunks = [...exportZone(zone, big, { epochTtl: 5 })];
    const t1 = performance.now();
    // A file read gives one flat string; flattening the chunks is not part of either figure.
    const text = Buffer.from(chunks.join('')).toString();
    const t2 = performance.now();
    const lines = parseMasterFile(text);
    const t3 = performance.now();
    const [built] = buildZones(lines, NS);
    const t4 = performance.now();
    assert.equal(built!.routes.length, 100_000);
    t.diagnostic(
      `100k routes, ${(text.length / 1e6).toFixed(1)} MB, ${lines.length} records: export ${(t1 - t0).toFixed(0)} ms, parse ${(t3 - t2).toFixed(0)} ms, build ${(t4 - t3).toFixed(0)} ms`,
    );
  });
});

describe('exportCatalog', () => {
  const CAT = 'catalog.psarn.internal.';
  const members = Array.from({ length: 300 }, (_, i) => ({
    name: `${String(100000000000 + i)}.us-east-1.aws.${NS}`,
    created: i + 2,
  }));
  const catalog = buildCatalog(NS, 301, PARAMS, members);
  const text = [...exportCatalog(catalog)].join('');

  it('writes $ORIGIN, $TTL, then every record of CatalogZone.records() in its order, one per line', () => {
    const lines = text.split('\n');
    assert.match(lines[0]!, /^; psarn catalog zone catalog\.psarn\.internal\. serial 301: 300 member zones/);
    assert.deepEqual(lines.slice(1, 3), [`$ORIGIN ${CAT}`, '$TTL 3600']);
    assert.deepEqual(lines.slice(3, -1), catalogRecords(catalog).map(formatRecord));
    assert.equal(lines.at(-1), '');
  });

  it('with no member is SOA, NS and version only', () => {
    const empty = [...exportCatalog(buildCatalog(NS, 1, PARAMS, []))].join('');
    assert.equal(empty.split('\n').filter((l) => /\tIN\t/.test(l)).length, 3);
    assert.match(empty, /: 0 member zones /);
  });

  it('named-checkzone and kzonecheck accept it, with members and without', (t) => {
    if (!skipUnlessTool(t, 'named-checkzone') || !skipUnlessTool(t, 'kzonecheck')) return;
    for (const [name, body] of [
      ['catalog.zone', text],
      ['catalog-empty.zone', [...exportCatalog(buildCatalog(NS, 1, PARAMS, []))].join('')],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, body);
      assert.match(execFileSync('named-checkzone', [CAT, file], { encoding: 'utf8' }), /OK/);
      execFileSync('kzonecheck', ['-o', CAT, file], { encoding: 'utf8' });
    }
  });
});
