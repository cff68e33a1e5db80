/**
 * The main thread's handle on the money loop: makes its shared memory (money-shared.ts),
 * starts the owner's thread (money.worker.ts), and closes it last on the way out, after the
 * acceptors have stopped taking notices, so every notice already taken is counted and every
 * event record flushed.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { projectRoot, type BidderConfig } from '../config/config';
import type { Campaign } from '../decisioning/campaign-types';
import { EventRing } from '../events/event-ring';
import { defaultNoticeBaseUrl } from '../notices/notice-urls';
import type { NoticeKey } from '../notices/notice-key';
import { ledgerBytes, shapeFor } from './budget-ledger';
import { hostname } from 'node:os';
import { allocateCapTable } from './frequency-caps';
import type { MoneyLifecycle, MoneyMessage, MoneyReply, MoneyWorkerInit } from './money-protocol';
import { newBidIdPrefix, sharedNoticeKey, type MoneyShared } from './money-shared';
import { moneyStatsBytes } from './money-stats';

/** A notice ring holds this much per acceptor: some thousands of notices between two drains. */
const kNoticeRingBytes = 1024 * 1024;
/** Each engine thread's ring of bid records. */
const kEventRingBytes = 1024 * 1024;
/** Frequency-cap entries (user x campaign x cap window) the process keeps. */
const kCapEntries = 1 << 18;

export class MoneyStartError extends Error {
  constructor(readonly code: 'MONEY_WORKER_NOT_BUILT' | 'MONEY_WORKER_FAILED', message: string) {
    super(message);
  }
}

export function moneyWorkerFile(): string {
  const file = resolve(projectRoot(), 'dist/src/money/money.worker.js');
  if (!existsSync(file)) throw new MoneyStartError('MONEY_WORKER_NOT_BUILT', `${file} is missing: run \`npm run build\` first`);
  return file;
}

/** The shared memory for `campaigns`, for a process of `acceptors` acceptors and `engineThreads` threads that bid. */
export function allocateMoneyShared(config: BidderConfig, campaigns: readonly Campaign[], key: Buffer, listenPort: number, engineThreads: number): MoneyShared {
  const rings = engineThreads * 2 + 4; // replaced workers claim fresh rings
  const ledgerShape = shapeFor(config.money.reservationTtlSec);
  return {
    ledger: new SharedArrayBuffer(ledgerBytes(campaigns.length, ledgerShape)),
    ledgerShape,
    instanceId: config.money.instanceId !== '' ? config.money.instanceId : `${hostname()}-${process.pid}`,
    caps: allocateCapTable(kCapEntries),
    noticeKey: sharedNoticeKey(key),
    noticeBaseUrl: config.money.noticeBaseUrl !== '' ? config.money.noticeBaseUrl : defaultNoticeBaseUrl(config.server.host, listenPort),
    noticeMaxAgeSec: config.money.noticeMaxAgeSec,
    bidIdPrefix: newBidIdPrefix(),
    noticeRings: Array.from({ length: config.server.acceptors }, () => EventRing.allocate(kNoticeRingBytes)),
    eventRings: Array.from({ length: rings }, () => EventRing.allocate(kEventRingBytes)),
    eventRingClaims: new SharedArrayBuffer(rings * Int32Array.BYTES_PER_ELEMENT),
  };
}

export class MoneyService {
  private readonly worker: Worker;
  private readonly exited: Promise<number>;
  private closing: Promise<void> | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Extract<MoneyReply, { type: 'stats' }>) => void>();
  readonly stats: SharedArrayBuffer;

  static async start(config: BidderConfig, campaigns: readonly Campaign[], campaignsJson: string, shared: MoneyShared, metrics: SharedArrayBuffer,
    log: (m: string) => void, key: NoticeKey & { ok: true }, modelVersion: string, lifecycle?: MoneyLifecycle): Promise<MoneyService> {
    if (key.warning !== null) log(key.warning);
    const service = new MoneyService(config, campaigns, campaignsJson, shared, metrics, log, modelVersion, lifecycle);
    await service.ready;
    // From here the bidder's own handles keep the process alive; a drain refs it again (close()).
    service.worker.unref();
    return service;
  }

  private readonly ready: Promise<void>;

  private constructor(config: BidderConfig, campaigns: readonly Campaign[], campaignsJson: string, shared: MoneyShared, metrics: SharedArrayBuffer,
    private readonly log: (m: string) => void, modelVersion: string, lifecycle?: MoneyLifecycle) {
    this.stats = new SharedArrayBuffer(Math.max(8, moneyStatsBytes(campaigns)));
    const init: MoneyWorkerInit = {
      shared, campaignsJson, fxRates: config.bidding.fxRates, seatId: config.bidding.seatId, modelVersion, money: config.money, metrics, stats: this.stats,
      lifecycle,
    };
    this.worker = new Worker(moneyWorkerFile(), { workerData: init });
    this.exited = new Promise((res) => this.worker.once('exit', res));
    this.ready = new Promise((res, rej) => {
      this.worker.on('message', (m: MoneyReply) => {
        switch (m.type) {
          case 'ready':
            res();
            break;
          case 'failed':
            rej(new MoneyStartError('MONEY_WORKER_FAILED', m.message));
            this.log(`money owner failed: ${m.message}`);
            break;
          case 'log':
            this.log(m.message);
            break;
          case 'stats':
            this.waiting.get(m.id)?.(m);
            this.waiting.delete(m.id);
            break;
          case 'closed':
            break;
        }
      });
      this.worker.once('error', (err) => rej(new MoneyStartError('MONEY_WORKER_FAILED', err.message)));
      void this.exited.then((code) => rej(new MoneyStartError('MONEY_WORKER_FAILED', `money owner exited (${code}) before it was ready`)));
    });
  }

  /** The owner's counters (for tests and the operations page). */
  counters(): Promise<Extract<MoneyReply, { type: 'stats' }>> {
    const id = this.nextId++;
    return new Promise((res) => {
      this.waiting.set(id, res);
      this.worker.postMessage({ type: 'stats', id } satisfies MoneyMessage);
    });
  }

  /** Drains what is left, flushes the event log, closes Redis, ends the thread; idempotent. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.worker.ref();
      this.worker.postMessage({ type: 'close' } satisfies MoneyMessage);
      this.closing = this.exited.then(() => undefined);
    }
    return this.closing;
  }
}
