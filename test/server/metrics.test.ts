/** The metric naming rule, linted (as CoreDNS does): psarn_ prefix, snake_case, units in the name, bounded labels. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DaemonMetrics } from '../../src/server/metrics.js';

describe('daemon metrics', () => {
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  const all = metrics.registry.getMetricsAsArray();

  it('follow the naming rule', () => {
    assert.ok(all.length >= 10);
    for (const m of all) {
      const { name, type, help } = m as unknown as { name: string; type: string; help: string };
      assert.match(name, /^psarn_[a-z0-9]+(_[a-z0-9]+)*$/, name);
      if (type === 'counter') assert.match(name, /_total$/, `${name}: counters end in _total`);
      else assert.doesNotMatch(name, /_total$/, `${name}: only counters end in _total`);
      if (type === 'histogram') assert.match(name, /_seconds$/, `${name}: durations are in seconds`);
      assert.ok(help.length > 10, `${name} has help text`);
    }
  });

  it('never label by query name', () => {
    for (const m of all) {
      const labels = (m as unknown as { labelNames: string[] }).labelNames;
      for (const label of labels) assert.ok(!['name', 'qname', 'psarn', 'target'].includes(label), label);
    }
  });

  it('read the UDP carrier drops at scrape time, as increments', async () => {
    const m = new DaemonMetrics({ defaultMetrics: false });
    const drops = { sendFailed: 0, oversized: 0 };
    m.udpDrops = () => ({ ...drops });
    const value = async (reason: string) =>
      (await m.udpDropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
    assert.equal(await value('send_failed'), 0);
    drops.sendFailed = 3;
    drops.oversized = 1;
    assert.equal(await value('send_failed'), 3);
    assert.equal(await value('oversized'), 1);
    drops.sendFailed = 5;
    assert.equal(await value('send_failed'), 5);
    assert.equal(await value('oversized'), 1);
  });

  it('fold unknown qtypes and rcodes into "other"', async () => {
    metrics.request('udp', 65000);
    metrics.request('udp', 256);
    metrics.response('tcp', 23);
    const requests = (await metrics.requests.get()).values.map((v) => v.labels.qtype);
    assert.deepEqual(requests.sort(), ['URI', 'other']);
    assert.deepEqual(
      (await metrics.responses.get()).values.map((v) => v.labels.rcode),
      ['other'],
    );
  });

  it('count each query-path event in its own series, through a method', async () => {
    const m = new DaemonMetrics({ defaultMetrics: false });
    m.dropped('udp');
    m.formerr('tcp');
    m.formerr('tcp');
    m.truncated('udp');
    m.internalError('tcp');
    m.cacheHit();
    m.cacheMiss();
    m.cacheMiss();
    m.indexHit();
    m.observeDuration('udp', 0.00002);
    m.request('tcp', 16);
    m.response('udp', 3);
    const text = await m.registry.metrics();
    // Every non-zero series; the histogram by its count and sum.
    const series = text.split('\n').filter((l) => l.startsWith('psarn_') && !/ 0$/.test(l) && !l.includes('_bucket'));
    assert.deepEqual(series.sort(), [
      'psarn_answer_cache_hits_total 1',
      'psarn_answer_cache_misses_total 2',
      'psarn_dns_internal_errors_total{proto="tcp"} 1',
      'psarn_dns_malformed_total{proto="tcp",reason="formerr"} 2',
      'psarn_dns_malformed_total{proto="udp",reason="dropped"} 1',
      'psarn_dns_request_duration_seconds_count{proto="udp"} 1',
      'psarn_dns_request_duration_seconds_sum{proto="udp"} 0.00002',
      'psarn_dns_requests_total{proto="tcp",qtype="TXT"} 1',
      'psarn_dns_responses_total{proto="udp",rcode="NXDOMAIN"} 1',
      'psarn_dns_truncated_total{proto="udp"} 1',
      'psarn_route_index_hits_total 1',
    ]);
  });
});
