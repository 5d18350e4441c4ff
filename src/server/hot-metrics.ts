/**
 * Counters and a histogram for the per-query path, read by prom-client at scrape time.
 *
 * prom-client's Counter.inc and Histogram.observe hash their labels and check their arguments
 * on every call: a third of the handler's time per query (measured with --cpu-prof). Here the
 * hot path holds a series object per label set and adds to a number; `get()` builds the values
 * prom-client formats, in its own shape, so the registry, the exposition text and cluster
 * aggregation (AggregatorRegistry sums by `aggregator`) work unchanged.
 */
import type { Registry } from 'prom-client';

/** What prom-client's registry reads from a metric's get(). */
export interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { metricName?: string; labels: Record<string, string | number>; value: number }[];
}

interface Options<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

export interface CounterSeries {
  value: number;
}

abstract class HotMetric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator = 'sum';
  protected readonly byKey = new Map<string, { labels: Record<L, string> }>();

  constructor(options: Options<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // prom-client's Registry stores any object with name, help, type and get().
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  protected key(labels: Record<L, string>): string {
    return this.labelNames.map((l) => labels[l]).join('\u0000');
  }
}

export class HotCounter<L extends string = never> extends HotMetric<L> {
  readonly type = 'counter';
  declare protected readonly byKey: Map<string, { labels: Record<L, string> } & CounterSeries>;

  /** The series of one label set; keep it and add to its `value`. */
  series(labels: Record<L, string> = {} as Record<L, string>): CounterSeries {
    const key = this.key(labels);
    let series = this.byKey.get(key);
    if (series === undefined) {
      series = { labels: { ...labels }, value: 0 };
      this.byKey.set(key, series);
    }
    return series;
  }

  async get(): Promise<MetricSnapshot> {
    const values = [...this.byKey.values()].map((s) => ({ labels: { ...s.labels }, value: s.value }));
    return { name: this.name, help: this.help, type: 'counter', aggregator: this.aggregator, values };
  }
}

export interface HistogramSeries {
  /** counts[i]: observations <= buckets[i] (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class HotHistogram<L extends string = never> extends HotMetric<L> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  declare protected readonly byKey: Map<string, { labels: Record<L, string> } & HistogramSeries>;

  constructor(options: Options<L> & { buckets: readonly number[] }) {
    super(options);
    this.buckets = [...options.buckets].sort((a, b) => a - b);
  }

  series(labels: Record<L, string> = {} as Record<L, string>): HistogramSeries {
    const key = this.key(labels);
    let series = this.byKey.get(key);
    if (series === undefined) {
      series = { labels: { ...labels }, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.byKey.set(key, series);
    }
    return series;
  }

  observe(series: HistogramSeries, value: number): void {
    const { buckets } = this;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  async get(): Promise<MetricSnapshot> {
    const values: MetricSnapshot['values'] = [];
    for (const s of this.byKey.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        const le = i < this.buckets.length ? this.buckets[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: this.aggregator, values };
  }
}
