/**
 * The process's Prometheus registry. Counters and histograms that threads record into
 * shared memory are exposed by metric objects that sum every slot when scraped; gauges
 * read the pool's state at scrape time. Nothing here runs on the request path.
 */
import client, { Registry } from 'prom-client';
import type { MetricsLayout } from './shared-metrics';
import { SlotReader } from './shared-metrics';

const kMisnamedDefaults = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) out[names[i]] = values[i];
  return out;
}

/** A prom-client compatible metric whose values come from shared memory. */
class SharedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly read: () => MetricValue[],
  ) {}
  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.read(), aggregator: this.aggregator };
  }
}

export interface PoolGauges {
  requestsInFlight(): number;
  pendingRequests(): number;
  queuedTasks(): number;
  inFlightBatches(): number;
  threads(): number;
  slabSegmentsInUse(): number;
}

export function createRegistry(
  layout: MetricsLayout,
  buffer: SharedArrayBuffer,
  pool: PoolGauges,
  model: { name: string; version: string },
): Registry {
  const registry = new Registry();
  const reader = new SlotReader(layout, buffer);

  for (const { def, offsets } of layout.counters) {
    registry.registerMetric(
      new SharedMetric(def.name, def.help, 'counter', () =>
        def.series.map((values, i) => ({ value: reader.sum(offsets[i]), labels: labelsOf(def.labelNames, values) })),
      ) as unknown as client.Metric,
    );
  }
  for (const { def, offsets } of layout.histograms) {
    registry.registerMetric(
      new SharedMetric(def.name, def.help, 'histogram', () => {
        const values: MetricValue[] = [];
        def.series.forEach((labelValues, i) => {
          const base = labelsOf(def.labelNames, labelValues);
          let cumulative = 0;
          for (let b = 0; b <= def.buckets.length; b++) {
            cumulative += reader.sum(offsets[i] + b);
            const le = b < def.buckets.length ? def.buckets[b] : '+Inf';
            values.push({ value: cumulative, labels: { ...base, le }, metricName: `${def.name}_bucket` });
          }
          values.push({ value: reader.sum(offsets[i] + def.buckets.length + 1), labels: base, metricName: `${def.name}_sum` });
          values.push({ value: cumulative, labels: base, metricName: `${def.name}_count` });
        });
        return values;
      }) as unknown as client.Metric,
    );
  }

  const gauge = (name: string, help: string, read: () => number): void => {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('bidder_requests_in_flight', 'Bid requests received and not yet answered.', pool.requestsInFlight);
  gauge('bidder_pool_queue_depth_requests', 'Requests waiting for a free pool worker.', pool.pendingRequests);
  gauge('bidder_pool_queued_tasks', 'Batches piscina holds for want of a ready worker (while a replacement warms).', pool.queuedTasks);
  gauge('bidder_pool_inflight_batches', 'Batches being processed by pool workers.', pool.inFlightBatches);
  gauge('bidder_pool_threads', 'Live pool worker threads.', pool.threads);
  gauge('bidder_receive_slab_segments_in_use', 'Segments of the shared receive buffer holding request bodies.', pool.slabSegmentsInUse);

  const info = new client.Gauge({
    name: 'bidder_model_info',
    help: 'The model scoring bids (always 1).',
    labelNames: ['name', 'version'],
    registers: [registry],
  });
  info.set({ name: model.name, version: model.version }, 1);

  // Node's process metrics, less prom-client's three gauges named *_total, which break the
  // exposition's naming rules (promtool rejects them).
  const defaults = new Registry();
  client.collectDefaultMetrics({ register: defaults });
  for (const metric of defaults.getMetricsAsArray()) {
    if (!kMisnamedDefaults.has(metric.name)) registry.registerMetric(metric as unknown as client.Metric);
  }
  return registry;
}
