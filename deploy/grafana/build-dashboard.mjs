#!/usr/bin/env node
/**
 * Writes the bidder's Grafana dashboard, rtb-bidder.json, from the panel list below.
 *
 *   node deploy/grafana/build-dashboard.mjs [OUT]   (OUT defaults to rtb-bidder.json beside this file)
 *
 * The JSON is generated rather than edited in Grafana so that every panel gets the same
 * datasource, job/pod filter, rate window and legend conventions, and so that a review
 * sees a one-line change to a query rather than a reshuffled 3,000-line export.
 * test/deploy/grafana-dashboard.test.ts checks that the committed JSON is this script's
 * output and that every metric it queries is one a live bidder exports.
 *
 * Conventions:
 * - Every selector filters job="$job" and, where the series is per process, pod=~"$pod":
 *   S() builds the matcher so no query can forget it.
 * - Rates use $__rate_interval so that a zoomed-out view never asks for a window shorter
 *   than four scrapes (a rate over one sample is no rate).
 * - Only families the bidder exports (and Prometheus's `up`) are queried, never recording
 *   rules, so the dashboard works on a bare Prometheus.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DS = { type: 'prometheus', uid: '${datasource}' };
const RATE = '[$__rate_interval]';

/** The label matcher of a per-process series; `extra` adds the panel's own matchers. */
const S = (extra = '') => `{job="$job",pod=~"$pod"${extra ? `,${extra}` : ''}}`;
const rate = (metric, extra = '') => `rate(${metric}${S(extra)}${RATE})`;
/** Money series additionally follow the campaign picker. */
const C = (extra = '') => S(`campaign=~"$campaign"${extra ? `,${extra}` : ''}`);

// Colours mean the same thing on every panel: an incident reader learns them once.
const GOOD = 'green';
const BAD = 'red';
const WARN = 'orange';
const NEUTRAL = 'blue';

const q = (expr, legendFormat) => ({ expr, legendFormat });

/** Field overrides by series name (exact, or /regex/). */
const byName = (name, properties) => ({
  matcher: name.startsWith('/') ? { id: 'byRegexp', options: name } : { id: 'byName', options: name },
  properties,
});
const fixedColor = (name, color) => byName(name, [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }]);
const dashed = (name) => byName(name, [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]);

const thresholds = (steps) => ({
  mode: 'absolute',
  steps: [{ color: steps.base ?? GOOD, value: null }, ...(steps.at ?? []).map(([value, color]) => ({ color, value }))],
});

function timeseries({ title, description, unit, targets, w = 12, h = 8, min = 0, max, stack = false, overrides = [], mappings = [], steps, legendCalcs = ['mean', 'max'], decimals }) {
  return {
    type: 'timeseries',
    title,
    description,
    w,
    h,
    fieldConfig: {
      defaults: {
        unit,
        ...(min === null ? {} : { min }),
        ...(max === undefined ? {} : { max }),
        ...(decimals === undefined ? {} : { decimals }),
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'linear',
          lineWidth: 1,
          fillOpacity: stack ? 40 : 10,
          gradientMode: 'none',
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
          axisPlacement: 'auto',
          thresholdsStyle: { mode: steps ? 'dashed' : 'off' },
        },
        mappings,
        thresholds: thresholds(steps ?? {}),
      },
      overrides,
    },
    options: {
      // A table legend with mean and max lets the reader rank series without hovering.
      legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: legendCalcs },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets,
  };
}

function stat({ title, description, unit, targets, w = 4, h = 4, steps, textMode = 'auto', noValue, overrides = [], mappings = [], decimals, colorMode = 'value' }) {
  return {
    type: 'stat',
    title,
    description,
    w,
    h,
    fieldConfig: {
      defaults: {
        unit,
        ...(decimals === undefined ? {} : { decimals }),
        ...(noValue === undefined ? {} : { noValue }),
        color: { mode: 'thresholds' },
        mappings,
        thresholds: thresholds(steps ?? { base: NEUTRAL }),
      },
      overrides,
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode,
      graphMode: 'area',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode,
      showPercentChange: false,
      wideLayout: true,
    },
    targets,
  };
}

const row = (title, description, panels) => ({ title, description, panels });

// ---------------------------------------------------------------------------------------
// Traffic and outcomes: the first screen of an incident, "is it serving and bidding".
// ---------------------------------------------------------------------------------------
const ALL_REQ = `sum(${rate('bidder_requests_total')})`;
const FIVE_XX = 'reason=~"INTERNAL|NOT_READY"';

