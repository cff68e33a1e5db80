/**
 * npm run simulate -- [--requests 20000] [--users 4000] [--seed 1] [--concurrency 8]
 *   [--auction first|second] [--min-to-win 0.5] [--tmax 250] [--experiments file.json]
 *   [--campaigns file.json] [--segments file.json] [--budgets file.json] [--model ctr-mlp]
 *   [--max-duration-s 120] [--no-clicks] [--json] [--out file.json]
 *
 * Plays the exchange against the real bidder (simulator.ts), prints the figures per arm
 * and per experiment beside what the truth predicts for an ideal bidder, and writes the
 * whole result as JSON under bench/results/ (simulate-<time>.json and simulate-latest.json).
 * With --json the JSON goes to stdout too, and the table to stderr.
 *
 * Files: --experiments is the bidder's experiments file; --campaigns a JSON array of
 * simulator campaigns (types.ts SimCampaign); --segments an array of segments (Segment);
 * --budgets an object of budgets by campaign id ({ "sim-cpc-a": { "dailyUsd": 5, "pacing": "asap" } }).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR, timestamp } from '../lib/write-results';
import { predict, type Prediction } from './predict';
import { resolveOptions, runSimulation, SimulatorError } from './simulator';
import type { ArmSummary, SimulationOptions, SimulationResult } from './types';

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SimulatorError('SIM_BAD_OPTIONS', [`--${what} ${file}: ${(err as Error).message}`]);
  }
}

export function optionsFromArgs(argv: string[]): { options: Partial<SimulationOptions>; json: boolean; out: string | undefined } {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string' }, warmup: { type: 'string' }, users: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' },
      auction: { type: 'string' }, 'min-to-win': { type: 'string' }, tmax: { type: 'string' },
      experiments: { type: 'string' }, campaigns: { type: 'string' }, segments: { type: 'string' }, budgets: { type: 'string' },
      model: { type: 'string' }, 'max-duration-s': { type: 'string' }, 'no-clicks': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false }, out: { type: 'string' }, 'events-dir': { type: 'string' },
    },
    strict: true,
  });
  const o: Partial<SimulationOptions> = {};
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const set = <K extends keyof SimulationOptions>(k: K, v: SimulationOptions[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set('requests', num(values.requests));
  set('warmupRequests', num(values.warmup));
  set('users', num(values.users));
  set('seed', num(values.seed));
  set('concurrency', num(values.concurrency));
  set('minToWinShare', num(values['min-to-win']));
  set('tmaxMs', num(values.tmax));
  if (values['max-duration-s'] !== undefined) o.maxDurationMs = Number(values['max-duration-s']) * 1000;
  if (values.auction !== undefined) {
    const at = ({ first: 1, '1': 1, second: 2, '2': 2 } as const)[values.auction as 'first'];
    if (at === undefined) throw new SimulatorError('SIM_BAD_OPTIONS', [`--auction: first or second, got ${values.auction}`]);
    o.auctionType = at;
  }
  if (values.experiments !== undefined) o.experiments = readJson(values.experiments, 'experiments') as SimulationOptions['experiments'];
  if (values.campaigns !== undefined) o.campaigns = readJson(values.campaigns, 'campaigns') as SimulationOptions['campaigns'];
  if (values.segments !== undefined) o.segments = readJson(values.segments, 'segments') as SimulationOptions['segments'];
  if (values.budgets !== undefined) o.budgets = readJson(values.budgets, 'budgets') as SimulationOptions['budgets'];
  if (values.model !== undefined) o.bidder = { model: { name: values.model } };
  // Keep the bidder's event log (npm run experiment:report -- --dir <it>); a temporary folder otherwise.
  if (values['events-dir'] !== undefined) o.bidder = { ...o.bidder, money: { eventsDir: resolve(values['events-dir']) } } as SimulationOptions['bidder'];
  if (values['no-clicks']) o.clicks = false;
  return { options: o, json: values.json ?? false, out: values.out };
}

const usd = (x: number): string => x.toFixed(4);
/** Width of the first column of the tables: segment ids are the longest names. */
const kNameWidth = 20;

function armRow(name: string, a: ArmSummary): string {
  const cells = [
    name.padEnd(kNameWidth), String(a.requests).padStart(7), String(a.bids).padStart(7), String(a.wins).padStart(6),
    a.expectedWins.toFixed(0).padStart(7), a.winRate.toFixed(3).padStart(6), a.bidToValue.toFixed(2).padStart(5),
    usd(a.spendUsd).padStart(9), a.cpmUsd.toFixed(3).padStart(7), usd(a.valueUsd).padStart(9), usd(a.surplusUsd).padStart(9),
    a.valuePerDollar.toFixed(3).padStart(6), String(a.clicks).padStart(6),
  ];
  return cells.join(' ');
}

