/**
 * ResponseBytes (the BidResponse written as UTF-8 for byte sinks) must be, byte for byte,
 * the UTF-8 of bidResponseJson over bidJson, which string sinks get. Checked on creatives of
 * every kind with hostile strings, and through the engine on every corpus and fixture request.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { bidJson, bidResponseJson } from '../../src/decisioning/bid-builder';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import { loadCampaignFile } from '../../src/decisioning/campaign-loader';
import type { Candidate, Creative } from '../../src/decisioning/campaign-types';
import { ResponseBytes } from '../../src/decisioning/response-bytes';
import { BidEngine, type ReplySink } from '../../src/engine/bid-engine';
import type { Scorer } from '../../src/engine/onnx-scorer';
import { StubScorer } from '../../bench/micro/stub-scorer';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { SlotWriter } from '../../src/metrics/shared-metrics';
import type { Imp } from '../../src/openrtb/types';
import { corpusRequestFiles } from '../helpers/corpus';
import { fixtureRequestTexts } from '../fuzz/fixtures/fuzz-requests';
import { bannerCreative, campaign, ctxOf, request } from './fixtures/builders';

const hostile = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('r"1', 'a\\b', '\u2028', '\ud800', 'x\udc00y', '広告🎯', 'é', '\u007f', '\u0000'),
);

const urls = { nurl: 'https://w.example/?p=${AUCTION_PRICE}&ü=1', burl: 'https://b.example/b', lurl: 'https://l.example/l' };

function creatives(text: string): Creative[] {
  return [
    bannerCreative(300, 250, { id: 'b-' + text, ...urls, attr: [1, 2] }),
    { id: 'v-' + text, video: { vastUrl: 'https://ads.example/v?x=' + text, durationSec: 15, mimes: ['video/mp4'], protocols: [2] } },
    { id: 'vi', video: { vastXml: '<VAST>' + text + '</VAST>', durationSec: 30, mimes: ['video/mp4'], protocols: [2], w: 640, h: 360 } },
    { id: 'n', native: { title: 'T ' + text, imageUrl: 'https://i/1.jpg', clickUrl: 'https://c/' } },
    { id: 'a', audio: { vastXml: '<VAST>' + text + '</VAST>', durationSec: 30, mimes: ['audio/mpeg'] } },
  ];
}

t.test('property: the bytes are the UTF-8 of the string answer', async (t) => {
  const rb = new ResponseBytes();
  fc.assert(
    fc.property(hostile, hostile, hostile, fc.array(fc.tuple(fc.nat(4), fc.double({ min: 0.0001, max: 100, noNaN: true }), fc.option(hostile, { nil: undefined })), { minLength: 1, maxLength: 4 }), fc.option(hostile, { nil: undefined }),
      (requestId, impId, text, bids, bundle) => {
        const crs = creatives(text);
        const camp = campaign({ id: 'c-' + text, advertiserDomain: text + '.com', iabCategories: ['IAB1', text], appBundle: bundle, creatives: crs });
        const imp: Imp = { id: impId, banner: { w: 300, h: 250 }, video: { w: 1280, h: 720 }, native: { request: '{"ver":"1.2","assets":[{"id":1,"title":{"len":90}}]}' } };
        const req = request({ id: requestId, imp: [imp] });
        const ctx = ctxOf(req);
        const strings: string[] = [];
        rb.begin(requestId);
        bids.forEach(([which, price, dealId], k) => {
          const cand: Candidate = { campaign: camp, creative: crs[which], ...(dealId === undefined ? {} : { dealId, dealFloor: 1, dealFloorRate: 1 }) };
          const bidId = 'bid-' + k;
          strings.push(bidJson(imp, cand, price, ctx, bidId));
          rb.bid(imp, cand, price, bidId);
        });
        const bytes = Buffer.from(rb.end('resp-1', 'USD', 'seat-' + text));
        const expected = Buffer.from(bidResponseJson(requestId, 'resp-1', 'USD', 'seat-' + text, strings), 'utf8');
        return bytes.equals(expected);
      }),
    { numRuns: 2000, seed: 9 },
  );
  t.pass('bytes match');
});

t.test('an answer larger than the initial buffer grows it, and the next answer starts afresh', async (t) => {
  const rb = new ResponseBytes();
  const big = bannerCreative(300, 250, { id: 'big' });
  big.banner!.adm = '<div>' + 'x'.repeat(40_000) + '€</div>';
  const camp = campaign({ creatives: [big] });
  const req = request();
  const cand: Candidate = { campaign: camp, creative: big };
  rb.begin('r1');
  rb.bid(req.imp[0], cand, 1.5, 'b1');
  rb.bid(req.imp[0], cand, 1.5, 'b2');
  const first = Buffer.from(rb.end('x', 'USD', 's'));
  const expected = bidResponseJson('r1', 'x', 'USD', 's', [bidJson(req.imp[0], cand, 1.5, ctxOf(req), 'b1'), bidJson(req.imp[0], cand, 1.5, ctxOf(req), 'b2')]);
  t.ok(first.equals(Buffer.from(expected)));
  rb.begin('r2');
  rb.bid(req.imp[0], cand, 2, 'b3');
  t.equal(Buffer.from(rb.end('y', 'USD', 's')).toString(), bidResponseJson('r2', 'y', 'USD', 's', [bidJson(req.imp[0], cand, 2, ctxOf(req), 'b3')]));
});

/** Records every answer; with `bytes`, also offers addUtf8 (the path the BatchReply writer takes). */
class Recorder implements ReplySink {
  readonly answers: string[] = [];
  addUtf8?: ReplySink['addUtf8'];
  constructor(bytes: boolean) {
    if (bytes) this.addUtf8 = (id, status, outcome, body) => this.answers.push(`${id} ${status} ${outcome} ${Buffer.from(body).toString('hex')}`);
  }
  add(id: number, status: number, outcome: number, body: string | null): void {
    this.answers.push(`${id} ${status} ${outcome} ${body === null ? '-' : Buffer.from(body, 'utf8').toString('hex')}`);
  }
}

t.test('the engine answers the same bytes to a byte sink as to a string sink', async (t) => {
  const root = path.resolve(__dirname, '..', '..');
  const parsed = loadCampaignFile(path.join(root, 'campaigns/sample-campaigns.json'));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const texts: string[] = [...corpusRequestFiles().map((f) => fs.readFileSync(f, 'utf8')), ...fixtureRequestTexts()];
  // Every row at the same CTR (0.02), without a model: the micro benchmarks' stub.
  const scorer: Scorer = new StubScorer();
  const run = async (bytes: boolean): Promise<string[]> => {
    const outcomes = new OutcomeTable(ALL_ERROR_CODES);
    const layout = buildMetricsLayout(outcomes, 4);
    const engine = new BidEngine(new CampaignIndex(parsed.campaigns), scorer, outcomes, new SlotWriter(layout, layout.allocate(), 0), new SharedArrayBuffer(1024), {
      decision: { fxRates: { EUR: 0.9 }, seatId: 'rtb-bidder' }, seatId: 'rtb-bidder', tmaxMarginMs: 0, maxBodyBytes: 1 << 20, testHooks: false, idPrefix: 't-',
    });
    const sink = new Recorder(bytes);
    for (const text of texts) await engine.processText(text, sink);
    return sink.answers;
  };
  const viaStrings = await run(false);
  const viaBytes = await run(true);
  t.ok(viaStrings.some((a) => a.split(' ')[1] === '200'), 'some requests bid');
  t.same(viaBytes, viaStrings);
});