const traffic = row('Traffic and outcomes', 'Is it serving and bidding: scrape and readiness health, live traffic, bid rate, no-bids, errors and shedding.', [
  stat({
    title: 'Pods up / down',
    description: 'Scrape targets of $job Prometheus reaches (up = 1) and those it cannot (up = 0). Any "down" means a pod is not being scraped: it may still take traffic, but every panel below is blind to it.',
    unit: 'short',
    textMode: 'value_and_name',
    targets: [q(`sum(up${S()})`, 'up'), q(`count(up${S()} == 0) or vector(0)`, 'down')],
    steps: { base: GOOD },
    overrides: [byName('down', [{ id: 'thresholds', value: thresholds({ base: GOOD, at: [[1, BAD]] }) }])],
  }),
  stat({
    title: 'Pods ready / not ready',
    description: 'bidder_ready: 1 while /readyz answers 200 (workers warm, not draining). "not ready" counts pods warming up or draining; during a rollout a few is normal, outside one it means pods take no traffic from the load balancer.',
    unit: 'short',
    textMode: 'value_and_name',
    targets: [q(`sum(bidder_ready${S()})`, 'ready'), q(`count(bidder_ready${S()} == 0) or vector(0)`, 'not ready')],
    steps: { base: GOOD },
    overrides: [byName('not ready', [{ id: 'thresholds', value: thresholds({ base: GOOD, at: [[1, WARN]] }) }])],
  }),
  stat({
    title: 'Live requests/s',
    description: 'Live bid requests answered per second, every outcome (test = 1 traffic excluded). A sudden drop with pods up means the exchange or the load balancer stopped sending.',
    unit: 'reqps',
    targets: [q(ALL_REQ, 'requests/s')],
  }),
  stat({
    title: 'Bid rate',
    description: 'Share of live requests answered with a bid. Its normal level depends on the campaigns and the supply; read it against the same hour yesterday. A fall with no-bids rising: see "No-bid reasons".',
    unit: 'percentunit',
    decimals: 1,
    targets: [q(`sum(${rate('bidder_requests_total', 'outcome="bid"')}) / ${ALL_REQ}`, 'bid rate')],
  }),
  stat({
    title: '5xx ratio',
    description: 'Share of live requests answered 5xx (INTERNAL 500, NOT_READY 503). These are our failures; 4xx are the exchange\'s malformed requests and are in "Errors by reason". Orange from 0.1%, red from 1%.',
    unit: 'percentunit',
    decimals: 2,
    targets: [q(`(sum(${rate('bidder_requests_total', `outcome="error",${FIVE_XX}`)}) / ${ALL_REQ}) or vector(0)`, '5xx')],
    steps: { base: GOOD, at: [[0.001, WARN], [0.01, BAD]] },
  }),
  stat({
    title: 'Shed ratio (overloaded)',
    description: 'Share of live requests the bidder refused with a no-bid because the pool queue was over its bound (reason="overloaded"): it sheds rather than answer after tmax. Any sustained shedding means the fleet is short of capacity.',
    unit: 'percentunit',
    decimals: 2,
    targets: [q(`(sum(${rate('bidder_requests_total', 'outcome="no_bid",reason="overloaded"')}) / ${ALL_REQ}) or vector(0)`, 'shed')],
    steps: { base: GOOD, at: [[0.001, WARN], [0.01, BAD]] },
  }),
  timeseries({
    title: 'Requests/s by outcome',
    description: 'Live bid requests per second by outcome: bid, no_bid (answered 204) and error (4xx/5xx). The dashed line is test traffic (OpenRTB test = 1), counted apart in bidder_test_requests_total and not in the other lines.',
    unit: 'reqps',
    targets: [
      q(`sum by (outcome) (${rate('bidder_requests_total')})`, '{{outcome}}'),
      q(`sum(${rate('bidder_test_requests_total')})`, 'test traffic (all outcomes)'),
    ],
    overrides: [fixedColor('bid', GOOD), fixedColor('no_bid', NEUTRAL), fixedColor('error', BAD), dashed('test traffic (all outcomes)')],
  }),
  timeseries({
    title: 'Bid rate by pod',
    description: 'Share of each pod\'s live requests answered with a bid. Pods behind one load balancer see the same traffic, so one pod apart from the others points at that pod (its model, its budget leases, its config).',
    unit: 'percentunit',
    max: 1,
    targets: [q(`sum by (pod) (${rate('bidder_requests_total', 'outcome="bid"')}) / sum by (pod) (${rate('bidder_requests_total')})`, '{{pod}}')],
  }),
  timeseries({
    title: 'No-bid reasons (top 8)',
    description: 'Live no-bids per second by reason, stacked, the 8 largest at each instant. no_candidates / below_floor are supply and targeting; paced, budget_exhausted, frequency_capped are the money gate; tmax_exceeded, overloaded, worker_failed, draining are the bidder itself.',
    unit: 'reqps',
    stack: true,
    targets: [q(`topk(8, sum by (reason) (${rate('bidder_requests_total', 'outcome="no_bid"')}))`, '{{reason}}')],
    overrides: [fixedColor('/overloaded|worker_failed|tmax_exceeded/', BAD)],
  }),
  timeseries({
    title: 'Errors by reason',
    description: 'Live requests answered with an error, per second, by code; series at zero are hidden. "5xx" lines (INTERNAL, NOT_READY) are ours and page; "4xx" lines (BAD_JSON, MISSING_FIELD, BODY_TOO_LARGE, ...) are the sender\'s requests and are for the exchange integration to look at.',
    unit: 'reqps',
    targets: [
      q(`sum by (reason) (${rate('bidder_requests_total', `outcome="error",${FIVE_XX}`)}) > 0`, '5xx {{reason}}'),
      q(`sum by (reason) (${rate('bidder_requests_total', 'outcome="error",reason!~"INTERNAL|NOT_READY"')}) > 0`, '4xx {{reason}}'),
    ],
    overrides: [fixedColor('/^5xx/', BAD)],
  }),
  timeseries({
    title: 'Shed and drained requests/s by pod',
    description: 'No-bids because the pool queue was over its bound (overloaded: load shedding) or the pod was draining for shutdown (draining: normal during a rollout, brief). Shedding on one pod only: an uneven load balancer or a slow pod.',
    unit: 'reqps',
    w: 8,
    targets: [
      q(`sum by (pod) (${rate('bidder_requests_total', 'outcome="no_bid",reason="overloaded"')})`, '{{pod}} overloaded'),
      q(`sum by (pod) (${rate('bidder_requests_total', 'outcome="no_bid",reason="draining"')})`, '{{pod}} draining'),
    ],
    overrides: [dashed('/draining$/')],
  }),
  timeseries({
    title: 'Requests in flight by pod',
    description: 'Bid requests received and not yet answered, per pod (a gauge, as of the scrape). It follows throughput times latency; growing while throughput holds means answers are slowing down.',
    unit: 'short',
    w: 8,
    targets: [q(`sum by (pod) (bidder_requests_in_flight${S()})`, '{{pod}}')],
  }),
  timeseries({
    title: 'Readiness and scrape by pod',
    description: 'Per pod: "ready" is bidder_ready (1 while /readyz answers 200), "up" is whether Prometheus scraped it. A pod up but not ready is warming or draining; a gap in both is a pod gone.',
    unit: 'short',
    w: 8,
    max: 1,
    decimals: 0,
    mappings: [{ type: 'value', options: { 0: { text: 'no' }, 1: { text: 'yes' } } }],
    legendCalcs: ['min', 'lastNotNull'],
    targets: [q(`bidder_ready${S()}`, '{{pod}} ready'), q(`up${S()}`, '{{pod}} up')],
    overrides: [dashed('/ up$/')],
  }),
]);

// ---------------------------------------------------------------------------------------
// Latency by stage: where the time of a request goes.
// ---------------------------------------------------------------------------------------
const STAGE_HIST = 'bidder_request_stage_duration_seconds_bucket';
const stageQuantile = (quantile) => `histogram_quantile(${quantile}, sum by (le, stage) (${rate(STAGE_HIST)}))`;
const BUCKET_NOTE = 'The histogram\'s largest finite bucket is 1 s: a quantile above it reads as 1 s.';

