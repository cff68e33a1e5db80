/**
 * Bounded work per request: 100 impressions each offering banner, video, native and audio,
 * against a campaign file where every campaign fits every medium, would be thousands of
 * model rows per request. The caps (bidding.maxCandidatesPerImp, maxCandidatesPerRequest)
 * hold each request to its budget before scoring, so 16 such requests at once, batched
 * into one worker, are all answered within their tmax and the thread is free right after.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postBid, sampleValue, scrape, startTestBidder } from '../helpers/test-bidder';

t.setTimeout(120_000);

const kCampaigns = 60;
const kImps = 100;
const kRequests = 16;
const kPerImp = 8;
/** Above the 100 x 8 an imp cap lets through, so the request cap acts too; 16 x 400 rows is over one model run (4096). */
const kPerRequest = 400;
const kTmaxMs = 500;

/** Every campaign has one creative of each medium and no targeting: eligible everywhere. */
function campaignFile(): string {
  const campaigns = Array.from({ length: kCampaigns }, (_, i) => {
    const id = `bw-${i}`;
    const vast = `<VAST version="3.0"><Ad id="${id}"><InLine><AdSystem>bw</AdSystem><AdTitle>${id}</AdTitle><Impression><![CDATA[https://t.example/i]]></Impression><Creatives><Creative><Linear><Duration>00:00:15</Duration><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="480"><![CDATA[https://cdn.example/${id}.mp4]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>`;
    return {
      id,
      name: `bounded work ${i}`,
      advertiserDomain: `bw${i}.example`,
      iabCategories: ['IAB3-1'],
      // Bounds from 1 to 10 USD: the caps keep the highest.
      goal: i % 2 === 0 ? { type: 'CPM', cpmUsd: 1 + (i % 10) } : { type: 'CPC', cpcUsd: 0.5 },
      maxCpmUsd: 1 + (i % 10),
      dealOnly: false,
      dealIds: [],
      creatives: [
        { id: `${id}-b`, banner: { w: 300, h: 250, adm: `<div>${id}</div>` } },
        { id: `${id}-v`, video: { durationSec: 15, mimes: ['video/mp4'], protocols: [2, 3], w: 640, h: 480, vastXml: vast } },
        {
          id: `${id}-n`,
          native: { title: `Title ${i}`, imageUrl: `https://cdn.example/${id}.jpg`, imageW: 1200, imageH: 627, clickUrl: `https://bw${i}.example/` },
        },
        { id: `${id}-a`, audio: { durationSec: 15, mimes: ['audio/mpeg'], vastXml: vast } },
      ],
      targeting: {},
    };
  });
  const dir = mkdtempSync(join(tmpdir(), 'bounded-work-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'campaigns.json');
  writeFileSync(file, JSON.stringify({ campaigns }));
  return file;
}

function heavyRequest(n: number): string {
  const nativeRequest = JSON.stringify({ ver: '1.2', assets: [{ id: 1, required: 1, title: { len: 90 } }] });
  return JSON.stringify({
    id: `heavy-${n}`,
    tmax: kTmaxMs,
    cur: ['USD'],
    imp: Array.from({ length: kImps }, (_, j) => ({
      id: String(j + 1),
      banner: { w: 300, h: 250 },
      video: { mimes: ['video/mp4'], protocols: [2, 3], minduration: 5, maxduration: 30, w: 640, h: 480 },
      native: { ver: '1.2', request: nativeRequest },
      audio: { mimes: ['audio/mpeg'], minduration: 5, maxduration: 30 },
    })),
    site: { id: 's', domain: 'news.example.org', page: 'https://news.example.org/a', publisher: { id: 'p' } },
    device: { ua: 'Mozilla/5.0', ip: '192.0.2.1', devicetype: 2, geo: { country: 'USA' } },
  });
}

t.test('16 requests of 100 imps x 4 media at once: all answered within tmax, each scored within its cap', async (t) => {
  const b = await startTestBidder({
    testHooks: false,
    // One worker and no inline lane: the requests meet in the pool's batches.
    pool: { threads: 1, inlineMaxBatch: 0, maxBatchSize: 64 },
    bidding: { campaignsFile: campaignFile(), maxCandidatesPerImp: kPerImp, maxCandidatesPerRequest: kPerRequest },
  });
  t.teardown(() => b.close());
  const before = await scrape(b.opsPort);
  const rows = (m: string): number => sampleValue(m, 'bidder_model_rows_total') ?? NaN;
  const dropped = (m: string, stage: string): number => sampleValue(m, 'bidder_candidates_dropped_total', { stage }) ?? NaN;

  const bodies = Array.from({ length: kRequests }, (_, i) => heavyRequest(i));
  const results = await Promise.all(
    bodies.map(async (body) => {
      const started = Date.now();
      const r = await postBid(b.port, body);
      return { status: r.status, ms: Date.now() - started, body: r.body };
    }),
  );
  t.comment(`latencies (ms): ${results.map((r) => r.ms).join(' ')}`);
  t.same(results.map((r) => r.status).filter((s) => s !== 200 && s !== 204), [], 'every answer is a 200 or a 204');
  t.ok(results.every((r) => r.ms <= kTmaxMs), `each answered within its tmax of ${kTmaxMs} ms`);
  const bids = results.filter((r) => r.status === 200);
  t.ok(bids.length > 0, `${bids.length} of ${kRequests} bid`);
  for (const r of bids) {
    const seatbid = (JSON.parse(r.body) as { seatbid: { bid: unknown[] }[] }).seatbid;
    t.ok(seatbid[0].bid.length <= kImps, 'at most one bid per impression');
  }

  const after = await scrape(b.opsPort);
  const scored = rows(after) - rows(before);
  t.ok(scored <= kRequests * kPerRequest, `${scored} model rows: at most ${kPerRequest} per request`);
  t.ok(scored >= kPerRequest, 'and the requests were scored, not shed');
  t.ok(scored % kPerRequest === 0, 'each scored request used exactly its cap (the file offers far more)');
  t.ok(dropped(after, 'imp_cap') - dropped(before, 'imp_cap') > 0, 'the imp cap dropped candidates');
  t.ok(dropped(after, 'request_cap') - dropped(before, 'request_cap') > 0, 'the request cap dropped candidates');

  // The worker is free at once: a small request right after is answered quickly.
  const started = Date.now();
  const small = await postBid(b.port, JSON.stringify({ id: 'small', tmax: kTmaxMs, imp: [{ id: '1', banner: { w: 300, h: 250 } }], site: { domain: 'news.example.org' } }));
  t.equal(small.status, 200, 'a small request bids right after');
  t.ok(Date.now() - started < kTmaxMs, `in ${Date.now() - started} ms`);
});
