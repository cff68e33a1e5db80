/**
 * The money loop's cost: the bidder with budgets, pacing, frequency caps, signed notices and
 * the event log all on, against the bidder as the layout issue left it (a reference build of
 * that commit, in the same run), on the same traffic. The load generator acts as an
 * exchange: it fires a bid's burl (and nurl) at `--win-rate`, and its lurl for the rest, at
 * a realistic rate of notices per bid. Rounds alternate which server goes first; the ratios
 * are medians over rounds (this machine's speed moves between minutes, not within a pair).
 *
 *   npm run bench:money [-- --duration 15] [--rounds 3] [--connections 16] [--win-rate 0.2] [--reference 47b3b23]
 *
 * Goal (issue 10): throughput and CPU per bid request within 10% of the reference.
 */
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { buildReference, resolveCommit } from './gate/reference';
import { CostMeter, startServer, type RunningServer } from './lib/proc';
import { CORPUS_DIR, REPO_ROOT } from './scenarios';

/** The commit the layout issue (issue 9) was resolved at. */
const kLayoutCommit = '47b3b23';

interface Arm {
  name: 'reference' | 'money-bids' | 'money';
  root: string;
  env: Record<string, string>;
  fireNotices: boolean;
}

interface ArmResult {
  rps: number;
  p50Us: number;
  p99Us: number;
  cpuMsPer1000: number;
  bids: number;
  notices: number;
  noticeErrors: number;
}

/** The sample campaigns with a budget (large: no campaign runs dry in a run), asap pacing and a cap on each. */
function budgetedCampaigns(dir: string): string {
  const file = JSON.parse(readFileSync(resolve(REPO_ROOT, 'campaigns/sample-campaigns.json'), 'utf8')) as { campaigns: Record<string, unknown>[] };
  for (const c of file.campaigns) {
    c.budget = { dailyUsd: 1_000_000, totalUsd: 10_000_000, timezone: 'America/New_York' };
    c.pacing = 'asap';
    c.frequencyCaps = [{ max: 1_000, windowSec: 3_600 }];
  }
  const out = join(dir, 'budgeted-campaigns.json');
  writeFileSync(out, JSON.stringify(file));
  return out;
}

/** The 2.6 simple banner with a fresh id and one of 10,000 users per request. */
function bodies(): Buffer[] {
  const sample = JSON.parse(readFileSync(resolve(CORPUS_DIR, 'spec-examples/bid-request/2.6/simple-banner.json'), 'utf8')) as Record<string, unknown>;
  return Array.from({ length: 2_000 }, (_, i) => Buffer.from(JSON.stringify({ ...sample, id: `money-${i}`, user: { id: `user-${(i * 7919) % 10_000}` } })));
}

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', () => res(0));
    req.end();
  });
}

function post(agent: Agent, port: number, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/openrtb2/bid', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', () => res({ status: 0, text: '' }));
    req.end(body);
  });
}