const latency = row('Latency by stage', 'Where the time of a request goes: each stage\'s tail, the model, and the front-end thread that every request crosses.', [
  timeseries({
    title: 'p99 latency by stage',
    description: `99th percentile time per stage over all selected pods: receive (body arriving), queue (waiting for a worker), score (bid engine and model), respond (writing the answer), total (end to end). Compare total with the exchanges' tmax less network time. ${BUCKET_NOTE}`,
    unit: 's',
    targets: [q(stageQuantile(0.99), 'p99 {{stage}}')],
    overrides: [byName('p99 total', [{ id: 'custom.lineWidth', value: 3 }])],
  }),
  timeseries({
    title: 'p99.9 latency by stage',
    description: `99.9th percentile per stage, beside the p99: a p99.9 far above the p99 is a stall (GC, a slow worker, a queue burst) rather than a slow path. queue growing at p99.9 first is the early sign of saturation. ${BUCKET_NOTE}`,
    unit: 's',
    targets: [q(stageQuantile(0.999), 'p99.9 {{stage}}')],
    overrides: [byName('p99.9 total', [{ id: 'custom.lineWidth', value: 3 }])],
  }),
  timeseries({
    title: 'End-to-end latency (stage=total): p50, p99, p99.9',
    description: `The whole request, arrival to answer written, over all selected pods. The gap between the lines is the tail's width. ${BUCKET_NOTE}`,
    unit: 's',
    targets: [
      q(`histogram_quantile(0.5, sum by (le) (${rate(STAGE_HIST, 'stage="total"')}))`, 'p50'),
      q(`histogram_quantile(0.99, sum by (le) (${rate(STAGE_HIST, 'stage="total"')}))`, 'p99'),
      q(`histogram_quantile(0.999, sum by (le) (${rate(STAGE_HIST, 'stage="total"')}))`, 'p99.9'),
    ],
  }),
  timeseries({
    title: 'p99 end-to-end latency by pod',
    description: `p99 of stage=total for each pod: one pod above the rest is that pod (noisy neighbour, CPU throttling, a bad node), all of them together is load or a dependency. ${BUCKET_NOTE}`,
    unit: 's',
    targets: [q(`histogram_quantile(0.99, sum by (le, pod) (${rate(STAGE_HIST, 'stage="total"')}))`, '{{pod}}')],
  }),
  timeseries({
    title: 'Model inference: p99, p99.9 and mean',
    description: `Duration of one batched model run (session.run) in a worker. It is part of the "score" stage; a model swap or canary that runs slower shows here first. ${BUCKET_NOTE}`,
    unit: 's',
    w: 8,
    targets: [
      q(`histogram_quantile(0.99, sum by (le) (${rate('bidder_model_inference_duration_seconds_bucket')}))`, 'p99'),
      q(`histogram_quantile(0.999, sum by (le) (${rate('bidder_model_inference_duration_seconds_bucket')}))`, 'p99.9'),
      q(`sum(${rate('bidder_model_inference_duration_seconds_sum')}) / sum(${rate('bidder_model_inference_duration_seconds_count')})`, 'mean'),
    ],
    overrides: [dashed('mean')],
  }),
  timeseries({
    title: 'Front-end event loop lag by pod',
    description: 'The bidding (front-end) thread\'s event-loop delay since the previous scrape: p99 solid, max dashed. Every request crosses this loop twice (receive and respond), so its lag adds to every request; a max far above the p99 is a single stall.',
    unit: 's',
    w: 8,
    targets: [
      q(`max by (pod) (nodejs_eventloop_lag_p99_seconds${S()})`, '{{pod}} p99'),
      q(`max by (pod) (nodejs_eventloop_lag_max_seconds${S()})`, '{{pod}} max'),
    ],
    overrides: [dashed('/ max$/')],
  }),
  timeseries({
    title: 'Front-end loop utilisation by pod',
    description: 'Share of wall time the front-end (bidding) thread spent running callbacks. It is one thread: near 100% it is the bottleneck whatever the pool has left, and latency and shedding follow. Orange from 70%, red from 90%.',
    unit: 'percentunit',
    w: 8,
    max: 1,
    steps: { base: GOOD, at: [[0.7, WARN], [0.9, BAD]] },
    targets: [q(`sum by (pod) (${rate('bidder_frontend_loop_busy_seconds_total')})`, '{{pod}}')],
  }),
]);

