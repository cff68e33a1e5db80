/**
 * The money owner's share of experiments and shading (on its thread, off every bid path):
 *
 * - Outcomes per arm: each counted win, bill (and its spend) and click is added to the arm
 *   series of every experiment arm its token names (bidder_experiment_*_total).
 * - Exposures: every few seconds, the requests each arm was assigned since the last time
 *   (the engine threads' bidder_experiment_requests_total, summed over threads) go into the
 *   event log as Exposure records with the arm's weight and whether it is a control: the
 *   experiment report's denominators and its sample-ratio check come from the log alone.
 * - The win-rate learner (src/strategy/win-rate-model.ts): every first-price bid's win or
 *   loss, with ${AUCTION_MIN_TO_WIN} when the exchange sent it, per shading segment; its
 *   parameters are published to the shared table every engine thread reads, at most
 *   kSnapshotEveryMs after they moved.
 */
import { M } from '../metrics/definitions';
import { SlotReader, type MetricsLayout, type SlotWriter } from '../metrics/shared-metrics';
import { kMaxArmSlots, type ExperimentsSnapshot } from '../experiments/experiment-table';
import { WinRateLearner } from '../strategy/win-rate-model';
import { WinRateTable } from '../strategy/win-rate-table';
import type { MoneyEvents } from './money-events';
import type { NoticeOutcome } from './money-owner';
import type { MoneyLifecycle } from './money-protocol';

/** Seconds between exposure records. */
const kExposureEverySec = 5;
/**
 * The learner's parameters reach the engine threads at most this long after the notices
 * that moved them (a snapshot is O(segments held); idle, none is taken).
 */
const kSnapshotEveryMs = 100;

export interface ArmAuditOptions {
  lifecycle: MoneyLifecycle;
  metrics: SlotWriter;
  layout: MetricsLayout;
  metricsBuffer: SharedArrayBuffer;
  events: MoneyEvents;
}

export class ArmAudit {
  private experiments: ExperimentsSnapshot;
  private readonly slotOf = new Map<string, number>();
  private readonly reader: SlotReader;
  private readonly offsets: { requests: number; wins: number; bills: number; spend: number; clicks: number };
  /** Requests per arm slot already written as exposures. */
  private readonly exposed = new Float64Array(kMaxArmSlots);
  private lastExposureMs = 0;
  private learned = false;
  private lastSnapshotMs = 0;
  readonly learner: WinRateLearner;

  constructor(private readonly o: ArmAuditOptions) {
    this.experiments = o.lifecycle.experiments;
    this.reader = new SlotReader(o.layout, o.metricsBuffer);
    const at = (name: string): number => o.layout.offset(name, ['0']);
    this.offsets = { requests: at(M.armRequests), wins: at(M.armWins), bills: at(M.armBills), spend: at(M.armSpend), clicks: at(M.armClicks) };
    this.index();
    const table = new WinRateTable(o.lifecycle.winRates);
    this.learner = new WinRateLearner(table, { maxSegments: Math.floor(table.slots / 2) });
  }

  /** A message on the registry's channel: a new experiments snapshot replaces the old. */
  onRegistryMessage(m: unknown): void {
    const msg = m as { type?: string; snapshot?: ExperimentsSnapshot };
    if (msg.type !== 'experiments' || msg.snapshot === undefined || msg.snapshot.version <= this.experiments.version) return;
    // What the old arms were assigned up to now is theirs: written before the new ones count.
    this.flush(Date.now());
    this.experiments = msg.snapshot;
    this.index();
  }

  /** One counted notice (first counted; repeats never reach here). */
  outcome(o: NoticeOutcome): void {
    const n = o.notice;
    const c = n.claims;
    if (c.test) return;
    if (c.arm !== '') {
      const off = n.kind === 'win' ? this.offsets.wins : n.kind === 'bill' ? this.offsets.bills : n.kind === 'click' ? this.offsets.clicks : -1;
      for (const label of c.arm.split(',')) {
        const slot = this.slotOf.get(label);
        if (slot === undefined) continue;
        if (off >= 0) this.o.metrics.inc(off + slot);
        if (n.kind === 'bill' && o.costMicros > 0) this.o.metrics.inc(this.offsets.spend + slot, o.costMicros);
      }
    }
    const segment = c.segment ?? 0;
    if (segment !== 0 && (n.kind === 'win' || n.kind === 'loss')) {
      if (this.learner.observe(segment, c.priceMicros / 1e6, n.kind === 'win', n.minToWinMicros >= 0 ? n.minToWinMicros / 1e6 : -1)) this.learned = true;
    }
  }

  /** After each drain of the notice rings: the learner's snapshot, when it learned and kSnapshotEveryMs passed. */
  pump(nowMs: number): void {
    if (!this.learned || nowMs - this.lastSnapshotMs < kSnapshotEveryMs) return;
    this.learned = false;
    this.lastSnapshotMs = nowMs;
    this.learner.snapshot();
  }

  /** About once a second: every kExposureEverySec, the exposures. */
  tick(nowMs: number): void {
    if (nowMs - this.lastExposureMs >= kExposureEverySec * 1000) this.flush(nowMs);
  }

  /** Writes the exposures not yet written (also at close, so nothing assigned is left out). */
  flush(nowMs: number): void {
    this.lastExposureMs = nowMs;
    const counts = new Map<string, number>();
    const arms: { label: string; weight: number; control: boolean }[] = [];
    for (const e of this.experiments.experiments) {
      for (const arm of e.arms) {
        const total = this.reader.sum(this.offsets.requests + arm.metricSlot);
        const delta = total - this.exposed[arm.metricSlot];
        this.exposed[arm.metricSlot] = total;
        if (delta > 0) counts.set(arm.label, delta);
        arms.push({ label: arm.label, weight: arm.weight, control: arm.control });
      }
    }
    if (counts.size > 0) this.o.events.exposures(arms, counts, nowMs);
  }

  private index(): void {
    this.slotOf.clear();
    for (const l of this.experiments.labels) this.slotOf.set(`${l.experiment}:${l.arm}`, l.slot);
  }
}
