/**
 * The real bidder, started in this process for one run: loopback listeners on ports the
 * kernel picks, the simulator's own campaign and experiments files, a notice key and an
 * event log in a temporary folder of its own (removed at the end). The configuration is
 * built as test/helpers/test-bidder.ts builds it (defaultConfig, then overrides per section).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBidder, type Bidder } from '../../src/bidder';
import { defaultConfig, projectRoot, type BidderConfig } from '../../src/config/config';
import type { BidderFigures, BidderOverrides } from './types';
import { ExchangeClient } from './client';

export interface BidderFiles {
  /** The campaign file's JSON. */
  campaigns: object;
  /** The experiments file's JSON, or null for none. */
  experiments: object | null;
}

export interface HostedBidder {
  bidder: Bidder;
  port: number;
  opsPort: number;
  /** Drains the bidder and removes its folder; idempotent. */
  stop(): Promise<void>;
}

export function simulatorConfig(dir: string, campaignsFile: string, experimentsFile: string, o: BidderOverrides): BidderConfig {
  const base = defaultConfig(projectRoot());
  const keyFile = join(dir, 'notice.key');
  // A key of our own: without one the bidder draws a random key and warns.
  writeFileSync(keyFile, Buffer.alloc(32, 0x53));
  return {
    server: { ...base.server, host: '127.0.0.1', port: 0, opsHost: '127.0.0.1', opsPort: 0, ...o.server },
    pool: { ...base.pool, threads: Math.min(2, base.pool.threads), ...o.pool },
    bidding: { ...base.bidding, campaignsFile, ...o.bidding },
    model: { ...base.model, ...o.model },
    privacy: { ...base.privacy, ...o.privacy },
    admin: { ...base.admin, ...o.admin },
    experiments: { ...base.experiments, file: experimentsFile, ...o.experiments },
    money: { ...base.money, noticeKeyFile: keyFile, eventsDir: join(dir, 'events'), fireAdvertiserTrackers: false, ...o.money },
    testHooks: o.testHooks ?? false,
  };
}

/** Longest wait for the bidder to load its models and warm its workers. */
export const kStartTimeoutMs = 60_000;

export async function hostBidder(files: BidderFiles, overrides: BidderOverrides, startTimeoutMs = kStartTimeoutMs): Promise<HostedBidder> {
  const dir = mkdtempSync(join(tmpdir(), 'bidder-simulator-'));
  const campaignsFile = join(dir, 'campaigns.json');
  writeFileSync(campaignsFile, JSON.stringify(files.campaigns, null, 1));
  let experimentsFile = '';
  if (files.experiments !== null) {
    experimentsFile = join(dir, 'experiments.json');
    writeFileSync(experimentsFile, JSON.stringify(files.experiments, null, 1));
  }
  let bidder: Bidder | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const started = (async () => {
      bidder = await startBidder(simulatorConfig(dir, campaignsFile, experimentsFile, overrides));
      await bidder.ready;
      return bidder;
    })();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the bidder was not ready within ${startTimeoutMs} ms`)), startTimeoutMs);
    });
    bidder = await Promise.race([started, late]);
  } catch (err) {
    // A bidder that started but never became ready is drained (bounded by its own drain timeout).
    if (bidder !== undefined) await bidder.drain().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const running = bidder;
  let stopping: Promise<void> | null = null;
  return {
    bidder: running,
    port: running.port,
    opsPort: running.opsPort,
    stop() {
      stopping ??= running.drain().finally(() => rmSync(dir, { recursive: true, force: true }));
      return stopping;
    },
  };
}

/** Σ over labels of every sample of `name` in Prometheus text. */
export function sumSamples(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (m !== null && m[1] === name) sum += Number(m[2]);
  }
  return sum;
}

/** The bidder's own wins, bills, losses and spend, from /metrics on its operations port. */
export async function readBidderFigures(client: ExchangeClient, opsPort: number): Promise<Omit<BidderFigures, 'settled'> | null> {
  const r = await client.get('127.0.0.1', opsPort, '/metrics');
  if (r.status !== 200) return null;
  return {
    wins: sumSamples(r.body, 'bidder_wins_total'),
    bills: sumSamples(r.body, 'bidder_bills_total'),
    losses: sumSamples(r.body, 'bidder_losses_total'),
    spendMicros: sumSamples(r.body, 'bidder_spend_micros_total'),
  };
}

/**
 * Waits (polling /metrics every 50 ms, at most `timeoutMs`) until the bidder has counted at
 * least the notices the simulator had answered 204: the money owner counts them off the
 * request path, a few milliseconds later. Returns the last figures read.
 */
export async function settleBidderFigures(client: ExchangeClient, opsPort: number, want: { wins: number; bills: number; losses: number }, timeoutMs = 10_000): Promise<BidderFigures> {
  const end = Date.now() + timeoutMs;
  let last: Omit<BidderFigures, 'settled'> = { wins: 0, bills: 0, losses: 0, spendMicros: 0 };
  for (;;) {
    const f = await readBidderFigures(client, opsPort);
    if (f !== null) {
      last = f;
      if (f.wins >= want.wins && f.bills >= want.bills && f.losses >= want.losses) return { ...f, settled: true };
    }
    if (Date.now() >= end) return { ...last, settled: false };
    await new Promise((r) => setTimeout(r, 50));
  }
}
