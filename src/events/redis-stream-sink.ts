/**
 * An EventSink that appends each record to a Redis stream (XADD key * r <flatbuffer>), trimmed
 * with MAXLEN ~ so the stream stays bounded without exact-trim cost. Fire and forget: the
 * owner's thread never awaits Redis. When the client is not ready (connecting, reconnecting,
 * closed) or too many adds are outstanding, records are dropped and counted rather than
 * queued: the files are the record of truth, the stream a live feed.
 *
 * Takes any object with node-redis v4's `xAdd(key, id, fields, options)` and `isReady`, so
 * tests pass a fake and the fleet store can pass its own client.
 */
import { EventLogError } from './event-errors';
import type { EventSink } from './event-log-writer';

/** The part of a node-redis v4 client this sink uses. Field values are sent as bytes. */
export interface StreamClient {
  readonly isReady: boolean;
  xAdd(key: string, id: string, fields: Record<string, string | Buffer>,
    options?: { TRIM?: { strategy?: 'MAXLEN' | 'MINID'; strategyModifier?: '=' | '~'; threshold: number } }): Promise<unknown>;
}

export interface RedisStreamSinkOptions {
  client: StreamClient;
  key: string;
  /** Approximate stream length kept (MAXLEN ~); default 1,000,000. */
  maxLen?: number;
  /** Adds outstanding beyond which records are dropped (default 10,000). */
  maxInFlight?: number;
}

export interface RedisStreamCounters {
  sent: number;
  /** Dropped because the client was not ready or too many adds were outstanding. */
  droppedNotReady: number;
  /** Adds Redis (or the connection) refused. */
  failed: number;
  inFlight: number;
}

/** The stream entry's one field: the record's flatbuffer bytes. */
export const kStreamField = 'r';

export class RedisStreamSink implements EventSink {
  private readonly c: RedisStreamCounters = { sent: 0, droppedNotReady: 0, failed: 0, inFlight: 0 };
  private readonly trim: { TRIM: { strategy: 'MAXLEN'; strategyModifier: '~'; threshold: number } };
  private readonly maxInFlight: number;
  private readonly outstanding = new Set<Promise<unknown>>();

  constructor(private readonly o: RedisStreamSinkOptions) {
    const maxLen = o.maxLen ?? 1_000_000;
    const maxInFlight = o.maxInFlight ?? 10_000;
    if (o.key === '' || !Number.isInteger(maxLen) || maxLen < 1 || !Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new EventLogError('EVENTS_BAD_OPTIONS', 'redis stream sink needs a key, maxLen >= 1 and maxInFlight >= 1');
    }
    this.trim = { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: maxLen } };
    this.maxInFlight = maxInFlight;
  }

  get counters(): RedisStreamCounters {
    return { ...this.c };
  }

  write(records: Uint8Array[]): void {
    for (const rec of records) {
      if (!this.o.client.isReady || this.c.inFlight >= this.maxInFlight) {
        this.c.droppedNotReady++;
        continue;
      }
      const bytes = Buffer.from(rec.buffer, rec.byteOffset, rec.byteLength);
      this.c.inFlight++;
      let p: Promise<unknown>;
      try {
        p = this.o.client.xAdd(this.o.key, '*', { [kStreamField]: bytes }, this.trim);
      } catch {
        // A client that throws synchronously (closed) instead of rejecting.
        this.c.inFlight--;
        this.c.failed++;
        continue;
      }
      const tracked = p.then(
        () => {
          this.c.sent++;
        },
        () => {
          this.c.failed++;
        },
      ).finally(() => {
        this.c.inFlight--;
        this.outstanding.delete(tracked);
      });
      this.outstanding.add(tracked);
    }
  }

  /** Waits for the adds already sent (they settle or fail; nothing is retried). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.outstanding]);
  }
}
