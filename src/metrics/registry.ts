/**
 * The process's Prometheus registry, built in the operations thread (src/ops/). Counters
 * and histograms that threads record into shared memory are exposed by metric objects
 * that sum every slot when scraped; gauges read what the front end last published into
 * shared memory (src/ops/front-block.ts). Nothing here runs on the request path or on
 * the bidding loop.
 */
import client, { Registry } from 'prom-client';
import {
  type FrontRuntime,
  kGaugeExternalBytes,
  kGaugeHeapTotalBytes,
  kGaugeHeapUsedBytes,
  kGaugeLoopBusySeconds,
  kGaugeLoopDelayMaxSeconds,
  kGaugeLoopDelayMeanSeconds,
  kGaugeLoopDelayMinSeconds,
  kGaugeLoopDelayP50Seconds,
  kGaugeLoopDelayP90Seconds,
  kGaugeLoopDelayP99Seconds,
  kGaugeLoopLagSeconds,
} from '../ops/front-block';
import { MoneyStatsReader, type CampaignStat } from '../money/money-stats';
import type { CounterDef, MetricsLayout } from './shared-metrics';
import type { LifecycleView } from './lifecycle-view';
import { SlotReader } from './shared-metrics';

/**
 * prom-client's default metrics that describe the whole process, whichever thread reads
 * them (CPU and memory from the OS, descriptors, start time, version). The others
 * describe only the isolate that collects them (heap, heap spaces, GC, event-loop lag,
 * active handles): read in the operations thread they would describe that thread, so
 * they are left out, and the front end's own heap and loop are exported instead
 * (frontEndGauges below). The pool workers' isolates are not covered.
 */
const kProcessWideDefaults = new Set([
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_version_info',
]);

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
    readonly type: 'counter' | 'histogram' | 'gauge',
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
  /** Receive memory held by request bodies still arriving (bounded by server.maxReceivingBytes). */
  receivingBytes(): number;
}

