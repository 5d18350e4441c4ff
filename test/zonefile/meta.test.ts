/**
 * A route's metadata through a master file (issue 9: `zone export` then `zone import` lost it,
 * and the re-exported text was identical, so nothing showed it): TXT at `_meta.<route name>`,
 * one RR per entry, read back into the route's metadata; the checkers still accept the file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { StoredRoute } from '../../src/store/types.js';
import { ZoneFileError } from '../../src/zonefile/errors.js';
import { exportZone } from '../../src/zonefile/export.js';
import { buildZones, importMasterFile } from '../../src/zonefile/import.js';
import { META_RDATA_MAX, metaEntry, metaRecords } from '../../src/zonefile/meta.js';
import { parseMasterFile } from '../../src/zonefile/parse.js';
import { formatRecord } from '../../src/zonefile/presentation.js';
import { skipUnlessTool } from '../helpers/tools.js';
import { makeRoutes, makeZone, ZONE } from './fixtures.js';

const NS = 'psarn.internal.';
const dir = mkdtempSync(join(tmpdir(), 'psarn-meta-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Values a master file must quote or escape, and keys the store takes but the CLI does not. */
export const AWKWARD: Record<string, string> = {
  team: 'orders',
  empty: '',
  quote: 'say "hi"',
  backslash: 'C:\\path\\to',
  semicolon: 'a; b ; c;',
  parens: '(x) $ORIGIN @ ( )',
  spaces: '  leading and trailing  ',
  unicode: 'café € 日本 🙂',
  control: 'tab\there\nnew line\u0000nul\u007f',
  equals: 'a=b=c',
  'key=with=equals': 'v',
  'per%cent': '100%3D',
  '%3D': 'looks escaped',
  long: `${'é'.repeat(200)}${'x'.repeat(300)}🙂${'y'.repeat(700)}`,
  'dotted.key-1_x': 'ok',
};

const exportText = (routes: StoredRoute[]) => [...exportZone(makeZone(), routes, { epochTtl: 5 })].join('');

/** Routes in path order (the store's, and the reader's), two in three with metadata. */
function withMeta(count: number): StoredRoute[] {
  const routes = makeRoutes(count).sort((a, b) => (a.path < b.path ? -1 : 1));
  return routes.map((r, i) => {
    if (i % 3 === 1) return r;
    const metadata: Record<string, string> =
      i % 3 === 0
        ? { ...AWKWARD, index: String(i) }
        : Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`k${k}`, `v${i}-${k}`]));
    return { ...r, metadata };
  });
}

