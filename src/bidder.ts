/**
 * Assembles the bidder: verifies everything it loads before any thread starts (config,
 * campaigns, model), then starts the pool and the front end. Used by src/main.ts and by
 * the integration tests, which start the real thing on port 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { BidderConfig } from './config/config';
import { projectRoot } from './config/config';
import { parseCampaigns } from './decisioning/campaign-loader';
import { bindTeardownGate } from './engine/teardown-gate';
import { ALL_ERROR_CODES } from './errors';
import { buildMetricsLayout, OutcomeTable } from './metrics/definitions';
import { kMainSlot, kMaxSlots, releaseDeadSlots, SlotWriter } from './metrics/shared-metrics';
import { loadAllModelsShared } from './models/model-bytes';
import { PoolSlots } from './pool/pool-slots';
import { readCpuBudget } from './util/cpu-budget';
import { ReceiveSlab } from './pool/receive-slab';
import { OpsListener, OpsStartError } from './ops/ops-listener';
import { ScoringPool } from './pool/scoring-pool';
import { allocateControl, kControlWorkersReady, type WorkerInit } from './pool/worker-init';
import { allocateConsentTable } from './privacy/consent-table';
import { Acceptor, AcceptorStartError, kDrainQuietMs } from './server/acceptor';
import { AcceptorThreads } from './server/acceptor-threads';
import { loadNativeUws } from './server/uws';
import { loadNoticeKey } from './notices/notice-key';
import { allocateMoneyShared, MoneyService, MoneyStartError } from './money/money-service';
import { randomUUID } from 'node:crypto';
import { allocateModelControl } from './models/model-control';
import { modelChannelName } from './models/model-protocol';
import { ModelRegistry, RegistryStartError } from './models/model-registry';
import { allocateWinRateTable } from './strategy/win-rate-table';
import { createAdminHandler } from './ops/admin-handler';
import type { AdminHandler } from './ops/admin-protocol';
import { loadAdminToken } from './ops/admin-token';

/** Candidate rows per session.run; a batch with more is scored in chunks. */
const kMaxModelRows = 4096;
/** Shading segments with a win-rate model of their own (the rest use the global one). */
const kWinRateSegments = 4096;

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
  /** The money owner (budgets, notices, event log), for tests that read its counters. */
  money: MoneyService;
  /** The model registry and experiments (admin API: reload, activate, shadow, canary). */
  models: ModelRegistry;
  /** Acceptors listening on `port` (server.acceptors): the main thread's and the acceptor threads'. */
  acceptors: number;
  /**
   * Requests each acceptor has answered so far, by acceptor (0 is the main thread's): how
   * evenly the kernel spreads connections. Asks every acceptor thread (a round trip).
   */
  answeredByAcceptor(): Promise<number[]>;
}

export function workerFile(): string {
  const file = resolve(projectRoot(), 'dist/src/pool/score.worker.js');
  if (!existsSync(file)) {
    throw new StartupError('WORKER_NOT_BUILT', [`${file} is missing: run \`npm run build\` first`]);
  }
  return file;
}

