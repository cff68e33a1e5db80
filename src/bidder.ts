/**
 * Assembles the bidder: verifies everything it loads before any thread starts (config,
 * campaigns, model), then starts the pool and the front end. Used by src/main.ts and by
 * the integration tests, which start the real thing on port 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BidderConfig } from './config/config';
import { projectRoot } from './config/config';
import { parseCampaigns } from './decisioning/campaign-loader';
import { ALL_ERROR_CODES } from './errors';
import { buildMetricsLayout, OutcomeTable } from './metrics/definitions';
import { StageLatency } from './metrics/latency';
import { kMainSlot, kMaxSlots, releaseDeadSlots, SlotWriter } from './metrics/shared-metrics';
import { loadAllModelsShared } from './models/model-bytes';
import { Dispatcher } from './pool/dispatcher';
import { buildInlineLane, type InlineLane } from './pool/inline-lane';
import { FreeCores } from './pool/free-cores';
import { readCpuBudget } from './util/cpu-budget';
import { CostModel } from './pool/placement';
import { monoNowMs } from './util/clock';
import { M } from './metrics/definitions';
import { ReceiveSlab } from './pool/receive-slab';
import { OpsListener, OpsStartError } from './ops/ops-listener';
import { ScoringPool } from './pool/scoring-pool';
import { allocateControl, kControlWorkersReady, type WorkerInit } from './pool/worker-init';
import { allocateConsentTable } from './privacy/consent-table';
import { ReceiveMemory } from './server/body-receiver';
import { createSink, InFlightRequests, startServer, type HttpJob, type RunningServer } from './server/http-server';
import { loadNativeUws } from './server/uws';

/** Candidate rows per session.run; a batch with more is scored in chunks. */
const kMaxModelRows = 4096;

export class StartupError extends Error {
  constructor(
    readonly code: string,
    readonly errors: string[],
  ) {
    super(`${code}:\n  - ${errors.join('\n  - ')}`);
  }
}

export interface Bidder {
  port: number;
  /** The operations listener's port (/metrics, /debug/latency, /healthz, /readyz). */
  opsPort: number;
  config: BidderConfig;
  /** Resolves once every worker has loaded and warmed every model. */
  ready: Promise<void>;
  isReady(): boolean;
  /** Graceful stop: refuse new connections, answer what is in flight, close the pool, then the operations listener. */
  drain(): Promise<void>;
  /** The pool, for tests that need to reach a worker. */
  pool: ScoringPool;
}

export function workerFile(): string {
  const file = resolve(projectRoot(), 'dist/src/pool/score.worker.js');
  if (!existsSync(file)) {
    throw new StartupError('WORKER_NOT_BUILT', [`${file} is missing: run \`npm run build\` first`]);
  }
  return file;
}

