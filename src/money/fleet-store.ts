/**
 * The fleet's shared money state in Redis (BIDDER_REDIS_URL), through node-redis (a single
 * node, or a Redis Cluster seeded from the URL). Used only by the money owner's thread:
 * the bid path never waits on Redis. Every call has a short timeout and fails as a value
 * (never a rejection into the caller's loop); with Redis down the client reconnects by
 * itself (capped backoff) and the owner goes on with the leases it holds and its local
 * counts (money-owner.ts).
 *
 * Keys carry a hash tag per campaign ({c:<id>}) so that one campaign's keys share a cluster
 * slot and a script may touch them together:
 *   bidder:{c:<id>}:day:<YYYY-MM-DD>   what is left of that day's budget (expires after 2 days)
 *   bidder:{c:<id>}:total              what is left of the total budget (no expiry)
 *   bidder:{c:<id>}:spend:<day>        a hash: spend per creative that day, micro-USD
 *   bidder:{c:<id>}:cap:<i>:<user>:<w> billed impressions of a user in cap i's window w (TTL: the window)
 *   bidder:notice:<kind>:<bid id>      a notice already counted by some instance (TTL: max notice age)
 *
 * Redis must persist (AOF) in production: a Redis restarted empty re-initialises each
 * day's budget to the full amount, and the fleet could spend the day again (the README's
 * bound assumes a Redis that keeps its data).
 */
import { createClient, createCluster } from 'redis';

/** Takes a lease: the grant is min(slice, day left, total left), taken from both atomically; 0 when either is spent. */
const kLeaseScript = `
local grant = tonumber(ARGV[3])
local daily = tonumber(ARGV[1])
local total = tonumber(ARGV[2])
if daily >= 0 then
  redis.call('SET', KEYS[1], daily, 'NX', 'EX', ARGV[4])
  local d = tonumber(redis.call('GET', KEYS[1]))
  if d < grant then grant = d end
end
if total >= 0 then
  redis.call('SET', KEYS[2], total, 'NX')
  local t = tonumber(redis.call('GET', KEYS[2]))
  if t < grant then grant = t end
end
if grant <= 0 then return 0 end
if daily >= 0 then redis.call('DECRBY', KEYS[1], grant) end
if total >= 0 then redis.call('DECRBY', KEYS[2], grant) end
return grant
`;

/** Gives an unspent lease back to the budgets it came from (only those that still exist). */
const kReturnScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], ARGV[1]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCRBY', KEYS[2], ARGV[1]) end
return 1
`;

/** One more billed impression in a cap window; the TTL is set with the first. */
const kCapScript = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
`;

const kDayTtlSec = 2 * 86_400;
const kStreamMaxLen = 1_000_000;

export interface FleetStoreOptions {
  url: string;
  cluster?: boolean;
  instanceId: string;
  commandTimeoutMs?: number;
  log?: (message: string) => void;
}

export type LeaseResult = { ok: true; grantedMicros: number } | { ok: false; code: 'FLEET_DOWN' | 'FLEET_TIMEOUT' | 'FLEET_ERROR' };

export interface FleetCounters {
  calls: number;
  failures: number;
  reconnects: number;
}

type Client = ReturnType<typeof createClient>;

function campaignTag(campaignId: string): string {
  return `bidder:{c:${campaignId}}`;
}

export class FleetStore {
  private upNow = false;
  private closed = false;
  readonly counters: FleetCounters = { calls: 0, failures: 0, reconnects: 0 };
  private readonly timeoutMs: number;
  private readonly client: Client;

  private constructor(private readonly o: FleetStoreOptions) {
    this.timeoutMs = o.commandTimeoutMs ?? 200;
    const socket = {
      connectTimeout: 1_000,
      // Capped exponential backoff, forever: the bidder never gives up on its Redis.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2_000),
    };
    // Without an offline queue a command while disconnected fails at once instead of waiting.
    const client = o.cluster === true
      ? createCluster({ rootNodes: [{ url: o.url }], defaults: { socket, disableOfflineQueue: true } })
      : createClient({ url: o.url, socket, disableOfflineQueue: true });
    this.client = client as unknown as Client;
    const c = this.client as unknown as NodeJS.EventEmitter;
    c.on('error', () => {
      // Reported by the transitions below; the client reconnects by itself.
      this.counters.failures++;
    });
    c.on('ready', () => {
      if (!this.upNow) o.log?.(`fleet: Redis at ${o.url} is up`);
      this.upNow = true;
    });
    c.on('end', () => {
      this.upNow = false;
    });
    c.on('reconnecting', () => {
      if (this.upNow) o.log?.(`fleet: Redis at ${o.url} is down; bidding goes on with the leases held`);
      this.upNow = false;
      this.counters.reconnects++;
    });
    void this.client.connect().then(() => {
      this.upNow = true;
    }, () => {
      this.counters.failures++;
    });
  }