describe('metadata in a master file', () => {
  it('is TXT at _meta.<route name>, one RR per entry, in the order of the entries', () => {
    const [route] = makeRoutes(1);
    const text = exportText([{ ...route!, metadata: { team: 'orders', note: 'a "q" \\ ; é' } }]);
    const name = `deep_0.g.f.e.d.c.b.a.${ZONE}`;
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('_meta.')),
      [`_meta.${name}\t0\tIN\tTXT\t"team=orders"`, `_meta.${name}\t0\tIN\tTXT\t"note=a \\"q\\" \\\\ ; \\195\\169"`],
    );
  });

  it('an alias has its metadata beside, not at, its CNAME (RFC 1034 §3.6.2)', () => {
    const routes = makeRoutes(7);
    const alias = routes[6]!;
    assert.ok(alias.alias);
    const text = exportText([{ ...alias, metadata: { owner: 'me' } }]);
    const name = alias.path.split('/').reverse().join('.');
    assert.match(text, new RegExp(`^${name}\\.${ZONE.replaceAll('.', '\\.')}\\t\\d+\\tIN\\tCNAME\\t`, 'm'));
    assert.match(text, new RegExp(`^_meta\\.${name}\\.\\S+\\t\\d+\\tIN\\tTXT\\t"owner=me"$`, 'm'));
  });

  it('export -> import -> export is the identity, metadata included (awkward characters, unicode, many keys)', () => {
    const routes = withMeta(300);
    const text = exportText(routes);
    const [zone] = buildZones(parseMasterFile(text, { file: 'meta.zone' }), NS, 'meta.zone');
    const byPath = new Map(routes.map((r) => [r.path, r]));
    let withEntries = 0;
    for (const { path, spec } of zone!.routes) {
      const stored = byPath.get(path)!;
      const entries = Object.keys(stored.metadata).length;
      if (entries === 0) assert.equal(spec.metadata, undefined, path);
      else {
        withEntries++;
        assert.deepEqual(spec.metadata, stored.metadata, path);
        // The same entries in the same order: what `route get` prints.
        assert.deepEqual(Object.keys(spec.metadata!), Object.keys(stored.metadata), path);
      }
    }
    assert.equal(withEntries, 200);
    // And back to the same text: what the store would hold, exported again.
    const again = zone!.routes.map((r) => ({
      ...byPath.get(r.path)!,
      metadata: r.spec.metadata ?? {},
    }));
    assert.equal(exportText(again), text);
  });

  it('the file reader (importMasterFile) reads it as buildZones does', () => {
    const routes = withMeta(100);
    const text = exportText(routes);
    const fast = importMasterFile(Buffer.from(text), { namespace: NS, file: 'meta.zone' })[0]!;
    const slow = buildZones(parseMasterFile(text), NS)[0]!;
    assert.deepEqual([...fast.routes], slow.routes);
  });

  it('splits a long entry into strings of at most 255 octets between characters, and joins them back', () => {
    const [record] = metaRecords(`a.${ZONE}`, 300, { long: AWKWARD.long! });
    assert.equal(record!.type, 'TXT');
    const strings = record!.type === 'TXT' ? record!.strings : [];
    assert.ok(strings.length > 4);
    for (const s of strings) assert.ok(Buffer.byteLength(s) <= 255, `${Buffer.byteLength(s)} bytes`);
    assert.deepEqual(metaEntry(strings), ['long', AWKWARD.long]);
    // As a line of a file and back.
    const [parsed] = parseMasterFile(formatRecord(record!));
    assert.deepEqual(parsed!.record, record);
  });

  it('takes entries up to one TXT record and refuses a longer one at export, naming the route', () => {
    const fits = 'v'.repeat(META_RDATA_MAX - 300);
    const [record] = metaRecords(`a.${ZONE}`, 300, { k: fits });
    assert.deepEqual(metaEntry(record!.type === 'TXT' ? record!.strings : []), ['k', fits]);
    const [route] = makeRoutes(1);
    assert.throws(
      () => exportText([{ ...route!, metadata: { big: 'x'.repeat(META_RDATA_MAX) } }]),
      (e: unknown) =>
        e instanceof ZoneFileError &&
        /^route a\/b\/c\/d\/e\/f\/g\/deep_0 of \S+: metadata 'big' \(64000 bytes\) does not fit in one TXT record/.test(
          e.message,
        ),
    );
  });

  it('reads _meta records that are away from their route, and merges them', () => {
    const text = [
      `$ORIGIN ${ZONE}`,
      `_meta.a 300 IN TXT "x=1"`,
      'b 300 IN URI 10 1 "arn:aws:lambda:us-east-1:123456789012:function:b"',
      'a 300 IN URI 10 1 "arn:aws:lambda:us-east-1:123456789012:function:a"',
      `_meta.a 300 IN TXT "y=2" ; comment`,
      `_meta.b 300 IN TXT "z=" "3"`,
    ].join('\n');
    const [zone] = buildZones(parseMasterFile(text), NS);
    assert.deepEqual(
      zone!.routes.map((r) => [r.path, r.spec.metadata]),
      [
        ['a', { x: '1', y: '2' }],
        ['b', { z: '3' }],
      ],
    );
  });

  const bad: [name: string, lines: string[], message: RegExp][] = [
    [
      'a key twice',
      ['a 1 IN URI 10 1 "arn:aws:sns:us-east-1:123456789012:t"', '_meta.a 1 IN TXT "k=1"', '_meta.a 1 IN TXT "k=2"'],
      /^line 4: metadata 'k' twice at _meta\.a\.\S+ \(first on line 3\); keep one$/,
    ],
    [
      'a key twice, in two runs',
      ['_meta.a 1 IN TXT "k=1"', 'a 1 IN URI 10 1 "arn:aws:sns:us-east-1:123456789012:t"', '_meta.a 1 IN TXT "k=2"'],
      /^line 4: metadata 'k' twice at _meta\.a\.\S+ \(first on line 2\); keep one$/,
    ],
    [
      'no =',
      ['a 1 IN URI 10 1 "arn:aws:sns:us-east-1:123456789012:t"', '_meta.a 1 IN TXT "novalue"'],
      /^line 3: TXT at _meta\.a\.\S+: metadata TXT 'novalue' is not KEY=VALUE$/,
    ],
    [
      'another type',
      [
        'a 1 IN URI 10 1 "arn:aws:sns:us-east-1:123456789012:t"',
        '_meta.a 1 IN URI 10 1 "arn:aws:sns:us-east-1:123456789012:t"',
      ],
      /^line 3: _meta\.a\.\S+ holds only the route's metadata as TXT; remove the URI record$/,
    ],
    [
      'no route',
      ['b 1 IN URI 10 1 "arn:aws:sns:us-east-1:123456789012:t"', '_meta.a 1 IN TXT "k=1"'],
      /^line 3: metadata at _meta\.a\.\S+ belongs to no route: the file has no URI or CNAME at a\.\S+$/,
    ],
    ['not a route name below', ['_meta.-x 1 IN TXT "k=1"'], /^line 2: _meta\.-x\.\S+ is not a route name/],
    ['_meta of _meta', ['_meta._meta.a 1 IN TXT "k=1"'], /^line 2: _meta\._meta\.a\.\S+ is not a route name/],
  ];
  for (const [name, lines, message] of bad) {
    it(`refuses ${name}, naming the line`, () => {
      const text = [`$ORIGIN ${ZONE}`, ...lines].join('\n');
      assert.throws(
        () => buildZones(parseMasterFile(text), NS),
        (e: unknown) => {
          assert.ok(e instanceof ZoneFileError);
          assert.match(e.message, message);
          return true;
        },
      );
      assert.throws(
        () => importMasterFile(text, { namespace: NS }),
        (e: unknown) => {
          assert.ok(e instanceof ZoneFileError);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  it('named-checkzone and kzonecheck accept a file with metadata, aliases included', (t) => {
    if (!skipUnlessTool(t, 'named-checkzone') || !skipUnlessTool(t, 'kzonecheck')) return;
    const file = join(dir, 'meta.zone');
    writeFileSync(file, exportText(withMeta(300)));
    const out = execFileSync('named-checkzone', [ZONE, file], { encoding: 'utf8' });
    assert.match(out, /^OK$/m);
    execFileSync('kzonecheck', ['-o', ZONE, file], { encoding: 'utf8' });
  });
});