// ---------------------------------------------------------------------------------------
// Pool and placement: the scoring workers, and where batches ran.
// ---------------------------------------------------------------------------------------
const pool = row('Pool and placement', 'Capacity of the scoring pool, where batches ran (inline on the front end or in the pool), receive memory, and the process\'s CPU and memory.', [
  timeseries({
    title: 'Pool threads by pod',
    description: 'Live pool worker threads per pod. A dip is a worker that died and is being replaced (its requests were answered worker_failed); a pod below its configured count stays short of capacity.',
    unit: 'short',
    w: 6,
    decimals: 0,
    legendCalcs: ['min', 'lastNotNull'],
    targets: [q(`sum by (pod) (bidder_pool_threads${S()})`, '{{pod}}')],
  }),
  timeseries({
    title: 'Pool queue by pod',
    description: 'Requests waiting for a free pool worker (solid) and batches piscina holds for want of a ready worker, e.g. while a replacement warms (dashed). A queue that does not drain between scrapes is saturation; past its bound requests are shed (overloaded).',
    unit: 'short',
    w: 6,
    targets: [
      q(`sum by (pod) (bidder_pool_queue_depth_requests${S()})`, '{{pod}} requests waiting'),
      q(`sum by (pod) (bidder_pool_queued_tasks${S()})`, '{{pod}} tasks queued'),
    ],
    overrides: [dashed('/tasks queued$/')],
  }),
  timeseries({
    title: 'Batches in flight in the pool by pod',
    description: 'Batches being processed by pool workers right now (as of the scrape). At the thread count, every worker is busy and new batches queue.',
    unit: 'short',
    w: 6,
    targets: [q(`sum by (pod) (bidder_pool_inflight_batches${S()})`, '{{pod}}')],
  }),
  timeseries({
    title: 'Pool worker busy ratio by pod',
    description: 'Solid: the mean share of time each pod\'s workers spent on batches (busy seconds over live threads). Dashed: its busiest worker. Mean near 100% is a saturated pool; one busy worker with an idle mean is an unbalanced pool.',
    unit: 'percentunit',
    w: 6,
    max: 1,
    steps: { base: GOOD, at: [[0.8, WARN], [0.95, BAD]] },
    targets: [
      q(`sum by (pod) (${rate('bidder_pool_worker_busy_seconds_total')}) / sum by (pod) (bidder_pool_threads${S()})`, '{{pod}} mean'),
      q(`max by (pod) (${rate('bidder_pool_worker_busy_seconds_total')})`, '{{pod}} busiest worker'),
    ],
    overrides: [dashed('/busiest worker$/')],
  }),
  timeseries({
    title: 'Batches/s by placement',
    description: 'Light batches scored on the front end that received them (inline) or sent to the pool; heavy bodies always go to the pool. Inline rises at light load and gives way to the pool as load grows: that is the placement working.',
    unit: 'ops',
    w: 8,
    stack: true,
    targets: [q(`sum by (placement) (${rate('bidder_batches_total')})`, '{{placement}}')],
  }),
  timeseries({
    title: 'Requests scored/s by lane',
    description: 'Requests run through the bid engine per second, by lane: a pool worker or the front end itself (inline). Their sum is the scored traffic; the rest of the requests ended before scoring (errors, shed, no candidates).',
    unit: 'reqps',
    w: 8,
    stack: true,
    targets: [q(`sum by (lane) (${rate('bidder_scored_requests_total')})`, '{{lane}}')],
  }),
  timeseries({
    title: 'Batch size: mean and p99',
    description: 'Requests per batch (a pool task or an inline run). Batches grow with load, which amortises each model run. The mean is exact; the p99 is interpolated inside power-of-two buckets (batches of one read as up to 1), so read it as the bucket it falls in; at 256 batching is capped.',
    unit: 'short',
    w: 8,
    targets: [
      // No p50: interpolated inside the first bucket (0 to 1) it shows batches of one as 0.5.
      q(`histogram_quantile(0.99, sum by (le) (${rate('bidder_pool_batch_requests_bucket')}))`, 'p99'),
      q(`sum(${rate('bidder_pool_batch_requests_sum')}) / sum(${rate('bidder_pool_batch_requests_count')})`, 'mean'),
    ],
    overrides: [dashed('mean')],
  }),
  timeseries({
    title: 'Batch compute by placement (cores)',
    description: 'Compute time of placed batches per second of wall time (1 = one core busy), as measured where they ran (solid) and as the placement estimated when it decided (dashed).',
    unit: 'percentunit',
    targets: [q(`sum by (placement, kind) (${rate('bidder_batch_cost_seconds_total')})`, '{{placement}} {{kind}}')],
    overrides: [dashed('/estimated$/')],
  }),
  timeseries({
    title: 'Placement cost model: estimated / measured',
    description: 'How well the placement\'s cost model holds: 1 is exact, above 1 it overestimates (sends batches to the pool that could run inline), below 1 it underestimates (runs work inline that stalls the front end).',
    unit: 'short',
    min: null,
    targets: [
      q(`sum by (placement) (${rate('bidder_batch_cost_seconds_total', 'kind="estimated"')}) / sum by (placement) (${rate('bidder_batch_cost_seconds_total', 'kind="measured"')})`, '{{placement}}'),
    ],
  }),
  timeseries({
    title: 'Receive slab segments in use by pod',
    description: 'Segments of the shared receive buffer holding request bodies. Growth without more traffic means bodies are held longer (slow answers, slow senders).',
    unit: 'short',
    w: 6,
    targets: [q(`sum by (pod) (bidder_receive_slab_segments_in_use${S()})`, '{{pod}}')],
  }),
  timeseries({
    title: 'Bytes of bodies still arriving by pod',
    description: 'Receive memory held by request bodies still arriving, bounded by server.maxReceivingBytes; near the bound, slow bodies are evicted (BODY_EVICTED 408). High here with little traffic suggests slow-loris senders.',
    unit: 'bytes',
    w: 6,
    targets: [q(`sum by (pod) (bidder_receiving_bytes${S()})`, '{{pod}}')],
  }),
  timeseries({
    title: 'Process CPU by pod',
    description: 'CPU of the whole process (front end, pool workers, operations and money threads), 100% = one core. Compare with the pod\'s CPU limit: at the limit the kernel throttles and every latency panel suffers.',
    unit: 'percentunit',
    w: 6,
    targets: [q(`sum by (pod) (${rate('process_cpu_seconds_total')})`, '{{pod}}')],
  }),
  timeseries({
    title: 'Process memory by pod',
    description: 'Resident set of the whole process (solid) and the front-end thread\'s V8 heap in use (dashed; the pool workers\' heaps are in the RSS only). RSS that climbs without levelling off is a leak; compare with the pod\'s memory limit.',
    unit: 'bytes',
    w: 6,
    targets: [
      q(`sum by (pod) (process_resident_memory_bytes${S()})`, '{{pod}} RSS'),
      q(`sum by (pod) (nodejs_heap_size_used_bytes${S()})`, '{{pod}} front-end heap'),
    ],
    overrides: [dashed('/front-end heap$/')],
  }),
]);

// ---------------------------------------------------------------------------------------
// Models and arms: which model serves, its rollout, and the experiments.
// ---------------------------------------------------------------------------------------
const ARM = '{{experiment}}/{{arm}}';
const armRate = (metric) => `sum by (experiment, arm) (${rate(metric)})`;

