/**
 * The bidder's configuration: defaults in code, then an optional JSON file named by
 * BIDDER_CONFIG, then BIDDER_* environment variables. Resolved and validated as a whole
 * once at start; every error is collected so an operator fixes them in one pass. The
 * resolved object is passed explicitly (never a global) and workers get their slice.
 */
import { readFileSync } from 'node:fs';
import { isIP, SocketAddress } from 'node:net';
import { resolve } from 'node:path';
import { readCpuBudget, type CpuBudget } from '../util/cpu-budget';

export type AtomicsMode = 'sync' | 'async' | 'disabled';

export interface ServerConfig {
  host: string;
  port: number;
  /** Acceptor threads: each a uWS app listening on `port` (SO_REUSEPORT), running the whole bid path for its connections. */
  acceptors: number;
  /** Largest request body accepted, before and after gunzip. */
  maxBodyBytes: number;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  drainTimeoutMs: number;
  /** Safety net: a request still unanswered after this long gets a 204, whatever tmax says. */
  hardTimeoutMs: number;
  /**
   * A request's body must be complete this long after the request arrived (its first
   * byte); a slower one is refused (408 BODY_TIMEOUT) and its connection closed. Well
   * under a typical tmax (100-300 ms), so a trickling sender cannot hold memory for long.
   */
  bodyTimeoutMs: number;
  /**
   * Bytes of bodies still being received, over all connections. Reserved as bytes
   * arrive (never from a declared content-length); when a chunk would pass this bound,
   * the slowest incomplete body is refused (408 BODY_EVICTED), not the honest request.
   */
  maxReceivingBytes: number;
  /** The operations listener (/metrics, /debug/latency, admin): its own address and port. */
  opsHost: string;
  /** Port of the operations listener (0 picks one). */
  opsPort: number;
}

export interface PoolConfig {
  /** Worker threads; fixed (min = max), never idled out. */
  threads: number;
  /** Batches a worker may hold at once: 1 = no pipelining, 2 = the next batch waits in the worker. */
  maxBatchesPerWorker: number;
  /** Most requests in one task. */
  maxBatchSize: number;
  /**
   * Inline lane: when no batch is in the pool and at most this many requests wait, the
   * front end scores them itself instead of waking a worker (0 turns the lane off).
   */
  inlineMaxBatch: number;
  /** Requests waiting for a free worker beyond this are shed with a 204 (overloaded). */
  maxPendingRequests: number;
  /** A request that waited this long for a worker is shed with a 204 (overloaded). */
  maxQueueDelayMs: number;
  /** Shared receive buffer: segment size and count (bounds the bytes held in flight). */
  slabSegmentBytes: number;
  slabSegments: number;
  atomics: AtomicsMode;
  /**
   * Each worker's V8 young generation, in MB (0 = V8's default). V8 grows a young
   * generation to 48 MB (three times its 16 MB semi-space) under load; a worker's per-request garbage
   * dies young, so a small one costs no measurable CPU and keeps RSS flat instead of a
   * sawtooth that climbs for minutes (bench/soak.ts).
   */
  workerYoungGenerationMb: number;
  /**
   * A body at least this large (gzip: inflated, from its trailer) is heavy: it waits in
   * its own queue, never shares a batch with light requests nor runs in the inline lane,
   * and heavy batches hold all pool slots but one, so a few expensive requests cannot
   * take every worker from the cheap ones. 0: no request is heavy.
   */
  heavyBodyBytes: number;
}

export interface BiddingConfig {
  /** Answer 204 rather than late when the answer cannot be ready by tmax minus this. */
  tmaxMarginMs: number;
  /** Our seat id in seatbid.seat and for deal wseat checks. */
  seatId: string;
  /** Units of currency per 1 USD, e.g. { "EUR": 0.92 }. */
  fxRates: Record<string, number>;
  campaignsFile: string;
  /** Most model rows (candidates) one impression may send to the model; the best by max CPM are kept. */
  maxCandidatesPerImp: number;
  /** Most model rows one request may send to the model, over all its impressions. */
  maxCandidatesPerRequest: number;
}

export interface PrivacyConfig {
  /**
   * Our vendor id in the IAB Global Vendor List (TCF v2). 0: we have none, so under GDPR
   * no request carries our consent and every bid there is contextual.
   */
  vendorId: number;
  /** Decoded consent strings (TCF, GPP) cached per thread. */
  consentCacheEntries: number;
}

