/**
 * The bid engine under privacy signals (src/engine/bid-engine.ts with src/privacy): a consented
 * GDPR request can be targeted by user segments, a non-consented one cannot but still gets
 * a contextual bid; the inline lane's engine ('defer') hands back a request whose consent
 * string no thread has decoded, and answers it once a worker's engine has published the
 * decision; outcomes are counted by privacy signal. Real model, real campaign file.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { kStatusDeferred } from '../../src/codec/reply-batch';
import { kFlagConsentDeferred, writeTask } from '../../src/codec/request-batch';
import { monoNowMs } from '../../src/util/clock';
import { defaultConfig } from '../../src/config/config';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, M, OutcomeTable } from '../../src/metrics/definitions';
import { kMaxSlots, SlotReader, SlotWriter } from '../../src/metrics/shared-metrics';
import { loadModelShared } from '../../src/models/model-bytes';
import { ReceiveSlab } from '../../src/pool/receive-slab';
import { allocateConsentTable } from '../../src/privacy/consent-table';
import type { ConsentMode } from '../../src/privacy/consent-resolver';
import type { BidEngine } from '../../src/engine/bid-engine';
import { buildWarmEngine } from '../../src/engine/engine-setup';
import { OTHER_VENDOR, OUR_VENDOR, tcString } from './fixtures/consent-strings';

t.setTimeout(120_000);

const REPO = resolve(__dirname, '../..');
const base = defaultConfig(REPO);
const model = loadModelShared(base.model.dir, base.model.name);
if (!model.ok) throw new Error(model.error.message);
const outcomes = new OutcomeTable(ALL_ERROR_CODES);
const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
const campaignsJson = readFileSync(resolve(REPO, 'test/fixtures/campaigns/privacy-segments-cpm.json'), 'utf8');
const slab = new ReceiveSlab(64 * 1024, 4);
const consentTable = allocateConsentTable(1024);

interface Built {
  engine: BidEngine;
  metrics: SharedArrayBuffer;
}

async function build(consentMode: ConsentMode, vendorId = OUR_VENDOR): Promise<Built> {
  if (!model.ok) throw new Error('unreachable');
  const metrics = layout.allocate();
  const { engine } = await buildWarmEngine({
    init: {
      models: [{ name: base.model.name, version: model.entry.version, shared: model.shared, byteLength: model.byteLength }],
      activeModel: base.model.name,
      campaignsJson,
      bidding: base.bidding,
      privacy: { ...base.privacy, vendorId },
      maxBodyBytes: base.server.maxBodyBytes,
      maxModelRows: 4096,
      testHooks: false,
      receiveSlab: slab.buffer,
      consentTable,
    },
    outcomes,
    metrics: new SlotWriter(layout, metrics, 0),
    idPrefix: `${consentMode}-`,
    allModels: false,
    consentMode,
  });
  return { engine, metrics };
}

interface Answer {
  status: number;
  cid: string | null;
  price: number | null;
}

function answerOf(status: number, body: string | null): Answer {
  const bid = body === null || status !== 200 ? null : (JSON.parse(body) as { seatbid: { bid: { cid: string; price: number }[] }[] }).seatbid[0].bid[0];
  return { status, cid: bid?.cid ?? null, price: bid?.price ?? null };
}

async function run(engine: BidEngine, request: unknown): Promise<Answer> {
  let a: Answer | null = null;
  await engine.processText(JSON.stringify(request), { add: (_i, status, _o, body) => { a = answerOf(status, body); } });
  return a!;
}

function request(extra: Record<string, unknown> = {}, id = 'r'): Record<string, unknown> {
  return {
    id,
    imp: [{ id: '1', banner: { w: 300, h: 250 } }],
    site: { domain: 'news.example.com' },
    device: { ifa: '3f2b8c1e-2a51-4b37-9d5e-7c1f0a9e6b42' },
    user: { id: 'u-1', data: [{ id: 'dmp', segment: [{ id: 'fx-seg-sports' }] }], ...(extra.user as object) },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'user')),
  };
}

const SEGMENT = 'fx-priv-segment';
const CONTEXTUAL = 'fx-priv-contextual';

function counter(b: Built, name: string, labels: string[] = []): number {
  return new SlotReader(layout, b.metrics).sum(layout.offset(name, labels));
}

t.test('a consented GDPR request is targeted by segment; without consent it still gets a contextual bid', async (t) => {
  const worker = await build('decode');
  const consented = tcString();
  t.match(await run(worker.engine, request({ regs: { gdpr: 1 }, user: { consent: consented } })), { status: 200, cid: SEGMENT, price: 4 });
  t.match(await run(worker.engine, request({ regs: { gdpr: 1 }, user: { consent: tcString({ vendors: [OTHER_VENDOR] }) } })), { status: 200, cid: CONTEXTUAL, price: 2 }, 'vendor missing');
  t.match(await run(worker.engine, request({ regs: { gdpr: 1 }, user: { consent: tcString({ purposes: [1, 2, 3] }) } })), { status: 200, cid: CONTEXTUAL }, 'purpose 4 missing');
  t.match(await run(worker.engine, request({ regs: { gdpr: 1 } })), { status: 200, cid: CONTEXTUAL }, 'no consent string');
  t.match(await run(worker.engine, request({ regs: { gdpr: 1 }, user: { consent: '%%% not a TC string' } })), { status: 200, cid: CONTEXTUAL }, 'malformed: no consent, no error');
  t.match(await run(worker.engine, request({ regs: { coppa: 1 } })), { status: 200, cid: CONTEXTUAL }, 'coppa');
  t.match(await run(worker.engine, request({ regs: { us_privacy: '1YYN' } })), { status: 200, cid: CONTEXTUAL }, 'USP opt-out');
  t.match(await run(worker.engine, request()), { status: 200, cid: SEGMENT }, 'no signal');

  t.equal(counter(worker, M.privacyRequests, ['gdpr_consent', 'bid']), 1);
  t.equal(counter(worker, M.privacyRequests, ['gdpr_no_consent', 'bid']), 4);
  t.equal(counter(worker, M.privacyRequests, ['coppa', 'bid']), 1);
  t.equal(counter(worker, M.privacyRequests, ['us_privacy_opt_out', 'bid']), 1);
  t.equal(counter(worker, M.privacyRequests, ['none', 'bid']), 1);
  t.equal(counter(worker, M.privacyMalformed, ['tcf']), 1);
  t.equal(counter(worker, M.privacyDeferred), 0, 'a worker never defers');
});

t.test("the inline lane's engine defers an undecoded string and answers once a worker published it", async (t) => {
  const worker = await build('decode');
  const lane = await build('defer');
  const fresh = tcString({ purposes: [1, 2, 3, 4, 5] }); // a string no engine has seen
  const req = request({ regs: { gdpr: 1 }, user: { consent: fresh } });

  // A batch through the slab, as the dispatcher sends it: the deferred request is handed
  // back, the other one (no consent string to decode) is answered.
  const bodies = [JSON.stringify(req), JSON.stringify(request({ regs: { gdpr: 1 } }, 'plain'))];
  const jobs = bodies.map((text) => {
    const bytes = Buffer.from(text);
    const offset = slab.alloc(bytes.length);
    slab.bytes.set(bytes, offset);
    return { arrivedAt: monoNowMs(), receivedAt: monoNowMs(), offset, length: bytes.length, flags: 0 };
  });
  const answers: Answer[] = [];
  await lane.engine.processBatch(writeTask(jobs, monoNowMs()), { add: (_i, status, _o, body) => { answers.push(answerOf(status, body)); } });
  for (const j of jobs) slab.free(j.offset);
  t.same(answers.map((a) => a.status), [kStatusDeferred, 200], 'deferred, and the contextual one answered');
  t.equal(counter(lane, M.privacyDeferred), 1);
  t.equal(counter(lane, M.privacyRequests, ['gdpr_no_consent', 'bid']), 1, 'the deferred request is not counted where it was not answered');

  t.match(await run(worker.engine, req), { status: 200, cid: SEGMENT }, 'the worker decodes it');
  t.match(await run(lane.engine, req), { status: 200, cid: SEGMENT }, 'the lane now answers from the shared table');
  t.equal(counter(lane, M.privacyDeferred), 1, 'no second deferral');
  t.match(await run(lane.engine, request({ regs: { us_privacy: '1YNN' } })), { status: 200, cid: SEGMENT }, 'nothing to decode: never deferred');
});

t.test('a request the lane deferred makes the worker republish a decision the table lost', async (t) => {
  const worker = await build('decode');
  const lane = await build('defer');
  const req = request({ regs: { gdpr: 1 }, user: { consent: tcString({ purposes: [1, 3, 4, 9] }) } });
  const batch = async (engine: BidEngine, flags: number): Promise<number> => {
    const bytes = Buffer.from(JSON.stringify(req));
    const offset = slab.alloc(bytes.length);
    slab.bytes.set(bytes, offset);
    let status = 0;
    await engine.processBatch(writeTask([{ arrivedAt: monoNowMs(), receivedAt: monoNowMs(), offset, length: bytes.length, flags }], monoNowMs()), { add: (_i, s) => { status = s; } });
    slab.free(offset);
    return status;
  };
  t.equal(await batch(worker.engine, 0), 200, 'decoded and published');
  t.equal(await batch(lane.engine, 0), 200, 'the lane reads it');
  const lane2 = await build('defer'); // a fresh lane cache, and the table loses the entry
  new Int32Array(consentTable).fill(0);
  t.equal(await batch(lane2.engine, 0), kStatusDeferred);
  t.equal(await batch(worker.engine, 0), 200, 'from its own cache');
  t.equal(await batch(lane2.engine, 0), kStatusDeferred, 'a cache hit alone does not republish');
  t.equal(await batch(worker.engine, kFlagConsentDeferred), 200, 'the deferred request, flagged by the dispatcher');
  t.equal(await batch(lane2.engine, 0), 200, 'republished: the lane answers');
});
