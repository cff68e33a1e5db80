/**
 * The money owner on a simulated clock, with a fake fleet where one is needed: notices are
 * counted once (locally, and across the fleet for bills), a bill spends and releases its own
 * bid's reservation only, another instance's bill spends without touching ours, losses give
 * reservations back, expiry frees what no notice claimed, days turn over in the campaign's
 * zone, leases top up and come back at the day's end, pacing sets participation.
 */
import t from 'tap';
import { parseCampaigns } from '../../src/decisioning/campaign-loader';
import type { Campaign } from '../../src/decisioning/campaign-types';
import { BudgetLedger, ledgerBytes, shapeFor } from '../../src/money/budget-ledger';
import { allocateCapTable, FrequencyCaps } from '../../src/money/frequency-caps';
import { MoneyOwner, type FleetPort } from '../../src/money/money-owner';
import type { ReadNotice } from '../../src/notices/notice-request';

const shape = shapeFor(300);

function campaigns(extra: Record<string, unknown> = {}): Campaign[] {
  const r = parseCampaigns({
    campaigns: [{
      id: 'c1', name: 'c1', advertiserDomain: 'a.example', iabCategories: ['IAB1'], goal: { type: 'CPM', cpmUsd: 2 }, maxCpmUsd: 5,
      creatives: [{ id: 'cr1', banner: { w: 300, h: 250, adm: '<b>' } }],
      budget: { dailyUsd: 0.1, timezone: 'UTC' }, pacing: 'asap', frequencyCaps: [{ max: 2, windowSec: 3600 }], ...extra,
    }],
  });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.campaigns;
}

function notice(kind: ReadNotice['kind'], bidId: string, issuedAtSec: number, o: Partial<ReadNotice> & { test?: boolean; user?: { hi: number; lo: number } | null } = {}): ReadNotice {
  return {
    kind,
    claims: {
      requestId: 'r', impId: '1', bidId, campaignId: 'c1', creativeId: 'cr1', priceMicros: 2_000_000, currency: 'USD', issuedAtSec,
      modelVersion: 'm', arm: '', test: o.test ?? false, user: o.user ?? { hi: 1, lo: 2 },
    },
    clearingMicros: o.clearingMicros ?? 1_500_000, lossReason: -1, minToWinMicros: -1, anomalies: [],
  };
}

function setup(fleet?: FleetPort, extra: Record<string, unknown> = {}) {
  const list = campaigns(extra);
  const ledger = new BudgetLedger(new SharedArrayBuffer(ledgerBytes(list.length, shape)), list.length, shape);
  const caps = new FrequencyCaps(allocateCapTable(1024));
  const owner = new MoneyOwner({ campaigns: list, ledger, caps, fxRates: {}, noticeMaxAgeSec: 3600, reservationTtlSec: 300, bidIdPrefix: 'me.', fleet, leaseSliceMicros: 20_000 });
  return { list, ledger, caps, owner };
}

const t0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const s0 = t0 / 1000;

t.test('embedded: a bill spends at the clearing price and frees its reservation; a repeat counts nothing', async (t) => {
  const { ledger, owner } = setup();
  owner.start(t0);
  t.equal(ledger.available(0), 100_000, 'the day allows 0.10 USD');
  t.ok(ledger.tryReserve(0, 2_000, s0));
  const first = await owner.take(notice('bill', 'me.1', s0), t0 + 500);
  t.match(first, { result: 'accepted', costMicros: 1_500 });
  t.equal(ledger.reserved(0), 0, 'the reservation is released');
  t.equal(ledger.available(0), 98_500);
  const again = await owner.take(notice('bill', 'me.1', s0), t0 + 900);
  t.equal(again.result, 'repeat');
  t.equal(ledger.spentDay(0), 1_500, 'spent once');
  t.same(owner.counters.notices.bill, { accepted: 1, repeat: 1 });
});

t.test("another instance's bill spends here but releases none of our reservations", async (t) => {
  const { ledger, owner } = setup();
  owner.start(t0);
  t.ok(ledger.tryReserve(0, 2_000, s0));
  await owner.take(notice('bill', 'peer.9', s0), t0 + 10);
  t.equal(ledger.reserved(0), 2_000, 'our own bid still holds its reservation');
  t.equal(ledger.spentDay(0), 1_500);
});

t.test('a loss releases; expiry frees a reservation nothing claimed; test traffic never spends', async (t) => {
  const { ledger, owner } = setup();
  owner.start(t0);
  ledger.tryReserve(0, 2_000, s0);
  ledger.tryReserve(0, 2_000, s0);
  await owner.take(notice('loss', 'me.2', s0), t0 + 100);
  t.equal(ledger.reserved(0), 2_000);
  owner.tick(t0 + 200_000);
  t.equal(ledger.reserved(0), 2_000, 'not yet: younger than the TTL');
  owner.tick(t0 + 400_000);
  t.equal(ledger.reserved(0), 0, 'expired after the TTL');
  await owner.take(notice('bill', 'me.3', s0 + 400, { test: true }), t0 + 401_000);
  t.equal(ledger.spentDay(0), 0, 'test = 1 spends nothing');
});

t.test('caps count billed impressions per user; unknown campaigns are counted apart', async (t) => {
  const { caps, owner, list } = setup();
  owner.start(t0);
  await owner.take(notice('bill', 'me.a', s0), t0);
  t.notOk(caps.capped(0, list[0].frequencyCaps, 1, 2, s0));
  await owner.take(notice('bill', 'me.b', s0), t0);
  t.ok(caps.capped(0, list[0].frequencyCaps, 1, 2, s0), 'two bills reach max 2');
  t.notOk(caps.capped(0, list[0].frequencyCaps, 1, 3, s0), 'another user is free');
  const n = notice('bill', 'me.c', s0);
  n.claims.campaignId = 'gone';
  t.equal((await owner.take(n, t0)).unknownCampaign, true);
  t.equal(owner.counters.unknownCampaign, 1);
});

