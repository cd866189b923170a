import type { Registry } from 'prom-client';

/** One (action, status) series: counts per bucket (not cumulative), sum and count. */
export class LatencySeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly action: string,
    readonly status: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    if (i < bounds.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/**
 * The request latency histogram, labelled by action and status, exposed through prom-client's
 * registry like its own histograms (the same text). Observing is a bucket search and three
 * additions on a series found once per (status, action): prom-client's Histogram checks and
 * hashes the labels at every observation, a visible share of a cheap request's CPU.
 */
export class LatencyHistogram {
  readonly #series = new Map<string, LatencySeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  series(action: string, status: number): LatencySeries {
    const key = `${status} ${action}`;
    let series = this.#series.get(key);
    if (!series) {
      series = new LatencySeries(action, String(status), this.buckets);
      this.#series.set(key, series);
    }
    return series;
  }

  register(registry: Registry): void {
    const metric = {
      name: this.name,
      help: this.help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: this.name,
        help: this.help,
        type: 'histogram',
        aggregator: 'sum',
        values: this.values(),
      }),
      reset: () => this.#series.clear(),
    };
    registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** prom-client's value list: cumulative buckets (with +Inf), then sum and count, per series. */
  values(): Array<{ metricName: string; labels: Record<string, string | number>; value: number }> {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const series of this.#series.values()) {
      const labels = { action: series.action, status: series.status };
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: series.count });
    }
    return values;
  }
}
