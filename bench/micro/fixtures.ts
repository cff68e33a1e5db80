/**
 * Inputs shared by the micro-benchmarks: realistic requests (the OpenRTB 2.6 spec samples
 * from ../shared/corpus when present, else the project's hand-written fixtures), the sample
 * campaigns and their index, and each request taken as far as the bid path takes it before
 * the function under test. Built lazily and memoised, so a file only pays for what it uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import { loadCampaignFile } from '../../src/decisioning/campaign-loader';
import type { Candidate, Creative, DecisionConfig } from '../../src/decisioning/campaign-types';
import { impFloorUsd, prepareRequest, type RequestContext } from '../../src/decisioning/request-context';
import type { CandidateKeys } from '../../src/features/feature-encoder';
import { parseBidRequest } from '../../src/openrtb/parse-request';
import type { BidRequest } from '../../src/openrtb/types';
import { creativeKeys, type EngineOptions } from '../../src/engine/bid-engine';
import { repoRoot } from './paths';

/** The bidder's default bidding settings (src/config/config.ts). */
export const DECISION: DecisionConfig = { fxRates: {}, seatId: 'rtb-bidder' };
export const SEAT = 'rtb-bidder';

/** A site banner request and an app request with a device, as the bench cases name them. */
export type RequestKind = 'site' | 'app';

interface RequestSource {
  corpus: string;
  fallback: string;
}

const SOURCES: Record<RequestKind, RequestSource> = {
  site: { corpus: 'spec-examples/bid-request/2.6/simple-banner.json', fallback: 'valid/minimal-banner.json' },
  app: { corpus: 'spec-examples/bid-request/2.6/mobile.json', fallback: 'valid/multi-imp-mixed-media.json' },
};

export interface RequestFixture {
  /** Short label used in case names: the file name without `.json`. */
  label: string;
  /** Where it was read from, relative to the repository root. */
  source: string;
  /** The body as an exchange sends it. */
  text: string;
}

const texts = new Map<RequestKind, RequestFixture>();

export function requestFixture(kind: RequestKind): RequestFixture {
  let f = texts.get(kind);
  if (f !== undefined) return f;
  const root = repoRoot();
  const src = SOURCES[kind];
  const corpus = resolve(root, '../shared/corpus', src.corpus);
  if (existsSync(corpus)) {
    f = { label: src.corpus.replace(/^.*\//, '').replace(/\.json$/, ''), source: `../shared/corpus/${src.corpus}`, text: readFileSync(corpus, 'utf8') };
  } else {
    // The contract fixtures wrap the request: { description, spec, request, expect } (test/fixtures/README.md).
    const path = join(root, 'test/fixtures', src.fallback);
    const wrapped = JSON.parse(readFileSync(path, 'utf8')) as { request: unknown };
    f = { label: src.fallback.replace(/^.*\//, '').replace(/\.json$/, ''), source: `test/fixtures/${src.fallback}`, text: JSON.stringify(wrapped.request) };
  }
  texts.set(kind, f);
  return f;
}

let index: CampaignIndex | undefined;

/** campaigns/sample-campaigns.json, indexed as a worker does at start. */
export function campaignIndex(): CampaignIndex {
  if (index !== undefined) return index;
  const parsed = loadCampaignFile(join(repoRoot(), 'campaigns/sample-campaigns.json'));
  if (!parsed.ok) throw new Error(`sample campaigns rejected: ${parsed.errors.join('; ')}`);
  index = new CampaignIndex(parsed.campaigns);
  return index;
}

let keys: Map<Creative, CandidateKeys> | undefined;

/** Per-creative feature keys, from the engine's own function. */
export function keysByCreative(): Map<Creative, CandidateKeys> {
  keys ??= creativeKeys(campaignIndex());
  return keys;
}

/** One impression after candidate lookup. */
export interface PreparedImp {
  impIndex: number;
  floorUsd: number;
  candidates: Candidate[];
}

/** A request after parse, validation, request context and candidate lookup. */
export interface PreparedRequest extends RequestFixture {
  req: BidRequest;
  ctx: RequestContext;
  imps: PreparedImp[];
  /** Candidate rows the request contributes to a model batch. */
  rows: number;
}

const prepared = new Map<RequestKind, PreparedRequest>();

export function preparedRequest(kind: RequestKind): PreparedRequest {
  let p = prepared.get(kind);
  if (p !== undefined) return p;
  const fixture = requestFixture(kind);
  const parsed = parseBidRequest(fixture.text);
  if (!parsed.ok) throw new Error(`${fixture.source}: rejected: ${parsed.error.code}`);
  const req = parsed.request;
  const pr = prepareRequest(req, DECISION);
  if (!pr.ok) throw new Error(`${fixture.source}: no bid before lookup: ${pr.reason}`);
  const idx = campaignIndex();
  const imps: PreparedImp[] = [];
  let rows = 0;
  const scratch: Candidate[] = [];
  for (let i = 0; i < req.imp.length; i++) {
    const n = idx.candidatesFor(req, req.imp[i], pr.ctx, scratch);
    imps.push({ impIndex: i, floorUsd: impFloorUsd(req.imp[i], pr.ctx), candidates: scratch.slice(0, n) });
    rows += n;
  }
  if (rows === 0) throw new Error(`${fixture.source}: no candidate among the sample campaigns`);
  p = { ...fixture, req, ctx: pr.ctx, imps, rows };
  prepared.set(kind, p);
  return p;
}

/** The batch clock a worker would pass to the encoder: fixed, so every call hashes the same hour. */
export const BATCH_NOW_MS = Date.UTC(2025, 5, 1, 14, 30);

/** The scorer's maxRows in the bidder (src/bidder.ts kMaxModelRows). */
export const kMaxModelRows = 4096;

/** The engine options every micro benchmark builds its engine with. */
export const ENGINE_OPTIONS: EngineOptions = {
  decision: DECISION,
  seatId: SEAT,
  tmaxMarginMs: 10,
  maxBodyBytes: 256 * 1024,
  testHooks: false,
  idPrefix: 'bench-',
};