const kHeader = ['arm'.padEnd(kNameWidth), 'reqs'.padStart(7), 'bids'.padStart(7), 'wins'.padStart(6), 'E[wins]'.padStart(7), 'win%'.padStart(6),
  'b/v'.padStart(5), 'spend$'.padStart(9), 'CPM'.padStart(7), 'value$'.padStart(9), 'surplus$'.padStart(9), 'val/$'.padStart(6), 'clicks'.padStart(6)].join(' ');

export function report(r: SimulationResult, predicted: Record<string, Prediction['perRequest']>): string {
  const lines: string[] = [];
  const o = r.options;
  lines.push(`simulate: seed ${r.seed}, ${r.requests.sent} requests (${r.truncated ? 'stopped by --max-duration-s' : 'all sent'}), ${o.users} users, ` +
    `${o.auctionType === 1 ? 'first' : 'second'} price, concurrency ${o.concurrency}, ${(r.trafficMs / 1000).toFixed(1)} s of traffic (${(r.durationMs / 1000).toFixed(1)} s in all)`);
  lines.push(`answers: ${Object.entries(r.requests.status).map(([s, n]) => `${s}: ${n}`).join(', ')}; notices: ` +
    (['win', 'bill', 'loss', 'click'] as const).map((k) => `${k} ${Object.entries(r.notices[k]).map(([s, n]) => `${s}x${n}`).join('/') || '-'}`).join(', '));
  lines.push('', 'by arm (from the tokens; \'\' = no experiment, \'?\' = users never seen in a bid)', kHeader);
  for (const [k, a] of Object.entries(r.arms)) lines.push(armRow(k === '' ? "''" : k, a));
  for (const [exp, arms] of Object.entries(r.experiments)) {
    lines.push('', `experiment ${exp}`, kHeader);
    for (const [k, a] of Object.entries(arms)) lines.push(armRow(k, a));
  }
  lines.push('', 'by campaign', kHeader);
  for (const [k, a] of Object.entries(r.campaigns)) lines.push(armRow(k, a));
  lines.push('', 'by segment (reqs: all its requests)', kHeader.replace('arm'.padEnd(kNameWidth), 'segment'.padEnd(kNameWidth)));
  for (const [k, a] of Object.entries(r.segments)) lines.push(armRow(k.slice(0, kNameWidth), a));
  lines.push('', 'an ideal bidder (true values known), per 1,000 requests:');
  for (const [k, p] of Object.entries(predicted)) {
    lines.push(`  ${k.padEnd(22)} win ${p.winRate.toFixed(3)}  spend $${(p.spendUsd * 1000).toFixed(3)}  value $${(p.valueUsd * 1000).toFixed(3)}  surplus $${(p.surplusUsd * 1000).toFixed(3)}`);
  }
  const all = Object.values(r.arms).reduce((s, a) => ({ wins: s.wins + a.wins, spend: s.spend + a.spendMicros }), { wins: 0, spend: 0 });
  lines.push('', `the bidder's own count (/metrics): wins ${r.bidder.wins} (simulator ${all.wins}), bills ${r.bidder.bills}, ` +
    `spend ${r.bidder.spendMicros} micro-USD (simulator ${all.spend})${r.bidder.settled ? '' : ' — NOT SETTLED: the bidder had not counted every notice'}`);
  return lines.join('\n');
}

export function predictions(o: SimulationOptions): Record<string, Prediction['perRequest']> {
  const out: Record<string, Prediction['perRequest']> = {
    truthful: predict(o.segments, o.campaigns, o.auctionType, { kind: 'truthful' }).perRequest,
    optimal: predict(o.segments, o.campaigns, o.auctionType, { kind: 'optimal' }).perRequest,
  };
  if (o.auctionType === 1) out['optimal, maxShade 0.5'] = predict(o.segments, o.campaigns, 1, { kind: 'optimal', maxShade: 0.5 }).perRequest;
  return out;
}

async function main(): Promise<void> {
  const { options, json, out } = optionsFromArgs(process.argv.slice(2));
  const resolved = resolveOptions(options);
  process.stderr.write(`simulate: ${resolved.requests} requests against the bidder on 127.0.0.1...\n`);
  const result = await runSimulation(resolved);
  const predicted = predictions(resolved);
  const text = JSON.stringify({ ...result, predicted }, null, 1);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = out ?? join(RESULTS_DIR, `simulate-${timestamp(result.startedAt)}.json`);
  writeFileSync(file, text);
  if (out === undefined) writeFileSync(join(RESULTS_DIR, 'simulate-latest.json'), text);
  const table = report(result, predicted) + `\n\nwritten: ${file}\n`;
  if (json) {
    process.stdout.write(text + '\n');
    process.stderr.write(table);
  } else process.stdout.write(table);
}

if (require.main === module) {
  main().catch((err: Error & { code?: string }) => {
    const usage = (err instanceof SimulatorError && err.code === 'SIM_BAD_OPTIONS') || String(err.code).startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`simulate: ${usage || err instanceof SimulatorError ? err.message : (err.stack ?? err.message)}\n`);
    process.exitCode = usage ? 2 : 1;
  });
}
