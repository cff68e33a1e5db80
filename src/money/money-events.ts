/**
 * The event log on the money owner's thread: drains every engine thread's ring of bid
 * records, encodes the notices the owner counted (win, bill, loss with its reason and
 * minimum bid to win), and appends both to the rotating files (events/event-log-writer.ts)
 * and, when configured, to a Redis stream for the fleet. Counts what was written and what
 * was dropped (a full ring, a slow disk) into bidder_events_total.
 */
import type { MoneyConfig } from '../config/config';
import { EVENT_FIELD_DEFAULTS, EventEncoder, type EventFields } from '../codec/event-records';
import { EventLogWriter } from '../events/event-log-writer';
import { EventRing } from '../events/event-ring';
import { M } from '../metrics/definitions';
import type { MetricsLayout, SlotWriter } from '../metrics/shared-metrics';
import type { NoticeOutcome } from './money-owner';
import type { EventCounters } from './money-protocol';
import type { MoneyShared } from './money-shared';
import { readBidRecord } from './bid-record';

/** What the event log needs of the fleet store: appending records to a stream, fire and forget. */
export interface StreamPort {
  readonly up: boolean;
  appendStream(key: string, records: Uint8Array[]): void;
}

export interface MoneyEventsOptions {
  cfg: MoneyConfig;
  shared: MoneyShared;
  instanceId: string;
  fleet?: StreamPort;
  metrics: SlotWriter;
  layout: MetricsLayout;
  /** The scoring model, name@version: every bid of this process was priced by it. */
  modelVersion: string;
}

export class MoneyEvents {
  private readonly rings: EventRing[];
  private readonly writer: EventLogWriter | null;
  private readonly encoder = new EventEncoder();
  private readonly fields: EventFields;
  private readonly streamBatch: Uint8Array[] = [];
  private readonly offsets: { written: number; droppedRing: number; droppedSlowDisk: number };
  private reported: EventCounters = { written: 0, droppedRing: 0, droppedSlowDisk: 0 };
  private droppedStream = 0;

  constructor(private readonly o: MoneyEventsOptions) {
    this.rings = o.shared.eventRings.map((r) => new EventRing(r));
    this.writer = o.cfg.eventsDir === '' ? null : new EventLogWriter({
      dir: o.cfg.eventsDir, instanceId: o.instanceId, maxFileBytes: o.cfg.eventsMaxFileBytes, maxFileAgeSec: o.cfg.eventsMaxFileAgeSec,
    });
    this.fields = {
      kind: 'win', timeMs: 0, requestId: '', impId: '', bidId: '', campaignId: '', creativeId: '', priceMicros: 0, currency: 'USD',
      clearingMicros: -1, costMicros: 0, lossReason: -1, minToWinMicros: -1, modelVersion: '', arm: '', test: false, instanceId: o.instanceId,
      ...EVENT_FIELD_DEFAULTS,
    };
    this.offsets = {
      written: o.layout.offset(M.events, ['written']),
      droppedRing: o.layout.offset(M.events, ['dropped_ring']),
      droppedSlowDisk: o.layout.offset(M.events, ['dropped_slow_disk']),
    };
  }

  /** One counted notice as a record. */
  notice(o: NoticeOutcome, nowMs: number): void {
    const n = o.notice;
    const c = n.claims;
    const f = this.reset();
    f.segment = c.segment ?? 0;
    f.kind = n.kind;
    f.timeMs = nowMs;
    f.requestId = c.requestId;
    f.impId = c.impId;
    f.bidId = c.bidId;
    f.campaignId = c.campaignId;
    f.creativeId = c.creativeId;
    f.priceMicros = c.priceMicros;
    f.currency = c.currency;
    f.clearingMicros = n.clearingMicros;
    f.costMicros = o.costMicros;
    f.lossReason = n.lossReason;
    f.minToWinMicros = n.minToWinMicros;
    f.modelVersion = c.modelVersion;
    f.arm = c.arm;
    f.test = c.test;
    this.put(this.encoder.encode(f));
  }

  /** Drains the rings into the files and the stream; reports the counters. */
  pump(): void {
    for (const ring of this.rings) ring.drain((r: Uint8Array) => this.bid(r));
    this.writer?.flush();
    if (this.streamBatch.length > 0) {
      const fleet = this.o.fleet;
      if (fleet !== undefined && fleet.up) fleet.appendStream(this.o.cfg.eventsRedisStream, this.streamBatch.splice(0));
      else {
        this.droppedStream += this.streamBatch.length;
        this.streamBatch.length = 0;
      }
    }
    this.report();
  }