export interface ModelConfig {
  /** Name of the model in the manifest that scores bids (the active model at start). */
  name: string;
  dir: string;
  /** A model (name or name@version) that shadows the active one from the start; '' for none. */
  shadow: string;
  /** Of every 1,000 batches, how many the shadow model also scores, off the critical path. */
  shadowSamplePermille: number;
  /** Seconds a canary stays at each step of its ramp (1%, 5%, 25%, 100%) before the next. */
  canaryStepSec: number;
  /** A canary whose scoring errors pass this many per 1,000 runs in a step is rolled back. */
  canaryMaxErrorPermille: number;
  /** A canary whose mean session.run time in a step passes this (microseconds) is rolled back. */
  canaryMaxRunUs: number;
}

export interface AdminConfig {
  /**
   * A file holding the admin API's bearer token (at least 16 bytes; a trailing newline is
   * not token). '' turns the admin API off: every /admin path is 404.
   */
  tokenFile: string;
}

export interface ExperimentsConfig {
  /** The experiments file (A/B arms); '' for none. Reloaded through POST /admin/experiments/reload. */
  file: string;
}

export interface MoneyConfig {
  /**
   * The public address exchanges reach for notices (nurl/burl/lurl point under it), e.g.
   * "https://bid.example.com". '' means the bidding listener's own http://host:port.
   */
  noticeBaseUrl: string;
  /** A file holding the fleet's notice key (32+ bytes); '' draws a random key per process, with a warning. */
  noticeKeyFile: string;
  /** A notice older than this gets 410 Gone; repeats are recognised for this long. */
  noticeMaxAgeSec: number;
  /** A bid's price stays reserved against its budget this long unless its bill or loss notice comes first. */
  reservationTtlSec: number;
  /** Redis for fleet state ("redis://host:6379"); '' keeps every budget and cap in the process. */
  redisUrl: string;
  /** Connect to a Redis Cluster through redisUrl as a seed node. */
  redisCluster: boolean;
  /** The budget one lease takes from Redis at a time, micro-USD. */
  leaseSliceMicros: number;
  /** This instance's name in the event log and the fleet; '' is hostname-pid. */
  instanceId: string;
  /** Rotating event-log files go here; '' turns the file log off. */
  eventsDir: string;
  eventsMaxFileBytes: number;
  eventsMaxFileAgeSec: number;
  /** Also append events to this Redis stream (needs redisUrl); '' for none. */
  eventsRedisStream: string;
  /** Fire a creative's own nurl/burl/lurl (the advertiser's trackers) when our notice comes. */
  fireAdvertiserTrackers: boolean;
}

export interface BidderConfig {
  server: ServerConfig;
  money: MoneyConfig;
  pool: PoolConfig;
  bidding: BiddingConfig;
  model: ModelConfig;
  privacy: PrivacyConfig;
  admin: AdminConfig;
  experiments: ExperimentsConfig;
  /** Honour x-test-* request headers (worker crash, delay). Only for the test suite. */
  testHooks: boolean;
}

/** The project root (where package.json lives), found from this file in src/ or dist/src/. */
export function projectRoot(): string {
  const here = __dirname;
  const marker = `${resolve('/')}`;
  let dir = here;
  for (let i = 0; i < 6 && dir !== marker; i++) {
    try {
      readFileSync(resolve(dir, 'package.json'));
      return dir;
    } catch {
      dir = resolve(dir, '..');
    }
  }
  return process.cwd();
}

/**
 * The defaults, sized from a CPU budget (what the cgroup quota and the affinity mask
 * allow, not os.cpus()). Pure when `budget` is given; loadConfig reads it once.
 */
