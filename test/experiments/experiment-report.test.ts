/**
 * The experiment report over event files written with the real encoder and writer: exact
 * figures per arm (requests from exposure counts, bids, distinct bidding requests, wins,
 * bills, spend, eCPM, clicks, CTR, surplus), the join of notices without arms to their bids,
 * test traffic left out, a record in two experiments counted in both, the control from the
 * exposure records or the caller, the sample-ratio check flagged and not, and lifts that
 * exclude 0 and (A/A) do not.
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent, EventEncoder, type DecodedEvent, type EventFields } from '../../src/codec/event-records';
import { readEventFolder } from '../../src/events/event-file';
import { EventLogWriter } from '../../src/events/event-log-writer';
import { buildExperimentReport, parseArmList, type ArmReport, type ExperimentReport } from '../../src/experiments/experiment-report';
import { writeScenario } from '../helpers/experiment-scenario';

const enc = new EventEncoder();

function rec(kind: EventFields['kind'], extra: Partial<EventFields> = {}): DecodedEvent {
  return decodeEvent(enc.encode({
    kind, timeMs: 1_800_000_000_000, requestId: '', impId: '1', bidId: '', campaignId: 'c1', creativeId: 'cr', priceMicros: 0, currency: 'USD',
    clearingMicros: -1, costMicros: 0, lossReason: -1, minToWinMicros: -1, modelVersion: 'ctr@1', arm: '', test: false, instanceId: 'i-1', ...extra,
  }).slice());
}

function arm(e: ExperimentReport, id: string): ArmReport {
  const a = e.arms.find((x) => x.armId === id);
  if (a === undefined) throw new Error(`no arm ${id}`);
  return a;
}

/** An experiment of two arms: exposures and, per arm, `bidders` requests with one bid each, `wins` of them won. */
function twoArms(experimentId: string, arms: [string, number, number, number][], control: string): DecodedEvent[] {
  const out: DecodedEvent[] = [];
  for (const [armId, requests, bidders, wins] of arms) {
    const pair = `${experimentId}:${armId}`;
    out.push(rec('exposure', { arm: pair, count: requests, weight: 50, control: armId === control }));
    for (let i = 0; i < bidders; i++) out.push(rec('bid', { arm: pair, requestId: `${pair}-r${i}`, bidId: `${pair}-b${i}` }));
    for (let i = 0; i < wins; i++) out.push(rec('win', { arm: pair, requestId: `${pair}-r${i}`, bidId: `${pair}-b${i}` }));
  }
  return out;
}

t.test('parseArmList: pairs, none, and malformed parts dropped and counted', async (t) => {
  t.same(parseArmList(''), { pairs: [], malformed: 0 });
  t.same(parseArmList('e1:A'), { pairs: [{ experimentId: 'e1', armId: 'A' }], malformed: 0 });
  t.same(parseArmList('e1:A,e2:B:x'), { pairs: [{ experimentId: 'e1', armId: 'A' }, { experimentId: 'e2', armId: 'B:x' }], malformed: 0 }, 'split at the first colon');
  t.same(parseArmList('e1,:A,e2:,e3:C'), { pairs: [{ experimentId: 'e3', armId: 'C' }], malformed: 3 });
});