const models = row('Models and arms', 'Which model scores bids on each pod, a canary\'s ramp, the shadow\'s comparison, experiment arms and bid shading.', [
  stat({
    title: 'Active model (pods serving it)',
    description: 'Each name@version that is the active model somewhere, with how many pods it is active on. More than one outside a rollout means the fleet is split; a pod count below the pods ready means some pods report no active model.',
    unit: 'short',
    w: 6,
    h: 8,
    textMode: 'value_and_name',
    targets: [q(`count by (name, version) (bidder_model_info${S()} == 1)`, '{{name}}@{{version}}')],
  }),
  timeseries({
    title: 'Model states (pods per model and state)',
    description: 'How many pods hold each loaded model in each role: active (scores bids), canary (scores a share), shadow (scored after the answer, for comparison), loaded (idle). A step shows when a swap, canary or rollback happened.',
    unit: 'short',
    w: 6,
    decimals: 0,
    legendCalcs: ['lastNotNull'],
    targets: [q(`count by (name, version, state) (bidder_model_state${S()} == 1)`, '{{state}} {{name}}@{{version}}')],
    overrides: [fixedColor('/^active /', GOOD), fixedColor('/^canary /', WARN)],
  }),
  timeseries({
    title: 'Canary traffic share',
    description: 'Share of requests the canary model scores at its current ramp step (the highest over pods: pods step together, so a pod behind shows as a gap in "Model states"). Absent when no canary runs.',
    unit: 'percentunit',
    w: 6,
    max: 1,
    legendCalcs: ['lastNotNull'],
    targets: [q(`max by (model, version) (bidder_model_canary_traffic_ratio${S()})`, '{{model}}@{{version}}')],
  }),
  timeseries({
    title: 'Model runs/s by model',
    description: 'session.run calls per second by model (active, canary, or an arm\'s model; the shadow\'s are counted apart). A canary\'s line should follow its traffic share.',
    unit: 'ops',
    w: 6,
    targets: [q(`sum by (model, version) (${rate('bidder_model_runs_total')})`, '{{model}}@{{version}}')],
  }),
  timeseries({
    title: 'Model error ratio by model',
    description: 'Share of session.run calls that failed, by model; their requests were answered no-bid (worker_failed). Any error on a canary is a reason to roll it back.',
    unit: 'percentunit',
    targets: [
      q(`sum by (model, version) (${rate('bidder_model_errors_total')}) / sum by (model, version) (${rate('bidder_model_runs_total')})`, '{{model}}@{{version}}'),
    ],
    steps: { base: GOOD, at: [[0.001, BAD]] },
  }),
  timeseries({
    title: 'Mean run time by model',
    description: 'Mean session.run time per call, by model: a canary should stay within the active model\'s latency. The tail of all runs together is in "Model inference".',
    unit: 's',
    targets: [
      q(`sum by (model, version) (${rate('bidder_model_run_seconds_total')}) / sum by (model, version) (${rate('bidder_model_runs_total')})`, '{{model}}@{{version}}'),
    ],
  }),
  timeseries({
    title: 'Shadow vs active mean predicted CTR',
    description: 'Over the rows the shadow model also scored (since each pod started, averaged over pods): the active model\'s mean predicted CTR ("active") and the shadow\'s ("shadow"). Lines apart mean the shadow would bid differently.',
    unit: 'percentunit',
    legendCalcs: ['lastNotNull'],
    targets: [q(`avg by (model, version, role) (bidder_shadow_mean_ctr${S()})`, '{{role}} (shadow {{model}}@{{version}})')],
    overrides: [dashed('/^shadow /')],
  }),
  timeseries({
    title: 'Shadow calibration gap',
    description: 'sum(shadow CTR) / sum(active CTR) - 1 over the same rows, averaged over pods: 0 is the same mean prediction, +10% means the shadow predicts 10% more clicks (and would bid higher). Large either way: calibrate before promoting.',
    unit: 'percentunit',
    min: null,
    legendCalcs: ['lastNotNull'],
    targets: [q(`avg by (model, version) (bidder_shadow_calibration_gap${S()})`, '{{model}}@{{version}}')],
  }),
  timeseries({
    title: 'Experiment requests/s by arm',
    description: 'Live requests assigned to each experiment arm (a request is in one arm of every experiment). Arms of one experiment should split traffic by their weights; a skew is a sample-ratio problem.',
    unit: 'reqps',
    w: 8,
    targets: [q(armRate('bidder_experiment_requests_total'), ARM)],
  }),
  timeseries({
    title: 'Bid rate by arm',
    description: 'Bids per assigned request, by arm: compare each arm with its experiment\'s control.',
    unit: 'percentunit',
    w: 8,
    targets: [q(`${armRate('bidder_experiment_bids_total')} / ${armRate('bidder_experiment_requests_total')}`, ARM)],
  }),
  timeseries({
    title: 'Win rate by arm',
    description: 'Win notices first counted per bid, by arm. Notices lag bids by seconds to minutes, so the last minutes read low.',
    unit: 'percentunit',
    w: 8,
    targets: [q(`${armRate('bidder_experiment_wins_total')} / ${armRate('bidder_experiment_bids_total')}`, ARM)],
  }),
  timeseries({
    title: 'Spend USD/s by arm',
    description: 'Billed spend per second by the arm of the billed bid (micro-USD / 1e6). Divide by the arm\'s traffic share to compare arms of unequal weight; npm run experiment:report gives the confidence intervals.',
    unit: 'currencyUSD',
    targets: [q(`${armRate('bidder_experiment_spend_micros_total')} / 1e6`, ARM)],
  }),
  timeseries({
    title: 'CTR by arm',
    description: 'Click notices per billed impression, by arm. Clicks are rare: read it over hours, not minutes.',
    unit: 'percentunit',
    targets: [q(`${armRate('bidder_experiment_clicks_total')} / ${armRate('bidder_experiment_bills_total')}`, ARM)],
  }),
  timeseries({
    title: 'Bid shading results/s',
    description: 'First-price bids of shading arms, by what shading did: shaded (priced below value), at_value, no_model (too few observations yet: normal after a start), not_first_price (second price or a deal, never shaded).',
    unit: 'ops',
    stack: true,
    targets: [q(`sum by (result) (${rate('bidder_shading_bids_total')})`, '{{result}}')],
    overrides: [fixedColor('shaded', GOOD), fixedColor('no_model', WARN)],
  }),
  timeseries({
    title: 'Mean saving per shaded bid (CPM)',
    description: 'Mean (value - shaded price) per shaded bid, CPM in the bid currency (USD for USD bids). Falling to 0 means shading stopped finding room below value; a jump means the landscape model moved.',
    unit: 'currencyUSD',
    targets: [
      q(`(sum(${rate('bidder_shading_saved_micros_total')}) / 1e6) / sum(${rate('bidder_shading_bids_total', 'result="shaded"')})`, 'saving per shaded bid'),
    ],
  }),
]);