export function defaultConfig(root = projectRoot(), budget: Pick<CpuBudget, 'cpus'> = readCpuBudget()): BidderConfig {
  return {
    server: {
      host: '0.0.0.0',
      port: 8080,
      // Half the CPUs, the pool gets the rest; on 2 CPUs one acceptor. Measured on a
      // 2-core machine with the load generator beside it: two acceptors cost 26-28 CPU ms
      // per 1,000 requests against 20-21 for one.
      acceptors: Math.max(1, Math.floor(budget.cpus / 2)),
      maxBodyBytes: 256 * 1024,
      drainTimeoutMs: 10_000,
      hardTimeoutMs: 1_000,
      bodyTimeoutMs: 50,
      maxReceivingBytes: 8 * 1024 * 1024,
      opsHost: '0.0.0.0',
      opsPort: 9090,
    },
    pool: {
      threads: budget.cpus,
      maxBatchesPerWorker: 1,
      maxBatchSize: 64,
      inlineMaxBatch: 64,
      maxPendingRequests: 8_192,
      maxQueueDelayMs: 100,
      slabSegmentBytes: 1024 * 1024,
      slabSegments: 32,
      atomics: 'sync',
      workerYoungGenerationMb: 6,
      heavyBodyBytes: 16 * 1024,
    },
    bidding: {
      tmaxMarginMs: 10,
      seatId: 'rtb-bidder',
      fxRates: {},
      campaignsFile: resolve(root, 'campaigns/sample-campaigns.json'),
      maxCandidatesPerImp: 32,
      maxCandidatesPerRequest: 256,
    },
    money: {
      noticeBaseUrl: '',
      noticeKeyFile: '',
      noticeMaxAgeSec: 3_600,
      reservationTtlSec: 300,
      redisUrl: '',
      redisCluster: false,
      leaseSliceMicros: 1_000_000,
      instanceId: '',
      eventsDir: resolve(root, 'events'),
      eventsMaxFileBytes: 64 * 1024 * 1024,
      eventsMaxFileAgeSec: 3_600,
      eventsRedisStream: '',
      fireAdvertiserTrackers: true,
    },
    model: {
      name: 'ctr-logreg',
      dir: resolve(root, 'native-models'),
      shadow: '',
      shadowSamplePermille: 100,
      canaryStepSec: 60,
      canaryMaxErrorPermille: 10,
      canaryMaxRunUs: 5_000,
    },
    admin: { tokenFile: '' },
    experiments: { file: '' },
    privacy: {
      vendorId: 0,
      consentCacheEntries: 4_096,
    },
    testHooks: false,
  };
}

/**
 * `cpuBudget` is what the defaults were sized from, for the startup log (its `source`
 * says where each figure came from); it is not a setting, so no file or variable sets it.
 */
export type ConfigResult = { ok: true; config: BidderConfig; cpuBudget: CpuBudget } | { ok: false; errors: string[] };

type EnvSpec = { path: string; kind: 'string' | 'int' | 'bool' | 'json' | 'atomics' };