t.test('exact figures per arm from event files written by the real writer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'experiments-'));
  await writeScenario(dir);
  const records = readEventFolder(dir, (m) => t.fail(m));
  const { experiments, counts } = buildExperimentReport(records);
  t.same(experiments.map((e) => e.experimentId), ['e1', 'e2']);
  t.same(counts, { records: records.length, testRecords: 3, malformedArms: 0 });
  const e1 = experiments[0];
  t.equal(e1.controlArmId, 'A');
  t.equal(e1.controlSource, 'flag');
  t.equal(e1.hasClicks, true);
  t.same(e1.arms.map((a) => a.armId), ['A', 'B'], 'the control first');
  const { lift: liftA, ...a } = arm(e1, 'A');
  t.same(a, {
    armId: 'A', control: true, weight: 50, requests: 1000, biddingRequests: 200, bids: 250, wins: 100, bills: 80, clicks: 4,
    bidRate: 0.2, winRate: 0.4, ctr: 0.04, spendUsd: 0.16, spendPerRequestUsd: 0.00016, ecpmUsd: 2,
    surplus: [{ currency: 'USD', amount: 0.08, impressions: 80 }],
  });
  t.equal(liftA, null, 'the control has no lift');
  const { lift: liftB, ...b } = arm(e1, 'B');
  t.same(b, {
    armId: 'B', control: false, weight: 50, requests: 1000, biddingRequests: 300, bids: 300, wins: 150, bills: 150, clicks: 9,
    bidRate: 0.3, winRate: 0.5, ctr: 0.06, spendUsd: 0.375, spendPerRequestUsd: 0.000375, ecpmUsd: 2.5,
    surplus: [{ currency: 'USD', amount: 0.0375, impressions: 75 }],
  }, 'bills without arms joined to their bids; surplus only where the value is known');
  t.equal(e1.srm!.chi2, 0);
  t.equal(e1.srm!.mismatch, false);
  // Bid rate 0.3 vs 0.2 over 1,000 requests each: +50%, far from 0.
  t.ok(Math.abs(liftB!.bidRate!.lift - 0.5) < 1e-12);
  t.equal(liftB!.bidRate!.significant, true, `bid rate CI [${liftB!.bidRate!.low}, ${liftB!.bidRate!.high}] excludes 0`);
  t.ok(liftB!.bidRate!.low > 0.28 && liftB!.bidRate!.high < 0.76);
  t.ok(Math.abs(liftB!.winRate!.lift - 0.25) < 1e-12, 'win rate 0.5 / 0.4 - 1');
  t.ok(Math.abs(liftB!.ctr!.lift - 0.5) < 1e-12, 'CTR 0.06 / 0.04 - 1');
  t.equal(liftB!.ctr!.significant, false, '4 and 9 clicks decide nothing');
  t.ok(Math.abs(liftB!.spendPerRequest!.lift - 1.34375) < 1e-12, 'spend per request 375 / 160 micro-USD - 1');
  t.equal(liftB!.spendPerRequest!.significant, true);

  const e2 = experiments[1];
  t.same([e2.controlArmId, e2.controlSource, e2.srm, e2.hasClicks], [null, 'none', null, false], 'e2: no exposures, no control');
  const x = arm(e2, 'X');
  t.same([x.requests, x.bids, x.biddingRequests, x.wins, x.bidRate, x.ctr, x.lift], [0, 50, 50, 50, null, null, null], 'A\'s first 50 bids were also in e2:X');

  const only = buildExperimentReport(records, { experimentId: 'e2' }).experiments;
  t.same(only.map((e) => e.experimentId), ['e2']);
  const flipped = buildExperimentReport(records, { experimentId: 'e1', controlArmId: 'B' }).experiments[0];
  t.same([flipped.controlArmId, flipped.controlSource, flipped.arms.map((a) => a.armId)], ['B', 'option', ['B', 'A']]);
  t.ok(Math.abs(arm(flipped, 'A').lift!.bidRate!.lift - (0.2 / 0.3 - 1)) < 1e-12, 'lifts against the chosen control');
});

t.test('a notice read before its bid still joins; a bid without arms takes its notice\'s', async (t) => {
  const { experiments } = buildExperimentReport([
    rec('exposure', { arm: 'e:A', count: 10, weight: 1, control: true }),
    rec('bill', { bidId: 'b1', requestId: 'r1', costMicros: 700, clearingMicros: 1_000_000 }),
    rec('bid', { bidId: 'b1', requestId: 'r1', arm: 'e:A', valueMicros: 1_500_000 }),
    rec('bid', { bidId: 'b2', requestId: 'r2' }),
    rec('win', { bidId: 'b2', requestId: 'r2', arm: 'e:A' }),
    rec('loss', { bidId: 'b3', requestId: 'r3', arm: 'e:A' }),
    rec('shadow', { arm: 'e:A', ctr: 0.1, shadowModel: 'm@2', shadowCtr: 0.2 }),
  ]);
  const a = arm(experiments[0], 'A');
  t.same([a.bids, a.biddingRequests, a.wins, a.bills, a.spendUsd, a.surplus], [2, 2, 1, 1, 0.0007, [{ currency: 'USD', amount: 0.0005, impressions: 1 }]]);
  t.same([a.clicks, a.ctr], [0, null], 'no click record in the experiment: no CTR');
});

