/**
 * Entry point of the money owner's thread (money-service.ts starts it): the one thread that
 * writes budgets, reservations' releases, spend and cap counts (money-owner.ts), talks to
 * Redis (fleet-store.ts), fires advertiser trackers and writes the event log. No bidding
 * loop ever waits for it: acceptors hand it notices, and engine threads bid records,
 * through shared-memory rings it drains on a short timer.
 *
 * This thread holds no uWS socket, so it may end at any time; on `close` it drains what is
 * left, flushes the event log and closes Redis before it says `closed`.
 */
import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { ArmAudit } from './arm-audit';
import { parseCampaigns } from '../decisioning/campaign-loader';
import { ALL_ERROR_CODES } from '../errors';
import { EventRing } from '../events/event-ring';
import { buildMetricsLayout, M, NOTICE_KINDS, OutcomeTable } from '../metrics/definitions';
import { claimSlot, kMaxSlots, SlotWriter } from '../metrics/shared-metrics';
import { NOTICE_ANOMALIES, readNotice } from '../notices/notice-request';
import { kMacAlreadyVerified } from '../notices/notice-token';
import { TrackerFirer } from '../notices/tracker-firer';
import { BudgetLedger } from './budget-ledger';
import { FleetStore } from './fleet-store';
import { FrequencyCaps } from './frequency-caps';
import { MoneyEvents } from './money-events';
import { MoneyOwner, type FleetPort, type NoticeOutcome } from './money-owner';
import type { MoneyMessage, MoneyReply, MoneyWorkerInit } from './money-protocol';
import { MoneyStatsWriter } from './money-stats';
import { drainNotices } from './notice-handoff';

/** How often the notice and event rings are drained. Notices are not latency-critical; a wake-up costs CPU. */
const kPumpMs = 20;
const kTickMs = 1_000;

const port = parentPort!;
const init = workerData as MoneyWorkerInit;
const post = (m: MoneyReply): void => port.postMessage(m);