/** Every BIDDER_* variable and where it lands. Unknown BIDDER_* variables are errors. */
export const ENV_VARS: Readonly<Record<string, EnvSpec>> = {
  BIDDER_HOST: { path: 'server.host', kind: 'string' },
  BIDDER_PORT: { path: 'server.port', kind: 'int' },
  BIDDER_ACCEPTORS: { path: 'server.acceptors', kind: 'int' },
  BIDDER_MAX_BODY_BYTES: { path: 'server.maxBodyBytes', kind: 'int' },
  BIDDER_DRAIN_TIMEOUT_MS: { path: 'server.drainTimeoutMs', kind: 'int' },
  BIDDER_HARD_TIMEOUT_MS: { path: 'server.hardTimeoutMs', kind: 'int' },
  BIDDER_BODY_TIMEOUT_MS: { path: 'server.bodyTimeoutMs', kind: 'int' },
  BIDDER_MAX_RECEIVING_BYTES: { path: 'server.maxReceivingBytes', kind: 'int' },
  BIDDER_OPS_HOST: { path: 'server.opsHost', kind: 'string' },
  BIDDER_OPS_PORT: { path: 'server.opsPort', kind: 'int' },
  BIDDER_POOL_THREADS: { path: 'pool.threads', kind: 'int' },
  BIDDER_POOL_BATCHES_PER_WORKER: { path: 'pool.maxBatchesPerWorker', kind: 'int' },
  BIDDER_POOL_MAX_BATCH: { path: 'pool.maxBatchSize', kind: 'int' },
  BIDDER_POOL_INLINE_MAX_BATCH: { path: 'pool.inlineMaxBatch', kind: 'int' },
  BIDDER_POOL_MAX_PENDING: { path: 'pool.maxPendingRequests', kind: 'int' },
  BIDDER_POOL_MAX_QUEUE_DELAY_MS: { path: 'pool.maxQueueDelayMs', kind: 'int' },
  BIDDER_POOL_SLAB_SEGMENT_BYTES: { path: 'pool.slabSegmentBytes', kind: 'int' },
  BIDDER_POOL_SLAB_SEGMENTS: { path: 'pool.slabSegments', kind: 'int' },
  BIDDER_POOL_ATOMICS: { path: 'pool.atomics', kind: 'atomics' },
  BIDDER_POOL_WORKER_YOUNG_GENERATION_MB: { path: 'pool.workerYoungGenerationMb', kind: 'int' },
  BIDDER_POOL_HEAVY_BODY_BYTES: { path: 'pool.heavyBodyBytes', kind: 'int' },
  BIDDER_TMAX_MARGIN_MS: { path: 'bidding.tmaxMarginMs', kind: 'int' },
  BIDDER_SEAT_ID: { path: 'bidding.seatId', kind: 'string' },
  BIDDER_FX_RATES: { path: 'bidding.fxRates', kind: 'json' },
  BIDDER_CAMPAIGNS_FILE: { path: 'bidding.campaignsFile', kind: 'string' },
  BIDDER_MAX_CANDIDATES_PER_IMP: { path: 'bidding.maxCandidatesPerImp', kind: 'int' },
  BIDDER_MAX_CANDIDATES_PER_REQUEST: { path: 'bidding.maxCandidatesPerRequest', kind: 'int' },
  BIDDER_PRIVACY_VENDOR_ID: { path: 'privacy.vendorId', kind: 'int' },
  BIDDER_PRIVACY_CONSENT_CACHE_ENTRIES: { path: 'privacy.consentCacheEntries', kind: 'int' },
  BIDDER_NOTICE_BASE_URL: { path: 'money.noticeBaseUrl', kind: 'string' },
  BIDDER_NOTICE_KEY_FILE: { path: 'money.noticeKeyFile', kind: 'string' },
  BIDDER_NOTICE_MAX_AGE_SEC: { path: 'money.noticeMaxAgeSec', kind: 'int' },
  BIDDER_RESERVATION_TTL_SEC: { path: 'money.reservationTtlSec', kind: 'int' },
  BIDDER_REDIS_URL: { path: 'money.redisUrl', kind: 'string' },
  BIDDER_REDIS_CLUSTER: { path: 'money.redisCluster', kind: 'bool' },
  BIDDER_LEASE_SLICE_MICROS: { path: 'money.leaseSliceMicros', kind: 'int' },
  BIDDER_INSTANCE_ID: { path: 'money.instanceId', kind: 'string' },
  BIDDER_EVENTS_DIR: { path: 'money.eventsDir', kind: 'string' },
  BIDDER_EVENTS_MAX_FILE_BYTES: { path: 'money.eventsMaxFileBytes', kind: 'int' },
  BIDDER_EVENTS_MAX_FILE_AGE_SEC: { path: 'money.eventsMaxFileAgeSec', kind: 'int' },
  BIDDER_EVENTS_REDIS_STREAM: { path: 'money.eventsRedisStream', kind: 'string' },
  BIDDER_FIRE_ADVERTISER_TRACKERS: { path: 'money.fireAdvertiserTrackers', kind: 'bool' },
  BIDDER_MODEL: { path: 'model.name', kind: 'string' },
  BIDDER_MODEL_DIR: { path: 'model.dir', kind: 'string' },
  BIDDER_MODEL_SHADOW: { path: 'model.shadow', kind: 'string' },
  BIDDER_MODEL_SHADOW_SAMPLE_PERMILLE: { path: 'model.shadowSamplePermille', kind: 'int' },
  BIDDER_CANARY_STEP_SEC: { path: 'model.canaryStepSec', kind: 'int' },
  BIDDER_CANARY_MAX_ERROR_PERMILLE: { path: 'model.canaryMaxErrorPermille', kind: 'int' },
  BIDDER_CANARY_MAX_RUN_US: { path: 'model.canaryMaxRunUs', kind: 'int' },
  BIDDER_ADMIN_TOKEN_FILE: { path: 'admin.tokenFile', kind: 'string' },
  BIDDER_EXPERIMENTS_FILE: { path: 'experiments.file', kind: 'string' },
  BIDDER_TEST_HOOKS: { path: 'testHooks', kind: 'bool' },
};