/** `admin`: runs the admin API's actions (default: createAdminHandler's); the API is on only with config.admin.tokenFile. */
export async function startBidder(config: BidderConfig, options: { admin?: AdminHandler } = {}): Promise<Bidder> {
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

  const noticeKey = loadNoticeKey(config.money.noticeKeyFile === '' ? undefined : config.money.noticeKeyFile);
  if (!noticeKey.ok) throw new StartupError(noticeKey.code, [noticeKey.message]);
  const adminToken = loadAdminToken(config.admin.tokenFile);
  if (!adminToken.ok) throw new StartupError(adminToken.code, [adminToken.message]);

  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  const metricsBuffer = layout.allocate();
  const mainMetrics = new SlotWriter(layout, metricsBuffer, kMainSlot);
  // The model lifecycle: one control block and one channel per bidder (tests run several in a process).
  const modelControl = allocateModelControl(kMaxSlots);
  const modelChannel = modelChannelName(randomUUID());
  let registry: ModelRegistry;
  try {
    registry = ModelRegistry.create({
      dir: config.model.dir, control: modelControl, channel: modelChannel, metrics: { buffer: metricsBuffer, layout },
      models: loaded.models, active: model, model: config.model, experimentsFile: config.experiments.file,
      log: (m) => process.stderr.write(`bidder: ${m}\n`),
    });
  } catch (err) {
    if (err instanceof RegistryStartError) throw new StartupError(err.code, err.errors);
    throw err;
  }
  const winRates = allocateWinRateTable(kWinRateSegments);
  // One slab for the process, split in one range per acceptor (each allocates and frees in
  // its own range only; the pool's workers read every range).
  const acceptorCount = config.server.acceptors;
  const slabSegments = Math.max(2, Math.floor(config.pool.slabSegments / acceptorCount));
  const slabBuffer = new SharedArrayBuffer(config.pool.slabSegmentBytes * slabSegments * acceptorCount);
  const slab = new ReceiveSlab(config.pool.slabSegmentBytes, slabSegments, { buffer: slabBuffer, first: 0 });
  const budget = readCpuBudget();
  const control = allocateControl();
  const controlWords = new Int32Array(control);
  // This thread's inline lane runs sessions too; its pool watches workers exit (teardown-gate.ts).
  bindTeardownGate(control);
  // The bids' notice URLs name the listener when no public base URL is set: with port 0 the
  // port is picked now, before any engine is built (uSockets also needs a given port for
  // SO_REUSEPORT when there are several acceptors).
  const listenPort = config.server.port !== 0 ? config.server.port : await pickFreePort(config.server.host);
  const moneyShared = allocateMoneyShared(config, campaigns.campaigns, noticeKey.key, listenPort, config.pool.threads + acceptorCount);
  let money: MoneyService;
  try {
    money = await MoneyService.start(config, campaigns.campaigns, campaignsJson, moneyShared, metricsBuffer,
      (m) => process.stderr.write(`bidder: ${m}\n`), noticeKey, `${model.entry.name}@${model.entry.version}`,
      { winRates, experiments: registry.experimentsSnapshot, channel: modelChannel });
  } catch (err) {
    if (err instanceof MoneyStartError) throw new StartupError(err.code, [err.message]);
    throw err;
  }

  const workerData: WorkerInit = {
    models: registry.catalogModels(),
    catalogVersion: registry.currentCatalogVersion,
    activeModel: registry.activeLabel(),
    modelControl,
    modelChannel,
    experiments: registry.experimentsSnapshot,
    winRates,
    campaignsJson,
    bidding: config.bidding,
    privacy: config.privacy,
    maxBodyBytes: config.server.maxBodyBytes,
    maxModelRows: kMaxModelRows,
    testHooks: config.testHooks,
    receiveSlab: slabBuffer,
    metrics: metricsBuffer,
    consentTable: allocateConsentTable(config.privacy.consentCacheEntries),
    control,
    money: moneyShared,
  };

  let initialWarm = false;
  let acceptorThreads: AcceptorThreads | null = null;
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
    // The acceptor threads hold metrics slots too: theirs are never a dead worker's.
    (live) => releaseDeadSlots(metricsBuffer, acceptorThreads === null ? live : new Set([...live, ...acceptorThreads.threadIds()])),
  );
  const poolSlots = new PoolSlots(pool.capacity);
  registry.setWaker((count, catalog, experiments, holdMs) => pool.wake(count, catalog, experiments, holdMs));

  // The main thread's acceptor: its inline lane warms here while the workers warm on theirs.
  let front: Acceptor;
  try {
    front = await startFrontAcceptor(listenPort, (port) =>
      Acceptor.start({
        uws,
        config,
        init: workerData,
        outcomes,
        metrics: mainMetrics,
        pool,
        slots: poolSlots,
        slab,
        cpus: budget.cpus,
        isReady: () => initialWarm,
        port,
        idPrefix: `fe${Date.now().toString(36)}-`,
        index: 0,
      }),
    );
  } catch (err) {
    await pool.close();
    await money.close();
    registry.close();
    if (err instanceof AcceptorStartError) throw new StartupError(err.code, [err.message]);
    throw err;
  }
  const dispatcher = front.dispatcher;
  const sum = (own: number, key: Parameters<AcceptorThreads['gauge']>[0]): number => own + (acceptorThreads?.gauge(key) ?? 0);
  // The operations listener runs in its own thread so that a scrape never holds this loop.
  let ops: OpsListener;
  try {
    ops = await OpsListener.start({
      host: config.server.opsHost,
      port: config.server.opsPort,
      metrics: metricsBuffer,
      model: { name: model.entry.name, version: model.entry.version },
      latency: front.latency,
      money: { stats: money.stats, campaigns: campaigns.campaigns.map((c) => ({ id: c.id, creatives: c.creatives.map((cr) => ({ id: cr.id })) })) },
      gauges: {
        requestsInFlight: () => sum(front.gauges().requestsInFlight, 'requestsInFlight'),
        pendingRequests: () => sum(front.gauges().pendingRequests, 'pendingRequests'),
        queuedTasks: () => pool.queuedTasks,
        inFlightBatches: () => sum(front.gauges().inFlightBatches, 'inFlightBatches'),
        threads: () => pool.threadCount,
        slabSegmentsInUse: () => sum(front.gauges().slabSegmentsInUse, 'slabSegmentsInUse'),
        receivingBytes: () => sum(front.gauges().receivingBytes, 'receivingBytes'),
      },
      others:
        acceptorCount > 1
          ? {
              collect: (latency) => acceptorThreads?.collect(latency) ?? Promise.resolve(),
              mergeLatency: (snapshot) => acceptorThreads?.mergeLatency(snapshot),
            }
          : undefined,
      admin: options.admin ?? createAdminHandler({ registry }),
      lifecycle: {
        control: modelControl, channel: modelChannel, arms: registry.experimentsSnapshot.labels,
        models: registry.catalogModels().map(({ slot, name, version }) => ({ slot, name, version })),
      },
      adminTokenDigest: adminToken.digest ?? undefined,
    });
  } catch (err) {
    front.closeSockets();
    await pool.close();
    await money.close();
    registry.close();
    if (err instanceof OpsStartError) throw new StartupError(err.code, [err.message]);
    throw err;
  }

  const isReady = (): boolean => initialWarm;
  if (acceptorCount > 1) {
    try {
      acceptorThreads = await AcceptorThreads.start(acceptorCount - 1, {
        config,
        pool,
        poolInit: workerData,
        poolSlots: poolSlots.buffer,
        port: front.port,
        cpus: budget.cpus,
        slabSegments,
      });
    } catch (err) {
      front.closeSockets();
      await pool.close();
      await ops.close();
      await money.close();
      registry.close();
      if (err instanceof AcceptorStartError) throw new StartupError(err.code, [err.message]);
      throw err;
    }
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
        acceptorThreads?.ready();
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
    port: front.port,
    opsPort: ops.port,
    config,
    ready,
    isReady,
    pool,
    money,
    models: registry,
    acceptors: acceptorCount,
    async answeredByAcceptor() {
      await acceptorThreads?.collect(false);
      const others = acceptorThreads?.answered() ?? new Map<number, number>();
      return Array.from({ length: acceptorCount }, (_, i) => (i === 0 ? front.answered() : (others.get(i) ?? 0)));
    },
    drain() {
      if (draining) return draining;
      draining = (async () => {
        ops.setDraining();
        front.beginDrain();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([dispatcher.whenIdle().then(() => front.whenQuiet(kDrainQuietMs)), acceptorThreads?.drain()]),
          new Promise<void>((r) => {
            timer = setTimeout(r, config.server.drainTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        // The acceptor threads end first (their sockets closed), while the pool can still
        // answer their batches; then this thread's dispatcher, the pool and its sockets.
        await acceptorThreads?.close();
        front.stopDispatching();
        await pool.close();
        front.closeSockets();
        // After every acceptor: each notice taken is counted and each event record flushed.
        await money.close();
        registry.close();
        // Last, so the process stays observable until the pool is gone.
        await ops.close();
      })();
      return draining;
    },
  };
}

/**
 * Starts the main thread's acceptor on `port`: server.port, or with port 0 (tests, tools)
 * the free port picked before the engines were built, which their notice URLs name.
 */
function startFrontAcceptor(port: number, start: (port: number) => Promise<Acceptor>): Promise<Acceptor> {
  return start(port);
}

function pickFreePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}