  get counters(): EventCounters {
    const w = this.writer?.counters;
    return {
      written: w?.written ?? 0,
      droppedRing: this.rings.reduce((n, r) => n + r.dropped, 0),
      droppedSlowDisk: w?.droppedSlowDisk ?? 0,
    };
  }

  async close(): Promise<void> {
    this.pump();
    await this.writer?.close();
    this.report();
  }

  /**
   * Requests assigned to each arm since the last call, as Exposure records (the experiment
   * report's denominators and its sample-ratio check): `counts` by arm label.
   */
  exposures(arms: readonly { label: string; weight: number; control: boolean }[], counts: ReadonlyMap<string, number>, nowMs: number): void {
    for (const arm of arms) {
      const n = counts.get(arm.label) ?? 0;
      if (n <= 0) continue;
      const f = this.blank('exposure', nowMs);
      f.arm = arm.label;
      f.count = n;
      f.weight = Math.round(arm.weight);
      f.control = arm.control;
      this.put(this.encoder.encode(f));
    }
  }

  /** The shared field object with the newer fields back at their defaults (it is reused for every record). */
  private reset(): EventFields {
    return Object.assign(this.fields, EVENT_FIELD_DEFAULTS);
  }

  /** The shared field object emptied for a record that is no bid and no notice (exposure, shadow). */
  private blank(kind: EventFields['kind'], timeMs: number): EventFields {
    const f = this.reset();
    f.kind = kind;
    f.timeMs = timeMs;
    f.requestId = f.impId = f.bidId = f.campaignId = f.creativeId = f.currency = f.modelVersion = f.arm = '';
    f.priceMicros = f.costMicros = 0;
    f.clearingMicros = f.lossReason = f.minToWinMicros = -1;
    f.test = false;
    return f;
  }

  /** One engine thread's raw record (bid-record.ts: a bid or a shadow prediction) as the log's flatbuffers record. */
  private bid(raw: Uint8Array): void {
    const b = readBidRecord(raw);
    if (b === null) return;
    const f = this.reset();
    if (b.type === 'shadow') {
      this.blank('shadow', b.timeMs);
      f.requestId = b.requestId;
      f.impId = b.impId;
      f.campaignId = b.campaignId;
      f.creativeId = b.creativeId;
      f.modelVersion = b.model;
      f.arm = b.arm;
      f.test = b.test;
      f.ctr = b.ctr;
      f.shadowModel = b.shadowModel;
      f.shadowCtr = b.shadowCtr;
      this.put(this.encoder.encode(f));
      return;
    }
    f.valueMicros = b.valueMicros;
    f.ctr = b.ctr;
    f.segment = b.segment;
    f.kind = 'bid';
    f.timeMs = b.timeMs;
    f.requestId = b.requestId;
    f.impId = b.impId;
    f.bidId = b.bidId;
    f.campaignId = b.campaignId;
    f.creativeId = b.creativeId;
    f.priceMicros = b.priceMicros;
    f.currency = b.currency;
    f.clearingMicros = -1;
    f.costMicros = 0;
    f.lossReason = -1;
    f.minToWinMicros = -1;
    f.modelVersion = b.model !== '' ? b.model : this.o.modelVersion;
    f.arm = b.arm;
    f.test = b.test;
    this.put(this.encoder.encode(f));
  }

  private put(record: Uint8Array): void {
    this.writer?.append(record);
    if (this.o.cfg.eventsRedisStream !== '') this.streamBatch.push(record.slice());
  }

  private report(): void {
    const now = this.counters;
    const m = this.o.metrics;
    if (now.written > this.reported.written) m.inc(this.offsets.written, now.written - this.reported.written);
    if (now.droppedRing > this.reported.droppedRing) m.inc(this.offsets.droppedRing, now.droppedRing - this.reported.droppedRing);
    if (now.droppedSlowDisk > this.reported.droppedSlowDisk) m.inc(this.offsets.droppedSlowDisk, now.droppedSlowDisk - this.reported.droppedSlowDisk);
    this.reported = now;
  }
}