async function main(): Promise<void> {
  const parsed = parseCampaigns(JSON.parse(init.campaignsJson));
  if (!parsed.ok) throw new Error(`campaigns rejected: ${parsed.errors.join('; ')}`);
  const campaigns = parsed.campaigns;
  const cfg = init.money;
  const shared = init.shared;
  const instanceId = shared.instanceId;

  const layout = buildMetricsLayout(new OutcomeTable(ALL_ERROR_CODES), kMaxSlots - 1);
  const slot = claimSlot(init.metrics, threadId);
  const metrics = new SlotWriter(layout, slot < 0 ? layout.allocate() : init.metrics, slot < 0 ? 1 : slot);
  const counted = new Map<string, number>();
  for (const kind of NOTICE_KINDS) for (const c of ['first', 'repeat']) counted.set(`${kind}:${c}`, layout.offset(M.noticesCounted, [kind, c]));
  const anomalies = new Map(NOTICE_ANOMALIES.map((a) => [a, layout.offset(M.noticeAnomalies, [a])]));
  const delay = new Map(NOTICE_KINDS.map((k) => [k, metrics.histogram(M.noticeDelay, [k])]));

  let fleet: FleetStore | undefined;
  if (cfg.redisUrl !== '') {
    fleet = FleetStore.open({ url: cfg.redisUrl, cluster: cfg.redisCluster, instanceId, log: (m: string) => post({ type: 'log', message: m }) });
  }
  const ledger = new BudgetLedger(shared.ledger, campaigns.length, shared.ledgerShape);
  const caps = new FrequencyCaps(shared.caps);
  const stats = new MoneyStatsWriter(init.stats, campaigns);
  const trackers = cfg.fireAdvertiserTrackers ? new TrackerFirer(init.seatId) : null;
  const events = new MoneyEvents({ cfg, shared, instanceId, fleet, metrics, layout, modelVersion: init.modelVersion });
  const creativesById = new Map(campaigns.flatMap((c) => c.creatives.map((cr) => [`${c.id}/${cr.id}`, cr] as const)));
  // Experiments and shading: per-arm outcomes, exposure records, the win-rate learner.
  const audit = init.lifecycle === undefined ? null : new ArmAudit({ lifecycle: init.lifecycle, metrics, layout, metricsBuffer: init.metrics, events });
  const channel = init.lifecycle === undefined ? null : new BroadcastChannel(init.lifecycle.channel);
  if (channel !== null) {
    (channel as unknown as { unref?: () => void }).unref?.();
    channel.onmessage = (event: unknown) => audit?.onRegistryMessage((event as { data: unknown }).data);
  }

  const onOutcome = (o: NoticeOutcome): void => {
    const kind = o.notice.kind;
    metrics.inc(counted.get(`${kind}:${o.result === 'repeat' ? 'repeat' : 'first'}`)!);
    if (o.result === 'repeat') return;
    for (const a of o.notice.anomalies) metrics.inc(anomalies.get(a)!);
    metrics.observe(delay.get(kind)!, o.delaySec);
    events.notice(o, Date.now());
    stats.record(o);
    audit?.outcome(o);
    const c = o.notice.claims;
    const creative = creativesById.get(`${c.campaignId}/${c.creativeId}`);
    const template = creative === undefined ? undefined : kind === 'win' ? creative.nurl : kind === 'bill' ? creative.burl : creative.lurl;
    if (trackers !== null && template !== undefined && !c.test) void trackers.fire(template, o.notice);
  };
  const owner = new MoneyOwner({
    campaigns,
    ledger,
    caps,
    fxRates: init.fxRates,
    noticeMaxAgeSec: shared.noticeMaxAgeSec,
    reservationTtlSec: cfg.reservationTtlSec,
    bidIdPrefix: shared.bidIdPrefix,
    fleet: fleet as FleetPort | undefined,
    leaseSliceMicros: cfg.leaseSliceMicros,
    onOutcome,
  });
  owner.start(Date.now());

  const rings = shared.noticeRings.map((r) => new EventRing(r));
  const pending = new Set<Promise<unknown>>();
  const pump = (): void => {
    const nowMs = Date.now();
    for (const ring of rings) {
      drainNotices(ring, (kind, query, arrivedAtMs) => {
        // Read again here (the acceptor verified its MAC: only the claims are read); age gets
        // a minute of slack for the hand-over.
        const read = readNotice(kind, query, kMacAlreadyVerified, Math.floor(nowMs / 1000), shared.noticeMaxAgeSec + 60);
        if (!read.ok) return;
        const p = owner.take(read.notice, arrivedAtMs);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      });
    }
    events.pump();
    audit?.pump(nowMs);
  };
  const pumpTimer = setInterval(pump, kPumpMs);
  // Counters kept by plain objects on this thread, reported into the shared metrics as deltas.
  const reported = { fired: 0, failed: 0, dropped: 0, fleetFailed: 0, leasesGranted: 0, leasesEmpty: 0 };
  const trackerAt = { fired: layout.offset(M.trackers, ['fired']), failed: layout.offset(M.trackers, ['failed']), dropped: layout.offset(M.trackers, ['dropped']) };
  const fleetFailedAt = layout.offset(M.fleet, ['failed']);
  const leaseGrantedAt = layout.offset(M.fleet, ['lease_granted']);
  const leaseEmptyAt = layout.offset(M.fleet, ['lease_empty']);
  const report = (): void => {
    if (trackers !== null) {
      for (const k of ['fired', 'failed', 'dropped'] as const) {
        const d = trackers.counters[k] - reported[k];
        if (d > 0) metrics.inc(trackerAt[k], d);
        reported[k] = trackers.counters[k];
      }
    }
    if (fleet !== undefined) {
      const d = fleet.counters.failures - reported.fleetFailed;
      if (d > 0) metrics.inc(fleetFailedAt, d);
      reported.fleetFailed = fleet.counters.failures;
      const c = owner.counters;
      if (c.leasesGranted > reported.leasesGranted) metrics.inc(leaseGrantedAt, c.leasesGranted - reported.leasesGranted);
      if (c.leasesEmpty > reported.leasesEmpty) metrics.inc(leaseEmptyAt, c.leasesEmpty - reported.leasesEmpty);
      reported.leasesGranted = c.leasesGranted;
      reported.leasesEmpty = c.leasesEmpty;
    }
  };
  const tickTimer = setInterval(() => {
    owner.tick(Date.now());
    stats.publish(ledger, fleet === undefined ? null : fleet.up, owner);
    report();
    audit?.tick(Date.now());
  }, kTickMs);

  port.on('message', (m: MoneyMessage) => {
    if (m.type === 'stats') {
      post({ type: 'stats', id: m.id, counters: owner.counters, remembered: owner.remembered, events: events.counters, fleetUp: fleet?.up ?? null });
      return;
    }
    if (m.type === 'close') {
      clearInterval(pumpTimer);
      clearInterval(tickTimer);
      pump();
      audit?.flush(Date.now());
      channel?.close();
      void Promise.allSettled([...pending])
        .then(() => events.close())
        .then(() => fleet?.close())
        .then(() => {
          stats.publish(ledger, fleet === undefined ? null : fleet.up, owner);
          report();
          post({ type: 'closed' });
          port.close();
        });
    }
  });
  post({ type: 'ready' });
}

main().catch((err: Error) => {
  post({ type: 'failed', message: err.stack ?? err.message });
  port.close();
});