// ---------------------------------------------------------------------------------------
// Spend and pacing: the money, by campaign.
// ---------------------------------------------------------------------------------------
const WIN_RATE = `sum(${rate('bidder_notices_counted_total', 'kind="win",counted="first"')}) / sum(${rate('bidder_bids_total')})`;

const spend = row('Spend and pacing', 'Spend by campaign, budgets, pacing against its plan, the money gate, bid prices and win rate. Campaign panels follow the $campaign picker.', [
  stat({
    title: 'Spend USD/s',
    description: 'Billed spend per second over the selected campaigns and pods (bills at their clearing price). Zero while bidding means no bills arrive: check the notices row.',
    unit: 'currencyUSD',
    w: 6,
    decimals: 4,
    targets: [q(`sum(${rate('bidder_spend_micros_total', 'campaign=~"$campaign"')}) / 1e6`, 'USD/s')],
  }),
  stat({
    title: 'Spend today',
    description: 'Spend in the selected campaigns\' current budget day (their time zones), summed over pods: each pod reports what it billed.',
    unit: 'currencyUSD',
    w: 6,
    targets: [q(`sum(bidder_spend_today_micros${C()}) / 1e6`, 'today')],
  }),
  stat({
    title: 'Budget available',
    description: 'Budget the selected pods may still commit, summed over pods (embedded: each pod\'s day or total left; fleet: the leases each holds less its spend). Near zero: campaigns stop bidding (budget_exhausted no-bids).',
    unit: 'currencyUSD',
    w: 6,
    targets: [q(`sum(bidder_budget_available_micros${C()}) / 1e6`, 'available')],
  }),
  stat({
    title: 'Win rate',
    description: 'Wins first counted per live bid over the last rate window, all campaigns. Win notices lag bids, so a fall of traffic reads briefly as a higher win rate and a rise as a lower one.',
    unit: 'percentunit',
    w: 6,
    decimals: 1,
    targets: [q(WIN_RATE, 'win rate')],
  }),
  timeseries({
    title: 'Spend USD/s by campaign (top 10)',
    description: 'Billed spend per second by campaign over the selected pods, the 10 largest at each instant. A campaign\'s line going flat while it has budget: see its pacing and the no-bid reasons.',
    unit: 'currencyUSD',
    stack: true,
    targets: [q(`topk(10, sum by (campaign) (${rate('bidder_spend_micros_total', 'campaign=~"$campaign"')}) / 1e6)`, '{{campaign}}')],
  }),
  timeseries({
    title: "Today's spend by campaign (top 10)",
    description: 'Spend in each campaign\'s current budget day, summed over pods; it resets at the campaign\'s midnight (its time zone). Read against the daily budget.',
    unit: 'currencyUSD',
    legendCalcs: ['lastNotNull', 'max'],
    targets: [q(`topk(10, sum by (campaign) (bidder_spend_today_micros${C()}) / 1e6)`, '{{campaign}}')],
  }),
  timeseries({
    title: 'Budget available and reserved by campaign',
    description: 'Solid: budget the selected pods may still commit (summed over pods). Dashed: bid prices reserved against it and not yet billed, released or expired. Reserved close to available means the campaign is bidding at its limit.',
    unit: 'currencyUSD',
    targets: [
      q(`sum by (campaign) (bidder_budget_available_micros${C()}) / 1e6`, '{{campaign}} available'),
      q(`sum by (campaign) (bidder_budget_reserved_micros${C()}) / 1e6`, '{{campaign}} reserved'),
    ],
    overrides: [dashed('/reserved$/')],
  }),
  timeseries({
    title: 'Pacing participation by campaign',
    description: 'Share of eligible requests each campaign takes part in, averaged over pods: 100% for asap campaigns and for evenly paced ones behind plan, lower as even pacing throttles a campaign ahead of plan.',
    unit: 'percentunit',
    max: 1,
    targets: [q(`avg by (campaign) (bidder_pacing_participation_ratio${C()})`, '{{campaign}}')],
  }),
  timeseries({
    title: 'Pacing delivery vs target by campaign',
    description: 'Evenly paced campaigns: today\'s spend pacing steered on (solid) against its target by now, the daily budget times the share of the day gone (dashed). In a fleet every pod reports the fleet\'s spend, hence max over pods; without a fleet each pod paces its own budget and this is the pod furthest ahead.',
    unit: 'currencyUSD',
    targets: [
      q(`max by (campaign) (bidder_pacing_spend_micros${C()}) / 1e6`, '{{campaign}} spent'),
      q(`max by (campaign) (bidder_pacing_target_spend_micros${C()}) / 1e6`, '{{campaign}} target'),
    ],
    overrides: [dashed('/target$/')],
  }),
  timeseries({
    title: 'Pacing delivery / target by campaign',
    description: '100% is on plan. Well below: under-delivering (no supply, budget_exhausted, caps, low bid rate); above: spending ahead of plan, which participation should bring back down. Early in the budget day the ratio is noisy.',
    unit: 'percentunit',
    steps: { base: GOOD },
    targets: [q(`max by (campaign) (bidder_pacing_spend_micros${C()}) / max by (campaign) (bidder_pacing_target_spend_micros${C()})`, '{{campaign}}')],
  }),
  timeseries({
    title: 'Money filter by reason',
    description: 'Candidates the money gate kept out before scoring (paced: even pacing throttled; budget: nothing left to reserve; capped: frequency cap) and bids refused at reservation (reserve_failed), per second. Rising "budget" is a campaign running dry.',
    unit: 'ops',
    stack: true,
    targets: [q(`sum by (reason) (${rate('bidder_money_filtered_total')})`, '{{reason}}')],
    overrides: [fixedColor('reserve_failed', BAD)],
  }),
  timeseries({
    title: 'Bid price (CPM, USD): p50, p90, p99',
    description: 'Prices of bids to live requests, CPM in USD. A jump in every quantile at once is a model or strategy change (compare with "Model states"); the histogram\'s largest finite bucket is 50.',
    unit: 'currencyUSD',
    targets: [
      q(`histogram_quantile(0.5, sum by (le) (${rate('bidder_bid_price_usd_bucket')}))`, 'p50'),
      q(`histogram_quantile(0.9, sum by (le) (${rate('bidder_bid_price_usd_bucket')}))`, 'p90'),
      q(`histogram_quantile(0.99, sum by (le) (${rate('bidder_bid_price_usd_bucket')}))`, 'p99'),
      q(`sum(${rate('bidder_bid_price_usd_sum')}) / sum(${rate('bidder_bid_price_usd_count')})`, 'mean'),
    ],
    overrides: [dashed('mean')],
  }),
  timeseries({
    title: 'Win rate by pod',
    description: 'Wins first counted per live bid, by pod. Pods share the exchanges and campaigns, so one pod apart points at it (its prices, its notice URLs).',
    unit: 'percentunit',
    targets: [
      q(`sum by (pod) (${rate('bidder_notices_counted_total', 'kind="win",counted="first"')}) / sum by (pod) (${rate('bidder_bids_total')})`, '{{pod}}'),
    ],
  }),
  timeseries({
    title: 'Wins, bills and losses/s (selected campaigns)',
    description: 'Notices first counted per second for the selected campaigns: wins (nurl), bills (burl, which spend) and losses (lurl). Bills well below wins means impressions won but not rendered or not billed yet.',
    unit: 'ops',
    targets: [
      q(`sum(${rate('bidder_wins_total', 'campaign=~"$campaign"')})`, 'wins'),
      q(`sum(${rate('bidder_bills_total', 'campaign=~"$campaign"')})`, 'bills'),
      q(`sum(${rate('bidder_losses_total', 'campaign=~"$campaign"')})`, 'losses'),
    ],
    overrides: [fixedColor('wins', GOOD), fixedColor('bills', NEUTRAL), fixedColor('losses', WARN)],
  }),
]);

