/**
 * The contract runner: every fixture of test/fixtures/{valid,invalid,privacy,seats-deals,policy}
 * is checked for shape and run through the real bid engine, in-process: one warmed engine
 * (buildWarmEngine, the real model) per distinct campaign file and config overrides, then
 * processText per request. The answer must match the fixture exactly: the status; for a
 * 204 the no-bid reason (the outcome label the engine records); for a 400 the code and
 * field; for a 200 the currency and exactly the listed bids, and a response that
 * checkResponseForRequest finds nothing wrong with.
 */
import t from 'tap';
import fs from 'node:fs';
import { defaultConfig, type BidderConfig } from '../../src/config/config';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { kMaxSlots, SlotWriter } from '../../src/metrics/shared-metrics';
import { loadModelShared } from '../../src/models/model-bytes';
import { checkResponseForRequest } from '../../src/openrtb/response-check';
import { allocateControl, type WorkerInit } from '../../src/pool/worker-init';
import { allocateConsentTable } from '../../src/privacy/consent-table';
import type { BidRequest } from '../../src/openrtb/types';
import type { BidEngine } from '../../src/engine/bid-engine';
import { buildWarmEngine } from '../../src/engine/engine-setup';
import { REPO_ROOT } from '../helpers/test-bidder';
import {
  bodyOf,
  campaignsFileOf,
  checkShape,
  compareBids,
  compareError,
  loadFixtures,
  strayFolders,
  type Fixture,
} from '../fixtures/fixture-format';

t.setTimeout(170_000);

/** Candidate rows per session.run, as the bidder configures its engines. */
const kMaxModelRows = 4096;
/** Receive slab for the engines: processText never reads it, the constructor needs one. */
const kSlabBytes = 64 * 1024;

const base = defaultConfig(REPO_ROOT);
const model = loadModelShared(base.model.dir, base.model.name);
if (!model.ok) throw new Error(`model ${base.model.name}: ${model.error.message}`);
const outcomes = new OutcomeTable(ALL_ERROR_CODES);
const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);

/** The bidder config a fixture runs under: the defaults with its overrides applied. */
function configOf(fx: Fixture): BidderConfig {
  return {
    ...base,
    bidding: { ...base.bidding, ...fx.config?.bidding, campaignsFile: campaignsFileOf(fx, REPO_ROOT) },
    privacy: { ...base.privacy, ...fx.config?.privacy },
  };
}

function engineKey(fx: Fixture): string {
  return JSON.stringify([campaignsFileOf(fx, REPO_ROOT), fx.config ?? {}]);
}

const engines = new Map<string, Promise<BidEngine>>();

function engineFor(fx: Fixture): Promise<BidEngine> {
  const key = engineKey(fx);
  let engine = engines.get(key);
  if (engine === undefined) {
    const config = configOf(fx);
    if (!model.ok) throw new Error('unreachable');
    // Everything a worker is given (typed as such, so a new field fails here first); the
    // engine reads the slice it needs.
    const metrics = layout.allocate();
    const init: WorkerInit = {
      models: [{ name: base.model.name, version: model.entry.version, shared: model.shared, byteLength: model.byteLength }],
      activeModel: base.model.name,
      campaignsJson: fs.readFileSync(config.bidding.campaignsFile, 'utf8'),
      bidding: config.bidding,
      privacy: config.privacy,
      maxBodyBytes: config.server.maxBodyBytes,
      maxModelRows: kMaxModelRows,
      testHooks: false,
      receiveSlab: new SharedArrayBuffer(kSlabBytes),
      metrics,
      consentTable: allocateConsentTable(config.privacy.consentCacheEntries),
      control: allocateControl(),
    };
    engine = buildWarmEngine({
      init,
      outcomes,
      metrics: new SlotWriter(layout, metrics, 0),
      idPrefix: 'fx-',
      allModels: false,
    }).then((warm) => warm.engine);
    engines.set(key, engine);
  }
  return engine;
}

interface Answer {
  status: number;
  outcome: number;
  body: string | null;
}

async function run(engine: BidEngine, text: string): Promise<Answer> {
  let answer: Answer | null = null;
  await engine.processText(text, {
    add(_id, status, outcome, body) {
      answer = { status, outcome, body };
    },
  });
  if (answer === null) throw new Error('the engine gave no answer');
  return answer;
}

const fixtures = loadFixtures();

t.same(strayFolders(), [], 'every fixture folder is a kind (a fixture elsewhere would never run)');
t.ok(fixtures.length >= 50, `${fixtures.length} fixtures`);

