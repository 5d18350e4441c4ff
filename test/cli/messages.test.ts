/**
 * `psarn` error lines are bounded, printable and never repeat a secret (issue 8, defect 5.7):
 * whatever the input, stderr gets one short line.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { MAX_ERROR_LINE, stderrLine } from '../../src/cli/errors.js';
import { Sandbox } from './helpers.js';

const P = 'arn:aws:psarn:us-east-1:123456789012:orders/created';

const s = new Sandbox();
after(() => s.cleanup());

/** Runs a failing command; returns its one stderr line (without the newline). */
async function failing(argv: string[], status: number): Promise<string> {
  const r = await s.run(argv);
  assert.equal(r.status, status, r.stderr);
  assert.equal(r.stdout, '');
  assert.ok(r.stderr.endsWith('\n') && r.stderr.indexOf('\n') === r.stderr.length - 1, 'one line');
  return r.stderr.slice(0, -1);
}

describe('psarn error lines', () => {
  it("a target's password is not repeated: it shows as ***", async () => {
    await s.ok(['db', 'init']);
    const line = await failing(['route', 'set', P, '--target', 'https://ops:s3cr3t-pw@hooks.example.com/x'], 2);
    assert.equal(
      line,
      "psarn: --target: invalid target 'https://ops:***@hooks.example.com/x': has user or password information; targets are public in DNS, so pass credentials another way",
    );
  });

  it('a huge argument is cut, and control characters are escaped', async () => {
    const line = await failing([`\u001b]0;pwned\u0007${'x'.repeat(100_000)}`], 2);
    assert.equal(
      line,
      `psarn: unknown command '\\x1b]0;pwned\\x07${'x'.repeat(70)}…' (100010 bytes); run 'psarn help' for the commands`,
    );
    const ttl = await failing(
      ['route', 'set', P, '--target', 'arn:aws:sqs:us-east-1:123456789012:q', '--ttl', '\r9'],
      2,
    );
    assert.equal(ttl, "psarn: invalid --ttl '\\x0d9': use whole seconds from 0 to 172800");
  });

  it('a zone file with a 1 MB name gives one short line', async () => {
    const file = s.path('huge.zone');
    writeFileSync(file, `$ORIGIN psarn.internal.\n${'a'.repeat(1_000_000)} 300 IN TXT "x"\n`);
    const line = await failing(['zone', 'import', 'huge.zone'], 1);
    assert.equal(
      line,
      `psarn: huge.zone:2: name '${'a'.repeat(80)}…' (1000000 bytes) is longer than 253 characters; nothing imported`,
    );
  });

  it('a file name given on the command line is bounded too', async () => {
    const name = `${'n'.repeat(5000)}.zone`;
    const line = await failing(['zone', 'import', name], 1);
    assert.ok(line.length < 400, line.slice(0, 400));
    assert.match(
      line,
      /^psarn: cannot read zone file 'n{256}…' \(5005 bytes\): ENAMETOOLONG; give a readable master file$/,
    );
  });

  it('as a last guard, a message longer than MAX_ERROR_LINE is cut and escaped', () => {
    assert.equal(stderrLine('a\u001bb\nsecond line'), 'a\\x1bb');
    const long = stderrLine('m'.repeat(10_000));
    assert.equal(long, `${'m'.repeat(MAX_ERROR_LINE)}… (cut)`);
  });
});