// ---------------------------------------------------------------------------------------
// Notices: win, bill, loss and click notices coming back from the exchanges.
// ---------------------------------------------------------------------------------------
const NOTICE_REFUSED = 'result!~"accepted|repeat"';

const notices = row('Notices', 'Win, bill, loss and click notices coming back: how they were answered, forgeries, delay after the bid, anomalies, advertiser trackers and the event log.', [
  timeseries({
    title: 'Notices/s by kind and result',
    description: 'Notices received per second by kind (win, bill, loss, click) and answer: accepted (204), repeat, malformed (400), forged (403), expired (410), busy (503: the money owner is behind). Series at zero are hidden.',
    unit: 'ops',
    targets: [q(`sum by (kind, result) (${rate('bidder_notices_total')}) > 0`, '{{kind}} {{result}}')],
    overrides: [fixedColor('/ forged$/', BAD), fixedColor('/ busy$/', WARN)],
  }),
  timeseries({
    title: 'Forged notices/s (403)',
    description: 'Notices whose token does not verify, by kind. Anything above zero is someone calling the notice URLs with made-up or altered tokens (or a notice key mismatch between pods after a rotation): it never moves money, but investigate.',
    unit: 'ops',
    w: 6,
    steps: { base: GOOD, at: [[0.001, BAD]] },
    targets: [q(`sum by (kind) (${rate('bidder_notices_total', 'result="forged"')})`, '{{kind}}')],
    overrides: [fixedColor('/.*/', BAD)],
  }),
  timeseries({
    title: 'Notices refused, share by result',
    description: 'Share of all notices answered with an error, by result (malformed, forged, expired, busy). Expired rises when exchanges send notices late (after money.noticeMaxAgeSec); busy when the money owner falls behind.',
    unit: 'percentunit',
    w: 6,
    targets: [
      q(`sum by (result) (${rate('bidder_notices_total', NOTICE_REFUSED)}) / ignoring (result) group_left sum(${rate('bidder_notices_total')})`, '{{result}}'),
    ],
    overrides: [fixedColor('forged', BAD), fixedColor('busy', WARN)],
  }),
  timeseries({
    title: 'Notice delay after the bid: p50 and p99 by kind',
    description: 'Time from a bid to its first counted notice, by kind. Wins usually arrive in seconds; bills follow rendering; a p99 near money.noticeMaxAgeSec means notices are about to expire (and their spend goes uncounted).',
    unit: 's',
    targets: [
      q(`histogram_quantile(0.5, sum by (le, kind) (${rate('bidder_notice_delay_seconds_bucket')}))`, 'p50 {{kind}}'),
      q(`histogram_quantile(0.99, sum by (le, kind) (${rate('bidder_notice_delay_seconds_bucket')}))`, 'p99 {{kind}}'),
    ],
    overrides: [dashed('/^p50 /')],
  }),
  timeseries({
    title: 'Notices counted/s: first vs repeat',
    description: 'Accepted notices as the money owner counted them: first (a win, a bill that spends, a loss that releases) or repeat (an exchange retry already counted; nothing moves). Many repeats: an exchange retrying too eagerly.',
    unit: 'ops',
    targets: [q(`sum by (kind, counted) (${rate('bidder_notices_counted_total')})`, '{{kind}} {{counted}}')],
    overrides: [dashed('/ repeat$/')],
  }),
  timeseries({
    title: 'Notice anomalies/s',
    description: 'Accepted notices whose figures were not taken as given: price above the bid (capped at the bid), price missing or invalid (a bill then charges the bid price), another currency, another auction id. A steady stream from one exchange is a macro or integration bug there.',
    unit: 'ops',
    w: 8,
    targets: [q(`sum by (anomaly) (${rate('bidder_notice_anomalies_total')})`, '{{anomaly}}')],
  }),
  timeseries({
    title: 'Advertiser trackers/s by result',
    description: 'Trackers (a creative\'s own nurl/burl/lurl) the bidder fired when our notice was first counted: fired, failed (error, timeout, non-2xx/3xx) or dropped (too many in flight). Failures are the advertiser\'s endpoint; drops are ours.',
    unit: 'ops',
    w: 8,
    targets: [q(`sum by (result) (${rate('bidder_advertiser_trackers_total')})`, '{{result}}')],
    overrides: [fixedColor('fired', GOOD), fixedColor('failed', WARN), fixedColor('dropped', BAD)],
  }),
  timeseries({
    title: 'Event log records/s by result',
    description: 'Event-log records (bids, wins, bills, losses) written, or dropped because a ring was full (dropped_ring) or the disk too slow (dropped_slow_disk). The bid path never waits for the log, so drops are lost records for reporting and billing reconciliation, not lost bids.',
    unit: 'ops',
    w: 8,
    targets: [q(`sum by (result) (${rate('bidder_events_total')})`, '{{result}}')],
    overrides: [fixedColor('written', GOOD), fixedColor('/^dropped/', BAD)],
  }),
]);