export function createRegistry(
  layout: MetricsLayout,
  buffer: SharedArrayBuffer,
  pool: PoolGauges,
  model: { name: string; version: string },
  frontEnd?: FrontRuntime,
  money?: MoneyMetricsSource,
  lifecycle?: LifecycleView,
): Registry {
  const registry = new Registry();
  const reader = new SlotReader(layout, buffer);

  for (const { def, offsets } of layout.counters) {
    if (def.relabel !== undefined) {
      if (lifecycle !== undefined) relabelled(registry, def, offsets, reader, lifecycle);
      continue;
    }
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
  gauge('bidder_receiving_bytes', 'Receive memory held by request bodies still arriving (bounded by server.maxReceivingBytes).', pool.receivingBytes);

  if (lifecycle !== undefined) lifecycleGauges(registry, reader, layout, lifecycle);
  else {
    const info = new client.Gauge({
      name: 'bidder_model_info',
      help: 'The model scoring bids (always 1).',
      labelNames: ['name', 'version'],
      registers: [registry],
    });
    info.set({ name: model.name, version: model.version }, 1);
  }

  if (frontEnd !== undefined) frontEndGauges(registry, frontEnd);
  if (money !== undefined) moneyMetrics(registry, money, reader, layout);

  const defaults = new Registry();
  client.collectDefaultMetrics({ register: defaults });
  for (const metric of defaults.getMetricsAsArray()) {
    if (kProcessWideDefaults.has(metric.name)) registry.registerMetric(metric as unknown as client.Metric);
  }
  return registry;
}

/** A per-slot counter (definitions.ts slotCounters) under each slot's current labels; slots with none are left out. */
function relabelled(registry: Registry, def: CounterDef, offsets: number[], reader: SlotReader, view: LifecycleView): void {
  registry.registerMetric(new SharedMetric(def.name, def.help, 'counter', () => {
    const out: MetricValue[] = [];
    offsets.forEach((offset, slot) => {
      if (def.relabel === 'model') {
        const m = view.model(slot);
        if (m !== undefined) out.push({ value: reader.sum(offset), labels: { model: m.name, version: m.version } });
      } else {
        const a = view.arm(slot);
        if (a !== undefined) out.push({ value: reader.sum(offset), labels: { experiment: a.experiment, arm: a.arm } });
      }
    });
    return out;
  }) as unknown as client.Metric);
}

/** The model lifecycle's gauges: which model is active, the canary's share, the shadow's comparison. */
function lifecycleGauges(registry: Registry, reader: SlotReader, layout: MetricsLayout, view: LifecycleView): void {
  const each = (pick: (slot: number, s: ReturnType<LifecycleView['settings']>, m: { name: string; version: string }) => MetricValue[]) => (): MetricValue[] => {
    const s = view.settings();
    return view.modelSlots().flatMap((slot) => pick(slot, s, view.model(slot)!));
  };
  const sum = (name: string, slot: number): number => reader.sum(layout.offset(name, [String(slot)]));
  registry.registerMetric(new SharedMetric('bidder_model_info', 'Every loaded model (name@version): 1 for the active model, which scores bids, 0 for the others (loaded, shadow, canary).', 'gauge',
    each((slot, s, m) => [{ value: slot === s.active ? 1 : 0, labels: { name: m.name, version: m.version } }])) as unknown as client.Metric);
  registry.registerMetric(new SharedMetric('bidder_model_state', 'Each loaded model\'s role: 1 on its state (active, shadow, canary, loaded).', 'gauge',
    each((slot, s, m) => {
      const state = slot === s.active ? 'active' : slot === s.shadow ? 'shadow' : slot === s.canary ? 'canary' : 'loaded';
      return [{ value: 1, labels: { name: m.name, version: m.version, state } }];
    })) as unknown as client.Metric);
  registry.registerMetric(new SharedMetric('bidder_model_canary_traffic_ratio', 'Share of requests the canary scores at its current ramp step (0 when there is none).', 'gauge',
    each((slot, s, m) => (slot === s.canary ? [{ value: s.canaryBasisPoints / 10_000, labels: { model: m.name, version: m.version } }] : []))) as unknown as client.Metric);
  registry.registerMetric(new SharedMetric('bidder_shadow_mean_ctr', 'Mean predicted CTR over the rows the shadow scored, by shadow model and role (active: what served; shadow: the shadow\'s prediction).', 'gauge',
    each((slot, _s, m) => {
      const rows = sum('bidder_shadow_rows_total', slot);
      if (rows === 0) return [];
      return [
        { value: sum('bidder_shadow_active_ctr_total', slot) / rows, labels: { model: m.name, version: m.version, role: 'active' } },
        { value: sum('bidder_shadow_ctr_total', slot) / rows, labels: { model: m.name, version: m.version, role: 'shadow' } },
      ];
    })) as unknown as client.Metric);
  registry.registerMetric(new SharedMetric('bidder_shadow_calibration_gap', 'Calibration gap of the shadow against the active model over the same rows: sum(shadow) / sum(active) - 1 (0: same mean prediction; +0.1: predicts 10% more clicks).', 'gauge',
    each((slot, _s, m) => {
      const active = sum('bidder_shadow_active_ctr_total', slot);
      if (active === 0) return [];
      return [{ value: sum('bidder_shadow_ctr_total', slot) / active - 1, labels: { model: m.name, version: m.version } }];
    })) as unknown as client.Metric);
}

/** The money owner's figures by campaign and creative (money-stats.ts), read at scrape time. */
export interface MoneyMetricsSource {
  stats: SharedArrayBuffer;
  campaigns: { id: string; creatives: { id: string }[] }[];
}

function moneyMetrics(registry: Registry, source: MoneyMetricsSource, reader: SlotReader, layout: MetricsLayout): void {
  const stats = new MoneyStatsReader(source.stats, source.campaigns);
  const perCampaign = (name: string, help: string, type: 'counter' | 'gauge', pick: (s: CampaignStat) => number | null): void => {
    registry.registerMetric(new SharedMetric(name, help, type, () => stats.campaignStats().flatMap((s) => {
      const v = pick(s);
      return v === null ? [] : [{ value: v, labels: { campaign: s.campaignId } }];
    })) as unknown as client.Metric);
  };
  perCampaign('bidder_spend_micros_total', 'Spend in micro-USD by campaign: billed impressions (burl) at their clearing price, since start. Test traffic never spends.', 'counter', (s) => s.spendMicros);
  perCampaign('bidder_spend_today_micros', "Spend in micro-USD in the campaign's current budget day (its time zone).", 'gauge', (s) => s.spentTodayMicros);
  perCampaign('bidder_wins_total', 'Win notices (nurl) first counted, by campaign.', 'counter', (s) => s.wins);
  perCampaign('bidder_bills_total', 'Billing notices (burl) first counted, by campaign.', 'counter', (s) => s.bills);
  perCampaign('bidder_losses_total', 'Loss notices (lurl) first counted, by campaign.', 'counter', (s) => s.losses);
  perCampaign('bidder_budget_available_micros', 'Budget this process may still commit, micro-USD (embedded: the day or total left; fleet: leases held less spend), by budgeted campaign.', 'gauge', (s) => (s.availableMicros < 0 ? null : s.availableMicros));
  perCampaign('bidder_budget_reserved_micros', 'Bid prices reserved against the budget and not yet billed, released or expired, micro-USD.', 'gauge', (s) => (s.availableMicros < 0 ? null : s.reservedMicros));
  perCampaign('bidder_pacing_participation_ratio', 'Share of eligible requests the campaign takes part in (even pacing; 1 for asap).', 'gauge', (s) => (s.availableMicros < 0 ? null : s.throttlePpm / 1_000_000));
  // Pacing's own view, so an alert can compare delivery with the plan: in a fleet every
  // instance reports the fleet's spend for the day (take max by campaign, not sum).
  perCampaign('bidder_pacing_spend_micros', "Today's spend even pacing steered on at its last step, micro-USD (in a fleet the fleet's, read from Redis; else this process's), by evenly paced campaign.", 'gauge', (s) => (s.availableMicros < 0 || s.pacedTargetMicros < 0 ? null : s.pacedSpendMicros));
  perCampaign('bidder_pacing_target_spend_micros', "Even pacing's target by now: the daily budget times the share of the campaign's budget day gone, micro-USD, by evenly paced campaign.", 'gauge', (s) => (s.availableMicros < 0 || s.pacedTargetMicros < 0 ? null : s.pacedTargetMicros));
  registry.registerMetric(new SharedMetric('bidder_fleet_up', "1 while the fleet's Redis (BIDDER_REDIS_URL) is reachable, 0 while the bidder bids on the leases it holds; absent without a fleet.", 'gauge',
    () => (stats.fleetUp() < 0 ? [] : [{ value: stats.fleetUp(), labels: {} }])) as unknown as client.Metric);
  registry.registerMetric(new SharedMetric('bidder_creative_spend_micros_total', 'Spend in micro-USD by campaign and creative, since start.', 'counter',
    () => stats.creativeSpend().map((c) => ({ value: c.spendMicros, labels: { campaign: c.campaignId, creative: c.creativeId } }))) as unknown as client.Metric);
  // Win rate over the process's life: first-counted wins over live bids (one bid per winning imp).
  const bids = layout.offset('bidder_bids_total');
  const wins = layout.offset('bidder_notices_counted_total', ['win', 'first']);
  registry.registerMetric(new SharedMetric('bidder_win_rate', 'Win notices first counted per live bid since start (for a recent rate: rate(bidder_notices_counted_total{kind="win",counted="first"}[5m]) / rate(bidder_bids_total[5m])).', 'gauge', () => {
    const b = reader.sum(bids);
    return [{ value: b > 0 ? reader.sum(wins) / b : 0, labels: {} }];
  }) as unknown as client.Metric);
}

/**
 * The bidding thread's event loop and heap, under prom-client's names so Node dashboards
 * keep working: they describe the front end, as they did when the registry ran there.
 */
function frontEndGauges(registry: Registry, read: FrontRuntime): void {
  const gauge = (name: string, help: string, index: number): void => {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(index));
      },
    });
  };
  gauge('nodejs_eventloop_lag_seconds', 'Front-end thread: delay before its event loop handled the scrape.', kGaugeLoopLagSeconds);
  gauge('nodejs_eventloop_lag_min_seconds', 'Front-end thread: minimum event-loop delay since the previous scrape.', kGaugeLoopDelayMinSeconds);
  gauge('nodejs_eventloop_lag_max_seconds', 'Front-end thread: maximum event-loop delay since the previous scrape.', kGaugeLoopDelayMaxSeconds);
  gauge('nodejs_eventloop_lag_mean_seconds', 'Front-end thread: mean event-loop delay since the previous scrape.', kGaugeLoopDelayMeanSeconds);
  gauge('nodejs_eventloop_lag_p50_seconds', 'Front-end thread: median event-loop delay since the previous scrape.', kGaugeLoopDelayP50Seconds);
  gauge('nodejs_eventloop_lag_p90_seconds', 'Front-end thread: 90th percentile of the event-loop delay since the previous scrape.', kGaugeLoopDelayP90Seconds);
  gauge('nodejs_eventloop_lag_p99_seconds', 'Front-end thread: 99th percentile of the event-loop delay since the previous scrape.', kGaugeLoopDelayP99Seconds);
  gauge('nodejs_heap_size_total_bytes', 'Front-end thread: V8 heap size.', kGaugeHeapTotalBytes);
  gauge('nodejs_heap_size_used_bytes', 'Front-end thread: V8 heap in use.', kGaugeHeapUsedBytes);
  gauge('nodejs_external_memory_bytes', 'Front-end thread: memory held by C++ objects bound to its JavaScript objects.', kGaugeExternalBytes);
  registry.registerMetric(
    new SharedMetric(
      'bidder_frontend_loop_busy_seconds_total',
      'Seconds the front-end (bidding) thread spent running callbacks; its rate is the loop utilisation.',
      'counter',
      () => [{ value: read(kGaugeLoopBusySeconds), labels: {} }],
    ) as unknown as client.Metric,
  );
}