t.test("the day turns in the campaign's zone: the allowance comes back, spent-today resets", async (t) => {
  const { ledger, owner } = setup(undefined, { budget: { dailyUsd: 0.1, totalUsd: 0.15, timezone: 'Asia/Tokyo' } });
  const evening = Date.UTC(2026, 11, 2, 14, 0); // 23:00 in Tokyo
  owner.start(evening);
  await owner.take(notice('bill', 'me.x', evening / 1000, { clearingMicros: 5_000_000 }), evening);
  t.equal(ledger.spentDay(0), 5_000);
  owner.tick(evening + 2 * 3600_000); // 01:00 the next day in Tokyo
  t.equal(ledger.spentDay(0), 0);
  t.equal(ledger.available(0), 100_000, 'a new daily allowance');
  owner.tick(evening + 2 * 3600_000 + 1000);
  // Total 0.15 USD: after 5,000 spent the total left (145,000) is above the daily 100,000.
  t.equal(ledger.spentTotal(0), 5_000);
});

t.test('even pacing sets a participation rate; asap bids at full rate', async (t) => {
  const even = setup(undefined, { pacing: 'even' });
  even.owner.start(t0);
  t.ok(even.ledger.throttle(0) < 1_000_000, `even starts below full participation (${even.ledger.throttle(0)} ppm)`);
  const asap = setup();
  asap.owner.start(t0);
  t.equal(asap.ledger.throttle(0), 1_000_000);
});

t.test("pacing's figures for the alerts: the spend it steered on and the even target by then", async (t) => {
  const even = setup(undefined, { pacing: 'even' });
  even.owner.start(t0); // 10:00 UTC: 10/24 of the day gone
  t.same(even.owner.pacingFigures(0), { spentMicros: 0, targetMicros: Math.round(100_000 * (10 / 24)) });
  await even.owner.take(notice('bill', 'me.p', s0, { clearingMicros: 10_000_000 }), t0);
  even.owner.tick(t0 + 60_000);
  const later = even.owner.pacingFigures(0)!;
  t.equal(later.spentMicros, 10_000, 'the bill (10.00 CPM: 10,000 micro-USD) is in the spend pacing saw');
  t.equal(later.targetMicros, Math.round(100_000 * ((10 * 60 + 1) / (24 * 60))), 'the target moved with the clock');
  const asap = setup();
  asap.owner.start(t0);
  t.equal(asap.owner.pacingFigures(0), null, 'asap is not paced: no figures, so no series and no alert');
});

/** A fleet whose Redis the test controls. */
class FakeFleet implements FleetPort {
  up = true;
  remaining = 100_000;
  leases: number[] = [];
  returned = 0;
  claimed = new Set<string>();
  async leaseBudget(_c: string, _d: string, _daily: number | null, _total: number | null, slice: number) {
    if (!this.up) return { ok: false as const, code: 'FLEET_DOWN' };
    const g = Math.min(slice, this.remaining);
    this.remaining -= g;
    this.leases.push(g);
    return { ok: true as const, grantedMicros: g };
  }
  async returnLease(_c: string, _d: string, micros: number) {
    this.returned += micros;
    this.remaining += micros;
  }
  async addSpend() {}
  async claimNotice(key: string) {
    if (!this.up) return 'unknown' as const;
    if (this.claimed.has(key)) return 'repeat' as const;
    this.claimed.add(key);
    return 'first' as const;
  }
  async incrementCaps() {
    return null;
  }
  capKey(c: string, i: number, u: string, w: number) {
    return `${c}:${i}:${u}:${w}`;
  }
}

const settle = () => new Promise((r) => setImmediate(r));

t.test('fleet: leases top up below half a slice, never past the budget; a bill claimed elsewhere is a repeat', async (t) => {
  const fleet = new FakeFleet();
  const { ledger, owner } = setup(fleet);
  owner.start(t0);
  await settle();
  t.equal(ledger.available(0), 20_000, 'one slice leased at start');
  for (let i = 0; i < 6; i++) ledger.tryReserve(0, 2_000, s0);
  owner.tick(t0 + 1000);
  await settle();
  t.equal(ledger.available(0), 40_000, 'a second slice once less than half a slice was free');
  fleet.claimed.add('bill:me.7');
  const r = await owner.take(notice('bill', 'me.7', s0), t0 + 1500);
  t.equal(r.result, 'repeat', 'another instance counted this bill');
  t.equal(ledger.spentDay(0), 0);
  fleet.up = false;
  for (let i = 0; i < 20; i++) owner.tick(t0 + 2000 + i * 1000);
  await settle();
  t.equal(fleet.leases.length, 2, 'no lease while Redis is down: the ones held run dry');
  t.equal(fleet.leases.reduce((a, b) => a + b, 0) + fleet.remaining, 100_000, 'leases are taken from the budget, never beyond it');
});

t.test('fleet: at the day end the unspent lease goes back', async (t) => {
  const fleet = new FakeFleet();
  const { ledger, owner } = setup(fleet);
  const late = Date.UTC(2026, 11, 2, 23, 59, 0);
  owner.start(late);
  await settle();
  await owner.take(notice('bill', 'me.z', late / 1000, { clearingMicros: 3_000_000 }), late);
  t.equal(ledger.available(0), 17_000);
  owner.tick(late + 120_000);
  await settle();
  t.equal(fleet.returned, 17_000, 'what was left of the lease returned');
  t.equal(ledger.spentDay(0), 0);
});