  static open(o: FleetStoreOptions): FleetStore {
    return new FleetStore(o);
  }

  get up(): boolean {
    return this.upNow && !this.closed;
  }

  capKey(campaignId: string, capIndex: number, userHashHex: string, windowIndex: number): string {
    return `${campaignTag(campaignId)}:cap:${capIndex}:${userHashHex}:${windowIndex}`;
  }

  async leaseBudget(campaignId: string, dayKey: string, dailyMicros: number | null, totalMicros: number | null, sliceMicros: number): Promise<LeaseResult> {
    const tag = campaignTag(campaignId);
    const r = await this.call(() => this.client.eval(kLeaseScript, {
      keys: [`${tag}:day:${dayKey}`, `${tag}:total`],
      arguments: [String(dailyMicros ?? -1), String(totalMicros ?? -1), String(Math.floor(sliceMicros)), String(kDayTtlSec)],
    }));
    if (!r.ok) return r;
    return { ok: true, grantedMicros: Math.max(0, Number(r.value)) };
  }

  async returnLease(campaignId: string, dayKey: string, micros: number): Promise<boolean> {
    const tag = campaignTag(campaignId);
    const r = await this.call(() => this.client.eval(kReturnScript, { keys: [`${tag}:day:${dayKey}`, `${tag}:total`], arguments: [String(Math.floor(micros))] }));
    return r.ok;
  }

  async addSpend(campaignId: string, creativeId: string, dayKey: string, micros: number): Promise<boolean> {
    const key = `${campaignTag(campaignId)}:spend:${dayKey}`;
    const r = await this.call(() => this.client.hIncrBy(key, creativeId, Math.round(micros)));
    if (r.ok) void this.call(() => this.client.expire(key, 8 * 86_400));
    return r.ok;
  }

  /** The fleet's spend of a campaign on a day, micro-USD; null when Redis cannot say. */
  async spendOf(campaignId: string, dayKey: string): Promise<number | null> {
    const r = await this.call(() => this.client.hVals(`${campaignTag(campaignId)}:spend:${dayKey}`));
    if (!r.ok) return null;
    return (r.value as string[]).reduce((n, v) => n + Number(v), 0);
  }

  /** 'first' for the first instance to claim a notice, 'repeat' after; 'unknown' when Redis cannot say. */
  async claimNotice(noticeKey: string, ttlSec: number): Promise<'first' | 'repeat' | 'unknown'> {
    const r = await this.call(() => this.client.set(`bidder:notice:${noticeKey}`, this.o.instanceId, { NX: true, EX: Math.max(1, Math.ceil(ttlSec)) }));
    if (!r.ok) return 'unknown';
    return r.value === 'OK' ? 'first' : 'repeat';
  }

  /** One more billed impression in each window; the new counts, or null when Redis is down. */
  async incrementCaps(entries: { key: string; windowSec: number }[]): Promise<number[] | null> {
    const r = await this.call(() => Promise.all(entries.map((e) => this.client.eval(kCapScript, { keys: [e.key], arguments: [String(e.windowSec)] }))));
    return r.ok ? (r.value as unknown[]).map(Number) : null;
  }

  /** Current counts (0 for a window with none); null when Redis is down. */
  async readCaps(keys: string[]): Promise<number[] | null> {
    // One GET per key: in a cluster the keys of different users live on different slots.
    const r = await this.call(() => Promise.all(keys.map((k) => this.client.get(k))));
    return r.ok ? (r.value as (string | null)[]).map((v) => (v === null ? 0 : Number(v))) : null;
  }

  /** Appends event records to a Redis stream, trimmed to about a million; fire and forget. */
  appendStream(key: string, records: Uint8Array[]): void {
    for (const rec of records) {
      void this.call(() => this.client.xAdd(key, '*', { r: Buffer.from(rec.buffer, rec.byteOffset, rec.byteLength) as unknown as string },
        { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: kStreamMaxLen } }));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await Promise.race([this.client.quit(), new Promise((r) => setTimeout(r, 1_000))]);
    } catch {
      // Already disconnected.
    }
    try {
      await this.client.disconnect();
    } catch {
      // Already closed by quit.
    }
  }

  private async call<T>(run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: 'FLEET_DOWN' | 'FLEET_TIMEOUT' | 'FLEET_ERROR' }> {
    this.counters.calls++;
    if (!this.up) {
      this.counters.failures++;
      return { ok: false, code: 'FLEET_DOWN' };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), this.timeoutMs);
      });
      const p = run();
      p.catch(() => undefined); // a late failure after the timeout is not unhandled
      const v = await Promise.race([p, timeout]);
      if (v === 'timeout') {
        this.counters.failures++;
        return { ok: false, code: 'FLEET_TIMEOUT' };
      }
      return { ok: true, value: v as T };
    } catch {
      this.counters.failures++;
      return { ok: false, code: 'FLEET_ERROR' };
    } finally {
      clearTimeout(timer);
    }
  }
}