/** Closed loop for `durationS`: each connection posts, and plays the exchange's notices for bids it gets. */
async function drive(server: RunningServer, payloads: Buffer[], o: { durationS: number; connections: number; winRate: number; fireNotices: boolean }): Promise<ArmResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections * 2 });
  const noticeAgent = new Agent({ keepAlive: true, maxSockets: 8 });
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000, numberOfSignificantValueDigits: 3 });
  const meter = new CostMeter(server.pid);
  const end = performance.now() + o.durationS * 1000;
  let done = 0;
  let bids = 0;
  let notices = 0;
  let noticeErrors = 0;
  let next = 0;
  const pendingNotices = new Set<Promise<void>>();
  const fire = (url: string, macros: Record<string, string>): void => {
    let u = url;
    for (const [k, v] of Object.entries(macros)) u = u.split('${' + k + '}').join(v);
    const parsed = new URL(u);
    notices++;
    const p = get(noticeAgent, server.port, parsed.pathname + parsed.search).then((s) => {
      if (s !== 204) noticeErrors++;
    });
    pendingNotices.add(p);
    void p.finally(() => pendingNotices.delete(p));
  };
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const body = payloads[next++ % payloads.length];
      const t0 = performance.now();
      const r = await post(agent, server.port, body);
      h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      done++;
      if (r.status !== 200 || !o.fireNotices) continue;
      const bid = (JSON.parse(r.text) as { id: string; seatbid: { bid: { price: number; nurl?: string; burl?: string; lurl?: string }[] }[] });
      for (const sb of bid.seatbid) {
        for (const b of sb.bid) {
          bids++;
          if (b.nurl === undefined || b.burl === undefined || b.lurl === undefined) continue;
          const clearing = (b.price * 0.8).toFixed(4);
          if (Math.random() < o.winRate) {
            fire(b.nurl, { AUCTION_PRICE: clearing, AUCTION_ID: bid.id, AUCTION_CURRENCY: 'USD' });
            fire(b.burl, { AUCTION_PRICE: clearing, AUCTION_ID: bid.id, AUCTION_CURRENCY: 'USD' });
          } else {
            fire(b.lurl, { AUCTION_PRICE: '', AUCTION_ID: bid.id, AUCTION_LOSS: '102', AUCTION_MIN_TO_WIN: (b.price * 1.1).toFixed(4) });
          }
        }
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.connections }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const cost = meter.finish(done);
  await Promise.all([...pendingNotices]);
  agent.destroy();
  noticeAgent.destroy();
  return { rps: done / elapsed, p50Us: h.getValueAtPercentile(50), p99Us: h.getValueAtPercentile(99), cpuMsPer1000: cost.cpuMsPer1000, bids, notices, noticeErrors };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '15' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' },
      'win-rate': { type: 'string', default: '0.2' }, reference: { type: 'string', default: kLayoutCommit },
    },
  });
  const durationS = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const winRate = Number(values['win-rate']);
  const commit = resolveCommit(REPO_ROOT, values.reference!);
  if (!commit.ok) throw new Error(commit.reason);
  process.stderr.write(`bench:money: building the reference ${commit.commit.slice(0, 7)}...\n`);
  const ref = buildReference(REPO_ROOT, commit.commit);
  if (!ref.ok) throw new Error(ref.reason);
  const work = mkdtempSync(join(tmpdir(), 'bench-money-'));
  const keyFile = join(work, 'notice.key');
  writeFileSync(keyFile, Buffer.alloc(32, 0x42));
  // The sample creatives' own trackers point at example hosts that do not resolve: firing them
  // would measure failing DNS lookups, so the bench turns advertiser trackers off.
  const moneyEnv = {
    BIDDER_MODEL: 'ctr-logreg', BIDDER_CAMPAIGNS_FILE: budgetedCampaigns(work), BIDDER_NOTICE_KEY_FILE: keyFile, BIDDER_EVENTS_DIR: join(work, 'events'),
    BIDDER_FIRE_ADVERTISER_TRACKERS: '0',
  };
  // Three arms: the layout issue's bidder; the money loop's bid path alone (budgets, caps,
  // reservations, signed notice URLs, bid records: no notices come back); and the whole loop
  // with the generator playing the exchange's notices, which the bidder must also serve.
  const arms: Arm[] = [
    { name: 'reference', root: ref.root, env: { BIDDER_MODEL: 'ctr-logreg' }, fireNotices: false },
    { name: 'money-bids', root: REPO_ROOT, fireNotices: false, env: moneyEnv },
    { name: 'money', root: REPO_ROOT, fireNotices: true, env: moneyEnv },
  ];
  const payloads = bodies();
  const results: Record<Arm['name'], ArmResult[]> = { reference: [], 'money-bids': [], money: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? arms : [...arms].reverse();
      // The reference runs between the others every other round, so no arm always meets the same minute.
      for (const arm of order) {
        const server = await startServer(arm.root, { name: arm.name, script: 'dist/src/main.js', args: [], readyPath: '/readyz', env: arm.env, opsListener: true, stderr: 'ignore' });
        try {
          await drive(server, payloads, { durationS: 2, connections, winRate, fireNotices: arm.fireNotices }); // warm
          const r = await drive(server, payloads, { durationS, connections, winRate, fireNotices: arm.fireNotices });
          results[arm.name].push(r);
          process.stderr.write(`round ${round + 1} ${arm.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Us} us, p99 ${r.p99Us} us, ${r.cpuMsPer1000} CPU ms/1000, ${r.notices} notices (${r.noticeErrors} not 204)\n`);
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    ref.cleanup();
  }
  const ratios = (arm: 'money-bids' | 'money') => {
    const ratio = (f: (r: ArmResult) => number): number => Number(median(results[arm].map((m, i) => f(m) / f(results.reference[i]))).toFixed(3));
    return { throughput: ratio((r) => r.rps), cpuPerRequest: ratio((r) => r.cpuMsPer1000), p50: ratio((r) => r.p50Us), p99: ratio((r) => r.p99Us) };
  };
  const extraCpuPerNoticeUs = median(results.money.map((m, i) => ((m.cpuMsPer1000 - results['money-bids'][i].cpuMsPer1000) * 1000) / 1000 / Math.max(0.001, m.notices / Math.max(1, m.bids))));
  const summary = {
    reference: commit.commit.slice(0, 7),
    rounds, durationS, connections, winRate,
    bidPath: ratios('money-bids'),
    withNotices: ratios('money'),
    cpuPerNoticeUs: Number(extraCpuPerNoticeUs.toFixed(1)),
    noticesPerBid: Number((results.money.reduce((n, r) => n + r.notices, 0) / Math.max(1, results.money.reduce((n, r) => n + r.bids, 0))).toFixed(3)),
    noticeErrors: results.money.reduce((n, r) => n + r.noticeErrors, 0),
    goal: 'bid path: throughput >= 0.90 and CPU per request <= 1.10 of the reference',
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`bench:money: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
