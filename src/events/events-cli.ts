/**
 * `npm run events -- tail|stats`: reads the event log (event-log-writer.ts writes it).
 *
 *   tail  [--dir D] [-n N] [--kind bid|win|bill|loss|exposure|click|shadow] [--campaign ID] [--follow]
 *         the last N records as JSON lines (oldest first); --follow keeps printing new ones.
 *         The fields added to the schema later (valueMicros .. shadowCtr) are printed only
 *         where set (not their default), so a plain bid prints as it always did
 *   stats [--dir D] [--campaign ID]
 *         by campaign: bids, wins, bills, losses, clicks, win rate, spend (micro-USD and
 *         USD), loss reasons; test traffic apart; then, when there are exposure records,
 *         the requests counted per experiment arm; then the records of each kind (test
 *         included). `npm run experiment:report` compares the arms.
 *
 * The folder defaults to BIDDER_EVENTS_DIR, else events/ under the project. A truncated
 * last record (a write cut short by a crash) is reported on stderr and skipped.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EVENT_FIELD_DEFAULTS, EVENT_KIND_NAMES, type DecodedEvent, type EventFields, type EventKindName } from '../codec/event-records';
import { projectRoot } from '../config/config';
import { EventFileError, eventFiles, readEventFile, readEventFolder } from './event-file';

const kKinds: readonly EventKindName[] = EVENT_KIND_NAMES;
const kLaterFields = Object.keys(EVENT_FIELD_DEFAULTS) as (keyof typeof EVENT_FIELD_DEFAULTS)[];

/** A record for printing: the later fields (EVENT_FIELD_DEFAULTS) only where they differ from their default. */
export function displayRecord(r: DecodedEvent): Partial<DecodedEvent> {
  const out: Partial<DecodedEvent> = { ...r };
  for (const k of kLaterFields) if (out[k] === EVENT_FIELD_DEFAULTS[k]) delete out[k];
  return out;
}

export interface CampaignEventStats {
  campaignId: string;
  bids: number;
  wins: number;
  bills: number;
  losses: number;
  clicks: number;
  winRate: number;
  spendMicros: number;
  lossReasons: Record<string, number>;
}

/**
 * Live records by campaign (bid, win, bill, loss, click; exposure and shadow records belong
 * to no campaign), the requests of each experiment arm (`experimentId:armId`, summed
 * exposure counts), and the number of test records.
 */
export function summarize(records: Iterable<EventFields>): { live: CampaignEventStats[]; exposures: Record<string, number>; test: number } {
  const by = new Map<string, CampaignEventStats>();
  const exposures: Record<string, number> = {};
  let test = 0;
  for (const r of records) {
    if (r.test) {
      test++;
      continue;
    }
    if (r.kind === 'exposure') {
      exposures[r.arm] = (exposures[r.arm] ?? 0) + (r.count ?? 0);
      continue;
    }
    if (r.kind === 'shadow') continue;
    let s = by.get(r.campaignId);
    if (s === undefined) {
      s = { campaignId: r.campaignId, bids: 0, wins: 0, bills: 0, losses: 0, clicks: 0, winRate: 0, spendMicros: 0, lossReasons: {} };
      by.set(r.campaignId, s);
    }
    if (r.kind === 'bid') s.bids++;
    else if (r.kind === 'win') s.wins++;
    else if (r.kind === 'bill') {
      s.bills++;
      s.spendMicros += r.costMicros;
    } else if (r.kind === 'loss') {
      s.losses++;
      const k = r.lossReason >= 0 ? String(r.lossReason) : 'none';
      s.lossReasons[k] = (s.lossReasons[k] ?? 0) + 1;
    } else if (r.kind === 'click') s.clicks++;
  }
  const live = [...by.values()].sort((a, b) => a.campaignId.localeCompare(b.campaignId));
  for (const s of live) s.winRate = s.bids > 0 ? s.wins / s.bids : 0;
  return { live, exposures, test };
}

export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  err: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<number> {
  const [command, ...rest] = argv;
  let args;
  try {
    args = parseArgs({
      args: rest,
      options: {
        dir: { type: 'string' }, n: { type: 'string', short: 'n' }, kind: { type: 'string' }, campaign: { type: 'string' },
        follow: { type: 'boolean', short: 'f' },
      },
      strict: true,
    }).values;
  } catch (e) {
    err(`EVENTS_USAGE: ${(e as Error).message}`);
    return 2;
  }
  const dir = resolve(args.dir ?? process.env.BIDDER_EVENTS_DIR ?? resolve(projectRoot(), 'events'));
  if (args.kind !== undefined && !kKinds.includes(args.kind as EventKindName)) {
    err(`EVENTS_USAGE: --kind must be one of ${kKinds.join(', ')}`);
    return 2;
  }
  const keep = (r: DecodedEvent): boolean => (args.kind === undefined || r.kind === args.kind) && (args.campaign === undefined || r.campaignId === args.campaign);
  try {
    if (command === 'stats') {
      const records = readEventFolder(dir, err).filter(keep);
      const { live, exposures, test } = summarize(records);
      for (const s of live) {
        out(JSON.stringify({ ...s, winRate: Number(s.winRate.toFixed(4)), spendUsd: s.spendMicros / 1e6 }));
      }
      out(JSON.stringify({ testRecords: test }));
      if (Object.keys(exposures).length > 0) out(JSON.stringify({ exposures }));
      const totals = Object.fromEntries(kKinds.map((k) => [k, 0])) as Record<EventKindName, number>;
      for (const r of records) totals[r.kind]++;
      out(JSON.stringify({ totals, records: records.length }));
      return 0;
    }
    if (command === 'tail') {
      const n = args.n === undefined ? 20 : Number(args.n);
      if (!Number.isInteger(n) || n < 0) {
        err('EVENTS_USAGE: -n must be a non-negative integer');
        return 2;
      }
      const records = readEventFolder(dir, err).filter(keep);
      for (const r of records.slice(Math.max(0, records.length - n))) out(JSON.stringify(displayRecord(r)));
      if (args.follow === true) await follow(dir, keep, out);
      return 0;
    }
  } catch (e) {
    if (e instanceof EventFileError) {
      err(`${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  err('usage: npm run events -- tail [--dir D] [-n N] [--kind K] [--campaign ID] [--follow] | stats [--dir D] [--campaign ID]');
  return 2;
}

/** Prints records as they are appended (polls the folder once a second) until interrupted. */
async function follow(dir: string, keep: (r: DecodedEvent) => boolean, out: (l: string) => void): Promise<void> {
  const seen = new Map<string, number>();
  for (const f of eventFiles(dir)) seen.set(f, readEventFile(f).records.length);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    for (const f of eventFiles(dir)) {
      const size = statSync(f).size;
      if (size === 0) continue;
      const r = readEventFile(f);
      const from = seen.get(f) ?? 0;
      for (const rec of r.records.slice(from)) if (keep(rec)) out(JSON.stringify(displayRecord(rec)));
      seen.set(f, r.records.length);
    }
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
