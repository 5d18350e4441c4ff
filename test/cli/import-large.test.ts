/** `psarn zone import` of 100k generated routes: prints how long it took (no timed assertion). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Sandbox } from './helpers.js';

const ZONE = '123456789012.us-east-1.aws.psarn.internal.';
const N = 100_000;

function generate(): string {
  const lines = [
    `$ORIGIN ${ZONE}`,
    '$TTL 300',
    `@ 3600 IN SOA ns.psarn.internal. hostmaster.psarn.internal. 1 3600 600 86400 30`,
    '@ 3600 IN NS ns.psarn.internal.',
  ];
  for (let i = 0; i < N; i++) {
    const owner = `r${i}.svc${i % 100}`;
    lines.push(`${owner} 300 IN URI 10 ${i % 7} "arn:aws:lambda:us-east-1:123456789012:function:f${i}"`);
    if (i % 2 === 0) lines.push(`${owner} 300 IN URI 20 1 "https://backup.example.com/r/${i}"`);
    lines.push(`${owner} 300 IN TXT "v=psarn1" "policy=${i % 3 === 0 ? 'fanout' : 'weighted'}" "epoch=1"`);
  }
  return `${lines.join('\n')}\n`;
}

describe('zone import at scale', () => {
  const s = new Sandbox();
  after(() => s.cleanup());

  it(`imports ${N} routes in one go`, async () => {
    await s.ok(['db', 'init']);
    const file = s.path('big.zone');
    writeFileSync(file, generate());
    const started = performance.now();
    const out = await s.ok(['zone', 'import', file]);
    const ms = Math.round(performance.now() - started);
    console.log(`# zone import of ${N} routes: ${ms} ms (${out.trim()})`);
    assert.match(
      out,
      new RegExp(
        `^created zone ${ZONE.replaceAll('.', '\\.')}\\nimported ${N} routes into ${ZONE.replaceAll('.', '\\.')} \\(serial \\d+\\) in \\d+ ms\\n$`,
      ),
    );
    const route = JSON.parse(
      await s.ok(['route', 'get', 'arn:aws:psarn:us-east-1:123456789012:svc44/r99944', '--json']),
    );
    assert.equal(route.policy, 'weighted');
    assert.deepEqual(route.targets, [
      {
        target: 'arn:aws:lambda:us-east-1:123456789012:function:f99944',
        weight: 99944 % 7,
        priority: 10,
        share: '100%',
      },
      { target: 'https://backup.example.com/r/99944', weight: 1, priority: 20, share: 'failover' },
    ]);
    const exportStarted = performance.now();
    const text = await s.ok(['zone', 'export', ZONE]);
    console.log(
      `# zone export of ${N} routes: ${Math.round(performance.now() - exportStarted)} ms, ${text.length} bytes`,
    );
    assert.equal(text.split('\tURI\t').length - 1, N + N / 2);
  });
});