/** Variables that are read elsewhere and are not config values. */
const ENV_NOT_CONFIG = new Set(['BIDDER_CONFIG']);

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (let i = 0; i < parts.length - 1; i++) node = node[parts[i]] as Record<string, unknown>;
  node[parts[parts.length - 1]] = value;
}

function parseEnvValue(name: string, raw: string, spec: EnvSpec, errors: string[]): unknown {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) {
        errors.push(`${name}: expected an integer, got "${raw}"`);
        return undefined;
      }
      return Number(raw);
    }
    case 'bool':
      if (raw === '1' || raw === 'true') return true;
      if (raw === '0' || raw === 'false' || raw === '') return false;
      errors.push(`${name}: expected 1/0/true/false, got "${raw}"`);
      return undefined;
    case 'json':
      try {
        return JSON.parse(raw);
      } catch (err) {
        errors.push(`${name}: not valid JSON (${(err as Error).message})`);
        return undefined;
      }
    case 'atomics':
      return raw;
  }
}

/** Merges a partial object from a config file onto the defaults, one known key at a time. */
function mergeFile(base: Record<string, unknown>, file: unknown, path: string, errors: string[]): void {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    errors.push(`${path || 'config file'}: expected an object`);
    return;
  }
  for (const [key, value] of Object.entries(file as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    // Own keys only: a name inherited from Object.prototype (constructor, __proto__) is unknown too.
    if (!Object.hasOwn(base, key)) {
      errors.push(`${at}: unknown setting`);
      continue;
    }
    const current = base[key];
    const isSection = typeof current === 'object' && current !== null && !Array.isArray(current) && key !== 'fxRates';
    if (isSection) mergeFile(current as Record<string, unknown>, value, at, errors);
    else base[key] = value;
  }
}