// ---------------------------------------------------------------------------------------
// Redis / fleet: the shared budget and caps store.
// ---------------------------------------------------------------------------------------
const fleet = row('Redis / fleet', 'The fleet\'s Redis (BIDDER_REDIS_URL): budget leases, bill claims and caps. Empty in the embedded mode (no Redis).', [
  stat({
    title: 'Pods reaching Redis / not',
    description: 'bidder_fleet_up per pod: 1 while the fleet\'s Redis is reachable, 0 while the pod bids on the leases it holds (they run dry, then its campaigns stop). "No fleet" means no pod is configured with Redis.',
    unit: 'short',
    w: 6,
    h: 8,
    textMode: 'value_and_name',
    noValue: 'no fleet',
    // "* 0" rather than vector(0): without a fleet both must stay empty, so the panel says so.
    targets: [q(`sum(bidder_fleet_up${S()})`, 'reachable'), q(`count(bidder_fleet_up${S()} == 0) or (sum(bidder_fleet_up${S()}) * 0)`, 'unreachable')],
    steps: { base: GOOD },
    overrides: [byName('unreachable', [{ id: 'thresholds', value: thresholds({ base: GOOD, at: [[1, BAD]] }) }])],
  }),
  timeseries({
    title: 'Redis reachable by pod',
    description: 'bidder_fleet_up for each pod (1 reachable, 0 not); absent without a fleet. One pod at 0 is its network path; all at 0 is Redis.',
    unit: 'short',
    w: 6,
    max: 1,
    decimals: 0,
    legendCalcs: ['min', 'lastNotNull'],
    mappings: [{ type: 'value', options: { 0: { text: 'unreachable' }, 1: { text: 'reachable' } } }],
    targets: [q(`bidder_fleet_up${S()}`, '{{pod}}')],
  }),
  timeseries({
    title: 'Fleet operations/s by result',
    description: 'Calls to Redis: lease_granted (a budget slice leased), lease_empty (refused: the campaign\'s budget is spent fleet-wide) and failed (Redis down or slow). Failed above zero: bidding continues on held leases, which run dry.',
    unit: 'ops',
    targets: [q(`sum by (result) (${rate('bidder_fleet_operations_total')})`, '{{result}}')],
    overrides: [fixedColor('lease_granted', GOOD), fixedColor('lease_empty', WARN), fixedColor('failed', BAD)],
  }),
]);

const ROWS = [traffic, latency, pool, models, spend, notices, fleet];

// ---------------------------------------------------------------------------------------
// Layout and assembly.
// ---------------------------------------------------------------------------------------
const GRID_WIDTH = 24;

/**
 * Places panels left to right in lines, each line as tall as its tallest panel; a row
 * header takes a full-width line of its own. Done here rather than by hand so inserting a
 * panel never leaves two overlapping (Grafana would silently push one down).
 */
function layout(rows) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const r of rows) {
    panels.push({ id: id++, type: 'row', title: r.title, description: r.description, collapsed: false, gridPos: { h: 1, w: GRID_WIDTH, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const p of r.panels) {
      if (x + p.w > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      const { w, h, targets, ...rest } = p;
      panels.push({
        id: id++,
        ...rest,
        datasource: DS,
        gridPos: { h, w, x, y },
        targets: targets.map((t, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource: DS,
          editorMode: 'code',
          expr: t.expr,
          legendFormat: t.legendFormat,
          range: true,
        })),
      });
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return panels;
}

/** A Prometheus query variable, refreshed with the time range so pods that came and went are listed. */
function queryVariable({ name, label, query, multi = false, includeAll = false, current }) {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    definition: query,
    // The string form: Grafana 9 to 11 all read it (and migrate it to their editor's object).
    query,
    refresh: 2,
    sort: 1,
    multi,
    includeAll,
    ...(includeAll ? { allValue: '.*' } : {}),
    current,
    options: [],
    regex: '',
    hide: 0,
    skipUrlSync: false,
  };
}

const ALL = { selected: true, text: ['All'], value: ['$__all'] };

const dashboard = {
  annotations: {
    list: [
      {
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      },
      {
        // A restart explains a gap, a reset counter and a latency blip at once: mark them.
        datasource: DS,
        enable: true,
        expr: `changes(process_start_time_seconds${S()}[2m]) > 0`,
        iconColor: 'orange',
        name: 'Pod restarts',
        step: '1m',
        textFormat: 'process restarted',
        titleFormat: '{{pod}} restarted',
        useValueForTime: false,
      },
    ],
  },
  description: 'OpenRTB bidder: serving and bidding, latency by stage, the scoring pool, models and experiments, spend and pacing, notices and the fleet. Generated by deploy/grafana/build-dashboard.mjs; do not edit by hand.',
  editable: true,
  fiscalYearStartMonth: 0,
  // A shared crosshair: in an incident the question is what else moved at that instant.
  graphTooltip: 1,
  id: null,
  links: [],
  liveNow: false,
  panels: layout(ROWS),
  refresh: '30s',
  schemaVersion: 39,
  tags: ['rtb', 'bidder', 'openrtb'],
  templating: {
    list: [
      {
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        current: {},
        options: [],
        refresh: 1,
        regex: '',
        hide: 0,
        skipUrlSync: false,
      },
      queryVariable({
        name: 'job',
        label: 'Job',
        query: 'label_values(bidder_requests_total, job)',
        current: { selected: true, text: 'rtb-bidder', value: 'rtb-bidder' },
      }),
      queryVariable({
        name: 'pod',
        label: 'Pod',
        query: 'label_values(bidder_requests_total{job="$job"}, pod)',
        multi: true,
        includeAll: true,
        current: ALL,
      }),
      queryVariable({
        name: 'campaign',
        label: 'Campaign',
        query: 'label_values(bidder_spend_micros_total{job="$job"}, campaign)',
        multi: true,
        includeAll: true,
        current: ALL,
      }),
    ],
  },
  time: { from: 'now-3h', to: 'now' },
  timepicker: {},
  timezone: '',
  title: 'RTB bidder',
  uid: 'rtb-bidder',
  version: 1,
  weekStart: '',
};

const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'rtb-bidder.json');
writeFileSync(out, `${JSON.stringify(dashboard, null, 2)}\n`);
