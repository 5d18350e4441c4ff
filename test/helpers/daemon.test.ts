/**
 * The daemon helper never leaves a process running (issue 8, defect 5.10: a daemon whose
 * sibling failed to start was never stopped, and `npm test` waited on it for 20 minutes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { liveDaemons, startAll, startPsarnd } from './daemon.js';

describe('test daemons are stopped when a start fails', () => {
  it('startPsarnd kills psarnd when it does not serve in time', async () => {
    await assert.rejects(startPsarnd({ timeoutMs: 1 }), /psarnd did not start in time/);
    assert.equal(liveDaemons(), 0);
  });

  it('startPsarnd reports a psarnd that exits before serving', async () => {
    await assert.rejects(startPsarnd({ args: ['--listen', 'not-a-host-port'] }), /psarnd exited with 1 before serving/);
    assert.equal(liveDaemons(), 0);
  });

  it('startAll stops every start that succeeded when another fails, then throws its error', async () => {
    const stopped: string[] = [];
    const fake = (name: string, ms: number) =>
      new Promise<{ stop(): Promise<void> }>((resolve) =>
        setTimeout(() => resolve({ stop: async () => void stopped.push(name) }), ms),
      );
    const closer = Promise.resolve({ close: async () => void stopped.push('server') });
    const failing = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('EADDRINUSE')), 1));
    // The slow one starts after the failure: it is stopped all the same.
    await assert.rejects(startAll([fake('fast', 0), failing, fake('slow', 20), closer]), /EADDRINUSE/);
    assert.deepEqual(stopped.sort(), ['fast', 'server', 'slow']);
  });

  it('startAll with a real daemon and a failed one leaves none running', async () => {
    await assert.rejects(startAll([startPsarnd(), startPsarnd({ timeoutMs: 1 })]), /did not start in time/);
    assert.equal(liveDaemons(), 0);
  });
});