function checkInt(errors: string[], path: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    errors.push(`${path}: must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
}

function checkString(errors: string[], path: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) errors.push(`${path}: must be a non-empty string`);
}

export function validateConfig(c: BidderConfig): string[] {
  const errors: string[] = [];
  checkString(errors, 'server.host', c.server.host);
  checkInt(errors, 'server.port', c.server.port, 0, 65_535);
  checkInt(errors, 'server.acceptors', c.server.acceptors, 1, 256);
  checkInt(errors, 'server.maxBodyBytes', c.server.maxBodyBytes, 1_024, 64 * 1024 * 1024);
  checkInt(errors, 'server.drainTimeoutMs', c.server.drainTimeoutMs, 0, 600_000);
  checkInt(errors, 'server.hardTimeoutMs', c.server.hardTimeoutMs, 10, 60_000);
  checkInt(errors, 'server.bodyTimeoutMs', c.server.bodyTimeoutMs, 1, 60_000);
  checkInt(errors, 'server.maxReceivingBytes', c.server.maxReceivingBytes, 64 * 1024, 1024 * 1024 * 1024);
  if (typeof c.server.maxReceivingBytes === 'number' && typeof c.server.maxBodyBytes === 'number' &&
      c.server.maxReceivingBytes < c.server.maxBodyBytes) {
    errors.push('server.maxReceivingBytes: must be at least server.maxBodyBytes (one body must fit)');
  }
  checkString(errors, 'server.opsHost', c.server.opsHost);
  checkInt(errors, 'server.opsPort', c.server.opsPort, 0, 65_535);
  if (c.server.opsPort !== 0 && c.server.opsPort === c.server.port) {
    errors.push('server.opsPort: must differ from server.port (operations have their own listener)');
  }
  checkInt(errors, 'pool.threads', c.pool.threads, 1, 256);
  checkInt(errors, 'pool.maxBatchesPerWorker', c.pool.maxBatchesPerWorker, 1, 64);
  checkInt(errors, 'pool.maxBatchSize', c.pool.maxBatchSize, 1, 4_096);
  checkInt(errors, 'pool.inlineMaxBatch', c.pool.inlineMaxBatch, 0, 4_096);
  checkInt(errors, 'pool.maxPendingRequests', c.pool.maxPendingRequests, 1, 1_000_000);
  checkInt(errors, 'pool.maxQueueDelayMs', c.pool.maxQueueDelayMs, 1, 60_000);
  checkInt(errors, 'pool.slabSegmentBytes', c.pool.slabSegmentBytes, 64 * 1024, 1024 * 1024 * 1024);
  checkInt(errors, 'pool.slabSegments', c.pool.slabSegments, 2, 4_096);
  checkInt(errors, 'pool.workerYoungGenerationMb', c.pool.workerYoungGenerationMb, 0, 1_024);
  checkInt(errors, 'pool.heavyBodyBytes', c.pool.heavyBodyBytes, 0, 1024 * 1024 * 1024);
  if (typeof c.pool.slabSegmentBytes === 'number' && typeof c.server.maxBodyBytes === 'number' &&
      c.pool.slabSegmentBytes < c.server.maxBodyBytes) {
    errors.push('pool.slabSegmentBytes: must be at least server.maxBodyBytes (a body lives in one segment)');
  }
  if (!['sync', 'async', 'disabled'].includes(c.pool.atomics as string)) {
    errors.push(`pool.atomics: must be one of sync, async, disabled, got ${JSON.stringify(c.pool.atomics)}`);
  }
  checkInt(errors, 'bidding.tmaxMarginMs', c.bidding.tmaxMarginMs, 0, 10_000);
  checkString(errors, 'bidding.seatId', c.bidding.seatId);
  checkString(errors, 'bidding.campaignsFile', c.bidding.campaignsFile);
  checkInt(errors, 'bidding.maxCandidatesPerImp', c.bidding.maxCandidatesPerImp, 1, 4_096);
  checkInt(errors, 'bidding.maxCandidatesPerRequest', c.bidding.maxCandidatesPerRequest, 1, 65_536);
  checkInt(errors, 'privacy.vendorId', c.privacy.vendorId, 0, 65_535);
  checkInt(errors, 'privacy.consentCacheEntries', c.privacy.consentCacheEntries, 16, 1_048_576);
  const fx = c.bidding.fxRates as unknown;
  if (typeof fx !== 'object' || fx === null || Array.isArray(fx)) {
    errors.push('bidding.fxRates: must be an object of currency code to rate');
  } else {
    for (const [cur, rate] of Object.entries(fx as Record<string, unknown>)) {
      if (!/^[A-Z]{3}$/.test(cur)) errors.push(`bidding.fxRates.${cur}: currency must be 3 upper-case letters`);
      if (typeof rate !== 'number' || !(rate > 0) || !Number.isFinite(rate)) {
        errors.push(`bidding.fxRates.${cur}: rate must be a positive number`);
      }
    }
  }
  validateMoney(c.money, errors);
  checkString(errors, 'model.name', c.model.name);
  checkString(errors, 'model.dir', c.model.dir);
  if (typeof c.model.shadow !== 'string') errors.push('model.shadow: must be a string');
  checkInt(errors, 'model.shadowSamplePermille', c.model.shadowSamplePermille, 0, 1_000);
  checkInt(errors, 'model.canaryStepSec', c.model.canaryStepSec, 1, 86_400);
  checkInt(errors, 'model.canaryMaxErrorPermille', c.model.canaryMaxErrorPermille, 0, 1_000);
  checkInt(errors, 'model.canaryMaxRunUs', c.model.canaryMaxRunUs, 1, 10_000_000);
  if (typeof c.admin.tokenFile !== 'string') errors.push('admin.tokenFile: must be a string');
  if (typeof c.experiments.file !== 'string') errors.push('experiments.file: must be a string');
  if (typeof c.testHooks !== 'boolean') errors.push('testHooks: must be a boolean');
  // x-test-crash and x-test-delay-ms let any client kill or stall a worker: never on a
  // listener that another machine can reach.
  if (c.testHooks === true && typeof c.server.host === 'string' && !isLoopbackHost(c.server.host)) {
    errors.push(`testHooks: only with a loopback server.host (127.0.0.0/8, ::1, localhost), got ${JSON.stringify(c.server.host)}`);
  }
  return errors;
}

function validateMoney(m: MoneyConfig, errors: string[]): void {
  if (typeof m.noticeBaseUrl !== 'string') errors.push('money.noticeBaseUrl: must be a string');
  else if (m.noticeBaseUrl !== '' && !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(m.noticeBaseUrl)) {
    errors.push(`money.noticeBaseUrl: must be an http(s) URL without query or fragment, got ${JSON.stringify(m.noticeBaseUrl)}`);
  }
  if (typeof m.noticeKeyFile !== 'string') errors.push('money.noticeKeyFile: must be a string');
  checkInt(errors, 'money.noticeMaxAgeSec', m.noticeMaxAgeSec, 60, 7 * 86_400);
  checkInt(errors, 'money.reservationTtlSec', m.reservationTtlSec, 10, 86_400);
  if (typeof m.redisUrl !== 'string') errors.push('money.redisUrl: must be a string');
  else if (m.redisUrl !== '' && !/^rediss?:\/\//.test(m.redisUrl)) errors.push(`money.redisUrl: must start with redis:// or rediss://, got ${JSON.stringify(m.redisUrl)}`);
  if (typeof m.redisCluster !== 'boolean') errors.push('money.redisCluster: must be a boolean');
  checkInt(errors, 'money.leaseSliceMicros', m.leaseSliceMicros, 1_000, 1_000_000_000_000);
  if (typeof m.instanceId !== 'string') errors.push('money.instanceId: must be a string');
  if (typeof m.eventsDir !== 'string') errors.push('money.eventsDir: must be a string');
  checkInt(errors, 'money.eventsMaxFileBytes', m.eventsMaxFileBytes, 64 * 1024, 64 * 1024 * 1024 * 1024);
  checkInt(errors, 'money.eventsMaxFileAgeSec', m.eventsMaxFileAgeSec, 1, 30 * 86_400);
  if (typeof m.eventsRedisStream !== 'string') errors.push('money.eventsRedisStream: must be a string');
  else if (m.eventsRedisStream !== '' && m.redisUrl === '') errors.push('money.eventsRedisStream: needs money.redisUrl');
  if (typeof m.fireAdvertiserTrackers !== 'boolean') errors.push('money.fireAdvertiserTrackers: must be a boolean');
}

/** 127.0.0.0/8, ::1 (any spelling) or localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (h === 'localhost') return true;
  const family = isIP(h);
  if (family === 4) return h.startsWith('127.');
  if (family === 6) return new SocketAddress({ address: h, family: 'ipv6' }).address === '::1';
  return false;
}

/**
 * Resolves the configuration from defaults, BIDDER_CONFIG and BIDDER_* variables.
 * Relative paths in the file resolve against the file's folder; in the environment,
 * against the working directory.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  root = projectRoot(),
  cpuBudget: CpuBudget = readCpuBudget(),
): ConfigResult {
  const errors: string[] = [];
  const config = defaultConfig(root, cpuBudget);
  const file = env.BIDDER_CONFIG;
  if (file) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      mergeFile(config as unknown as Record<string, unknown>, parsed, '', errors);
      const dir = resolve(file, '..');
      if (parsed.bidding && typeof (parsed.bidding as Record<string, unknown>).campaignsFile === 'string') {
        config.bidding.campaignsFile = resolve(dir, config.bidding.campaignsFile);
      }
      if (parsed.model && typeof (parsed.model as Record<string, unknown>).dir === 'string') {
        config.model.dir = resolve(dir, config.model.dir);
      }
      if (parsed.admin && typeof (parsed.admin as Record<string, unknown>).tokenFile === 'string' && config.admin.tokenFile !== '') {
        config.admin.tokenFile = resolve(dir, config.admin.tokenFile);
      }
      if (parsed.experiments && typeof (parsed.experiments as Record<string, unknown>).file === 'string' && config.experiments.file !== '') {
        config.experiments.file = resolve(dir, config.experiments.file);
      }
    } catch (err) {
      errors.push(`BIDDER_CONFIG (${file}): ${(err as Error).message}`);
    }
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('BIDDER_') || raw === undefined || ENV_NOT_CONFIG.has(name)) continue;
    const spec = ENV_VARS[name];
    if (!spec) {
      errors.push(`${name}: unknown BIDDER_* variable`);
      continue;
    }
    const value = parseEnvValue(name, raw, spec, errors);
    if (value === undefined) continue;
    if (spec.path === 'bidding.campaignsFile' || spec.path === 'model.dir' ||
        ((spec.path === 'admin.tokenFile' || spec.path === 'experiments.file') && value !== '')) {
      setPath(config as unknown as Record<string, unknown>, spec.path, resolve(value as string));
    } else {
      setPath(config as unknown as Record<string, unknown>, spec.path, value);
    }
  }
  errors.push(...validateConfig(config));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config, cpuBudget };
}
