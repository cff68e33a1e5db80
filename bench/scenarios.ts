/**
 * The benchmark scenarios: which traffic, which bidder settings, which peers run beside
 * the bidder, and whether the open-loop sweep runs. Shared by the suite (bench/run.ts),
 * the gate (bench/gate.ts) and the profiler (profiles/profile.ts).
 *
 * The bidder runs with its defaults (threads sized from the CPU quota, issue 9): a
 * scenario sets a thread count only when the thread count is its point (banner-1-thread).
 * The twin (bench/lib/servers.ts) runs in every scenario.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kIssue9 } from './lib/goals';
import type { ServerName } from './lib/servers';
import { generateRequests } from './traffic/generator';

export const REPO_ROOT = resolve(__dirname, '../..');
export const CORPUS_DIR = resolve(REPO_ROOT, '../shared/corpus');

export type PeerName = Exclude<ServerName, 'bidder'>;

export type Traffic =
  | { kind: 'spec-sample'; file: string }
  | { kind: 'generated'; seed: number; count: number; imps: number | [number, number] }
  | { kind: 'corpus' };

export interface Scenario {
  name: string;
  description: string;
  traffic: Traffic;
  gzip: boolean;
  /** BIDDER_* settings for the bidder (and, for the model, the inline peers). */
  env: Record<string, string>;
  peers: PeerName[];
  /** Open loop: 'sweep' runs every server at a ladder of offered rates up to saturation; 'reference' only at the reference rate. */
  open: 'sweep' | 'reference';
  /**
   * Offered rates the goals name (issue 9: "open loop at 5k, 10k and 20k req/s with
   * ctr-logreg and at 2.5k and 5k with ctr-dnn"): the bidder and the twin are measured at
   * each in every run, whatever the peaks.
   */
  goalRates: number[];
}

const SIMPLE_BANNER = '2.6/simple-banner.json';

export const SCENARIOS: Scenario[] = [
  {
    name: 'banner-small',
    description: '2.6 simple-banner sample, small model (ctr-logreg), default threads: the goals scenario',
    traffic: { kind: 'spec-sample', file: SIMPLE_BANNER },
    gzip: false,
    env: { BIDDER_MODEL: 'ctr-logreg' },
    peers: ['twin', 'ceiling', 'inline', 'fastify'],
    open: 'sweep',
    goalRates: [...kIssue9.p99Rates['banner-small']],
  },
  {
    name: 'banner-realistic',
    description: '2.6 simple-banner sample, realistic model (ctr-dnn), default threads',
    traffic: { kind: 'spec-sample', file: SIMPLE_BANNER },
    gzip: false,
    env: { BIDDER_MODEL: 'ctr-dnn' },
    peers: ['twin', 'inline'],
    open: 'reference',
    goalRates: [...kIssue9.p99Rates['banner-realistic']],
  },
  {
    name: 'banner-1-thread',
    description: '2.6 simple-banner sample, small model, 1 pool thread',
    traffic: { kind: 'spec-sample', file: SIMPLE_BANNER },
    gzip: false,
    env: { BIDDER_MODEL: 'ctr-logreg', BIDDER_POOL_THREADS: '1' },
    peers: ['twin'],
    open: 'reference',
    goalRates: [],
  },
  {
    name: 'gen-1imp',
    description: 'generated production-sized requests (1-4 KB), 1 impression each, realistic model',
    traffic: { kind: 'generated', seed: 1, count: 2000, imps: 1 },
    gzip: false,
    env: { BIDDER_MODEL: 'ctr-dnn' },
    peers: ['twin', 'inline'],
    open: 'reference',
    goalRates: [],
  },
  {
    name: 'gen-4imp',
    description: 'generated production-sized requests, 4 impressions each, realistic model',
    traffic: { kind: 'generated', seed: 4, count: 2000, imps: 4 },
    gzip: false,
    env: { BIDDER_MODEL: 'ctr-dnn' },
    peers: ['twin', 'inline'],
    open: 'reference',
    goalRates: [],
  },
  {
    name: 'gen-gzip',
    description: 'generated requests, 1-5 impressions, gzip bodies, realistic model',
    traffic: { kind: 'generated', seed: 7, count: 2000, imps: [1, 5] },
    gzip: true,
    env: { BIDDER_MODEL: 'ctr-dnn' },
    peers: ['twin'],
    open: 'reference',
    goalRates: [],
  },
  {
    name: 'corpus',
    description: 'the 480 real exchange requests of ../shared/corpus, realistic model',
    traffic: { kind: 'corpus' },
    gzip: false,
    env: { BIDDER_MODEL: 'ctr-dnn' },
    peers: ['twin'],
    open: 'reference',
    goalRates: [],
  },
];

export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario "${name}"; known: ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}

/** Why a scenario cannot run on this machine, or null when it can. */
export function unavailableReason(s: Scenario): string | null {
  if (s.traffic.kind === 'corpus' && !existsSync(join(CORPUS_DIR, 'exchange-requests'))) {
    return `the shared corpus is absent (${CORPUS_DIR})`;
  }
  if (s.traffic.kind === 'spec-sample' && !existsSync(join(CORPUS_DIR, 'spec-examples/bid-request', s.traffic.file))) {
    return `the spec sample ${s.traffic.file} is absent (${CORPUS_DIR})`;
  }
  return null;
}

/** The request bodies of a scenario, uncompressed (the load generators gzip when asked). */
export function scenarioBodies(s: Scenario): Buffer[] {
  const t = s.traffic;
  switch (t.kind) {
    case 'spec-sample':
      return [readFileSync(join(CORPUS_DIR, 'spec-examples/bid-request', t.file))];
    case 'generated':
      return generateRequests({ seed: t.seed, count: t.count, imps: t.imps });
    case 'corpus': {
      const dir = join(CORPUS_DIR, 'exchange-requests');
      return readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => readFileSync(join(dir, f)));
    }
  }
}