t.test('sample-ratio mismatch: 5,300 vs 4,700 at 50/50 is flagged, 5,050 vs 4,950 is not', async (t) => {
  const split = (a: number, b: number): ExperimentReport => buildExperimentReport([
    rec('exposure', { arm: 'e:A', count: a / 2, weight: 50, control: true }),
    rec('exposure', { arm: 'e:A', count: a / 2, weight: 50, control: true, instanceId: 'i-2' }),
    rec('exposure', { arm: 'e:B', count: b, weight: 50 }),
  ]).experiments[0];
  const bad = split(5300, 4700);
  t.same([arm(bad, 'A').requests, arm(bad, 'B').requests], [5300, 4700], 'exposure counts summed over instances');
  t.equal(bad.srm!.chi2, 36);
  t.equal(bad.srm!.mismatch, true);
  t.ok(bad.srm!.pValue < 1e-8);
  const ok = split(5050, 4950);
  t.equal(ok.srm!.chi2, 1);
  t.equal(ok.srm!.mismatch, false);
  t.ok(Math.abs(ok.srm!.pValue - 0.3173105) < 1e-6);
  const unweighted = buildExperimentReport([rec('exposure', { arm: 'e:A', count: 5 }), rec('exposure', { arm: 'e:B', count: 5, weight: 1 })]).experiments[0];
  t.equal(unweighted.srm, null, 'a weight unknown: no check');
});

t.test('lifts: a real difference excludes 0, an A/A test includes it', async (t) => {
  const real = buildExperimentReport(twoArms('e', [['A', 10_000, 2000, 800], ['B', 10_000, 2400, 1000]], 'A')).experiments[0];
  const l = arm(real, 'B').lift!;
  t.ok(Math.abs(l.bidRate!.lift - 0.2) < 1e-12);
  t.equal(l.bidRate!.significant, true, `bid rate +20%: [${l.bidRate!.low.toFixed(4)}, ${l.bidRate!.high.toFixed(4)}]`);
  t.ok(l.bidRate!.low > 0);
  t.ok(Math.abs(l.winRate!.lift - (1000 / 2400 / 0.4 - 1)) < 1e-12);
  const aa = buildExperimentReport(twoArms('aa', [['A', 10_000, 2000, 800], ['A2', 10_000, 2030, 805]], 'A')).experiments[0];
  const m = arm(aa, 'A2').lift!;
  for (const [name, x] of [['bid rate', m.bidRate!], ['win rate', m.winRate!]] as const) {
    t.ok(x.low < 0 && x.high > 0, `A/A ${name}: [${x.low.toFixed(4)}, ${x.high.toFixed(4)}] holds 0`);
    t.equal(x.significant, false);
  }
  t.equal(m.spendPerRequest, null, 'no spend: no spend lift');
  t.equal(m.ctr, null, 'no clicks: no CTR lift');
});

t.test('several controls flagged: the first by arm id; test traffic never counts', async (t) => {
  const { experiments, counts } = buildExperimentReport([
    rec('exposure', { arm: 'e:Z', count: 5, weight: 1, control: true }),
    rec('exposure', { arm: 'e:M', count: 5, weight: 1, control: true }),
    rec('bid', { arm: 'e:M', bidId: 'b', requestId: 'r', test: true }),
    rec('exposure', { arm: 'e:M', count: 1000, weight: 1, control: true, test: true }),
  ]);
  t.equal(experiments[0].controlArmId, 'M');
  t.same(experiments[0].arms.map((a) => [a.armId, a.control, a.requests, a.bids]), [['M', true, 5, 0], ['Z', false, 5, 0]]);
  t.equal(counts.testRecords, 2);
});

t.test('an empty folder: no experiments', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'experiments-empty-'));
  const w = new EventLogWriter({ dir, instanceId: 'i', maxFileBytes: 1 << 20, maxFileAgeSec: 3600 });
  await w.close();
  t.same(buildExperimentReport(readEventFolder(dir, () => {})).experiments, []);
});
