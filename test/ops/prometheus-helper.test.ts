/** test/helpers/prometheus.ts: the real Prometheus it starts, and its retry of a port taken meanwhile. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { prometheusConfig, type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { skipUnlessTool } from '../helpers/tools.js';

describe('startPrometheus', () => {
  let squatter: Server | undefined;
  let prometheus: RunningPrometheus | undefined;
  after(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => (squatter ? squatter.close(resolve) : resolve(undefined)));
  });

  it('writes a config scraping the targets every interval', () => {
    assert.equal(
      prometheusConfig(['127.0.0.1:1', '127.0.0.1:2'], 1),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: psarn-test',
        '    static_configs:',
        '      - targets: ["127.0.0.1:1", "127.0.0.1:2"]',
        '',
      ].join('\n'),
    );
  });

  it('starts on another port when the one it was given is taken by then, ready to answer queries', async (t) => {
    if (!skipUnlessTool(t, 'prometheus')) return;
    // Hangs up on whoever connects (the helper's readiness probe on the taken port).
    const server = createServer((socket) => socket.destroy());
    squatter = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;
    const given: number[] = [];
    let first = true;
    prometheus = await startPrometheus({
      targets: [],
      port: async () => {
        if (first) {
          first = false;
          given.push(taken);
          return taken;
        }
        const free = createServer();
        await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
        const port = (free.address() as { port: number }).port;
        await new Promise((resolve) => free.close(resolve));
        given.push(port);
        return port;
      },
    });
    assert.equal(given.length, 2, 'the taken port, then another');
    assert.equal(prometheus.port, given[1]);
    const answer = await prometheus.query('vector(1)');
    assert.equal(answer.length, 1);
    assert.equal(answer[0]!.value[1], '1');
  });
});