for (const lf of fixtures) {
  t.test(lf.name, async (t) => {
    t.same(lf.problems, [], 'the fixture is well formed');
    const fx = lf.fixture;
    if (fx === null) return;
    const engine = await engineFor(fx);
    const text = bodyOf(fx);
    const a = await run(engine, text);
    // labelOf: a test = 1 request's outcome is its live twin's label, counted apart.
    const [outcome, reason] = outcomes.labelOf(a.outcome);
    const got = `got ${a.status} ${outcome}:${reason} ${(a.body ?? '').slice(0, 300)}`;
    t.equal(a.status, fx.expect.status, `${fx.description} (${got})`);
    if (a.status !== fx.expect.status) return;
    const e = fx.expect;
    if (e.status === 204) {
      t.same([outcome, reason], ['no_bid', e.reason], 'no-bid reason');
      t.equal(a.body, null, 'a no-bid has no body');
    } else if (e.status === 400) {
      t.same(compareError(e, a.body), [], 'code and field');
      t.same([outcome, reason], ['error', e.code], 'recorded under its code');
    } else {
      t.same([outcome, reason], ['bid', 'none'], 'recorded as a bid');
      t.same(compareBids(e, a.body), [], `the expected bids (${got})`);
      const req = JSON.parse(text) as BidRequest;
      t.same(checkResponseForRequest(req, JSON.parse(a.body ?? 'null')), [], 'the response conforms to the request');
    }
  });
}

// The comparison must be able to fail, or every fixture above would pass vacuously.
t.test('the runner rejects wrong answers and malformed fixtures', (t) => {
  const res = JSON.stringify({
    id: 'r',
    cur: 'USD',
    seatbid: [{ seat: 's', bid: [{ id: 'b', impid: '1', price: 1.5, cid: 'c', crid: 'cr' }] }],
  });
  t.same(compareBids({ status: 200, cur: 'USD', bids: [{ impid: '1', price: 1.5, cid: 'c' }] }, res), []);
  t.match(compareBids({ status: 200, cur: 'EUR', bids: [{ impid: '1', price: 1.5 }] }, res), [/^cur/]);
  t.match(compareBids({ status: 200, cur: 'USD', bids: [{ impid: '1', price: 1.4 }] }, res), [/price/]);
  t.match(compareBids({ status: 200, cur: 'USD', bids: [{ impid: '1', dealid: null, crid: 'x' }] }, res), [/crid/]);
  t.match(compareBids({ status: 200, cur: 'USD', bids: [{ impid: '1', cid: null }] }, res), [/cid: expected absent/]);
  t.match(compareBids({ status: 200, cur: 'USD', bids: [{ impid: '2', price: 1.5 }] }, res), [/imp 2: expected a bid/, /imp 1: got a bid/]);
  t.match(compareBids({ status: 200, cur: 'USD', seat: 'other', bids: [{ impid: '1', price: 1.5 }] }, res), [/seat/]);
  const err = JSON.stringify({ code: 'INVALID_TYPE', message: 'm', field: 'imp[0].id' });
  t.same(compareError({ status: 400, code: 'INVALID_TYPE', field: 'imp[0].id' }, err), []);
  t.match(compareError({ status: 400, code: 'INVALID_TYPE' }, err), [/field/]);
  t.match(compareError({ status: 400, code: 'MISSING_FIELD', field: 'imp[0].id' }, err), [/code/]);

  const ok = { description: 'd', spec: 'OpenRTB 2.6 3.2.1', request: {}, expect: { status: 204, reason: 'no_candidates' } };
  t.same(checkShape(ok, 'valid'), []);
  t.match(checkShape({ ...ok, expectedStatus: 204 }, 'valid'), [/expectedStatus: unknown key/]);
  t.match(checkShape({ ...ok, spec: '' }, 'valid'), [/spec/]);
  t.match(checkShape({ ...ok, rawBody: '{}' }, 'valid'), [/exactly one/]);
  t.match(checkShape({ ...ok, expect: { status: 204, reason: 'nope' } }, 'valid'), [/reason/]);
  t.match(checkShape({ ...ok, expect: { status: 204, reason: 'no_candidates', code: 'X' } }, 'valid'), [/code: unknown key/]);
  t.match(checkShape({ ...ok, expect: { status: 400, code: 'BAD_JSON' } }, 'valid'), [/valid/]);
  t.match(checkShape(ok, 'invalid'), [/must be 400/]);
  t.match(checkShape({ ...ok, expect: { status: 200, cur: 'USD', bids: [] } }, 'valid'), [/bids/]);
  t.match(checkShape({ ...ok, campaigns: 'no-such-file.json' }, 'valid'), [/does not exist/]);
  t.match(checkShape({ ...ok, config: { bidding: { sedId: 'x' } } }, 'valid'), [/bidding.sedId: unknown key/]);
  t.match(checkShape({ ...ok, config: { server: {} } }, 'valid'), [/unknown section/]);
  t.end();
});