export async function startBidder(config: BidderConfig): Promise<Bidder> {
  const uws = loadNativeUws();

  let campaignsJson: string;
  try {
    campaignsJson = readFileSync(config.bidding.campaignsFile, 'utf8');
  } catch (err) {
    throw new StartupError('CAMPAIGNS_UNREADABLE', [`${config.bidding.campaignsFile}: ${(err as Error).message}`]);
  }
  let campaignsValue: unknown;
  try {
    campaignsValue = JSON.parse(campaignsJson);
  } catch (err) {
    throw new StartupError('CAMPAIGNS_INVALID', [`${config.bidding.campaignsFile}: not JSON (${(err as Error).message})`]);
  }
  const campaigns = parseCampaigns(campaignsValue);
  if (!campaigns.ok) throw new StartupError('CAMPAIGNS_INVALID', campaigns.errors.map((e) => `${config.bidding.campaignsFile}: ${e}`));

  const loaded = loadAllModelsShared(config.model.dir, config.model.name);
  if (!loaded.ok) {
    throw new StartupError(
      loaded.error.code,
      loaded.errors.map((e) => `${e.code}: ${e.at ? `${e.at}: ` : ''}${e.message}`),
    );
  }
  const model = loaded.active;

  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  const metricsBuffer = layout.allocate();
  const mainMetrics = new SlotWriter(layout, metricsBuffer, kMainSlot);
  const slab = new ReceiveSlab(config.pool.slabSegmentBytes, config.pool.slabSegments);
  const control = allocateControl();
  const controlWords = new Int32Array(control);

  const workerData: WorkerInit = {
    models: loaded.models.map((m) => ({ name: m.entry.name, version: m.entry.version, shared: m.shared, byteLength: m.byteLength })),
    activeModel: model.entry.name,
    campaignsJson,
    bidding: config.bidding,
    privacy: config.privacy,
    maxBodyBytes: config.server.maxBodyBytes,
    maxModelRows: kMaxModelRows,
    testHooks: config.testHooks,
    receiveSlab: slab.buffer,
    metrics: metricsBuffer,
    consentTable: allocateConsentTable(config.privacy.consentCacheEntries),
    control,
  };

  let initialWarm = false;
  let startupFailure: ((err: Error) => void) | null = null;
  const pool = new ScoringPool(
    {
      filename: workerFile(),
      threads: config.pool.threads,
      maxBatchesPerWorker: config.pool.maxBatchesPerWorker,
      atomics: config.pool.atomics,
      youngGenerationMb: config.pool.workerYoungGenerationMb,
      workerData,
    },
    (live) => releaseDeadSlots(metricsBuffer, live),
  );

  const inFlight = new InFlightRequests();
  const receiving = new ReceiveMemory();
  const latency = new StageLatency();
  const sink = createSink({ metrics: mainMetrics, outcomes, latency });
  // The inline lane's engine warms on this thread while the workers warm on theirs.
  let lane: InlineLane | null = null;
  if (config.pool.inlineMaxBatch > 0) {
    try {
      lane = await buildInlineLane({ init: workerData, outcomes, metrics: mainMetrics, idPrefix: `fe${Date.now().toString(36)}-` }, config.pool.inlineMaxBatch);
    } catch (err) {
      await pool.close();
      throw new StartupError('INLINE_LANE_FAILED', [(err as Error).message]);
    }
  }
  const placedOffsets = { inline: mainMetrics.layout.offset(M.batches, ['inline']), pool: mainMetrics.layout.offset(M.batches, ['pool']) };
  const costOffsets = {
    inline: [mainMetrics.layout.offset(M.batchCost, ['inline', 'estimated']), mainMetrics.layout.offset(M.batchCost, ['inline', 'measured'])],
    pool: [mainMetrics.layout.offset(M.batchCost, ['pool', 'estimated']), mainMetrics.layout.offset(M.batchCost, ['pool', 'measured'])],
  };
  const cost = lane === null ? null : new CostModel(lane.costs);
  const cores = new FreeCores(readCpuBudget().cpus, monoNowMs());
  const dispatcher = new Dispatcher<HttpJob>(
    pool,
    slab,
    sink,
    {
      maxBatchSize: config.pool.maxBatchSize,
      maxPendingRequests: config.pool.maxPendingRequests,
      maxQueueDelayMs: config.pool.maxQueueDelayMs,
      hardTimeoutMs: config.server.hardTimeoutMs,
      heavyBodyBytes: config.pool.heavyBodyBytes,
    },
    lane,
    cost === null
      ? null
      : {
          cost,
          cores,
          meter: {
            placed(where, requests, estimatedMs) {
              mainMetrics.inc(placedOffsets[where]);
              mainMetrics.inc(costOffsets[where][0], estimatedMs / 1000);
            },
            measured(where, ms) {
              mainMetrics.inc(costOffsets[where][1], ms / 1000);
            },
          },
        },
  );
  // The operations listener runs in its own thread so that a scrape never holds this loop.
  let ops: OpsListener;
  try {
    ops = await OpsListener.start({
      host: config.server.opsHost,
      port: config.server.opsPort,
      metrics: metricsBuffer,
      model: { name: model.entry.name, version: model.entry.version },
      latency,
      gauges: {
        requestsInFlight: () => inFlight.count,
        pendingRequests: () => dispatcher.pendingCount(),
        queuedTasks: () => pool.queuedTasks,
        inFlightBatches: () => dispatcher.inFlightBatches(),
        threads: () => pool.threadCount,
        slabSegmentsInUse: () => slab.inUse(),
        receivingBytes: () => receiving.bytes,
      },
    });
  } catch (err) {
    dispatcher.close();
    await pool.close();
    if (err instanceof OpsStartError) throw new StartupError(err.code, [err.message]);
    throw err;
  }

  const isReady = (): boolean => initialWarm;
  let server: RunningServer;
  try {
    server = await startServer({
      uws,
      config: config.server,
      testHooks: config.testHooks,
      slab,
      dispatcher,
      metrics: mainMetrics,
      outcomes,
      latency,
      isReady,
      inFlight,
      receiving,
    });
  } catch (err) {
    dispatcher.close();
    await pool.close();
    await ops.close();
    throw err;
  }

  const ready = new Promise<void>((resolveReady, rejectReady) => {
    startupFailure = rejectReady;
    const poll = setInterval(() => {
      if (Atomics.load(controlWords, kControlWorkersReady) >= config.pool.threads) {
        clearInterval(poll);
        initialWarm = true;
        ops.setReady();
        // The placement needs the pool's hand-off before it can weigh the pool at all.
        void dispatcher.probeHandoff();
        startupFailure = null;
        resolveReady();
      }
    }, 10);
    poll.unref();
  });
  // A worker that fails while loading its model will fail again: do not serve half-started.
  pool.onStartupError((err) => startupFailure?.(err));

  let draining: Promise<void> | null = null;
  return {
    port: server.port,
    opsPort: ops.port,
    config,
    ready,
    isReady,
    pool,
    drain() {
      if (draining) return draining;
      draining = (async () => {
        server.setDraining();
        ops.setDraining();
        server.stopAccepting();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          dispatcher.whenIdle(),
          new Promise<void>((r) => {
            timer = setTimeout(r, config.server.drainTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        dispatcher.close();
        await pool.close();
        server.closeAll();
        // Last, so the process stays observable until the pool is gone.
        await ops.close();
      })();
      return draining;
    },
  };
}
