/**
 * Connection caps under the open-files limit (issue 8, defect 5.5: 700 idle HTTP connections
 * and 300 DNS ones exhausted a limit of 1024 and took /health down for 9 s).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { capsWithin, connectionCaps, FD_RESERVE, openFilesLimit } from '../../src/server/fd-budget.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('openFilesLimit', () => {
  it('reads the soft limit from /proc/self/limits text', () => {
    assert.equal(
      openFilesLimit(() => LIMITS),
      1024,
    );
    assert.equal(
      openFilesLimit(() => LIMITS.replace('1024  ', 'unlimited')),
      undefined,
    );
    assert.equal(
      openFilesLimit(() => 'no such line'),
      undefined,
    );
    assert.equal(
      openFilesLimit(() => {
        throw new Error('ENOENT');
      }),
      undefined,
    );
  });

  it('is what `ulimit -n` says for this process', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
    const shell = Number(execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
    assert.equal(openFilesLimit(), shell);
  });
});

describe('capsWithin', () => {
  it('leaves caps that fit as they are; TCP may be raised up to what is left', () => {
    assert.deepEqual(capsWithin({ tcp: 1000, http: 64 }, 65536), { tcp: 1000, http: 64, tcpCeiling: 65536 - 64 - 64 });
    assert.deepEqual(capsWithin({ tcp: 1000, http: 64 }, undefined), {
      tcp: 1000,
      http: 64,
      tcpCeiling: Number.POSITIVE_INFINITY,
    });
  });

  it("lowers TCP first under the report's limit of 1024, so DNS + HTTP + the process stay below it", () => {
    const caps = capsWithin({ tcp: 1000, http: 64 }, 1024);
    assert.deepEqual(caps, { tcp: 1024 - FD_RESERVE - 64, http: 64, tcpCeiling: 1024 - FD_RESERVE - 64 });
    assert.ok(caps.tcp + caps.http + FD_RESERVE <= 1024);
  });

  it('shares a small limit: HTTP keeps an eighth, TCP the rest', () => {
    assert.deepEqual(capsWithin({ tcp: 1000, http: 64 }, 256), { tcp: 168, http: 24, tcpCeiling: 168 });
    // A cluster worker serves no HTTP; the primary no TCP.
    assert.deepEqual(capsWithin({ tcp: 1000, http: 0 }, 256), { tcp: 192, http: 0, tcpCeiling: 192 });
    assert.deepEqual(capsWithin({ tcp: 0, http: 64 }, 100), { tcp: 0, http: 4, tcpCeiling: 32 });
    // Never below one connection each.
    assert.deepEqual(capsWithin({ tcp: 1000, http: 64 }, 10), { tcp: 1, http: 1, tcpCeiling: 1 });
  });
});

describe('connectionCaps', () => {
  it('warns once, with the limit and both caps, only when it lowers one', () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    assert.deepEqual(connectionCaps({ tcp: 100, http: 64 }, log, 1024), { tcp: 100, http: 64, tcpCeiling: 896 });
    assert.equal(lines.length, 0);
    connectionCaps({ tcp: 1000, http: 64 }, log, 1024);
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.level, 40);
    assert.equal(entry.fdLimit, 1024);
    assert.deepEqual(entry.caps, { tcp: 896, http: 64 });
    assert.match(entry.msg, /open-files limit of 1024: raise it \(ulimit -n\) or lower tcp\.maxConnections/);
  });
});
